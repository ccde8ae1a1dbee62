"""The compliance calculator at /calculators (no account): deliveries, units held and optional
prices in; per supplier the best allocation, the shortfall per sector and the least-cost plan out —
the numbers of ``keten ev compliance`` and ``keten ev plan`` on the same files.

Hand-worked numbers (Bijlage 1, seed 004_502c408745ad4f95.txt, 2026; examples/ev):

* Brandstof BV, land: 520,000,000 MJ (10,000,000 l diesel × 36 + 5,000,000 l petrol × 32,
  EV-09); total 520,000,000 × 94 g/MJ × 14.4 % / 1000 = 7,038,720 EREs (EV-01); conventional cap
  1.2 %: 520,000,000 × 94 × 1.2 % / 1000 = 586,560, so of the 1,134,000 conventional units held
  only 586,560 count (EV-14); surrendered 1,428,000 + 586,560 + 4,000,000 + 2,000 = 6,016,560;
  shortfall 7,038,720 − 6,016,560 = 1,022,160 (EV-16).
* Brandstof BV, binnenvaart: 36,000,000 MJ × 94 × 3.8 % / 1000 = 128,592; vrije ruimte 0.8 %:
  36,000,000 × 94 × 0.8 % / 1000 = 27,072 met with zeevaart units (EV-13); surrendered 90,000 +
  27,072 = 117,072; shortfall 11,520. Total shortfall 1,022,160 + 11,520 = 1,033,680.
* Least-cost plan with examples/ev/prices.csv (EV-18): 11,520 × €0.25 + 72,616 × €0.35 +
  927,104 × €0.18 + 23,117 × €0.90 = 2,880.00 + 25,415.60 + 166,878.72 + 20,805.30 = €215,979.62.
"""

from __future__ import annotations

import html
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from test_web_calculators import CSRF_RE, client
from typer.testing import CliRunner

from keten.cli.main import app as keten_cli
from keten.web.pages.calculators import MAX_SUPPLIERS, MAX_UPLOAD

__all__ = ["client"]  # the English-page fixture of test_web_calculators

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "ev"
D = b"supplier,sector,fuel,quantity,unit\n"  # the headers of the three files
U = b"holder,origin_sector,category,amount\n"
P = b"origin_sector,category,price_eur\n"
DELIVERIES = (EXAMPLES / "deliveries.csv").read_bytes()
UNITS = (EXAMPLES / "units.csv").read_bytes()
PRICES = (EXAMPLES / "prices.csv").read_bytes()


def post(
    c: TestClient,
    *,
    deliveries: bytes | None = DELIVERIES,
    units: bytes | None = UNITS,
    prices: bytes | None = None,
    status: int = 200,
    **fields: str,
) -> str:
    m = CSRF_RE.search(c.get("/calculators").text)
    assert m
    data = {"csrf_token": m.group(1), "cp_year": "2026", "cp_scenario": "bijlage-1", **fields}
    files = {}
    if deliveries is not None:
        files["cp_deliveries"] = ("deliveries.csv", deliveries)
    if units is not None:
        files["cp_units"] = ("units.csv", units)
    if prices is not None:
        files["cp_prices"] = ("prices.csv", prices)
    r = c.post("/calculators/compliance", data=data, files=files)
    assert r.status_code == status, r.text
    return r.text


def supplier(page: str, name: str, scenario: str = "bijlage-1") -> str:
    m = re.search(
        rf'<article class="compliance" data-scenario="{scenario}" '
        rf'data-supplier="{re.escape(name)}"(.*?)</article>',
        page,
        re.S,
    )
    assert m, (scenario, name)
    return m.group(1)


def shortfall(block: str, sector: str) -> int:
    m = re.search(rf'<tr data-sector="{sector}">.*?data-shortfall="(\d+)"', block, re.S)
    assert m, sector
    return int(m.group(1))


def error(page: str, name: str) -> str:
    m = re.search(rf'<p id="e-{name}" class="error">(.*?)</p>', page, re.S)
    assert m, f"no error next to {name}"
    return html.unescape(m.group(1))


