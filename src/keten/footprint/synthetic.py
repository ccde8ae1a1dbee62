"""Synthetic MRIO systems of any size with EXIOBASE-like structure, for tests and benchmarks.

Not data: every number is drawn from a seeded random generator. The structure imitates EXIOBASE 3
pxp (49 regions × 200 products; research/footprint.md §1.2) in the ways that matter for the
solver and the accounts (FP-04):

* domestic blocks are much denser than import blocks (``domestic_density`` vs ``trade_density``);
* a share of (region, product) pairs produce nothing (``inactive_share``: zero rows and columns of
  ``A``, zero output), as EXIOBASE has many products without output in small economies;
* each active column spends ``U(0.3, 0.7)`` of its output on intermediate inputs, of which a share
  ``U(0.05, 0.5)`` is imported — so ``A`` is productive (column sums < 1);
* intensities are log-normal (a few very emission-intensive sectors), final demand has one
  household category with most of the domestic demand and direct household emissions ``F_Y``.

``x`` is computed as ``L y`` so the system is balanced (``x = Z e + Y e`` to rounding).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from keten.core.errors import InputError
from keten.core.messages import msg
from keten.footprint.mrio import MRIO, Extension

CATEGORY_NAMES = ("households", "government", "gfcf", "inventories", "npish", "valuables", "export")


def synthetic_mrio(
    regions: int = 3,
    sectors: int = 4,
    categories: int = 2,
    stressors: int = 2,
    *,
    domestic_density: float = 0.25,
    trade_density: float = 0.004,
    inactive_share: float = 0.05,
    seed: int = 0,
    method: str = "auto",
) -> MRIO:
    """A balanced random MRIO with ``regions × sectors`` sectors (see the module docstring)."""
    if regions < 1 or sectors < 1 or categories < 1 or stressors < 1:
        raise InputError(msg("regions, sectors, categories and stressors must be at least 1"))
    for name, v in (
        ("domestic_density", domestic_density),
        ("trade_density", trade_density),
        ("inactive_share", inactive_share),
    ):
        if not 0 <= v <= 1:
            raise InputError(msg("%(name)s must lie in [0, 1]", name=name), field=name)
    rng = np.random.default_rng(seed)
    R, s = regions, sectors
    n = R * s
    active = rng.random(n) >= inactive_share
    region = np.repeat(np.arange(R), s)

    rows, cols = [], []
    for r in range(R):
        blk = sp.random(s, s, density=domestic_density, random_state=rng, format="coo")
        rows.append(blk.row + r * s)
        cols.append(blk.col + r * s)
        rows.append(np.arange(r * s, (r + 1) * s))  # every sector uses some of its own product
        cols.append(np.arange(r * s, (r + 1) * s))
    if R > 1 and trade_density > 0:
        m = int(trade_density * n * n)
        tr, tc = rng.integers(0, n, m), rng.integers(0, n, m)
        keep = region[tr] != region[tc]
        rows.append(tr[keep])
        cols.append(tc[keep])
    r_all, c_all = np.concatenate(rows), np.concatenate(cols)
    ok = active[r_all] & active[c_all]
    r_all, c_all = r_all[ok], c_all[ok]
    vals = rng.lognormal(0.0, 1.0, r_all.size)
    A = sp.coo_matrix((vals, (r_all, c_all)), shape=(n, n)).tocsc()
    A.sum_duplicates()
    coo = A.tocoo()
    dom = region[coo.row] == region[coo.col]
    dom_sum = np.bincount(coo.col[dom], weights=coo.data[dom], minlength=n)
    imp_sum = np.bincount(coo.col[~dom], weights=coo.data[~dom], minlength=n)
    total = rng.uniform(0.3, 0.7, n)
    imp_share = np.where(imp_sum > 0, rng.uniform(0.05, 0.5, n), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        f_dom = np.where(dom_sum > 0, total * (1 - imp_share) / dom_sum, 0.0)
        f_imp = np.where(imp_sum > 0, total * imp_share / imp_sum, 0.0)
    scale = np.where(dom, f_dom[coo.col], f_imp[coo.col])
    A = sp.csc_matrix((coo.data * scale, (coo.row, coo.col)), shape=(n, n))
    A.eliminate_zeros()

    c = categories
    Y = np.zeros((n, R * c))
    for r in range(R):
        for k in range(c):
            col = r * c + k
            weight = 1.0 if k == 0 else 0.3
            dom_rows = (region == r) & active & (rng.random(n) < (0.9 if k == 0 else 0.4))
            imp_rows = (region != r) & active & (rng.random(n) < 0.05)
            Y[dom_rows, col] = weight * rng.lognormal(3.0, 1.0, int(dom_rows.sum()))
            Y[imp_rows, col] = weight * rng.lognormal(1.0, 1.0, int(imp_rows.sum()))

    reg_names = tuple(f"R{r + 1:02d}" for r in range(R))
    sec_names = tuple(f"s{i + 1:03d}" for i in range(s))
    cat_names = tuple(
        CATEGORY_NAMES[k] if k < len(CATEGORY_NAMES) else f"fd{k + 1}" for k in range(c)
    )
    from keten.footprint.solver import LeontiefSolver

    x = LeontiefSolver(A, R, method=method).solve(Y.sum(axis=1))  # type: ignore[arg-type]
    x[~active] = 0.0
    S = rng.lognormal(0.0, 1.5, (stressors, n)) * active
    F = S * x
    F_Y = np.zeros((stressors, R * c))
    F_Y[0, ::c] = rng.uniform(0.05, 0.2, R) * F[0].reshape(R, s).sum(axis=1)
    ext = Extension(
        name="emissions",
        stressors=tuple(f"stressor{i + 1}" for i in range(stressors)),
        units=("kg",) * stressors,
        F=F,
        F_Y=F_Y,
    )
    return MRIO(
        regions=reg_names,
        sectors=sec_names,
        categories=cat_names,
        A=A,
        x=x,
        Y=Y,
        extensions={"emissions": ext},
        unit="M.EUR",
        name=f"synthetic-{R}x{s}-seed{seed}",
    )
