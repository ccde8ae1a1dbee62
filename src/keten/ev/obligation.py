"""The obligation (verplichting) of a supplier in a sector and year, in EREs.

Rule (Bijlage 1 table of the sector; formula EV-01):

    row EREs = base energy [MJ] × fossil comparator [g/MJ] × percentage [%] / 100 / g per ERE

for the total, the sector-specific part, the vrije ruimte, each sub-obligation and each limit.
Rounded half-up to whole EREs, once, at the end (EV-03). A row the sector's table does not have
is not applicable: 0 EREs (EV-04). A sector the parameter set has no table for is refused.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from keten.core.errors import RuleError, UnknownValueError
from keten.core.messages import Msg, msg
from keten.core.params import ParameterSet
from keten.core.quantity import ZERO, div, mul, percent, round_half_up, tidy
from keten.core.trace import Trace
from keten.ev.energy import energy_mj
from keten.ev.model import OBLIGATION_ROWS, SECTORS, Delivery


@dataclass
class Obligation:
    supplier: str
    sector: str
    year: int
    base_mj: Decimal
    rows: dict[str, int | None]  # OBLIGATION_ROWS → whole EREs; None where the set says unknown
    trace: Trace = field(repr=False, compare=False)
    unknown: dict[str, str] = field(default_factory=dict)  # row → why (the set's note)
    #: row → why, as a translatable message (``unknown`` holds its text as first rendered)
    reasons: dict[str, str | Msg] = field(default_factory=dict, repr=False, compare=False)

    def row(self, name: str) -> int:
        """The EREs of ``name``; refuses a row the parameter set marks unknown (EV-10)."""
        value = self.rows[name]
        if value is None:
            why = self.reasons.get(name, self.unknown[name])
            raise RuleError(_unknown_row(self.supplier, self.sector, self.year, why))
        return value

    def to_dict(self) -> dict[str, object]:
        return {
            "supplier": self.supplier,
            "sector": self.sector,
            "year": self.year,
            "base_mj": tidy(self.base_mj),
            **{row: self.rows[row] for row in OBLIGATION_ROWS},
        }


def _unknown_row(supplier: str, sector: str, year: int, why: str | Msg) -> Msg:
    return msg(
        "%(supplier)s %(sector)s %(year)s: %(reason)s",
        supplier=supplier,
        sector=sector,
        year=year,
        reason=why,
    )


def check_sector(params: ParameterSet, sector: str, year: int) -> None:
    """Refuse a sector that is unknown, or that the parameter set has no table for in ``year``."""
    if sector not in SECTORS:
        raise RuleError(
            msg(
                "unknown sector %(sector)s (known: %(sectors)s)",
                sector=repr(sector),
                sectors=", ".join(SECTORS),
            )
        )
    name = f"ev.{sector}.total"
    if name not in params:
        raise RuleError(
            msg(
                "sector %(sector)s has no obligation in parameter set '%(set)s'",
                sector=repr(sector),
                set=params.name,
            )
        )
    table = params.parameter(name)
    if not table.covers(year):
        raise RuleError(
            msg(
                "parameter %(name)s has no value for %(year)s in set '%(set)s' "
                "(covered: %(covered)s)",
                name=name,
                year=year,
                set=params.name,
                covered=table.coverage(),
            )
        )


def check_year(params: ParameterSet, year: int) -> None:
    """Refuse a year for which the set has no obligation table in any sector (a wrong year, not
    a wrong row of a file)."""
    if sectors_in(params, year):
        return
    tables = [params.parameter(f"ev.{s}.total") for s in SECTORS if f"ev.{s}.total" in params]
    raise RuleError(
        msg(
            "parameter set '%(set)s' has no obligation tables for %(year)s (covered: %(covered)s)",
            set=params.name,
            year=year,
            covered="; ".join(sorted({t.coverage() for t in tables})),
        )
    )


def sectors_in(params: ParameterSet, year: int) -> list[str]:
    """The sectors the parameter set has a table for in ``year``."""
    return [
        s
        for s in SECTORS
        if f"ev.{s}.total" in params and params.parameter(f"ev.{s}.total").covers(year)
    ]


def obligation_for_base(
    supplier: str, sector: str, year: int, base_mj: Decimal, trace: Trace
) -> Obligation:
    """Obligation rows of one supplier in one sector from its base energy (MJ)."""
    params = trace.params
    check_sector(params, sector, year)
    comparator = trace.value("ev.fossil_comparator", year)
    grams = trace.value("ev.grams_per_unit", year)
    rows: dict[str, int | None] = {}
    unknown: dict[str, str] = {}
    reasons: dict[str, str | Msg] = {}
    for row in OBLIGATION_ROWS:
        name = f"ev.{sector}.{row}"
        if name not in params:
            rows[row] = 0
            trace.step(
                f"{sector} {row}", msg("row not in the sector's table: not applicable"), 0, "EV-04"
            )
            continue
        try:
            pct = trace.value(name, year)
        except UnknownValueError as exc:
            rows[row] = None
            unknown[row] = str(exc)
            reasons[row] = exc.translatable
            trace.step(
                f"{sector} {row}", msg("value unknown in this parameter set"), "unknown", "EV-10"
            )
            continue
        exact = div(mul(base_mj, comparator, percent(pct)), grams)
        rows[row] = round_half_up(exact)
        trace.step(
            f"{sector} {row}",
            msg(
                "%(formula)s → round half up",
                formula=f"{tidy(base_mj)} MJ × {comparator} g/MJ × {pct}% / {grams} g/ERE = "
                f"{tidy(exact)}",
            ),
            rows[row],
            "EV-01, EV-03",
        )
    if rows["total"] is None:
        raise RuleError(_unknown_row(supplier, sector, year, reasons["total"]))
    return Obligation(supplier, sector, year, base_mj, rows, trace, unknown, reasons)


def obligations(
    deliveries: Iterable[Delivery], year: int, params: ParameterSet
) -> list[Obligation]:
    """Obligations per supplier and sector from deliveries (all energy delivered = base, EV-05).

    Sorted by supplier, then sector in the order of ``SECTORS``.
    """
    bases: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    traces: dict[tuple[str, str], Trace] = {}
    for d in deliveries:
        check_sector(params, d.sector, year)
        key = (d.supplier, d.sector)
        trace = traces.setdefault(key, Trace(params))
        mj = energy_mj(d.fuel, d.quantity, d.unit, year, trace, label=f"{d.fuel} {d.sector}")
        bases[key] += mj
    result = []
    for (supplier, sector), base in sorted(
        bases.items(), key=lambda kv: (kv[0][0], SECTORS.index(kv[0][1]))
    ):
        trace = traces[(supplier, sector)]
        trace.step(
            msg("%(sector)s base energy", sector=sector),
            msg("sum of the energy of all deliveries"),
            f"{tidy(base)} MJ",
        )
        result.append(obligation_for_base(supplier, sector, year, base, trace))
    return result
