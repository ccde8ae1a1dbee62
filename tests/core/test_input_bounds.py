"""GEN-01: numbers in input files stay below 10^15 — one bound, one message, every domain.

A number of 10^15 or more is refused naming file, row and field; the largest number below the
bound (15 integer digits and six decimals: 21 digits) is read exactly.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from keten.core.errors import InputError
from keten.io.csvfile import MAX_AMOUNT, cell_amount
from keten.io.footprint_files import read_purchases
from keten.io.mki_files import read_bids
from keten.io.nitrogen_files import read_commitments, read_observed_farms, read_observed_sectors
from keten.io.vehicles_files import read_net_series

TOO_LARGE = "too large (limit 1,000,000,000,000,000)"
LARGEST = "999999999999999.999999"  # 10^15 − 10^-6: accepted
PURCHASE_HEADER = (
    "supplier,product,method,supplier_region,sector,amount,currency,price_year,quantity,"
    "quantity_unit,activity_factor,factor_source,pact_product_id,supplier_scope12_kg,transport_kg"
)


def test_the_bound_is_ten_to_the_fifteenth_in_either_sign() -> None:
    assert Decimal(10) ** 15 == MAX_AMOUNT
    assert cell_amount(LARGEST, "f.csv", 1, "x") == Decimal(LARGEST)
    assert cell_amount("-" + LARGEST, "f.csv", 1, "x") == -Decimal(LARGEST)
    for text in ("1000000000000000", "-1000000000000000", "9" * 40):
        with pytest.raises(InputError) as exc:
            cell_amount(text, "f.csv", 3, "x")
        assert str(exc.value) == f"f.csv, row 3, field 'x': {TOO_LARGE}"


# (reader, header, a data row with {n} where the number goes, field)
CASES = [
    (read_observed_farms, "farm_id,year,nh3_kg", "f1,2030,{n}", "nh3_kg"),
    (read_observed_sectors, "sector,substance,year,kt", "landbouw,nh3,2030,{n}", "kt"),
    (read_commitments, "kind,line,amount_eur_m,description", "vbr,l1,{n},x", "amount_eur_m"),
    (read_net_series, "year,net_emissions", "1990,{n}", "net_emissions"),
    (read_purchases, PURCHASE_HEADER, "S,p,spend,NL,goods,{n},EUR,2020,,,,,,,", "amount"),
]


@pytest.mark.parametrize(("reader", "header", "row", "field"), CASES)
def test_each_domain_refuses_a_number_of_ten_to_the_fifteenth(
    reader: object, header: str, row: str, field: str, tmp_path: Path
) -> None:
    """Before GEN-01 nitrogen read a 40-digit emission and reported a rounded distance to the
    path; footprint said "is out of range" only above 10^15; vehicles had its own wording."""
    path = tmp_path / "in.csv"
    path.write_text(f"{header}\n{row.format(n='1' + '0' * 39)}\n")
    with pytest.raises(InputError) as exc:
        reader(path)  # type: ignore[operator]
    assert str(exc.value) == f"{path}, row 1, field '{field}': {TOO_LARGE}"


@pytest.mark.parametrize(("reader", "header", "row", "field"), CASES)
def test_each_domain_reads_the_largest_number_below_the_bound_exactly(
    reader: object, header: str, row: str, field: str, tmp_path: Path
) -> None:
    path = tmp_path / "in.csv"
    path.write_text(f"{header}\n{row.format(n=LARGEST)}\n")
    result = reader(path)  # type: ignore[operator]
    assert LARGEST in repr(result) or Decimal(LARGEST) in _values(result)


def _values(result: object) -> list[Decimal]:
    """Every Decimal in a reader's result (a list of records or a dict)."""
    items = result.values() if isinstance(result, dict) else result
    out: list[Decimal] = []
    for item in items:  # type: ignore[attr-defined]
        if isinstance(item, Decimal):
            out.append(item)
        else:
            out.extend(v for v in vars(item).values() if isinstance(v, Decimal))
    return out


def test_mki_bids_share_the_bound(tmp_path: Path) -> None:
    path = tmp_path / "bids.csv"
    path.write_text("bidder,price_eur,mki_eur\nA,1000000000000000,10\n")
    with pytest.raises(InputError) as exc:
        read_bids(path)
    assert str(exc.value) == f"{path}, row 1, field 'price_eur': {TOO_LARGE}"
