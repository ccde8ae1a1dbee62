"""Manufacturer-specific CO2 targets, average specific emissions and the excess emissions premium.

Regulation (EU) 2019/631 as amended (Annex I; Arts. 6, 8, 10, 11), Regulation (EU) 2025/1214
(three-year averaging 2025–2027) and, in the ``com-2025-995`` parameter set, proposal COM(2025)
995. Interpretations VH-01 … VH-09 are in docs/interpretations.md ("EU targets").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from keten.core.errors import ParameterError, RuleError
from keten.core.messages import Msg, msg
from keten.core.params import ParameterSet
from keten.core.quantity import LEGAL_CONTEXT, ZERO, div, mul, percent, tidy
from keten.core.trace import Step, Trace
from keten.vehicles.model import CATEGORIES, Credits, Fleet

ONE = Decimal(1)
DISPLAY = Decimal("0.000001")
#: The labels of the credit steps (COM(2025) 995), one whole message per kind of credit.
_CREDIT_LABELS: dict[str, Msg] = {"steel": msg("steel credits"), "fuels": msg("fuels credits")}
#: Steps of a single year left out of a three-year assessment (charged once, on the period).
_PERIOD_ONLY = (msg("excess emissions"), msg("premium"))  # equal messages compare equal


def round_half_up_places(value: Decimal, places: int) -> Decimal:
    """Named rounding step: to ``places`` decimals, halves away from zero (Art. 8: 3 decimals)."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP, context=LEGAL_CONTEXT)


def _check_category(category: str) -> None:
    if category not in CATEGORIES:
        raise RuleError(
            msg(
                "unknown vehicle category %(category)s (expected cars or vans)",
                category=repr(category),
            )
        )


def uses_nedc_2020(params: ParameterSet, category: str, year: int) -> bool:
    """True when ``year`` is assessed with the 2020 NEDC limit curve (Annex I Part A point 1)."""
    name = f"vehicles.{category}.nedc2020.base"
    return name in params and params.parameter(name).covers(year)


def nedc_2020_target(fleet: Fleet, category: str, trace: Trace) -> Decimal:
    """2020 target: 95 + 0.0333 × (M − 1379.88), M the average mass in running order (VH-01)."""
    y = fleet.year
    base = trace.value(f"vehicles.{category}.nedc2020.base", y)
    a = trace.value(f"vehicles.{category}.nedc2020.slope", y)
    m0 = trace.value(f"vehicles.{category}.nedc2020.m0", y)
    mass = div(fleet.sum_mass, Decimal(fleet.registrations))
    target = base + mul(a, mass - m0)
    trace.step(
        msg("average mass in running order M"),
        f"{tidy(fleet.sum_mass)} kg / {fleet.registrations}",
        tidy(mass),
    )
    trace.step(
        msg("2020 NEDC target"),
        f"{base} + {a} × ({tidy(mass)} − {m0})",
        tidy(target),
        "Annex I Part A point 1; VH-01",
    )
    return target


def reference_target(fleet: Fleet, category: str, trace: Trace) -> Decimal:
    """Specific emissions reference target = fleet-wide target + a × (TM − TM0) (Annex I, 2025+).

    ``a`` is the period's slope; for vans a different slope applies above TM0 (VH-02). A slope of
    zero (from 2035) makes the target the fleet-wide target without looking TM0 up (VH-03).
    """
    y = fleet.year
    fleet_target = trace.value(f"vehicles.{category}.fleet_target", y)
    tm = div(fleet.sum_mass, Decimal(fleet.registrations))
    trace.step(
        msg("average test mass TM"),
        f"{tidy(fleet.sum_mass)} kg / {fleet.registrations}",
        tidy(tm),
    )
    a_low = trace.value(f"vehicles.{category}.slope", y)
    a_high = trace.value(f"vehicles.{category}.slope_above_tm0", y)
    if a_low == ZERO and a_high == ZERO:
        trace.step(
            msg("reference target"),
            msg("EU fleet-wide target %(target)s", target=fleet_target),
            fleet_target,
            "VH-03",
        )
        return fleet_target
    tm0 = trace.value(f"vehicles.{category}.tm0", y)
    a = a_low if tm <= tm0 else a_high
    target = fleet_target + mul(a, tm - tm0)
    trace.step(
        msg("reference target"),
        f"{fleet_target} + {a} × ({tidy(tm)} − {tm0})",
        tidy(target),
        "Annex I (2019/631 as amended); VH-02",
    )
    return target


