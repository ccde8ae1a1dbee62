"""Hand-worked legal cases for Energie Vervoer (seed 004_502c408745ad4f95.txt, Bijlage 1).

Every expected number below is worked out by hand in the docstring or comment next to it, from
the printed tables of Bijlage 1 (section 1) and the interpretations EV-01..EV-21 in
``docs/interpretations.md``. Constants used throughout (``params/ev/common/constants.yaml``):

* fossil comparator 94 gCO2e/MJ, 1 ERE = 1000 g (EV-01);
* electricity comparator 183 gCO2e/MJ, 3.6 MJ/kWh, grid renewable share 50.5 % in 2026 (EV-06);
* RFNBO maximum intensity 28.2 gCO2e/MJ;
* lower heating values (EV-09): diesel 36 MJ/l, HVO 34 MJ/l and 44 MJ/kg, hydrogen 120 MJ/kg.

Useful shorthand: for a base of E MJ, one percentage point of a row is E × 94 / 100 / 1000 EREs.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from keten.core.errors import ParameterError, RuleError
from keten.core.params import ParameterSet, load_set
from keten.core.trace import Trace
from keten.ev.compliance import Compliance, compliance, least_cost_plans
from keten.ev.model import Booking, Delivery, Holding, UnitType
from keten.ev.obligation import Obligation, obligation_for_base, obligations
from keten.ev.units import units_for_booking

D = Decimal
SUPPLIER = "Brandstof BV"


@pytest.fixture(scope="module")
def params() -> ParameterSet:
    return load_set("ev", "bijlage-1")


@pytest.fixture(scope="module")
def besluit() -> ParameterSet:
    return load_set("ev", "besluit-2025")


def ut(origin: str, category: str) -> UnitType:
    return UnitType(origin, category)


def hold(origin: str, category: str, amount: int, holder: str = SUPPLIER) -> Holding:
    return Holding(holder, ut(origin, category), amount)


def base(sector: str, year: int, mj: str | int, params: ParameterSet) -> Obligation:
    return obligation_for_base(SUPPLIER, sector, year, D(mj), Trace(params))


def diesel_land(year: int, params: ParameterSet) -> Obligation:
    """1,000,000 l diesel delivered to land (the obligation of case (a))."""
    (ob,) = obligations([Delivery(SUPPLIER, "land", "diesel", D(1_000_000), "l")], year, params)
    return ob


def zeevaart_gj(params: ParameterSet) -> Obligation:
    """2,500 GJ delivered to zeevaart in 2026 (the obligation of case (a), GJ variant)."""
    (ob,) = obligations([Delivery(SUPPLIER, "zeevaart", "energy", D(2500), "GJ")], 2026, params)
    return ob


def one(result: list[Compliance]) -> Compliance:
    (c,) = result
    return c


def plan_of(c: Compliance) -> dict[tuple[str, str, str], int]:
    return {(s.sector, s.origin_sector, s.category): s.amount for s in c.plan}


def outcome(c: Compliance, sector: str):
    (o,) = [o for o in c.sectors if o.sector == sector]
    return o


# =============================================================================================
# (a) Obligations
# =============================================================================================


def test_land_2026_diesel_every_row(params: ParameterSet) -> None:
    """Land, 2026 (Bijlage 1, table Land, column 2026); EV-01, EV-03, EV-05.

    Base: 1,000,000 l diesel × 36 MJ/l = 36,000,000 MJ.
    One percentage point: 36,000,000 × 94 / 100 / 1000 = 33,840 EREs.

    ====================  ======  ==========================  ========
    row                   %       exact                       rounded
    ====================  ======  ==========================  ========
    Totaal                14,4    33,840 × 14.4 = 487,296.0   487,296
    Sectorspecifiek       14,4    487,296.0                   487,296
    Vrije ruimte          0       0                           0
    Verplichting Annex 9A 3,07    33,840 × 3.07 = 103,888.8   103,889
    Verplichting RFNBO    0,05    33,840 × 0.05 = 1,692.0     1,692
    Limiet Conventioneel  1,20    33,840 × 1.20 = 40,608.0    40,608
    Limiet Annex 9B       4,29    33,840 × 4.29 = 145,173.6   145,174
    ====================  ======  ==========================  ========

    Check of the headline: 36e6 × 94 × 0.144 / 1000 = 487,296.
    """
    ob = diesel_land(2026, params)
    assert ob.base_mj == D(36_000_000)
    assert ob.rows == {
        "total": 487_296,
        "sector_specific": 487_296,
        "vrije_ruimte": 0,
        "annex_ixa_min": 103_889,
        "rfnbo_min": 1_692,
        "conventional_cap": 40_608,
        "annex_ixb_cap": 145_174,
    }
    # The diesel LHV is marked unverified (EV-09): the trace says it was used and is flagged.
    assert "ev.lhv.diesel.per_l" in {pv.name for pv in ob.trace.flagged()}


def test_land_2030_diesel_every_row(params: ParameterSet) -> None:
    """Land, 2030 (Bijlage 1, table Land, column 2030); EV-01, EV-03.

    Same base, 36,000,000 MJ; one percentage point = 33,840 EREs.

    * Totaal 22,9 %:            33,840 × 22.9  = 774,936.0 → 774,936
    * Sectorspecifiek 22,9 %:   774,936
    * Vrije ruimte 0 %:         0
    * Verplichting Annex 9A 8,76 %: 33,840 × 8.76 = 296,438.4 → 296,438 (rounds down: .4)
    * Verplichting RFNBO 0,67 %:    33,840 × 0.67 = 22,672.8  → 22,673
    * Limiet Conventioneel 1,20 %:  40,608
    * Limiet Annex 9B 4,29 %:       145,173.6 → 145,174
    """
    ob = diesel_land(2030, params)
    assert ob.rows == {
        "total": 774_936,
        "sector_specific": 774_936,
        "vrije_ruimte": 0,
        "annex_ixa_min": 296_438,
        "rfnbo_min": 22_673,
        "conventional_cap": 40_608,
        "annex_ixb_cap": 145_174,
    }


def test_land_2028_rfnbo_cell_printed_without_percent_sign(params: ParameterSet) -> None:
    """Land 2028, row Verplichting RFNBO printed "0,21" (no % sign) is read as 0.21 % (EV-02).

    36,000,000 MJ: 33,840 × 0.21 = 7,106.4 → 7,106.
    """
    assert diesel_land(2028, params).rows["rfnbo_min"] == 7_106


def test_half_up_rounding_of_an_exact_half(params: ParameterSet) -> None:
    """EV-03: each row is rounded half up, once, at the end — 70.5 → 71, not banker's 70.

    Land, 2026, base 1,500,000 MJ (fuel ``energy`` in MJ). One percentage point:
    1,500,000 × 94 / 100 / 1000 = 1,410 EREs.

    * RFNBO 0,05 %:       1,410 × 0.05 = 70.5       → 71 (half up; half-to-even would give 70)
    * Annex 9A 3,07 %:    1,410 × 3.07 = 4,328.7    → 4,329
    * Totaal 14,4 %:      1,410 × 14.4 = 20,304.0   → 20,304
    * Conventioneel 1,20: 1,410 × 1.2  = 1,692.0    → 1,692
    * Annex 9B 4,29 %:    1,410 × 4.29 = 6,048.9    → 6,049

    (Why 1,500,000: the comparator 94 = 2 × 47, so an exact half needs 47 | (2n + 1); n = 70
    gives 141 = 3 × 47 and base × 0.05 % × 94 / 1000 = 70.5 with base 1,500,000.)
    """
    (ob,) = obligations([Delivery(SUPPLIER, "land", "energy", D(1_500_000), "MJ")], 2026, params)
    assert ob.rows["rfnbo_min"] == 71
    assert ob.rows == {
        "total": 20_304,
        "sector_specific": 20_304,
        "vrije_ruimte": 0,
        "annex_ixa_min": 4_329,
        "rfnbo_min": 71,
        "conventional_cap": 1_692,
        "annex_ixb_cap": 6_049,
    }


def test_half_up_rounding_in_zeevaart(params: ParameterSet) -> None:
    """EV-03: zeevaart 2026, base 10,000 MJ; one point = 10,000 × 94 / 100,000 = 9.4 EREs.

    * Sectorspecifiek 2,5 %: 9.4 × 2.5 = 23.5 → 24
    * Vrije ruimte 1,1 %:    9.4 × 1.1 = 10.34 → 10
    * Totaal 3,6 %:          9.4 × 3.6 = 33.84 → 34
    """
    ob = base("zeevaart", 2026, 10_000, params)
    assert (ob.rows["sector_specific"], ob.rows["vrije_ruimte"], ob.rows["total"]) == (24, 10, 34)


def test_rows_are_rounded_independently(params: ParameterSet) -> None:
    """EV-03: sector-specific + vrije ruimte may differ from the rounded total by one ERE.

    Binnenvaart 2026 (table Binnenvaart, column 2026), base 2,000 MJ; one point = 1.88 EREs.

    * Totaal 3,8 %:          1.88 × 3.8 = 7.144 → 7
    * Sectorspecifiek 3,0 %: 1.88 × 3.0 = 5.64  → 6
    * Vrije ruimte 0,8 %:    1.88 × 0.8 = 1.504 → 2      (6 + 2 = 8 ≠ 7)
    * Verplichting RFNBO 0,02 %: 1.88 × 0.02 = 0.0376 → 0
    * Limiet Annex 9B 11,07 %:   1.88 × 11.07 = 20.8116 → 21
    * no Annex 9A row in the binnenvaart table → 0 (EV-04)
    """
    ob = base("binnenvaart", 2026, 2_000, params)
    assert ob.rows == {
        "total": 7,
        "sector_specific": 6,
        "vrije_ruimte": 2,
        "annex_ixa_min": 0,
        "rfnbo_min": 0,
        "conventional_cap": 0,
        "annex_ixb_cap": 21,
    }


def test_zeevaart_2026_in_gigajoules(params: ParameterSet) -> None:
    """Fuel ``energy`` in GJ (EV-05): 2,500 GJ × 1000 MJ/GJ = 2,500,000 MJ.

    Zeevaart, 2026 (table Zeevaart, column 2026); one point = 2,500,000 × 94 / 100,000 = 2,350.

    * Totaal 3,6 %:          2,350 × 3.6 = 8,460
    * Sectorspecifiek 2,5 %: 2,350 × 2.5 = 5,875
    * Vrije ruimte 1,1 %:    2,350 × 1.1 = 2,585
    * Annex 9A, RFNBO: no such row in the zeevaart table → 0 (EV-04)
    * Limiet Conventioneel 0 %, Limiet Annex 9B 0 % → 0
    """
    ob = zeevaart_gj(params)
    assert ob.base_mj == D(2_500_000)
    assert ob.rows == {
        "total": 8_460,
        "sector_specific": 5_875,
        "vrije_ruimte": 2_585,
        "annex_ixa_min": 0,
        "rfnbo_min": 0,
        "conventional_cap": 0,
        "annex_ixb_cap": 0,
    }


def test_base_is_the_sum_of_all_deliveries(params: ParameterSet) -> None:
    """EV-05: all energy delivered to the sector is the base, per supplier and sector.

    Land 2026: 500,000 l diesel (18,000,000 MJ) + 2,000 GJ (2,000,000 MJ) = 20,000,000 MJ;
    one point = 18,800; Totaal 14,4 % = 270,720. A second supplier and a zeevaart delivery do
    not mix in: zeevaart 1,000,000 MJ × 94 × 3.6 % / 1000 = 3,384. Output sorted by supplier,
    then sector in the order land, binnenvaart, zeevaart, luchtvaart.
    """
    deliveries = [
        Delivery("B", "zeevaart", "energy", D(1_000_000), "MJ"),
        Delivery("B", "land", "diesel", D(500_000), "l"),
        Delivery("A", "land", "diesel", D(1), "l"),
        Delivery("B", "land", "energy", D(2_000), "GJ"),
    ]
    obs = obligations(deliveries, 2026, params)
    assert [(o.supplier, o.sector) for o in obs] == [
        ("A", "land"),
        ("B", "land"),
        ("B", "zeevaart"),
    ]
    assert obs[1].base_mj == D(20_000_000)
    assert obs[1].rows["total"] == 270_720
    assert obs[2].rows["total"] == 3_384
    # 1 l diesel = 36 MJ × 94 × 14.4 % / 1000 = 0.487296 → 0
    assert obs[0].rows["total"] == 0


def test_obligation_refusals(params: ParameterSet, besluit: ParameterSet) -> None:
    """Unknown sector refused; luchtvaart refused in set besluit-2025 (EV-10)."""
    with pytest.raises(RuleError, match="unknown sector 'spoor'"):
        base("spoor", 2026, 1, params)
    with pytest.raises(RuleError, match="'luchtvaart' has no obligation in parameter set"):
        obligations([Delivery(SUPPLIER, "luchtvaart", "energy", D(1), "MJ")], 2026, besluit)
    with pytest.raises(RuleError, match="unknown fuel 'kerosine'"):
        obligations([Delivery(SUPPLIER, "land", "kerosine", D(1), "l")], 2026, params)


def test_besluit_2025_unknown_sub_obligation_stops_compliance(besluit: ParameterSet) -> None:
    """EV-10: set besluit-2025. Land 2026 total 14,4 % as in Bijlage 1: 36,000,000 MJ → 487,296;
    the Annex 9A and RFNBO percentages are marked unknown, so the rows are None and a
    compliance check refuses with the parameter's name. Zeevaart 2026 (2,9 % of which 0,9 %
    vrije ruimte): 338,400 × 2.9 = 98,136; vrije ruimte 338,400 × 0.9 = 30,456;
    sector-specific 2.0 % = 67,680."""
    (land,) = obligations([Delivery(SUPPLIER, "land", "diesel", D(1_000_000), "l")], 2026, besluit)
    assert land.rows["total"] == 487_296
    assert land.rows["annex_ixa_min"] is None
    with pytest.raises(RuleError, match=r"ev\.land\.annex_ixa_min is unknown"):
        compliance([land], [hold("land", "other", 10**6)], besluit, 2026)
    (zee,) = obligations(
        [Delivery(SUPPLIER, "zeevaart", "diesel", D(1_000_000), "l")], 2026, besluit
    )
    assert (zee.rows["total"], zee.rows["vrije_ruimte"], zee.rows["sector_specific"]) == (
        98_136,
        30_456,
        67_680,
    )


# =============================================================================================
# (b) Units from bookings
# =============================================================================================


def booking(
    sector: str,
    category: str,
    fuel: str,
    quantity: str,
    unit: str,
    ci: str | None,
) -> Booking:
    return Booking(
        "Inboeker", sector, category, fuel, D(quantity), unit, None if ci is None else D(ci)
    )


def test_hvo_booking_rounds_down(params: ParameterSet) -> None:
    """EV-06: 12,345 l HVO at 15.7 gCO2e/MJ in land.

    12,345 l × 34 MJ/l = 419,730 MJ; × (94 − 15.7) = 419,730 × 78.3 = 32,864,859 g;
    / 1000 = 32,864.859 → round down → 32,864 EREs (not 32,865).
    """
    bu = units_for_booking(
        booking("land", "annex-ixb", "hvo", "12345", "l", "15.7"), 2026, Trace(params)
    )
    assert (bu.units, bu.unit_name, bu.origin_sector, bu.category) == (
        32_864,
        "ERE",
        "land",
        "annex-ixb",
    )


def test_electricity_booking_2026(params: ParameterSet) -> None:
    """EV-06: 10,000 kWh renewable electricity in land, 2026.

    10,000 kWh × 3.6 MJ/kWh = 36,000 MJ; × 50.5 % = 18,180; × 183 g/MJ = 3,326,940 g;
    / 1000 = 3,326.94 → round down → 3,326 EREs.
    """
    bu = units_for_booking(
        booking("land", "other", "electricity", "10000", "kWh", None), 2026, Trace(params)
    )
    assert bu.units == 3_326
    assert bu.unit_name == "ERE"


def test_luchtvaart_booking_creates_lres(params: ParameterSet) -> None:
    """EV-06, EV-20: 1,000 kg HVO (SAF) at 20 gCO2e/MJ booked in luchtvaart.

    1,000 kg × 44 MJ/kg = 44,000 MJ; × (94 − 20) = 3,256,000 g; / 1000 = 3,256 LREs.
    """
    bu = units_for_booking(
        booking("luchtvaart", "annex-ixa", "hvo", "1000", "kg", "20"), 2026, Trace(params)
    )
    assert (bu.units, bu.unit_name, bu.origin_sector) == (3_256, "LRE", "luchtvaart")


def test_rfnbo_threshold(params: ParameterSet) -> None:
    """RFNBO at most 28.2 gCO2e/MJ (70 % saving against 94).

    28.2 is accepted: 100 kg hydrogen × 120 MJ/kg = 12,000 MJ; × (94 − 28.2) = 12,000 × 65.8 =
    789,600 g; / 1000 = 789.6 → 789. 28.21 is refused.
    """
    ok = units_for_booking(
        booking("land", "rfnbo", "hydrogen", "100", "kg", "28.2"), 2026, Trace(params)
    )
    assert ok.units == 789
    with pytest.raises(RuleError, match=r"RFNBO may not exceed 28\.2"):
        units_for_booking(
            booking("land", "rfnbo", "hydrogen", "100", "kg", "28.21"), 2026, Trace(params)
        )
    # The same intensity is fine for a category that is not an RFNBO.
    other = units_for_booking(
        booking("land", "other", "hydrogen", "100", "kg", "28.21"), 2026, Trace(params)
    )
    assert other.units == 789  # 12,000 × 65.79 = 789,480 g → 789.48 → 789


@pytest.mark.parametrize(
    ("b", "error", "match"),
    [
        (
            ("land", "other", "hvo", "100", "l", "94"),
            RuleError,
            "at or above the fossil comparator",
        ),
        (("land", "other", "hvo", "100", "l", "94.5"), RuleError, "at or above"),
        (("land", "other", "hvo", "0", "l", "10"), RuleError, "quantity must be positive"),
        (("land", "other", "hvo", "-5", "l", "10"), RuleError, "quantity must be positive"),
        (("land", "other", "kerosine", "100", "l", "10"), RuleError, "unknown fuel 'kerosine'"),
        (("land", "biogas", "hvo", "100", "l", "10"), RuleError, "unknown category 'biogas'"),
        (("spoor", "other", "hvo", "100", "l", "10"), RuleError, "unknown sector 'spoor'"),
        (("zeevaart", "conventional", "fame", "100", "l", "40"), RuleError, "EV-08"),
        (("binnenvaart", "conventional", "fame", "100", "l", "40"), RuleError, "EV-08"),
        (("luchtvaart", "conventional", "hvo", "100", "l", "40"), RuleError, "EV-08"),
        (("zeevaart", "annex-ixb", "fame", "100", "l", "40"), RuleError, "EV-08"),
        (("land", "other", "hvo", "100", "Nm3", "10"), RuleError, "cannot be given in 'Nm3'"),
        (("land", "other", "hvo", "100", "l", None), RuleError, "needs a ghg_intensity"),
        (("land", "other", "electricity", "100", "kWh", "0"), RuleError, "no ghg_intensity"),
    ],
)
def test_booking_refusals(
    params: ParameterSet, b: tuple[str, str, str, str, str, str | None], error: type, match: str
) -> None:
    """EV-06 and EV-08 refusals, each with a one-line reason."""
    with pytest.raises(error, match=match):
        units_for_booking(booking(*b), 2026, Trace(params))


def test_conventional_is_bookable_in_land(params: ParameterSet) -> None:
    """EV-08: food and feed crops only in land. 100 l FAME × 33 MJ/l × (94 − 40) / 1000 =
    178.2 → 178."""
    bu = units_for_booking(
        booking("land", "conventional", "fame", "100", "l", "40"), 2026, Trace(params)
    )
    assert bu.units == 178


def test_electricity_2027_needs_the_grid_share(params: ParameterSet) -> None:
    """EV-21: only the 2026 grid renewable share is known; 2027 stops with an error naming it."""
    with pytest.raises(ParameterError, match=r"ev\.grid_renewable_share"):
        units_for_booking(
            booking("land", "other", "electricity", "1000", "kWh", None), 2027, Trace(params)
        )


def test_fuel_booking_2027_does_not_need_the_grid_share(params: ParameterSet) -> None:
    """A fuel booking is not affected by EV-21:
    100 l HVO × 34 × (94 − 10) / 1000 = 285.6 → 285."""
    bu = units_for_booking(booking("land", "other", "hvo", "100", "l", "10"), 2027, Trace(params))
    assert bu.units == 285


def test_luchtvaart_booking_refused_in_besluit_2025(besluit: ParameterSet) -> None:
    """EV-10: aviation is not part of the besluit-2025 set."""
    with pytest.raises(RuleError, match="'luchtvaart' has no obligation in parameter set"):
        units_for_booking(
            booking("luchtvaart", "other", "hvo", "1000", "kg", "20"), 2026, Trace(besluit)
        )


# =============================================================================================
# (c) Caps (EV-14)
# =============================================================================================


def test_conventional_cap_binds(params: ParameterSet) -> None:
    """Land 2026, 1,000,000 l diesel: total 487,296, Annex 9A 103,889, RFNBO 1,692,
    Limiet Conventioneel 40,608 (case (a)).

    Holdings: annex-ixa 103,889 and rfnbo 1,692 (exactly the sub-obligations), other 300,000,
    conventional 100,000. General part = 487,296 − 103,889 − 1,692 = 381,715.
    Conventional counts only up to 40,608 (EV-14), so the general part gets
    300,000 + 40,608 = 340,608; shortfall = 381,715 − 340,608 = 41,107.
    The 59,392 conventional units above the cap are not surrendered (EV-12, EV-14).
    """
    ob = diesel_land(2026, params)
    held = [
        hold("land", "annex-ixa", 103_889),
        hold("land", "rfnbo", 1_692),
        hold("land", "other", 300_000),
        hold("land", "conventional", 100_000),
    ]
    c = one(compliance([ob], held, params, 2026))
    assert c.shortfall_by_sector == {"land": 41_107}
    assert plan_of(c) == {
        ("land", "land", "annex-ixa"): 103_889,
        ("land", "land", "rfnbo"): 1_692,
        ("land", "land", "other"): 300_000,
        ("land", "land", "conventional"): 40_608,
    }
    # Any amount of conventional beyond the cap changes nothing.
    more = [*held[:3], hold("land", "conventional", 5_000_000)]
    c2 = one(compliance([ob], more, params, 2026))
    assert c2.shortfall_by_sector == {"land": 41_107}
    assert plan_of(c2)[("land", "land", "conventional")] == 40_608


def test_annex_ixb_cap_in_binnenvaart(params: ParameterSet) -> None:
    """Binnenvaart 2026, base 10,000,000 MJ; one point = 9,400.

    Totaal 3,8 % = 35,720; vrije ruimte 0,8 % = 7,520; RFNBO 0,02 % = 188;
    Limiet Annex 9B 11,07 % = 104,058 (does not bind below the total).
    Holding only binnenvaart annex-ixb 1,000,000: the RFNBO part (188) cannot be filled by
    annex-ixb (EV-15); the general part 35,720 − 188 = 35,532 is filled → shortfall 188.
    """
    ob = base("binnenvaart", 2026, 10_000_000, params)
    assert (ob.rows["total"], ob.rows["rfnbo_min"], ob.rows["annex_ixb_cap"]) == (
        35_720,
        188,
        104_058,
    )
    c = one(compliance([ob], [hold("binnenvaart", "annex-ixb", 1_000_000)], params, 2026))
    assert c.shortfall_by_sector == {"binnenvaart": 188}
    assert outcome(c, "binnenvaart").sub_shortfall == {"rfnbo": 188}
    assert plan_of(c) == {("binnenvaart", "binnenvaart", "annex-ixb"): 35_532}


def test_cap_of_zero_excludes_the_category(params: ParameterSet) -> None:
    """Zeevaart Limiet Conventioneel and Annex 9B are 0 %: land conventional or annex-ixb units
    are worth nothing there, even within the vrije ruimte (EV-14). 2,500 GJ: total 8,460."""
    ob = zeevaart_gj(params)
    held = [hold("land", "conventional", 10_000), hold("land", "annex-ixb", 10_000)]
    c = one(compliance([ob], held, params, 2026))
    assert c.shortfall_by_sector == {"zeevaart": 8_460}
    assert c.plan == []


# =============================================================================================
# (d) Sub-obligations (EV-15, EV-16)
# =============================================================================================


def test_unmet_annex_ixa_sub_obligation(params: ParameterSet) -> None:
    """Land 2026, 1,000,000 l diesel: total 487,296, Annex 9A 103,889, RFNBO 1,692.

    Holdings: other 1,000,000 (plenty), rfnbo 1,692, annex-ixa only 3,889.
    Only annex-ixa fills the Annex 9A part (EV-15): 3,889 of 103,889 → 100,000 missing.
    The general part 381,715 is filled with 'other'; the rfnbo part with 1,692.
    Surrendered 381,715 + 3,889 + 1,692 = 387,296; shortfall 487,296 − 387,296 = 100,000,
    equal to the missing annex-ixa units (EV-16) although 618,285 'other' units stay unused.
    """
    ob = diesel_land(2026, params)
    held = [
        hold("land", "other", 1_000_000),
        hold("land", "rfnbo", 1_692),
        hold("land", "annex-ixa", 3_889),
    ]
    c = one(compliance([ob], held, params, 2026))
    land = outcome(c, "land")
    assert (land.total, land.surrendered, land.shortfall) == (487_296, 387_296, 100_000)
    assert land.sub_shortfall == {"annex-ixa": 100_000, "rfnbo": 0}
    assert c.shortfall_total == 100_000
    assert not c.compliant
    assert plan_of(c) == {
        ("land", "land", "annex-ixa"): 3_889,
        ("land", "land", "other"): 381_715,
        ("land", "land", "rfnbo"): 1_692,
    }


def test_unmet_rfnbo_in_land_2030(params: ParameterSet) -> None:
    """Land 2030, 1,000,000 l diesel: total 774,936, Annex 9A 296,438, RFNBO 22,673.

    Holdings: annex-ixa 1,000,000, no rfnbo. Annex IX-A fills its part (296,438) and, as any
    unit, the general part (774,936 − 296,438 − 22,673 = 455,825): 752,263 surrendered.
    Shortfall = 22,673 = the RFNBO sub-obligation.
    """
    ob = diesel_land(2030, params)
    c = one(compliance([ob], [hold("land", "annex-ixa", 1_000_000)], params, 2030))
    assert c.shortfall_by_sector == {"land": 22_673}
    assert outcome(c, "land").sub_shortfall == {"annex-ixa": 0, "rfnbo": 22_673}
    assert plan_of(c) == {("land", "land", "annex-ixa"): 752_263}


def test_sub_shortfall_counts_every_surrendered_unit_of_its_category(params: ParameterSet) -> None:
    """EV-15, EV-16: land 2026, 1,000,000 l diesel (total 487,296; 9A 103,889; RFNBO 1,692).

    Held: only annex-ixa 125,545. The Annex 9A part takes 103,889 of them; the surplus 21,656
    fills part of the general part (381,715). Surrendered 125,545; shortfall
    487,296 − 125,545 = 361,751. Missing per sub-obligation: Annex 9A 0 (filled), RFNBO 1,692.

    BUG (exposed here): the solver is indifferent between putting an annex-ixa unit in the
    Annex 9A part or in the general part, and ``_outcome`` reports the sub-shortfall from that
    arbitrary split — it says the whole Annex 9A sub-obligation (103,889) is missing although
    125,545 annex-ixa units are surrendered. The total shortfall is right.
    """
    ob = diesel_land(2026, params)
    c = one(compliance([ob], [hold("land", "annex-ixa", 125_545)], params, 2026))
    land = outcome(c, "land")
    assert (land.surrendered, land.shortfall) == (125_545, 361_751)
    assert land.sub_shortfall == {"annex-ixa": 0, "rfnbo": 1_692}


def test_sub_shortfall_rfnbo_counts_surrendered_rfnbo(params: ParameterSet) -> None:
    """EV-15, EV-16: land 2030, base 100,000 MJ; one point = 94 EREs.

    Totaal 22,9 % = 2,152.6 → 2,153; Annex 9A 8,76 % = 823.44 → 823;
    RFNBO 0,67 % = 62.98 → 63.
    Held: rfnbo 546 only, all surrendered (63 to the RFNBO part, 483 to the general part);
    shortfall 2,153 − 546 = 1,607; missing: Annex 9A 823, RFNBO 0. (Same bug as above: keten
    reports the RFNBO sub-obligation as wholly unmet.)
    """
    ob = base("land", 2030, 100_000, params)
    assert (ob.rows["total"], ob.rows["annex_ixa_min"], ob.rows["rfnbo_min"]) == (2_153, 823, 63)
    c = one(compliance([ob], [hold("land", "rfnbo", 546)], params, 2030))
    land = outcome(c, "land")
    assert land.shortfall == 1_607
    assert land.sub_shortfall == {"annex-ixa": 823, "rfnbo": 0}


# =============================================================================================
# (e) Vrije ruimte (EV-13)
# =============================================================================================


def test_land_units_in_zeevaart_up_to_the_vrije_ruimte(params: ParameterSet) -> None:
    """Zeevaart 2026, 2,500 GJ: total 8,460, sector-specific 5,875, vrije ruimte 2,585.

    With only land 'other' units (10,000): at most 2,585 count (EV-13) → shortfall 5,875.
    Adding zeevaart 'other' 3,000: 3,000 + 2,585 = 5,585 → shortfall 8,460 − 5,585 = 2,875.
    """
    ob = zeevaart_gj(params)
    c = one(compliance([ob], [hold("land", "other", 10_000)], params, 2026))
    zee = outcome(c, "zeevaart")
    assert (zee.surrendered, zee.from_other_sectors, zee.shortfall) == (2_585, 2_585, 5_875)
    assert plan_of(c) == {("zeevaart", "land", "other"): 2_585}

    c2 = one(
        compliance(
            [ob], [hold("land", "other", 10_000), hold("zeevaart", "other", 3_000)], params, 2026
        )
    )
    assert c2.shortfall_by_sector == {"zeevaart": 2_875}
    assert plan_of(c2) == {
        ("zeevaart", "land", "other"): 2_585,
        ("zeevaart", "zeevaart", "other"): 3_000,
    }


def test_vrije_ruimte_is_shared_by_all_foreign_origins(params: ParameterSet) -> None:
    """EV-13: units from other sectors *together* at most the vrije ruimte.

    Zeevaart 2,500 GJ (vrije ruimte 2,585): land 2,000 + binnenvaart 2,000 + LREs 2,000 held;
    only 2,585 of them count → shortfall 8,460 − 2,585 = 5,875.
    """
    ob = zeevaart_gj(params)
    held = [
        hold("land", "other", 2_000),
        hold("binnenvaart", "other", 2_000),
        hold("luchtvaart", "other", 2_000),
    ]
    c = one(compliance([ob], held, params, 2026))
    assert c.shortfall_by_sector == {"zeevaart": 5_875}
    assert outcome(c, "zeevaart").from_other_sectors == 2_585


def test_zeevaart_units_cannot_be_used_in_land(params: ParameterSet) -> None:
    """Land has vrije ruimte 0 % (table Land): units from zeevaart (or LREs) count for nothing
    there, whatever their category. Land 2026, 1,000,000 MJ: total 13,536."""
    ob = base("land", 2026, 1_000_000, params)
    assert ob.rows["total"] == 13_536
    held = [hold("zeevaart", cat, 100_000) for cat in ("annex-ixa", "rfnbo", "other")]
    held.append(hold("luchtvaart", "other", 100_000))
    c = one(compliance([ob], held, params, 2026))
    assert c.shortfall_by_sector == {"land": 13_536}
    assert c.plan == []


# =============================================================================================
# (f) Luchtvaart with LREs and EREs (EV-13, EV-20)
# =============================================================================================


def test_luchtvaart_2026_with_lres_and_land_eres(params: ParameterSet) -> None:
    """Luchtvaart 2026, base 1,000,000 MJ (table Luchtvaart, column 2026); one point = 940.

    Totaal 2,5 % = 2,350; Sectorspecifiek 0 %; Vrije ruimte 2,5 % = 2,350; RFNBO 0,00 % = 0;
    Limiet Annex 9B 4,77 % = 4,483.8 → 4,484.

    LREs: 500 kg HVO at 20 g/MJ booked in luchtvaart, annex-ixb:
    500 × 44 = 22,000 MJ × 74 / 1000 = 1,628 LREs.
    Land EREs: 722 'other'. 1,628 + 722 = 2,350 = total → compliant, 722 from other sectors
    (within the vrije ruimte of 2,350; EV-13).
    """
    ob = base("luchtvaart", 2026, 1_000_000, params)
    assert ob.rows == {
        "total": 2_350,
        "sector_specific": 0,
        "vrije_ruimte": 2_350,
        "annex_ixa_min": 0,
        "rfnbo_min": 0,
        "conventional_cap": 0,
        "annex_ixb_cap": 4_484,
    }
    lre = units_for_booking(
        Booking(SUPPLIER, "luchtvaart", "annex-ixb", "hvo", D(500), "kg", D(20)),
        2026,
        Trace(params),
    )
    assert (lre.units, lre.unit_name) == (1_628, "LRE")
    held = [
        Holding(SUPPLIER, ut(lre.origin_sector, lre.category), lre.units),
        hold("land", "other", 722),
    ]
    c = one(compliance([ob], held, params, 2026))
    assert c.compliant
    assert outcome(c, "luchtvaart").from_other_sectors == 722
    assert plan_of(c) == {
        ("luchtvaart", "land", "other"): 722,
        ("luchtvaart", "luchtvaart", "annex-ixb"): 1_628,
    }
    # One land ERE fewer: shortfall 1.
    held[1] = hold("land", "other", 721)
    assert one(compliance([ob], held, params, 2026)).shortfall_by_sector == {"luchtvaart": 1}


def test_luchtvaart_2026_with_eres_only(params: ParameterSet) -> None:
    """EV-13: with sector-specific 0 %, EREs from any other sector may fill the whole total.
    Zeevaart 1,000 + binnenvaart 1,350 = 2,350 → compliant."""
    ob = base("luchtvaart", 2026, 1_000_000, params)
    held = [hold("zeevaart", "other", 1_000), hold("binnenvaart", "other", 1_350)]
    c = one(compliance([ob], held, params, 2026))
    assert c.compliant
    assert outcome(c, "luchtvaart").from_other_sectors == 2_350


# =============================================================================================
# (g) The best allocation keeps scarce units (EV-07, EV-12)
# =============================================================================================


def test_other_is_surrendered_before_annex_ixa(params: ParameterSet) -> None:
    """EV-07: zeevaart 2,500 GJ, total 8,460. Held: zeevaart annex-ixa 10,000, other 5,000.

    Both plans 'all annex-ixa' and '5,000 other + 3,460 annex-ixa' leave no shortfall; keten
    keeps the scarce units: other 5,000, annex-ixa 8,460 − 5,000 = 3,460.
    """
    ob = zeevaart_gj(params)
    held = [hold("zeevaart", "annex-ixa", 10_000), hold("zeevaart", "other", 5_000)]
    c = one(compliance([ob], held, params, 2026))
    assert c.compliant
    assert plan_of(c) == {
        ("zeevaart", "zeevaart", "annex-ixa"): 3_460,
        ("zeevaart", "zeevaart", "other"): 5_000,
    }


def test_land_surplus_annex_ixa_and_rfnbo_are_kept(params: ParameterSet) -> None:
    """EV-07, EV-15: land 2026, 1,000,000 l diesel (total 487,296; 9A 103,889; RFNBO 1,692).

    Held: annex-ixa 200,000, rfnbo 10,000, other 500,000. Annex-ixa fills only its part
    (103,889), rfnbo only its part (1,692); the general part 381,715 takes 'other'.
    96,111 annex-ixa and 8,308 rfnbo stay with the holder; 118,285 'other' too (EV-12).
    """
    ob = diesel_land(2026, params)
    held = [
        hold("land", "annex-ixa", 200_000),
        hold("land", "rfnbo", 10_000),
        hold("land", "other", 500_000),
    ]
    c = one(compliance([ob], held, params, 2026))
    assert c.compliant
    assert plan_of(c) == {
        ("land", "land", "annex-ixa"): 103_889,
        ("land", "land", "other"): 381_715,
        ("land", "land", "rfnbo"): 1_692,
    }


def test_land_unit_goes_to_land_not_zeevaart(params: ParameterSet) -> None:
    """Multi-sector competition (EV-12, EV-13, EV-16).

    Land 2026, 1,000,000 l diesel: total 487,296, general part 381,715 (case (a)).
    Zeevaart 2026, 2,500 GJ: total 8,460, vrije ruimte 2,585.
    Held: land annex-ixa 103,889, land rfnbo 1,692, land other 381,715 + 2,585 = 384,300,
    zeevaart other 5,875.
    Land units can only serve land and (within 2,585) zeevaart; zeevaart units cannot serve land.
    The only plan without shortfall: land gets 381,715 land 'other'; zeevaart gets the remaining
    2,585 land 'other' plus its own 5,875.
    """
    obs = [diesel_land(2026, params), zeevaart_gj(params)]
    held = [
        hold("land", "annex-ixa", 103_889),
        hold("land", "rfnbo", 1_692),
        hold("land", "other", 384_300),
        hold("zeevaart", "other", 5_875),
    ]
    c = one(compliance(obs, held, params, 2026))
    assert c.shortfall_by_sector == {"land": 0, "zeevaart": 0}
    assert plan_of(c) == {
        ("land", "land", "annex-ixa"): 103_889,
        ("land", "land", "other"): 381_715,
        ("land", "land", "rfnbo"): 1_692,
        ("zeevaart", "land", "other"): 2_585,
        ("zeevaart", "zeevaart", "other"): 5_875,
    }
    # Plan order of the JSON contract: sector order land, binnenvaart, zeevaart, luchtvaart.
    assert [s.sector for s in c.plan] == ["land"] * 3 + ["zeevaart"] * 2


def test_suppliers_are_independent_and_sorted(params: ParameterSet) -> None:
    """EV-12, EV-19: units of one holder never serve another supplier; holders without
    deliveries are not reported. Zeevaart 2,500 GJ for both A and B (total 8,460 each);
    A holds 8,460 zeevaart 'other', B holds nothing, C holds 1,000,000 but has no obligation."""
    ob = zeevaart_gj(params)
    obs = [
        Obligation("B", "zeevaart", 2026, ob.base_mj, dict(ob.rows), ob.trace),
        Obligation("A", "zeevaart", 2026, ob.base_mj, dict(ob.rows), ob.trace),
    ]
    held = [
        hold("zeevaart", "other", 8_460, holder="A"),
        hold("zeevaart", "other", 1_000_000, holder="C"),
    ]
    result = compliance(obs, held, params, 2026)
    assert [(c.supplier, c.shortfall_total) for c in result] == [("A", 0), ("B", 8_460)]


def test_allocation_is_deterministic(params: ParameterSet) -> None:
    """EV-07: same input, same plan."""
    obs = [diesel_land(2026, params), zeevaart_gj(params)]
    held = [
        hold("land", "annex-ixa", 150_000),
        hold("land", "other", 500_000),
        hold("zeevaart", "annex-ixa", 5_000),
        hold("zeevaart", "other", 5_000),
    ]
    first = one(compliance(obs, held, params, 2026)).to_dict()
    for _ in range(3):
        assert one(compliance(obs, held, params, 2026)).to_dict() == first


def test_holdings_of_the_same_type_are_added(params: ParameterSet) -> None:
    """Two holding rows of one type count as one: 3,000 + 2,875 zeevaart 'other' plus the
    vrije ruimte 2,585 from land = 8,460 → compliant."""
    ob = zeevaart_gj(params)
    held = [
        hold("zeevaart", "other", 3_000),
        hold("zeevaart", "other", 2_875),
        hold("land", "other", 2_585),
    ]
    assert one(compliance([ob], held, params, 2026)).compliant


# =============================================================================================
# (h) Least-cost plans (EV-18)
# =============================================================================================


def test_least_cost_buys_each_part_from_the_cheapest_eligible_type(params: ParameterSet) -> None:
    """Land 2026, 1,000,000 l diesel: total 487,296 = 9A 103,889 + RFNBO 1,692 + general 381,715.

    Prices (€/unit): land other 10.25, land annex-ixa 30.10, land rfnbo 199.99, zeevaart other
    5.00 (cheapest, but land has vrije ruimte 0 — unusable). Nothing held.

    * 103,889 annex-ixa × 30.10 = 3,127,058.90 (the 9A part needs annex-ixa)
    * 1,692 rfnbo × 199.99     =   338,383.08 (the RFNBO sub-obligation forces buying rfnbo)
    * 381,715 other × 10.25    = 3,912,578.75 (cheapest type for the general part)
    * cost                     = 7,378,020.73, exactly
    """
    ob = diesel_land(2026, params)
    prices = {
        ut("land", "other"): D("10.25"),
        ut("land", "annex-ixa"): D("30.10"),
        ut("land", "rfnbo"): D("199.99"),
        ut("zeevaart", "other"): D("5.00"),
    }
    (plan,) = least_cost_plans([ob], [], prices, params, 2026)
    assert plan.compliance.compliant
    assert {(p.origin_sector, p.category): p.amount for p in plan.purchases} == {
        ("land", "annex-ixa"): 103_889,
        ("land", "other"): 381_715,
        ("land", "rfnbo"): 1_692,
    }
    assert isinstance(plan.cost_eur, Decimal)
    assert plan.cost_eur == D("7378020.73")
    assert str(plan.cost_eur) == "7378020.73"


def test_least_cost_uses_cheap_annex_ixa_for_the_general_part(params: ParameterSet) -> None:
    """Annex-ixa at €8 is cheaper than other at €10: it fills the 9A part and the general part.

    485,604 (= 103,889 + 381,715) × 8 = 3,884,832; 1,692 rfnbo × 100 = 169,200;
    cost 4,054,032.
    """
    ob = diesel_land(2026, params)
    prices = {
        ut("land", "other"): D(10),
        ut("land", "annex-ixa"): D(8),
        ut("land", "rfnbo"): D(100),
    }
    (plan,) = least_cost_plans([ob], [], prices, params, 2026)
    assert {(p.origin_sector, p.category): p.amount for p in plan.purchases} == {
        ("land", "annex-ixa"): 485_604,
        ("land", "rfnbo"): 1_692,
    }
    assert plan.cost_eur == D(4_054_032)
    assert plan.compliance.compliant


def test_least_cost_uses_holdings_and_respects_the_cap(params: ParameterSet) -> None:
    """Held: land other 300,000, conventional 100,000 (cap 40,608 already reachable).

    Conventional at €1 is cheap but the cap (EV-14) is already filled by held units, so buying
    it is useless. General part 381,715 − 300,000 − 40,608 = 41,107 'other' to buy.

    * 41,107 other × 10      =   411,070
    * 103,889 annex-ixa × 30 = 3,116,670
    * 1,692 rfnbo × 200      =   338,400
    * cost                   = 3,866,140
    """
    ob = diesel_land(2026, params)
    held = [hold("land", "other", 300_000), hold("land", "conventional", 100_000)]
    prices = {
        ut("land", "other"): D(10),
        ut("land", "annex-ixa"): D(30),
        ut("land", "rfnbo"): D(200),
        ut("land", "conventional"): D(1),
    }
    (plan,) = least_cost_plans([ob], held, prices, params, 2026)
    assert {(p.origin_sector, p.category): p.amount for p in plan.purchases} == {
        ("land", "annex-ixa"): 103_889,
        ("land", "other"): 41_107,
        ("land", "rfnbo"): 1_692,
    }
    assert plan.cost_eur == D(3_866_140)
    assert plan.compliance.compliant
    assert plan_of(plan.compliance)[("land", "land", "conventional")] == 40_608


def test_least_cost_buys_cap_room_when_cheaper(params: ParameterSet) -> None:
    """Same obligation, held land other 300,000 only. Conventional at €1 fills the general part
    up to its cap: 40,608 × 1 = 40,608; the rest 381,715 − 300,000 − 40,608 = 41,107 other
    × 10 = 411,070; plus 3,116,670 (annex-ixa) + 338,400 (rfnbo). Cost 3,906,748."""
    ob = diesel_land(2026, params)
    prices = {
        ut("land", "other"): D(10),
        ut("land", "annex-ixa"): D(30),
        ut("land", "rfnbo"): D(200),
        ut("land", "conventional"): D(1),
    }
    (plan,) = least_cost_plans([ob], [hold("land", "other", 300_000)], prices, params, 2026)
    assert {(p.origin_sector, p.category): p.amount for p in plan.purchases} == {
        ("land", "annex-ixa"): 103_889,
        ("land", "conventional"): 40_608,
        ("land", "other"): 41_107,
        ("land", "rfnbo"): 1_692,
    }
    assert plan.cost_eur == D(3_906_748)


def test_least_cost_in_zeevaart_uses_the_vrije_ruimte(params: ParameterSet) -> None:
    """Zeevaart 2,500 GJ: total 8,460, vrije ruimte 2,585. Prices: land other €10, zeevaart
    other €20. Cheapest: 2,585 land × 10 = 25,850 (no more, EV-13) + 5,875 zeevaart × 20 =
    117,500 → 143,350."""
    ob = zeevaart_gj(params)
    prices = {ut("land", "other"): D(10), ut("zeevaart", "other"): D(20)}
    (plan,) = least_cost_plans([ob], [], prices, params, 2026)
    assert {(p.origin_sector, p.category): p.amount for p in plan.purchases} == {
        ("land", "other"): 2_585,
        ("zeevaart", "other"): 5_875,
    }
    assert plan.cost_eur == D(143_350)
    assert plan.to_dict()["compliant"] is True


def test_least_cost_without_rfnbo_price_is_not_compliant(params: ParameterSet) -> None:
    """EV-18: no usable RFNBO price → the RFNBO part cannot be filled.

    Land 2026, 1,000,000 l diesel. Prices: land other €10, land annex-ixa €30, binnenvaart rfnbo
    €50 (unusable in land: vrije ruimte 0). Plan: buy 103,889 annex-ixa (3,116,670) and 381,715
    other (3,817,150): cost 6,933,820; compliant false, remaining shortfall 1,692 = RFNBO part.
    """
    ob = diesel_land(2026, params)
    prices = {
        ut("land", "other"): D(10),
        ut("land", "annex-ixa"): D(30),
        ut("binnenvaart", "rfnbo"): D(50),
    }
    (plan,) = least_cost_plans([ob], [], prices, params, 2026)
    assert not plan.compliance.compliant
    assert plan.compliance.shortfall_total == 1_692
    assert outcome(plan.compliance, "land").sub_shortfall == {"annex-ixa": 0, "rfnbo": 1_692}
    assert {(p.origin_sector, p.category): p.amount for p in plan.purchases} == {
        ("land", "annex-ixa"): 103_889,
        ("land", "other"): 381_715,
    }
    assert plan.cost_eur == D(6_933_820)
    d = plan.to_dict()
    assert (d["compliant"], d["shortfall_total"], d["cost_eur"]) == (False, 1_692, D(6_933_820))


def test_least_cost_when_already_compliant_buys_nothing(params: ParameterSet) -> None:
    """Held units that already meet the obligation: cost 0, no purchases."""
    ob = zeevaart_gj(params)
    (plan,) = least_cost_plans(
        [ob], [hold("zeevaart", "other", 8_460)], {ut("zeevaart", "other"): D(1)}, params, 2026
    )
    assert plan.purchases == []
    assert plan.cost_eur == D(0)
    assert plan.compliance.compliant
