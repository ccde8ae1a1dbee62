"""Every cell of the four tables of Bijlage 1 (seed 004_502c408745ad4f95.txt), pinned by hand.

The expected values below were typed from the seed, table by table and row by row; they are not
read from ``params/``. Each parametrized case is named ``<table>-<row>-<year>`` after the seed's
table and row, e.g. ``land-sectorspecifiek-2026``. Also: the ``besluit-2025`` set (EV-10).
"""

from __future__ import annotations

import os
import re
from decimal import Decimal
from pathlib import Path

import pytest

from keten.core.errors import ParameterError
from keten.core.params import ParameterSet, load_set

D = Decimal
YEARS = (2026, 2027, 2028, 2029, 2030)
SEED = "004_502c408745ad4f95.txt"

# table -> [(row label as printed in the seed, parameter row key, id slug,
#            printed cells 2026..2030, values 2026..2030)]
BIJLAGE_1: dict[str, list[tuple[str, str, str, tuple[str, ...], tuple[Decimal, ...]]]] = {
    "Land": [
        (
            "Sectorspecifiek",
            "sector_specific",
            "sectorspecifiek",
            ("14,4%", "16,4%", "18,3%", "20,3%", "22,9%"),
            (D("14.4"), D("16.4"), D("18.3"), D("20.3"), D("22.9")),
        ),
        (
            "Vrije ruimte",
            "vrije_ruimte",
            "vrije-ruimte",
            ("0%", "0%", "0%", "0%", "0%"),
            (D("0"), D("0"), D("0"), D("0"), D("0")),
        ),
        (
            "Totaal",
            "total",
            "totaal",
            ("14,4%", "16,4%", "18,3%", "20,3%", "22,9%"),
            (D("14.4"), D("16.4"), D("18.3"), D("20.3"), D("22.9")),
        ),
        (
            "Verplichting Annex 9A",
            "annex_ixa_min",
            "verplichting-annex-9a",
            ("3,07%", "4,49%", "5,92%", "7,34%", "8,76%"),
            (D("3.07"), D("4.49"), D("5.92"), D("7.34"), D("8.76")),
        ),
        (
            "Verplichting RFNBO",
            "rfnbo_min",
            "verplichting-rfnbo",
            ("0,05%", "0,09%", "0,21", "0,48%", "0,67%"),
            (D("0.05"), D("0.09"), D("0.21"), D("0.48"), D("0.67")),
        ),
        (
            "Limiet Conventioneel",
            "conventional_cap",
            "limiet-conventioneel",
            ("1,20%", "1,20%", "1,20%", "1,20%", "1,20%"),
            (D("1.20"), D("1.20"), D("1.20"), D("1.20"), D("1.20")),
        ),
        (
            "Limiet Annex 9B",
            "annex_ixb_cap",
            "limiet-annex-9b",
            ("4,29%", "4,29%", "4,29%", "4,29%", "4,29%"),
            (D("4.29"), D("4.29"), D("4.29"), D("4.29"), D("4.29")),
        ),
    ],
    "Zeevaart": [
        (
            "Sectorspecifiek",
            "sector_specific",
            "sectorspecifiek",
            ("2,5%", "3,3%", "4,1%", "4,9%", "5,7%"),
            (D("2.5"), D("3.3"), D("4.1"), D("4.9"), D("5.7")),
        ),
        (
            "Vrije ruimte",
            "vrije_ruimte",
            "vrije-ruimte",
            ("1,1%", "1,5%", "1,8%", "2,2%", "2,5%"),
            (D("1.1"), D("1.5"), D("1.8"), D("2.2"), D("2.5")),
        ),
        (
            "Totaal",
            "total",
            "totaal",
            ("3,6%", "4,8%", "5,9%", "7,1%", "8,2%"),
            (D("3.6"), D("4.8"), D("5.9"), D("7.1"), D("8.2")),
        ),
        (
            "Limiet Conventioneel",
            "conventional_cap",
            "limiet-conventioneel",
            ("0%", "0%", "0%", "0%", "0%"),
            (D("0"), D("0"), D("0"), D("0"), D("0")),
        ),
        (
            "Limiet Annex 9B",
            "annex_ixb_cap",
            "limiet-annex-9b",
            ("0%", "0%", "0%", "0%", "0%"),
            (D("0"), D("0"), D("0"), D("0"), D("0")),
        ),
    ],
    "Binnenvaart": [
        (
            "Sectorspecifiek",
            "sector_specific",
            "sectorspecifiek",
            ("3,0%", "4,1%", "6,1%", "8,2%", "11,6%"),
            (D("3.0"), D("4.1"), D("6.1"), D("8.2"), D("11.6")),
        ),
        (
            "Vrije ruimte",
            "vrije_ruimte",
            "vrije-ruimte",
            ("0,8%", "1,0%", "1,5%", "2,0%", "2,9%"),
            (D("0.8"), D("1.0"), D("1.5"), D("2.0"), D("2.9")),
        ),
        (
            "Totaal",
            "total",
            "totaal",
            ("3,8%", "5,1%", "7,6%", "10,2%", "14,5%"),
            (D("3.8"), D("5.1"), D("7.6"), D("10.2"), D("14.5")),
        ),
        (
            "Verplichting RFNBO",
            "rfnbo_min",
            "verplichting-rfnbo",
            ("0,02%", "0,04%", "0,09%", "0,17%", "0,34%"),
            (D("0.02"), D("0.04"), D("0.09"), D("0.17"), D("0.34")),
        ),
        (
            "Limiet Conventioneel",
            "conventional_cap",
            "limiet-conventioneel",
            ("0%", "0%", "0%", "0%", "0%"),
            (D("0"), D("0"), D("0"), D("0"), D("0")),
        ),
        (
            "Limiet Annex 9B",
            "annex_ixb_cap",
            "limiet-annex-9b",
            ("11,07%", "11,07%", "11,07%", "11,07%", "11,07%"),
            (D("11.07"), D("11.07"), D("11.07"), D("11.07"), D("11.07")),
        ),
    ],
    "Luchtvaart": [
        (
            "Sectorspecifiek",
            "sector_specific",
            "sectorspecifiek",
            ("0%", "0%", "0%", "0%", "0%"),
            (D("0"), D("0"), D("0"), D("0"), D("0")),
        ),
        (
            "Vrije ruimte",
            "vrije_ruimte",
            "vrije-ruimte",
            ("2,5%", "3,2%", "3,9%", "4,6%", "5,3%"),
            (D("2.5"), D("3.2"), D("3.9"), D("4.6"), D("5.3")),
        ),
        (
            "Totaal",
            "total",
            "totaal",
            ("2,5%", "3,2%", "3,9%", "4,6%", "5,3%"),
            (D("2.5"), D("3.2"), D("3.9"), D("4.6"), D("5.3")),
        ),
        (
            "Verplichting RFNBO",
            "rfnbo_min",
            "verplichting-rfnbo",
            ("0,00%", "0,00%", "0,00%", "0,00%", "0,56%"),
            (D("0.00"), D("0.00"), D("0.00"), D("0.00"), D("0.56")),
        ),
        (
            "Limiet Conventioneel",
            "conventional_cap",
            "limiet-conventioneel",
            ("0%", "0%", "0%", "0%", "0%"),
            (D("0"), D("0"), D("0"), D("0"), D("0")),
        ),
        (
            "Limiet Annex 9B",
            "annex_ixb_cap",
            "limiet-annex-9b",
            ("4,77%", "4,77%", "4,77%", "4,77%", "4,77%"),
            (D("4.77"), D("4.77"), D("4.77"), D("4.77"), D("4.77")),
        ),
    ],
}

