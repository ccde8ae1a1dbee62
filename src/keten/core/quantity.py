"""Decimal arithmetic for legal quantities, and the named rounding steps.

Convention (DESIGN.md, rule 3): legal quantities are ``decimal.Decimal``; rounding happens only
where a rule says so, through one of the named functions below, never on intermediate values.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Context, Decimal

from keten.core.messages import msg

# Enough precision that no intermediate product of legal quantities is ever rounded:
# 60 significant digits covers e.g. 10^15 MJ × 94 × 0.0000001 with room to spare.
LEGAL_CONTEXT = Context(prec=60, rounding=ROUND_HALF_UP)

ZERO = Decimal(0)


def to_decimal(text: str | int | Decimal) -> Decimal:
    """Parse a number exactly: ``"1234.5"`` or the Dutch ``"1234,5"``, digits 0–9 only.

    Refuses exponents, separators, NaN and infinities with a one-line ``ValueError``.
    """
    if isinstance(text, Decimal):
        if not text.is_finite():
            raise ValueError(msg("not a finite number: %(text)s", text=repr(text)))
        return text
    if isinstance(text, int):
        return Decimal(text)
    raw = text.strip()
    if not re.fullmatch(r"[+-]?[0-9]+([.,][0-9]+)?", raw, flags=re.ASCII):
        raise ValueError(msg("not a number: %(text)s", text=repr(text)))
    return Decimal(raw.replace(",", "."))


def tidy(value: Decimal) -> Decimal:
    """The same number without trailing fractional zeros, never in exponent form (81000000.0 →
    81000000; 1.50 → 1.5). For display only: it does not change the value."""
    # room for every digit: the thread's 28-digit context raised on larger integers
    digits = max(len(value.as_tuple().digits), value.adjusted() + 1) if value.is_finite() else 0
    room = Context(prec=max(LEGAL_CONTEXT.prec, digits + 1))
    if value == value.to_integral_value():
        return value.quantize(Decimal(1), context=room)
    return value.normalize(room)


def mul(*factors: Decimal) -> Decimal:
    """Exact product (60-digit context)."""
    result = Decimal(1)
    for f in factors:
        result = LEGAL_CONTEXT.multiply(result, f)
    return result


def exact_sum(values: Iterable[Decimal]) -> Decimal:
    """Exact sum (60-digit context; the ``sum`` builtin would use the thread's context, 28 digits
    by default)."""
    result = ZERO
    for v in values:
        result = LEGAL_CONTEXT.add(result, v)
    return result


def div(a: Decimal, b: Decimal) -> Decimal:
    """Quotient in the 60-digit context (exact for the divisions by powers of ten used here)."""
    return LEGAL_CONTEXT.divide(a, b)


def round_half_up(value: Decimal) -> int:
    """Named rounding step: to a whole number, halves away from zero (0.5 → 1)."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP, context=LEGAL_CONTEXT))


def round_down(value: Decimal) -> int:
    """Named rounding step: to the whole number at or below the value (floor)."""
    return int(value.quantize(Decimal(1), rounding=ROUND_FLOOR, context=LEGAL_CONTEXT))


def percent(value: Decimal) -> Decimal:
    """A percentage as a fraction: 14.4 (%) → 0.144."""
    return div(value, Decimal(100))


#: A number as accepted in input files: optional sign, digits, optionally a decimal point (or
#: comma) and at most six decimals. No exponents, no thousands separators (EV-11).
NUMBER_PATTERN = r"^[+-]?[0-9]+([.,][0-9]{1,6})?$"
MAX_DECIMALS = 6


def parse_number(text: str) -> Decimal:
    """Parse a number from an input file exactly (``NUMBER_PATTERN``); ``ValueError`` otherwise."""
    raw = text.strip()
    if not re.match(NUMBER_PATTERN, raw, flags=re.ASCII):
        raise ValueError(
            msg(
                "not a number with at most %(decimals)s decimals: %(text)s",
                decimals=MAX_DECIMALS,
                text=repr(text),
            )
        )
    return Decimal(raw.replace(",", "."))
