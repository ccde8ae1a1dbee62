"""Doelsturing: farm norms for 2035, the reduction path, monitoring and the enforcement ladder.

The final norm method is not published (seed 002 §2; research §1.4). keten offers three named
rules (NH-11..NH-13):

* ``proportional``: reference emission × (1 − sector target 2035 of agriculture);
* ``benchmark``:   Σ animals × EF of the best available housing of the animal category (the lowest
  factor in the catalogue valid in 2035); custom housings count at their own factor;
* ``stricter``:    the lower of both.

Path: linear from the reference emission in the reference year to the norm in 2035 (NH-14).
Monitoring years: 2027 and every two years after (seed 002 §2). Enforcement (seed 002 §2; ladder
in ``params/nitrogen/enforcement_ladder.csv``): behind in a monitoring year before 2035 →
bedrijfsplan; norm missed in or after 2035 → fine ≥ avoided cost × fine factor (NH-15); missed in
``repeat_threshold`` monitoring years from 2035 → freezing of production rights (NH-16).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from keten.core.errors import ParameterError, RuleError
from keten.core.messages import msg
from keten.core.params import ParameterSet
from keten.core.quantity import mul, percent, tidy
from keten.core.trace import Trace
from keten.nitrogen.catalogue import Catalogue
from keten.nitrogen.emissions import Housing, PlanCache, housing_emission
from keten.nitrogen.sectors import SEED_DAY, monitoring_years, path_value

Method = Literal["proportional", "benchmark", "stricter"]
METHODS: tuple[str, ...] = ("proportional", "benchmark", "stricter")


@dataclass(frozen=True)
class LadderStep:
    step: int
    trigger: str
    measure: str
    source: str


@dataclass
class CaseEvent:
    year: int
    step: int
    trigger: str
    measure: str
    reason: str
    fine_eur: Decimal | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "year": self.year,
            "step": self.step,
            "trigger": self.trigger,
            "measure": self.measure,
            "reason": self.reason,
            "fine_eur": None if self.fine_eur is None else tidy(self.fine_eur),
        }


@dataclass
class MonitorPoint:
    year: int
    path_kg: Decimal
    observed_kg: Decimal | None
    status: str  # on track | behind | no observation
    gap_kg: Decimal | None

    def to_dict(self) -> dict[str, object]:
        return {
            "year": self.year,
            "path_kg": tidy(self.path_kg),
            "observed_kg": None if self.observed_kg is None else tidy(self.observed_kg),
            "status": self.status,
            "gap_kg": None if self.gap_kg is None else tidy(self.gap_kg),
        }


@dataclass
class FarmNorm:
    farm_id: str
    reference_year: int
    reference_kg: Decimal
    proportional_kg: Decimal
    benchmark_kg: Decimal
    method: str
    norm_kg: Decimal
    monitoring: list[MonitorPoint] = field(default_factory=list)
    history: list[CaseEvent] = field(default_factory=list)
    trace: Trace | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, object]:
        return {
            "farm_id": self.farm_id,
            "reference_year": self.reference_year,
            "reference_nh3_kg": tidy(self.reference_kg),
            "proportional_kg": tidy(self.proportional_kg),
            "benchmark_kg": tidy(self.benchmark_kg),
            "method": self.method,
            "norm_kg": tidy(self.norm_kg),
            "monitoring": [m.to_dict() for m in self.monitoring],
            "history": [e.to_dict() for e in self.history],
        }


def farm_norms(
    housings: Sequence[Housing],
    catalogue: Catalogue,
    method: Method,
    reference_year: int | None = None,
    observed: Mapping[tuple[str, int], Decimal] | None = None,
    ladder: Sequence[LadderStep] = (),
    avoided_cost_per_kg: Decimal | None = None,
    explain: bool = False,
) -> list[FarmNorm]:
    """Norm per farm; with ``observed`` ((farm_id, year) → kg NH3) the monitoring and the case
    history. Housings describe the farm in the reference year. With ``explain`` each result
    carries a trace of its steps and parameters; without, the housing plans are shared between
    rows with the same description (NH-48) and the numbers are the same."""
    if method not in METHODS:
        raise RuleError(
            msg(
                "unknown norm method %(method)s (expected %(methods)s)",
                method=repr(method),
                methods=", ".join(METHODS),
            )
        )
    params: ParameterSet = catalogue.params
    target_year = int(params.at("nitrogen.target_year", SEED_DAY).value)
    if reference_year is not None and reference_year >= target_year:
        # the path runs from the reference year to the norm in the target year (NH-14)
        raise RuleError(
            msg(
                "reference year %(year)s is not before the target year %(target)s (NH-14)",
                year=reference_year,
                target=target_year,
            )
        )
    farms: dict[str, list[Housing]] = {}
    for h in housings:
        farms.setdefault(h.farm_id, []).append(h)
    ref_pv = params.at("nitrogen.norm.reference_year", SEED_DAY) if reference_year is None else None
    plans: dict[int, PlanCache] = {}
    # benchmark factor per housing code: (factor, code of the best available system)
    best_by_code: dict[str, tuple[Decimal, str]] = {}
    last_target: Decimal | None = None
    remaining = Decimal(0)
    out = []
    for farm_id, rows in farms.items():
        trace = Trace(params) if explain else None
        ref_year = reference_year
        if ref_year is None:
            assert ref_pv is not None
            ref_year = int(trace.record(ref_pv) if trace is not None else ref_pv.value)
        if trace is not None:
            reference = sum(
                (housing_emission(h, catalogue, ref_year, trace).nh3_kg for h in rows), Decimal(0)
            )
            trace.step(
                msg("%(farm)s: reference emission %(year)s", farm=farm_id, year=ref_year),
                msg("Σ housing emissions"),
                reference,
            )
        else:
            cache = plans.get(ref_year)
            if cache is None:
                cache = plans[ref_year] = PlanCache(catalogue, ref_year)
            reference = sum(map(cache.nh3, rows), Decimal(0))
        target = catalogue.value("nitrogen.target_2035.landbouw.nh3", target_year, trace)
        if target is not last_target:
            last_target, remaining = target, 1 - percent(target)
        proportional = mul(reference, remaining)
        if trace is not None:
            trace.step(
                msg("%(farm)s: proportional norm", farm=farm_id),
                f"{tidy(reference)} × (1 − {target} %)",
                tidy(proportional),
                "NH-11",
            )
        benchmark = Decimal(0)
        parts = []
        for h in rows:
            if h.housing_code is None:
                assert h.ef_nh3 is not None
                factor = h.ef_nh3
                code = "custom"
            elif trace is None and h.housing_code in best_by_code:
                factor, code = best_by_code[h.housing_code]
            else:
                system = catalogue.resolve(h.housing_code).system
                best = catalogue.best_available(system.animal_category, target_year)
                factor = catalogue.value(best.parameter, target_year, trace)
                code = best.code
                best_by_code[h.housing_code] = (factor, code)
            benchmark += mul(Decimal(h.animals), factor)
            if trace is not None:
                parts.append(f"{h.animals} × {factor} ({code})")
        if trace is not None:
            trace.step(
                msg("%(farm)s: benchmark norm", farm=farm_id),
                " + ".join(parts),
                tidy(benchmark),
                "NH-12",
            )
        if method == "proportional":
            norm = proportional
        elif method == "benchmark":
            norm = benchmark
        else:
            norm = min(proportional, benchmark)
            if trace is not None:
                trace.step(
                    msg("%(farm)s: stricter", farm=farm_id),
                    msg("min(proportional, benchmark)"),
                    tidy(norm),
                    "NH-13",
                )
        fn = FarmNorm(
            farm_id, ref_year, reference, proportional, benchmark, method, norm, trace=trace
        )
        if observed is not None:
            _monitor(
                fn,
                observed,
                params,
                target_year,
                ladder,
                avoided_cost_per_kg,
                trace if trace is not None else Trace(params),
            )
        out.append(fn)
    return out


def _monitor(
    fn: FarmNorm,
    observed: Mapping[tuple[str, int], Decimal],
    params: ParameterSet,
    target_year: int,
    ladder: Sequence[LadderStep],
    avoided_cost: Decimal | None,
    trace: Trace,
) -> None:
    steps = {s.trigger: s for s in ladder}
    for needed in ("behind_in_monitoring_year", "norm_missed_target_year", "repeated_or_serious"):
        if needed not in steps:
            raise RuleError(
                msg("enforcement ladder has no step for trigger %(trigger)s", trigger=needed)
            )
    last = max([y for (f, y) in observed if f == fn.farm_id], default=target_year)
    years = [y for y in monitoring_years(params, max(last, target_year)) if y > fn.reference_year]
    misses = 0
    repeat = int(trace.record(params.at("nitrogen.enforcement.repeat_threshold", SEED_DAY)))
    for year in years:
        path = path_value(fn.reference_kg, fn.norm_kg, fn.reference_year, target_year, year)
        obs = observed.get((fn.farm_id, year))
        if obs is None:
            fn.monitoring.append(MonitorPoint(year, path, None, "no observation", None))
            continue
        gap = obs - path
        behind = gap > 0
        fn.monitoring.append(MonitorPoint(year, path, obs, "behind" if behind else "on track", gap))
        trace.step(
            msg("%(farm)s: monitoring %(year)s", farm=fn.farm_id, year=year),
            msg("observed %(observed)s vs path %(path)s", observed=tidy(obs), path=tidy(path)),
            msg("behind") if behind else msg("on track"),
            "NH-14",
        )
        if not behind:
            continue
        if year < target_year:
            s = steps["behind_in_monitoring_year"]
            fn.history.append(
                CaseEvent(
                    year,
                    s.step,
                    s.trigger,
                    s.measure,
                    f"{tidy(gap)} kg above the path value {tidy(path)}",
                )
            )
            continue
        misses += 1
        if misses >= repeat:
            s = steps["repeated_or_serious"]
            fn.history.append(
                CaseEvent(
                    year,
                    s.step,
                    s.trigger,
                    s.measure,
                    f"norm missed in {misses} monitoring years since {target_year} "
                    f"(threshold {repeat})",
                )
            )
            continue
        s = steps["norm_missed_target_year"]
        fine = None
        reason = f"{tidy(gap)} kg above the norm {tidy(fn.norm_kg)}"
        factor = trace.record(params.at("nitrogen.enforcement.fine_factor", SEED_DAY))
        cost = avoided_cost
        if cost is None:
            try:
                cost = trace.record(params.at("nitrogen.enforcement.avoided_cost_per_kg", SEED_DAY))
            except ParameterError as exc:
                # the reason is result data (table, CSV export), English like the rest of it
                reason += f"; fine not sized: {exc.english()}"
        if cost is not None:
            fine = mul(gap, cost, factor)
            trace.step(
                msg("%(farm)s: fine %(year)s", farm=fn.farm_id, year=year),
                f"{tidy(gap)} kg × €{cost} × {factor}",
                tidy(fine),
                "NH-15",
            )
        fn.history.append(CaseEvent(year, s.step, s.trigger, s.measure, reason, fine))