def zlev_share(fleet: Fleet, trace: Trace) -> Decimal:
    """y = Σ ZLEV_specific / all new vehicles, ZLEV_specific = 1 − 0.7 × CO2 / 50 (2023/851).

    Linear in CO2, so Σ over ZLEVs = N_zlev − 0.7 / 50 × Σ CO2 of ZLEVs (exact).
    """
    y = fleet.year
    weight = trace.value("vehicles.zlev.weight", y)
    threshold = trace.value("vehicles.zlev.threshold", y)
    counted = Decimal(fleet.zlev_registrations) - div(
        mul(weight, fleet.zlev_sum_emissions), threshold
    )
    share = div(counted, Decimal(fleet.registrations))
    trace.step(
        msg("ZLEV share y"),
        f"({fleet.zlev_registrations} − {weight} × {tidy(fleet.zlev_sum_emissions)} / {threshold})"
        f" / {fleet.registrations}",
        tidy(share),
        "Reg. 2023/851 Annex 6.3.1",
    )
    return share


def zlev_factor(share: Decimal, category: str, year: int, trace: Trace) -> Decimal:
    """ZLEV factor = (1 + y − x) clamped to [1.0, 1.05] (2025–2029)."""
    x = percent(trace.value(f"vehicles.{category}.zlev_benchmark", year))
    low = trace.value("vehicles.zlev.factor_min", year)
    high = trace.value("vehicles.zlev.factor_max", year)
    raw = ONE + share - x
    factor = min(max(raw, low), high)
    trace.step(
        msg("ZLEV factor"),
        f"clamp(1 + {tidy(share)} − {tidy(x)}, {low}, {high}) = clamp({tidy(raw)})",
        tidy(factor),
        "Reg. 2023/851 Annex 6.3.1",
    )
    return factor


def average_emissions(
    fleet: Fleet, category: str, trace: Trace, credits: Credits | None = None
) -> Decimal:
    """Average specific emissions after capped eco-innovation savings (Art. 11) and, where the set
    has them, the COM(2025) 995 weighting of M1E cars (VH-08) and credits (VH-07)."""
    y, n = fleet.year, Decimal(fleet.registrations)
    params = trace.params
    if fleet.m1e_registrations and "vehicles.m1e_weight" in params:
        w = trace.value("vehicles.m1e_weight", y)
        extra = w - ONE
        num = fleet.sum_emissions + mul(extra, fleet.m1e_sum_emissions)
        den = n + mul(extra, Decimal(fleet.m1e_registrations))
        avg = div(num, den)
        trace.step(
            msg("average specific emissions (M1E weighted)"),
            f"({tidy(fleet.sum_emissions)} + {tidy(extra)} × {tidy(fleet.m1e_sum_emissions)}) / "
            f"({fleet.registrations} + {tidy(extra)} × {fleet.m1e_registrations})",
            tidy(avg),
            "COM(2025) 995; VH-08",
        )
    else:
        if fleet.m1e_registrations:
            trace.step(
                msg("M1E cars"),
                msg("set '%(set)s' has no M1E weighting: each counts once", set=params.name),
                fleet.m1e_registrations,
                "VH-08",
            )
        avg = div(fleet.sum_emissions, n)
        trace.step(
            msg("average specific emissions"),
            f"{tidy(fleet.sum_emissions)} / {fleet.registrations}",
            tidy(avg),
            "Art. 4",
        )
    eco = div(fleet.sum_eco, n)
    if eco > ZERO:
        cap = trace.value("vehicles.eco_innovation_cap", y)
        used = min(eco, cap)
        trace.step(
            msg("eco-innovation savings"),
            msg(
                "min(%(sum)s / %(n)s = %(average)s, cap %(cap)s)",
                sum=tidy(fleet.sum_eco),
                n=fleet.registrations,
                average=tidy(eco),
                cap=cap,
            ),
            tidy(used),
            "Art. 11",
        )
        avg = LEGAL_CONTEXT.subtract(avg, used)  # 60 digits: no intermediate rounding
    if credits is not None and (credits.steel or credits.fuels):
        avg = LEGAL_CONTEXT.subtract(avg, _credits(fleet, category, credits, trace))
    return avg


def _credits(fleet: Fleet, category: str, credits: Credits, trace: Trace) -> Decimal:
    y = fleet.year
    for name in ("vehicles.credits.steel_cap", "vehicles.credits.fuels_cap"):
        if name not in trace.params:
            raise RuleError(
                msg(
                    "%(manufacturer)s: credits given but set '%(set)s' has no credits "
                    "(%(parameter)s)",
                    manufacturer=fleet.name,
                    set=trace.params.name,
                    parameter=name,
                )
            )
    ref = trace.value(f"vehicles.{category}.reference_2021", y)
    total = ZERO
    for kind, claimed in (("steel", credits.steel), ("fuels", credits.fuels)):
        if not claimed:
            continue
        cap = mul(percent(trace.value(f"vehicles.credits.{kind}_cap", y)), ref)
        used = min(claimed, cap)
        trace.step(
            _CREDIT_LABELS[kind],
            msg(
                "min(claimed %(claimed)s, %(pct)s %% × %(reference)s = %(cap)s)",
                claimed=claimed,
                pct=trace.params.get(f"vehicles.credits.{kind}_cap", y).value,
                reference=ref,
                cap=tidy(cap),
            ),
            tidy(used),
            "COM(2025) 995; VH-07",
        )
        total += used
    return total


