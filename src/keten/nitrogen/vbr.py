"""Vbr — vrijwillige beëindigingsregeling veehouderijlocaties: ranking and budget cut-off.

Rule (seed 002 §1a; research/stikstof.md §2):

* round 1: locations within ``nitrogen.vbr.priority_distance`` (1,000 m, inclusive, NH-41) of an
  overbelast stikstofgevoelig Natura 2000 area, in order of submission
  (ties: application id, NH-40);
* round 2: all other locations by euro subsidy per kg NH3, ascending (exact ratio, NH-43; ties:
  submission time, then application id);
* grant in that order while the budget lasts. Default ``stop``: the first application that no
  longer fits ends the allocation (NH-42); ``skip`` passes over it and continues.

The zone test uses a shapely ``STRtree`` (``dwithin`` predicate; ``query_nearest`` for the
distance shown), never a loop over polygons. Geometry is float64 in RD New (EPSG:28992) metres;
distances are compared unrounded and shown to the centimetre (NH-41).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any, Literal

import numpy as np
import shapely
from numpy.typing import NDArray

from keten.core.errors import RuleError
from keten.core.messages import msg
from keten.core.params import ParameterSet
from keten.core.trace import Trace

Mode = Literal["stop", "skip"]
MODES: tuple[str, ...] = ("stop", "skip")


@dataclass(frozen=True)
class Application:
    application_id: str
    submitted_at: dt.datetime  # timezone-aware
    x: float
    y: float
    nh3_kg: Decimal
    subsidy_eur: Decimal

    @property
    def ratio(self) -> Fraction:
        """Exact euro subsidy per kg NH3 (NH-43)."""
        return Fraction(self.subsidy_eur) / Fraction(self.nh3_kg)


@dataclass
class Ranked:
    application_id: str
    round: int
    rank: int
    distance_m: Decimal
    eur_per_kg: Decimal
    granted: bool
    cumulative_eur: Decimal
    subsidy_eur: Decimal
    submitted_at: dt.datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "application_id": self.application_id,
            "round": self.round,
            "rank": self.rank,
            "distance_m": self.distance_m,
            "eur_per_kg": self.eur_per_kg,
            "granted": self.granted,
            "cumulative_eur": self.cumulative_eur,
        }


@dataclass
class Allocation:
    ranked: list[Ranked]
    budget_eur: Decimal
    granted_eur: Decimal
    mode: Mode
    trace: Trace = field(repr=False)


class AreaIndex:
    """Overloaded Natura 2000 areas (RD New) behind a shapely STRtree."""

    def __init__(self, geometries: Sequence[Any]) -> None:
        if not geometries:
            raise RuleError(msg("no areas given"))
        self.geometries = np.asarray(geometries, dtype=object)
        self.tree = shapely.STRtree(self.geometries)

    def distances(self, xs: NDArray[np.float64], ys: NDArray[np.float64]) -> NDArray[np.float64]:
        """Distance (m) of each point to the nearest area; 0 inside an area."""
        points = shapely.points(xs, ys)
        idx, dist = self.tree.query_nearest(points, return_distance=True, all_matches=False)
        out = np.full(len(points), np.inf)
        out[idx[0]] = dist
        return out

    def within(
        self, xs: NDArray[np.float64], ys: NDArray[np.float64], distance: float
    ) -> NDArray[np.bool_]:
        """True for each point within ``distance`` (inclusive) of some area (STRtree dwithin)."""
        points = shapely.points(xs, ys)
        hits = self.tree.query(points, predicate="dwithin", distance=distance)
        out = np.zeros(len(points), dtype=bool)
        out[hits[0]] = True
        return out


CENT = Decimal("0.01")


def _shown(value: float) -> Decimal:
    return Decimal(repr(float(value))).quantize(CENT, rounding=ROUND_HALF_UP)


def _eur_per_kg(a: Application, places: int) -> Decimal:
    exact = Decimal(a.subsidy_eur) / Decimal(a.nh3_kg)  # display only (NH-43)
    return exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def rank_applications(
    applications: Sequence[Application],
    areas: AreaIndex,
    params: ParameterSet,
    day: dt.date,
    budget_eur: Decimal | None = None,
    extra_budget: bool = False,
    mode: Mode = "stop",
) -> Allocation:
    """Rank and allocate (module docstring). ``budget_eur`` overrides the parameter budget."""
    if mode not in MODES:
        raise RuleError(
            msg("unknown allocation mode %(mode)s (expected stop or skip)", mode=repr(mode))
        )
    ids = [a.application_id for a in applications]
    if len(set(ids)) != len(ids):
        dup = sorted({i for i in ids if ids.count(i) > 1})[0]
        raise RuleError(msg("application id %(id)s appears more than once", id=repr(dup)))
    trace = Trace(params)
    limit = trace.record(params.at("nitrogen.vbr.priority_distance", day))
    places = int(trace.record(params.at("nitrogen.vbr.eur_per_kg_decimals", day)))
    if budget_eur is None:
        budget = trace.record(params.at("nitrogen.vbr.budget", day))
        if extra_budget:
            budget += trace.record(params.at("nitrogen.vbr.extra_budget", day))
        trace.step(msg("budget"), msg("Vbr budget (Tabel 1)"), budget)
    else:
        if budget_eur < 0:
            raise RuleError(msg("budget must not be negative"))
        budget = budget_eur
        trace.step(msg("budget"), msg("given with --budget"), budget)
    xs = np.array([a.x for a in applications], dtype=np.float64)
    ys = np.array([a.y for a in applications], dtype=np.float64)
    dist = areas.distances(xs, ys) if applications else np.zeros(0)
    in_zone = areas.within(xs, ys, float(limit)) if applications else np.zeros(0, dtype=bool)
    trace.step(
        msg("round 1"),
        msg("distance to nearest area ≤ %(limit)s m (inclusive)", limit=limit),
        int(in_zone.sum()),
    )
    order1 = sorted(
        (i for i in range(len(applications)) if in_zone[i]),
        key=lambda i: (applications[i].submitted_at, applications[i].application_id),
    )
    order2 = sorted(
        (i for i in range(len(applications)) if not in_zone[i]),
        key=lambda i: (
            applications[i].ratio,
            applications[i].submitted_at,
            applications[i].application_id,
        ),
    )
    trace.step(msg("round 2"), msg("others by € subsidy / kg NH3 ascending"), len(order2), "NH-43")
    ranked: list[Ranked] = []
    cumulative = Decimal(0)
    stopped = False
    for rnd, order in ((1, order1), (2, order2)):
        for i in order:
            a = applications[i]
            fits = not stopped and cumulative + a.subsidy_eur <= budget
            if fits:
                cumulative += a.subsidy_eur
            elif mode == "stop" and not stopped:
                stopped = True
                trace.step(
                    msg("cut-off"),
                    f"{a.application_id}: {cumulative} + {a.subsidy_eur} > {budget}; stop",
                    cumulative,
                    "NH-42",
                )
            ranked.append(
                Ranked(
                    application_id=a.application_id,
                    round=rnd,
                    rank=len(ranked) + 1,
                    distance_m=_shown(dist[i]),
                    eur_per_kg=_eur_per_kg(a, places),
                    granted=fits,
                    cumulative_eur=cumulative,
                    subsidy_eur=a.subsidy_eur,
                    submitted_at=a.submitted_at,
                )
            )
    trace.step(msg("granted"), msg("Σ subsidy of granted applications"), cumulative)
    return Allocation(ranked, budget, cumulative, mode, trace)
