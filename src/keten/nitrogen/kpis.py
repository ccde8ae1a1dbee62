"""Farm KPIs on top of the farm emission (issue #5, "Farm emissions", 4th bullet).

Rules::

    nh3_kg_per_ha      = nh3_kg / hectares                                   (NH-49)
    ghg_kg_co2e        = Σ animals × GHG factor(animal category of the housing)   (NH-50)
    ghg_kg_co2e_per_ha = ghg_kg_co2e / hectares                              (NH-49)

The research (research/stikstof.md) has no sourced per-animal greenhouse-gas factor, so GHG
factors are a user-supplied parameter (kg CO2e per animal place per year, one per animal
category, each with the user's source text): every result that uses them carries
``ghg_source = "user-supplied"`` and its trace steps say so (status assumption, NH-50).
Custom housings have no animal category: a farm with one gets no GHG figure, with a note
(NH-51). Quotients are computed in the 60-digit context (exact whenever the quotient
terminates); only the table display rounds (NH-49).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from keten.core.errors import RuleError
from keten.core.messages import msg
from keten.core.quantity import LEGAL_CONTEXT, div, mul, tidy
from keten.nitrogen.catalogue import Catalogue
from keten.nitrogen.emissions import FarmEmission, Housing

USER_SUPPLIED = "user-supplied"
GHG_REF = "user-supplied factor (status assumption); NH-50"


@dataclass(frozen=True)
class GhgFactor:
    """A user-supplied GHG factor: kg CO2e per animal place per year for one animal category."""

    animal_category: str
    kg_co2e_per_animal: Decimal
    source: str
    row: int = 0  # row of the factors file, for messages


@dataclass(frozen=True)
class GhgFactors:
    """The user's factor table, by animal category; ``file`` names it in messages."""

    factors: Mapping[str, GhgFactor]
    file: str = "GHG factors"
    status: str = USER_SUPPLIED


@dataclass
class FarmKpis:
    """The KPIs of one farm; ``None`` = not computed (the reason is in ``notes``)."""

    farm_id: str
    hectares: Decimal | None = None
    nh3_kg_per_ha: Decimal | None = None
    ghg_kg_co2e: Decimal | None = None
    ghg_kg_co2e_per_ha: Decimal | None = None
    ghg_by_housing: list[Decimal | None] = field(default_factory=list)
    with_area: bool = False  # hectares were asked for (--farms)
    with_ghg: bool = False  # GHG factors were given
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        """The fields added to a farm's result; only those that were asked for."""
        out: dict[str, object] = {}
        if self.with_area:
            out["hectares"] = _opt(self.hectares)
            out["nh3_kg_per_ha"] = _opt(self.nh3_kg_per_ha)
        if self.with_ghg:
            out["ghg_kg_co2e"] = _opt(self.ghg_kg_co2e)
            out["ghg_source"] = USER_SUPPLIED
            if self.with_area:
                out["ghg_kg_co2e_per_ha"] = _opt(self.ghg_kg_co2e_per_ha)
        if self.with_area or self.with_ghg:
            out["kpi_notes"] = list(self.notes)
        return out


def _opt(value: Decimal | None) -> Decimal | None:
    return None if value is None else tidy(value)


def per_hectare(value: Decimal, hectares: Decimal) -> Decimal:
    """``value / hectares`` in the 60-digit context (NH-49); ``RuleError`` for hectares ≤ 0."""
    if hectares <= 0:
        raise RuleError(msg("hectares must be greater than 0, got %(hectares)s", hectares=hectares))
    return div(value, hectares)


