"""MKI-17: the array computation gives the reference's numbers exactly.

``project_mki`` without ``explain`` computes over arrays of Decimals (keten.mki.vectorised);
with ``explain`` it runs the per-element loop that the worked cases in test_mki_cases.py pin.
For any mix of profiles (data categories, GWP-total or its parts, modules B and D, values with
exponents), elements (quantities, service lives, material groups, given transport), reference
periods and the D switch, both must give equal Decimals in every field, the same notes and
the same parameters used — and the same error when the input is refused.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keten.core.errors import KetenError
from keten.core.trace import Trace
from keten.mki.model import Element, Profile, Transport
from keten.mki.project import ProjectResult, project_mki
from keten.mki.vectorised import vectorised_mki
from keten.mki.weights import load_weighting_set

DAY = dt.date(2025, 9, 1)
SET2 = load_weighting_set("2")
SET1 = load_weighting_set("1")
# set-2 indicators with a known price, the GWP parts, and one without a price (PM)
PRICED2 = ["GWP-total", "ODP", "AP", "POCP", "ADP-fossil", "WDP", "EP-marine"]
PARTS = ["GWP-fossil", "GWP-biogenic", "GWP-luluc"]
MODULES = ["A1-A3", "A4", "A5", "B1", "B4", "C1", "C3", "C4", "D"]
NUMBERS = ["250", "0.8", "-10", "1.2E-7", "3.50", "0", "1E+3", "12345.678901", "0.00001"]


def profiles_strategy(wset: str) -> st.SearchStrategy[dict[str, Profile]]:
    indicators = PRICED2 + PARTS if wset == "2" else ["GWP", "AP", "ODP", "ADPF"]
    cell = st.tuples(st.sampled_from(MODULES), st.sampled_from(indicators))
    values = st.dictionaries(cell, st.sampled_from(NUMBERS).map(D), max_size=12)
    prof = st.builds(
        lambda cat, unit, vals: (cat, unit, vals),
        st.sampled_from(["1", "2", "3", "3a"]),
        st.sampled_from(["m3", "t"]),
        values,
    )
    return st.lists(prof, min_size=1, max_size=5).map(
        lambda ps: {f"p{k}": Profile(f"p{k}", u, c, v) for k, (c, u, v) in enumerate(ps)}
    )


def elements_strategy(n_products: int) -> st.SearchStrategy[list[Element]]:
    element = st.builds(
        lambda k, q, life, group, transport: (k, q, life, group, transport),
        st.integers(0, n_products - 1),
        st.sampled_from(["0", "1", "2.5", "100", "0.333333", "1000000"]),
        st.sampled_from(["10", "12", "50", "100", "7.5"]),
        st.sampled_from([None, "beton", "staal"]),
        st.booleans(),
    )
    return st.lists(element, min_size=1, max_size=8).map(
        lambda es: [
            Element(
                f"e{j}",
                f"p{k}",
                D(q),
                D(life),
                material_group=g,
                transport=Transport("truck", D(50), D("2.4")) if t else None,
            )
            for j, (k, q, life, g, t) in enumerate(es)
        ]
    )


def fields(r: ProjectResult) -> tuple[object, ...]:
    used = sorted((pv.name, pv.period) for pv in r.trace.used.values())
    return (
        r.mki_eur,
        r.by_module,
        r.by_element,
        r.by_indicator,
        r.by_material_group,
        r.replacements,
        r.d_excluded_eur,
        r.notes,
        used,
        r.to_dict(),
    )


def both(
    elements: list[Element],
    profiles: dict[str, Profile],
    wset: str,
    period: D | None,
    include_d: bool,
) -> None:
    params = SET2 if wset == "2" else SET1
    kw = {"weighting_set": wset, "day": DAY, "period": period, "include_d": include_d}
    try:
        ref = project_mki(elements, profiles, Trace(params), explain=True, **kw)  # type: ignore[arg-type]
    except KetenError as exc:
        with pytest.raises(type(exc)) as fast_exc:
            project_mki(elements, profiles, Trace(params), **kw)  # type: ignore[arg-type]
        assert str(fast_exc.value) == str(exc)
        return
    fast = project_mki(elements, profiles, Trace(params), **kw)  # type: ignore[arg-type]
    assert fields(fast) == fields(ref)
    # the arrays did the work unless transport had to come from distance × mode
    needs_transport = any(
        e.transport is not None and "A4" not in profiles[e.product_id].modules() for e in elements
    )
    direct = vectorised_mki(elements, profiles, Trace(params), **kw)  # type: ignore[arg-type]
    assert (direct is None) == needs_transport


@settings(max_examples=150, deadline=None)
@given(
    profiles_strategy("2").flatmap(lambda ps: st.tuples(st.just(ps), elements_strategy(len(ps)))),
    st.sampled_from([None, D(100), D(30)]),
    st.booleans(),
)
def test_set2_arrays_equal_reference(
    case: tuple[dict[str, Profile], list[Element]], period: D | None, include_d: bool
) -> None:
    profiles, elements = case
    profiles = dict(profiles)
    profiles["transport:truck"] = Profile(
        "transport:truck", "tkm", "1", {("A4", "GWP-total"): D("0.1"), ("A4", "POCP"): D("0.0005")}
    )
    both(elements, profiles, "2", period, include_d)


@settings(max_examples=60, deadline=None)
@given(
    profiles_strategy("1").flatmap(lambda ps: st.tuples(st.just(ps), elements_strategy(len(ps)))),
    st.sampled_from([None, D(100)]),
    st.booleans(),
)
def test_set1_arrays_equal_reference(
    case: tuple[dict[str, Profile], list[Element]], period: D | None, include_d: bool
) -> None:
    profiles, elements = case
    elements = [
        Element(e.element_id, e.product_id, e.quantity, e.service_life_years) for e in elements
    ]
    both(elements, profiles, "1", period, include_d)


def test_worked_example_through_the_arrays() -> None:
    """docs/mki.md: fundering 100 m3 beton-c30, r = 1: (250 × 0.116 + 0.8 × 0.39) × 100 =
    2,931.20 € (A1-A3) + 5 × 0.116 × 100 = 58 € (C3) = 2,989.20 €; deklaag 400 t asfalt-ac,
    category 3, r = ceil(100 / 12) = 9: (50 × 0.116 + 600 × 0.00033 + 3 × 0.116) × 1.3 ×
    400 × 9 = 29,699.28 €. Without transport from distance (the arrays do not do it, MKI-17)."""
    profiles = {
        "beton-c30": Profile(
            "beton-c30",
            "m3",
            "1",
            {
                ("A1-A3", "GWP-total"): D(250),
                ("A1-A3", "AP"): D("0.8"),
                ("C3", "GWP-total"): D(5),
                ("D", "GWP-total"): D(-10),
            },
        ),
        "asfalt-ac": Profile(
            "asfalt-ac",
            "t",
            "3",
            {
                ("A1-A3", "GWP-total"): D(50),
                ("A1-A3", "GWP-fossil"): D(49),
                ("A1-A3", "ADP-fossil"): D(600),
                ("A4", "GWP-total"): D(3),
            },
        ),
    }
    elements = [
        Element("fundering", "beton-c30", D(100), D(100)),
        Element("deklaag", "asfalt-ac", D(400), D(12)),
    ]
    kw = {"weighting_set": "2", "day": DAY, "period": D(100), "include_d": False}
    direct = vectorised_mki(elements, profiles, Trace(SET2), **kw)  # type: ignore[arg-type]
    assert direct is not None
    assert direct["by_element"] == {"fundering": D("2989.20"), "deklaag": D("29699.28")}
    assert direct["d_excluded_eur"] == D(-116)  # −10 × 0.116 × 100
    assert direct["replacements"] == {"fundering": 1, "deklaag": 9}
    assert direct["without_a4"] == ["fundering"]


@pytest.mark.parametrize(
    ("element", "profile_values"),
    [
        (Element("e", "p", D(-1), D(50)), {("A1-A3", "GWP-total"): D(1)}),
        (Element("e", "p", D(1), D(0)), {("A1-A3", "GWP-total"): D(1)}),
        (Element("e", "missing", D(1), D(50)), {("A1-A3", "GWP-total"): D(1)}),
        (Element("e", "p", D(1), D(50)), {("A1-A3", "PM"): D(1)}),  # price unknown
        (Element("e", "p", D(1), D(50)), {("A1-A3", "GWP-fossil"): D(1)}),  # part only
        (Element("e", "p", D(1), D(50)), {("A1-A3", "GWP"): D(1)}),  # a set-1 code
        (Element("e", "p", D(1), D(50), unit="t"), {("A1-A3", "GWP-total"): D(1)}),
    ],
)
def test_refused_input_gives_the_reference_error(
    element: Element, profile_values: dict[tuple[str, str], D]
) -> None:
    profiles = {"p": Profile("p", "m3", "1", profile_values)}
    kw = {"weighting_set": "2", "day": DAY, "period": D(100), "include_d": False}
    trace = Trace(SET2)
    assert vectorised_mki([element], profiles, trace, **kw) is None  # type: ignore[arg-type]
    assert trace.used == {}  # nothing recorded when the arrays step aside
    with pytest.raises(KetenError) as ref:
        project_mki([element], profiles, Trace(SET2), explain=True, **kw)  # type: ignore[arg-type]
    with pytest.raises(
        type(ref.value), match=str(ref.value).replace("(", r"\(").replace(")", r"\)")
    ):
        project_mki([element], profiles, Trace(SET2), **kw)  # type: ignore[arg-type]


def test_duplicate_element_is_refused_by_both() -> None:
    profiles = {"p": Profile("p", "m3", "1", {("A1-A3", "GWP-total"): D(1)})}
    elements = [Element("e", "p", D(1), D(50)), Element("e", "p", D(2), D(50))]
    kw = {"weighting_set": "2", "day": DAY}
    with pytest.raises(KetenError, match="appears twice"):
        project_mki(elements, profiles, Trace(SET2), **kw)  # type: ignore[arg-type]


def test_dense_profiles_in_canonical_order() -> None:
    """Profiles that give every module × indicator cell in the canonical order are taken as the
    array as they are (no scatter); set 1, two products (categories 1 and 3), three elements."""
    from keten.mki.model import MODULES as ALL_MODULES
    from keten.mki.model import SET1_INDICATORS

    def dense(pid: str, cat: str, seed: int) -> Profile:
        vals = {
            (m, i): D(seed * 1000 + k) / D(1000)
            for k, (m, i) in enumerate((m, i) for m in ALL_MODULES for i in SET1_INDICATORS)
        }
        return Profile(pid, "m3", cat, vals)

    profiles = {"a": dense("a", "1", 1), "b": dense("b", "3", 2)}
    elements = [
        Element("e1", "a", D("2.5"), D(30), material_group="x"),
        Element("e2", "b", D(4), D(100)),
        Element("e3", "a", D(1), D(7)),
    ]
    for include_d in (False, True):
        kw = {"weighting_set": "1", "day": DAY, "period": D(50), "include_d": include_d}
        assert vectorised_mki(elements, profiles, Trace(SET1), **kw) is not None  # type: ignore[arg-type]
        ref = project_mki(elements, profiles, Trace(SET1), explain=True, **kw)  # type: ignore[arg-type]
        fast = project_mki(elements, profiles, Trace(SET1), **kw)  # type: ignore[arg-type]
        assert fields(fast) == fields(ref)