ALL_ROW_KEYS = (
    "sector_specific",
    "vrije_ruimte",
    "total",
    "annex_ixa_min",
    "rfnbo_min",
    "conventional_cap",
    "annex_ixb_cap",
)
SECTORS = {table: table.lower() for table in BIJLAGE_1}


def _cells() -> list[pytest.ParameterSet]:
    cases = []
    for table, rows in BIJLAGE_1.items():
        for label, key, slug, printed, values in rows:
            for year, text, value in zip(YEARS, printed, values, strict=True):
                cases.append(
                    pytest.param(
                        table,
                        label,
                        f"ev.{SECTORS[table]}.{key}",
                        year,
                        text,
                        value,
                        id=f"{table.lower()}-{slug}-{year}",
                    )
                )
    return cases


CELLS = _cells()


@pytest.fixture(scope="module")
def bijlage1() -> ParameterSet:
    return load_set("ev", "bijlage-1")


@pytest.fixture(scope="module")
def besluit() -> ParameterSet:
    return load_set("ev", "besluit-2025")


def test_literal_table_has_every_cell_of_the_seed() -> None:
    """Bijlage 1: Land 7 rows, Zeevaart 5, Binnenvaart 6, Luchtvaart 6 — 24 rows × 5 years."""
    assert [len(rows) for rows in BIJLAGE_1.values()] == [7, 5, 6, 6]
    assert len(CELLS) == 120