def display(value: Decimal, places: int = 2) -> Decimal:
    """Named display rounding (NH-49): half up to ``places`` decimals, for the table only."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP, context=LEGAL_CONTEXT)


def farm_kpis(
    farms: Iterable[FarmEmission],
    housings: Iterable[Housing],
    catalogue: Catalogue,
    hectares: Mapping[str, Decimal] | None = None,
    ghg: GhgFactors | None = None,
    area_file: str = "farms file",
) -> list[FarmKpis]:
    """KPIs per farm, in the order of ``farms``; steps are added to each farm's trace (if any).

    ``housings`` are the rows ``farms`` was computed from (same order). A farm absent from
    ``hectares`` gets no per-hectare figure and a note (never 0). An animal category without a
    factor in ``ghg`` is a ``RuleError`` naming the category, the farm and the factors file.
    """
    by_farm: dict[str, list[Housing]] = {}
    for h in housings:
        by_farm.setdefault(h.farm_id, []).append(h)
    out = []
    for f in farms:
        k = FarmKpis(f.farm_id, with_area=hectares is not None, with_ghg=ghg is not None)
        if ghg is not None:
            _ghg(k, f, by_farm.get(f.farm_id, []), catalogue, ghg)
        if hectares is not None:
            ha = hectares.get(f.farm_id)
            if ha is None:
                k.notes.append(
                    f"no hectares for farm {f.farm_id} in {area_file}: per-hectare KPIs not "
                    "computed (NH-49)"
                )
            else:
                k.hectares = ha
                k.nh3_kg_per_ha = per_hectare(f.nh3_kg, ha)
                if f.trace is not None:
                    f.trace.step(
                        msg("%(farm)s: NH3 per hectare", farm=f.farm_id),
                        f"nh3_kg / hectares = {tidy(f.nh3_kg)} / {tidy(ha)}",
                        tidy(k.nh3_kg_per_ha),
                        "NH-49",
                    )
                if k.ghg_kg_co2e is not None:
                    k.ghg_kg_co2e_per_ha = per_hectare(k.ghg_kg_co2e, ha)
                    if f.trace is not None:
                        f.trace.step(
                            msg("%(farm)s: GHG per hectare", farm=f.farm_id),
                            f"ghg_kg_co2e / hectares = {tidy(k.ghg_kg_co2e)} / {tidy(ha)}",
                            tidy(k.ghg_kg_co2e_per_ha),
                            "NH-49; " + GHG_REF,
                        )
        out.append(k)
    return out


def _ghg(
    k: FarmKpis, f: FarmEmission, rows: list[Housing], catalogue: Catalogue, ghg: GhgFactors
) -> None:
    """Σ animals × factor over the farm's housings (NH-50); custom housings: no figure (NH-51)."""
    total = Decimal(0)
    terms: list[str] = []
    custom = 0
    for h in rows:
        if h.housing_code is None:
            custom += 1
            k.ghg_by_housing.append(None)
            continue
        category = catalogue.resolve(h.housing_code).system.animal_category
        factor = ghg.factors.get(category)
        if factor is None:
            raise RuleError(
                msg(
                    "no GHG factor for animal category %(category)s (farm %(farm)s, housing "
                    "%(housing)s) in %(file)s",
                    category=category,
                    farm=h.farm_id,
                    housing=h.housing_code,
                    file=ghg.file,
                )
            )
        kg = mul(Decimal(h.animals), factor.kg_co2e_per_animal)
        k.ghg_by_housing.append(kg)
        total = LEGAL_CONTEXT.add(total, kg)
        terms.append(f"{h.animals} × {tidy(factor.kg_co2e_per_animal)}")
        if f.trace is not None:
            f.trace.step(
                msg(
                    "%(farm)s %(housing)s: GHG (category %(category)s)",
                    farm=h.farm_id,
                    housing=h.label,
                    category=category,
                ),
                msg(
                    "animals × factor = %(animals)s × %(factor)s kg CO2e/animal (source: "
                    "%(source)s; %(file)s row %(row)s)",
                    animals=h.animals,
                    factor=tidy(factor.kg_co2e_per_animal),
                    source=factor.source,
                    file=ghg.file,
                    row=factor.row,
                ),
                tidy(kg),
                GHG_REF,
            )
    if custom:
        k.notes.append(
            f"farm {f.farm_id} has {custom} custom housing(s) without an animal category: "
            "GHG not computed (NH-51)"
        )
        return
    k.ghg_kg_co2e = total
    if f.trace is not None:
        f.trace.step(
            msg("%(farm)s: GHG total", farm=f.farm_id),
            "Σ animals × factor = " + (" + ".join(terms) if terms else "0"),
            tidy(total),
            GHG_REF,
        )
