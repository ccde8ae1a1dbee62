"""Farm NH3 emissions from housing (Rav / Omgevingsregeling method, as AERIUS implements it).

Rule (research/stikstof.md §1.1; AERIUS IMAER ``FarmAnimalHousingEmissionsCalculator``)::

    factor   = EF(housing)                         kg NH3 / animal place / year
    if any additional system is an air scrubber (Rav eindnoot 3, NH-01):
        factor = max(factor, floor_fraction × EF(traditional system of the animal category))
    E_housing = animals × factor × Π (1 − reduction_i)   over every additional system
    E_farm    = Σ E_housing

No rounding anywhere (NH-06): results are exact decimals.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from keten.core.errors import RuleError
from keten.core.messages import Msg, msg
from keten.core.params import ParameterSet
from keten.core.quantity import LEGAL_CONTEXT, exact_sum, mul, tidy
from keten.core.trace import Trace, merged
from keten.nitrogen.catalogue import Catalogue

FLOOR_PARAM = "nitrogen.scrubber_floor_fraction"
CUSTOM = "custom"
ONE = Decimal(1)


@dataclass(frozen=True)
class Additional:
    """An additional (reductive) system: a catalogue code, or custom with its own fraction."""

    code: str | None
    reduction: Decimal | None = None  # custom only
    scrubber: bool = False  # custom only; catalogue systems carry their own flag

    def label(self) -> str:
        if self.code is not None:
            return self.code
        return f"custom:{self.reduction}" + (":scrubber" if self.scrubber else "")


@dataclass(frozen=True)
class Housing:
    """One row of the housings file: a housing system with its animals on a farm."""

    farm_id: str
    animals: int
    housing_code: str | None = None  # catalogue code, or None for a custom housing
    ef_nh3: Decimal | None = None  # custom factor (kg NH3 / animal / year)
    traditional_ef_nh3: Decimal | None = None  # custom traditional factor (NH-05)
    additional: tuple[Additional, ...] = ()

    @property
    def label(self) -> str:
        return self.housing_code if self.housing_code is not None else CUSTOM


@dataclass
class HousingEmission:
    farm_id: str
    housing_code: str
    animals: int
    nh3_kg: Decimal
    factor_used: Decimal
    trace: Trace | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, object]:
        return {
            "housing_code": self.housing_code,
            "animals": self.animals,
            "nh3_kg": tidy(self.nh3_kg),
        }


@dataclass
class FarmEmission:
    farm_id: str
    nh3_kg: Decimal
    housings: list[HousingEmission]
    trace: Trace | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, object]:
        return {
            "farm_id": self.farm_id,
            "nh3_kg": tidy(self.nh3_kg),
            "housings": [h.to_dict() for h in self.housings],
        }


def check_reduction(value: Decimal) -> None:
    """A reduction is a fraction in [0, 1) (NH-07): 1 would make any emission vanish."""
    if not (Decimal(0) <= value < ONE):
        raise RuleError(msg("reduction %(value)s is outside [0, 1)", value=value))


def housing_plan(
    h: Housing, catalogue: Catalogue, year: int, trace: Trace | None = None
) -> tuple[Decimal, tuple[tuple[str, Decimal], ...]]:
    """The factor used (after the air-scrubber floor) and the reductions of one housing row.

    Depends only on the codes, the custom factors and the additional systems of ``h`` (not on
    its animals), so :func:`farm_emissions` computes it once per distinct housing description
    (NH-48). Raises ``RuleError`` naming the farm for every rule violation.
    """
    traditional: Decimal | None
    if h.housing_code is not None:
        if h.ef_nh3 is not None or h.traditional_ef_nh3 is not None:
            raise RuleError(
                msg(
                    "%(farm)s %(housing)s: give housing_code or ef_nh3 (custom), not both (NH-05)",
                    farm=h.farm_id,
                    housing=h.label,
                )
            )
        resolved = catalogue.resolve(h.housing_code)
        if resolved.system.kind == "additional":
            raise RuleError(
                msg(
                    "%(farm)s %(housing)s: %(code)s is an additional system, not a housing",
                    farm=h.farm_id,
                    housing=h.label,
                    code=h.housing_code,
                )
            )
        factor = catalogue.factor(resolved, year, trace)
        trad_sys = catalogue.traditional_for(resolved.system)
        if trace is not None:
            trace.step(
                msg("%(farm)s %(housing)s: emission factor", farm=h.farm_id, housing=h.label),
                f"EF({resolved.system.code}) = {factor}",
                factor,
                "Rav bijlage 1" + (" (H alias, NH-02)" if resolved.alias else ""),
            )
        trad_code: str | None = trad_sys.code
        traditional_param = trad_sys.parameter
        traditional = None
    else:
        if h.ef_nh3 is None:
            raise RuleError(msg("%(farm)s: give housing_code or ef_nh3", farm=h.farm_id))
        if h.ef_nh3 < 0:
            raise RuleError(
                msg(
                    "%(farm)s %(housing)s: ef_nh3 must not be negative",
                    farm=h.farm_id,
                    housing=h.label,
                )
            )
        factor = h.ef_nh3
        traditional = h.traditional_ef_nh3
        trad_code = None  # the custom traditional factor
        traditional_param = ""
        if trace is not None:
            trace.step(
                msg("%(farm)s %(housing)s: emission factor", farm=h.farm_id, housing=h.label),
                msg("custom EF = %(factor)s", factor=factor),
                factor,
                "NH-05",
            )

    scrubber = False
    reductions: list[tuple[str, Decimal]] = []
    for a in h.additional:
        if a.code is not None:
            resolved = catalogue.resolve(a.code)
            if resolved.system.kind != "additional":
                raise RuleError(
                    msg(
                        "%(farm)s %(housing)s: %(code)s is a housing system, not an additional "
                        "system",
                        farm=h.farm_id,
                        housing=h.label,
                        code=a.code,
                    )
                )
            r = catalogue.factor(resolved, year, trace)
            scrubber = scrubber or resolved.system.scrubber
            reductions.append((resolved.system.code, r))
        else:
            assert a.reduction is not None
            check_reduction(a.reduction)
            scrubber = scrubber or a.scrubber
            reductions.append((a.label(), a.reduction))

    if scrubber:
        if traditional is None:
            if not traditional_param:
                raise RuleError(
                    msg(
                        "%(farm)s %(housing)s: an air scrubber on a custom housing needs "
                        "traditional_ef_nh3 (NH-05)",
                        farm=h.farm_id,
                        housing=h.label,
                    )
                )
            traditional = catalogue.value(traditional_param, year, trace)
        floor_fraction = catalogue.value(FLOOR_PARAM, year, trace)
        floor = mul(floor_fraction, traditional)
        used = max(factor, floor)
        if trace is not None:
            label = msg(
                "%(farm)s %(housing)s: air-scrubber floor (%(binds)s)",
                farm=h.farm_id,
                housing=h.label,
                binds=msg("floor binds") if floor > factor else msg("floor does not bind"),
            )
            formula: str | Msg = (
                f"max({factor}, {floor_fraction} × EF({trad_code}) {traditional} = {tidy(floor)})"
                if trad_code is not None
                else msg(
                    "max(%(factor)s, %(fraction)s × EF(custom traditional) %(traditional)s = "
                    "%(floor)s)",
                    factor=factor,
                    fraction=floor_fraction,
                    traditional=traditional,
                    floor=tidy(floor),
                )
            )
            trace.step(
                label,
                formula,
                tidy(used),
                "Rav eindnoot 3; NH-01",
            )
        factor = used
    return factor, tuple(reductions)


def apply_plan(
    h: Housing,
    factor: Decimal,
    reductions: tuple[tuple[str, Decimal], ...],
    trace: Trace | None = None,
) -> Decimal:
    """animals × factor × Π (1 − r), multiplied in this order (exact, 60-digit context)."""
    nh3 = mul(Decimal(h.animals), factor)
    if trace is not None:
        trace.step(
            msg("%(farm)s %(housing)s: animals × factor", farm=h.farm_id, housing=h.label),
            f"{h.animals} × {tidy(factor)}",
            tidy(nh3),
        )
    for label, r in reductions:
        before = nh3
        nh3 = mul(nh3, ONE - r)
        if trace is not None:
            trace.step(
                msg(
                    "%(farm)s %(housing)s: additional system %(system)s",
                    farm=h.farm_id,
                    housing=h.label,
                    system=label,
                ),
                f"{tidy(before)} × (1 − {r})",
                tidy(nh3),
                "Rav art. 2; NH-01",
            )
    return nh3


def housing_emission(
    h: Housing, catalogue: Catalogue, year: int, trace: Trace | None = None
) -> HousingEmission:
    """Emission of one housing row for ``year`` (see the module docstring)."""
    if h.animals < 0:
        raise RuleError(msg("%(farm)s: animals must not be negative", farm=h.farm_id))
    factor, reductions = housing_plan(h, catalogue, year, trace)
    nh3 = apply_plan(h, factor, reductions, trace)
    return HousingEmission(h.farm_id, h.label, h.animals, nh3, factor, trace)


PlanKey = tuple[object, ...]
Plan = tuple[Decimal, tuple[tuple[str, Decimal], ...]]


def plan_key(h: Housing) -> PlanKey:
    """What a housing plan depends on, with decimals as text: ``0.2`` and ``0.20`` are equal
    Decimals but give products with different exponents, so they get separate plans (NH-48)."""
    adds = h.additional
    codes = tuple([a.code for a in adds])
    if h.ef_nh3 is None and h.traditional_ef_nh3 is None and None not in codes:
        return (h.housing_code, codes)  # catalogue codes only: they carry all the numbers
    return (
        h.housing_code,
        codes,
        None if h.ef_nh3 is None else str(h.ef_nh3),
        None if h.traditional_ef_nh3 is None else str(h.traditional_ef_nh3),
        tuple([(None if a.reduction is None else str(a.reduction), a.scrubber) for a in adds]),
    )


class PlanCache:
    """Housing plans of one catalogue and year, computed once per distinct description (NH-48).

    Only used without a trace: a traced computation records every parameter use and step per
    row through :func:`housing_emission`.
    """

    def __init__(self, catalogue: Catalogue, year: int) -> None:
        self.catalogue = catalogue
        self.year = year
        self.plans: dict[PlanKey, Plan] = {}

    def emission(self, h: Housing) -> HousingEmission:
        """Same result as ``housing_emission(h, catalogue, year)`` (same Decimal, same errors)."""
        factor, nh3 = self._compute(h)
        return HousingEmission(h.farm_id, h.label, h.animals, nh3, factor, None)

    def nh3(self, h: Housing) -> Decimal:
        """``housing_emission(h, catalogue, year).nh3_kg``."""
        return self._compute(h)[1]

    def _compute(self, h: Housing) -> tuple[Decimal, Decimal]:
        if h.animals < 0:
            raise RuleError(msg("%(farm)s: animals must not be negative", farm=h.farm_id))
        key = plan_key(h)
        plan = self.plans.get(key)
        if plan is None:
            plan = self.plans[key] = housing_plan(h, self.catalogue, self.year)
        factor, reductions = plan
        # mul(a, b) is LEGAL_CONTEXT.multiply(LEGAL_CONTEXT.multiply(1, a), b), and 1 × a is a
        # itself for every operand of at most 60 digits: the same products as apply_plan.
        multiply = LEGAL_CONTEXT.multiply
        nh3 = multiply(Decimal(h.animals), factor)
        for _, r in reductions:
            nh3 = multiply(nh3, ONE - r)
        return factor, nh3


def farm_emissions(
    housings: Iterable[Housing],
    catalogue: Catalogue,
    year: int,
    explain: bool = False,
) -> list[FarmEmission]:
    """Emission per farm, in the order farms first appear; housings in input order. Without
    ``explain`` the housing plans are shared between rows with the same description (NH-48)."""
    params: ParameterSet = catalogue.params
    by_farm: dict[str, list[HousingEmission]] = {}
    if explain:
        for h in housings:
            row_trace = Trace(params)
            by_farm.setdefault(h.farm_id, []).append(
                housing_emission(h, catalogue, year, row_trace)
            )
    else:
        cache = PlanCache(catalogue, year)
        for h in housings:
            by_farm.setdefault(h.farm_id, []).append(cache.emission(h))
    out = []
    for farm_id, rows in by_farm.items():
        total = exact_sum(r.nh3_kg for r in rows)
        trace = None
        if explain:
            trace = merged(params, [r.trace for r in rows if r.trace is not None])
            trace.step(
                msg("%(farm)s: farm total", farm=farm_id),
                " + ".join(str(tidy(r.nh3_kg)) for r in rows),
                tidy(total),
            )
        out.append(FarmEmission(farm_id, total, rows, trace))
    return out
