"""Benchmark: compliance and least-cost plans for 1,000 suppliers × 4 sectors (issue #2, < 5 s).

Measured: keten.ev.compliance.compliance and least_cost_plans over all suppliers at once (one
block-diagonal programme per stage, see keten.ev.allocation). Baseline, in the same run: the same
allocations solved supplier by supplier (one HiGHS model each) — the straightforward approach.
Both give the same shortfalls (checked). Obligations are computed once, outside the timing.

    python benchmarks/ev_compliance.py [--suppliers 1000] [--seed 7]
"""

from __future__ import annotations

import argparse
import random
import time
from decimal import Decimal

from keten.core.params import load_set
from keten.ev.compliance import compliance, least_cost_plans
from keten.ev.model import CATEGORIES, SECTORS, Delivery, Holding, UnitType
from keten.ev.obligation import obligations

GOAL_S = 5.0


Scenario = tuple[list[Delivery], list[Holding], dict[UnitType, Decimal]]


def scenario(suppliers: int, seed: int) -> Scenario:
    rng = random.Random(seed)
    deliveries, holdings = [], []
    for i in range(suppliers):
        name = f"supplier-{i:04d}"
        for sector in SECTORS:
            deliveries.append(
                Delivery(name, sector, "energy", Decimal(rng.randint(10**5, 10**7)), "GJ")
            )
        for sector in SECTORS:
            for category in CATEGORIES:
                if rng.random() < 0.6:
                    holdings.append(
                        Holding(name, UnitType(sector, category), rng.randint(0, 4 * 10**6))
                    )
    prices = {
        UnitType(s, c): Decimal(rng.randint(5, 90)) / 100 for s in SECTORS for c in CATEGORIES
    }
    return deliveries, holdings, prices


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suppliers", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    params = load_set("ev", "bijlage-1")
    deliveries, holdings, prices = scenario(args.suppliers, args.seed)
    obs = obligations(deliveries, 2026, params)
    by_supplier: dict[str, list] = {}
    held_by: dict[str, list[Holding]] = {}
    for o in obs:
        by_supplier.setdefault(o.supplier, []).append(o)
    for h in holdings:
        held_by.setdefault(h.holder, []).append(h)

    t = time.perf_counter()
    result = compliance(obs, holdings, params, 2026)
    t_comp = time.perf_counter() - t
    t = time.perf_counter()
    plans = least_cost_plans(obs, holdings, prices, params, 2026)
    t_plan = time.perf_counter() - t

    t = time.perf_counter()
    one_by_one = [
        compliance(by_supplier[s], held_by.get(s, []), params, 2026)[0] for s in by_supplier
    ]
    t_base = time.perf_counter() - t
    assert [r.shortfall_total for r in result] == [r.shortfall_total for r in one_by_one]
    assert all(p.compliance.compliant for p in plans)

    total = t_comp + t_plan
    short = sum(1 for r in result if not r.compliant)
    print(f"suppliers: {len(result):,} × {len(SECTORS)} sectors; {short:,} with a shortfall")
    print(f"compliance (best allocation), batched : {t_comp:7.3f} s")
    print(f"least-cost plans, batched             : {t_plan:7.3f} s")
    print(
        f"both                                  : {total:7.3f} s  (goal < {GOAL_S} s: "
        f"{'met' if total < GOAL_S else 'NOT met'})"
    )
    print(f"baseline: compliance supplier by supplier: {t_base:7.3f} s")
    print(f"ratio batched / one-by-one (compliance) : {t_comp / t_base:7.2f}")


if __name__ == "__main__":
    main()
