"""MKI pages (/mki, /mki/compare, /mki/tender, /mki/ceilings): the numbers equal the CLI and the
worked example of docs/mki.md, exports equal the page, bad files are refused next to their field
(422), and every POST needs the CSRF token (403)."""

from __future__ import annotations

import csv
import html as html_lib
import io
import json
import re
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner
from web_site import Browser, make_registry

from keten.cli.mki import app as mki_cli
from keten.web.app import create_web_app

EX = Path(__file__).resolve().parents[2] / "examples" / "mki"
DAY = "2025-09-01"
PROJECT = {"source": "example", "weighting_set": "2", "date": DAY, "period": "100"}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    db = tmp_path_factory.mktemp("mki") / "k.db"
    app = create_web_app(make_registry(f"sqlite:///{db}"))
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as c:
        yield c


def browser(client: TestClient, lang: str = "nl") -> Browser:
    client.cookies.clear()
    client.cookies.set("keten_lang", lang)
    b = Browser(client, None)
    b.get("/mki")
    return b


def cells(html: str, table: str) -> list[list[str]]:
    """The body cells of the result table ``table`` as text."""
    m = re.search(rf'<table data-table="{re.escape(table)}">.*?<tbody>(.*?)</tbody>', html, re.S)
    assert m, f"no table {table}"
    rows = re.findall(r"<tr>(.*?)</tr>", m.group(1), re.S)
    return [
        [
            html_lib.unescape(re.sub(r"<[^>]+>", "", c)).strip()
            for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)
        ]
        for r in rows
    ]


def error(html: str, name: str) -> str:
    m = re.search(rf'id="e-{name}" class="error">([^<]*)<', html)
    assert m, f"no error next to {name}"
    return html_lib.unescape(m.group(1))


def export_link(html: str, table: str, fmt: str = "csv") -> str:
    m = re.search(rf'href="(/mki/export/[^"/]+/{re.escape(table)}\.{fmt})"', html)
    assert m, f"no export link for {table}"
    return m.group(1)


