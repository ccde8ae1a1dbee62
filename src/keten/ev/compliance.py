"""Compliance of suppliers with their sector obligations, and least-cost purchase plans.

Default interpretations (docs/interpretations.md):

a) each surrendered unit counts towards exactly one sector obligation of its holder (EV-12);
b) the sector-specific part is met only with units from that sector; the vrije ruimte with units
   from any sector (EV-13);
c) a limited category counts towards a sector's total only up to its limit (EV-14);
d) a sub-obligation needs at least that many units of its category in that sector; they count
   towards the total as well (EV-15);
e) the shortfall per sector is what remains after the best possible allocation (EV-16).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from keten.core.messages import msg
from keten.core.params import ParameterSet
from keten.core.quantity import exact_sum, mul
from keten.core.trace import Trace, merged
from keten.ev.allocation import GENERAL, Block, build_block, solve
from keten.ev.model import SECTORS, Holding, UnitType
from keten.ev.obligation import Obligation


@dataclass(frozen=True)
class Surrender:
    sector: str
    origin_sector: str
    category: str
    amount: int

    def to_dict(self) -> dict[str, object]:
        return {
            "sector": self.sector,
            "origin_sector": self.origin_sector,
            "category": self.category,
            "amount": self.amount,
        }


@dataclass
class SectorOutcome:
    sector: str
    total: int
    surrendered: int
    shortfall: int
    sub_shortfall: dict[str, int]  # category → units missing in its sub-obligation
    from_other_sectors: int


@dataclass
class Compliance:
    supplier: str
    year: int
    sectors: list[SectorOutcome]
    plan: list[Surrender]
    trace: Trace = field(repr=False)

    @property
    def shortfall_by_sector(self) -> dict[str, int]:
        return {s.sector: s.shortfall for s in self.sectors}

    @property
    def shortfall_total(self) -> int:
        return sum(s.shortfall for s in self.sectors)

    @property
    def compliant(self) -> bool:
        return self.shortfall_total == 0

    def to_dict(self) -> dict[str, object]:
        return {
            "supplier": self.supplier,
            "compliant": self.compliant,
            "shortfall_total": self.shortfall_total,
            "shortfall_by_sector": self.shortfall_by_sector,
            "plan": [p.to_dict() for p in self.plan],
        }


@dataclass(frozen=True)
class Purchase:
    origin_sector: str
    category: str
    amount: int
    price_eur: Decimal

    def to_dict(self) -> dict[str, object]:
        return {
            "origin_sector": self.origin_sector,
            "category": self.category,
            "amount": self.amount,
        }


@dataclass
class PurchasePlan:
    supplier: str
    cost_eur: Decimal
    purchases: list[Purchase]
    compliance: Compliance  # the allocation after the purchases

    def to_dict(self) -> dict[str, object]:
        return {
            "supplier": self.supplier,
            "cost_eur": self.cost_eur,
            "purchases": [p.to_dict() for p in self.purchases],
            "compliant": self.compliance.compliant,
            "shortfall_total": self.compliance.shortfall_total,
        }


def holdings_by_holder(holdings: Iterable[Holding]) -> dict[str, dict[UnitType, int]]:
    out: dict[str, dict[UnitType, int]] = defaultdict(lambda: defaultdict(int))
    for h in holdings:
        out[h.holder][h.unit_type] += h.amount
    return {k: dict(v) for k, v in out.items()}


def _by_supplier(obligations: Iterable[Obligation]) -> dict[str, list[Obligation]]:
    out: dict[str, list[Obligation]] = defaultdict(list)
    for ob in obligations:
        out[ob.supplier].append(ob)
    return dict(sorted(out.items()))


def _outcome(block: Block, sol: Mapping[int, int], params: ParameterSet, year: int) -> Compliance:
    surrendered: dict[tuple[str, UnitType], int] = defaultdict(int)
    per_part: dict[tuple[str, str], int] = defaultdict(int)
    for i, v in sol.items():
        c = block.cols[i]
        if c.kind == "x":
            surrendered[(c.sector, c.unit_type)] += v
            per_part[(c.sector, c.part)] += v
    obs = [block.obligations[s] for s in SECTORS if s in block.obligations]
    trace = merged(params, [o.trace for o in obs])
    outcomes = []
    for ob in obs:
        s = ob.sector
        total = ob.row("total")
        got = sum(v for (sec, _), v in surrendered.items() if sec == s)
        foreign = sum(v for (sec, t), v in surrendered.items() if sec == s and t.origin_sector != s)
        subs = {
            part: size - per_part[(s, part)]
            for (sec, part), size in block.part_sizes.items()
            if sec == s and part != GENERAL
        }
        outcomes.append(SectorOutcome(s, total, got, total - got, subs, foreign))
        detail = ", ".join(
            f"{per_part[(s, p)]}/{size} {p}"
            for (sec, p), size in block.part_sizes.items()
            if sec == s
        )
        trace.step(
            msg("%(sector)s surrender", sector=s),
            msg(
                "parts filled: %(parts)s; from other sectors %(foreign)s (vrije ruimte %(vr)s)",
                parts=detail or msg("none"),
                foreign=foreign,
                vr=ob.row("vrije_ruimte"),
            ),
            msg("%(got)s of %(total)s", got=got, total=total),
            "EV-12..EV-15",
        )
        trace.step(msg("%(sector)s shortfall", sector=s), f"{total} − {got}", total - got, "EV-16")
    plan = [
        Surrender(sec, t.origin_sector, t.category, v)
        for (sec, t), v in sorted(
            surrendered.items(), key=lambda kv: (SECTORS.index(kv[0][0]), kv[0][1])
        )
        if v > 0
    ]
    return Compliance(block.supplier, year, outcomes, plan, trace)


def compliance(
    obligations: Sequence[Obligation], holdings: Iterable[Holding], params: ParameterSet, year: int
) -> list[Compliance]:
    """Best allocation and shortfall for every supplier with an obligation (sorted by supplier)."""
    held = holdings_by_holder(holdings)
    blocks = [
        build_block(supplier, obs, held.get(supplier, {}))
        for supplier, obs in _by_supplier(obligations).items()
    ]
    return [_outcome(b, sol, params, year) for b, sol in zip(blocks, solve(blocks), strict=True)]


def least_cost_plans(
    obligations: Sequence[Obligation],
    holdings: Iterable[Holding],
    prices: Mapping[UnitType, Decimal],
    params: ParameterSet,
    year: int,
) -> list[PurchasePlan]:
    """Cheapest purchase per supplier that makes it compliant (or as close as prices allow)."""
    held = holdings_by_holder(holdings)
    blocks = [
        build_block(supplier, obs, held.get(supplier, {}), prices)
        for supplier, obs in _by_supplier(obligations).items()
    ]
    plans = []
    for b, sol in zip(blocks, solve(blocks), strict=True):
        purchases = [
            Purchase(
                b.cols[i].unit_type.origin_sector,
                b.cols[i].unit_type.category,
                v,
                prices[b.cols[i].unit_type],
            )
            for i, v in sorted(sol.items(), key=lambda kv: b.cols[kv[0]].unit_type)
            if b.cols[i].kind == "p" and v > 0
        ]
        cost = exact_sum(mul(Decimal(p.amount), p.price_eur) for p in purchases)
        outcome = _outcome(b, sol, params, year)
        for p in purchases:
            outcome.trace.step(
                msg("buy %(type)s", type=f"{p.origin_sector}/{p.category}"),
                f"{p.amount} × €{p.price_eur}",
                f"€{mul(Decimal(p.amount), p.price_eur)}",
            )
        outcome.trace.step(msg("cost"), msg("sum of purchases"), f"€{cost}")
        plans.append(PurchasePlan(b.supplier, cost, purchases, outcome))
    return plans