def results(page: str) -> list[str]:
    return re.findall(r'<article class="compliance"', page)


def cli_json(*args: str) -> list[dict[str, object]]:
    r = CliRunner().invoke(keten_cli, [*args, "--format", "json"])
    assert r.exit_code == 0, r.output
    out: list[dict[str, object]] = json.loads(r.output)
    return out


# ----------------------------------------------------------------------------- results


def test_the_shortfall_per_sector_is_the_hand_worked_one(client: TestClient) -> None:
    page = post(client)
    block = supplier(page, "Brandstof BV")
    assert 'data-compliant="false" data-shortfall="1033680"' in block  # 1,022,160 + 11,520
    assert shortfall(block, "land") == 7_038_720 - (1_428_000 + 586_560 + 4_000_000 + 2_000)
    assert shortfall(block, "binnenvaart") == 128_592 - (90_000 + 27_072)
    assert shortfall(block, "zeevaart") == 0
    # EV-14: the conventional units count up to the cap only, 586,560 of the 1,134,000 held
    assert re.search(
        r"<td>land</td><td>land</td><td>conventional</td>"
        r'<td class="num">586,560</td>',
        block,
    )
    # EV-13: the binnenvaart vrije ruimte is met with zeevaart units
    assert re.search(
        r"<td>binnenvaart</td><td>zeevaart</td><td>annex-ixa</td>"
        r'<td class="num">27,072</td>',
        block,
    )


def test_the_page_shows_what_keten_ev_compliance_computes(client: TestClient) -> None:
    page = post(client)
    cli = cli_json(
        "ev", "compliance", "--year", "2026",
        "--deliveries", str(EXAMPLES / "deliveries.csv"), "--units", str(EXAMPLES / "units.csv"),
    )  # fmt: skip
    assert len(results(page)) == len(cli) == 2
    for row in cli:
        block = supplier(page, str(row["supplier"]))
        compliant = "true" if row["compliant"] else "false"
        assert f'data-compliant="{compliant}" data-shortfall="{row["shortfall_total"]}"' in block
        by_sector = row["shortfall_by_sector"]
        assert isinstance(by_sector, dict)
        for sector, missing in by_sector.items():
            assert shortfall(block, sector) == missing
        plan = row["plan"]
        assert isinstance(plan, list)
        for p in plan:
            assert (
                f"<td>{p['sector']}</td><td>{p['origin_sector']}</td><td>{p['category']}</td>"
                f'<td class="num">{p["amount"]:,}</td>'
            ) in block


def test_with_prices_the_least_cost_plan_is_shown_with_its_cost(client: TestClient) -> None:
    page = post(client, prices=PRICES)
    block = supplier(page, "Brandstof BV")
    assert 'data-cost="215979.62"' in block  # 2,880.00 + 25,415.60 + 166,878.72 + 20,805.30
    assert '<td class="num">215,979.62</td>' in block
    assert (
        '<tr><td>land</td><td>rfnbo</td><td class="num">23,117</td><td class="num">0.90</td>'
        '<td class="num">20,805.30</td></tr>'
    ) in block  # the price padded to cents, as the CLI prints it
    assert "With these purchases the supplier is compliant." in block
    plan = cli_json(
        "ev", "plan", "--year", "2026", "--deliveries", str(EXAMPLES / "deliveries.csv"),
        "--units", str(EXAMPLES / "units.csv"), "--prices", str(EXAMPLES / "prices.csv"),
    )  # fmt: skip
    for row in plan:
        m = re.search(r'data-cost="([^"]+)"', supplier(page, str(row["supplier"])))
        assert m and Decimal(m.group(1)) == Decimal(str(row["cost_eur"]))
    # the explanation ends with the purchases and their sum
    assert "sum of purchases" in block and "€215979.62" in block


