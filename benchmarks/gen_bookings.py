"""Generate a synthetic bookings file (Parquet) with the issue-#2 booking columns.

    python benchmarks/gen_bookings.py --rows 10000000 --out benchmarks/data/bookings.parquet

Quantities are Decimal(18,3), GHG intensities Decimal(9,3) (null for electricity), so the file is
exact (floating-point columns are refused by keten, EV-11). Every row is a valid booking for 2026
under `bijlage-1`. Deterministic for a given --seed.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import polars as pl

# (sector, category, fuel, unit, intensity range g/MJ or None for electricity)
KINDS = [
    ("land", "annex-ixa", "hvo", "l", (5.0, 20.0)),
    ("land", "annex-ixb", "fame", "l", (10.0, 30.0)),
    ("land", "conventional", "bioethanol", "l", (30.0, 50.0)),
    ("land", "other", "electricity", "kWh", None),
    ("land", "rfnbo", "hydrogen", "kg", (3.0, 28.2)),
    ("zeevaart", "annex-ixa", "biomethane", "kg", (-20.0, 15.0)),
    ("binnenvaart", "annex-ixb", "hvo", "l", (10.0, 25.0)),
    ("luchtvaart", "annex-ixb", "hvo", "l", (10.0, 25.0)),
]


def generate(rows: int, seed: int = 1) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    kind = rng.integers(0, len(KINDS), rows)
    holders = np.array([f"holder-{i:04d}" for i in range(1000)])
    qty_milli = rng.integers(1_000, 50_000_000, rows)  # 1.000 .. 50000.000
    lo = np.array([k[4][0] if k[4] else 0.0 for k in KINDS])
    hi = np.array([k[4][1] if k[4] else 0.0 for k in KINDS])
    ci_milli = np.floor((lo[kind] + (hi[kind] - lo[kind]) * rng.random(rows)) * 1000).astype(
        np.int64
    )
    is_elec = np.array([k[4] is None for k in KINDS])[kind]

    def dec(col: str, milli: np.ndarray, precision: int) -> pl.Expr:
        s = pl.Series(col, milli)
        sign = pl.when(s < 0).then(pl.lit("-")).otherwise(pl.lit(""))
        a = s.abs()
        text = pl.format(
            "{}{}.{}", sign, (a // 1000).cast(pl.Utf8), (a % 1000).cast(pl.Utf8).str.zfill(3)
        )
        return text.cast(pl.Decimal(precision, 3)).alias(col)

    frame = pl.DataFrame(
        {
            "holder": holders[rng.integers(0, len(holders), rows)],
            "sector": np.array([k[0] for k in KINDS])[kind],
            "category": np.array([k[1] for k in KINDS])[kind],
            "fuel": np.array([k[2] for k in KINDS])[kind],
            "unit": np.array([k[3] for k in KINDS])[kind],
        }
    )
    frame = frame.with_columns(
        dec("quantity", qty_milli, 18), dec("ghg_intensity", ci_milli, 9)
    ).with_columns(
        pl.when(pl.Series(is_elec))
        .then(None)
        .otherwise(pl.col("ghg_intensity"))
        .alias("ghg_intensity")
    )
    return frame.select("holder", "sector", "category", "fuel", "quantity", "unit", "ghg_intensity")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/data/bookings.parquet"))
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    generate(args.rows, args.seed).write_parquet(args.out)
    print(f"wrote {args.rows:,} rows to {args.out} in {time.perf_counter() - t:.1f} s")


if __name__ == "__main__":
    main()
