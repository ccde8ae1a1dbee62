"""Leontief solves without the dense inverse.

``x = L y`` with ``L = (I − A)⁻¹`` is computed as the solution of ``(I − A) x = y``, and a row
multiplier ``M = S L`` as ``Mᵀ = (I − A)⁻ᵀ Sᵀ``: one factorisation, as many right-hand sides as
needed, never the n × n matrix ``L`` unless the caller asks for it (:meth:`LeontiefSolver.inverse`).

Two methods (FP-03):

* ``lu`` — one sparse LU factorisation of ``I − A`` (SuperLU, ``scipy.sparse.linalg.splu``,
  COLAMD ordering). Exact up to rounding; best for small and medium systems.
* ``block`` — for large MRIOs whose LU fills in (an EXIOBASE-sized ``I − A`` factorises into a
  nearly dense LU): split ``I − A = D − T`` with ``D = I − A_dom`` block diagonal (one block per
  region, the domestic coefficients) and ``T = A_trade ≥ 0`` (the import coefficients). The sparse
  LU of ``D`` has no fill across regions. Iterate ``X ← D⁻¹ (B + T X)`` (and ``X ← D⁻ᵀ (B + Tᵀ X)``
  for the transposed system) from ``X₀ = D⁻¹ B``. For a productive ``A ≥ 0`` this is a regular
  splitting of the non-singular M-matrix ``I − A``, so it converges (Varga, Matrix Iterative
  Analysis, thm 3.13); the iteration stops when the update of every column is at most
  ``tol`` (default 1e-14) times the column's largest entry and refuses to answer after
  ``max_iter`` steps.

``auto`` picks ``lu`` up to 3,000 sectors or for one region, else ``block``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from keten.core.errors import RuleError
from keten.core.messages import msg

Array = npt.NDArray[np.float64]
Method = Literal["auto", "lu", "block"]

LU_LIMIT = 3000


class LeontiefSolver:
    """Factorises ``I − A`` once and solves ``(I − A) X = B`` or ``(I − A)ᵀ X = B``."""

    def __init__(
        self,
        A: sp.spmatrix,
        regions: int,
        method: Method = "auto",
        tol: float = 1e-14,
        max_iter: int = 2000,
    ) -> None:
        n = A.shape[0]
        if A.shape != (n, n):
            raise RuleError(msg("A must be square, is %(shape)s", shape=A.shape))
        if regions < 1 or n % regions:
            raise RuleError(
                msg(
                    "%(n)s sectors cannot be split into %(regions)s equal regions",
                    n=n,
                    regions=regions,
                )
            )
        if method == "auto":
            method = "lu" if (n <= LU_LIMIT or regions == 1) else "block"
        self.n, self.regions, self.method = n, regions, method
        self.tol, self.max_iter = tol, max_iter
        self.iterations = 0
        A = sp.csc_matrix(A, dtype=np.float64)
        eye = sp.identity(n, format="csc", dtype=np.float64)
        try:
            if method == "lu":
                self._lu = splu(sp.csc_matrix(eye - A))
                self._T: sp.csr_matrix | None = None
                self._TT: sp.csr_matrix | None = None
            elif method == "block":
                size = n // regions
                coo = A.tocoo()
                dom = (coo.row // size) == (coo.col // size)
                A_dom = sp.csc_matrix((coo.data[dom], (coo.row[dom], coo.col[dom])), shape=(n, n))
                self._T = sp.csr_matrix(
                    (coo.data[~dom], (coo.row[~dom], coo.col[~dom])), shape=(n, n)
                )
                self._TT = sp.csr_matrix(self._T.T)
                self._lu = splu(sp.csc_matrix(eye - A_dom))
            else:
                raise RuleError(
                    msg("unknown solver method %(method)s (auto, lu, block)", method=repr(method))
                )
        except RuntimeError as exc:  # SuperLU: "Factor is exactly singular"
            raise RuleError(
                msg("I − A is singular, the MRIO is not productive (%(reason)s)", reason=str(exc))
            ) from None

    def solve(self, B: Array) -> Array:
        """``X = L B = (I − A)⁻¹ B`` for a n × m block of right-hand sides."""
        return self._solve(B, transpose=False)

    def solve_transposed(self, B: Array) -> Array:
        """``X = Lᵀ B``; with ``B = Sᵀ`` this gives ``Mᵀ = (S L)ᵀ``."""
        return self._solve(B, transpose=True)

    def inverse(self) -> Array:
        """The dense Leontief inverse ``L`` (n × n): only when a user asks for L itself."""
        return self.solve(np.eye(self.n))

    def _solve(self, B: Array, transpose: bool) -> Array:
        B = np.asarray(B, dtype=np.float64)
        vector = B.ndim == 1
        B2 = B[:, None] if vector else B
        if B2.shape[0] != self.n:
            raise RuleError(
                msg(
                    "right-hand side must have %(n)s rows, has %(shape)s",
                    n=self.n,
                    shape=B2.shape[0],
                )
            )
        trans = "T" if transpose else "N"
        if B2.shape[1] == 0:
            return B.copy()
        if self.method == "lu":
            X = self._lu.solve(np.asfortranarray(B2), trans=trans)
        else:
            X = self._iterate(B2, transpose, trans)
        if not np.all(np.isfinite(X)):
            raise RuleError(
                msg("I − A is singular or not productive: the solve gave non-finite values")
            )
        return np.asarray(X[:, 0] if vector else X)

    def _iterate(self, B: Array, transpose: bool, trans: str) -> Array:
        T = self._TT if transpose else self._T
        assert T is not None
        X = self._lu.solve(np.asfortranarray(B), trans=trans)
        for it in range(1, self.max_iter + 1):
            X_new = self._lu.solve(np.asfortranarray(B + T @ X), trans=trans)
            step = np.abs(X_new - X).max(axis=0)
            scale = np.abs(X_new).max(axis=0)
            X = X_new
            if np.all(step <= self.tol * scale):
                self.iterations = max(self.iterations, it)
                return np.asarray(X, dtype=np.float64)
            if not np.all(np.isfinite(step)):
                break
        raise RuleError(
            msg(
                "the block iteration did not converge in %(max_iter)s steps (is the MRIO "
                "productive, with column sums of A below 1?)",
                max_iter=self.max_iter,
            )
        )
