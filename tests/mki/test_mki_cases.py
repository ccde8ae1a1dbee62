"""Hand-worked MKI cases (issue #6). Prices from params/mki (set 2: Earthster reproduction of CE
Delft table 6, third-party; set 1: research/mki.md §1.2, UNVERIFIED):

* set 2: GWP-total 0.116 €/kg CO2 eq, AP 0.39 €/mol H+ eq, POCP 1.22 €/kg NMVOC eq,
  ODP 32 €/kg CFC-11 eq; set 1: GWP 0.05 €/kg CO2 eq;
* surcharge: category 3 +30 %, categories 1, 2 and 3a none (MKI-06; 3a from 2024-07-01).

Interpretations MKI-01..MKI-16 are in docs/interpretations-mki.md.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from keten.core.errors import ParameterError, RuleError, UnknownValueError
from keten.core.trace import Trace
from keten.mki.award import Bid, Method, penalty, rank_bids
from keten.mki.ceilings import Batch, Ceiling, check_batches, param_ceilings
from keten.mki.compare import compare
from keten.mki.model import Element, Profile, Transport
from keten.mki.project import ProjectResult, project_mki, replacements
from keten.mki.weights import load_weighting_set

D = Decimal
DAY = dt.date(2025, 9, 1)


def profile(pid: str, values: dict[tuple[str, str], str], cat: str = "1", unit: str = "m3"):
    return Profile(pid, unit, cat, {k: D(v) for k, v in values.items()})


def run(
    elements: list[Element],
    profiles: list[Profile],
    *,
    wset: str = "2",
    day: dt.date = DAY,
    period: str | None = None,
    include_d: bool = False,
) -> ProjectResult:
    return project_mki(
        elements,
        {p.product_id: p for p in profiles},
        Trace(load_weighting_set(wset)),
        weighting_set=wset,
        day=day,
        period=None if period is None else D(period),
        include_d=include_d,
        explain=True,
    )


def el(eid: str, pid: str, q: str, life: str = "50", **kw: object) -> Element:
    return Element(eid, pid, D(q), D(life), **kw)  # type: ignore[arg-type]


# --- one product, one indicator (MKI-01) -------------------------------------------------------


def test_one_product_one_indicator() -> None:
    """2 m3 × 100 kg CO2 eq/m3 × 0.116 €/kg = 23.2 €; no period → counted once (MKI-05)."""
    r = run([el("e1", "p", "2")], [profile("p", {("A1-A3", "GWP-total"): "100"})])
    assert r.mki_eur == D("23.2")
    assert r.by_module == {"A1-A3": D("23.2")}
    assert r.by_indicator == {"GWP-total": D("23.2")}
    assert r.by_element == {"e1": D("23.2")}
    assert r.replacements == {"e1": 1}
    assert any("MKI-05" in n for n in r.notes)
    assert "mki.weight.GWP-total" in r.flagged  # third-party price: result says so


def test_set1_one_indicator_is_flagged_unverified() -> None:
    """Set 1: 2 m3 × 100 kg CO2 eq × 0.05 €/kg = 10 €; the price is UNVERIFIED and flagged."""
    r = run([el("e1", "p", "2")], [profile("p", {("A1-A3", "GWP"): "100"})], wset="1")
    assert r.mki_eur == D("10")
    statuses = {pv.name: pv.status for pv in r.trace.flagged()}
    assert statuses["mki.weight.GWP"] == "unverified"


# --- data categories (MKI-06) ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cat", "expected"),
    [("1", "23.2"), ("2", "23.2"), ("3", "30.16"), ("3a", "23.2")],
)
def test_category_surcharge(cat: str, expected: str) -> None:
    """Category 3: 23.2 × 1.3 = 30.16; categories 1, 2 and 3a: no surcharge."""
    r = run([el("e1", "p", "2")], [profile("p", {("A1-A3", "GWP-total"): "100"}, cat=cat)])
    assert r.mki_eur == D(expected)


def test_category_3a_before_amendment_4_is_refused() -> None:
    """Category 3a exists from 2024-07-01 (amendment 4); set 2 prices also start then — on
    2024-06-30 the calculation is outside coverage and stops."""
    with pytest.raises(ParameterError, match="no value on 2024-06-30"):
        run(
            [el("e1", "p", "2")],
            [profile("p", {("A1-A3", "GWP"): "100"}, cat="3a")],
            wset="1",
            day=dt.date(2024, 6, 30),
        )


# --- replacements (MKI-04) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "life", "expected"),
    [("100", "30", 4), ("100", "25", 4), ("10", "30", 1), ("100", "12", 9), ("50", "50", 1)],
)
def test_replacements_formula(period: str, life: str, expected: int) -> None:
    """max(1, ceil(period / life)): 100/30 = 3.33 → 4; 100/25 = 4 → 4; 10/30 → 1; 100/12 → 9."""
    assert replacements(D(period), D(life)) == expected


def test_replacements_apply_to_production_and_end_of_life_only() -> None:
    """Period 100, life 30 → r = 4. A1-A3 100 and C3 10 kg CO2 eq count 4×, B2 10 once:
    per m3 4 × (11.6 + 1.16) + 1.16 = 52.2; × 2 m3 = 104.4 €."""
    p = profile(
        "p",
        {("A1-A3", "GWP-total"): "100", ("C3", "GWP-total"): "10", ("B2", "GWP-total"): "10"},
    )
    r = run([el("e1", "p", "2", "30")], [p], period="100")
    assert r.replacements == {"e1": 4}
    assert r.by_module == {"A1-A3": D("92.8"), "B2": D("2.32"), "C3": D("9.28")}
    assert r.mki_eur == D("104.4")


# --- module D switch (MKI-08) ------------------------------------------------------------------


def test_module_d_off_and_on() -> None:
    """A1-A3 100, D −20 kg CO2 eq per m3, 2 m3. Off (default): 23.2 €, D's −4.64 € reported
    as not counted. On: 23.2 − 4.64 = 18.56 €."""
    p = profile("p", {("A1-A3", "GWP-total"): "100", ("D", "GWP-total"): "-20"})
    off = run([el("e1", "p", "2")], [p])
    on = run([el("e1", "p", "2")], [p], include_d=True)
    assert off.mki_eur == D("23.2")
    assert off.d_excluded_eur == D("-4.64")
    assert "D" not in off.by_module
    assert on.mki_eur == D("18.56")
    assert on.by_module["D"] == D("-4.64")
    assert on.by_indicator == {"GWP-total": D("18.56")}


# --- climate change, no double counting (MKI-02, MKI-03) ---------------------------------------


def test_gwp_parts_ignored_when_total_given() -> None:
    """GWP-total 100 with GWP-fossil 99: priced once, 100 × 0.116 = 11.6 € per m3."""
    p = profile("p", {("A1-A3", "GWP-total"): "100", ("A1-A3", "GWP-fossil"): "99"})
    assert run([el("e1", "p", "1")], [p]).mki_eur == D("11.6")


def test_gwp_total_derived_from_all_three_parts() -> None:
    """No total; parts 1800 + 10 + 2 = 1812 → 1812 × 0.116 = 210.192 € per t."""
    p = profile(
        "p",
        {
            ("A1-A3", "GWP-fossil"): "1800",
            ("A1-A3", "GWP-biogenic"): "10",
            ("A1-A3", "GWP-luluc"): "2",
        },
        unit="t",
    )
    r = run([el("e1", "p", "1")], [p])
    assert r.mki_eur == D("210.192")
    assert r.by_indicator == {"GWP-total": D("210.192")}


def test_gwp_incomplete_parts_refused() -> None:
    p = profile("p", {("A1-A3", "GWP-fossil"): "1800", ("A1-A3", "GWP-luluc"): "2"})
    with pytest.raises(RuleError, match=r"missing GWP-biogenic.*MKI-03"):
        run([el("e1", "p", "1")], [p])


def test_unknown_set2_price_stops_the_calculation() -> None:
    """The PM price was not found (research §1.3): never priced as 0."""
    p = profile("p", {("A1-A3", "GWP-total"): "1", ("A1-A3", "PM"): "0.000001"})
    with pytest.raises(UnknownValueError, match=r"mki\.weight\.PM is unknown"):
        run([el("e1", "p", "1")], [p])


# --- transport A4 from distance × mode (MKI-07) ------------------------------------------------


def test_a4_from_distance_and_mode() -> None:
    """100 m3 × 2.4 t/m3 × 50 km = 12,000 tkm; truck per tkm 0.1 × 0.116 + 0.0005 × 1.22 =
    0.01221 € → A4 = 146.52 €. Product A1-A3 100 m3 × 29 € = 2,900 €. Total 3,046.52 €."""
    truck = profile(
        "transport:truck", {("A4", "GWP-total"): "0.1", ("A4", "POCP"): "0.0005"}, "3a", "tkm"
    )
    p = profile("p", {("A1-A3", "GWP-total"): "250"})
    e = el("e1", "p", "100", transport=Transport("truck", D(50), D("2.4")))
    r = run([e], [p, truck])
    assert r.by_module == {"A1-A3": D("2900"), "A4": D("146.52")}
    assert r.by_indicator == {"GWP-total": D("3039.2"), "POCP": D("7.32")}
    assert r.mki_eur == D("3046.52")


def test_profile_a4_wins_over_transport() -> None:
    """Profile A4 3 kg CO2 eq/m3: 1 m3 × (100 + 3) × 0.116 = 11.948 €; transport ignored."""
    truck = profile("transport:truck", {("A4", "GWP-total"): "0.1"}, "1", "tkm")
    p = profile("p", {("A1-A3", "GWP-total"): "100", ("A4", "GWP-total"): "3"})
    e = el("e1", "p", "1", transport=Transport("truck", D(50), D("2.4")))
    r = run([e], [p, truck])
    assert r.mki_eur == D("11.948")
    assert any("profile A4 used" in n for n in r.notes)


# --- the worked example of docs/mki.md ---------------------------------------------------------


def test_worked_example_of_the_guide() -> None:
    """examples/mki: fundering 3,135.72 + deklaag 29,699.28 + leuning 2,101.9216 = 34,936.9216 €.

    fundering: 100 m3, r = 1: A1-A3 (250 × 0.116 + 0.8 × 0.39) × 100 = 2,931.2; C3 5 × 0.116 ×
    100 = 58; A4 12,000 tkm × 0.01221 = 146.52. deklaag: 400 t, cat 3, r = ceil(100/12) = 9:
    (50 × 0.116 + 600 × 0.00033 + 3 × 0.116) × 1.3 = 8.2498 €/t × 3,600 = 29,699.28.
    leuning: 5 t, r = 2: (1800 + 10 + 2) × 0.116 × 10 = 2,101.92; B2 0.00001 × 32 × 5 = 0.0016.
    """
    from pathlib import Path

    from keten.io.mki_files import read_profiles, read_project

    base = Path(__file__).resolve().parents[2] / "examples" / "mki"
    profs = read_profiles(base / "profiles.csv", "2")
    r = project_mki(
        read_project(base / "project.csv", profs),
        profs,
        Trace(load_weighting_set("2")),
        weighting_set="2",
        day=DAY,
        period=D(100),
    )
    assert r.by_element == {
        "fundering": D("3135.72"),
        "deklaag": D("29699.28"),
        "leuning": D("2101.9216"),
    }
    assert r.mki_eur == D("34936.9216")
    assert r.by_material_group["asphalt"] == D("29699.28")
    assert r.d_excluded_eur == D("-116")
    variant = project_mki(
        read_project(base / "variant.csv", profs),
        profs,
        Trace(load_weighting_set("2")),
        weighting_set="2",
        day=DAY,
        period=D(100),
    )
    cmp = compare(r, variant)
    # fundering with CEM III: (180 × 0.116 + 0.7 × 0.39) × 100 = 2,115.3 vs 2,931.2 → −815.9
    assert cmp["difference_eur"] == D("-815.9")
    assert cmp["causes_by_element"][0]["key"] == "fundering"
    assert cmp["causes_by_indicator"][0] == {
        "breakdown": "indicator",
        "key": "GWP-total",
        "a_eur": D("33971.76"),
        "b_eur": D("33159.76"),
        "difference_eur": D("-812"),
    }


def test_compare_refuses_unlike_variants() -> None:
    p = profile("p", {("A1-A3", "GWP-total"): "100"})
    a = run([el("e1", "p", "1")], [p])
    b = run([el("e1", "p", "1")], [p], include_d=True)
    with pytest.raises(RuleError, match="include_d"):
        compare(a, b)


# --- tender award (MKI-12, MKI-14) -------------------------------------------------------------


def _trace() -> Trace:
    return Trace(load_weighting_set("2"))


def test_award_mki_w_with_tie() -> None:
    """Factor 2: A 1,000 + 2 × 100 = 1,200; B 1,100 + 2 × 50 = 1,200; C 1,300 + 0 = 1,300.
    A and B tie at rank 1 (ordered by name); C is rank 3."""
    bids = [Bid("C", D(1300), D(0)), Bid("B", D(1100), D(50)), Bid("A", D(1000), D(100))]
    rows = rank_bids(bids, Method("mki-w", factor=D(2)), _trace())
    assert [(r["bidder"], r["fictitious_price_eur"], r["rank"], r["tie"]) for r in rows] == [
        ("A", D(1200), 1, True),
        ("B", D(1200), 1, True),
        ("C", D(1300), 3, False),
    ]


def test_award_bounded_with_tie_and_clamping() -> None:
    """Upper 200, lower 100, max discount 50,000; discount = 50,000 × clamp((200 − MKI)/100).
    A: MKI 150 → 25,000 → 1,000,000 − 25,000 = 975,000. B: MKI 100 → 50,000 → 1,025,000 −
    50,000 = 975,000 (tie). C: MKI 250 → 0 → 990,000. D: MKI 50 → clamp 1 → 50,000 →
    1,100,000 − 50,000 = 1,050,000."""
    bids = [
        Bid("A", D(1_000_000), D(150)),
        Bid("B", D(1_025_000), D(100)),
        Bid("C", D(990_000), D(250)),
        Bid("D", D(1_100_000), D(50)),
    ]
    m = Method("bounded", upper=D(200), lower=D(100), max_discount=D(50_000))
    rows = rank_bids(bids, m, _trace())
    assert [(r["bidder"], r["fictitious_price_eur"], r["rank"]) for r in rows] == [
        ("A", D(975_000), 1),
        ("B", D(975_000), 1),
        ("C", D(990_000), 3),
        ("D", D(1_050_000), 4),
    ]


def test_penalty_mki_w_default_factor() -> None:
    """Factor 2, offered 100, delivered 130: advantage 2 × 30 = 60; penalty 1.5 × 60 = 90."""
    row = penalty(Method("mki-w", factor=D(2)), D(100), D(130), _trace(), DAY)
    assert row["advantage_eur"] == D(60)
    assert row["penalty_factor"] == D("1.5")
    assert row["penalty_eur"] == D(90)


def test_penalty_bounded_and_better_delivery() -> None:
    """Bounded 200/100/50,000: offered 100 → 50,000 discount, delivered 150 → 25,000; advantage
    25,000, penalty 1.5 × 25,000 = 37,500. Delivered 90 (better than offered): no penalty."""
    m = Method("bounded", upper=D(200), lower=D(100), max_discount=D(50_000))
    assert penalty(m, D(100), D(150), _trace(), DAY)["penalty_eur"] == D(37_500)
    assert penalty(m, D(100), D(90), _trace(), DAY)["penalty_eur"] == D(0)
    assert penalty(m, D(100), D(150), _trace(), DAY, factor=D(2))["penalty_eur"] == D(50_000)


# --- material ceilings (MKI-11, MKI-13) --------------------------------------------------------


def test_ceilings_at_below_and_above() -> None:
    """Ceiling 25 €/m3: 25 → margin 0, pass (at the limit); 23.5 → 1.5 (6 %), pass;
    26.1 → −1.1 (−4.4 %), fail."""
    c = {("concrete", "g"): Ceiling("concrete", "g", "m3", D(25), "tender")}
    batches = [
        Batch("at", "concrete", "g", "m3", D(25)),
        Batch("below", "concrete", "g", "m3", D("23.5")),
        Batch("above", "concrete", "g", "m3", D("26.1")),
    ]
    rows = check_batches(batches, c, _trace())
    assert [(r["result"], r["margin_eur_per_unit"], r["margin_percent"]) for r in rows] == [
        ("pass", D(0), D(0)),
        ("pass", D("1.5"), D(6)),
        ("fail", D("-1.1"), D("-4.4")),
    ]


def test_published_ceilings_are_dated() -> None:
    """Netwerk Betonketen: stenen/tegels/banden 25 €/m3 from 2016-09-20; fietspad 22 €/m3 from
    2018-01-24; both closed at 2021-06-30 (MKI-13)."""
    t = Trace(load_weighting_set("1"))
    c2017 = param_ceilings(t, dt.date(2017, 1, 1))
    assert {k: v.ceiling_eur for k, v in c2017.items()} == {
        ("concrete", "stenen-tegels-banden"): D(25)
    }
    assert len(param_ceilings(t, dt.date(2019, 1, 1))) == 2
    assert param_ceilings(t, dt.date(2025, 1, 1)) == {}
    with pytest.raises(RuleError, match="no ceiling"):
        check_batches([Batch("x", "concrete", "fietspad", "m3", D(1))], {}, t)