def test_literal_values_match_their_printed_text() -> None:
    """Guards the hand-typed table: each value is its Dutch printed cell with ',' → '.' and no %.

    Bijlage 1, all tables; the land RFNBO 2028 cell has no '%' (EV-02).
    """
    for rows in BIJLAGE_1.values():
        for _label, _key, _slug, printed, values in rows:
            for text, value in zip(printed, values, strict=True):
                assert D(text.rstrip("%").replace(",", ".")) == value
                assert str(value) == text.rstrip("%").replace(",", ".")


@pytest.mark.parametrize(("table", "label", "name", "year", "printed", "expected"), CELLS)
def test_bijlage1_cell_value(
    bijlage1: ParameterSet,
    table: str,
    label: str,
    name: str,
    year: int,
    printed: str,
    expected: Decimal,
) -> None:
    """Bijlage 1, table <table>, row <label>, column <year>: value, printed text, unit, source."""
    pv = bijlage1.get(name, year)
    assert isinstance(pv.value, Decimal)
    assert pv.value == expected
    # exact digits as printed (1,20% stays 1.20, not 1.2)
    assert str(pv.value) == str(expected)
    assert pv.printed == printed
    assert pv.unit == "%"
    assert pv.period == str(year)
    assert SEED in pv.source
    assert f"table {table}, row {label}" in pv.source


@pytest.mark.parametrize("table", list(BIJLAGE_1), ids=[t.lower() for t in BIJLAGE_1])
def test_bijlage1_rows_absent_from_a_table_are_absent_from_the_set(
    bijlage1: ParameterSet, table: str
) -> None:
    """EV-04: a row a sector's table does not have (zeevaart Annex 9A/RFNBO; binnenvaart and
    luchtvaart Annex 9A) is not a parameter of the set; the set has exactly the table's rows."""
    sector = SECTORS[table]
    present = {key for _label, key, _slug, _p, _v in BIJLAGE_1[table]}
    assert bijlage1.names(f"ev.{sector}.") == sorted(f"ev.{sector}.{k}" for k in present)
    for key in ALL_ROW_KEYS:
        name = f"ev.{sector}.{key}"
        if key in present:
            assert name in bijlage1
        else:
            assert name not in bijlage1
            with pytest.raises(ParameterError, match=re.escape(name)):
                bijlage1.get(name, 2026)


def test_bijlage1_absent_rows_are_the_ones_of_ev04(bijlage1: ParameterSet) -> None:
    """EV-04: zeevaart has no Annex 9A or RFNBO row; binnenvaart and luchtvaart no Annex 9A row."""
    for name in (
        "ev.zeevaart.annex_ixa_min",
        "ev.zeevaart.rfnbo_min",
        "ev.binnenvaart.annex_ixa_min",
        "ev.luchtvaart.annex_ixa_min",
    ):
        assert name not in bijlage1
    assert "ev.land.annex_ixa_min" in bijlage1
    assert "ev.binnenvaart.rfnbo_min" in bijlage1
    assert "ev.luchtvaart.rfnbo_min" in bijlage1


def test_bijlage1_land_rfnbo_2028_printed_without_percent_ev02(bijlage1: ParameterSet) -> None:
    """EV-02: table Land, row Verplichting RFNBO, 2028 is printed "0,21" and read as 0.21 %."""
    pv = bijlage1.get("ev.land.rfnbo_min", 2028)
    assert pv.printed == "0,21"
    assert pv.value == D("0.21")
    assert pv.note is not None and "EV-02" in pv.note
    # it lies between its neighbours, as EV-02 argues
    assert bijlage1.get("ev.land.rfnbo_min", 2027).value < pv.value
    assert pv.value < bijlage1.get("ev.land.rfnbo_min", 2029).value


@pytest.mark.parametrize("year", YEARS)
@pytest.mark.parametrize("table", list(BIJLAGE_1), ids=[t.lower() for t in BIJLAGE_1])
def test_bijlage1_sector_specific_plus_vrije_ruimte_is_total(
    bijlage1: ParameterSet, table: str, year: int
) -> None:
    """Bijlage 1, every table: Sectorspecifiek + Vrije ruimte == Totaal for every year."""
    sector = SECTORS[table]
    specific = bijlage1.get(f"ev.{sector}.sector_specific", year).value
    vrij = bijlage1.get(f"ev.{sector}.vrije_ruimte", year).value
    total = bijlage1.get(f"ev.{sector}.total", year).value
    assert specific + vrij == total


