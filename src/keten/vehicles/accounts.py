"""National and Union accounts: the 2040 Climate-Law target and the Dutch ESR compliance table.

* European Climate Law, Regulation (EU) 2021/1119 as amended by (EU) 2026/667: −90 % net GHG
  against 1990 by 2040; international credits count up to 5 % of 1990 net emissions from 2036.
* Effort Sharing Regulation (EU) 2018/842 as amended by (EU) 2023/857: annual emission
  allocations (AEAs), banking, borrowing, transfers, ETS and LULUCF flexibilities (Arts. 5–7, 9).

Interpretations VH-10 … VH-14 (docs/interpretations.md, "EU targets").
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise
from typing import Any

from keten.core.errors import RuleError
from keten.core.messages import msg
from keten.core.params import ParameterSet
from keten.core.quantity import ZERO, div, mul, percent, tidy
from keten.core.trace import Trace

HUNDRED = Decimal(100)
PCT_DISPLAY = Decimal("0.01")


def _pct(value: Decimal) -> Decimal:
    """A reduction percentage for display, half up to 2 decimals (display only, VH-11)."""
    return tidy(value.quantize(PCT_DISPLAY, rounding=ROUND_HALF_UP))


# ----------------------------------------------------------------------------- Climate Law 2040


@dataclass(frozen=True)
class NetPoint:
    """Union net emissions (after removals) in one year, and international credits claimed."""

    year: int
    net_emissions: Decimal
    credits: Decimal = ZERO


@dataclass(frozen=True)
class PathYear:
    year: int
    net_emissions: Decimal
    credits_claimed: Decimal
    credits_counted: Decimal
    accounted: Decimal
    reduction_pct: Decimal
    path_limit: Decimal | None
    on_track: bool | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "net_emissions": self.net_emissions,
            "credits_claimed": self.credits_claimed,
            "credits_counted": self.credits_counted,
            "accounted": self.accounted,
            "reduction_pct": self.reduction_pct,
            "path_limit": self.path_limit,
            "on_track": self.on_track,
        }


@dataclass(frozen=True)
class Eu2040Result:
    base_1990: Decimal
    target_2040: Decimal
    credit_cap_2040: Decimal
    domestic_limit_2040: Decimal
    domestic_reduction_pct: Decimal
    remaining_domestic_reduction: Decimal
    latest_year: int
    years: list[PathYear]
    trace: Trace

    def summary(self) -> dict[str, Any]:
        return {
            "base_1990": self.base_1990,
            "target_2040": self.target_2040,
            "credit_cap_2040": self.credit_cap_2040,
            "domestic_limit_2040": self.domestic_limit_2040,
            "domestic_reduction_pct": self.domestic_reduction_pct,
            "latest_year": self.latest_year,
            "remaining_domestic_reduction": self.remaining_domestic_reduction,
            "unverified": sorted({p.name for p in self.trace.flagged()}),
        }


def _milestones(trace: Trace) -> list[tuple[int, Decimal]]:
    p = trace.params.parameter("climate.net_reduction_target")
    out = []
    for e in sorted(p.spec.values, key=lambda v: v.start):
        assert e.year is not None
        out.append((e.year, trace.value("climate.net_reduction_target", e.year)))
    return out


def path_reduction(year: int, milestones: list[tuple[int, Decimal]]) -> Decimal | None:
    """Indicative reduction (%) in ``year``: linear between milestone targets (VH-11); None before
    the first milestone, the last milestone's value after it."""
    if year < milestones[0][0]:
        return None
    for (y0, r0), (y1, r1) in pairwise(milestones):
        if y0 <= year <= y1:
            return r0 + div(mul(r1 - r0, Decimal(year - y0)), Decimal(y1 - y0))
    return milestones[-1][1]


