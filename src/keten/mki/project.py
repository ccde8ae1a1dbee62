"""The MKI of a work: elements × profiles × weights, per module, element, group and indicator.

Formulas (research/mki.md §1.1, §1.5; interpretations MKI-01..MKI-09):

* per product, module m and priced indicator i: ``w(m,i) = value(m,i) × price(i) × (1 + surcharge)``
  where the surcharge is 30 % for data category 3 and 0 for 1, 2 and 3a (MKI-06);
* climate change is priced once, through GWP-total (MKI-02; derived from its parts, MKI-03);
* replacements ``r = max(1, ceil(period / service life))`` (MKI-04), or 1 without a period (MKI-05);
  modules A1-A3, A4, A5, C1–C4 and D count ``r`` times, B1–B7 once;
* A4 from distance × mode where the profile has no A4 (MKI-07);
* module D only with the switch (default excluded, MKI-08);
* element MKI = quantity × Σ_m multiplicity(m) × Σ_i w(m,i). No rounding (MKI-09).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from typing import Any

from keten.core.errors import RuleError
from keten.core.messages import msg
from keten.core.quantity import LEGAL_CONTEXT, ZERO, div, exact_sum, tidy
from keten.core.trace import Trace
from keten.mki.model import (
    GWP_PARTS,
    GWP_TOTAL,
    MODULES,
    REPLACED_MODULES,
    TRANSPORT_PREFIX,
    TRANSPORT_UNIT,
    Element,
    Profile,
    priced_indicators,
)
from keten.mki.vectorised import vectorised_mki
from keten.mki.weights import category_factor, check_indicator, weight

UNGROUPED = "(none)"


def replacements(period: Decimal | None, service_life: Decimal) -> int:
    """``max(1, ceil(period / service life))`` (MKI-04); 1 when no period is given (MKI-05)."""
    if service_life <= 0:
        raise RuleError(msg("service life must be positive, got %(life)s", life=service_life))
    if period is None:
        return 1
    if period <= 0:
        raise RuleError(msg("reference period must be positive, got %(period)s", period=period))
    n = div(period, service_life).to_integral_value(rounding=ROUND_CEILING, context=LEGAL_CONTEXT)
    return max(1, int(n))


def climate_values(profile: Profile, weighting_set: str) -> dict[tuple[str, str], Decimal]:
    """The values that are priced: GWP parts dropped where GWP-total is given (MKI-02), or summed
    into GWP-total where all three parts are given and the total is not (MKI-03)."""
    if weighting_set != "2":
        return dict(profile.values)
    out: dict[tuple[str, str], Decimal] = {}
    parts: dict[str, dict[str, Decimal]] = {}
    for (module, indicator), v in profile.values.items():
        if indicator in GWP_PARTS:
            parts.setdefault(module, {})[indicator] = v
        else:
            out[(module, indicator)] = v
    for module, given in parts.items():
        if (module, GWP_TOTAL) in out:
            continue
        missing = [p for p in GWP_PARTS if p not in given]
        if missing:
            raise RuleError(
                msg(
                    "profile %(product)s module %(module)s: no %(total)s and only part of its "
                    "parts (missing %(missing)s) — climate change cannot be priced (MKI-03)",
                    product=profile.product_id,
                    module=module,
                    total=GWP_TOTAL,
                    missing=", ".join(missing),
                )
            )
        out[(module, GWP_TOTAL)] = sum((given[p] for p in GWP_PARTS), ZERO)
    return out


@dataclass(frozen=True)
class _Priced:
    """Weighted profile of one product: € per functional unit per module and per indicator."""

    by_module: dict[str, Decimal]
    replaced_by_indicator: dict[str, Decimal]
    once_by_indicator: dict[str, Decimal]
    d_by_indicator: dict[str, Decimal]
    has_a4: bool


@dataclass
class ProjectResult:
    """MKI of a work in euros, with its breakdowns (issue #6 JSON contract plus extras)."""

    weighting_set: str
    date: dt.date
    period_years: Decimal | None
    include_d: bool
    mki_eur: Decimal
    by_module: dict[str, Decimal]
    by_element: dict[str, Decimal]
    by_indicator: dict[str, Decimal]
    by_material_group: dict[str, Decimal]
    replacements: dict[str, int]
    d_excluded_eur: Decimal
    notes: list[str]
    trace: Trace = field(repr=False)

    @property
    def flagged(self) -> list[str]:
        """Names of parameters used whose status is not 'source' (e.g. unverified prices)."""
        return sorted({p.name for p in self.trace.flagged()})

    def to_dict(self) -> dict[str, Any]:
        return {
            "mki_eur": tidy(self.mki_eur),
            "by_module": {k: tidy(v) for k, v in self.by_module.items()},
            "by_element": {k: tidy(v) for k, v in self.by_element.items()},
            "by_indicator": {k: tidy(v) for k, v in self.by_indicator.items()},
            "by_material_group": {k: tidy(v) for k, v in self.by_material_group.items()},
            "weighting_set": self.weighting_set,
            "date": self.date.isoformat(),
            "period_years": None if self.period_years is None else tidy(self.period_years),
            "include_d": self.include_d,
            "d_excluded_eur": tidy(self.d_excluded_eur),
            "replacements": self.replacements,
            "flagged_parameters": self.flagged,
            "notes": self.notes,
        }


def _price_profile(
    profile: Profile,
    weighting_set: str,
    day: dt.date,
    trace: Trace,
    explain: bool,
    cache: dict[str, Decimal],
) -> _Priced:
    factor = cache.get("category:" + profile.data_category)
    if factor is None:
        factor = cache["category:" + profile.data_category] = category_factor(
            profile.data_category, day, trace
        )
    values = climate_values(profile, weighting_set)
    priced = priced_indicators(weighting_set)
    by_module: dict[str, Decimal] = {}
    repl: dict[str, Decimal] = {}
    once: dict[str, Decimal] = {}
    d_ind: dict[str, Decimal] = {}
    mul, add = LEGAL_CONTEXT.multiply, LEGAL_CONTEXT.add
    for (module, indicator), v in values.items():
        price = cache.get(indicator)
        if price is None:
            check_indicator(indicator, weighting_set)
            if indicator not in priced:  # pragma: no cover - climate_values removed the parts
                continue
            price = cache[indicator] = weight(indicator, weighting_set, day, trace)
        eur = mul(mul(v, price), factor)
        by_module[module] = add(by_module.get(module, ZERO), eur)
        if module == "D":
            target = d_ind
        elif module in REPLACED_MODULES:
            target = repl
        else:
            target = once
        target[indicator] = add(target.get(indicator, ZERO), eur)
    if explain:
        for module in MODULES:
            if module in by_module:
                trace.step(
                    f"profile {profile.product_id} {module}",
                    f"Σ value × price × {tidy(factor)} (data category {profile.data_category})",
                    f"{tidy(by_module[module])} EUR/{profile.unit}",
                    "MKI-01, MKI-06",
                )
    return _Priced(by_module, repl, once, d_ind, "A4" in profile.modules())


def _add(target: dict[str, Decimal], key: str, amount: Decimal) -> None:
    target[key] = LEGAL_CONTEXT.add(target.get(key, ZERO), amount)


def project_mki(
    elements: Iterable[Element],
    profiles: Mapping[str, Profile],
    trace: Trace,
    *,
    weighting_set: str,
    day: dt.date,
    period: Decimal | None = None,
    include_d: bool = False,
    explain: bool = False,
) -> ProjectResult:
    """MKI of a work. ``trace.params`` must be the parameter set of ``weighting_set``.

    Without ``explain`` the work is computed over arrays (:mod:`keten.mki.vectorised`, MKI-17)
    whenever it can be; the loop below is the reference, with every step for ``--explain``."""
    if not explain:
        elements = list(elements)
        fast = vectorised_mki(
            elements,
            profiles,
            trace,
            weighting_set=weighting_set,
            day=day,
            period=period,
            include_d=include_d,
        )
        if fast is not None:
            return _result(
                trace,
                weighting_set,
                day,
                period,
                include_d,
                fast["by_module"],
                fast["by_element"],
                fast["by_indicator"],
                fast["by_material_group"],
                fast["replacements"],
                fast["d_excluded_eur"],
                fast["without_a4"],
                fast["ignored_transport"],
            )
    return _reference(
        elements,
        profiles,
        trace,
        weighting_set=weighting_set,
        day=day,
        period=period,
        include_d=include_d,
        explain=explain,
    )


def _reference(
    elements: Iterable[Element],
    profiles: Mapping[str, Profile],
    trace: Trace,
    *,
    weighting_set: str,
    day: dt.date,
    period: Decimal | None,
    include_d: bool,
    explain: bool,
) -> ProjectResult:
    """The per-element loop: the reference of every number (MKI-01..09)."""
    mul = LEGAL_CONTEXT.multiply
    priced: dict[str, _Priced] = {}
    cache: dict[str, Decimal] = {}  # prices and category factors, looked up once (recorded)
    by_module: dict[str, Decimal] = {}
    by_element: dict[str, Decimal] = {}
    by_indicator: dict[str, Decimal] = {}
    by_group: dict[str, Decimal] = {}
    reps: dict[str, int] = {}
    d_excluded = ZERO
    without_a4: list[str] = []
    ignored_transport: list[str] = []
    for e in elements:
        if e.element_id in by_element:
            raise RuleError(msg("element %(element)s appears twice", element=e.element_id))
        if e.quantity < 0:
            raise RuleError(
                msg("element %(element)s: quantity must not be negative", element=e.element_id)
            )
        profile = profiles.get(e.product_id)
        if profile is None or e.product_id.startswith(TRANSPORT_PREFIX):
            raise RuleError(
                msg(
                    "element %(element)s: no profile for product %(product)s",
                    element=e.element_id,
                    product=repr(e.product_id),
                )
            )
        if e.unit is not None and e.unit != profile.unit:
            raise RuleError(
                msg(
                    "element %(element)s: unit %(unit)s does not match the functional unit "
                    "%(profile_unit)s of profile %(product)s",
                    element=e.element_id,
                    unit=repr(e.unit),
                    profile_unit=repr(profile.unit),
                    product=e.product_id,
                )
            )
        p = priced.get(e.product_id)
        if p is None:
            p = priced[e.product_id] = _price_profile(
                profile, weighting_set, day, trace, explain, cache
            )
        r = replacements(period, e.service_life_years)
        reps[e.element_id] = r
        q = e.quantity
        qr = mul(q, Decimal(r))
        total = ZERO
        for module, eur in p.by_module.items():
            amount = mul(qr if module in REPLACED_MODULES else q, eur)
            if module == "D" and not include_d:
                d_excluded = LEGAL_CONTEXT.add(d_excluded, amount)
                continue
            _add(by_module, module, amount)
            total = LEGAL_CONTEXT.add(total, amount)
        for ind, eur in p.replaced_by_indicator.items():
            _add(by_indicator, ind, mul(qr, eur))
        for ind, eur in p.once_by_indicator.items():
            _add(by_indicator, ind, mul(q, eur))
        if include_d:
            for ind, eur in p.d_by_indicator.items():
                _add(by_indicator, ind, mul(qr, eur))
        if not p.has_a4:
            if e.transport is None:
                without_a4.append(e.element_id)
            else:
                total = LEGAL_CONTEXT.add(
                    total,
                    _transport(
                        e,
                        qr,
                        profiles,
                        priced,
                        by_module,
                        by_indicator,
                        trace,
                        weighting_set,
                        day,
                        explain,
                        cache,
                    ),
                )
        elif e.transport is not None:
            ignored_transport.append(e.element_id)
        by_element[e.element_id] = total
        _add(by_group, e.material_group or UNGROUPED, total)
        if explain:
            trace.step(
                f"element {e.element_id}",
                f"{tidy(q)} {profile.unit} × (r={r} for A1-A5, C, D; 1 for B) × profile "
                f"{e.product_id}" + ("" if include_d else ", D excluded"),
                f"{tidy(total)} EUR",
                "MKI-04, MKI-08",
            )
    ordered_modules: dict[str, Decimal] = {m: by_module[m] for m in MODULES if m in by_module}
    ordered_ind = {
        i: by_indicator[i] for i in priced_indicators(weighting_set) if i in by_indicator
    }
    return _result(
        trace,
        weighting_set,
        day,
        period,
        include_d,
        ordered_modules,
        by_element,
        ordered_ind,
        by_group,
        reps,
        d_excluded,
        without_a4,
        ignored_transport,
    )


def _result(
    trace: Trace,
    weighting_set: str,
    day: dt.date,
    period: Decimal | None,
    include_d: bool,
    by_module: dict[str, Decimal],
    by_element: dict[str, Decimal],
    by_indicator: dict[str, Decimal],
    by_group: dict[str, Decimal],
    reps: dict[str, int],
    d_excluded: Decimal,
    without_a4: list[str],
    ignored_transport: list[str],
) -> ProjectResult:
    """The result with its notes and the closing step, the same for both paths."""
    notes: list[str] = []
    if period is None:
        notes.append("no reference period given: every element is counted once (MKI-05)")
    if without_a4:
        notes.append(
            f"{len(without_a4)} element(s) have no A4 in their profile and no transport given: "
            f"A4 not counted for {', '.join(without_a4[:5])}{' …' if len(without_a4) > 5 else ''}"
            " (MKI-07)"
        )
    if ignored_transport:
        notes.append(
            f"transport given but the profile has A4, profile A4 used for "
            f"{', '.join(ignored_transport[:5])}{' …' if len(ignored_transport) > 5 else ''}"
            " (MKI-07)"
        )
    if not include_d:
        notes.append(f"module D excluded (default, MKI-08): {tidy(d_excluded)} EUR not counted")
    mki = exact_sum(by_element.values())  # the 60-digit context, not the 28-digit default
    trace.step("MKI of the work", "Σ elements", f"{tidy(mki)} EUR", "MKI-01")
    flagged = sorted({pv.name for pv in trace.flagged()})
    if flagged:
        notes.append("uses values not read in an authoritative source: " + ", ".join(flagged))
    return ProjectResult(
        weighting_set=weighting_set,
        date=day,
        period_years=period,
        include_d=include_d,
        mki_eur=mki,
        by_module=by_module,
        by_element=by_element,
        by_indicator=by_indicator,
        by_material_group=by_group,
        replacements=reps,
        d_excluded_eur=d_excluded,
        notes=notes,
        trace=trace,
    )


def _transport(
    e: Element,
    qr: Decimal,
    profiles: Mapping[str, Profile],
    priced: dict[str, _Priced],
    by_module: dict[str, Decimal],
    by_indicator: dict[str, Decimal],
    trace: Trace,
    weighting_set: str,
    day: dt.date,
    explain: bool,
    cache: dict[str, Decimal],
) -> Decimal:
    """A4 of an element from tonnes × km × the transport profile per tkm, r times (MKI-07)."""
    assert e.transport is not None
    t = e.transport
    pid = TRANSPORT_PREFIX + t.mode
    profile = profiles.get(pid)
    if profile is None:
        raise RuleError(
            msg(
                "element %(element)s: no transport profile %(profile)s for mode %(mode)s",
                element=e.element_id,
                profile=repr(pid),
                mode=repr(t.mode),
            )
        )
    if profile.unit != TRANSPORT_UNIT or profile.modules() != {"A4"}:
        raise RuleError(
            msg(
                "transport profile %(profile)s must have unit %(unit)s and only module A4 (MKI-07)",
                profile=pid,
                unit=TRANSPORT_UNIT,
            )
        )
    p = priced.get(pid)
    if p is None:
        p = priced[pid] = _price_profile(profile, weighting_set, day, trace, explain, cache)
    mul = LEGAL_CONTEXT.multiply
    tkm = mul(mul(qr, t.tonnes_per_unit), t.distance_km)
    amount = mul(tkm, p.by_module["A4"])
    _add(by_module, "A4", amount)
    for ind, eur in p.replaced_by_indicator.items():
        _add(by_indicator, ind, mul(tkm, eur))
    if explain:
        trace.step(
            f"element {e.element_id} A4",
            f"{tidy(qr)} units × {tidy(t.tonnes_per_unit)} t × {tidy(t.distance_km)} km = "
            f"{tidy(tkm)} tkm × {tidy(p.by_module['A4'])} EUR/tkm ({t.mode})",
            f"{tidy(amount)} EUR",
            "MKI-07",
        )
    return amount
