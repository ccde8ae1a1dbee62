"""The hand-checkable 2-region × 2-sector MRIO used by the footprint tests and docs/footprint.md.

Order (region-major): NL.goods, NL.services, CN.goods, CN.services. Money unit EUR, price year
2020, one stressor GHG in kg.

    A = [[0.2, 0, 0,   0],      S (kg/EUR) = [1, 0.5, 3, 1]
         [0,   0, 0,   0],      y_NL = [50, 40, 10, 0]     (households of NL)
         [0.4, 0, 0.5, 0],      y_CN = [0, 0, 30, 20]      (households of CN)
         [0,   0, 0,   0]]      F_Y: NL households emit 10 kg directly

    L = (I − A)⁻¹: L00 = 1/0.8 = 1.25, L22 = 1/0.5 = 2, L20 = 0.4 · 2 · 1.25 = 1, else identity.
    x = L (y_NL + y_CN) = [1.25·50, 40, 1·50 + 2·40, 20] = [62.5, 40, 130, 20]
    F = S x̂ = [62.5, 20, 390, 20]
"""

from __future__ import annotations

import numpy as np

from keten.footprint.mrio import MRIO, Extension

A = np.array(
    [
        [0.2, 0.0, 0.0, 0.0],
        [0.0, 0.0, 0.0, 0.0],
        [0.4, 0.0, 0.5, 0.0],
        [0.0, 0.0, 0.0, 0.0],
    ]
)
X = np.array([62.5, 40.0, 130.0, 20.0])
S = np.array([1.0, 0.5, 3.0, 1.0])
Y = np.array([[50.0, 0.0], [40.0, 0.0], [10.0, 30.0], [0.0, 20.0]])


def tiny(with_fy: bool = True, a: np.ndarray | None = None) -> MRIO:
    """The tiny MRIO from flows Z = A x̂ (so x = Z e + Y e is recomputed and checked)."""
    a = A if a is None else a
    Z = a * X[None, :]
    fy = np.array([[10.0, 0.0]]) if with_fy else None
    x = Z.sum(axis=1) + Y.sum(axis=1)
    ext = Extension("emissions", ("GHG",), ("kg",), (S * x)[None, :], fy)
    return MRIO.from_flows(
        ("NL", "CN"),
        ("goods", "services"),
        ("households",),
        Z,
        Y,
        extensions={"emissions": ext},
        unit="EUR",
        year=2020,
        price_year=2020,
        name="tiny",
    )
