"""Environmentally extended MRIO accounts: multipliers, footprints, production and trade accounts.

Formulas (pymrio ``doc/source/math.rst`` and ``tools/iomath.py``; research/footprint.md §1.1),
with ``L = (I − A)⁻¹`` never formed — every product with ``L`` is a solve (solver.py):

* intensities ``S = F x̂⁻¹`` (0 where x = 0, FP-01);
* multipliers ``M = S L`` (direct + indirect per unit of final demand), from ``Mᵀ = L⁻ᵀ Sᵀ``:
  k right-hand sides;
* upstream multipliers ``M_up = M − S = S (L − I)`` (scope 2 + upstream scope 3 of a sector);
* downstream (Ghosh) multipliers ``M_down = S (Gᵀ − I)`` with ``B = x̂⁻¹ Z``, ``G = (I − B)⁻¹ =
  x̂⁻¹ L x̂``, so ``M_down = ((L (S x̂)ᵀ)ᵀ) x̂⁻¹ − S``: k right-hand sides, no second inverse;
* per consuming region r, ``y_r`` = its final demand summed over categories; ``X = L Y_reg``
  (R right-hand sides), ``x_tot = X e`` (output recomputed from L, as pymrio does);
* ``D_cba[k, (r, s)] = Σ_q M[k, (q, s)] · y_r[(q, s)]`` — footprint of region r's final demand
  for product s, wherever the emissions occur (pymrio ``D_cba``: ``S L diag_s(y_r)``);
* ``D_pba = S x̂_tot`` per producing sector (pymrio ``D_pba``);
* ``D_imp[k, (r, s)] = Σ_q M^{¬r}[k, (q, s)] · y_r[(q, s)]`` with ``M^{¬r} = (S with region r's
  columns set to 0) L`` — the part of ``D_cba`` emitted outside region r (pymrio ``D_imp``:
  domestic blocks of ``L diag(y)`` set to 0); k·R right-hand sides;
* ``D_exp[k, p] = S[k, p] · Σ_{r ≠ region(p)} X[p, r]`` — emitted in p for other regions' final
  demand (pymrio ``D_exp``);
* regional totals add the final-demand emissions ``F_Y`` of the region to both the production
  and the consumption account, not to imports or exports — exactly pymrio's ``D_pba_reg`` and
  ``D_cba_reg`` (FP-05).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from keten.footprint.mrio import MRIO, Array, Extension, safe_reciprocal
from keten.footprint.solver import LeontiefSolver, Method

#: Right-hand sides solved at once when computing the import account (bounds memory).
RHS_BATCH = 256


def solver_for(mrio: MRIO, method: Method = "auto") -> LeontiefSolver:
    """The Leontief solver of ``mrio`` (one factorisation; reuse it for several accounts)."""
    return LeontiefSolver(mrio.A, len(mrio.regions), method=method)


def intensities(mrio: MRIO, ext: Extension) -> Array:
    """``S = F x̂⁻¹`` (k × n)."""
    return np.asarray(ext.F * safe_reciprocal(mrio.x)[None, :])


def multipliers(mrio: MRIO, ext: Extension, solver: LeontiefSolver | None = None) -> Array:
    """``M = S L`` (k × n), as ``(L⁻ᵀ Sᵀ)ᵀ``."""
    solver = solver or solver_for(mrio)
    return np.asarray(solver.solve_transposed(intensities(mrio, ext).T).T)


def upstream_multipliers(mrio: MRIO, ext: Extension, M: Array | None = None) -> Array:
    """``M_up = M − S``: everything upstream of the sector's own (scope 1) emissions."""
    if M is None:
        M = multipliers(mrio, ext)
    return M - intensities(mrio, ext)


def downstream_multipliers(
    mrio: MRIO, ext: Extension, solver: LeontiefSolver | None = None
) -> Array:
    """Ghosh ``M_down = S (Gᵀ − I) = (L (S x̂)ᵀ)ᵀ x̂⁻¹ − S`` (pymrio ``calc_M_down``)."""
    solver = solver or solver_for(mrio)
    S = intensities(mrio, ext)
    LF = solver.solve((S * mrio.x[None, :]).T)  # n × k = L (S x̂)ᵀ
    return np.asarray(LF.T * safe_reciprocal(mrio.x)[None, :] - S)


def leontief_inverse(mrio: MRIO, solver: LeontiefSolver | None = None) -> Array:
    """The dense ``L`` — only for a user who asks for L itself (n² memory)."""
    return (solver or solver_for(mrio)).inverse()


def final_demand_by_region(mrio: MRIO, ext: Extension) -> Array:
    """``F_Y`` summed over the final-demand categories of each region (k × R); 0 without F_Y."""
    k, R, c = len(ext.stressors), len(mrio.regions), len(mrio.categories)
    if ext.F_Y is None:
        return np.zeros((k, R))
    return np.asarray(ext.F_Y.reshape(k, R, c).sum(axis=2))


def _by_product(mrio: MRIO, M: Array) -> Array:
    """``D[k, r, s] = Σ_q M[k, q, s] · Y_reg[(q, s), r]`` for a multiplier-like ``M`` (k × n)."""
    R, s = len(mrio.regions), len(mrio.sectors)
    Mk = M.reshape(M.shape[0], R, s)
    Yr = mrio.Y_reg.reshape(R, s, R)
    return np.asarray(np.einsum("kqs,qsr->krs", Mk, Yr, optimize=True), dtype=np.float64)