@dataclass
class Assessment:
    """Compliance of one manufacturer or pool in one year (or averaged period)."""

    manufacturer: str
    year: int
    registrations: int
    average_emissions: Decimal
    target: Decimal
    zlev_share: Decimal | None
    zlev_factor: Decimal | None
    excess: Decimal
    premium_eur: Decimal
    trace: Trace
    members: tuple[str, ...] = field(default_factory=tuple)
    exact_average: Decimal = ZERO  # before the Art. 8 rounding (used by VH-05 averaging)
    exact_target: Decimal = ZERO

    @property
    def unverified(self) -> list[str]:
        return sorted({pv.name for pv in self.trace.flagged()})

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract of issue 8."""
        return {
            "manufacturer": self.manufacturer,
            "registrations": self.registrations,
            "average_emissions": self.average_emissions,
            "target": self.target,
            "zlev_share": None if self.zlev_share is None else _show(self.zlev_share),
            "zlev_factor": None if self.zlev_factor is None else _show(self.zlev_factor),
            "excess": self.excess,
            "premium_eur": self.premium_eur,
            "unverified": self.unverified,
        }


def _show(v: Decimal) -> Decimal:
    """Display of the ZLEV share and factor to 6 decimals (display only, VH-06)."""
    return tidy(v.quantize(DISPLAY, rounding=ROUND_HALF_UP, context=LEGAL_CONTEXT))


def _premium(
    year: int,
    registrations: int,
    avg: Decimal,
    target: Decimal,
    trace: Trace,
) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """Round average and target to 3 decimals (VH-06), excess ≥ 0, premium = excess × €95 × N."""
    places = int(trace.value("vehicles.excess_decimals", year))
    avg_r = round_half_up_places(avg, places)
    target_r = round_half_up_places(target, places)
    excess = max(avg_r - target_r, ZERO)
    rate = trace.value("vehicles.premium_per_gkm", year)
    premium = mul(excess, rate, Decimal(registrations))
    trace.step(
        msg("excess emissions"),
        f"max({avg_r} − {target_r}, 0)",
        excess,
        "Art. 8; VH-06",
    )
    trace.step(msg("premium"), f"{excess} × €{rate} × {registrations}", tidy(premium), "Art. 8(1)")
    return avg_r, target_r, excess, tidy(premium)


def assess(
    fleet: Fleet,
    category: str,
    params: ParameterSet,
    *,
    derogation_target: Decimal | None = None,
    credits: Credits | None = None,
) -> Assessment:
    """Assess one manufacturer or pool (``fleet``) for one year (Arts. 4, 6, 8, 10, 11)."""
    _check_category(category)
    trace = Trace(params)
    if fleet.members:
        trace.step(msg("pool"), " + ".join(fleet.members), fleet.name, "Art. 6; VH-16")
    y = fleet.year
    share: Decimal | None = None
    factor: Decimal | None = None
    if derogation_target is not None:
        if fleet.members:
            raise RuleError(
                msg(
                    "%(pool)s: a pool cannot have a derogation target (Art. 6(1))",
                    pool=fleet.name,
                )
            )
        check_year(params, category, y)
        trace.step(
            msg("derogation target (user input)"),
            msg("granted under Art. 10; replaces the formula target"),
            derogation_target,
            "Art. 10; VH-09",
        )
        target = derogation_target
    elif uses_nedc_2020(params, category, y):
        target = nedc_2020_target(fleet, category, trace)
    else:
        check_year(params, category, y)
        target = reference_target(fleet, category, trace)
        if trace.value("vehicles.zlev.applies", y) == ONE:
            share = zlev_share(fleet, trace)
            factor = zlev_factor(share, category, y, trace)
            target = mul(target, factor)
            trace.step(
                msg("specific emissions target"),
                msg("reference × %(factor)s", factor=tidy(factor)),
                tidy(target),
            )
    avg = average_emissions(fleet, category, trace, credits)
    avg_r, target_r, excess, premium = _premium(y, fleet.registrations, avg, target, trace)
    return Assessment(
        manufacturer=fleet.name,
        year=y,
        registrations=fleet.registrations,
        average_emissions=avg_r,
        target=target_r,
        zlev_share=share,
        zlev_factor=factor,
        excess=excess,
        premium_eur=premium,
        trace=trace,
        members=fleet.members,
        exact_average=avg,
        exact_target=target,
    )


@dataclass(frozen=True)
class YearInput:
    fleet: Fleet
    derogation_target: Decimal | None = None
    credits: Credits | None = None


def assess_averaged(
    years: list[YearInput], category: str, params: ParameterSet, last_year: int
) -> Assessment:
    """Three-year compliance 2025–2027 (Regulation (EU) 2025/1214), arithmetic per VH-05.

    Each year is computed as a single year (unrounded average and target); the period's average
    emissions and target are the registration-weighted means of the annual values; the excess is
    rounded as in Art. 8 and the premium is charged on all registrations of the period.
    """
    if not years:
        raise RuleError(msg("three-year averaging needs at least one year of data"))
    first = int(params.get("vehicles.averaging.first_year", last_year).value)
    last = int(params.get("vehicles.averaging.last_year", last_year).value)
    if last_year != last:
        raise RuleError(
            msg(
                "three-year averaging is assessed for the period %(first)s–%(last)s: "
                "ask for --year %(last)s",
                first=first,
                last=last,
            )
        )
    name = years[0].fleet.name
    trace = Trace(params)
    num_e, num_t, total = ZERO, ZERO, 0
    shares: list[tuple[int, Decimal | None, Decimal | None]] = []
    for yi in sorted(years, key=lambda v: v.fleet.year):
        fy = yi.fleet.year
        if not first <= fy <= last:
            raise RuleError(
                msg(
                    "%(manufacturer)s: year %(year)s is outside the averaging period "
                    "%(first)s–%(last)s",
                    manufacturer=name,
                    year=fy,
                    first=first,
                    last=last,
                )
            )
        one = assess(
            yi.fleet, category, params, derogation_target=yi.derogation_target, credits=yi.credits
        )
        annual_avg, annual_target = one.exact_average, one.exact_target
        trace.steps.extend(
            Step(msg("%(year)s: %(step)s", year=fy, step=s.label), s.formula, s.result, s.ref)
            for s in one.trace.steps
            if s.label not in _PERIOD_ONLY
        )
        trace.used.update(one.trace.used)
        n = yi.fleet.registrations
        num_e += mul(annual_avg, Decimal(n))
        num_t += mul(annual_target, Decimal(n))
        total += n
        shares.append((fy, one.zlev_share, one.zlev_factor))
    avg = div(num_e, Decimal(total))
    target = div(num_t, Decimal(total))
    trace.step(
        msg("average emissions %(first)s–%(last)s", first=first, last=last),
        f"Σ(average_y × N_y) / Σ N_y = {tidy(num_e)} / {total}",
        tidy(avg),
        "Reg. 2025/1214; VH-05",
    )
    trace.step(
        msg("target %(first)s–%(last)s", first=first, last=last),
        f"Σ(target_y × N_y) / Σ N_y = {tidy(num_t)} / {total}",
        tidy(target),
        "Reg. 2025/1214; VH-05",
    )
    avg_r, target_r, excess, premium = _premium(last_year, total, avg, target, trace)
    last_share = shares[-1]
    return Assessment(
        manufacturer=name,
        year=last_year,
        registrations=total,
        average_emissions=avg_r,
        target=target_r,
        zlev_share=last_share[1],
        zlev_factor=last_share[2],
        excess=excess,
        premium_eur=premium,
        trace=trace,
        members=years[-1].fleet.members,
        exact_average=avg,
        exact_target=target,
    )


def check_year(params: ParameterSet, category: str, year: int) -> bool:
    """Raise ``ParameterError`` unless the set has a target formula for ``category`` in ``year``;
    return True when it is the 2020 NEDC formula (so the caller reads ``M`` and ``Enedc``)."""
    _check_category(category)
    if uses_nedc_2020(params, category, year):
        return True
    name = f"vehicles.{category}.fleet_target"
    if name not in params or not params.parameter(name).covers(year):
        # one whole sentence per category (_check_category admits cars and vans only)
        if category == "cars":
            raise ParameterError(
                msg(
                    "no target formula for cars in %(year)s in set '%(set)s' "
                    "(covered: 2020 (NEDC), 2025 onwards; 2021–2024 not implemented)",
                    year=year,
                    set=params.name,
                )
            )
        raise ParameterError(
            msg(
                "no target formula for vans in %(year)s in set '%(set)s' "
                "(covered: 2025 onwards; 2021–2024 not implemented)",
                year=year,
                set=params.name,
            )
        )
    return False
