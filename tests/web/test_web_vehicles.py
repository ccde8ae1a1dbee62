"""/vehicles (CO2 standards per manufacturer), /vehicles/eu2040 and /vehicles/esr: the numbers
equal the CLI and the engine for the shipped example files, exports hold the same numbers, bad
input is refused next to the field, every POST needs the CSRF token.

Hand-worked numbers: docs/vehicles.md (BETA CARS: TM 1712.6125 kg, target 94.499, average
103.750, excess 9.251 g/km, premium 9.251 × €95 × 400 = €351,538; slope unverified, VH-02).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner
from web_site import make_registry

from keten.cli.vehicles import app as vehicles_cli
from keten.cli.vehicles import targets_app
from keten.web.app import create_web_app

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "vehicles"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
BOTH = ["in-force", "com-2025-995"]


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    reg = make_registry("sqlite:///" + str(tmp_path / "k.db"))
    with TestClient(create_web_app(reg), base_url="https://testserver") as c:
        c.cookies.set("keten_lang", "en")
        yield c
    reg.ledger.sessions.kw["bind"].dispose()


def token(c: TestClient) -> str:
    m = CSRF_RE.search(c.get("/vehicles").text)
    assert m
    return m.group(1)


def compute(c: TestClient, files: object = None, **data: object) -> tuple[int, str]:
    form = {"csrf_token": token(c), "year": "2025", "category": "cars", "scenario": BOTH} | data
    r = c.post("/vehicles", data=form, files=files)  # type: ignore[arg-type]
    return r.status_code, r.text


def error(html: str, name: str) -> str:
    m = re.search(rf'<p id="e-{name}" class="error">(.*?)</p>', html, re.S)
    assert m, f"no error next to {name}"
    return m.group(1)


def cells(html: str, scenario: str, manufacturer: str) -> dict[str, str]:
    section = re.search(
        rf'<section class="scenario" data-scenario="{scenario}">(.*?)</section>', html, re.S
    )
    assert section
    row = re.search(rf'<tr data-manufacturer="{manufacturer}">(.*?)</tr>', section.group(1), re.S)
    assert row
    return dict(re.findall(r'data-col="(\w+)">([^<]*)<', row.group(1)))


def export(c: TestClient, html: str, table: str, fmt: str = "csv") -> bytes:
    m = re.search(r'name="result" value="([^"]+)"', html)
    assert m
    data = {"csrf_token": token(c), "result": m.group(1), "table": table, "fmt": fmt}
    r = c.post("/vehicles/export", data=data)
    assert r.status_code == 200, r.text
    return r.content


def cli_json(*args: str) -> object:
    result = CliRunner().invoke(vehicles_cli, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout, parse_float=Decimal)


def test_no_results_without_a_chosen_file(client: TestClient) -> None:
    r = client.get("/vehicles")
    assert r.status_code == 200
    assert "data-manufacturer" not in r.text and "Skipped rows" not in r.text
    assert 'href="/vehicles/example/monitoring"' in r.text and "example file" in r.text
    status, html = compute(client)
    assert status == 422 and "use the example file" in error(html, "data")
    assert "data-manufacturer" not in html


def test_example_file_download_is_the_shipped_file(client: TestClient) -> None:
    for kind, name in (
        ("monitoring", "eea_cars_2025.csv"),
        ("eu2040", "eu2040_series.csv"),
        ("esr", "esr_nl_series.csv"),
    ):
        r = client.get(f"/vehicles/example/{kind}")
        assert r.status_code == 200 and r.content == (EXAMPLES / name).read_bytes()
        assert f'filename="example_{name}"' in r.headers["content-disposition"]
    assert client.get("/vehicles/example/secrets").status_code == 404


def test_manufacturer_table_equals_the_cli_for_the_example_file(client: TestClient) -> None:
    status, html = compute(client, use_example="1")
    assert status == 200
    assert "Example input" in html and "not real data" in html
    beta = cells(html, "in-force", "BETA CARS")
    assert beta == {
        "registrations": "400",
        "average_emissions": "103.750",
        "target": "94.499",
        "distance": "9.251",
        "zlev_share": "0.11",
        "zlev_factor": "1",
        "excess": "9.251",
        "premium_eur": "351,538",
    }
    for scenario in BOTH:
        expected = cli_json(
            "compliance",
            "--data",
            str(EXAMPLES / "eea_cars_2025.csv"),
            "--year",
            "2025",
            "--scenario",
            scenario,
            "--format",
            "json",
        )
        assert isinstance(expected, list) and len(expected) == 3
        rows = list(csv.DictReader(io.StringIO(export(client, html, scenario).decode())))
        assert [r["manufacturer"] for r in rows] == [e["manufacturer"] for e in expected]
        for got, want in zip(rows, expected, strict=True):
            for col in ("registrations", "average_emissions", "target", "excess", "premium_eur"):
                assert got[col] == str(want[col]), (scenario, col)
            shown = cells(html, scenario, want["manufacturer"])
            assert shown["target"] == f"{want['target']:,.3f}"
            assert shown["premium_eur"] == f"{int(want['premium_eur']):,}"
    # the chart shows average against target per scenario
    assert "<svg" in html and "target (com-2025-995) — Gamma Pool: 98.278" in html
    assert "vehicles.cars.slope" in html and "unverified" in html


def test_excel_export_holds_the_same_numbers(client: TestClient) -> None:
    _, html = compute(client, use_example="1", scenario=["in-force"])
    wb = openpyxl.load_workbook(io.BytesIO(export(client, html, "in-force", "xlsx")))
    rows = list(wb.active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert rows[0][:3] == ("manufacturer", "registrations", "average_emissions")
    beta = next(r for r in rows if r[0] == "BETA CARS")
    assert beta[1] == 400 and float(beta[3]) == 94.499 and beta[7] == 351538  # type: ignore[arg-type]


def test_skipped_rows_are_summarised_with_reasons_and_exported(client: TestClient) -> None:
    _, html = compute(client, use_example="1")
    assert "4 of 10 rows could not be used" in html
    for reason in ("unknown fuel type (Ft)", "missing mass (Mt)", "negative emissions (Ewltp)"):
        assert reason in html
    rows = list(csv.DictReader(io.StringIO(export(client, html, "skipped").decode())))
    assert sorted(r["first_rows"] for r in rows) == ["10", "7", "8", "9"]
    assert all(r["count"] == "1" for r in rows)


def test_an_uploaded_file_is_computed_and_labelled_as_the_users(client: TestClient) -> None:
    files = {"data": ("fleet.csv", (EXAMPLES / "eea_cars_2025.csv").read_bytes())}
    status, html = compute(client, files=files, scenario=["in-force"])
    assert status == 200 and "Computed from your file fleet.csv" in html
    assert "Example input" not in html
    assert cells(html, "in-force", "ALPHA MOTORS")["target"] == "97.824"


def test_bad_monitoring_input_is_refused_next_to_the_field(client: TestClient) -> None:
    files = {"data": ("mine.csv", b"a,b\n1,2\n")}
    status, html = compute(client, files=files)
    assert status == 422 and "mine.csv: header: missing column(s) Mh" in error(html, "data")
    assert "/tmp" not in error(html, "data")
    status, html = compute(client, files={"data": ("mine.txt", b"x")})
    assert status == 422 and ".csv, .parquet" in error(html, "data")
    only_bad = b"Mh,Ft,Mt,Ewltp,R,Year\nX,kerosene,1500,150,10,2025\n"
    status, html = compute(client, files={"data": ("bad.csv", only_bad)})
    assert status == 422 and "no usable rows for 2025" in error(html, "data")
    assert "unknown fuel type" in error(html, "data")
    status, html = compute(client, files=files, use_example="1")
    assert status == 422 and "not both" in error(html, "data")
    status, html = compute(client, use_example="1", year="20x5")
    assert status == 422 and "year of registration" in error(html, "year")
    status, html = compute(client, use_example="1", year="2022")
    assert status == 422 and "2021–2024 not implemented" in error(html, "year")
    status, html = compute(client, use_example="1", scenario=[])
    assert status == 422 and "at least one" in error(html, "scenario")
    status, html = compute(client, use_example="1", scenario=["made-up"])
    assert status == 422 and "at least one" in error(html, "scenario")
    status, html = compute(client, use_example="1", category="trucks")
    assert status == 422 and "cars or vans" in error(html, "category")


def test_export_is_only_for_the_browser_that_computed_it(
    client: TestClient, tmp_path: Path
) -> None:
    _, html = compute(client, use_example="1")
    rid = re.search(r'name="result" value="([^"]+)"', html)
    assert rid
    other = TestClient(client.app, base_url="https://testserver")
    m = CSRF_RE.search(other.get("/vehicles").text)
    assert m
    r = other.post(
        "/vehicles/export",
        data={"csrf_token": m.group(1), "result": rid.group(1), "table": "in-force", "fmt": "csv"},
    )
    assert r.status_code == 404 and "manufacturer" not in r.text
    data = {"csrf_token": token(client), "result": rid.group(1), "table": "in-force"}
    assert client.post("/vehicles/export", data=data | {"fmt": "pdf"}).status_code == 404
    assert (
        client.post("/vehicles/export", data=data | {"result": "x", "fmt": "csv"}).status_code
        == 404
    )


def test_eu2040_trajectory_equals_the_cli(client: TestClient) -> None:
    r = client.post("/vehicles/eu2040", data={"csrf_token": token(client), "use_example": "1"})
    assert r.status_code == 200 and "Example input" in r.text and "<svg" in r.text
    out = CliRunner().invoke(
        targets_app, ["eu2040", "--series", str(EXAMPLES / "eu2040_series.csv"), "--format", "json"]
    )
    doc = json.loads(out.stdout, parse_float=Decimal)
    # 1990 net 4800 → 2040 target 480; credit cap 5 % = 240; 2040: 700 − min(300, 240) = 460
    assert doc["summary"]["target_2040"] == 480 and doc["summary"]["credit_cap_2040"] == 240
    assert re.search(r'data-key="target_2040">480<', r.text)
    assert re.search(r'data-key="credit_cap_2040">240<', r.text)
    rows = list(csv.DictReader(io.StringIO(export(client, r.text, "eu2040").decode())))
    assert [int(x["year"]) for x in rows] == [y["year"] for y in doc["years"]]
    for got, want in zip(rows, doc["years"], strict=True):
        for k in ("accounted", "credits_counted", "path_limit"):
            assert got[k] == ("" if want[k] is None else str(want[k]))
    assert next(x for x in rows if x["year"] == "2040")["accounted"] == "460"


def test_esr_table_equals_the_cli(client: TestClient) -> None:
    r = client.post("/vehicles/esr", data={"csrf_token": token(client), "use_example": "1"})
    assert r.status_code == 200 and "Example input" in r.text
    out = CliRunner().invoke(
        targets_app, ["esr", "--series", str(EXAMPLES / "esr_nl_series.csv"), "--format", "json"]
    )
    doc = json.loads(out.stdout, parse_float=Decimal)
    assert re.search(r'data-key="limit_2030">62.4<', r.text)  # 120 × (100 − 48) %
    rows = list(csv.DictReader(io.StringIO(export(client, r.text, "esr").decode())))
    for got, want in zip(rows, doc["years"], strict=True):
        for k in ("aea", "balance", "borrowed", "shortfall", "penalty_added"):
            assert got[k] == str(want[k]), k
    # 2024: 7.5 short after borrowing the maximum; 7.5 × 1.08 = 8.1 added to 2025
    assert next(x for x in rows if x["year"] == "2024")["shortfall"] == "7.5"
    assert next(x for x in rows if x["year"] == "2025")["penalty_added"] == "8.1"


def test_bad_series_are_refused_next_to_the_field(client: TestClient) -> None:
    def post(url: str, text: bytes, name: str = "s.csv") -> tuple[int, str]:
        r = client.post(url, data={"csrf_token": token(client)}, files={"series": (name, text)})
        return r.status_code, r.text

    status, html = post("/vehicles/eu2040", b"year,net_emissions\n2030,100\n")
    assert status == 422 and "needs the 1990 net emissions" in error(html, "series")
    status, html = post("/vehicles/eu2040", b"year,net_emissions\n1990,abc\n")
    assert status == 422 and "s.csv, row 1, field &#39;net_emissions&#39;" in error(html, "series")
    status, html = post("/vehicles/esr", b"year,emissions\n2040,5\n")
    assert status == 422 and "outside the ESR period" in error(html, "series")
    status, html = post("/vehicles/esr", b"year,emissions\n2021,5\n", name="s.xlsx")
    assert status == 422 and ".csv" in error(html, "series")
    r = client.post("/vehicles/esr", data={"csrf_token": token(client)})
    assert r.status_code == 422 and "use the example file" in error(r.text, "series")


@pytest.mark.parametrize(
    "url", ["/vehicles", "/vehicles/eu2040", "/vehicles/esr", "/vehicles/export"]
)
def test_posts_without_a_valid_csrf_token_are_refused(client: TestClient, url: str) -> None:
    form = {"use_example": "1", "year": "2025", "scenario": "in-force"}
    for bad in ({}, {"csrf_token": "forged"}):
        r = client.post(url, data=form | bad)
        assert r.status_code == 403 and "did not come from this site" in r.text
    assert not getattr(client.app.state, "vehicles_results", None)  # nothing computed


def test_pages_are_dutch_by_default(tmp_path: Path) -> None:
    reg = make_registry("sqlite:///" + str(tmp_path / "nl.db"))
    with TestClient(create_web_app(reg), base_url="https://testserver") as c:
        for url in ("/vehicles", "/vehicles/eu2040", "/vehicles/esr"):
            r = c.get(url)
            assert r.status_code == 200 and "voorbeeldbestand" in r.text
        m = CSRF_RE.search(c.get("/vehicles").text)
        assert m
        data = {
            "csrf_token": m.group(1),
            "use_example": "1",
            "year": "2025",
            "scenario": "in-force",
        }
        r = c.post("/vehicles", data=data)
        assert "Voorbeeldinvoer" in r.text and "351.538" in r.text and "94,499" in r.text
    reg.ledger.sessions.kw["bind"].dispose()
