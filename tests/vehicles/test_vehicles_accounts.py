"""2040 Climate-Law account and the Dutch ESR table (params/vehicles/common).

2040 (Reg. 2021/1119 Art. 4(3), 4(5) as amended by 2026/667): target = 1990 net × (100 − 90) %,
credits count from 2036 up to 5 % of 1990 net emissions (VH-10); path linear between the 2030
(−55 %), 2040 (−90 %) and 2050 (−100 %) targets (VH-11).
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from keten.core.errors import RuleError, UnknownValueError
from keten.core.params import load_set
from keten.vehicles.accounts import EsrYear, NetPoint, esr, eu2040, path_reduction

P = load_set("vehicles", "in-force")


def test_2040_credit_cap_art_4_5() -> None:
    # base 1990 = 4800 Mt: target 2040 = 4800 × 10 % = 480; credit cap = 4800 × 5 % = 240;
    # domestic limit = 480 + 240 = 720 (domestic reduction 85 %).
    # 2040: net 700, credits claimed 300 → counted 240 → accounted 460 ≤ 480 → on track.
    r = eu2040([NetPoint(1990, D(4800)), NetPoint(2040, D(700), D(300))], P)
    assert (r.target_2040, r.credit_cap_2040, r.domestic_limit_2040) == (D(480), D(240), D(720))
    assert r.domestic_reduction_pct == D(85)
    y2040 = r.years[-1]
    assert y2040.credits_counted == D(240)
    assert y2040.accounted == D(460)
    assert y2040.path_limit == D(480)
    assert y2040.on_track is True
    # 700 − 720 < 0 → no domestic reduction left
    assert r.remaining_domestic_reduction == 0


def test_credits_before_2036_do_not_count_vh_10() -> None:
    # 2035: net 1400, credits 50 → counted 0; path 2035 = 55 + 35 × 5/10 = 72.5 % →
    # limit 4800 × 27.5 % = 1320; 1400 > 1320 → off track
    r = eu2040([NetPoint(1990, D(4800)), NetPoint(2035, D(1400), D(50))], P)
    y = r.years[-1]
    assert y.credits_counted == 0 and y.accounted == D(1400)
    assert y.path_limit == D(1320)
    assert y.on_track is False
    # remaining domestic reduction from the latest year: 1400 − 720 = 680
    assert r.remaining_domestic_reduction == D(680)
    assert "climate.credit_cap_pct" in r.summary()["unverified"]  # the 0 before 2036 is inferred


def test_path_reduction_linear_vh_11() -> None:
    m = [(2030, D(55)), (2040, D(90)), (2050, D(100))]
    assert path_reduction(2029, m) is None
    assert path_reduction(2030, m) == D(55)
    assert path_reduction(2045, m) == D(95)
    assert path_reduction(2060, m) == D(100)


def test_years_before_2030_have_no_path() -> None:
    r = eu2040([NetPoint(1990, D(4800)), NetPoint(2020, D(3000))], P)
    assert r.years[-1].path_limit is None and r.years[-1].on_track is None
    assert r.years[-1].reduction_pct == D("37.5")  # (4800 − 3000)/4800 = 37.5 %


def test_2040_needs_1990() -> None:
    with pytest.raises(RuleError, match="needs the 1990"):
        eu2040([NetPoint(2040, D(700))], P)


def test_2040_base_must_be_positive() -> None:
    with pytest.raises(RuleError, match="must be positive"):
        eu2040([NetPoint(1990, D(0))], P)


def test_2040_negative_credits() -> None:
    with pytest.raises(RuleError, match="must not be negative"):
        eu2040([NetPoint(1990, D(4800)), NetPoint(2040, D(700), D(-1))], P)


def test_2040_no_credits_in_base_year() -> None:
    with pytest.raises(RuleError, match="base year"):
        eu2040([NetPoint(1990, D(4800), D(1))], P)


def esr_years(*rows: tuple[int, int, int]) -> list[EsrYear]:
    return [EsrYear(y, D(e), D(a)) for y, e, a in rows]


def test_esr_banking_borrowing_and_penalty_arts_5_9() -> None:
    # 2021: AEA 100, emissions 90 → balance 10; banking cap 75 % × 100 = 75 → bank 10
    # 2022: 100 + 10 − 115 = −5 → borrow min(5, 7.5 % × AEA2023 100 = 7.5) = 5 → balance 0
    # 2023: 100 − 5 (repaid) − 100 = −5 → borrow min(5, 7.5) = 5 → 0
    # 2024: 100 − 5 − 110 = −15 → borrow min(15, 7.5 % × 100 = 7.5) = 7.5 → shortfall 7.5
    # 2025: emissions 80 + 7.5 × 1.08 = 88.1; 100 − 7.5 − 88.1 = 4.4 → bank min(4.4, 25 % × 500)
    r = esr(
        esr_years(
            (2021, 90, 100), (2022, 115, 100), (2023, 100, 100), (2024, 110, 100), (2025, 80, 100)
        ),
        P,
        None,
    )
    rows = {x.year: x for x in r.rows}
    assert rows[2021].banked_out == D(10) and rows[2021].compliant
    assert rows[2022].banked_in == D(10) and rows[2022].borrowed == D(5)
    assert rows[2022].balance == 0 and rows[2022].compliant
    assert rows[2023].repaid == D(5) and rows[2023].borrowed == D(5)
    assert rows[2024].borrowed == D("7.5") and rows[2024].shortfall == D("7.5")
    assert rows[2024].compliant is False
    assert rows[2025].penalty_added == D("8.1")
    assert rows[2025].balance == D("4.4") and rows[2025].banked_out == D("4.4")
    assert all(x.aea_from == "input" for x in r.rows)


def test_esr_banking_cap_vh_12() -> None:
    # 2021: AEA 100, emissions 10 → surplus 90; cap 75 % × 100 = 75 → bank 75, 15 unused
    r = esr(esr_years((2021, 10, 100)), P, None)
    assert r.rows[0].banked_out == D(75) and r.rows[0].surplus_unused == D(15)


def test_esr_2030_limit_from_2005() -> None:
    # −48 % in 2030 vs 2005: 2005 emissions 120 → limit 120 × 52 % = 62.4
    r = esr(esr_years((2021, 90, 100)), P, D(120))
    assert r.limit_2030 == D("62.4")


def test_esr_aea_from_params_is_unknown() -> None:
    with pytest.raises(UnknownValueError, match=r"esr\.nl\.aea is unknown"):
        esr([EsrYear(2021, D(90))], P, None)


def test_esr_transfer_over_cap() -> None:
    # transfer cap 2021 = 10 % × 100 = 10; 11 is refused
    with pytest.raises(RuleError, match=r"transfer_out 11 exceeds the cap 10 % × 100 = 10"):
        esr([EsrYear(2021, D(90), D(100), transfer_out=D(11))], P, None)


def test_esr_transfer_within_cap() -> None:
    # 2026 cap 15 % × 100 = 15 → transfer_in 15 accepted
    r = esr(
        [EsrYear(2021, D(100), D(100))]
        + [EsrYear(y, D(100), D(100)) for y in range(2022, 2026)]
        + [EsrYear(2026, D(110), D(100), transfer_in=D(15))],
        P,
        None,
    )
    assert r.rows[-1].transfers_net == D(15) and r.rows[-1].balance == D(5)


def test_esr_ets_flex_cap_unknown() -> None:
    with pytest.raises(UnknownValueError, match=r"esr\.nl\.ets_flex_cap"):
        esr([EsrYear(2021, D(90), D(100), ets_flex=D(1))], P, D(120))


def test_esr_lulucf_flex_cap_unknown() -> None:
    with pytest.raises(UnknownValueError, match=r"esr\.nl\.lulucf_flex_cap"):
        esr([EsrYear(2021, D(90), D(100), lulucf_flex=D(1))], P, None)


@pytest.mark.parametrize("years", [[2022], [2021, 2023], [2021, 2022, 2031], []])
def test_esr_series_must_be_consecutive_from_2021(years: list[int]) -> None:
    with pytest.raises(RuleError):
        esr([EsrYear(y, D(1), D(1)) for y in years], P, None)
