"""Sector baselines (2019), 2035 targets and the 2030 streefwaarden; the monitoring report.

target emission = baseline 2019 × (1 − target %)       (seed 002 §2)
path(year)      = baseline + (target emission − baseline) × (year − 2019) / (2035 − 2019)  (NH-31)
A sector is *on track* in a monitoring year when its observed emission ≤ path(year).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from keten.core.errors import ParameterError, RuleError
from keten.core.messages import msg
from keten.core.params import ParameterSet
from keten.core.quantity import div, mul, percent, tidy
from keten.core.trace import Trace

BASE_YEAR = 2019
SEED_DAY = dt.date(2025, 9, 16)

#: (sector, substance) pairs with a 2035 target in seed 002 §2.
SECTOR_TARGETS: tuple[tuple[str, str], ...] = (
    ("landbouw", "nh3"),
    ("industrie", "nh3"),
    ("mobiliteit", "nox"),
)


@dataclass
class SectorTarget:
    sector: str
    substance: str
    baseline_kt: Decimal | None
    target_pct: Decimal
    target_kt: Decimal | None
    streefwaarde_2030_pct: Decimal | None
    notes: list[str]

    def to_dict(self) -> dict[str, object]:
        return {
            "sector": self.sector,
            "substance": self.substance,
            "baseline_2019_kt": None if self.baseline_kt is None else tidy(self.baseline_kt),
            "target_2035_pct": tidy(self.target_pct),
            "target_2035_kt": None if self.target_kt is None else tidy(self.target_kt),
            "streefwaarde_2030_pct": self.streefwaarde_2030_pct,
        }


def _maybe(trace: Trace, name: str, year: int, notes: list[str]) -> Decimal | None:
    try:
        return trace.value(name, year)
    except ParameterError as exc:
        notes.append(str(exc))
        return None


def sector_target(params: ParameterSet, sector: str, substance: str, trace: Trace) -> SectorTarget:
    if (sector, substance) not in SECTOR_TARGETS:
        known = ", ".join(f"{s}/{n}" for s, n in SECTOR_TARGETS)
        raise RuleError(
            msg(
                "no target for %(sector)s/%(substance)s (known: %(known)s)",
                sector=sector,
                substance=substance,
                known=known,
            )
        )
    target_year = int(params.at("nitrogen.target_year", _day()).value)
    notes: list[str] = []
    baseline = _maybe(trace, f"nitrogen.sector.{sector}.{substance}_2019", BASE_YEAR, notes)
    target = trace.value(f"nitrogen.target_2035.{sector}.{substance}", target_year)
    streef = _maybe(trace, f"nitrogen.streefwaarde_2030.{sector}.{substance}", 2030, notes)
    target_kt = None
    if baseline is not None:
        target_kt = mul(baseline, 1 - percent(target))
        trace.step(
            msg(
                "%(sector)s %(substance)s target %(year)s",
                sector=sector,
                substance=substance,
                year=target_year,
            ),
            f"{baseline} × (1 − {target} %)",
            tidy(target_kt),
            "seed 002 §2",
        )
    return SectorTarget(sector, substance, baseline, target, target_kt, streef, notes)


def _day() -> dt.date:
    """Parameters that are not per year are read on the date of seed 002 (16 Sept 2025)."""
    return SEED_DAY


def sector_targets(params: ParameterSet) -> tuple[list[SectorTarget], Trace]:
    trace = Trace(params)
    return [sector_target(params, s, n, trace) for s, n in SECTOR_TARGETS], trace


def monitoring_years(params: ParameterSet, until: int) -> list[int]:
    """2027 and every two years after, up to ``until`` (seed 002 §2)."""
    day = _day()
    first = int(params.at("nitrogen.monitoring.first_year", day).value)
    step = int(params.at("nitrogen.monitoring.interval", day).value)
    return list(range(first, until + 1, step))


def path_value(start: Decimal, end: Decimal, start_year: int, end_year: int, year: int) -> Decimal:
    """Linear path from ``start`` in ``start_year`` to ``end`` in ``end_year`` (NH-31); after
    ``end_year`` the path stays at ``end``."""
    if year >= end_year:
        return end
    if year <= start_year:
        return start
    return start + div(mul(end - start, Decimal(year - start_year)), Decimal(end_year - start_year))


@dataclass(frozen=True)
class Observation:
    sector: str
    substance: str
    year: int
    kt: Decimal


@dataclass
class SectorStatus:
    sector: str
    substance: str
    year: int
    monitoring_year: bool
    observed_kt: Decimal
    baseline_kt: Decimal | None
    path_kt: Decimal | None
    reduction_pct: Decimal | None
    status: str
    gap_kt: Decimal | None

    def to_dict(self) -> dict[str, object]:
        def t(v: Decimal | None) -> Decimal | None:
            return None if v is None else tidy(v)

        return {
            "sector": self.sector,
            "substance": self.substance,
            "year": self.year,
            "monitoring_year": self.monitoring_year,
            "observed_kt": t(self.observed_kt),
            "baseline_2019_kt": t(self.baseline_kt),
            "path_kt": t(self.path_kt),
            "reduction_pct": t(self.reduction_pct),
            "status": self.status,
            "gap_kt": t(self.gap_kt),
        }


def monitor(
    params: ParameterSet, observations: Sequence[Observation]
) -> tuple[list[SectorStatus], Trace]:
    """Where each observed sector stands against the linear path to its 2035 target."""
    targets, trace = sector_targets(params)
    by_key = {(t.sector, t.substance): t for t in targets}
    target_year = int(params.at("nitrogen.target_year", _day()).value)
    years = set(monitoring_years(params, 2100))
    out = []
    for o in observations:
        t = by_key.get((o.sector, o.substance))
        if t is None:
            raise RuleError(
                msg(
                    "no target for %(sector)s/%(substance)s",
                    sector=o.sector,
                    substance=o.substance,
                )
            )
        if o.year < BASE_YEAR:
            raise RuleError(
                msg(
                    "year %(year)s is before the base year %(base_year)s",
                    year=o.year,
                    base_year=BASE_YEAR,
                )
            )
        if t.baseline_kt is None or t.target_kt is None:
            out.append(
                SectorStatus(
                    o.sector,
                    o.substance,
                    o.year,
                    o.year in years,
                    o.kt,
                    None,
                    None,
                    None,
                    "unknown baseline",
                    None,
                )
            )
            continue
        path = path_value(t.baseline_kt, t.target_kt, BASE_YEAR, target_year, o.year)
        reduction = mul(div(t.baseline_kt - o.kt, t.baseline_kt), Decimal(100))
        gap = o.kt - path
        status = "on track" if gap <= 0 else "behind"
        trace.step(
            f"{o.sector} {o.substance} {o.year}",
            msg(
                "observed %(observed)s vs path %(path)s (linear %(start)s→%(end)s)",
                observed=o.kt,
                path=tidy(path),
                start=BASE_YEAR,
                end=target_year,
            ),
            msg("on track") if gap <= 0 else msg("behind"),
            "NH-31",
        )
        out.append(
            SectorStatus(
                o.sector,
                o.substance,
                o.year,
                o.year in years,
                o.kt,
                t.baseline_kt,
                path,
                reduction,
                status,
                gap,
            )
        )
    return out, trace
