"""Material ceilings (MKI-plafondwaarden): concrete €/m³ per product group, asphalt €/t per mix,
steel €/t (issue #6; research/mki.md §2.4). A delivered batch passes when its MKI per functional
unit is at or below the ceiling (MKI-11)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from keten.core.errors import ParameterError, RuleError
from keten.core.messages import msg
from keten.core.quantity import LEGAL_CONTEXT, div, tidy
from keten.core.trace import Trace

#: Functional unit of each material's ceiling (issue #6).
MATERIAL_UNITS: Final = {"concrete": "m3", "asphalt": "t", "steel": "t"}


@dataclass(frozen=True)
class Ceiling:
    material: str
    product_group: str
    unit: str
    ceiling_eur: Decimal
    source: str


@dataclass(frozen=True)
class Batch:
    batch_id: str
    material: str
    product_group: str
    unit: str
    mki_eur_per_unit: Decimal


def check_material(material: str, unit: str) -> None:
    expected = MATERIAL_UNITS.get(material)
    if expected is None:
        raise RuleError(
            msg(
                "unknown material %(material)s (expected one of %(materials)s)",
                material=repr(material),
                materials=", ".join(MATERIAL_UNITS),
            )
        )
    if unit != expected:
        raise RuleError(
            msg(
                "%(material)s ceilings are per %(expected)s, not per %(unit)s",
                material=material,
                expected=expected,
                unit=repr(unit),
            )
        )


def param_ceilings(trace: Trace, day: dt.date) -> dict[tuple[str, str], Ceiling]:
    """Ceilings from the parameter set (``mki.ceiling.<material>.<group>``) valid on ``day``;
    parameters without a value on that day are left out."""
    out: dict[tuple[str, str], Ceiling] = {}
    for name in trace.params.names("mki.ceiling."):
        _, _, material, group = name.split(".", 3)
        try:
            pv = trace.params.at(name, day)
        except ParameterError:
            continue
        trace.record(pv)
        out[(material, group)] = Ceiling(
            material, group, MATERIAL_UNITS[material], pv.value, f"{pv.source} ({name})"
        )
    return out


def check_batches(
    batches: list[Batch], ceilings: dict[tuple[str, str], Ceiling], trace: Trace
) -> list[dict[str, Any]]:
    """Pass/fail per batch: ``margin = ceiling − MKI``, ``margin % = margin / ceiling × 100``;
    pass when margin ≥ 0 (MKI-11)."""
    rows = []
    for b in batches:
        check_material(b.material, b.unit)
        c = ceilings.get((b.material, b.product_group))
        if c is None:
            raise RuleError(
                msg(
                    "batch %(batch)s: no ceiling for %(material)s product group %(group)s",
                    batch=b.batch_id,
                    material=b.material,
                    group=repr(b.product_group),
                )
            )
        if c.unit != b.unit:
            raise RuleError(
                msg(
                    "batch %(batch)s: unit %(unit)s differs from ceiling unit %(ceiling_unit)s",
                    batch=b.batch_id,
                    unit=b.unit,
                    ceiling_unit=c.unit,
                )
            )
        margin = LEGAL_CONTEXT.subtract(c.ceiling_eur, b.mki_eur_per_unit)
        pct = div(margin * 100, c.ceiling_eur) if c.ceiling_eur != 0 else None
        passed = margin >= 0
        trace.step(
            f"batch {b.batch_id}",
            f"ceiling {tidy(c.ceiling_eur)} − MKI {tidy(b.mki_eur_per_unit)} EUR/{b.unit}",
            f"margin {tidy(margin)} → {'pass' if passed else 'fail'}",
            "MKI-11",
        )
        rows.append(
            {
                "batch_id": b.batch_id,
                "material": b.material,
                "product_group": b.product_group,
                "unit": b.unit,
                "mki_eur_per_unit": tidy(b.mki_eur_per_unit),
                "ceiling_eur_per_unit": tidy(c.ceiling_eur),
                "margin_eur_per_unit": tidy(margin),
                "margin_percent": None
                if pct is None
                else tidy(pct.quantize(Decimal("0.01"), context=LEGAL_CONTEXT)),
                "result": "pass" if passed else "fail",
                "ceiling_source": c.source,
            }
        )
    return rows
