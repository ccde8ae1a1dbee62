"""Chain-emission pages (/footprint, /footprint/leakage, /footprint/scope3): numbers equal the CLI
and the worked examples of docs/footprint.md, exports equal the page, bad MRIO / scenario /
purchases files are refused next to their field (422), and every POST needs the CSRF token."""

from __future__ import annotations

import csv
import io
import json
import os
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from test_web_mki import browser, cells, en_number, error, same_as_page
from typer.testing import CliRunner
from web_site import make_registry

from keten.cli.footprint import app as fp_cli
from keten.web.app import create_web_app

EX = Path(__file__).resolve().parents[2] / "examples" / "footprint"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    db = tmp_path_factory.mktemp("fp") / "k.db"
    app = create_web_app(make_registry(f"sqlite:///{db}"))
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as c:
        yield c


def link(html: str, table: str) -> str:
    import re

    m = re.search(rf'href="(/footprint/export/[^"/]+/{table}\.csv)"', html)
    assert m, table
    return m.group(1)


def tiny_zip(meta_edit: dict[str, object] | None = None, folder: str = "tiny-mrio") -> bytes:
    buf = io.BytesIO()
    src = EX / "tiny-mrio"
    with zipfile.ZipFile(buf, "w") as z:
        for root, _dirs, names in os.walk(src):
            for n in names:
                full = Path(root) / n
                rel = full.relative_to(src).as_posix()
                data = full.read_bytes()
                if n == "keten-mrio.json" and meta_edit is not None:
                    data = json.dumps({**json.loads(data), **meta_edit}).encode()
                z.writestr(f"{folder}/{rel}" if folder else rel, data)
    return buf.getvalue()


def cli_accounts(mrio: str) -> dict[str, object]:
    r = CliRunner().invoke(
        fp_cli, ["accounts", "--mrio", mrio, "--extension", "emissions", "--format", "json"]
    )
    assert r.exit_code == 0, r.output
    data: dict[str, object] = json.loads(r.stdout)
    return data


# ----------------------------------------------------------------------------- accounts


def test_accounts_of_the_two_region_example(client: TestClient) -> None:
    """docs/footprint.md (FP-05): NL production 1·62.5 + 0.5·40 + F_Y 10 = 92.5; consumption
    4.25·50 + 6·10 + 0.5·40 + 10 = 302.5; imports 3·70 = 210; CN production 3·130 + 1·20 = 410,
    consumption 6·30 + 1·20 = 200, exports 210."""
    b = browser(client, "en")
    r = b.post("/footprint", {"mrio_source": "example", "extension": "emissions"})
    assert r.status_code == 200, r.text
    assert cells(r.text, "regions-1") == [
        ["NL", "92.5", "302.5", "210", "0"],
        ["CN", "410", "200", "0", "210"],
    ]
    assert "Example input" in r.text and '<svg class="chart"' in r.text
    data = cli_accounts(str(EX / "tiny-mrio"))
    regions = data["regions"]
    assert isinstance(regions, dict)
    for region, account, stressor, value in cells(r.text, "accounts"):
        assert float(en_number(value)) == regions[region][account][stressor]
    exported = list(csv.reader(io.StringIO(b.get(link(r.text, "accounts")).text)))
    assert exported[0] == ["region", "account", "stressor", "value"]
    same_as_page(cells(r.text, "accounts"), exported[1:])


def test_national_view_of_nl(client: TestClient) -> None:
    """NL footprint 302.5 = domestic 92.5 (incl. households' own 10, FP-07) + abroad 210."""
    b = browser(client, "en")
    r = b.post(
        "/footprint",
        {"mrio_source": "example", "extension": "emissions", "region": "NL", "stressor": "GHG"},
    )
    assert r.status_code == 200
    row = cells(r.text, "national")[0]
    assert [row[i] for i in (0, 1, 2, 4, 5)] == ["302.5", "92.5", "210", "92.5", "210"]
    assert cells(r.text, "national-sources") == [["NL", "92.5"], ["CN", "210"]]
    r = b.post("/footprint", {"mrio_source": "example", "extension": "emissions", "region": "DE"})
    assert r.status_code == 422 and error(r.text, "region").startswith("unknown region 'DE'")


