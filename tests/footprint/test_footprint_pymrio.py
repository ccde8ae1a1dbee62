"""Equality with pymrio's calc_all() on its test system (issue 7: every account, every region,
every stressor, within 1e-9 relative), for both solver methods, and through our Parquet layout."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pymrio
import pytest

from keten.footprint.accounts import (
    accounts,
    downstream_multipliers,
    multipliers,
    solver_for,
    upstream_multipliers,
)
from keten.footprint.mrio import MRIO
from keten.io.footprint_files import load_mrio, read_parquet_mrio, write_parquet_mrio

RTOL = 1e-9


@pytest.fixture(scope="module")
def reference() -> pymrio.IOSystem:
    io = pymrio.load_test()
    io.calc_all(include_ghosh=True)
    return io


@pytest.fixture(scope="module")
def ours() -> MRIO:
    return load_mrio("pymrio-test")


def close(ours: np.ndarray, theirs: object) -> None:
    ref = np.asarray(theirs, dtype=float)
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, rtol=RTOL, atol=0)


@pytest.mark.parametrize("method", ["lu", "block"])
@pytest.mark.parametrize("extension", ["emissions", "factor_inputs"])
def test_every_account_equals_pymrio(
    ours: MRIO, reference: pymrio.IOSystem, method: str, extension: str
) -> None:
    ext_ref = getattr(reference, extension)
    acc = accounts(ours, extension, solver_for(ours, method))  # type: ignore[arg-type]
    # sector level: columns in the same region-major order as pymrio's
    for name in ("D_cba", "D_pba", "D_imp", "D_exp", "M", "S"):
        close(getattr(acc, name), getattr(ext_ref, name))
    for name in ("D_cba_reg", "D_pba_reg", "D_imp_reg", "D_exp_reg"):
        close(getattr(acc, name), getattr(ext_ref, name))
    assert list(acc.regions) == list(ext_ref.D_cba_reg.columns)


def test_regional_json_shape_matches_pymrio(ours: MRIO, reference: pymrio.IOSystem) -> None:
    acc = accounts(ours, "emissions")
    regional = acc.regional()
    e = reference.emissions
    for r in ours.regions:
        for i, st in enumerate(acc.stressors):
            ref_idx = e.D_cba_reg.index[i]
            assert st == "/".join(ref_idx)  # FP-02
            for key, frame in (
                ("production", e.D_pba_reg),
                ("consumption", e.D_cba_reg),
                ("imports", e.D_imp_reg),
                ("exports", e.D_exp_reg),
            ):
                ref = float(frame.loc[ref_idx, r])
                assert regional[r][key][st] == pytest.approx(ref, rel=RTOL)


def test_multiplier_views_equal_pymrio(ours: MRIO, reference: pymrio.IOSystem) -> None:
    ext = ours.extension("emissions")
    M = multipliers(ours, ext)
    close(M, reference.emissions.M)
    close(upstream_multipliers(ours, ext, M), reference.emissions.M - reference.emissions.S)
    close(downstream_multipliers(ours, ext), reference.emissions.M_down)


def test_final_demand_emissions_are_in_production_and_consumption(ours: MRIO) -> None:
    """FP-05: F_Y adds to D_pba_reg and D_cba_reg, not to imports or exports."""
    acc = accounts(ours, "emissions")
    fy = acc.F_Y_reg
    assert fy.sum() > 0
    np.testing.assert_allclose(acc.D_cba_reg - acc._reg(acc.D_cba), fy)
    np.testing.assert_allclose(acc.D_pba_reg - acc._reg(acc.D_pba), fy)
    # global totals: consumption = production (every emission is someone's footprint)
    np.testing.assert_allclose(acc.D_cba_reg.sum(axis=1), acc.D_pba_reg.sum(axis=1), rtol=1e-12)


def test_parquet_layout_round_trip(ours: MRIO, reference: pymrio.IOSystem, tmp_path: Path) -> None:
    write_parquet_mrio(ours, tmp_path / "m")
    back = load_mrio(str(tmp_path / "m"))
    assert back.regions == ours.regions and back.categories == ours.categories
    acc = accounts(back, "emissions")
    close(acc.D_cba_reg, reference.emissions.D_cba_reg)
    close(acc.D_imp, reference.emissions.D_imp)
    assert read_parquet_mrio(tmp_path / "m").unit == "Mill USD"


def test_pymrio_folder_is_read_through_pymrio(tmp_path: Path, reference: pymrio.IOSystem) -> None:
    io = pymrio.load_test()
    io.save_all(tmp_path / "saved")
    m = load_mrio(str(tmp_path / "saved"))
    close(accounts(m, "emissions").D_cba_reg, reference.emissions.D_cba_reg)
