"""Benchmark: CO2-standards compliance from an EEA monitoring file of N rows (issue 8).

Goal: keten ≥ 5× faster than, and ≤ ⅓ of the peak memory of, a pandas ``read_csv`` + ``groupby``
baseline, measured in the same run. Each side runs in its own child process so that its peak
resident memory (``ru_maxrss``) is its own; wall time is measured inside the child.

* baseline "pandas": ``pandas.read_csv(file)`` (every column, as a user would), then
  ``groupby(Mp, Mh, Year)`` sums of R, R×Mt, R×Ewltp, R×Erwltp — the issue's baseline; the goals
  are judged against it.
* baseline "pandas-usecols": the same with ``usecols=`` the eight columns keten reads — a stronger
  baseline, reported beside it (no validation, no targets: less work than keten does).
* reference "floor": a bare polars scan of the eight columns keten reads + group-by sums (no
  checks, inexact floats) — what any polars solution on this machine costs at least. On CSV
  its speed-up over pandas bounds what keten can reach.
* keten: ``read_monitoring`` + ``aggregate_monitoring`` (polars lazy scan, every row validated,
  exact integer sums, streaming engine) + ``assess`` of every manufacturer and pool.

    python benchmarks/vehicles_compliance.py [--rows 15000000] [--format csv|parquet]

The data file is generated under benchmarks/data/ (git-ignored) when missing.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

SPEED_GOAL = 5.0
MEMORY_GOAL = 1 / 3
USECOLS = ["Mp", "Mh", "Ft", "Mt", "Ewltp", "Erwltp", "R", "Year"]


def child_pandas(path: str, usecols: bool = False) -> dict[str, float]:
    import pandas as pd

    t = time.perf_counter()
    cols = USECOLS if usecols else None
    df = (
        pd.read_csv(path, usecols=cols)
        if path.endswith(".csv")
        else pd.read_parquet(path, columns=cols)
    )
    df["RMt"] = df["R"] * df["Mt"]
    df["RE"] = df["R"] * df["Ewltp"]
    df["REco"] = df["R"] * df["Erwltp"].fillna(0)
    out = df.groupby(["Mp", "Mh", "Year"], dropna=False)[["R", "RMt", "RE", "REco"]].sum()
    return {"seconds": time.perf_counter() - t, "groups": float(len(out))}


def child_floor(path: str) -> dict[str, float]:
    """Reference only: a bare polars scan + group-by sums (no validation, inexact floats)."""
    import polars as pl

    t = time.perf_counter()
    num = {c: pl.Float64 for c in ("Mt", "Ewltp", "Erwltp", "R", "Year")}
    lf = pl.scan_csv(path, schema_overrides=num) if path.endswith(".csv") else pl.scan_parquet(path)
    r = pl.col("R")
    out = (
        lf.group_by("Mp", "Mh", "Ft", "Year")
        .agg(
            r.sum(),
            (r * pl.col("Mt")).sum().alias("m"),
            (r * pl.col("Ewltp")).sum().alias("e"),
            (r * pl.col("Erwltp")).sum().alias("eco"),
        )
        .collect(engine="streaming")
    )
    return {"seconds": time.perf_counter() - t, "groups": float(out.height)}


def child_keten(path: str) -> dict[str, float]:
    from decimal import Decimal

    from keten.core.params import load_set
    from keten.io.vehicles_files import read_monitoring
    from keten.vehicles.standards import assess

    t = time.perf_counter()
    params = load_set("vehicles", "in-force")
    threshold = params.get("vehicles.zlev.threshold", 2025).value
    mon = read_monitoring(Path(path), [2025], zlev_threshold=Decimal(threshold))
    results = [assess(f, "cars", params) for f in mon.fleets.values()]
    return {
        "seconds": time.perf_counter() - t,
        "groups": float(len(results)),
        "rows": float(mon.rows_read),
        "skipped": float(mon.skipped_count),
    }


def run_child(kind: str, path: Path, rows: int = 0) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--data-file", str(path), "--rows", str(rows)],
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--rows", type=int, default=15_000_000)
    ap.add_argument("--format", choices=["csv", "parquet"], default="csv")
    ap.add_argument("--data", type=Path, default=Path(__file__).parent / "data")
    ap.add_argument("--child", choices=["pandas", "pandas-usecols", "floor", "keten", "generate"])
    ap.add_argument("--data-file", type=str)
    args = ap.parse_args()
    if args.child == "generate":
        from keten.io.vehicles_files import write_synthetic

        write_synthetic(Path(args.data_file), args.rows)
        print(json.dumps({}))
        return
    if args.child:
        if args.child == "keten":
            result = child_keten(args.data_file)
        elif args.child == "floor":
            result = child_floor(args.data_file)
        else:
            result = child_pandas(args.data_file, usecols=args.child == "pandas-usecols")
        usage = resource.getrusage(resource.RUSAGE_SELF)
        result["peak_mb"] = usage.ru_maxrss / 1024
        # CPU time of the whole child (imports included): steadier than wall time on a machine
        # shared with other jobs.
        result["cpu_s"] = usage.ru_utime + usage.ru_stime
        print(json.dumps(result))
        return
    path = args.data / f"eea_{args.rows}.{args.format}"
    if not path.exists():
        args.data.mkdir(parents=True, exist_ok=True)
        t = time.perf_counter()
        run_child("generate", path, args.rows)
        print(f"generated {args.rows:,} rows in {time.perf_counter() - t:.1f} s → {path}")
    print(f"file: {path} ({path.stat().st_size / 1e6:,.0f} MB)")
    base = run_child("pandas", path)
    strong = run_child("pandas-usecols", path)
    floor = run_child("floor", path)
    ket = run_child("keten", path)
    read = "read_csv" if args.format == "csv" else "read_parquet"
    for name, r in ((f"pandas {read}+groupby", base), ("pandas usecols+groupby", strong)):
        print(
            f"baseline {name:26}: {r['seconds']:8.2f} s  peak {r['peak_mb']:8,.0f} MB"
            f"  cpu {r['cpu_s']:6.2f} s"
        )
    print(
        f"(floor   {'bare polars scan+group_by':26}: {floor['seconds']:8.2f} s"
        f"  peak {floor['peak_mb']:8,.0f} MB  cpu {floor['cpu_s']:6.2f} s — no validation, "
        f"reference; its speed-up over pandas: {base['seconds'] / floor['seconds']:.2f}×)"
    )
    print(
        f"keten    {'validate+aggregate+assess':26}: {ket['seconds']:8.2f} s"
        f"  peak {ket['peak_mb']:8,.0f} MB  cpu {ket['cpu_s']:6.2f} s  ({ket['rows']:,.0f} rows, "
        f"{ket['skipped']:,.0f}"
        f" skipped, {ket['groups']:.0f} fleets)"
    )
    for name, r in (("pandas", base), ("pandas-usecols", strong)):
        speed = r["seconds"] / ket["seconds"]
        memory = ket["peak_mb"] / r["peak_mb"]
        s_ok = "met" if speed >= SPEED_GOAL else "NOT met"
        m_ok = "met" if memory <= MEMORY_GOAL else "NOT met"
        print(
            f"vs {name:15}: speed-up {speed:5.2f}× (goal ≥ {SPEED_GOAL:g}: {s_ok})"
            f"  memory ratio {memory:5.2f} (goal ≤ {MEMORY_GOAL:.2f}: {m_ok})"
        )


if __name__ == "__main__":
    main()
