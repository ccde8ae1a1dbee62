"""Decimal quantities (keten.core.quantity): named rounding steps, exact parsing, exact arithmetic.

Rounding steps are those EV-03 (half up, once, at the end) and EV-06 (down per booking row) name;
number parsing follows EV-11 (no exponents, no thousands separators, at most six decimals).
"""

from __future__ import annotations

from decimal import Context, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from keten.core.quantity import (
    MAX_DECIMALS,
    div,
    exact_sum,
    mul,
    parse_number,
    percent,
    round_down,
    round_half_up,
    to_decimal,
)

D = Decimal
#: Wide context for the test's own arithmetic, so expected values are never rounded themselves.
WIDE = Context(prec=300)


def exact(digits: int, places: int) -> Decimal:
    """``digits × 10^-places``, exactly."""
    return D(digits).scaleb(-places, context=WIDE)


# --- round_half_up (EV-03) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0.5", 1),
        ("1.5", 2),
        ("2.5", 3),
        ("2.4999", 2),
        ("2.5000000000000000000000000001", 3),
        ("2.4999999999999999999999999999", 2),
        ("0", 0),
        ("0.4", 0),
        ("7", 7),
        ("-0.5", -1),
        ("-1.5", -2),
        ("-2.4", -2),
        ("123456789012345678901234567890.5", 123456789012345678901234567891),
        ("123456789012345678901234567890.4999999", 123456789012345678901234567890),
        ("99999999999999999999999999999999999999999.5", 10**41),
    ],
)
def test_round_half_up_ev03(value: str, expected: int) -> None:
    """EV-03: rows are rounded half up (halves away from zero) to whole EREs."""
    result = round_half_up(D(value))
    assert type(result) is int
    assert result == expected


@given(st.integers(min_value=-(10**40), max_value=10**40), st.integers(0, 10**6 - 1))
def test_round_half_up_is_nearest_integer(whole: int, millionths: int) -> None:
    """EV-03 property: result is within ½ of the value, exact halves go up in magnitude."""
    frac = exact(millionths, 6)
    value = WIDE.add(D(whole), frac) if whole >= 0 else WIDE.subtract(D(whole), frac)
    result = round_half_up(value)
    distance = abs(WIDE.subtract(D(result), value))
    assert distance <= D("0.5")
    if distance == D("0.5"):
        assert abs(result) > abs(value)


# --- round_down (EV-06) ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("7.9999999", 7),
        ("7.999999999999999999999999999999", 7),
        ("7", 7),
        ("0.5", 0),
        ("0.9", 0),
        ("-0.1", -1),
        ("-7.5", -8),
        ("123456789012345678901234567890.999999", 123456789012345678901234567890),
        ("99999999999999999999999999999999999999999.999999", 10**41 - 1),
    ],
)
def test_round_down_is_floor_ev06(value: str, expected: int) -> None:
    """EV-06: units per booking row are rounded down (floor), never up."""
    result = round_down(D(value))
    assert type(result) is int
    assert result == expected


@given(st.integers(min_value=-(10**40), max_value=10**40), st.integers(0, 10**6 - 1))
def test_round_down_property(whole: int, millionths: int) -> None:
    """EV-06 property: round_down(x) <= x < round_down(x) + 1."""
    value = WIDE.add(D(whole), exact(millionths, 6))
    result = round_down(value)
    assert D(result) <= value < WIDE.add(D(result), 1)


# --- to_decimal and parse_number (EV-11) -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1234.5", "1234.5"),
        ("1234,5", "1234.5"),
        ("-3", "-3"),
        ("+3", "3"),
        ("0", "0"),
        (" 12,25 ", "12.25"),
        ("0.123456", "0.123456"),
        ("-0,000001", "-0.000001"),
        ("123456789012345678901234567890", "123456789012345678901234567890"),
    ],
)
def test_parse_number_accepts_ev11(text: str, expected: str) -> None:
    """EV-11: digits, optional sign, point or comma, at most six decimals."""
    value = parse_number(text)
    assert isinstance(value, Decimal)
    assert value == D(expected)
    assert str(value) == expected


REFUSED_BY_BOTH = ["1e3", "1E3", "1.2.3", "", "   ", "nan", "NaN", "inf", "-Infinity", "1,234.5"]
REFUSED_BY_PARSE_NUMBER = [
    *REFUSED_BY_BOTH,
    "1.1234567",
    "0,0000001",
    "1_000",
    "1 000",
    "1.234,5",
    "1.",
    ".5",
    "abc",
    "١٢٣",
    "--1",
    "0x10",
]


@pytest.mark.parametrize("text", REFUSED_BY_PARSE_NUMBER)
def test_parse_number_refuses_ev11(text: str) -> None:
    """EV-11: no exponents, no thousands separators, no NaN/inf, at most six decimals."""
    with pytest.raises(ValueError) as exc:
        parse_number(text)
    assert "\n" not in str(exc.value)
    assert str(MAX_DECIMALS) in str(exc.value)


