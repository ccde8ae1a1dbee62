"""Hand-worked 2-region × 2-sector example (footprint_tiny.py; docs/footprint.md). Every number
below is worked out by hand in the comments; the engine must reproduce it."""

from __future__ import annotations

import numpy as np
import pytest
from footprint_tiny import tiny

from keten.footprint.accounts import (
    accounts,
    downstream_multipliers,
    leontief_inverse,
    multipliers,
    upstream_multipliers,
)
from keten.footprint.national import Target, distance_to_targets, national_view


def test_leontief_inverse_by_hand() -> None:
    # L00 = 1/(1 − 0.2) = 1.25; L22 = 1/(1 − 0.5) = 2; L20 = 0.4 · L22 · L00 = 0.4 · 2 · 1.25 = 1
    L = leontief_inverse(tiny())
    expected = np.array([[1.25, 0, 0, 0], [0, 1, 0, 0], [1, 0, 2, 0], [0, 0, 0, 1]])
    np.testing.assert_allclose(L, expected, rtol=1e-14, atol=1e-15)


def test_output_and_stressors_by_hand() -> None:
    m = tiny()
    # x = Z e + Y e = [12.5 + 50, 40, 25 + 65 + 40, 20] = [62.5, 40, 130, 20]
    np.testing.assert_allclose(m.x, [62.5, 40, 130, 20])
    np.testing.assert_allclose(m.A.toarray()[2, 0], 0.4)


def test_multipliers_by_hand() -> None:
    m = tiny()
    ext = m.extension("emissions")
    M = multipliers(m, ext)
    # M = S L: NL.goods = 1·1.25 + 3·1 = 4.25; NL.services = 0.5; CN.goods = 3·2 = 6;
    # CN.services = 1
    np.testing.assert_allclose(M[0], [4.25, 0.5, 6.0, 1.0], rtol=1e-14)
    # upstream M − S = [3.25, 0, 3, 0]
    np.testing.assert_allclose(upstream_multipliers(m, ext, M)[0], [3.25, 0, 3, 0], atol=1e-14)
    # downstream (Ghosh) M_down[j] = Σ_i S_i L[j, i] x_i / x_j − S_j:
    #   NL.goods: 1 · 1.25 · 62.5 / 62.5 − 1 = 0.25
    #   CN.goods: (1 · 1 · 62.5 + 3 · 2 · 130) / 130 − 3 = 842.5 / 130 − 3 = 452.5 / 130
    down = downstream_multipliers(m, ext)[0]
    np.testing.assert_allclose(down, [0.25, 0, 452.5 / 130, 0], atol=1e-13)


def test_accounts_by_hand() -> None:
    acc = accounts(tiny(), "emissions")
    R = acc.regional()
    # consumption NL = goods (4.25·50 + 6·10 = 272.5) + services (0.5·40 = 20) + F_Y 10 = 302.5
    # consumption CN = goods 6·30 = 180 + services 1·20 = 20 = 200
    assert R["NL"]["consumption"]["GHG"] == pytest.approx(302.5, rel=1e-14)
    assert R["CN"]["consumption"]["GHG"] == pytest.approx(200.0, rel=1e-14)
    np.testing.assert_allclose(acc.D_cba[0], [272.5, 20, 180, 20], rtol=1e-14)
    # production NL = 1·62.5 + 0.5·40 + F_Y 10 = 92.5; CN = 3·130 + 1·20 = 410
    assert R["NL"]["production"]["GHG"] == pytest.approx(92.5, rel=1e-14)
    assert R["CN"]["production"]["GHG"] == pytest.approx(410.0, rel=1e-14)
    # imports NL: L y_NL = [62.5, 40, 1·50 + 2·10 = 70, 0]; emitted in CN: 3·70 = 210 (all goods)
    assert R["NL"]["imports"]["GHG"] == pytest.approx(210.0, rel=1e-14)
    np.testing.assert_allclose(acc.D_imp[0], [210, 0, 0, 0], atol=1e-12)
    assert R["CN"]["imports"]["GHG"] == pytest.approx(0.0, abs=1e-12)
    # exports: CN.goods produces 70 for NL's final demand → 3·70 = 210; NL exports nothing
    assert R["CN"]["exports"]["GHG"] == pytest.approx(210.0, rel=1e-14)
    assert R["NL"]["exports"]["GHG"] == pytest.approx(0.0, abs=1e-12)
    # balance NL = consumption − production = 302.5 − 92.5 = 210 = imports − exports
    assert R["NL"]["consumption"]["GHG"] - R["NL"]["production"]["GHG"] == pytest.approx(210)


def test_national_view_by_hand() -> None:
    """FP-07: NL's own F_Y counts as domestic."""
    v = national_view(accounts(tiny(), "emissions"), "NL", "GHG", year=2020)
    # total 302.5 = domestic (62.5 + 20 + F_Y 10 = 92.5) + abroad 210
    assert (v.total, v.domestic, v.abroad) == pytest.approx((302.5, 92.5, 210.0), rel=1e-14)
    assert v.abroad_share == pytest.approx(210 / 302.5)
    assert v.by_source == pytest.approx({"NL": 92.5, "CN": 210.0})
    # goods: total 272.5 of which abroad 210, domestic 62.5; services 20 all domestic
    assert v.by_group["goods"] == pytest.approx({"total": 272.5, "domestic": 62.5, "abroad": 210})
    assert v.by_group["services"] == pytest.approx({"total": 20, "domestic": 20, "abroad": 0})
    assert v.by_group["final demand (direct)"]["total"] == 10
    assert v.balance == pytest.approx(210.0)


def test_product_groups_and_targets() -> None:
    acc = accounts(tiny(), "emissions")
    groups = {"goods": "products", "services": "products"}
    v = national_view(acc, "NL", "GHG", year=2020, groups=groups)
    assert v.by_group["products"]["total"] == pytest.approx(292.5)
    # FP-08: target 2030 total 242 → distance 302.5 − 242 = 60.5 (20 % of 302.5);
    # linear path: −60.5 / (2030 − 2020) = −6.05 per year
    (d,) = distance_to_targets([v], [Target(2030, 242.0, "total")])
    assert d.distance == pytest.approx(60.5)
    assert d.distance_pct == pytest.approx(20.0)
    assert d.annual_change_needed == pytest.approx(-6.05)
    assert not d.met
    (d2,) = distance_to_targets([v], [Target(2025, 250.0, "abroad")])
    assert d2.met and d2.distance == pytest.approx(-40.0)


def test_time_series_uses_latest_year_before_target() -> None:
    a = national_view(accounts(tiny(), "emissions"), "NL", "GHG", year=2018)
    b = national_view(accounts(tiny(with_fy=False), "emissions"), "NL", "GHG", year=2020)
    (d,) = distance_to_targets([a, b], [Target(2019, 300.0)])
    assert d.latest_year == 2018 and d.latest_value == pytest.approx(302.5)
    (d,) = distance_to_targets([a, b], [Target(2030, 300.0)])
    assert d.latest_year == 2020 and d.latest_value == pytest.approx(292.5)
