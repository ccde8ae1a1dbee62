"""Weighting sets (schaduwprijzen / milieuprijzen) and data-category surcharges.

MKI = Σ over modules and impact categories of characterised result × price (research/mki.md §1.1,
NMD FAQ: "vermenigvuldiging van de gekarakteriseerde effectscores met de bijbehorende
schaduwprijs"). Prices live in ``params/mki/set-1`` and ``params/mki/set-2``; surcharges in
``params/mki/common``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from keten.core.errors import RuleError
from keten.core.messages import msg
from keten.core.params import ParameterSet, load_set
from keten.core.quantity import percent
from keten.core.trace import Trace
from keten.mki.model import DATA_CATEGORIES, INDICATORS, SET_FOLDERS, priced_indicators


def set_folder(weighting_set: str) -> str:
    """``"1"`` → ``"set-1"``; refuses anything but the two weighting sets."""
    try:
        return SET_FOLDERS[weighting_set]
    except KeyError:
        raise RuleError(
            msg(
                "unknown weighting set %(set)s (expected one of %(sets)s)",
                set=repr(weighting_set),
                sets=", ".join(SET_FOLDERS),
            )
        ) from None


def load_weighting_set(weighting_set: str) -> ParameterSet:
    return load_set("mki", set_folder(weighting_set))


def check_indicator(code: str, weighting_set: str) -> str:
    """The code itself when it belongs to ``weighting_set``; a ``RuleError`` naming the set else."""
    if code in INDICATORS[weighting_set]:
        return code
    other = "2" if weighting_set == "1" else "1"
    if code in INDICATORS[other]:
        raise RuleError(
            msg(
                "unknown indicator %(code)s for weighting set %(set)s; it is a set %(other)s code",
                code=repr(code),
                set=weighting_set,
                other=other,
            )
        )
    raise RuleError(
        msg(
            "unknown indicator %(code)s for weighting set %(set)s",
            code=repr(code),
            set=weighting_set,
        )
    )


def weight(indicator: str, weighting_set: str, day: dt.date, trace: Trace) -> Decimal:
    """Price of one unit of ``indicator`` on ``day`` (recorded in ``trace``).

    Raises ``RuleError`` for a GWP part (MKI-02) and ``UnknownValueError`` for a price the
    sources do not give (set 2: PM, IRP, ETP-fw, HTP-c, HTP-nc, SQP).
    """
    if indicator not in priced_indicators(weighting_set):
        raise RuleError(
            msg("indicator %(indicator)s is not priced on its own (MKI-02)", indicator=indicator)
        )
    return trace.record(trace.params.at(f"mki.weight.{indicator}", day))


def category_factor(category: str, day: dt.date, trace: Trace) -> Decimal:
    """1 + surcharge of the data category: 1.3 for category 3, 1 for 1, 2 and 3a (MKI-06)."""
    if category not in DATA_CATEGORIES:
        raise RuleError(
            msg(
                "unknown data category %(category)s (expected one of %(categories)s)",
                category=repr(category),
                categories=", ".join(DATA_CATEGORIES),
            )
        )
    pct = trace.record(trace.params.at(f"mki.surcharge.category_{category}", day))
    return Decimal(1) + percent(pct)