def en_number(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def same_as_page(page: list[list[str]], exported: list[list[str]]) -> None:
    """English page cells equal the export cells: numbers exactly, words as shown."""
    assert len(page) == len(exported)
    for prow, erow in zip(page, exported, strict=True):
        for p, e in zip(prow, erow, strict=True):
            try:
                value = Decimal(e)
            except ArithmeticError:
                value = None
            if value is not None and e not in ("",):
                assert en_number(p) == value, (p, e)
            elif e in ("True", "False"):
                assert p == {"True": "yes", "False": "no"}[e]
            else:
                assert p == (e or "—"), (p, e)


def cli(*args: str) -> Any:
    r = CliRunner().invoke(mki_cli, [*args, "--format", "json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def files(**texts: str) -> dict[str, tuple[str, bytes, str]]:
    return {k: (f"{k}.csv", v.encode(), "text/csv") for k, v in texts.items()}


def example_text(name: str) -> str:
    return (EX / name).read_text(encoding="utf-8")


# ----------------------------------------------------------------------------- project


def test_project_page_shows_the_worked_example_of_the_docs(client: TestClient) -> None:
    """docs/mki.md, set 2 on 2025-09-01, period 100:
    fundering: r = max(1, ceil(100/100)) = 1 (MKI-04); A1-A3 (250 × 0.116 + 0.8 × 0.39) × 100
    = 2931.20; C3 5 × 0.116 × 100 = 58; A4 by truck (MKI-07) 100 × 2.4 × 50 = 12000 tkm ×
    (0.1 × 0.116 + 0.0005 × 1.22) = 146.52; D excluded (MKI-08) → 3135.72.
    deklaag: category 3 → × 1.3 (MKI-06), r = ceil(100/12) = 9, GWP-fossil not priced beside
    GWP-total (MKI-02): (50 × 0.116 + 600 × 0.00033 + 3 × 0.116) × 1.3 × 400 × 9 = 29699.28.
    leuning: GWP-total from its parts (MKI-03) 1812 × 0.116 × 5 × 2 = 2101.92, B2 once
    0.00001 × 32 × 5 = 0.0016 → 2101.9216. MKI = 34936.9216 EUR."""
    b = browser(client)
    r = b.post("/mki", PROJECT)
    assert r.status_code == 200, r.text
    assert 'data-total="mki">34.936,9216 EUR' in r.text
    assert cells(r.text, "mki-elements") == [
        ["fundering", "1", "3.135,72"],
        ["deklaag", "9", "29.699,28"],
        ["leuning", "2", "2.101,9216"],
    ]
    assert "Voorbeeldinvoer" in r.text  # the example files are labelled as example input
    assert r.text.count('<svg class="chart"') == 2  # by module and by element
    # set 2 prices are a third-party reproduction: the result says so
    assert "niet-geverifieerde wegingen" in r.text and "mki.weight.GWP-total" in r.text


def test_project_page_equals_the_cli_for_every_breakdown(client: TestClient) -> None:
    b = browser(client, "en")
    r = b.post("/mki", {**PROJECT, "include_d": "1"})
    assert r.status_code == 200
    data = cli(
        "project",
        "--project",
        str(EX / "project.csv"),
        "--profiles",
        str(EX / "profiles.csv"),
        "--period",
        "100",
        "--date",
        DAY,
        "--include-d",
    )
    assert Decimal(str(data["mki_eur"])) == Decimal("34820.9216")  # with D: 34936.9216 − 116
    page = {(row[0], row[1]): en_number(row[2]) for row in cells(r.text, "mki-breakdown")}
    assert page[("total", "mki_eur")] == Decimal(str(data["mki_eur"]))
    for breakdown, key in (
        ("module", "by_module"),
        ("element", "by_element"),
        ("indicator", "by_indicator"),
        ("material_group", "by_material_group"),
    ):
        for k, v in data[key].items():
            assert page[(breakdown, k)] == Decimal(str(v)), (breakdown, k)
    modules = {row[0]: en_number(row[1]) for row in cells(r.text, "mki-modules")}
    assert modules["D"] == Decimal("-116")  # −10 kg × 0.116 × 100 m3, r = 1 (MKI-08 switch on)


def test_uploaded_files_give_the_same_result_as_the_example(client: TestClient) -> None:
    b = browser(client)
    r = b.post(
        "/mki",
        {**PROJECT, "source": "upload"},
        files=files(project=example_text("project.csv"), profiles=example_text("profiles.csv")),
    )
    assert r.status_code == 200 and 'data-total="mki">34.936,9216 EUR' in r.text
    assert "Voorbeeldinvoer" not in r.text


def test_exports_equal_the_page(client: TestClient) -> None:
    b = browser(client, "en")
    r = b.post("/mki", PROJECT)
    for table in ("mki-modules", "mki-elements", "mki-indicators", "mki-breakdown", "parameters"):
        e = b.get(export_link(r.text, table))
        assert e.status_code == 200 and e.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(e.text)))
        same_as_page(cells(r.text, table), rows[1:])
    assert rows[0] == ["name", "period", "value", "unit", "status", "source"]
    x = b.get(export_link(r.text, "mki-elements", "xlsx"))
    assert x.status_code == 200 and "spreadsheetml" in x.headers["content-type"]
    with zipfile.ZipFile(io.BytesIO(x.content)) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
        strings = z.read("xl/sharedStrings.xml").decode()
    # exact decimals a float cannot hold are written as text, whole numbers as numbers (ui.py)
    assert "29699.28" in strings and "2101.9216" in strings and "deklaag" in strings
    assert "<v>9</v>" in sheet  # the replacements of deklaag


def test_an_export_belongs_to_the_visitor_who_computed_it(client: TestClient) -> None:
    b = browser(client)
    link = export_link(b.post("/mki", PROJECT).text, "mki-elements")
    assert b.get(link).status_code == 200
    other = browser(client)  # a new visitor: another CSRF cookie
    assert other.get(link).status_code == 404
    assert b.get("/mki/export/nonsense/mki-elements.csv").status_code == 404
    assert other.get(link.replace(".csv", ".pdf")).status_code == 404


PROFILES = "product_id,unit,data_category,module,indicator,value\n"
GOOD_PROFILE = "beton,m3,1,A1-A3,GWP-total,250\n"
GOOD_PROJECT = "element_id,product_id,quantity,service_life_years,unit\nfund,beton,10,100,m3\n"


@pytest.mark.parametrize(
    ("profiles", "project", "where", "message"),
    [
        (
            PROFILES + "beton,m3,1,A1-A3,FOO,1\n",
            GOOD_PROJECT,
            "profiles",
            "profiles.csv, row 1, field 'indicator': unknown indicator 'FOO' for weighting set 2",
        ),
        (
            PROFILES + "beton,m3,1,A1-A3,GWP,1\n",
            GOOD_PROJECT,
            "profiles",
            "unknown indicator 'GWP' for weighting set 2; it is a set 1 code",
        ),
        (
            PROFILES + "beton,m3,1,A9,GWP-total,1\n",
            GOOD_PROJECT,
            "profiles",
            "profiles.csv, row 1, field 'module': unknown module 'A9'",
        ),
        (
            PROFILES + GOOD_PROFILE,
            GOOD_PROJECT.replace(",10,", ",-10,"),
            "project",
            "project.csv, row 1, field 'quantity': must not be negative",
        ),
        (
            PROFILES + GOOD_PROFILE,
            GOOD_PROJECT.replace(",100,", ",0,"),
            "project",
            "project.csv, row 1, field 'service_life_years': must be positive",
        ),
        (
            PROFILES + GOOD_PROFILE,
            GOOD_PROJECT.replace("fund,beton", "fund,staal"),
            "project",
            "project.csv, row 1, field 'product_id': no profile for product 'staal'",
        ),
        (
            PROFILES + GOOD_PROFILE,
            GOOD_PROJECT.replace(",m3\n", ",t\n"),
            "project",
            "project.csv, row 1, field 'unit': unit 't' does not match the functional unit 'm3'",
        ),
        (
            "product_id,unit,value\n",
            GOOD_PROJECT,
            "profiles",
            "profiles.csv: header: missing column(s) data_category, module, indicator",
        ),
    ],
    ids=[
        "unknown-indicator",
        "set1-code",
        "unknown-module",
        "negative-quantity",
        "life-0",
        "missing-profile",
        "unit-mismatch",
        "bad-header",
    ],
)
def test_bad_files_are_refused_next_to_their_field(
    client: TestClient, profiles: str, project: str, where: str, message: str
) -> None:
    b = browser(client, "en")  # English page: Dutch refusals in test_web_mki_messages.py
    r = b.post(
        "/mki",
        {**PROJECT, "source": "upload"},
        files=files(project=project, profiles=profiles),
    )
    assert r.status_code == 422
    assert message in error(r.text, where)
    assert "data-total" not in r.text


def test_the_same_files_compute_when_correct(client: TestClient) -> None:
    """10 m3 × 250 kg CO2 eq × 0.116 €/kg (set 2 on 2025-09-01), r = 1: 290 EUR."""
    b = browser(client)
    r = b.post(
        "/mki",
        {**PROJECT, "source": "upload"},
        files=files(project=GOOD_PROJECT, profiles=PROFILES + GOOD_PROFILE),
    )
    assert r.status_code == 200 and 'data-total="mki">290 EUR' in r.text


def test_missing_files_and_bad_options_are_shown_next_to_the_field(client: TestClient) -> None:
    b = browser(client, "en")
    r = b.post(
        "/mki", {"source": "upload", "weighting_set": "3", "date": "1-9-2025", "period": "-5"}
    )
    assert r.status_code == 422
    assert error(r.text, "project") == "Choose a file."
    assert error(r.text, "profiles") == "Choose a file."
    assert error(r.text, "weighting_set") == "Choose weighting set 1 or 2."
    assert error(r.text, "date").startswith("Enter a date as YYYY-MM-DD")
    assert error(r.text, "period") == "The reference period must be more than zero years."
    r = b.post("/mki", {**PROJECT, "period": "ten"})
    assert r.status_code == 422 and error(r.text, "period").startswith("Enter a number")


def test_set_one_results_are_flagged_unverified(client: TestClient) -> None:
    b = browser(client, "en")
    r = b.post(
        "/mki",
        {"source": "upload", "weighting_set": "1", "date": DAY},
        files=files(
            project="element_id,product_id,quantity,service_life_years\ne,p,2,50\n",
            profiles=PROFILES + "p,t,1,A1-A3,GWP,100\n",
        ),
    )
    assert r.status_code == 200
    params = {row[0]: row[4] for row in cells(r.text, "parameters")}
    assert params["mki.weight.GWP"] == "unverified"
    assert "unverified weights" in r.text


# ----------------------------------------------------------------------------- compare


def test_compare_equals_the_cli(client: TestClient) -> None:
    """CEM III concrete: A1-A3 (180 × 0.116 + 0.7 × 0.39) × 100 = 2115.30 instead of 2931.20,
    so B − A = −815.90 EUR, all of it in element fundering (MKI-10)."""
    b = browser(client, "en")
    r = b.post("/mki/compare", PROJECT)
    assert r.status_code == 200, r.text
    assert 'data-total="difference">-815.9 EUR' in r.text
    data = cli(
        "compare",
        "--project",
        str(EX / "project.csv"),
        "--variant",
        str(EX / "variant.csv"),
        "--profiles",
        str(EX / "profiles.csv"),
        "--period",
        "100",
        "--date",
        DAY,
    )
    page = cells(r.text, "compare-lines")
    assert len(page) == len(data["lines"])
    for row, line in zip(page, data["lines"], strict=True):
        assert row[:2] == [line["breakdown"], line["key"]]
        assert [en_number(v) for v in row[2:]] == [
            Decimal(str(line[k])) for k in ("a_eur", "b_eur", "difference_eur")
        ]
    assert cells(r.text, "causes-element") == [
        ["element", "fundering", "3,135.72", "2,319.82", "-815.9"]
    ]
    e = b.get(export_link(r.text, "compare-elements"))
    same_as_page(cells(r.text, "compare-elements"), list(csv.reader(io.StringIO(e.text)))[1:])


def test_compare_refuses_a_bad_variant_next_to_its_field(client: TestClient) -> None:
    b = browser(client, "en")  # English page: Dutch refusals in test_web_mki_messages.py
    r = b.post(
        "/mki/compare",
        {**PROJECT, "source": "upload"},
        files=files(
            project=example_text("project.csv"),
            variant=example_text("variant.csv").replace("beton-c30-cem3", "beton-x"),
            profiles=example_text("profiles.csv"),
        ),
    )
    assert r.status_code == 422
    assert "no profile for product 'beton-x'" in error(r.text, "variant")


# ----------------------------------------------------------------------------- tender


TENDER = {
    "source": "example",
    "method": "both",
    "factor": "2",
    "upper": "200000",
    "lower": "100000",
    "max_discount": "80000",
}


def test_tender_table_ranks_both_methods_as_the_cli(client: TestClient) -> None:
    """MKI-W factor 2: B 1,050,000 + 2 × 100,000 = 1,250,000 (rank 1), A 1,300,000,
    C 1,330,000. Bounded (MKI-12): A 1,000,000 − 80,000 × (200,000 − 150,000)/100,000
    = 960,000 (rank 1)."""
    b = browser(client, "en")
    r = b.post("/mki/tender", TENDER)
    assert r.status_code == 200, r.text
    for method, args in (
        ("mki-w", ["--factor", "2"]),
        ("bounded", ["--upper", "200000", "--lower", "100000", "--max-discount", "80000"]),
    ):
        rr = CliRunner().invoke(
            mki_cli,
            ["award", "--bids", str(EX / "bids.csv"), "--method", method, *args, "--format", "csv"],
        )
        expected = list(csv.reader(io.StringIO(rr.stdout)))[1:]
        page = cells(r.text, f"award-{method}")
        assert [row[:5] for row in page] == [
            [e[0], *(f"{int(e[i]):,}" for i in (1, 2, 3)), e[4]] for e in expected
        ]
        assert [row[5] for row in page] == ["no"] * 3
        link = export_link(r.text, f"award-{method}")
        same_as_page(page, list(csv.reader(io.StringIO(b.get(link).text)))[1:])
    assert cells(r.text, "award-mki-w")[0][:4] == [
        "Aannemer B",
        "1,050,000",
        "100,000",
        "1,250,000",
    ]
    assert cells(r.text, "award-bounded")[0][3] == "960,000"
    assert cells(r.text, "award-bounded")[0][6].startswith("1000000 − 80000 × clamp(")


def test_tender_ties_share_a_rank(client: TestClient) -> None:
    """X 1,000 + 1 × 500 = 1,500 and Y 1,200 + 1 × 300 = 1,500: both rank 1 (MKI-14);
    Z 1,400 + 200 = 1,600 rank 3."""
    b = browser(client, "en")
    bids = "bidder,price_eur,mki_eur\nX,1000,500\nY,1200,300\nZ,1400,200\n"
    r = b.post(
        "/mki/tender",
        {**TENDER, "source": "upload", "method": "mki-w", "factor": "1"},
        files=files(bids=bids),
    )
    assert r.status_code == 200
    assert [(row[0], row[3], row[4], row[5]) for row in cells(r.text, "award-mki-w")] == [
        ("X", "1,500", "1", "yes"),
        ("Y", "1,500", "1", "yes"),
        ("Z", "1,600", "3", "no"),
    ]
    assert "award-bounded" not in r.text


def test_tender_bad_input_is_shown_next_to_the_field(client: TestClient) -> None:
    b = browser(client, "en")
    r = b.post("/mki/tender", {**TENDER, "factor": "", "upper": "100", "lower": "200"})
    assert r.status_code == 422 and error(r.text, "factor") == "Enter a number."
    r = b.post("/mki/tender", {**TENDER, "upper": "100", "lower": "200"})
    assert r.status_code == 422
    assert error(r.text, "upper") == "the upper MKI bound must be above the lower bound"
    r = b.post(
        "/mki/tender",
        {**TENDER, "source": "upload"},
        files=files(bids="bidder,price_eur,mki_eur\nA,100,-5\n"),
    )
    assert r.status_code == 422
    assert error(r.text, "bids") == "bids.csv, row 1, field 'mki_eur': must not be negative"


# ----------------------------------------------------------------------------- ceilings


def test_ceiling_check_at_below_and_above_the_limit(client: TestClient) -> None:
    """Ceiling 25 €/m3 (MKI-11): 23.50 passes with margin 1.50 (6 %), 25 passes at the limit,
    26.10 fails by −1.10 (−4.4 %); asphalt 9.80 against 10 passes (2 %)."""
    b = browser(client, "en")
    r = b.post("/mki/ceilings", {"source": "example", "weighting_set": "2", "date": DAY})
    assert r.status_code == 200, r.text
    assert [(row[0], row[6], row[7], row[8]) for row in cells(r.text, "ceiling-check")] == [
        ("L-001", "1.5", "6", "pass"),
        ("L-002", "0", "0", "pass"),
        ("L-003", "-1.1", "-4.4", "fail"),
        ("L-004", "0.2", "2", "pass"),
    ]
    rr = CliRunner().invoke(
        mki_cli,
        [
            "check",
            "--batches",
            str(EX / "batches.csv"),
            "--ceilings",
            str(EX / "ceilings.csv"),
            "--format",
            "csv",
        ],
    )
    expected = list(csv.reader(io.StringIO(rr.stdout)))[1:]
    exported = list(csv.reader(io.StringIO(b.get(export_link(r.text, "ceiling-check")).text)))
    assert [row[:9] for row in exported[1:]] == expected


def test_ceiling_check_without_published_ceilings_asks_for_a_file(client: TestClient) -> None:
    b = browser(client, "en")
    r = b.post(
        "/mki/ceilings",
        {"source": "upload", "weighting_set": "2", "date": DAY},
        files=files(batches=example_text("batches.csv")),
    )
    assert r.status_code == 422
    assert error(r.text, "ceilings").startswith("Weighting set 2 has no published ceilings")
    r = b.post(
        "/mki/ceilings",
        {"source": "upload", "weighting_set": "2", "date": DAY},
        files=files(
            batches=example_text("batches.csv").replace("concrete,C30/37", "wood,C30/37"),
            ceilings=example_text("ceilings.csv"),
        ),
    )
    assert r.status_code == 422
    assert "batches.csv, row 1, field 'material': unknown material 'wood'" in error(
        r.text, "batches"
    )


# ----------------------------------------------------------------------------- forms


@pytest.mark.parametrize(
    ("url", "data"),
    [
        ("/mki", PROJECT),
        ("/mki/compare", PROJECT),
        ("/mki/tender", TENDER),
        ("/mki/ceilings", {"source": "example", "date": DAY}),
    ],
)
def test_every_post_needs_the_csrf_token(
    client: TestClient, url: str, data: dict[str, str]
) -> None:
    b = browser(client)
    for token in ("", "forged"):
        r = b.post(url, data, csrf=token)
        assert r.status_code == 403 and "/mki/export/" not in r.text


@pytest.mark.parametrize("url", ["/mki", "/mki/compare", "/mki/tender", "/mki/ceilings"])
def test_pages_open_without_an_account_in_both_languages(client: TestClient, url: str) -> None:
    nl = browser(client, "nl").get(url)
    assert nl.status_code == 200 and "Gebruik de voorbeeldbestanden" in nl.text
    en = browser(client, "en").get(url)
    assert en.status_code == 200 and "Use the example files" in en.text
    assert 'href="/mki"' in en.text  # the main navigation shows the MKI page
