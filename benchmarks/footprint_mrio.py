"""Benchmark: consumption-based footprints for all regions of a synthetic MRIO (issue 7).

Goal: ≥ 10× faster and ≤ ¼ of the peak memory of pymrio ``calc_all()`` on the same system, in
the same run, with equal results (D_cba_reg and D_cba within 1e-8 relative).

    python benchmarks/footprint_mrio.py [--regions 49] [--sectors 200] [--stressors 4]

The system (EXIOBASE-like sparsity, keten.footprint.synthetic, FP-04) is generated once into
benchmarks/data/ (git-ignored) in our Parquet layout. Each contender runs in a forked child
process that starts from the loaded system; its peak memory is the child's peak resident set
(VmHWM) minus its resident set before the computation (so building pymrio's DataFrames, which
is setup, is not counted against it, nor is loading our system). Wall time covers the
computation only: pymrio ``IOSystem.calc_all()`` vs keten ``footprints()`` (factorisation +
solves + D_cba for every region and product).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import time
from pathlib import Path
from typing import Any

import numpy as np

from keten.footprint.accounts import footprints
from keten.footprint.mrio import MRIO
from keten.footprint.synthetic import synthetic_mrio
from keten.io.footprint_files import LAYOUT_FILE, read_parquet_mrio, write_parquet_mrio

SPEED_GOAL = 10.0
MEMORY_GOAL = 0.25
RTOL = 1e-8


def _status(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(key)


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _ours(mrio: MRIO) -> dict[str, Any]:
    ext = mrio.extension("emissions")
    _reset_peak()
    base = _status("VmRSS")
    t = time.perf_counter()
    fp = footprints(mrio, ext)
    wall = time.perf_counter() - t
    return {"wall": wall, "peak": _status("VmHWM") - base, "reg": fp.D_cba_reg, "D": fp.D_cba}


def _pymrio(mrio: MRIO) -> dict[str, Any]:
    import pandas as pd
    import pymrio

    rows = pd.MultiIndex.from_product([mrio.regions, mrio.sectors], names=["region", "sector"])
    ycols = pd.MultiIndex.from_product(
        [mrio.regions, mrio.categories], names=["region", "category"]
    )
    ext = mrio.extension("emissions")
    io = pymrio.IOSystem(
        Z=pd.DataFrame(mrio.Z.toarray(), index=rows, columns=rows),
        Y=pd.DataFrame(mrio.Y, index=rows, columns=ycols),
        unit=pd.DataFrame({"unit": [mrio.unit] * mrio.n}, index=rows),
    )
    stress = pd.Index(list(ext.stressors), name="stressor")
    io.emissions = pymrio.Extension(
        name="emissions",
        F=pd.DataFrame(ext.F, index=stress, columns=rows),
        F_Y=pd.DataFrame(ext.F_Y, index=stress, columns=ycols),
        unit=pd.DataFrame({"unit": list(ext.units)}, index=stress),
    )
    _reset_peak()
    base = _status("VmRSS")
    t = time.perf_counter()
    io.calc_all()
    wall = time.perf_counter() - t
    return {
        "wall": wall,
        "peak": _status("VmHWM") - base,
        "reg": io.emissions.D_cba_reg.to_numpy(),
        "D": io.emissions.D_cba.to_numpy(),
    }


def _child(fn: Any, mrio: MRIO, conn: Any) -> None:
    conn.send(fn(mrio))
    conn.close()


def run_forked(fn: Any, mrio: MRIO) -> dict[str, Any]:
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    p = ctx.Process(target=_child, args=(fn, mrio, child))
    p.start()
    result: dict[str, Any] = parent.recv()
    p.join()
    if p.exitcode != 0:
        raise SystemExit(f"{fn.__name__} failed with exit code {p.exitcode}")
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--regions", type=int, default=49)
    ap.add_argument("--sectors", type=int, default=200)
    ap.add_argument("--categories", type=int, default=7)
    ap.add_argument("--stressors", type=int, default=4)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--domestic-density", type=float, default=0.25)
    ap.add_argument("--trade-density", type=float, default=0.004)
    ap.add_argument("--data", type=Path, default=Path(__file__).parent / "data")
    args = ap.parse_args()
    folder = args.data / (
        f"footprint_{args.regions}x{args.sectors}x{args.categories}"
        f"_k{args.stressors}_seed{args.seed}_d{args.domestic_density}_t{args.trade_density}"
    )
    if not (folder / LAYOUT_FILE).exists():
        t = time.perf_counter()
        m = synthetic_mrio(
            args.regions,
            args.sectors,
            args.categories,
            args.stressors,
            seed=args.seed,
            domestic_density=args.domestic_density,
            trade_density=args.trade_density,
        )
        write_parquet_mrio(m, folder)
        print(f"generated {m.n:,} sectors in {time.perf_counter() - t:.1f} s → {folder}")
    mrio = read_parquet_mrio(folder)
    density = mrio.A.nnz / mrio.n**2
    print(
        f"system: {len(mrio.regions)} regions × {len(mrio.sectors)} sectors = {mrio.n:,}; "
        f"A density {density:.2%}; {args.stressors} stressors; peak reset "
        f"{'on' if _reset_peak() else 'UNAVAILABLE (peaks include setup)'}"
    )
    ours = run_forked(_ours, mrio)
    theirs = run_forked(_pymrio, mrio)
    rel_reg = np.max(np.abs(ours["reg"] - theirs["reg"]) / np.abs(theirs["reg"]))
    scale = np.abs(theirs["D"]).max(axis=1, keepdims=True)
    rel_d = np.max(np.abs(ours["D"] - theirs["D"]) / scale)
    speed = theirs["wall"] / ours["wall"]
    memory = ours["peak"] / theirs["peak"]
    mb = 1024 * 1024
    print(f"pymrio calc_all()       : {theirs['wall']:8.2f} s  peak +{theirs['peak'] / mb:8.0f} MB")
    print(f"keten footprints()      : {ours['wall']:8.2f} s  peak +{ours['peak'] / mb:8.0f} MB")
    ok_speed = "met" if speed >= SPEED_GOAL else "NOT met"
    ok_mem = "met" if memory <= MEMORY_GOAL else "NOT met"
    ok_eq = "met" if max(rel_reg, rel_d) <= RTOL else "NOT met"
    print(f"speed-up pymrio / keten : {speed:8.1f}×  (goal ≥ {SPEED_GOAL:g}×: {ok_speed})")
    print(f"memory keten / pymrio   : {memory:8.3f}   (goal ≤ {MEMORY_GOAL:g}: {ok_mem})")
    print(
        f"max rel. difference     : D_cba_reg {rel_reg:.1e}, D_cba {rel_d:.1e} "
        f"(of the stressor's largest entry)  (goal ≤ {RTOL:g}: {ok_eq})"
    )


if __name__ == "__main__":
    main()
