"""The shared housing plans (NH-48) give exactly the traced per-row results.

Without ``explain``, :func:`farm_emissions` and :func:`farm_norms` compute the factor used and the
reductions once per distinct housing description and multiply them out per row; with ``explain``
every row goes through :func:`housing_emission` with its trace. Both must give the same Decimal
(same digits and exponent: compared as text) and the same errors, for any mix of rows.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keten.core.errors import InputError, KetenError, RuleError
from keten.core.params import load_set
from keten.io.nitrogen_files import load_catalogue, read_housings, read_ladder
from keten.nitrogen.catalogue import Catalogue
from keten.nitrogen.emissions import (
    Additional,
    FarmEmission,
    Housing,
    PlanCache,
    farm_emissions,
    plan_key,
)
from keten.nitrogen.norms import farm_norms

D = Decimal
CAT = load_catalogue(load_set("nitrogen", "vervolgpakket-2025"))
LADDER = read_ladder()
HOUSING_CODES = ["A1.100", "A1.1", "HA1.9", "a 3.100", "D3.100", "D3.1", "D3.2.14", "E2.101"]
ADD_CODES = ["LW-CHEM-70", "LW-BIO-70", "HLW-CHEM-95"]
# equal values written differently: 0.2 and 0.20 must not share a plan (exponents differ)
FRACTIONS = ["0", "0.2", "0.20", "0.1", "0.25", "0.999999", "0.5"]


@pytest.fixture(scope="module")
def cat() -> Catalogue:
    return CAT


def additional() -> st.SearchStrategy[Additional]:
    return st.one_of(
        st.sampled_from(ADD_CODES).map(Additional),
        st.builds(
            lambda f, s: Additional(None, D(f), s), st.sampled_from(FRACTIONS), st.booleans()
        ),
    )


def housing() -> st.SearchStrategy[Housing]:
    adds = st.lists(additional(), max_size=3).map(tuple)
    catalogue = st.builds(
        lambda f, n, c, a: Housing(f, n, c, additional=a),
        st.sampled_from(["f1", "f2", "f3"]),
        st.integers(0, 10_000_000),
        st.sampled_from(HOUSING_CODES),
        adds,
    )
    custom = st.builds(
        lambda f, n, ef, trad, a: Housing(f, n, None, D(ef), D(trad), a),
        st.sampled_from(["f1", "f4"]),
        st.integers(0, 100_000),
        st.sampled_from(["0.5", "0.50", "2", "13.000001"]),
        st.sampled_from(["2.0", "2", "0.1"]),
        adds,
    )
    return st.one_of(catalogue, custom)


def as_text(farms: list[FarmEmission]) -> list[tuple[str, ...]]:
    return [
        (
            f.farm_id,
            str(f.nh3_kg),
            *(f"{h.housing_code}|{h.animals}|{h.nh3_kg}|{h.factor_used}" for h in f.housings),
        )
        for f in farms
    ]


@settings(max_examples=150, deadline=None)
@given(st.lists(housing(), min_size=1, max_size=12), st.sampled_from([2018, 2025]))
def test_emissions_fast_equals_traced(rows: list[Housing], year: int) -> None:
    try:
        slow = farm_emissions(rows, CAT, year, explain=True)
    except KetenError as exc:
        with pytest.raises(type(exc)) as fast_exc:
            farm_emissions(rows, CAT, year)
        assert str(fast_exc.value) == str(exc)
        return
    fast = farm_emissions(rows, CAT, year)
    assert as_text(fast) == as_text(slow)
    assert all(f.trace is None for f in fast)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(housing(), min_size=1, max_size=10),
    st.sampled_from(["proportional", "benchmark", "stricter"]),
)
def test_norms_fast_equals_traced(rows: list[Housing], method: str) -> None:
    obs = {("f1", 2027): D(1000), ("f1", 2035): D("500.5")}
    args = (rows, CAT, method, None, obs, LADDER, D(10))
    try:
        slow = farm_norms(*args, explain=True)  # type: ignore[arg-type]
    except KetenError as exc:
        with pytest.raises(type(exc)) as fast_exc:
            farm_norms(*args)  # type: ignore[arg-type]
        assert str(fast_exc.value) == str(exc)
        return
    fast = farm_norms(*args)  # type: ignore[arg-type]
    assert [str(n.to_dict()) for n in fast] == [str(n.to_dict()) for n in slow]
    assert [(str(n.reference_kg), str(n.proportional_kg), str(n.benchmark_kg)) for n in fast] == [
        (str(n.reference_kg), str(n.proportional_kg), str(n.benchmark_kg)) for n in slow
    ]
    assert all(n.trace is None for n in fast) and all(n.trace is not None for n in slow)


def test_equal_fractions_written_differently_keep_their_exponent(cat: Catalogue) -> None:
    """0.2 and 0.20 are equal, but 1 − 0.20 = 0.80 has one digit more: 10 × 3,0 × 0,8 = 24.00
    and 10 × 3,0 × 0,80 = 24.000. Both rows get their own plan, as in the traced path."""
    a = Housing("f", 10, "D3.100", additional=(Additional(None, D("0.2")),))
    b = Housing("f", 10, "D3.100", additional=(Additional(None, D("0.20")),))
    assert plan_key(a) != plan_key(b)
    cache = PlanCache(cat, 2025)
    assert (str(cache.nh3(a)), str(cache.nh3(b))) == ("24.00", "24.000")


def test_plan_shared_between_rows_with_the_same_description(cat: Catalogue) -> None:
    # D3.2.14 with LW-CHEM-70: factor max(0,15; 0,3 × 3,0) = 0,9; 1000 × 0,9 × 0,3 = 270 and
    # 10 × 0,9 × 0,3 = 2,7: one plan for both rows (NH-48).
    cache = PlanCache(cat, 2025)
    adds = (Additional("LW-CHEM-70"),)
    assert cache.nh3(Housing("a", 1000, "D3.2.14", additional=adds)) == D(270)
    assert cache.nh3(Housing("b", 10, "D3.2.14", additional=adds)) == D("2.7")
    assert len(cache.plans) == 1


def test_fast_path_refuses_negative_animals_even_with_a_cached_plan(cat: Catalogue) -> None:
    cache = PlanCache(cat, 2025)
    cache.nh3(Housing("a", 1, "A1.100"))
    with pytest.raises(RuleError, match="b: animals must not be negative"):
        cache.nh3(Housing("b", -1, "A1.100"))


def test_fast_path_error_names_the_first_bad_row(cat: Catalogue) -> None:
    rows = [
        Housing("ok", 1, "A1.100"),
        Housing("bad", 1, "A1.100", additional=(Additional("A1.1"),)),
    ]
    with pytest.raises(RuleError, match=r"^bad A1\.100: A1\.1 is a housing system"):
        farm_emissions(rows, cat, 2025)
    with pytest.raises(RuleError, match=r"^bad A1\.100: A1\.1 is a housing system"):
        farm_norms(rows, cat, "stricter")


def test_reader_reports_a_bad_row_after_the_same_text_passed(
    cat: Catalogue, tmp_path: Path
) -> None:
    """The reader remembers texts that passed; a later bad row is still reported on its row."""
    p = tmp_path / "h.csv"
    p.write_text(
        "farm_id,housing_code,animals,ef_nh3,traditional_ef_nh3,additional\n"
        "a,A1.100,10,,,LW-CHEM-70\n"
        "b,A1.100,10,,,LW-CHEM-70;A1.1\n"
    )
    with pytest.raises(InputError) as exc:
        read_housings(p, cat)
    assert exc.value.row == 2 and exc.value.field == "additional"


def test_reader_shares_parsed_lists_without_changing_them(cat: Catalogue, tmp_path: Path) -> None:
    p = tmp_path / "h.csv"
    p.write_text(
        "farm_id,housing_code,animals,ef_nh3,traditional_ef_nh3,additional\n"
        "a,D3.100,1000,,,custom:0.2;custom:0.1\n"
        "b,D3.100,10,,,custom:0.2;custom:0.1\n"
        "c,,100,0.5,2.0,custom:0.5:scrubber\n"
    )
    rows = read_housings(p, cat)
    # 1000 × 3,0 × 0,8 × 0,9 = 2160; 10 × 3,0 × 0,8 × 0,9 = 21,6; max(0,5; 0,3 × 2,0) × 100 × 0,5
    assert [f.nh3_kg for f in farm_emissions(rows, cat, 2025)] == [D(2160), D("21.6"), D(30)]
    assert rows[0].additional == (Additional(None, D("0.2")), Additional(None, D("0.1")))