def test_money_is_shown_in_dutch_notation_on_the_dutch_page(client: TestClient) -> None:
    client.cookies.set("keten_lang", "nl")
    page = post(client, prices=PRICES)
    block = supplier(page, "Brandstof BV")
    assert '<td class="num">215.979,62</td>' in block
    assert "Met deze aankopen voldoet de leverancier aan de verplichting." in block
    assert "tekort 1.033.680 ERE's" in block or "tekort 1.033.680 ERE's" in block


def test_a_price_with_more_decimals_is_not_rounded(client: TestClient) -> None:
    prices = PRICES.replace(b"land,rfnbo,0.90", b"land,rfnbo,0.123456")
    page = post(client, prices=prices)
    block = supplier(page, "Brandstof BV")
    # rfnbo at €0.123456 is now cheaper than annex-ixb at €0.18, so the plan buys rfnbo for both:
    # 23,117 + 927,104 = 950,221 units × €0.123456 = €117,310.483776, shown in full (not
    # 117,310.48); total 2,880.00 + 25,415.60 + 117,310.483776 = €145,606.083776
    assert (
        '<td class="num">950,221</td><td class="num">0.123456</td>'
        '<td class="num">117,310.483776</td>'
    ) in block
    assert '<td class="num">145,606.083776</td>' in block


def test_prices_missing_a_needed_type_leave_a_shortfall_that_is_named(client: TestClient) -> None:
    prices = P + b"land,other,0.21\n"
    page = post(client, prices=prices)
    block = supplier(page, "Brandstof BV")
    # land/other cannot meet the annex-ixa and rfnbo sub-obligations: 72,616 + 22,440 remain,
    # and binnenvaart's 11,520 cannot be bought as land/other beyond its vrije ruimte
    assert "a shortfall of" in block and "remains after the purchases" in block


def test_without_a_units_file_the_whole_obligation_is_short(client: TestClient) -> None:
    page = post(client, units=None)
    block = supplier(page, "Noordzee Olie")
    # land 974,592 + luchtvaart 1,175,000 (examples: obligation rows of Noordzee Olie)
    assert 'data-shortfall="2149592"' in block
    assert "No units to surrender." in block


def test_units_of_a_holder_without_deliveries_are_named_as_unused(client: TestClient) -> None:
    page = post(client, units=UNITS + b"Elders BV,land,other,5000\n")
    assert "Units of holders without deliveries in this file are not used: Elders BV." in page


def test_both_sets_side_by_side_the_draft_refuses_with_its_unknown_value(
    client: TestClient,
) -> None:
    rows = DELIVERIES.decode().splitlines()
    no_aviation = ("\n".join(r for r in rows if "luchtvaart" not in r) + "\n").encode()
    page = post(client, deliveries=no_aviation, cp_scenario="both")
    assert 'data-scenario="bijlage-1" data-supplier="Brandstof BV"' in page
    section = html.unescape(page[page.index('id="cp-besluit-2025"') :])
    assert "Not computed in this set" in section
    assert "ev.land.annex_ixa_min is unknown in set 'besluit-2025'" in section
    assert 'data-scenario="besluit-2025"' not in page


def test_a_set_without_a_table_for_a_sector_refuses_it(client: TestClient) -> None:
    page = post(client, cp_scenario="besluit-2025")
    assert "sector 'luchtvaart' has no obligation in parameter set" in html.unescape(page)
    assert not results(page)


# ----------------------------------------------------------------------------- bad input


