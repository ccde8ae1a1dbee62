"""Benchmark: MKI of a project of 10,000 elements × all set-2 indicators × all modules (issue #6,
goal < 1 s for the calculation).

Baseline, in the same run: numpy float64 of the same sums (profiles as a products × (modules ·
indicators) matrix, one matrix-vector product per element group). Measured: keten's exact
Decimal calculation (keten.mki.project.project_mki, arrays of Decimals, MKI-17), the
per-element reference loop it replaced (results compared field by field), and separately
reading the CSV files. Two cases: the issue's (10,000 elements over 1,000 products) and the
hardest (10,000 elements, each with its own product: 2.85 million profile values).

Six set-2 prices are unknown in params/mki/set-2 (research: NOT FOUND). The benchmark therefore
writes its own parameter folder under benchmarks/data/params (git-ignored) where those six are
1 €/unit with status `assumption` — timing only, never a result.

    python benchmarks/mki_project.py [--elements 10000] [--products 1000] [--repeat 3]
        [--reference-distinct]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
import re
import shutil
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import numpy as np

from keten.core.params import ParameterSet, load_set, params_root
from keten.core.trace import Trace
from keten.io.mki_files import read_profiles, read_project
from keten.mki.model import MODULES, SET2_INDICATORS, Element, Profile, priced_indicators
from keten.mki.project import ProjectResult, _reference, project_mki

DATA = Path(__file__).parent / "data"
DAY = dt.date(2025, 9, 1)
GOAL_S = 1.0


def bench_params() -> Path:
    root = DATA / "params"
    target = root / "mki" / "set-2"
    shutil.rmtree(root / "mki", ignore_errors=True)
    shutil.copytree(params_root() / "mki" / "common", root / "mki" / "common")
    target.mkdir(parents=True)
    text = (params_root() / "mki" / "set-2" / "weights.yaml").read_text()
    text = re.sub(r"status: unknown", "status: assumption", text)
    text = re.sub(r"value: unknown, note: \"[^\"]*\"", 'value: 1, note: "benchmark only"', text)
    (target / "weights.yaml").write_text(text)
    return root


def generate(
    n_elements: int, n_products: int, distinct: bool = False
) -> tuple[list[Element], dict[str, Profile]]:
    """Random profiles (every module × every set-2 indicator) and elements; with ``distinct``
    element j uses product j (n_products = n_elements: the hardest case, no profile shared)."""
    rng = random.Random(6)
    profiles = {}
    for k in range(n_products):
        values = {
            (m, i): Decimal(rng.randint(1, 999_999)) / Decimal(1000)
            for m in MODULES
            for i in SET2_INDICATORS
        }
        pid = f"p{k}"
        profiles[pid] = Profile(pid, "m3", rng.choice(("1", "2", "3", "3a")), values)
    elements = [
        Element(
            f"e{j}",
            f"p{j}" if distinct else f"p{rng.randrange(n_products)}",
            Decimal(rng.randint(1, 100_000)) / Decimal(100),
            Decimal(rng.choice((10, 15, 20, 30, 50, 100))),
        )
        for j in range(n_elements)
    ]
    return elements, profiles


def write_csv(elements: list[Element], profiles: dict[str, Profile]) -> tuple[Path, Path]:
    DATA.mkdir(parents=True, exist_ok=True)
    prof, proj = DATA / "mki_profiles.csv", DATA / "mki_project.csv"
    with prof.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["product_id", "unit", "data_category", "module", "indicator", "value"])
        for p in profiles.values():
            for (m, i), v in p.values.items():
                w.writerow([p.product_id, p.unit, p.data_category, m, i, v])
    with proj.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["element_id", "product_id", "quantity", "service_life_years"])
        for e in elements:
            w.writerow([e.element_id, e.product_id, e.quantity, e.service_life_years])
    return prof, proj


def best_of(repeat: int, fn: Callable[[], object]) -> tuple[float, object]:
    """Best wall time of ``repeat`` runs; the best process CPU time is kept in ``CPU``."""
    best, best_cpu, result = float("inf"), float("inf"), None
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        result = fn()
        best = min(best, time.perf_counter() - t)
        best_cpu = min(best_cpu, time.process_time() - c)
    CPU[fn.__name__] = best_cpu
    return best, result


#: Best CPU time per timed function of the last case (steadier than wall time on a machine
#: shared with other jobs; the calculation runs on one core).
CPU: dict[str, float] = {}


def same(a: ProjectResult, b: ProjectResult) -> bool:
    """Equal values in every field (Decimal ==) and identical JSON output."""
    return a.to_dict() == b.to_dict() and all(
        getattr(a, f) == getattr(b, f)
        for f in ("mki_eur", "by_module", "by_element", "by_indicator", "d_excluded_eur")
    )


def run_case(
    pset: ParameterSet,
    n_elements: int,
    n_products: int,
    distinct: bool,
    repeat: int,
    reference: bool,
    write: bool,
) -> None:
    t_gen = time.perf_counter()
    elements, profiles = generate(n_elements, n_products, distinct)
    t_gen = time.perf_counter() - t_gen
    priced = priced_indicators("2")
    cols = [(m, i) for m in MODULES for i in priced]
    weights = np.array([float(pset.at(f"mki.weight.{i}", DAY).value) for _, i in cols])
    surcharge = {"1": 1.0, "2": 1.0, "3": 1.3, "3a": 1.0}
    index = {pid: k for k, pid in enumerate(profiles)}
    matrix = np.array(
        [[float(p.values[c]) * surcharge[p.data_category] for c in cols] for p in profiles.values()]
    )
    qty = np.array([float(e.quantity) for e in elements])
    rows = np.array([index[e.product_id] for e in elements])

    def baseline() -> object:
        per_product = matrix @ weights
        return float(qty @ per_product[rows])

    def keten() -> ProjectResult:
        return project_mki(
            elements, profiles, Trace(pset), weighting_set="2", day=DAY, include_d=True
        )

    t_base, f_total = best_of(repeat, baseline)
    t_keten, result = best_of(repeat, keten)
    assert isinstance(result, ProjectResult) and isinstance(f_total, float)
    d_total = result.mki_eur
    rel = abs(float(d_total) - f_total) / abs(f_total)
    n_values = n_products * len(MODULES) * len(SET2_INDICATORS)
    kind = "distinct products" if distinct else f"{n_products:,} products"
    print(f"--- {n_elements:,} elements, {kind}, profile values {n_values:,}")
    print(f"generating the inputs (not timed)  : {t_gen:8.3f} s")
    print(f"MKI keten {d_total:.4f} EUR vs numpy {f_total:.4f} (relative difference {rel:.1e})")
    print(f"baseline  numpy float64            : {t_base:8.4f} s")
    print(
        f"keten     exact Decimal (MKI-17)   : {t_keten:8.4f} s  (cpu {CPU['keten']:.4f} s; "
        f"ratio {t_keten / t_base:,.0f}×)"
    )
    verdict = "met" if t_keten < GOAL_S else "NOT met"
    cpu_verdict = "met" if CPU["keten"] < GOAL_S else "NOT met"
    print(f"goal < {GOAL_S} s for the calculation      : {verdict} (wall), {cpu_verdict} (cpu)")
    if reference:

        def loop() -> ProjectResult:
            return _reference(
                elements,
                profiles,
                Trace(pset),
                weighting_set="2",
                day=DAY,
                period=None,
                include_d=True,
                explain=False,
            )

        t_ref, ref = best_of(1, loop)
        assert isinstance(ref, ProjectResult)
        ok = same(result, ref)
        print(
            f"reference per-element loop        : {t_ref:8.4f} s  (cpu {CPU['loop']:.4f} s) "
            f"(speed-up {t_ref / t_keten:,.1f}×; same results: {ok})"
        )
        assert ok
    if write:
        prof, proj = write_csv(elements, profiles)

        def read() -> object:
            profs = read_profiles(prof, "2")
            return len(read_project(proj, profs))

        t_read, _ = best_of(1, read)
        print(f"reading both CSV files             : {t_read:8.3f} s ({n_values:,} profile rows)")


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--elements", type=int, default=10_000)
    ap.add_argument("--products", type=int, default=1_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument(
        "--reference-distinct",
        action="store_true",
        help="also time the reference loop on the distinct-products case (~30 s)",
    )
    args = ap.parse_args()
    pset = load_set("mki", "set-2", root=bench_params())
    # the case, then the hardest: every element its own product
    run_case(pset, args.elements, args.products, False, args.repeat, True, True)
    run_case(pset, args.elements, args.elements, True, args.repeat, args.reference_distinct, False)


if __name__ == "__main__":
    main()
