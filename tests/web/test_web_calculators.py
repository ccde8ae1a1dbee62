"""The calculators at /calculators (no account): obligation and booking on the Energie Vervoer
engine, per parameter set or both side by side, each with its explanation.

Hand-worked numbers cite Bijlage 1 (seed 004_502c408745ad4f95.txt) and the interpretations:
EV-01 (row EREs = MJ × 94 g/MJ × % / 100 / 1000 g per ERE), EV-03 (rounded half up at the end),
EV-06 (booking units, rounded down), EV-09 (energy contents), EV-10 (unknown values).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from web_site import make_registry

from keten.core.params import load_set
from keten.core.trace import Trace
from keten.ev.model import Booking, Delivery
from keten.ev.obligation import obligations
from keten.ev.units import units_for_booking
from keten.web.app import create_web_app

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "ev"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    reg = make_registry("sqlite:///" + str(tmp_path / "k.db"))
    with TestClient(create_web_app(reg), base_url="https://testserver") as c:
        c.cookies.set("keten_lang", "en")
        yield c
    reg.ledger.sessions.kw["bind"].dispose()


def token(c: TestClient) -> str:
    m = CSRF_RE.search(c.get("/calculators").text)
    assert m
    return m.group(1)


def obligation(c: TestClient, rows: list[tuple[str, str, str, str]], **extra: str) -> str:
    data = {"csrf_token": token(c), "year": "2026", "scenario": "both", **extra}
    for i, (sector, fuel, quantity, unit) in enumerate(rows, start=1):
        data |= {f"sector_{i}": sector, f"fuel_{i}": fuel, f"quantity_{i}": quantity}
        data[f"unit_{i}"] = unit
    r = c.post("/calculators/obligation", data=data)
    assert r.status_code == 200, r.text
    return r.text


def cell(html: str, scenario: str, sector: str, row: str, supplier: str = "—") -> str:
    """The shown value of one obligation row (text of the cell, tags removed)."""
    table = re.search(
        rf'<table class="obligation" data-scenario="{scenario}" data-sector="{sector}" '
        rf'data-supplier="{re.escape(supplier)}">(.*?)</table>',
        html,
        re.S,
    )
    assert table, (scenario, sector)
    m = re.search(rf'<tr data-row="{row}">.*?<td class="num">(.*?)</td>', table.group(1), re.S)
    assert m
    return re.sub(r"<[^>]+>", "", m.group(1)).strip()


def error(html: str, name: str) -> str:
    m = re.search(rf'<p id="e-{name}" class="error">(.*?)</p>', html, re.S)
    assert m, f"no error next to {name}"
    return m.group(1)


def test_the_page_needs_no_account_and_shows_both_forms(client: TestClient) -> None:
    r = client.get("/calculators")
    assert r.status_code == 200
    assert "Obligation calculator" in r.text and "Booking calculator" in r.text
    assert 'id="f-booking_scenario"' in r.text and 'id="f-scenario"' in r.text
    assert "/login" not in r.headers.get("location", "")


def test_obligation_hand_worked_land_diesel_both_sets(client: TestClient) -> None:
    # 1,000,000 l diesel × 36 MJ/l (ev.lhv.diesel.per_l, EV-09) = 36,000,000 MJ. Table Land 2026:
    # Totaal 14,4 %: 36,000,000 × 94 × 14.4 / 100 / 1000 = 487,296 (EV-01)
    # Verplichting Annex 9A 3,07 %: 103,888.8 → 103,889 (half up, EV-03)
    # Verplichting RFNBO 0,05 %: 1,692; Limiet Conventioneel 1,20 %: 40,608
    # Limiet Annex 9B 4,29 %: 145,173.6 → 145,174
    html = obligation(client, [("land", "diesel", "1000000", "l")])
    expected = {
        "total": "487,296",
        "annex_ixa_min": "103,889",
        "rfnbo_min": "1,692",
        "conventional_cap": "40,608",
        "annex_ixb_cap": "145,174",
    }
    for row, value in expected.items():
        assert cell(html, "bijlage-1", "land", row) == value
    # the engine (what `keten ev obligation` prints) gives the same numbers
    engine = obligations(
        [Delivery("x", "land", "diesel", Decimal(1000000), "l")], 2026, load_set("ev", "bijlage-1")
    )[0]
    assert {r: f"{engine.rows[r]:,}" for r in expected} == expected
    # besluit-2025 has the same 14,4 % total in 2026 but no sub-obligation percentages (EV-10)
    assert cell(html, "besluit-2025", "land", "total") == "487,296"
    for row in ("annex_ixa_min", "rfnbo_min"):
        assert cell(html, "besluit-2025", "land", row) == "unknown"
    assert cell(html, "besluit-2025", "land", "conventional_cap") == "40,608"


def test_unknown_values_are_shown_as_unknown_in_the_trace_not_as_zero(client: TestClient) -> None:
    html = obligation(client, [("land", "diesel", "1000000", "l")], scenario="besluit-2025")
    assert 'data-scenario="bijlage-1"' not in html
    assert re.search(
        r"<code>ev\.land\.annex_ixa_min</code></td><td class=\"num\">"
        r"<span class=\"unknown\">unknown</span>",
        html,
    )
    assert "shown as unknown, not as zero" in html
    # the step of an unknown row says unknown too
    assert re.search(r"land annex_ixa_min</td><td><code>value unknown", html)


def test_scenarios_side_by_side_differ_where_the_parameters_differ(client: TestClient) -> None:
    # 2,000,000 kg HFO × 40.5 MJ/kg = 81,000,000 MJ (EV-09). Zeevaart 2026:
    # bijlage-1 Totaal 3,6 % → 274,104; Vrije ruimte 1,1 % → 83,754 (Bijlage 1, table Zeevaart)
    # besluit-2025 total 2,9 % → 81,000,000 × 94 × 2.9 / 100 / 1000 = 220,806; vrije ruimte
    # 0,9 % → 68,526 (Dec 2025 adjustment)
    html = obligation(client, [("zeevaart", "hfo", "2000000", "kg")])
    assert cell(html, "bijlage-1", "zeevaart", "total") == "274,104"
    assert cell(html, "besluit-2025", "zeevaart", "total") == "220,806"
    assert cell(html, "bijlage-1", "zeevaart", "vrije_ruimte") == "83,754"
    assert cell(html, "besluit-2025", "zeevaart", "vrije_ruimte") == "68,526"
    for scenario in ("bijlage-1", "besluit-2025"):
        engine = obligations(
            [Delivery("x", "zeevaart", "hfo", Decimal(2000000), "kg")],
            2026,
            load_set("ev", scenario),
        )[0]
        assert cell(html, scenario, "zeevaart", "total") == f"{engine.rows['total']:,}"


def test_trace_shows_formula_parameter_source_and_flags_unverified_values(
    client: TestClient,
) -> None:
    html = obligation(client, [("land", "diesel", "1000000", "l")], scenario="bijlage-1")
    assert "36000000 MJ × 94 g/MJ × 14.4% / 1000 g/ERE = 487296" in html
    assert "Bijlage 1, table Land, row Totaal" in html  # the source of ev.land.total
    flagged = re.search(
        r'<tr class="flagged"><td><code>ev\.lhv\.diesel\.per_l</code>(.*?)</tr>', html, re.S
    )
    assert flagged and "unverified" in flagged.group(1) and "36" in flagged.group(1)
    assert "sha256:" in html  # the receipt


def test_a_set_without_a_sector_or_a_year_says_so_in_its_column(client: TestClient) -> None:
    html = obligation(client, [("luchtvaart", "energy", "500000", "GJ")])
    # 500,000 GJ × 1000 MJ/GJ; bijlage-1 Luchtvaart Totaal 2026 2,5 %:
    # 500,000,000 MJ × 94 × 2.5 / 100 / 1000 = 1,175,000
    assert cell(html, "bijlage-1", "luchtvaart", "total") == "1,175,000"
    assert "Not computed in this set" in html and "no obligation in parameter set" in html
    html = obligation(client, [("zeevaart", "hfo", "1000", "kg")], year="2027")
    assert "Not computed in this set" in html and "ev.zeevaart.total is unknown" in html


def test_deliveries_file_gives_the_worked_example_numbers(client: TestClient) -> None:
    data = {"csrf_token": token(client), "year": "2026", "scenario": "bijlage-1"}
    files = {"deliveries": ("deliveries.csv", (EXAMPLES / "deliveries.csv").read_bytes())}
    r = client.post("/calculators/obligation", data=data, files=files)
    assert r.status_code == 200
    # docs/ev.md worked example: land 520,000,000 MJ → 7,038,720; binnenvaart RFNBO 676.8 → 677
    assert cell(r.text, "bijlage-1", "land", "total", "Brandstof BV") == "7,038,720"
    assert cell(r.text, "bijlage-1", "binnenvaart", "rfnbo_min", "Brandstof BV") == "677"
    assert cell(r.text, "bijlage-1", "zeevaart", "total", "Brandstof BV") == "274,104"
    assert "deliveries from deliveries.csv" in r.text


def test_booking_hand_worked_fuel_and_electricity(client: TestClient) -> None:
    def book(**cells: str) -> str:
        data = {"csrf_token": token(client), "booking_year": "2026", "booking_scenario": "both"}
        r = client.post("/calculators/booking", data=data | cells)
        assert r.status_code == 200, r.text
        return r.text

    # 500,000 l HVO × 34 MJ/l × (94 − 10) / 1000 = 1,428,000 EREs (EV-06; docs/ev.md)
    html = book(
        sector="land",
        category="annex-ixa",
        fuel="hvo",
        quantity="500000",
        unit="l",
        ghg_intensity="10",
    )
    assert html.count('data-units="1428000"') == 2  # both sets: the same common values
    b = Booking("x", "land", "annex-ixa", "hvo", Decimal(500000), "l", Decimal(10))
    assert units_for_booking(b, 2026, Trace(load_set("ev", "bijlage-1"))).units == 1428000
    # 2,000,000 kWh × 3.6 × 50.5 % × 183 / 1000 = 665,388 (rounded down)
    html = book(sector="land", category="other", fuel="electricity", quantity="2000000", unit="kWh")
    assert 'data-units="665388"' in html and "665,388 ERE" in html
    assert "ev.grid_renewable_share" in html and "third-party" in html
    # luchtvaart: LREs in bijlage-1; besluit-2025 has no aviation table
    html = book(
        sector="luchtvaart",
        category="annex-ixb",
        fuel="hvo",
        quantity="100000",
        unit="l",
        ghg_intensity="20",
    )
    # 100,000 × 34 × (94 − 20) / 1000 = 251,600 LREs (EV-20)
    assert "251,600 LRE" in html and "Not computed in this set" in html


def test_dutch_by_default_with_dutch_number_notation(tmp_path: Path) -> None:
    reg = make_registry("sqlite:///" + str(tmp_path / "nl.db"))
    with TestClient(create_web_app(reg), base_url="https://testserver") as c:
        html = obligation(c, [("land", "diesel", "1000000", "l")], scenario="bijlage-1")
    assert "Rekenhulp jaarverplichting" in html and "Totale jaarverplichting" in html
    assert cell(html, "bijlage-1", "land", "total") == "487.296"
    reg.ledger.sessions.kw["bind"].dispose()


# ----------------------------------------------------------------------------- bad input


def post_obligation(c: TestClient, data: dict[str, str], files: object = None) -> tuple[int, str]:
    base = {"csrf_token": token(c), "year": "2026", "scenario": "bijlage-1"}
    r = c.post("/calculators/obligation", data=base | data, files=files)  # type: ignore[arg-type]
    return r.status_code, r.text


def test_bad_rows_are_refused_next_to_the_field(client: TestClient) -> None:
    row = {"sector_1": "land", "fuel_1": "diesel", "quantity_1": "-5", "unit_1": "l"}
    status, html = post_obligation(client, row)
    assert status == 422 and "more than zero" in error(html, "quantity_1")
    assert 'data-scenario="' not in html  # no result
    status, html = post_obligation(client, row | {"quantity_1": "1e5"})
    assert status == 422 and "at most six decimals" in error(html, "quantity_1")
    status, html = post_obligation(client, row | {"fuel_1": "kerosine", "quantity_1": "5"})
    assert status == 422 and "Unknown fuel &#39;kerosine&#39;" in error(html, "fuel_1")
    status, html = post_obligation(client, row | {"quantity_1": "5", "unit_1": "kWh"})
    assert status == 422 and "diesel is given in kg, l" in error(html, "unit_1")
    status, html = post_obligation(client, row | {"quantity_1": "5", "sector_1": ""})
    assert status == 422 and "Choose a sector" in error(html, "sector_1")
    status, html = post_obligation(client, row | {"quantity_1": "5", "year": "2031"})
    assert status == 422 and "2026 to 2030" in error(html, "year")
    status, html = post_obligation(client, row | {"quantity_1": "5", "scenario": "x"})
    assert status == 422 and "parameter sets" in error(html, "scenario")
    status, html = post_obligation(client, {})
    assert status == 422 and "at least one delivery" in html


def test_bad_deliveries_file_is_refused_with_file_row_and_field(client: TestClient) -> None:
    def upload(text: str, **data: str) -> tuple[int, str]:
        return post_obligation(client, data, files={"deliveries": ("mine.csv", text.encode())})

    status, html = upload("supplier,sector,fuel\nA,land,diesel\n")
    assert status == 422 and "mine.csv: header: missing column(s) quantity, unit" in error(
        html, "deliveries"
    )
    status, html = upload("supplier,sector,fuel,quantity,unit\nA,land,kerosine,5,l\n")
    assert status == 422
    assert "mine.csv, row 1, field &#39;fuel&#39;: unknown fuel" in error(html, "deliveries")
    status, html = upload(
        "supplier,sector,fuel,quantity,unit\nA,land,diesel,5,l\nA,land,diesel,-1,l\n"
    )
    assert status == 422 and "row 2, field &#39;quantity&#39;: must be positive" in html
    status, html = upload("supplier,sector,fuel,quantity,unit\nA,rail,diesel,5,l\n")
    assert status == 422 and "unknown sector &#39;rail&#39;" in error(html, "deliveries")
    status, html = upload("\xff\xfe".encode("latin-1").decode("latin-1"))
    assert status == 422
    status, html = upload(
        "supplier,sector,fuel,quantity,unit\nA,land,diesel,5,l\n", fuel_1="diesel", quantity_1="5"
    )
    assert status == 422 and "not both" in error(html, "deliveries")


def test_bad_booking_is_refused_next_to_the_field(client: TestClient) -> None:
    good = {
        "booking_year": "2026",
        "booking_scenario": "both",
        "sector": "land",
        "category": "annex-ixa",
        "fuel": "hvo",
        "quantity": "500000",
        "unit": "l",
        "ghg_intensity": "10",
    }

    def book(**change: str) -> tuple[int, str]:
        r = client.post(
            "/calculators/booking", data={"csrf_token": token(client), **good, **change}
        )
        return r.status_code, r.text

    status, html = book(ghg_intensity="94")
    assert status == 422 and "at or above the fossil comparator 94" in error(html, "ghg_intensity")
    status, html = book(quantity="0")
    assert status == 422 and "more than zero" in error(html, "quantity")
    status, html = book(fuel="kerosine")
    assert status == 422 and "Unknown fuel" in error(html, "fuel")
    status, html = book(ghg_intensity="")
    assert status == 422 and "GHG intensity" in error(html, "ghg_intensity")
    status, html = book(fuel="electricity", unit="kWh", category="other")
    assert status == 422 and "empty for electricity" in error(html, "ghg_intensity")
    status, html = book(sector="zeevaart", category="conventional")
    assert status == 422 and "cannot be booked in sector" in error(html, "category")
    status, html = book(booking_year="2025")
    assert status == 422 and "2026 to 2030" in error(html, "booking_year")
    status, html = book(category="rfnbo", ghg_intensity="30")
    assert status == 422 and "RFNBO may not exceed 28.2" in error(html, "ghg_intensity")


@pytest.mark.parametrize("url", ["/calculators/obligation", "/calculators/booking"])
def test_posts_without_a_valid_csrf_token_are_refused(client: TestClient, url: str) -> None:
    form = {"year": "2026", "booking_year": "2026", "scenario": "bijlage-1"}
    form |= {"sector_1": "land", "fuel_1": "diesel", "quantity_1": "5", "unit_1": "l"}
    for bad in ({}, {"csrf_token": "forged"}):
        r = client.post(url, data=form | bad)
        assert r.status_code == 403 and "did not come from this site" in r.text
        assert "data-scenario" not in r.text