def eu2040(series: list[NetPoint], params: ParameterSet) -> Eu2040Result:
    """2040 account: target, credit cap, domestic reduction, and a trajectory check per year."""
    trace = Trace(params)
    by_year = {p.year: p for p in series}
    if 1990 not in by_year:
        raise RuleError(
            msg("the series needs the 1990 net emissions (the base of the 2040 target)")
        )
    base = by_year[1990].net_emissions
    if base <= ZERO:
        raise RuleError(msg("1990 net emissions must be positive"))
    r2040 = trace.value("climate.net_reduction_target", 2040)
    cap_pct = trace.value("climate.credit_cap_pct", 2040)
    target = div(mul(base, HUNDRED - r2040), HUNDRED)
    cap = mul(base, percent(cap_pct))
    domestic_limit = target + cap
    domestic_pct = r2040 - cap_pct
    trace.step(
        msg("2040 net target"), f"{tidy(base)} × (100 − {r2040}) %", tidy(target), "Art. 4(3)"
    )
    trace.step(msg("credit cap 2040"), f"{tidy(base)} × {cap_pct} %", tidy(cap), "Art. 4(5); VH-10")
    trace.step(
        msg("domestic limit 2040"),
        msg(
            "%(target)s + %(cap)s (domestic reduction %(pct)s %%)",
            target=tidy(target),
            cap=tidy(cap),
            pct=domestic_pct,
        ),
        tidy(domestic_limit),
        "Art. 4(5)",
    )
    milestones = _milestones(trace)
    years = []
    for p in sorted(series, key=lambda v: v.year):
        if p.credits < ZERO:
            raise RuleError(msg("%(year)s: credits must not be negative", year=p.year))
        if p.credits > ZERO and p.year == 1990:
            raise RuleError(msg("1990: credits cannot be claimed in the base year"))
        counted = ZERO
        if p.credits > ZERO:
            year_cap = mul(base, percent(trace.value("climate.credit_cap_pct", p.year)))
            counted = min(p.credits, year_cap)
            trace.step(
                msg("%(year)s credits counted", year=p.year),
                f"min({tidy(p.credits)}, {tidy(year_cap)})",
                tidy(counted),
                "VH-10",
            )
        accounted = p.net_emissions - counted
        reduction = div(mul(base - accounted, HUNDRED), base)
        r = path_reduction(p.year, milestones)
        limit = None if r is None else tidy(div(mul(base, HUNDRED - r), HUNDRED))
        on_track = None if limit is None else accounted <= limit
        if limit is not None:
            trace.step(
                msg("%(year)s path", year=p.year),
                f"{tidy(accounted)} ≤ {tidy(base)} × (100 − {tidy(r or ZERO)}) % = {limit}",
                on_track,
                "VH-11",
            )
        years.append(
            PathYear(
                p.year,
                p.net_emissions,
                p.credits,
                tidy(counted),
                tidy(accounted),
                _pct(reduction),
                limit,
                on_track,
            )
        )
    latest = max(by_year)
    remaining = max(by_year[latest].net_emissions - domestic_limit, ZERO)
    trace.step(
        msg("remaining domestic reduction"),
        f"max({tidy(by_year[latest].net_emissions)} ({latest}) − {tidy(domestic_limit)}, 0)",
        tidy(remaining),
        "VH-11",
    )
    return Eu2040Result(
        tidy(base),
        tidy(target),
        tidy(cap),
        tidy(domestic_limit),
        tidy(domestic_pct),
        tidy(remaining),
        latest,
        years,
        trace,
    )


# ----------------------------------------------------------------------------- ESR


@dataclass(frozen=True)
class EsrYear:
    """One year of the ESR series: emissions in ESR sectors and the flexibilities used (t CO2e).

    ``aea`` is the annual emission allocation given by the user, or None to take it from the
    parameter set (where it may be unknown)."""

    year: int
    emissions: Decimal
    aea: Decimal | None = None
    transfer_in: Decimal = ZERO
    transfer_out: Decimal = ZERO
    ets_flex: Decimal = ZERO
    lulucf_flex: Decimal = ZERO


@dataclass(frozen=True)
class EsrRow:
    year: int
    aea: Decimal
    aea_from: str
    emissions: Decimal
    penalty_added: Decimal
    repaid: Decimal
    banked_in: Decimal
    transfers_net: Decimal
    ets_flex: Decimal
    lulucf_flex: Decimal
    borrowed: Decimal
    balance: Decimal
    banked_out: Decimal
    surplus_unused: Decimal
    shortfall: Decimal
    compliant: bool

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class EsrResult:
    rows: list[EsrRow]
    target_2030_pct: Decimal
    limit_2030: Decimal | None
    trace: Trace


ESR_FIRST, ESR_LAST = 2021, 2030