def test_no_deliveries_file_is_refused_next_to_its_field(client: TestClient) -> None:
    page = post(client, deliveries=None, status=422)
    assert error(page, "cp_deliveries") == "Choose a deliveries file."
    assert not results(page)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (D + b"A,land,diesel,-5,l\n", "row 1, field 'quantity'"),
        (D + b"A,land,kerosine,5,l\n", "unknown fuel 'kerosine'"),
        (b"supplier;sector;fuel;quantity;unit\nA;land;diesel;5;l\n", "separated by semicolons"),
        (D, "no deliveries in the file"),
        (b"\xff\xfe\x00", "deliveries.csv"),
    ],
)
def test_a_bad_deliveries_file_is_refused_naming_the_upload(
    client: TestClient, body: bytes, expected: str
) -> None:
    page = post(client, deliveries=body, status=422)
    message = error(page, "cp_deliveries")
    assert expected in message and "deliveries.csv" in message
    assert "/tmp" not in message and not results(page)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (U + b"A,land,other,1.5\n", "row 1, field 'amount': must be a whole number"),
        (U + b"A,land,other,-1\n", "row 1, field 'amount'"),
        (U + b"A,maan,other,1\n", "field 'origin_sector'"),
        (U + b"A,land,bio,1\n", "field 'category'"),
        (b"holder,origin_sector,kind,amount\nA,land,other,1\n", "missing column(s) category"),
        (U + b",land,other,1\n", "field 'holder'"),
        (U + b"A,land,other,1e400\n", "field 'amount'"),
    ],
)
def test_a_bad_units_file_is_refused_next_to_its_field(
    client: TestClient, body: bytes, expected: str
) -> None:
    page = post(client, units=body, status=422)
    message = error(page, "cp_units")
    assert expected in message and message.startswith("units.csv")
    assert "/tmp" not in message and "upload" not in message and not results(page)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (P + b"land,other,-0.10\n", "must not be negative"),
        (P + b"land,other,0.1\nland,other,0.2\n", "second price for land/other"),
        (P + b"land,other,gratis\n", "field 'price_eur'"),
        (b"origin_sector,category\nland,other\n", "missing column(s) price_eur"),
    ],
)
def test_a_bad_prices_file_is_refused_next_to_its_field(
    client: TestClient, body: bytes, expected: str
) -> None:
    page = post(client, prices=body, status=422)
    message = error(page, "cp_prices")
    assert expected in message and message.startswith("prices.csv")
    assert not results(page)


@pytest.mark.parametrize("year", ["2025", "2031", "²⁰²⁶", "twee", ""])
def test_a_year_the_tables_do_not_cover_is_refused_next_to_it(
    client: TestClient, year: str
) -> None:
    page = post(client, cp_year=year, status=422)
    assert "Enter a year from 2026 to 2030" in error(page, "cp_year")
    assert not results(page)


def test_an_unknown_parameter_set_is_refused(client: TestClient) -> None:
    page = post(client, cp_scenario="besluit-2099", status=422)
    assert error(page, "cp_scenario") == "Choose one of the offered parameter sets."


def test_a_file_larger_than_the_page_takes_is_refused(client: TestClient) -> None:
    big = UNITS + b"Brandstof BV,land,other,1\n" * (MAX_UPLOAD // 20)
    page = post(client, units=big, status=422)
    assert "cp_units" in page and error(page, "cp_units")
    assert not results(page)


def test_more_suppliers_than_the_page_shows_points_to_the_cli(client: TestClient) -> None:
    rows = "".join(f"S{i},land,diesel,1000,l\n" for i in range(MAX_SUPPLIERS + 1))
    body = D + rows.encode()
    page = post(client, deliveries=body, status=422)
    assert error(page, "cp_deliveries") == (
        f"The file has {MAX_SUPPLIERS + 1} suppliers; this page shows at most {MAX_SUPPLIERS}. "
        "Use keten ev compliance for larger files."
    )


def test_the_form_needs_its_csrf_token(client: TestClient) -> None:
    r = client.post(
        "/calculators/compliance",
        data={"cp_year": "2026", "cp_scenario": "bijlage-1"},
        files={"cp_deliveries": ("deliveries.csv", DELIVERIES)},
    )
    assert r.status_code == 403
    assert 'class="compliance"' not in r.text


def test_every_bad_file_is_named_at_once(client: TestClient) -> None:
    page = post(
        client,
        deliveries=D + b"A,land,diesel,0,l\n",
        units=U + b"A,land,other,x\n",
        prices=P + b"land,other,-1\n",
        status=422,
    )
    assert error(page, "cp_deliveries").startswith("deliveries.csv, row 1, field 'quantity'")
    assert error(page, "cp_units").startswith("units.csv, row 1, field 'amount'")
    assert error(page, "cp_prices").startswith("prices.csv, row 1, field 'price_eur'")
