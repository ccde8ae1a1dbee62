"""Solver, synthetic generator and MRIO construction: properties and bad input."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from footprint_tiny import tiny

from keten.core.errors import InputError, RuleError
from keten.footprint.accounts import accounts, footprints, solver_for
from keten.footprint.mrio import MRIO, Extension
from keten.footprint.solver import LeontiefSolver
from keten.footprint.synthetic import synthetic_mrio


@pytest.mark.parametrize("seed", [0, 1])
def test_block_iteration_equals_sparse_lu(seed: int) -> None:
    m = synthetic_mrio(6, 30, 3, 3, seed=seed)
    a = accounts(m, "emissions", solver_for(m, "lu"))
    b = accounts(m, "emissions", solver_for(m, "block"))
    for name in ("M", "D_cba", "D_pba", "D_imp", "D_exp"):
        np.testing.assert_allclose(getattr(b, name), getattr(a, name), rtol=1e-11, atol=1e-9)


def test_accounts_identities_on_synthetic() -> None:
    m = synthetic_mrio(5, 20, 2, 2, seed=3)
    acc = accounts(m, "emissions")
    F = m.extension("emissions").F
    # every emission is in exactly one region's footprint
    np.testing.assert_allclose(acc._reg(acc.D_cba).sum(axis=1), F.sum(axis=1), rtol=1e-10)
    # production per sector = F (x is balanced)
    np.testing.assert_allclose(acc.D_pba, F, rtol=1e-9, atol=1e-9)
    # imports = Σ source regions ≠ own; domestic + abroad = footprint
    R = len(m.regions)
    for r in range(R):
        abroad = sum(acc.source[:, q, r] for q in range(R) if q != r)
        np.testing.assert_allclose(acc.D_imp_reg[:, r], abroad, rtol=1e-9)
    # world imports = world exports (embodied trade balances)
    np.testing.assert_allclose(acc.D_imp_reg.sum(axis=1), acc.D_exp_reg.sum(axis=1), rtol=1e-9)
    fp = footprints(m, m.extension("emissions"))
    np.testing.assert_allclose(fp.D_cba_reg, acc.D_cba_reg, rtol=1e-12)


def test_generator_structure() -> None:
    m = synthetic_mrio(4, 50, 2, 1, seed=7, inactive_share=0.1)
    A = m.A.toarray()
    assert (A >= 0).all() and A.sum(axis=0).max() < 0.71
    region = m.region_of()
    dom = region[:, None] == region[None, :]
    density_dom = (A[dom] > 0).mean()
    density_trade = (A[~dom] > 0).mean()
    assert density_dom > 5 * density_trade  # EXIOBASE-like: domestic blocks much denser
    inactive = m.x == 0
    assert inactive.any() and (A[inactive] == 0).all() and (A[:, inactive] == 0).all()
    # balanced: x = Z e + Y e
    np.testing.assert_allclose(m.Z.sum(axis=1).A1 + m.Y.sum(axis=1), m.x, rtol=1e-10, atol=1e-9)
    assert synthetic_mrio(4, 50, 2, 1, seed=7, inactive_share=0.1).A.nnz == m.A.nnz  # seeded


def test_generator_bad_arguments() -> None:
    with pytest.raises(InputError):
        synthetic_mrio(0, 5)
    with pytest.raises(InputError, match="domestic_density"):
        synthetic_mrio(2, 5, domestic_density=1.5)


def test_solver_refuses_singular_and_unproductive() -> None:
    with pytest.raises(RuleError, match="singular"):
        LeontiefSolver(sp.csc_matrix(np.eye(2)), 1, method="lu")
    unproductive = sp.csc_matrix(np.array([[0.5, 0.9], [0.9, 0.5]]) * 1.0)
    s = LeontiefSolver(unproductive, 2, method="block", max_iter=50)
    with pytest.raises(RuleError, match="converge"):
        s.solve(np.ones(2))
    with pytest.raises(RuleError, match="equal regions"):
        LeontiefSolver(sp.csc_matrix((3, 3)), 2)
    with pytest.raises(RuleError, match="unknown solver"):
        LeontiefSolver(sp.csc_matrix((2, 2)), 1, method="qr")  # type: ignore[arg-type]
    with pytest.raises(RuleError, match="rows"):
        LeontiefSolver(sp.csc_matrix((2, 2)), 1).solve(np.ones(3))


def test_from_coefficients_computes_x() -> None:
    t = tiny()
    m = MRIO.from_coefficients(t.regions, t.sectors, t.categories, t.A, t.Y)
    np.testing.assert_allclose(m.x, [62.5, 40, 130, 20])


def _ext(F: np.ndarray, FY: np.ndarray | None = None) -> Extension:
    return Extension("e", ("GHG",), ("kg",), F, FY)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"x": np.array([1.0, 2.0, 3.0])}, "x"),
        ({"x": np.array([1.0, -2.0, 3.0, 4.0])}, "x"),
        ({"x": np.array([1.0, np.nan, 3.0, 4.0])}, "x"),
        ({"Y": np.ones((4, 3))}, "Y"),
        ({"A": sp.csc_matrix((3, 3))}, "A"),
        ({"regions": ("NL", "NL")}, "region"),
        ({"extensions": {"e": _ext(np.ones((1, 3)))}}, "e.F"),
        ({"extensions": {"e": _ext(np.ones((1, 4)), np.ones((1, 3)))}}, "e.F_Y"),
    ],
)
def test_bad_mrio(kwargs: dict[str, object], field: str) -> None:
    t = tiny()
    base: dict[str, object] = {
        "regions": t.regions,
        "sectors": t.sectors,
        "categories": t.categories,
        "A": t.A,
        "x": t.x,
        "Y": t.Y,
    }
    base.update(kwargs)
    with pytest.raises(InputError) as err:
        MRIO(**base)  # type: ignore[arg-type]
    assert err.value.field == field


def test_bad_extensions() -> None:
    with pytest.raises(InputError, match="at least one"):
        Extension("e", (), (), np.ones((0, 4)))
    with pytest.raises(InputError, match="duplicate"):
        Extension("e", ("a", "a"), ("kg", "kg"), np.ones((2, 4)))
    with pytest.raises(InputError, match="NaN"):
        _ext(np.array([[1.0, np.inf, 0, 0]]))
    with pytest.raises(InputError, match="unknown extension"):
        tiny().extension("water")
    with pytest.raises(InputError, match="unknown stressor"):
        tiny().extension("emissions").index("CO2")


def test_import_account_batches_give_the_same_result(monkeypatch: pytest.MonkeyPatch) -> None:
    import keten.footprint.accounts as acc_mod

    m = synthetic_mrio(5, 10, 2, 3, seed=9)
    whole = accounts(m, "emissions")
    monkeypatch.setattr(acc_mod, "RHS_BATCH", 4)  # 1 region (3 columns) per batch
    batched = accounts(m, "emissions")
    np.testing.assert_allclose(batched.D_imp, whole.D_imp, rtol=1e-13, atol=1e-12)
