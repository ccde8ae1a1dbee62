"""Company scope 3.1 on the tiny MRIO (footprint_tiny.py: money unit EUR, price year 2020;
M = [4.25, 0.5, 6, 1] kg/EUR, M_up = M − S = [3.25, 0, 3, 0])."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from footprint_pactdocs import VALID
from footprint_tiny import tiny

from keten.core.errors import InputError
from keten.core.params import load_set
from keten.core.trace import Trace
from keten.footprint.accounts import multipliers, upstream_multipliers
from keten.footprint.scope3 import SpendFactors, money_unit, scope3
from keten.io.footprint_files import PURCHASE_COLUMNS, read_deflators, read_purchases

HEADER = ",".join(PURCHASE_COLUMNS)
ROWS = [
    # supplier,product,method,region,sector,amount,currency,price_year,quantity,qunit,
    # factor,source,pact,s12,transport
    "Jansen,beams,spend,NL,goods,200000,EUR,2020,,,,,,,",
    "Wang,bolts,spend,CN,goods,10000,EUR,2024,,,,,,,",
    "Bakker,cement,average,,,,,,20000,kg,0.6,CBS example factor,,,",
    "Jansen,HEA 200,supplier,,,,,,5000,kilogram,,,urn:jansen:product:hea200,,300",
    "Li,castings,hybrid,CN,goods,1000,EUR,2020,,,,,,400,",
]


def factors() -> SpendFactors:
    m = tiny()
    ext = m.extension("emissions")
    M = multipliers(m, ext)
    up = upstream_multipliers(m, ext, M)
    keys = [(r, s) for r in m.regions for s in m.sectors]
    return SpendFactors(
        "GHG",
        "kg",
        m.unit,
        2020,
        {k: float(M[0, i]) for i, k in enumerate(keys)},
        {k: float(up[0, i]) for i, k in enumerate(keys)},
    )


def write(tmp_path: Path, rows: list[str], name: str = "p.csv") -> Path:
    f = tmp_path / name
    f.write_text(HEADER + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return f


def run(tmp_path: Path, rows: list[str]):  # type: ignore[no-untyped-def]
    trace = Trace(load_set("footprint", "beleidsagenda-2026"))
    defl = {("EUR", 2024): Decimal("0.8")}
    return scope3(read_purchases(write(tmp_path, rows)), trace, 2026, factors(), defl, [VALID])


def test_worked_example(tmp_path: Path) -> None:
    res = run(tmp_path, ROWS)
    kg = {(ln.product, ln.category): ln.kg_co2e for ln in res.lines}
    # spend: 200,000 EUR × 1 × M[NL, goods] 4.25 kg/EUR / 1 = 850,000 kg (FP-20)
    assert kg[("beams", "3.1")] == Decimal("850000")
    # spend, deflated: 10,000 EUR(2024) × 0.8 × M[CN, goods] 6 = 48,000 kg
    assert kg[("bolts", "3.1")] == Decimal("48000")
    # average-data: 20,000 kg × 0.6 kg CO2e/kg = 12,000 kg
    assert kg[("cement", "3.1")] == Decimal("12000")
    # supplier-specific: 5,000 kg × 1850.5 kg CO2e / 1000 kg = 9,252.5 kg (FP-34)
    assert kg[("HEA 200", "3.1")] == Decimal("9252.5")
    # transport from the direct supplier reported apart as category 4
    assert kg[("HEA 200", "4")] == Decimal("300")
    # hybrid: 400 kg supplier scope 1+2 + 1,000 EUR × M_up[CN, goods] 3 = 3,400 kg (FP-24)
    assert kg[("castings", "3.1")] == Decimal("3400")
    # total 850,000 + 48,000 + 12,000 + 9,252.5 + 3,400 = 922,652.5
    assert res.total("3.1") == Decimal("922652.5") and res.total("4") == Decimal("300")
    # primary share (FP-23): (9,252.5 + 400) / 922,652.5 × 100
    assert res.primary_share == pytest.approx(Decimal("965250") / Decimal("922652.5"))
    # data quality (FP-25): (850,000·4.5 + 48,000·4.5 + 12,000·3.5 + 9,252.5·1.5 + 3,400·3)
    #   / 922,652.5 = 4,107,078.75 / 922,652.5
    assert res.data_quality == pytest.approx(Decimal("4107078.75") / Decimal("922652.5"))
    s = res.summary()
    assert s["by_supplier"]["Jansen"] == Decimal("859252.5")
    assert s["by_method"]["spend"] == Decimal("898000")
    assert any("basic prices" in n for n in res.notes)
    assert {p.name for p in res.trace.flagged()} >= {"footprint.scope3.dqr.spend_based"}


def test_money_units() -> None:
    assert money_unit("M.EUR") == ("EUR", 10**6)
    assert money_unit("Mill USD") == ("USD", 10**6)
    assert money_unit("EUR") == ("EUR", 1)
    with pytest.raises(InputError):
        money_unit("euros")


@pytest.mark.parametrize(
    ("row", "field", "message"),
    [
        ("Jansen,beams,spend,NL,goods,200000,EUR,2019,,,,,,,", "price_year", "no deflator"),
        ("Jansen,beams,spend,XX,goods,200000,EUR,2020,,,,,,,", "supplier_region", "no MRIO"),
        ("Jansen,beams,spend,NL,cars,200000,EUR,2020,,,,,,,", "sector", "no MRIO"),
        ("Jansen,beams,spend,NL,goods,,EUR,2020,,,,,,,", "amount", "required"),
        ("Bakker,cement,average,,,,,,20000,kg,,CBS,,,", "activity_factor", "required"),
        ("Bakker,cement,average,,,,,,20000,kg,0.6,,,,", "factor_source", "required"),
        ("Jansen,HEA,supplier,,,,,,5000,kilogram,,,urn:other:x,,", "pact_product_id", "no active"),
        (
            "Jansen,HEA,supplier,,,,,,5000,liter,,,urn:jansen:product:hea200,,",
            "quantity_unit",
            "declared unit",
        ),
        ("Li,castings,hybrid,CN,goods,1000,EUR,2020,,,,,,,", "supplier_scope12_kg", "required"),
    ],
)
def test_bad_lines(tmp_path: Path, row: str, field: str, message: str) -> None:
    with pytest.raises(InputError) as err:
        run(tmp_path, [row])
    assert err.value.field == field and err.value.row == 1 and message in str(err.value)


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ("Jansen,beams,guess,NL,goods,1,EUR,2020,,,,,,,", "method"),
        (",beams,spend,NL,goods,1,EUR,2020,,,,,,,", "supplier"),
        ("Jansen,beams,spend,NL,goods,-5,EUR,2020,,,,,,,", "amount"),
        ("Jansen,beams,spend,NL,goods,1e5,EUR,2020,,,,,,,", "amount"),
        ("Jansen,beams,spend,NL,goods,1,EURO,2020,,,,,,,", "currency"),
        ("Jansen,beams,spend,NL,goods,1,EUR,20,,,,,,,", "price_year"),
        ("Jansen,beams,spend,NL,goods,1,EUR,2020,,,,,,,-3", "transport_kg"),
    ],
)
def test_bad_purchase_files(tmp_path: Path, row: str, field: str) -> None:
    with pytest.raises(InputError) as err:
        read_purchases(write(tmp_path, [row]))
    assert err.value.field == field and err.value.row == 1


def test_purchase_file_shape(tmp_path: Path) -> None:
    f = tmp_path / "bad.csv"
    f.write_text("supplier,product\nA,B\n")
    with pytest.raises(InputError, match="missing column"):
        read_purchases(f)
    with pytest.raises(InputError, match="no purchases"):
        read_purchases(write(tmp_path, []))
    with pytest.raises(InputError, match="not found"):
        read_purchases(tmp_path / "nothing.csv")


def test_spend_needs_an_mrio(tmp_path: Path) -> None:
    trace = Trace(load_set("footprint", "beleidsagenda-2026"))
    with pytest.raises(InputError, match="needs an MRIO, and none was chosen"):
        scope3(read_purchases(write(tmp_path, ROWS[:1])), trace, 2026, None)


def test_deflator_file(tmp_path: Path) -> None:
    f = tmp_path / "d.csv"
    f.write_text("currency,price_year,factor\nEUR,2024,0.8\nusd,2024,0.75\n")
    assert read_deflators(f) == {("EUR", 2024): Decimal("0.8"), ("USD", 2024): Decimal("0.75")}
    f.write_text("currency,price_year,factor\nEUR,2024,0\n")
    with pytest.raises(InputError, match="positive"):
        read_deflators(f)
    f.write_text("currency,price_year,factor\nEUR,2024,1\nEUR,2024,2\n")
    with pytest.raises(InputError, match="duplicate"):
        read_deflators(f)
