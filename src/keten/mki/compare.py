"""Variant comparison: two designs side by side, the difference and its causes (issue #6)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from keten.core.errors import RuleError
from keten.core.messages import msg
from keten.core.quantity import LEGAL_CONTEXT, ZERO, tidy
from keten.mki.project import ProjectResult


@dataclass(frozen=True)
class Line:
    """One key of one breakdown in both variants; ``difference = b − a``."""

    breakdown: str  # total | module | element | material_group | indicator
    key: str
    a_eur: Decimal
    b_eur: Decimal

    @property
    def difference(self) -> Decimal:
        return LEGAL_CONTEXT.subtract(self.b_eur, self.a_eur)  # not the 28-digit default

    def to_dict(self) -> dict[str, Any]:
        return {
            "breakdown": self.breakdown,
            "key": self.key,
            "a_eur": tidy(self.a_eur),
            "b_eur": tidy(self.b_eur),
            "difference_eur": tidy(self.difference),
        }


def _lines(name: str, a: dict[str, Decimal], b: dict[str, Decimal]) -> list[Line]:
    keys = list(a) + [k for k in b if k not in a]
    return [Line(name, k, a.get(k, ZERO), b.get(k, ZERO)) for k in keys]


def compare(a: ProjectResult, b: ProjectResult, top: int = 5) -> dict[str, Any]:
    """Side-by-side breakdowns and the largest causes of the difference (by element and by
    indicator, largest absolute difference first; ties by key). Both variants must be computed
    with the same weighting set, date, period and module-D switch (MKI-10)."""
    for attr in ("weighting_set", "date", "period_years", "include_d"):
        if getattr(a, attr) != getattr(b, attr):
            raise RuleError(
                msg("variants differ in %(attr)s: compare like with like (MKI-10)", attr=attr)
            )
    lines = [Line("total", "mki_eur", a.mki_eur, b.mki_eur)]
    lines += _lines("module", a.by_module, b.by_module)
    lines += _lines("indicator", a.by_indicator, b.by_indicator)
    lines += _lines("material_group", a.by_material_group, b.by_material_group)
    lines += _lines("element", a.by_element, b.by_element)

    def causes(kind: str) -> list[dict[str, Any]]:
        chosen = [ln for ln in lines if ln.breakdown == kind and ln.difference != 0]
        chosen.sort(key=lambda ln: (-abs(ln.difference), ln.key))
        return [ln.to_dict() for ln in chosen[:top]]

    return {
        "a_mki_eur": tidy(a.mki_eur),
        "b_mki_eur": tidy(b.mki_eur),
        "difference_eur": tidy(LEGAL_CONTEXT.subtract(b.mki_eur, a.mki_eur)),
        "causes_by_element": causes("element"),
        "causes_by_indicator": causes("indicator"),
        "causes_by_module": causes("module"),
        "lines": [ln.to_dict() for ln in lines],
    }