@given(st.integers(min_value=-(10**20), max_value=10**20), st.integers(0, MAX_DECIMALS))
def test_parse_number_round_trips_both_separators(digits: int, places: int) -> None:
    """EV-11 property: any number with <= 6 decimals parses exactly, with '.' or ','."""
    value = exact(digits, places)
    text = f"{value:f}"
    assert parse_number(text) == value
    assert parse_number(text.replace(".", ",")) == value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1234.5", "1234.5"),
        ("1234,5", "1234.5"),
        ("-3", "-3"),
        (" 0,05 ", "0.05"),
        ("0.30000000000000004", "0.30000000000000004"),
    ],
)
def test_to_decimal_accepts(text: str, expected: str) -> None:
    value = to_decimal(text)
    assert isinstance(value, Decimal)
    assert str(value) == expected


def test_to_decimal_passes_int_and_decimal_through() -> None:
    assert to_decimal(7) == D(7)
    assert to_decimal(D("1.20")) == D("1.20")
    assert str(to_decimal(D("1.20"))) == "1.20"
    with pytest.raises(ValueError):
        to_decimal(D("NaN"))
    with pytest.raises(ValueError):
        to_decimal(D("Infinity"))


@pytest.mark.parametrize("text", ["1.2.3", "", "nan", "NaN", "inf", "-Infinity", "1,234.5", "abc"])
def test_to_decimal_refuses(text: str) -> None:
    with pytest.raises(ValueError) as exc:
        to_decimal(text)
    assert "\n" not in str(exc.value)


@pytest.mark.parametrize("text", ["1e3", "1E3", "1_000", "١٢٣"])
def test_to_decimal_refuses_exponent_underscore_and_foreign_digits(text: str) -> None:
    """to_decimal's docstring: accepts "1234.5" and "1234,5", ValueError "on anything else"
    (and EV-11: no exponents).

    Exposes a bug: to_decimal (quantity.py:32) hands the text to ``Decimal()``, which also accepts
    exponents ("1e3" → 1E+3), underscores ("1_000") and non-ASCII digits.
    """
    with pytest.raises(ValueError):
        to_decimal(text)


# --- mul / div / percent -----------------------------------------------------------------------

A30 = D("123456789012345678901234567890")
B30 = D("987654321098765432109876543210")


def test_mul_of_two_30_digit_numbers_is_exact() -> None:
    assert mul(A30, B30) == D(123456789012345678901234567890 * 987654321098765432109876543210)
    assert str(mul(A30, B30)) == str(
        123456789012345678901234567890 * 987654321098765432109876543210
    )


def test_mul_of_30_digit_decimals_is_exact() -> None:
    a = D("123456789012345.123456789012345")
    b = D("987654321098765.432109876543210")
    expected = exact(123456789012345123456789012345 * 987654321098765432109876543210, 30)
    assert mul(a, b) == expected


def test_div_back_of_30_digit_product_is_exact() -> None:
    assert div(mul(A30, B30), B30) == A30
    assert div(mul(A30, B30), A30) == B30


def test_mul_several_factors_and_identity() -> None:
    assert mul() == 1
    assert mul(D("1000000"), D("94"), D("14.4"), D("0.01"), D("0.001")) == D("13536")
    assert mul(D("0.1"), D("0.2")) == D("0.02")


@given(
    st.integers(min_value=-(10**30) + 1, max_value=10**30 - 1),
    st.integers(min_value=-(10**30) + 1, max_value=10**30 - 1),
    st.integers(0, 15),
    st.integers(0, 15),
)
def test_mul_div_exact_for_30_digit_numbers(a: int, b: int, ea: int, eb: int) -> None:
    """Products of two numbers of up to 30 digits are never rounded (60-digit context)."""
    x, y = exact(a, ea), exact(b, eb)
    product = mul(x, y)
    assert product == exact(a * b, ea + eb)
    if b != 0:
        assert div(product, y) == x


def test_percent() -> None:
    assert percent(D("14.4")) == D("0.144")
    assert percent(D("0.21")) == D("0.0021")
    assert percent(D("100")) == 1


def test_exact_sum_keeps_every_digit_where_the_builtin_sum_rounds() -> None:
    # 10^20 + 10^-12 has 33 significant digits: the default 28-digit context drops the 10^-12,
    # the 60-digit legal context keeps it.
    values = [Decimal("100000000000000000000"), Decimal("0.000000000001")]
    assert sum(values, Decimal(0)) == Decimal("100000000000000000000")
    assert exact_sum(values) == Decimal("100000000000000000000.000000000001")
    assert exact_sum([]) == Decimal(0)
    assert exact_sum(iter([Decimal("1.5"), Decimal("-2.25")])) == Decimal("-0.75")