def esr(series: list[EsrYear], params: ParameterSet, base_2005: Decimal | None) -> EsrResult:
    """Compliance table per year (VH-12 … VH-14).

    Per year y: available = AEA_y − repaid (borrowed from y by y−1) + banked_in + transfers_in −
    transfers_out + ETS flexibility + LULUCF flexibility; balance = available − (emissions +
    1.08 × shortfall of y−1). A negative balance is covered by borrowing from AEA_{y+1} up to the
    cap; a positive balance is banked up to the cap; what remains negative is the shortfall.
    """
    trace = Trace(params)
    years = sorted(series, key=lambda s: s.year)
    if not years:
        raise RuleError(msg("the ESR series has no years 2021–2030"))
    got = [s.year for s in years]
    if got[0] != ESR_FIRST or got != list(range(ESR_FIRST, got[-1] + 1)) or got[-1] > ESR_LAST:
        raise RuleError(
            msg(
                "the ESR series must cover consecutive years from %(first)s (at most to %(last)s);"
                " got %(years)s",
                first=ESR_FIRST,
                last=ESR_LAST,
                years=", ".join(map(str, got)),
            )
        )
    aeas: dict[int, Decimal] = {}
    for s in years:
        if s.aea is not None:
            aeas[s.year] = s.aea
            trace.step(
                msg("%(year)s AEA", year=s.year),
                msg("user input (series column aea)"),
                tidy(s.aea),
                "VH-14",
            )
        else:
            aeas[s.year] = trace.value("esr.nl.aea", s.year)
    factor = trace.value("esr.excess_factor", ESR_FIRST)
    rows: list[EsrRow] = []
    repay = banked = penalty = ZERO
    cumulative_aea = ZERO
    lulucf_used = ZERO
    for i, s in enumerate(years):
        y, aea = s.year, aeas[s.year]
        cumulative_aea += aea
        for column, amount in (("transfer_in", s.transfer_in), ("transfer_out", s.transfer_out)):
            if amount:
                cap = mul(percent(trace.value("esr.transfer_cap", y)), aea)
                if amount > cap:
                    raise RuleError(
                        msg(
                            "%(year)s: %(column)s %(amount)s exceeds the cap %(pct)s %% × "
                            "%(aea)s = %(cap)s (Art. 5(4))",
                            year=y,
                            column=column,
                            amount=tidy(amount),
                            pct=trace.params.get("esr.transfer_cap", y).value,
                            aea=tidy(aea),
                            cap=tidy(cap),
                        )
                    )
        if s.ets_flex:
            pct = trace.value("esr.nl.ets_flex_cap", y)
            if base_2005 is None:
                raise RuleError(
                    msg(
                        "%(year)s: the ETS flexibility needs the 2005 emissions in the series",
                        year=y,
                    )
                )
            cap = mul(percent(pct), base_2005)
            if s.ets_flex > cap:
                raise RuleError(
                    msg(
                        "%(year)s: ets_flex %(amount)s exceeds the cap %(cap)s",
                        year=y,
                        amount=tidy(s.ets_flex),
                        cap=tidy(cap),
                    )
                )
        if s.lulucf_flex:
            cap = trace.value("esr.nl.lulucf_flex_cap", y)
            lulucf_used += s.lulucf_flex
            if lulucf_used > cap:
                raise RuleError(
                    msg(
                        "%(year)s: LULUCF flexibility used up to now %(used)s exceeds the cap "
                        "%(cap)s (Art. 7)",
                        year=y,
                        used=tidy(lulucf_used),
                        cap=tidy(cap),
                    )
                )
        net_transfer = s.transfer_in - s.transfer_out
        due = s.emissions + penalty
        available = aea - repay + banked + net_transfer + s.ets_flex + s.lulucf_flex
        balance = available - due
        trace.step(
            msg("%(year)s balance", year=y),
            f"{tidy(aea)} − {tidy(repay)} + {tidy(banked)} + {tidy(net_transfer)} + "
            f"{tidy(s.ets_flex)} + {tidy(s.lulucf_flex)} − ({tidy(s.emissions)} + {tidy(penalty)})",
            tidy(balance),
            "Arts. 5–7, 9; VH-12",
        )
        borrowed = ZERO
        if balance < ZERO and i + 1 < len(years):
            nxt = aeas[years[i + 1].year]
            cap = mul(percent(trace.value("esr.borrowing_cap", y)), nxt)
            borrowed = min(-balance, cap)
            balance += borrowed
            trace.step(
                msg("%(year)s borrowing", year=y),
                msg(
                    "min(%(short)s short, %(cap)s cap)",
                    short=tidy(balance - borrowed),
                    cap=tidy(cap),
                ),
                tidy(borrowed),
                "Art. 5(3); VH-13",
            )
        banked_out = surplus_unused = shortfall = ZERO
        if balance > ZERO:
            pct = trace.value("esr.banking_cap", y)
            base = aea if y == ESR_FIRST else cumulative_aea
            cap = mul(percent(pct), base)
            banked_out = min(balance, cap)
            surplus_unused = balance - banked_out
            trace.step(
                msg("%(year)s banking", year=y),
                f"min({tidy(balance)}, {pct} % × {tidy(base)})",
                tidy(banked_out),
                "Art. 5(3); VH-12",
            )
        elif balance < ZERO:
            shortfall = -balance
            trace.step(
                msg("%(year)s shortfall", year=y),
                msg(
                    "%(shortfall)s × %(factor)s added to %(next)s",
                    shortfall=tidy(shortfall),
                    factor=factor,
                    next=y + 1,
                ),
                tidy(mul(shortfall, factor)),
                "Art. 9(1)(a)",
            )
        rows.append(
            EsrRow(
                y,
                tidy(aea),
                "input" if s.aea is not None else "params",
                tidy(s.emissions),
                tidy(penalty),
                tidy(repay),
                tidy(banked),
                tidy(net_transfer),
                tidy(s.ets_flex),
                tidy(s.lulucf_flex),
                tidy(borrowed),
                tidy(balance),
                tidy(banked_out),
                tidy(surplus_unused),
                tidy(shortfall),
                shortfall == ZERO,
            )
        )
        repay, banked, penalty = borrowed, banked_out, mul(shortfall, factor)
    target = trace.value("esr.nl.target_2030", ESR_LAST)
    limit = None
    if base_2005 is not None:
        limit = tidy(div(mul(base_2005, HUNDRED - target), HUNDRED))
        trace.step(msg("2030 limit"), f"{tidy(base_2005)} × (100 − {target}) %", limit, "Annex I")
    return EsrResult(rows, target, limit, trace)