def test_pymrio_test_system_equals_the_cli(client: TestClient) -> None:
    b = browser(client, "en")
    r = b.post("/footprint", {"mrio_source": "pymrio-test", "extension": "emissions"})
    assert r.status_code == 200, r.text
    regions = cli_accounts("pymrio-test")["regions"]
    assert isinstance(regions, dict)
    page = cells(r.text, "accounts")
    assert len(page) == 6 * 4 * 2  # regions × accounts × stressors
    for region, account, stressor, value in page:
        assert float(en_number(value)) == regions[region][account][stressor]


def test_uploaded_parquet_zip_gives_the_same_accounts(client: TestClient) -> None:
    b = browser(client, "en")
    for folder in ("tiny-mrio", ""):
        r = b.post(
            "/footprint",
            {"mrio_source": "upload", "extension": "emissions"},
            files={"mrio": ("tiny.zip", tiny_zip(folder=folder), "application/zip")},
        )
        assert r.status_code == 200, r.text
        assert cells(r.text, "regions-1")[0] == ["NL", "92.5", "302.5", "210", "0"]
        assert "Example input" not in r.text


@pytest.mark.parametrize(
    ("upload", "extension", "where", "message"),
    [
        (b"not a zip", "emissions", "mrio", "mine.zip: not a zip file"),
        (
            tiny_zip({"version": 7}),
            "emissions",
            "mrio",
            "mine.zip:tiny-mrio/keten-mrio.json, field 'version': unsupported version",
        ),
        (
            tiny_zip({"regions": ["NL"]}),
            "emissions",
            "mrio",
            "mine.zip:tiny-mrio/A.parquet, row 1, field 'row': 2 outside 0..1",
        ),
        (tiny_zip(), "water", "extension", "unknown extension 'water' (known: emissions)"),
    ],
    ids=["not-zip", "bad-version", "bad-shape", "unknown-extension"],
)
def test_bad_mrio_is_refused_next_to_its_field(
    client: TestClient, upload: bytes, extension: str, where: str, message: str
) -> None:
    b = browser(client, "en")
    r = b.post(
        "/footprint",
        {"mrio_source": "upload", "extension": extension},
        files={"mrio": ("mine.zip", upload, "application/zip")},
    )
    assert r.status_code == 422
    assert error(r.text, where).startswith(message), error(r.text, where)


def test_no_mrio_chosen_or_unknown_source(client: TestClient) -> None:
    b = browser(client, "en")
    r = b.post("/footprint", {"mrio_source": "upload", "extension": "emissions"})
    assert r.status_code == 422 and error(r.text, "mrio") == "Choose a file."
    r = b.post("/footprint", {"mrio_source": "/etc", "extension": "emissions"})
    assert r.status_code == 422
    assert error(r.text, "mrio_source") == "Choose one of the offered MRIO sources."


# ----------------------------------------------------------------------------- leakage


def test_leakage_of_a_production_shift(client: TestClient) -> None:
    """Δy = [−10, 0, +10, 0], Δx = L Δy = [−12.5, 0, 10, 0]: Δ domestic −12.5, Δ foreign +30,
    Δ global 17.5 = 10 · (6 − 4.25) (the multiplier difference); rate 30 / 12.5 = 2.4 > 0.1 →
    flagged (FP-10 … FP-12)."""
    b = browser(client, "en")
    r = b.post("/footprint/leakage", {"source": "example", "mrio_source": "example"})
    assert r.status_code == 200, r.text
    row = cells(r.text, "leakage")[0]
    assert row[3:] == ["-12.5", "30", "17.5", "2.4", "0.1", "yes"]
    assert cells(r.text, "leakage-regions") == [["NL", "-12.5"], ["CN", "30"]]
    exported = list(csv.reader(io.StringIO(b.get(link(r.text, "leakage")).text)))
    same_as_page(cells(r.text, "leakage"), exported[1:])
    cli = CliRunner().invoke(
        fp_cli,
        [
            "leakage",
            "--mrio",
            str(EX / "tiny-mrio"),
            "--scenario",
            str(EX / "scenario.yaml"),
            "--format",
            "json",
        ],
    )
    data = json.loads(cli.stdout)
    assert [float(en_number(v)) for v in row[3:6]] == [
        data["delta_domestic"],
        data["delta_foreign"],
        data["delta_global"],
    ]
    r = b.post(
        "/footprint/leakage", {"source": "example", "mrio_source": "example", "threshold": "3"}
    )
    assert cells(r.text, "leakage")[0][-2:] == ["3", "no"]


