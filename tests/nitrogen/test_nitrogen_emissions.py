"""Worked cases for farm housing emissions (Rav bijlage 1 method; Rav eindnoot 3; NH-01..NH-07).

Emission factors used (params/nitrogen/common/housing_ef.yaml, research/stikstof.md §1.1):
A 1.100 13,0; A 3.100 4,4; D 3.100 3,0 (traditional vleesvarkens); D 3.1 4,5; D 3.2.14 0,15.
Air-scrubber floor fraction 0.3 (Rav eindnoot 3). Scrubber reductions (NH-04, inferred from the
Rav system names): LW-CHEM-70 0.70, LW-BIO-70 0.70, LW-CHEM-95 0.95.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from keten.core.errors import ParameterError, RuleError
from keten.core.params import load_set
from keten.core.trace import Trace
from keten.io.nitrogen_files import load_catalogue, read_systems
from keten.nitrogen.catalogue import Catalogue
from keten.nitrogen.emissions import Additional, Housing, farm_emissions, housing_emission

D = Decimal


@pytest.fixture(scope="module")
def cat() -> Catalogue:
    return load_catalogue(load_set("nitrogen", "vervolgpakket-2025"))


def e(cat: Catalogue, h: Housing, year: int = 2025) -> Decimal:
    return housing_emission(h, cat, year).nh3_kg


@pytest.mark.parametrize(
    ("code", "value"),
    [
        ("A1.100", "13.0"),
        ("A1.1", "5.7"),
        ("A1.5", "11.8"),
        ("A1.9", "6.0"),
        ("A1.13", "7.7"),
        ("A2.100", "4.1"),
        ("A3.100", "4.4"),
        ("A4.100", "3.5"),
        ("A6.100", "5.3"),
        ("A7.100", "6.2"),
        ("B1.100", "0.7"),
        ("C1.100", "1.9"),
        ("C2.100", "0.8"),
        ("C3.100", "0.2"),
        ("D1.1.100", "0.69"),
        ("D1.2.100", "8.3"),
        ("D1.3.100", "4.2"),
        ("D1.3.101", "4.2"),
        ("D2.100", "5.5"),
        ("D3.100", "3.0"),
        ("D3.1", "4.5"),
        ("D3.2.14", "0.15"),
        ("E1.100", "0.170"),
        ("E1.101", "0.045"),
        ("E2.100", "0.315"),
        ("E2.101", "0.100"),
        ("E3.100", "0.250"),
        ("E4.100", "0.580"),
        ("E5.100", "0.080"),
        ("F4.100", "0.68"),
        ("G2.1.100", "0.210"),
        ("I1.100", "1.20"),
        ("K1.100", "5.0"),
    ],
)
def test_catalogue_pinned_to_rav_table(cat: Catalogue, code: str, value: str) -> None:
    """Every factor equals the research table (Rav bijlage 1, 2015 version), digit for digit."""
    pv = cat.params.get(f"nitrogen.ef_nh3.{code}", 2025)
    assert pv.value == D(value)
    assert pv.status == "source" and "Rav bijlage 1" in pv.source
    assert 1 * pv.value == e(cat, Housing("f", 1, code))


def test_every_catalogue_row_has_a_sourced_parameter(cat: Catalogue) -> None:
    for s in read_systems():
        assert s.parameter in cat.params
        assert s.source
    assert set(cat.traditional) >= {"A1", "D3", "E2"}


def test_no_additional_system(cat: Catalogue) -> None:
    # 100 × 13,0 = 1300
    assert e(cat, Housing("f", 100, "A1.100")) == D(1300)


def test_one_additional_system_custom(cat: Catalogue) -> None:
    # 40 × 4,4 = 176; × (1 − 0,25) = 132
    assert e(cat, Housing("f", 40, "A3.100", additional=(Additional(None, D("0.25")),))) == 132


def test_two_additional_systems_multiply(cat: Catalogue) -> None:
    # 1000 × 3,0 = 3000; × 0,8 = 2400; × 0,9 = 2160 (reductions multiply, Rav art. 2 / NH-01)
    adds = (Additional(None, D("0.2")), Additional(None, D("0.1")))
    assert e(cat, Housing("f", 1000, "D3.100", additional=adds)) == D(2160)


def test_scrubber_floor_binds(cat: Catalogue) -> None:
    # D 3.2.14 0,15 < 0,3 × D 3.100 3,0 = 0,9 → factor 0,9; 1000 × 0,9 × (1 − 0,70) = 270
    h = Housing("f", 1000, "D3.2.14", additional=(Additional("LW-CHEM-70"),))
    r = housing_emission(h, cat, 2025)
    assert r.factor_used == D("0.9") and r.nh3_kg == D(270)


def test_scrubber_floor_does_not_bind(cat: Catalogue) -> None:
    # D 3.1 4,5 > 0,9 → factor 4,5; 1000 × 4,5 × 0,30 = 1350
    h = Housing("f", 1000, "D3.1", additional=(Additional("LW-BIO-70"),))
    assert e(cat, h) == D(1350)


def test_non_scrubber_reduction_has_no_floor(cat: Catalogue) -> None:
    # D 3.2.14 0,15 with a custom (non-scrubber) 50 %: 1000 × 0,15 × 0,5 = 75 (no floor)
    h = Housing("f", 1000, "D3.2.14", additional=(Additional(None, D("0.5")),))
    assert e(cat, h) == D(75)


def test_custom_housing_with_custom_scrubber(cat: Catalogue) -> None:
    # custom EF 0,5, traditional 2,0: floor 0,3 × 2,0 = 0,6 > 0,5; 100 × 0,6 × 0,5 = 30 (NH-05)
    h = Housing("f", 100, None, D("0.5"), D("2.0"), (Additional(None, D("0.5"), True),))
    assert e(cat, h) == D(30)


def test_custom_scrubber_on_catalogue_housing_uses_catalogue_traditional(cat: Catalogue) -> None:
    # A1.9 6,0 vs 0,3 × 13,0 = 3,9 → 6,0; 10 × 6 × 0,2 = 12
    h = Housing("f", 10, "A1.9", additional=(Additional(None, D("0.8"), True),))
    assert e(cat, h) == D(12)


def test_custom_scrubber_without_traditional_is_refused(cat: Catalogue) -> None:
    h = Housing("f", 100, None, D("0.5"), None, (Additional(None, D("0.5"), True),))
    with pytest.raises(RuleError, match="traditional_ef_nh3"):
        e(cat, h)


def test_h_alias_same_value_but_flagged(cat: Catalogue) -> None:
    """NH-02: HA1.100 = A1.100 (13,0), and the result names the unverified assumption."""
    t = Trace(cat.params)
    r = housing_emission(Housing("f", 100, "HA1.100"), cat, 2025, t)
    assert r.nh3_kg == D(1300)
    assert "nitrogen.catalogue.h_alias_same_value" in {p.name for p in t.flagged()}


def test_spaced_rav_code_is_accepted(cat: Catalogue) -> None:
    assert e(cat, Housing("f", 2, "A 1.100")) == D(26)


def test_removed_system_outside_coverage(cat: Catalogue) -> None:
    """A 1.17 was removed per 1 January 2019: 2018 works (10 × 5,1 = 51), 2025 is an error."""
    assert e(cat, Housing("f", 10, "A1.17"), 2018) == D(51)
    with pytest.raises(ParameterError, match=r"A1\.17"):
        e(cat, Housing("f", 10, "A1.17"), 2025)


def test_unknown_code(cat: Catalogue) -> None:
    with pytest.raises(RuleError, match="unknown"):
        e(cat, Housing("f", 1, "Z9.999"))


@pytest.mark.parametrize("r", ["1", "1.5", "-0.1"])
def test_reduction_outside_unit_interval(cat: Catalogue, r: str) -> None:
    with pytest.raises(RuleError, match=r"outside \[0, 1\)"):
        e(cat, Housing("f", 1, "A1.100", additional=(Additional(None, D(r)),)))


def test_negative_animals(cat: Catalogue) -> None:
    with pytest.raises(RuleError, match="negative"):
        e(cat, Housing("f", -1, "A1.100"))


def test_additional_code_as_housing_is_refused(cat: Catalogue) -> None:
    with pytest.raises(RuleError, match="additional system"):
        e(cat, Housing("f", 1, "LW-CHEM-95"))


def test_housing_code_as_additional_is_refused(cat: Catalogue) -> None:
    with pytest.raises(RuleError, match="housing system"):
        e(cat, Housing("f", 1, "A1.100", additional=(Additional("A1.1"),)))


def test_farm_total_and_trace(cat: Catalogue) -> None:
    # 1300 + 132 = 1432
    farms = farm_emissions(
        [
            Housing("m", 100, "A1.100"),
            Housing("m", 40, "A3.100", additional=(Additional(None, D("0.25")),)),
        ],
        cat,
        2025,
        explain=True,
    )
    assert farms[0].nh3_kg == D(1432)
    assert farms[0].trace is not None
    assert farms[0].trace.steps[-1].formula == "1300 + 132"
