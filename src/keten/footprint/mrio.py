"""The MRIO system: regions × sectors, flows, final demand and environmental extensions.

Notation (Miller & Blair 2009; pymrio ``doc/source/math.rst``), n = regions × sectors, region-major
(all sectors of the first region, then the second, ...):

* ``Z`` (n × n) inter-industry flows, block ``Z_ij`` = deliveries from region i to region j;
* ``Y`` (n × R·C) final demand, columns region-major by final-demand category;
* ``x = Z e + Y e`` gross output;  ``A = Z x̂⁻¹`` technical coefficients;
* ``F`` (k × n) stressors by producing sector, ``F_Y`` (k × R·C) direct final-demand stressors
  (e.g. household car fuel);  ``S = F x̂⁻¹`` intensities.

Division by a zero output gives 0 (a sector that produces nothing has no coefficients), exactly as
pymrio's ``calc_A``/``calc_S`` (FP-01). ``A`` is kept sparse (CSC).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from keten.core.errors import InputError
from keten.core.messages import msg

Array = npt.NDArray[np.float64]

#: Name separator for stressors read from a multi-level index (FP-02).
STRESSOR_JOIN = "/"


def safe_reciprocal(v: Array) -> Array:
    """``1 / v`` with 0 where ``v`` is 0 (FP-01)."""
    out = np.zeros_like(v, dtype=np.float64)
    nz = v != 0
    out[nz] = 1.0 / v[nz]
    return out


def _finite(name: str, a: Array | sp.spmatrix) -> None:
    data = a.data if sp.issparse(a) else a
    if not np.all(np.isfinite(data)):
        raise InputError(msg("contains NaN or infinite values"), field=name)


@dataclass(frozen=True, eq=False)
class Extension:
    """Satellite account: stressors (e.g. GHG in kg CO2e) by producing sector and final demand."""

    name: str
    stressors: tuple[str, ...]
    units: tuple[str, ...]
    F: Array  # k × n
    F_Y: Array | None = None  # k × (R·C)

    def __post_init__(self) -> None:
        k = len(self.stressors)
        if k == 0:
            raise InputError(msg("an extension needs at least one stressor"), field=self.name)
        if len(set(self.stressors)) != k:
            raise InputError(msg("duplicate stressor names"), field=self.name)
        if len(self.units) != k:
            raise InputError(msg("one unit per stressor needed"), field=f"{self.name}.unit")
        if self.F.ndim != 2 or self.F.shape[0] != k:
            raise InputError(
                msg("F must have %(k)s rows (one per stressor)", k=k), field=f"{self.name}.F"
            )
        _finite(f"{self.name}.F", self.F)
        if self.F_Y is not None:
            if self.F_Y.ndim != 2 or self.F_Y.shape[0] != k:
                raise InputError(msg("F_Y must have %(k)s rows", k=k), field=f"{self.name}.F_Y")
            _finite(f"{self.name}.F_Y", self.F_Y)

    def index(self, stressor: str) -> int:
        try:
            return self.stressors.index(stressor)
        except ValueError:
            raise InputError(
                msg(
                    "unknown stressor %(stressor)s (known: %(stressors)s)",
                    stressor=repr(stressor),
                    stressors=", ".join(self.stressors),
                ),
                field="stressor",
            ) from None


@dataclass(frozen=True, eq=False)
class MRIO:
    """A multi-regional input-output system with its extensions.

    Build with :meth:`from_flows` (Z, Y[, x]) or :meth:`from_coefficients` (A, Y[, x]).
    ``unit`` is the monetary unit of Z, Y and x (e.g. ``M.EUR``); ``price_year`` the year of its
    prices (spend-based factors are deflated to it, FP-20); ``prices`` the valuation (``basic`` for
    EXIOBASE).
    """

    regions: tuple[str, ...]
    sectors: tuple[str, ...]
    categories: tuple[str, ...]
    A: sp.csc_matrix
    x: Array
    Y: Array
    extensions: dict[str, Extension] = field(default_factory=dict)
    unit: str = "M.EUR"
    year: int | None = None
    price_year: int | None = None
    prices: str = "basic"
    name: str = "mrio"

    def __post_init__(self) -> None:
        R, s, c = len(self.regions), len(self.sectors), len(self.categories)
        if R == 0 or s == 0 or c == 0:
            raise InputError(msg("needs at least one region, sector and final-demand category"))
        if len(set(self.regions)) != len(self.regions):
            raise InputError(msg("duplicate region names"), field="region")
        if len(set(self.sectors)) != len(self.sectors):
            raise InputError(msg("duplicate sector names"), field="sector")
        if len(set(self.categories)) != c:
            raise InputError(msg("duplicate final-demand categories"), field="category")
        n = R * s
        if self.A.shape != (n, n):
            raise InputError(
                msg("A must be %(n)s × %(n)s, is %(shape)s", n=n, shape=self.A.shape), field="A"
            )
        if self.x.shape != (n,):
            raise InputError(
                msg("x must have %(n)s entries, has %(shape)s", n=n, shape=self.x.shape), field="x"
            )
        if self.Y.shape != (n, R * c):
            raise InputError(
                msg("Y must be %(n)s × %(r)s, is %(shape)s", n=n, r=R * c, shape=self.Y.shape),
                field="Y",
            )
        for label, arr in (("A", self.A), ("x", self.x), ("Y", self.Y)):
            _finite(label, arr)
        if np.any(self.x < 0):
            raise InputError(msg("gross output x must not be negative"), field="x")
        for ext in self.extensions.values():
            if ext.F.shape[1] != n:
                raise InputError(msg("F must have %(n)s columns", n=n), field=f"{ext.name}.F")
            if ext.F_Y is not None and ext.F_Y.shape[1] != R * c:
                raise InputError(
                    msg("F_Y must have %(r)s columns", r=R * c), field=f"{ext.name}.F_Y"
                )

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_flows(
        cls,
        regions: tuple[str, ...],
        sectors: tuple[str, ...],
        categories: tuple[str, ...],
        Z: Array | sp.spmatrix,
        Y: Array,
        x: Array | None = None,
        **kw: object,
    ) -> MRIO:
        """From flows: ``x = Z e + Y e`` unless given; ``A = Z x̂⁻¹`` (FP-01)."""
        Zs = sp.csc_matrix(Z, dtype=np.float64)
        _finite("Z", Zs)
        Y = np.asarray(Y, dtype=np.float64)
        if Y.ndim != 2 or Y.shape[0] != Zs.shape[0]:
            raise InputError(msg("Y must have %(shape)s rows", shape=Zs.shape[0]), field="Y")
        _finite("Y", Y)
        if x is None:
            x = np.asarray(Zs.sum(axis=1)).ravel() + Y.sum(axis=1)
        x = np.asarray(x, dtype=np.float64).ravel()
        if x.shape != (Zs.shape[0],):
            raise InputError(msg("x must have %(shape)s entries", shape=Zs.shape[0]), field="x")
        A = sp.csc_matrix(Zs @ sp.diags(safe_reciprocal(x)))
        A.eliminate_zeros()
        return cls(regions, sectors, categories, A, x, Y, **kw)  # type: ignore[arg-type]

    @classmethod
    def from_coefficients(
        cls,
        regions: tuple[str, ...],
        sectors: tuple[str, ...],
        categories: tuple[str, ...],
        A: Array | sp.spmatrix,
        Y: Array,
        x: Array | None = None,
        **kw: object,
    ) -> MRIO:
        """From coefficients: ``x = L y`` (sparse solve) unless given."""
        As = sp.csc_matrix(A, dtype=np.float64)
        As.eliminate_zeros()
        Y = np.asarray(Y, dtype=np.float64)
        if x is None:
            from keten.footprint.solver import LeontiefSolver

            _finite("A", As)
            _finite("Y", Y)
            x = LeontiefSolver(As, len(regions)).solve(Y.sum(axis=1)[:, None])[:, 0]
        return cls(regions, sectors, categories, As, np.asarray(x, np.float64).ravel(), Y, **kw)  # type: ignore[arg-type]

    # ------------------------------------------------------------------ derived

    @property
    def n(self) -> int:
        return len(self.regions) * len(self.sectors)

    @cached_property
    def Z(self) -> sp.csc_matrix:
        """``Z = A x̂``."""
        return sp.csc_matrix(self.A @ sp.diags(self.x))

    @cached_property
    def Y_reg(self) -> Array:
        """Final demand summed over categories per consuming region (n × R)."""
        R, c = len(self.regions), len(self.categories)
        return np.asarray(self.Y.reshape(self.n, R, c).sum(axis=2))

    def extension(self, name: str) -> Extension:
        try:
            return self.extensions[name]
        except KeyError:
            known = ", ".join(sorted(self.extensions)) or "none"
            raise InputError(
                msg("unknown extension %(name)s (known: %(known)s)", name=repr(name), known=known),
                field="extension",
            ) from None

    def region_index(self, region: str) -> int:
        try:
            return self.regions.index(region)
        except ValueError:
            raise InputError(
                msg(
                    "unknown region %(region)s (known: %(regions)s)",
                    region=repr(region),
                    regions=", ".join(self.regions),
                ),
                field="region",
            ) from None

    def sector_index(self, sector: str) -> int:
        try:
            return self.sectors.index(sector)
        except ValueError:
            raise InputError(
                msg("unknown sector %(sector)s", sector=repr(sector)), field="sector"
            ) from None

    def position(self, region: str, sector: str) -> int:
        """Row/column of (region, sector) in the region-major ordering."""
        return self.region_index(region) * len(self.sectors) + self.sector_index(sector)

    def region_of(self) -> npt.NDArray[np.intp]:
        """Region number of each of the n rows."""
        return np.repeat(np.arange(len(self.regions)), len(self.sectors))