@pytest.mark.parametrize(
    ("scenario", "message"),
    [
        ("name: [unclosed", "scenario.yaml: not valid YAML"),
        ("region: NL\nstressor: GHG\n", "scenario.yaml, field 'changes': is required"),
        (
            "region: NL\nstressor: GHG\nchanges:\n  - {region: DE, sector: goods, kind: output,"
            " change: -1}\n",
            "scenario.yaml, field 'changes[0].region': unknown region 'DE'",
        ),
        (
            "region: NL\nstressor: CO2\nchanges:\n  - {region: NL, sector: goods, kind: output,"
            " change: -1}\n",
            "scenario.yaml, field 'stressor': unknown stressor 'CO2'",
        ),
    ],
    ids=["yaml", "missing-changes", "unknown-region", "unknown-stressor"],
)
def test_bad_scenario_is_refused_next_to_its_field(
    client: TestClient, scenario: str, message: str
) -> None:
    b = browser(client, "en")
    r = b.post(
        "/footprint/leakage",
        {"source": "upload", "mrio_source": "example"},
        files={"scenario": ("scenario.yaml", scenario.encode(), "application/yaml")},
    )
    assert r.status_code == 422
    assert error(r.text, "scenario").startswith(message), error(r.text, "scenario")


# ----------------------------------------------------------------------------- scope 3.1


def test_scope3_spend_example(client: TestClient) -> None:
    """docs/footprint.md: Jansen beams spend 200,000 EUR × M[NL, goods] 4.25 = 850,000 kg;
    Wang bolts 10,000 EUR (2024) × deflator 0.8 × M[CN, goods] 6 = 48,000 (FP-20, FP-22);
    Bakker cement 20,000 kg × 0.6 = 12,000; Jansen HEA 200 from PACT 5,000 kg × 1,850.5 /
    1,000 kg = 9,252.5 (FP-34); Li hybrid 400 + 1,000 × M_up[CN, goods] 3 = 3,400 (FP-24);
    category 4 transport 300. Category 3.1 total 922,652.5 kg; primary share (9,252.5 + 400) /
    922,652.5 = 1.046…% (FP-23)."""
    b = browser(client, "en")
    r = b.post("/footprint/scope3", {"source": "example", "mrio_source": "example"})
    assert r.status_code == 200, r.text
    lines = cells(r.text, "scope3-lines")
    assert [(ln[1], ln[2], ln[4], ln[5]) for ln in lines] == [
        ("Jansen", "beams", "3.1", "850,000"),
        ("Wang", "bolts", "3.1", "48,000"),
        ("Bakker", "cement", "3.1", "12,000"),
        ("Jansen", "HEA 200", "3.1", "9,252.5"),
        ("Jansen", "HEA 200", "4", "300"),
        ("Li", "castings", "3.1", "3,400"),
    ]
    totals = cells(r.text, "scope3-totals")[0]
    assert totals[:2] == ["922,652.5", "300"]
    assert en_number(totals[2]).quantize(Decimal("0.01")) == Decimal("1.05")
    assert en_number(totals[3]).quantize(Decimal("0.01")) == Decimal("4.45")
    assert cells(r.text, "scope3-supplier")[0] == ["Jansen", "859,252.5"]
    assert "basic prices" in r.text and "Example input" in r.text
    for table in ("scope3-lines", "scope3-totals", "scope3-supplier"):
        exported = list(csv.reader(io.StringIO(b.get(link(r.text, table)).text)))
        same_as_page(cells(r.text, table), exported[1:])