@dataclass(frozen=True, eq=False)
class Footprints:
    """Consumption-based footprints only (the cheap account: k right-hand sides)."""

    stressors: tuple[str, ...]
    regions: tuple[str, ...]
    sectors: tuple[str, ...]
    M: Array  # k × n
    D_cba: Array  # k × n, consuming region-major × product
    F_Y_reg: Array  # k × R

    @property
    def D_cba_reg(self) -> Array:
        """Footprint per consuming region incl. its final-demand emissions (k × R)."""
        R, s = len(self.regions), len(self.sectors)
        return np.asarray(self.D_cba.reshape(-1, R, s).sum(axis=2) + self.F_Y_reg)


def footprints(mrio: MRIO, ext: Extension, solver: LeontiefSolver | None = None) -> Footprints:
    """``M = S L`` and ``D_cba`` per consuming region and product (see the module docstring)."""
    M = multipliers(mrio, ext, solver)
    D = _by_product(mrio, M).reshape(M.shape[0], -1)
    return Footprints(
        ext.stressors, mrio.regions, mrio.sectors, M, D, final_demand_by_region(mrio, ext)
    )


@dataclass(frozen=True, eq=False)
class Accounts:
    """All four accounts of pymrio's ``calc_accounts`` plus regional totals and source regions."""

    extension: str
    stressors: tuple[str, ...]
    units: tuple[str, ...]
    regions: tuple[str, ...]
    sectors: tuple[str, ...]
    S: Array  # k × n
    M: Array  # k × n
    D_cba: Array  # k × n (consuming region, product)
    D_pba: Array  # k × n (producing region, sector)
    D_imp: Array  # k × n (consuming region, product)
    D_exp: Array  # k × n (producing region, sector)
    F_Y_reg: Array  # k × R
    source: Array  # k × R(source) × R(consumer): Σ_{p in q} S[k, p] · (L y_r)[p]

    def _reg(self, D: Array) -> Array:
        R, s = len(self.regions), len(self.sectors)
        return np.asarray(D.reshape(D.shape[0], R, s).sum(axis=2))

    @property
    def D_cba_reg(self) -> Array:
        return self._reg(self.D_cba) + self.F_Y_reg

    @property
    def D_pba_reg(self) -> Array:
        return self._reg(self.D_pba) + self.F_Y_reg

    @property
    def D_imp_reg(self) -> Array:
        return self._reg(self.D_imp)

    @property
    def D_exp_reg(self) -> Array:
        return self._reg(self.D_exp)

    def regional(self) -> dict[str, dict[str, dict[str, float]]]:
        """``{region: {production|consumption|imports|exports: {stressor: value}}}``."""
        tables = {
            "production": self.D_pba_reg,
            "consumption": self.D_cba_reg,
            "imports": self.D_imp_reg,
            "exports": self.D_exp_reg,
        }
        return {
            region: {
                name: {st: float(t[k, r]) for k, st in enumerate(self.stressors)}
                for name, t in tables.items()
            }
            for r, region in enumerate(self.regions)
        }


def accounts(mrio: MRIO, extension: str, solver: LeontiefSolver | None = None) -> Accounts:
    """Production, consumption, import and export accounts of one extension."""
    ext = mrio.extension(extension)
    solver = solver or solver_for(mrio)
    R, s = len(mrio.regions), len(mrio.sectors)
    k, n = len(ext.stressors), mrio.n
    S = intensities(mrio, ext)
    region = mrio.region_of()
    M = np.asarray(solver.solve_transposed(S.T).T)
    D_cba = _by_product(mrio, M).reshape(k, n)
    # M^{¬r} = (S with region r's columns zeroed) L for every r: k·R transposed solves, in
    # batches of at most RHS_BATCH columns so memory stays O(n · RHS_BATCH).
    D_imp = np.empty((k, R, s))
    Yr = mrio.Y_reg.reshape(R, s, R)
    per_batch = max(1, RHS_BATCH // k)
    for first in range(0, R, per_batch):
        regs = range(first, min(R, first + per_batch))
        rhs = np.concatenate([S.T * (region != r)[:, None] for r in regs], axis=1)
        sol = solver.solve_transposed(rhs)
        for i, r in enumerate(regs):
            Mr = sol[:, k * i : k * (i + 1)].T.reshape(k, R, s)
            D_imp[:, r, :] = np.einsum("kqs,qs->ks", Mr, Yr[:, :, r])
    X = solver.solve(mrio.Y_reg)  # n × R: L y_r
    x_tot = X.sum(axis=1)
    x_exp = x_tot - X[np.arange(n), region]
    source = np.stack(
        [(S[:, region == q] @ X[region == q, :]) for q in range(R)], axis=1
    )  # k × R × R
    return Accounts(
        extension=ext.name,
        stressors=ext.stressors,
        units=ext.units,
        regions=mrio.regions,
        sectors=mrio.sectors,
        S=S,
        M=M,
        D_cba=D_cba,
        D_pba=S * x_tot[None, :],
        D_imp=D_imp.reshape(k, n),
        D_exp=S * x_exp[None, :],
        F_Y_reg=final_demand_by_region(mrio, ext),
        source=source,
    )
