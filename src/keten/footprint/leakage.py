"""Ex-ante carbon-leakage check of a policy ("Guiding Principles", seed 001: "koolstoflekkage
(verplaatsing van emissies naar het buitenland ten gevolge van productieverplaatsing) zoveel
mogelijk voorkomen").

A scenario is a list of changes to final demand or output of sectors in regions; a reduction can
be partly produced abroad instead (a production shift). With ``Δy`` the resulting vector:

* an output change ``δ`` of sector j is treated as ``Δy = δ e_j``: its own output changes by δ and
  its supply chain follows, ``Δx = L Δy`` (``L = I + L A``; forward effects ignored, FP-10);
* a shift of a share ``σ`` of a reduction ``δ < 0`` of sector j in region r adds ``−σ δ w_q`` to
  sector j of each other region q, with weights ``w`` given or else proportional to the output
  of sector j in those regions (FP-11);
* ``ΔE_q = Σ_{p in q} S[k, p] Δx_p`` per region; domestic = the acting regions, foreign = the
  rest, global = all;
* leakage rate = ``Δ foreign / (−Δ domestic)`` (IPCC AR4 WGIII §11.7.2, research §3), defined only
  when domestic emissions fall; flagged when it exceeds the user's threshold (FP-12).

A pure shift of δ from (r, j) to (q, j) changes global emissions by ``δ (M[q, j] − M[r, j])``:
the difference of the two producers' emission multipliers (direct intensities when A = 0).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from keten.core.errors import InputError
from keten.core.messages import msg
from keten.footprint.accounts import intensities, solver_for
from keten.footprint.mrio import MRIO
from keten.footprint.solver import LeontiefSolver


@dataclass(frozen=True)
class Change:
    region: str
    sector: str
    kind: str  # "final_demand" | "output"
    change: float  # absolute, in the MRIO's monetary unit
    shift: float = 0.0  # share of a reduction produced abroad instead, 0..1
    to: Mapping[str, float] | None = None  # receiving regions and weights (sum 1)


@dataclass(frozen=True)
class Scenario:
    name: str
    acting: tuple[str, ...]  # regions taking the policy ("domestic")
    stressor: str
    changes: tuple[Change, ...]
    extension: str = "emissions"
    threshold: float | None = None  # leakage-rate threshold, as a fraction (0.1 = 10 %)


@dataclass(frozen=True)
class LeakageResult:
    scenario: str
    stressor: str
    unit: str
    delta_domestic: float
    delta_foreign: float
    delta_global: float
    leakage_rate: float | None
    threshold: float | None
    flag: bool | None
    by_region: dict[str, float] = field(default_factory=dict)
    note: str = ""

    def to_dict(self) -> dict[str, object]:
        return {
            "scenario": self.scenario,
            "stressor": self.stressor,
            "unit": self.unit,
            "delta_domestic": self.delta_domestic,
            "delta_foreign": self.delta_foreign,
            "delta_global": self.delta_global,
            "leakage_rate": self.leakage_rate,
            "threshold": self.threshold,
            "flag": self.flag,
            "by_region": self.by_region,
            "note": self.note,
        }


def demand_shock(mrio: MRIO, changes: Sequence[Change]) -> np.ndarray:
    """The ``Δy`` vector of the scenario (FP-10, FP-11)."""
    dy = np.zeros(mrio.n)
    s = len(mrio.sectors)
    for i, ch in enumerate(changes):
        where = f"changes[{i}]"
        if ch.kind not in ("final_demand", "output"):
            raise InputError(
                msg("unknown kind %(kind)s (final_demand, output)", kind=repr(ch.kind)),
                field=f"{where}.kind",
            )
        if not np.isfinite(ch.change):
            raise InputError(msg("not a finite number"), field=f"{where}.change")
        if not 0 <= ch.shift <= 1:
            raise InputError(msg("a shift is a share between 0 and 1"), field=f"{where}.shift")
        if ch.shift and ch.change >= 0:
            raise InputError(msg("only a reduction can be shifted abroad"), field=f"{where}.shift")
        r = _index(mrio.region_index, ch.region, f"{where}.region")
        j = _index(mrio.sector_index, ch.sector, f"{where}.sector")
        dy[r * s + j] += ch.change
        if not ch.shift:
            continue
        if ch.to:
            weights: dict[int, float] = {}
            for qname, w in ch.to.items():
                if _index(mrio.region_index, qname, f"{where}.to.{qname}") == r:
                    raise InputError(
                        msg("a shift goes to other regions"), field=f"{where}.to.{qname}"
                    )
                if not (np.isfinite(w) and w >= 0):
                    raise InputError(msg("a weight is a share ≥ 0"), field=f"{where}.to.{qname}")
                weights[mrio.region_index(qname)] = float(w)
            if abs(sum(weights.values()) - 1) > 1e-9:
                raise InputError(msg("the weights must add up to 1"), field=f"{where}.to")
        else:
            others = [q for q in range(len(mrio.regions)) if q != r]
            out = np.array([mrio.x[q * s + j] for q in others])
            if not others or out.sum() <= 0:
                raise InputError(
                    msg("no other region produces %(sector)s; give 'to'", sector=repr(ch.sector)),
                    field=f"{where}.to",
                )
            weights = {q: float(v / out.sum()) for q, v in zip(others, out, strict=True)}
        for q, w in weights.items():
            dy[q * s + j] += -ch.change * ch.shift * w
    return dy


def _index(lookup: Callable[[str], int], name: str, where: str) -> int:
    """``lookup(name)``; an unknown name is reported at ``where`` (e.g. ``changes[1].region``),
    so that the user knows which change of the scenario is meant."""
    try:
        return lookup(name)
    except InputError as exc:
        raise InputError(exc.translatable, field=where) from None


def leakage(mrio: MRIO, scenario: Scenario, solver: LeontiefSolver | None = None) -> LeakageResult:
    """Δ emissions at home, abroad and globally, and the leakage rate (module docstring)."""
    if not scenario.changes:
        raise InputError(msg("the scenario has no changes"), field="changes")
    if not scenario.acting:
        raise InputError(msg("name the acting region(s)"), field="region")
    acting = {mrio.region_index(r) for r in scenario.acting}
    ext = mrio.extension(scenario.extension)
    k = ext.index(scenario.stressor)
    if scenario.threshold is not None and not (
        np.isfinite(scenario.threshold) and scenario.threshold >= 0
    ):
        raise InputError(msg("the threshold is a share ≥ 0"), field="threshold")
    dy = demand_shock(mrio, scenario.changes)
    dx = (solver or solver_for(mrio)).solve(dy)
    dE = intensities(mrio, ext)[k] * dx
    per_region = dE.reshape(len(mrio.regions), -1).sum(axis=1)
    dom = float(sum(per_region[r] for r in acting))
    glob = float(per_region.sum())
    foreign = glob - dom
    rate: float | None = None
    note = ""
    if dom < 0:
        rate = foreign / -dom
    else:
        note = "domestic emissions do not fall: no leakage rate (FP-12)"
    flag = None if scenario.threshold is None or rate is None else rate > scenario.threshold
    return LeakageResult(
        scenario=scenario.name,
        stressor=scenario.stressor,
        unit=ext.units[k],
        delta_domestic=dom,
        delta_foreign=foreign,
        delta_global=glob,
        leakage_rate=rate,
        threshold=scenario.threshold,
        flag=flag,
        by_region={q: float(per_region[i]) for i, q in enumerate(mrio.regions)},
        note=note,
    )