PURCHASES = (
    "supplier,product,method,supplier_region,sector,amount,currency,price_year,quantity,"
    "quantity_unit,activity_factor,factor_source,pact_product_id,supplier_scope12_kg,transport_kg\n"
)


@pytest.mark.parametrize(
    ("row", "mrio", "message"),
    [
        (
            "A,x,guess,,,,,,,,,,,,\n",
            "example",
            "purchases.csv, row 1, field 'method': unknown method 'guess'",
        ),
        (
            "A,x,spend,NL,goods,-5,EUR,2020,,,,,,,\n",
            "example",
            "purchases.csv, row 1, field 'amount': must not be negative",
        ),
        (
            "A,x,spend,NL,goods,5,EUR,2020,,,,,,,\n",
            "none",
            "purchases.csv, row 1, field 'method': a spend-based or hybrid line needs an MRIO, "
            "and none was chosen",
        ),
        (
            "A,x,spend,DE,goods,5,EUR,2020,,,,,,,\n",
            "example",
            "purchases.csv, row 1, field 'supplier_region': no MRIO multiplier for region 'DE'",
        ),
        (
            "A,x,supplier,,,,,,5,kilogram,,,urn:none,,\n",
            "none",
            "purchases.csv, row 1, field 'pact_product_id': no active PACT footprint",
        ),
    ],
    ids=["method", "negative", "no-mrio", "region", "no-pact"],
)
def test_bad_purchases_are_refused_next_to_the_field(
    client: TestClient, row: str, mrio: str, message: str
) -> None:
    b = browser(client, "en")
    r = b.post(
        "/footprint/scope3",
        {"source": "upload", "mrio_source": mrio},
        files={"purchases": ("purchases.csv", (PURCHASES + row).encode(), "text/csv")},
    )
    assert r.status_code == 422
    assert error(r.text, "purchases").startswith(message), error(r.text, "purchases")


def test_average_data_line_without_mrio_and_a_bad_pact_file(client: TestClient) -> None:
    """20,000 kg × 0.6 kg CO2e/kg = 12,000 kg CO2e (average-data needs no MRIO)."""
    b = browser(client, "en")
    good = PURCHASES + "Bakker,cement,average,,,,,,20000,kg,0.6,CBS,,,\n"
    r = b.post(
        "/footprint/scope3",
        {"source": "upload", "mrio_source": "none"},
        files={"purchases": ("p.csv", good.encode(), "text/csv")},
    )
    assert r.status_code == 200 and cells(r.text, "scope3-totals")[0][0] == "12,000"
    r = b.post(
        "/footprint/scope3",
        {"source": "upload", "mrio_source": "none"},
        files=[
            ("purchases", ("p.csv", good.encode(), "text/csv")),
            ("pact", ("jansen.json", b'{"data": [{"id": 1}]}', "application/json")),
        ],
    )
    assert r.status_code == 422 and error(r.text, "pact").startswith("jansen.json")


# ----------------------------------------------------------------------------- forms


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("/footprint", {"mrio_source": "example", "extension": "emissions"}),
        ("/footprint/leakage", {"source": "example", "mrio_source": "example"}),
        ("/footprint/scope3", {"source": "example", "mrio_source": "example"}),
    ],
)
def test_every_post_needs_the_csrf_token(
    client: TestClient, url: str, data: dict[str, str]
) -> None:
    b = browser(client)
    for token in ("", "forged"):
        r = b.post(url, data, csrf=token)
        assert r.status_code == 403 and "/footprint/export/" not in r.text


@pytest.mark.parametrize("url", ["/footprint", "/footprint/leakage", "/footprint/scope3"])
def test_pages_open_without_an_account_in_both_languages(client: TestClient, url: str) -> None:
    nl = browser(client, "nl").get(url)
    assert nl.status_code == 200 and "Bron van de MRIO" in nl.text
    en = browser(client, "en").get(url)
    assert en.status_code == 200 and "Source of the MRIO" in en.text
    assert "pymrio test system" in en.text and 'href="/footprint"' in en.text
