"""Tabel 1 of seed 002: budget per measure (startpakket, vervolgpakket, totaal), its arithmetic
check, and a tracker of commitments against each line.

Parameters ``nitrogen.budget.<kind>.<line>.<column>`` (kind: incidenteel | structureel; column:
startpakket | vervolgpakket | totaal), in EUR million, exactly as printed. An empty cell has no
parameter and counts as 0 in the sums (NH-20).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from keten.core.errors import RuleError
from keten.core.messages import msg
from keten.core.params import ParameterSet
from keten.core.quantity import tidy

COLUMNS: tuple[str, ...] = ("startpakket", "vervolgpakket", "totaal")
KINDS: tuple[str, ...] = ("incidenteel", "structureel")
TOTAL = "totaal"
PREFIX = "nitrogen.budget."
ZERO = Decimal(0)


@dataclass(frozen=True)
class BudgetRow:
    kind: str
    line: str
    label: str
    cells: dict[str, Decimal | None]  # column → EUR million; None for an empty cell

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "line": self.line,
            "label": self.label,
            **{c: None if v is None else tidy(v) for c, v in self.cells.items()},
        }


@dataclass(frozen=True)
class Check:
    """One sum in the table: ``parts`` should add up to ``printed``."""

    kind: str
    what: str  # "row <line>" or "column <column>"
    formula: str
    computed: Decimal
    printed: Decimal
    ok: bool

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "check": self.what,
            "formula": self.formula,
            "computed": tidy(self.computed),
            "printed": tidy(self.printed),
            "ok": self.ok,
        }


def table(params: ParameterSet, day: dt.date) -> list[BudgetRow]:
    """The rows of Tabel 1 in printed order (order of the parameter file)."""
    rows: dict[tuple[str, str], BudgetRow] = {}
    for name, p in params.parameters.items():
        if not name.startswith(PREFIX):
            continue
        kind, line, column = name[len(PREFIX) :].split(".")
        label = p.spec.description.split(",", 1)[1].split(" — ")[0].strip()
        row = rows.setdefault((kind, line), BudgetRow(kind, line, label, dict.fromkeys(COLUMNS)))
        row.cells[column] = params.at(name, day).value
    if not rows:
        raise RuleError(msg("parameter set '%(set)s' has no budget table", set=params.name))
    return list(rows.values())


def _sum(values: Sequence[Decimal | None]) -> Decimal:
    return sum((v for v in values if v is not None), ZERO)


def _fmt(values: Sequence[Decimal | None]) -> str:
    return " + ".join("—" if v is None else str(tidy(v)) for v in values)


def check_table(rows: Sequence[BudgetRow]) -> list[Check]:
    """Every row: startpakket + vervolgpakket = totaal; every column: Σ lines = the total row."""
    checks: list[Check] = []
    for r in rows:
        parts = [r.cells["startpakket"], r.cells["vervolgpakket"]]
        printed = r.cells[TOTAL]
        if printed is None:
            raise RuleError(
                msg("budget row %(kind)s.%(line)s has no total", kind=r.kind, line=r.line)
            )
        computed = _sum(parts)
        checks.append(
            Check(r.kind, f"row {r.line}", _fmt(parts), computed, printed, computed == printed)
        )
    for kind in KINDS:
        lines = [r for r in rows if r.kind == kind and r.line != TOTAL]
        totals = [r for r in rows if r.kind == kind and r.line == TOTAL]
        if not lines:
            continue
        if len(totals) != 1:
            raise RuleError(msg("budget table: %(kind)s needs exactly one total row", kind=kind))
        for c in COLUMNS:
            parts = [r.cells[c] for r in lines]
            printed = totals[0].cells[c]
            assert printed is not None
            computed = _sum(parts)
            checks.append(
                Check(kind, f"column {c}", _fmt(parts), computed, printed, computed == printed)
            )
    return checks


@dataclass(frozen=True)
class Commitment:
    kind: str
    line: str
    amount_eur_m: Decimal
    description: str


@dataclass(frozen=True)
class LineStatus:
    kind: str
    line: str
    available: Decimal
    committed: Decimal

    @property
    def remaining(self) -> Decimal:
        return self.available - self.committed

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "line": self.line,
            "available_eur_m": tidy(self.available),
            "committed_eur_m": tidy(self.committed),
            "remaining_eur_m": tidy(self.remaining),
            "over": self.remaining < 0,
        }


def track(rows: Sequence[BudgetRow], commitments: Sequence[Commitment]) -> list[LineStatus]:
    """Commitments against the 'totaal' column of each line (NH-21)."""
    lines = {(r.kind, r.line): r for r in rows if r.line != TOTAL}
    committed: dict[tuple[str, str], Decimal] = dict.fromkeys(lines, ZERO)
    for c in commitments:
        key = (c.kind, c.line)
        if key not in lines:
            raise RuleError(msg("unknown budget line %(kind)s.%(line)s", kind=c.kind, line=c.line))
        committed[key] += c.amount_eur_m
    out = []
    for key, r in lines.items():
        available = r.cells[TOTAL]
        assert available is not None
        out.append(LineStatus(r.kind, r.line, available, committed[key]))
    return out
