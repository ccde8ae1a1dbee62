"""Hand-worked legal cases for the CO2 standards (Regulation (EU) 2019/631 as amended).

Every case writes its arithmetic out. Set ``in-force`` unless said otherwise: cars 2025–2029 fleet
target 93.6 g/km, TM0 1650.15 kg (Del. Reg. 2025/371), slope a2025 = 0.0144 (UNVERIFIED, VH-02),
ZLEV benchmark x = 25 %, clamp [1.0, 1.05], eco-innovation cap 6 g/km (Art. 11), premium €95.
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from keten.core.errors import ParameterError, RuleError, UnknownValueError
from keten.core.params import load_set
from keten.vehicles.model import Credits, Fleet
from keten.vehicles.standards import (
    YearInput,
    assess,
    assess_averaged,
    round_half_up_places,
)

IN_FORCE = load_set("vehicles", "in-force")
COM = load_set("vehicles", "com-2025-995")


def fleet(
    n: int,
    sum_mass: str,
    sum_e: str,
    *,
    year: int = 2025,
    eco: str = "0",
    zn: int = 0,
    ze: str = "0",
    m1e_n: int = 0,
    name: str = "A",
    members: tuple[str, ...] = (),
) -> Fleet:
    return Fleet(name, year, n, D(sum_mass), D(sum_e), D(eco), zn, D(ze), m1e_n, D(0), members)


def test_small_fleet_reference_target_annex_i_2025() -> None:
    # 600 petrol cars Mt 1500 kg at 120 g/km + 400 BEVs Mt 1800 kg at 0 g/km.
    # TM = (600×1500 + 400×1800)/1000 = 1,620,000/1000 = 1620 kg
    # reference = 93.6 + 0.0144 × (1620 − 1650.15) = 93.6 − 0.43416 = 93.16584
    # y = 400/1000 = 0.4; factor = clamp(1 + 0.4 − 0.25 = 1.15) = 1.05 (above the clamp)
    # target = 93.16584 × 1.05 = 97.824132 → 97.824; average = 72,000/1000 = 72 → excess 0
    a = assess(fleet(1000, "1620000", "72000", zn=400, ze="0"), "cars", IN_FORCE)
    assert a.exact_target == D("97.824132")
    assert a.target == D("97.824")
    assert a.zlev_share == D("0.4")
    assert a.zlev_factor == D("1.05")
    assert a.average_emissions == D("72.000")
    assert a.excess == 0 and a.premium_eur == 0
    # Every result says it used the unverified slope (VH-02).
    assert a.unverified == ["vehicles.cars.slope", "vehicles.cars.slope_above_tm0"]


@pytest.mark.parametrize(
    ("zn", "ze", "share", "factor"),
    [
        # below: 200 BEV + 100 PHEV at 40 g: 200 + 100 × (1 − 0.7×40/50 = 0.44) = 244 → y 0.244;
        # 1 + 0.244 − 0.25 = 0.994 → clamped up to 1.0
        (300, "4000", "0.244", "1"),
        # inside: 250 BEV + 100 PHEV at 40 g: 250 + 44 = 294 → y 0.294; 1 + 0.294 − 0.25 = 1.044
        (350, "4000", "0.294", "1.044"),
        # above: 300 BEV + 100 PHEV at 25 g: 300 + 100 × (1 − 0.35) = 365 → 1.115 → 1.05
        (400, "2500", "0.365", "1.05"),
        # exactly at the benchmark: 250 BEV → y 0.25 → factor 1.0
        (250, "0", "0.25", "1"),
    ],
)
def test_zlev_factor_clamp_reg_2023_851(zn: int, ze: str, share: str, factor: str) -> None:
    a = assess(fleet(1000, "1650150", "90000", zn=zn, ze=ze), "cars", IN_FORCE)
    assert a.zlev_share == D(share)
    assert a.zlev_factor == D(factor)
    # TM = TM0 → reference target = 93.6 exactly; target = 93.6 × factor
    assert a.exact_target == D("93.6") * D(factor)


def test_vehicle_at_50_g_is_zlev_with_weight_0_3() -> None:
    # ZLEV_specific at 50 g/km = 1 − 0.7 × 50/50 = 0.3; 1000 such vans of 1000 → y = 0.3;
    # vans x = 17 %: 1 + 0.3 − 0.17 = 1.13 → 1.05
    a = assess(fleet(1000, "2161130", "50000", zn=1000, ze="50000"), "vans", IN_FORCE)
    assert a.zlev_share == D("0.3")
    assert a.zlev_factor == D("1.05")
    # vans: TM = TM0 2161.13 → reference 153.9; target 153.9 × 1.05 = 161.595
    assert a.target == D("161.595")


def test_vans_piecewise_slope_above_tm0() -> None:
    # vans TM 2261.13 (100 kg above TM0) → α = a2021 = 0.1064 (UNVERIFIED):
    # 153.9 + 0.1064 × 100 = 164.54; below TM0 by 100 kg → α = 0.0848: 153.9 − 8.48 = 145.42
    above = assess(fleet(10, "22611.3", "1000"), "vans", IN_FORCE)
    below = assess(fleet(10, "20611.3", "1000"), "vans", IN_FORCE)
    assert above.target == D("164.540")
    assert below.target == D("145.420")


def test_eco_innovation_cap_art_11() -> None:
    # 1000 cars at 110 g/km with 7.5 g/km savings each: average savings 7.5 > cap 6 (2025–2029)
    # average = 110 − 6 = 104; target 93.6 (TM = TM0, y = 0 → factor 1.0)
    # excess = 104 − 93.6 = 10.4 → premium = 10.4 × 95 × 1000 = 988,000
    a = assess(fleet(1000, "1650150", "110000", eco="7500"), "cars", IN_FORCE)
    assert a.average_emissions == D("104.000")
    assert a.excess == D("10.400")
    assert a.premium_eur == D("988000")
    steps = {str(s.label): s for s in a.trace.steps}  # the English text (a msg)
    assert steps["eco-innovation savings"].result == "6"


def test_eco_innovation_under_cap_counts_in_full() -> None:
    # 2.5 g/km average savings < 6 → average 110 − 2.5 = 107.5
    a = assess(fleet(1000, "1650150", "110000", eco="2500"), "cars", IN_FORCE)
    assert a.average_emissions == D("107.500")


def test_premium_art_8_with_three_decimal_rounding() -> None:
    # 2000 cars, Σ CO2 = 200,001 g/km → average 100.0005 → 100.001 (half up, 3 decimals, VH-06)
    # target 93.6; excess 6.401 → premium = 6.401 × 95 × 2000 = 1,216,190
    a = assess(fleet(2000, "3300300", "200001"), "cars", IN_FORCE)
    assert a.average_emissions == D("100.001")
    assert a.excess == D("6.401")
    assert a.premium_eur == D("1216190")


def test_round_half_up_places() -> None:
    assert round_half_up_places(D("1.0005"), 3) == D("1.001")
    assert round_half_up_places(D("1.00049"), 3) == D("1.000")


def test_pool_assessed_on_combined_fleet_art_6() -> None:
    # Alone, A (500 cars, Mt 1400, 130 g/km): TM 1400 → 93.6 + 0.0144 × (−250.15) = 89.99784,
    # y = 0 → factor 1.0 → target 89.998; excess 130 − 89.998 = 40.002 → 40.002 × 95 × 500
    # = 1,900,095.
    alone = assess(fleet(500, "700000", "65000"), "cars", IN_FORCE)
    assert alone.target == D("89.998")
    assert alone.premium_eur == D("1900095")
    # Pooled with B (500 BEVs, Mt 1900): TM = (700,000 + 950,000)/1000 = 1650 →
    # 93.6 + 0.0144 × (−0.15) = 93.59784; y = 0.5 → factor 1.05 → 98.277732 → 98.278;
    # average 65,000/1000 = 65 → no excess.
    pool = assess(
        fleet(1000, "1650000", "65000", zn=500, name="P", members=("A", "B")), "cars", IN_FORCE
    )
    assert pool.target == D("98.278")
    assert pool.average_emissions == D("65.000")
    assert pool.premium_eur == 0


def test_pool_cannot_have_derogation() -> None:
    with pytest.raises(RuleError, match="pool cannot have a derogation"):
        assess(
            fleet(10, "16501.5", "1000", members=("A", "B")),
            "cars",
            IN_FORCE,
            derogation_target=D("130"),
        )


def test_derogation_target_is_user_input_art_10() -> None:
    # Derogation target 150 g/km replaces the formula; average 155 → excess 5 → 5 × 95 × 800
    a = assess(fleet(800, "1320120", "124000"), "cars", IN_FORCE, derogation_target=D("150"))
    assert a.target == D("150.000")
    assert a.premium_eur == D("380000")
    assert a.zlev_factor is None
    assert a.unverified == []  # no formula parameter used


def test_nedc_2020_formula_annex_i_part_a_point_1() -> None:
    # 1000 cars, average mass in running order 1479.88 kg, 110 g/km NEDC:
    # target = 95 + 0.0333 × (1479.88 − 1379.88) = 95 + 3.33 = 98.33
    # excess = 110 − 98.33 = 11.67 → premium = 11.67 × 95 × 1000 = 1,108,650
    a = assess(fleet(1000, "1479880", "110000", year=2020), "cars", IN_FORCE)
    assert a.target == D("98.330")
    assert a.excess == D("11.670")
    assert a.premium_eur == D("1108650")
    assert a.unverified == []
    # 2020 eco-innovation cap is 7 g/km: savings 8 → 7 counted → 103
    b = assess(fleet(1000, "1479880", "110000", year=2020, eco="8000"), "cars", IN_FORCE)
    assert b.average_emissions == D("103.000")


def test_three_year_averaging_reg_2025_1214_vh_05() -> None:
    # With derogation targets (user input, so TM0 2027 — unknown — is not needed):
    # 2025: N 1000, average 135, target 130 | 2026: N 1200, 126, 128 | 2027: N 800, 127, 125
    # average = (135×1000 + 126×1200 + 127×800)/3000 = 387,800/3000 = 129.2666… → 129.267
    # target  = (130×1000 + 128×1200 + 125×800)/3000 = 383,600/3000 = 127.8666… → 127.867
    # excess 1.400 → premium 1.4 × 95 × 3000 = 399,000 (annual would be 475,000 + 0 + 152,000)
    years = [
        YearInput(fleet(1000, "1650150", "135000", year=2025), D("130")),
        YearInput(fleet(1200, "1980180", "151200", year=2026), D("128")),
        YearInput(fleet(800, "1320120", "101600", year=2027), D("125")),
    ]
    a = assess_averaged(years, "cars", IN_FORCE, 2027)
    assert a.registrations == 3000
    assert a.average_emissions == D("129.267")
    assert a.target == D("127.867")
    assert a.excess == D("1.400")
    assert a.premium_eur == D("399000")
    annual = [
        assess(y.fleet, "cars", IN_FORCE, derogation_target=y.derogation_target) for y in years
    ]
    assert [x.premium_eur for x in annual] == [D("475000"), 0, D("152000")]


def test_averaging_only_for_2027() -> None:
    with pytest.raises(RuleError, match="ask for --year 2027"):
        assess_averaged([YearInput(fleet(10, "16501.5", "1000"))], "cars", IN_FORCE, 2026)


def test_2027_formula_needs_tm0_which_is_unknown() -> None:
    with pytest.raises(UnknownValueError, match=r"vehicles.cars.tm0 is unknown .* 2027"):
        assess(fleet(10, "16501.5", "1000", year=2027), "cars", IN_FORCE)


@pytest.mark.parametrize("year", [2021, 2022, 2024, 2019])
def test_years_without_a_formula_are_errors(year: int) -> None:
    with pytest.raises(ParameterError, match="no target formula"):
        assess(fleet(10, "16501.5", "1000", year=year), "cars", IN_FORCE)


def test_vans_2020_not_covered() -> None:
    with pytest.raises(ParameterError, match="no target formula for vans in 2020"):
        assess(fleet(10, "16501.5", "1000", year=2020), "vans", IN_FORCE)


def test_2035_in_force_zero_target_without_mass_term_vh_03() -> None:
    # 2035 in force: target 0 for everyone; average 10 g/km → excess 10 → 10 × 95 × 100 = 95,000
    a = assess(fleet(100, "200000", "1000", year=2035), "cars", IN_FORCE)
    assert a.target == D("0.000")
    assert a.premium_eur == D("95000")
    assert a.unverified == ["vehicles.cars.slope", "vehicles.cars.slope_above_tm0"]


def test_2035_com_2025_995_ninety_percent_and_credits_vh_07() -> None:
    # COM(2025) 995: target 0.1 × 110.1 = 11.01 (inferred). Average 20 g/km.
    # steel credit claimed 9 g/km, cap 7 % × 110.1 = 7.707 → 7.707; fuels 1 g/km (cap 3.303) → 1
    # average = 20 − 7.707 − 1 = 11.293; excess = 11.293 − 11.010 = 0.283 → 0.283 × 95 × 100
    # = 2,688.5
    a = assess(
        fleet(100, "200000", "2000", year=2035), "cars", COM, credits=Credits(D("9"), D("1"))
    )
    assert a.target == D("11.010")
    assert a.average_emissions == D("11.293")
    assert a.excess == D("0.283")
    assert a.premium_eur == D("2688.5")
    assert "vehicles.credits.steel_cap" in a.unverified
    assert "vehicles.cars.fleet_target" in a.unverified


def test_credits_refused_in_the_in_force_set() -> None:
    with pytest.raises(RuleError, match="has no credits"):
        assess(
            fleet(100, "200000", "2000", year=2035),
            "cars",
            IN_FORCE,
            credits=Credits(D("1"), D("0")),
        )


def test_m1e_weighting_1_3_vh_08() -> None:
    # 1000 cars, Σ CO2 = 100,000 (900 ICE at 111.1…); 100 of them M1E BEVs at 0 g/km.
    # weighted average = (100,000 + 0.3 × 0) / (1000 + 0.3 × 100) = 100,000 / 1030 = 97.087378…
    # → 97.087; in force (no weighting): 100,000 / 1000 = 100
    f = fleet(1000, "1650150", "100000", zn=100, m1e_n=100)
    com = assess(f, "cars", COM)
    force = assess(f, "cars", IN_FORCE)
    assert com.average_emissions == D("97.087")
    assert force.average_emissions == D("100.000")
    assert "vehicles.m1e_weight" in com.unverified


def test_com_vans_2030_target_minus_40_percent() -> None:
    p = COM.get("vehicles.vans.fleet_target", 2030)
    assert p.value == D("108.66") and p.status == "inferred"
    assert IN_FORCE.get("vehicles.vans.fleet_target", 2030).value == D("90.6")


def test_unknown_category() -> None:
    with pytest.raises(RuleError, match="unknown vehicle category"):
        assess(fleet(10, "16501.5", "1000"), "trucks", IN_FORCE)


def test_fleet_needs_registrations() -> None:
    with pytest.raises(ValueError, match="at least one registration"):
        fleet(0, "0", "0")