def test_bijlage1_zeevaart_2030_encodes_table_not_prose_ev17(bijlage1: ParameterSet) -> None:
    """EV-17: table Zeevaart 2030 is 5,7 % / 2,5 % (total 8,2 %); the prose's 5,8 / 2,6 is not
    encoded."""
    specific = bijlage1.get("ev.zeevaart.sector_specific", 2030)
    vrij = bijlage1.get("ev.zeevaart.vrije_ruimte", 2030)
    total = bijlage1.get("ev.zeevaart.total", 2030)
    assert (specific.value, vrij.value, total.value) == (D("5.7"), D("2.5"), D("8.2"))
    assert (specific.printed, vrij.printed) == ("5,7%", "2,5%")
    assert specific.value != D("5.8")
    assert vrij.value != D("2.6")


@pytest.mark.parametrize("name", ["ev.land.total", "ev.luchtvaart.rfnbo_min"])
@pytest.mark.parametrize("year", [2025, 2031])
def test_bijlage1_covers_only_2026_to_2030(bijlage1: ParameterSet, name: str, year: int) -> None:
    """Bijlage 1 columns are 2026–2030: other years are outside coverage."""
    with pytest.raises(ParameterError, match="2026–2030"):
        bijlage1.get(name, year)


def _seed_path() -> Path:
    # The seeds live in ../shared/seeds beside the checkout (also in CI); override for elsewhere.
    default = Path(__file__).resolve().parents[2].parent / "shared" / "seeds"
    return Path(os.environ.get("KETEN_SEEDS_DIR", default)) / SEED


def _parse_seed_tables(text: str) -> dict[str, dict[str, list[str]]]:
    tables: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("|"):
            current = None
            continue
        if cells[1:] == [str(y) for y in YEARS]:
            current = tables.setdefault(cells[0], {})
        elif current is not None and not cells[0].startswith("-"):
            current[cells[0]] = cells[1:]
    return tables


EXCERPT = Path(__file__).parent / "data" / "bijlage1_seed_tables.txt"


def test_literal_table_equals_seed_text() -> None:
    """Cross-check of the hand-typed cells against the seed's Bijlage 1 tables, cell for cell.

    The table lines of the seed are shipped with the tests (``data/bijlage1_seed_tables.txt``)
    so this runs everywhere; where the seed itself is at hand (``../shared/seeds`` or
    ``KETEN_SEEDS_DIR``), the shipped lines are also checked to be the seed's own lines."""
    excerpt = EXCERPT.read_text(encoding="utf-8")
    seed = _parse_seed_tables(excerpt)
    typed = {
        table: {label: list(printed) for label, _k, _s, printed, _v in rows}
        for table, rows in BIJLAGE_1.items()
    }
    assert seed == typed
    assert len(seed) == 4 and sum(len(rows) for rows in seed.values()) == 24
    if _seed_path().is_file():
        seed_lines = set(_seed_path().read_text(encoding="utf-8").splitlines())
        table_lines = [ln for ln in excerpt.splitlines() if ln.startswith("|")]
        assert [ln for ln in table_lines if ln not in seed_lines] == []


# --- parameter set besluit-2025 (EV-10) -------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "expected", "status"),
    [
        pytest.param(2026, D("14.4"), "source", id="land-totaal-2026"),
        pytest.param(2027, D("17.575"), "inferred", id="land-totaal-2027"),
        pytest.param(2028, D("20.75"), "inferred", id="land-totaal-2028"),
        pytest.param(2029, D("23.925"), "inferred", id="land-totaal-2029"),
        pytest.param(2030, D("27.1"), "source", id="land-totaal-2030"),
    ],
)
@pytest.mark.parametrize("row", ["total", "sector_specific"])
def test_besluit_land_path_ev10(
    besluit: ParameterSet, row: str, year: int, expected: Decimal, status: str
) -> None:
    """EV-10: land 14.4 % (2026) to 27.1 % (2030); 2027–2029 linear and marked inferred."""
    pv = besluit.get(f"ev.land.{row}", year)
    assert pv.value == expected
    assert pv.status == status
    assert pv.flagged is (status != "source")


