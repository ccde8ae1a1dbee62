"""National footprint view (beleidsagenda emissiereductie productketens, seed 001): a region's
consumption footprint split into emissions at home and chain emissions abroad ("ketenemissies in
het buitenland"), by product group and by source region, across MRIO years, with user-set
non-binding targets ("niet-bindende streefgetallen") and the distance to them.

For region r and stressor k (accounts.py):

* ``total = D_cba_reg[k, r]`` — footprint incl. the region's final-demand emissions ``F_Y``;
* ``abroad = D_imp_reg[k, r] = Σ_{q ≠ r} source[k, q, r]``;
* ``domestic = total − abroad = source[k, r, r] + F_Y_reg[k, r]`` (FP-07: direct household
  emissions count as domestic);
* ``by product group g``: ``Σ_{s in g} D_cba[k, (r, s)]`` (abroad: ``D_imp``), groups from a
  user mapping sector → group, else one group per sector;
* ``by source region q``: ``source[k, q, r]`` (+ ``F_Y`` for q = r);
* ``balance = total − production`` (CBS's emission balance: positive = net importer).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from keten.core.errors import InputError
from keten.core.messages import msg
from keten.footprint.accounts import Accounts


@dataclass(frozen=True)
class NationalFootprint:
    region: str
    stressor: str
    unit: str
    year: int | None
    total: float
    domestic: float
    abroad: float
    production: float
    by_group: dict[str, dict[str, float]]  # group → {total, domestic, abroad}
    by_source: dict[str, float]

    @property
    def abroad_share(self) -> float | None:
        return None if self.total == 0 else self.abroad / self.total

    @property
    def balance(self) -> float:
        return self.total - self.production

    def to_dict(self) -> dict[str, object]:
        return {
            "region": self.region,
            "stressor": self.stressor,
            "unit": self.unit,
            "year": self.year,
            "total": self.total,
            "domestic": self.domestic,
            "abroad": self.abroad,
            "abroad_share": self.abroad_share,
            "production": self.production,
            "balance": self.balance,
            "by_group": self.by_group,
            "by_source_region": self.by_source,
        }


def national_view(
    acc: Accounts,
    region: str,
    stressor: str,
    *,
    year: int | None = None,
    groups: Mapping[str, str] | None = None,
) -> NationalFootprint:
    """The footprint of ``region`` for ``stressor`` (see the module docstring)."""
    if region not in acc.regions:
        raise InputError(
            msg(
                "unknown region %(region)s (known: %(regions)s)",
                region=repr(region),
                regions=", ".join(acc.regions),
            ),
            field="region",
        )
    if stressor not in acc.stressors:
        raise InputError(
            msg(
                "unknown stressor %(stressor)s (known: %(stressors)s)",
                stressor=repr(stressor),
                stressors=", ".join(acc.stressors),
            ),
            field="stressor",
        )
    r, k = acc.regions.index(region), acc.stressors.index(stressor)
    R, s = len(acc.regions), len(acc.sectors)
    if groups is not None:
        missing = [sec for sec in acc.sectors if sec not in groups]
        if missing:
            raise InputError(
                msg("sector %(missing)s has no product group", missing=repr(missing[0])),
                field="groups",
            )
    cba = acc.D_cba.reshape(-1, R, s)[k, r]
    imp = acc.D_imp.reshape(-1, R, s)[k, r]
    by_group: dict[str, dict[str, float]] = {}
    for i, sec in enumerate(acc.sectors):
        g = groups[sec] if groups is not None else sec
        cell = by_group.setdefault(g, {"total": 0.0, "domestic": 0.0, "abroad": 0.0})
        cell["total"] += float(cba[i])
        cell["abroad"] += float(imp[i])
        cell["domestic"] += float(cba[i] - imp[i])
    fy = float(acc.F_Y_reg[k, r])
    if fy:
        by_group["final demand (direct)"] = {"total": fy, "domestic": fy, "abroad": 0.0}
    by_source = {
        q: float(acc.source[k, i, r]) + (fy if i == r else 0.0) for i, q in enumerate(acc.regions)
    }
    total = float(acc.D_cba_reg[k, r])
    abroad = float(acc.D_imp_reg[k, r])
    return NationalFootprint(
        region=region,
        stressor=stressor,
        unit=acc.units[k],
        year=year,
        total=total,
        domestic=total - abroad,
        abroad=abroad,
        production=float(acc.D_pba_reg[k, r]),
        by_group=by_group,
        by_source=by_source,
    )


@dataclass(frozen=True)
class Target:
    """A user-set, non-binding footprint target ("streefgetal"): ``value`` in ``year`` for the
    ``scope`` total, domestic or abroad."""

    year: int
    value: float
    scope: str = "total"

    def __post_init__(self) -> None:
        if self.scope not in ("total", "domestic", "abroad"):
            raise InputError(
                msg("unknown scope %(scope)s (total, domestic, abroad)", scope=repr(self.scope)),
                field="scope",
            )
        if self.value < 0:
            raise InputError(msg("a footprint target cannot be negative"), field="value")


@dataclass(frozen=True)
class TargetDistance:
    target: Target
    latest_year: int
    latest_value: float
    distance: float  # latest − target (positive: still above the target)
    distance_pct: float | None  # distance / latest × 100
    annual_change_needed: float | None  # −distance / (target year − latest year), linear path
    met: bool

    def to_dict(self) -> dict[str, object]:
        return {
            "target_year": self.target.year,
            "scope": self.target.scope,
            "target": self.target.value,
            "latest_year": self.latest_year,
            "latest": self.latest_value,
            "distance": self.distance,
            "distance_pct": self.distance_pct,
            "annual_change_needed": self.annual_change_needed,
            "met": self.met,
        }


def distance_to_targets(
    series: Sequence[NationalFootprint], targets: Sequence[Target]
) -> list[TargetDistance]:
    """For each target: the latest footprint year at or before the target year and the gap (FP-08:
    a linear path from the latest year to the target year gives the annual change needed)."""
    years = [f.year for f in series]
    if not series or any(y is None for y in years):
        raise InputError(msg("a time series needs a year for every MRIO"), field="year")
    if len(set(years)) != len(years):
        raise InputError(msg("the time series has a year twice"), field="year")
    out = []
    for t in targets:
        usable = [f for f in series if f.year is not None and f.year <= t.year]
        if not usable:
            raise InputError(
                msg("no footprint year at or before the target year %(year)s", year=t.year),
                field="year",
            )
        latest = max(usable, key=lambda f: f.year or 0)
        value = {"total": latest.total, "domestic": latest.domestic, "abroad": latest.abroad}[
            t.scope
        ]
        dist = value - t.value
        assert latest.year is not None
        span = t.year - latest.year
        out.append(
            TargetDistance(
                target=t,
                latest_year=latest.year,
                latest_value=value,
                distance=dist,
                distance_pct=None if value == 0 else dist / value * 100,
                annual_change_needed=None if span == 0 else -dist / span,
                met=dist <= 0,
            )
        )
    return out