def test_besluit_land_intermediate_years_are_linear_ev10(besluit: ParameterSet) -> None:
    """EV-10: the interpolated years lie on the straight line 14.4 → 27.1 over four steps."""
    start = besluit.get("ev.land.total", 2026).value
    end = besluit.get("ev.land.total", 2030).value
    for k, year in enumerate(YEARS):
        assert besluit.get("ev.land.total", year).value == start + (end - start) * k / 4


@pytest.mark.parametrize("year", YEARS)
def test_besluit_land_has_no_vrije_ruimte_ev10(besluit: ParameterSet, year: int) -> None:
    """EV-10: land has no vrije ruimte (road obligations only with road EREs)."""
    assert besluit.get("ev.land.vrije_ruimte", year).value == 0


@pytest.mark.parametrize(
    ("sector", "total", "vrij", "specific"),
    [
        pytest.param("zeevaart", D("2.9"), D("0.9"), D("2.0"), id="zeevaart-2026"),
        pytest.param("binnenvaart", D("2.5"), D("0.5"), D("2.0"), id="binnenvaart-2026"),
    ],
)
def test_besluit_shipping_2026_ev10(
    besluit: ParameterSet, sector: str, total: Decimal, vrij: Decimal, specific: Decimal
) -> None:
    """EV-10: zeevaart 2026 2.9 % of which 0.9 % vrije ruimte; binnenvaart 2.5 % / 0.5 %;
    sector-specific is total minus vrije ruimte (inferred)."""
    assert besluit.get(f"ev.{sector}.total", 2026).value == total
    assert besluit.get(f"ev.{sector}.vrije_ruimte", 2026).value == vrij
    pv = besluit.get(f"ev.{sector}.sector_specific", 2026)
    assert pv.value == specific == total - vrij
    assert pv.status == "inferred"
    assert pv.flagged


@pytest.mark.parametrize("sector", ["zeevaart", "binnenvaart"])
@pytest.mark.parametrize("year", [2027, 2028, 2029, 2030])
@pytest.mark.parametrize("row", ["total", "vrije_ruimte", "sector_specific"])
def test_besluit_shipping_after_2026_unknown_ev10(
    besluit: ParameterSet, sector: str, year: int, row: str
) -> None:
    """EV-10: shipping figures 2027–2030 are unknown: a lookup stops and names the parameter."""
    name = f"ev.{sector}.{row}"
    with pytest.raises(ParameterError, match="unknown") as exc:
        besluit.get(name, year)
    assert name in str(exc.value)
    assert "besluit-2025" in str(exc.value)


def test_besluit_zeevaart_2027_total_unknown_ev10(besluit: ParameterSet) -> None:
    """EV-10: ev.zeevaart.total 2027 raises ParameterError mentioning 'unknown' and the note."""
    with pytest.raises(ParameterError, match="unknown") as exc:
        besluit.get("ev.zeevaart.total", 2027)
    assert "ev.zeevaart.total" in str(exc.value)
    assert "previously announced" in str(exc.value)


@pytest.mark.parametrize("sector", ["land", "zeevaart", "binnenvaart"])
@pytest.mark.parametrize("row", ["annex_ixa_min", "rfnbo_min"])
@pytest.mark.parametrize("year", YEARS)
def test_besluit_sub_obligations_unknown_ev10(
    besluit: ParameterSet, sector: str, row: str, year: int
) -> None:
    """EV-10: all sub-obligation percentages are unknown (e.g. land annex_ixa_min)."""
    with pytest.raises(ParameterError, match="unknown"):
        besluit.get(f"ev.{sector}.{row}", year)


def test_besluit_land_annex_ixa_min_raises_ev10(besluit: ParameterSet) -> None:
    """EV-10: land annex_ixa_min raises ParameterError naming it."""
    with pytest.raises(ParameterError, match=re.escape("ev.land.annex_ixa_min")):
        besluit.get("ev.land.annex_ixa_min", 2026)


def test_besluit_has_no_luchtvaart_parameters_ev10(besluit: ParameterSet) -> None:
    """EV-10: aviation is not part of the besluit-2025 set."""
    assert besluit.names("ev.luchtvaart.") == []
    assert not any(".luchtvaart." in n for n in besluit.names())
    with pytest.raises(ParameterError, match=re.escape("ev.luchtvaart.total")):
        besluit.get("ev.luchtvaart.total", 2026)
    # sanity: the set does contain the other three sectors
    for sector in ("land", "zeevaart", "binnenvaart"):
        assert f"ev.{sector}.total" in besluit
