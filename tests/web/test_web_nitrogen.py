"""The nitrogen pages (/nitrogen, /nitrogen/vbr, /nitrogen/sectors, /nitrogen/budget): the numbers
equal what ``keten nitrogen …`` computes for the worked cases of docs/nitrogen.md, the Vbr map,
the exports, bad input next to the field (422) and the CSRF refusal of every POST (403)."""

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
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner
from web_site import Browser, make_registry

from keten.cli.nitrogen import app as cli
from keten.web.app import create_web_app

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "nitrogen"
runner = CliRunner()


class Site:
    """The pages need no database and no account: one application (SQLite) for the module,
    a fresh anonymous browser (own cookies and CSRF token) per call."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.clients: list[TestClient] = []

    def browser(self) -> Browser:
        client = TestClient(self.app, base_url="https://testserver", follow_redirects=False)
        client.__enter__()
        self.clients.append(client)
        b = Browser(client, None)
        b.get("/nitrogen")
        return b


@pytest.fixture(scope="module")
def web_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    reg = make_registry("sqlite:///" + str(tmp_path_factory.mktemp("nitrogen") / "k.db"))
    yield create_web_app(reg)
    reg.ledger.sessions.kw["bind"].dispose()


@pytest.fixture
def site(web_app: FastAPI) -> Iterator[Site]:
    s = Site(web_app)
    yield s
    for c in s.clients:
        c.__exit__(None, None, None)


def run_cli(*args: str) -> str:
    r = runner.invoke(cli, list(args))
    assert r.exit_code == 0, r.output
    return r.stdout


def cell(html: str, pattern: str) -> str:
    m = re.search(pattern, html, flags=re.S)
    assert m, pattern
    return m.group(1)


def hidden_form(html: str, form_id: str) -> dict[str, str]:
    """The hidden fields of an export form (what the browser sends with an export button)."""
    body = cell(html, rf'<form[^>]*id="{form_id}"[^>]*>(.*?)</form>')
    import html as h

    return {
        k: h.unescape(v)
        for k, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', body, re.S)
    }


def download(b: Browser, url: str, data: dict[str, str], export: str) -> list[list[str]]:
    r = b.post(url, {**data, "export": export})
    assert r.status_code == 200, r.text[:500]
    if export.endswith(":csv"):
        assert r.headers["content-type"].startswith("text/csv")
        return list(csv.reader(io.StringIO(r.text)))
    wb = openpyxl.load_workbook(io.BytesIO(r.content))
    return [
        ["" if v is None else str(v) for v in row] for row in wb.active.iter_rows(values_only=True)
    ]


def farm_form(**extra: str) -> dict[str, str]:
    return {"housing_code_1": "A1.100", "animals_1": "100", **extra}


# ----------------------------------------------------------------------------- farm page


def test_farm_page_renders_the_form_and_the_sourced_catalogue(site: Site) -> None:
    r = site.browser().get("/nitrogen")
    assert r.status_code == 200
    assert 'href="/nitrogen/vbr"' in r.text and 'href="/nitrogen/sectors"' in r.text
    assert "Rav bijlage 1 (BWBR0013629)" in r.text  # the catalogue shows each value's source
    assert "obligation to draw up and carry out a bedrijfsplan" in r.text  # the ladder


def test_farm_worked_case_emission_norm_path_and_enforcement_equal_the_domain(
    site: Site, tmp_path: Path
) -> None:
    """docs/nitrogen.md 'Norms': 100 cows on A1.100 (Rav bijlage 1: 13,0 kg) →
    reference 100 × 13,0 = 1300 kg; proportional 1300 × (1 − 42 %) = 754 (NH-11);
    path 2027 = 1300 + (754 − 1300) × 8/16 = 1027 (NH-14) < observed 1100 → behind → bedrijfsplan;
    2035: 800 − 754 = 46 kg over the norm → fine 46 × €10 × 1,5 = €690 (NH-15);
    2037: 800 again → second miss → freezing of production rights (NH-16)."""
    b = site.browser()
    r = b.post(
        "/nitrogen",
        farm_form(
            method="proportional",
            obs_2027="1100",
            obs_2035="800",
            obs_2037="800",
            avoided_cost="10",
        ),
    )
    assert r.status_code == 200, r.text[:2000]
    assert 'data-total="1300"' in r.text
    assert 'data-norm="754"' in r.text
    assert (
        cell(r.text, r'<tr data-year="2027"[^>]*><td>2027</td><td class="num" data-path="([^"]+)"')
        == "1027"
    )
    assert 'data-year="2027" data-step="1"' in r.text
    assert 'data-year="2035" data-step="2"' in r.text and "690" in r.text
    assert 'data-year="2037" data-step="3"' in r.text
    assert '<svg class="chart"' in r.text  # the path chart
    # the explanation: each step with its catalogue value and source
    assert "EF(A1.100) = 13.0" in r.text and "row A 1.100" in r.text
    # the CLI computes the same (norms --format json)
    tmp = tmp_path
    (tmp / "h.csv").write_text(
        "farm_id,housing_code,animals,ef_nh3,traditional_ef_nh3,additional\nfarm,A1.100,100,,,\n"
    )
    (tmp / "o.csv").write_text(
        "farm_id,year,nh3_kg\nfarm,2027,1100\nfarm,2035,800\nfarm,2037,800\n"
    )
    out = json.loads(
        run_cli(
            "norms",
            "--housings",
            str(tmp / "h.csv"),
            "--method",
            "proportional",
            "--observed",
            str(tmp / "o.csv"),
            "--avoided-cost",
            "10",
            "--format",
            "json",
        )
    )[0]
    assert out["norm_kg"] == 754 and out["reference_nh3_kg"] == 1300
    assert [e["fine_eur"] for e in out["history"]] == [None, 690, None]
    hidden = hidden_form(r.text, "farm-export")
    rows = download(b, "/nitrogen/export", hidden, "history:csv")
    assert [(x[1], x[2], x[6]) for x in rows[1:]] == [
        ("2027", "1", ""),
        ("2035", "2", "690"),
        ("2037", "3", ""),
    ]
    path = download(b, "/nitrogen/export", hidden, "path:csv")
    assert ["farm", "2027", "1027", "True", "1100", "behind", "73"] in path


def test_farm_stricter_norm_is_the_benchmark_with_the_best_available_housing(site: Site) -> None:
    """docs/nitrogen.md: benchmark 100 × 5,7 (A1.1, lowest A1 factor, NH-12) = 570 < 754 →
    stricter (NH-13) = 570."""
    r = site.browser().post("/nitrogen", farm_form(method="stricter"))
    assert r.status_code == 200 and 'data-norm="570"' in r.text


def test_uploaded_housings_file_equals_the_cli_and_the_docs(site: Site) -> None:
    """docs/nitrogen.md worked example: melkvee-1 100 × 13,0 + 40 × 4,4 × 0,75 = 1432;
    varkens-2 1000 × 3,0 × 0,8 × 0,9 = 2160; varkens-3 scrubber floor binds max(0,15; 0,3 × 3,0)
    = 0,9 → 1000 × 0,9 × 0,3 = 270 (Rav eindnoot 3, NH-01); varkens-4 floor does not bind
    1000 × 4,5 × 0,3 = 1350; eigen-5 max(0,5; 0,6) × 100 × 0,5 = 30 (NH-05)."""
    b = site.browser()
    data = (EXAMPLES / "housings.csv").read_bytes()
    r = b.post("/nitrogen", {}, files={"housings_file": ("housings.csv", data, "text/csv")})
    assert r.status_code == 200, r.text[:2000]
    want = {
        "melkvee-1": 1432,
        "varkens-2": 2160,
        "varkens-3": 270,
        "varkens-4": 1350,
        "eigen-5": 30,
    }
    cli_out = json.loads(
        run_cli("emissions", "--housings", str(EXAMPLES / "housings.csv"), "--format", "json")
    )
    assert {f["farm_id"]: f["nh3_kg"] for f in cli_out} == want
    for farm, kg in want.items():
        assert f'data-farm-total="{farm}"' in r.text
        shown = cell(r.text, rf'data-farm-total="{farm}">.*?data-total="([^"]+)"')
        assert Decimal(shown) == kg
    # the emissions export equals `keten nitrogen emissions --format csv`, in CSV and Excel
    hidden = hidden_form(r.text, "farm-export")
    got = download(b, "/nitrogen/export", hidden, "emissions:csv")
    expected = list(
        csv.reader(
            io.StringIO(
                run_cli(
                    "emissions", "--housings", str(EXAMPLES / "housings.csv"), "--format", "csv"
                )
            )
        )
    )
    assert got == expected
    xlsx = download(b, "/nitrogen/export", hidden, "emissions:xlsx")
    assert [Decimal(x[-1]) for x in xlsx[1:]] == [Decimal(x[-1]) for x in expected[1:]]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            farm_form(housing_code_1="X9.999"),
            "housing_code_1",
            "onbekende code van een huisvestings-",
        ),
        (farm_form(animals_1="-5"), "animals_1", "mag niet negatief zijn"),
        (farm_form(additional_1="custom:1"), "additional_1", "ligt buiten [0, 1)"),
        (farm_form(additional_1="custom:-0.1"), "additional_1", "ligt buiten [0, 1)"),
        (farm_form(category_1="D3"), "category_1", "A1"),
        (farm_form(year="1999"), "year", ""),
        (farm_form(obs_2027="veel"), "obs_2027", ""),
        (
            {
                "housing_code_1": "",
                "ef_nh3_1": "0.5",
                "animals_1": "10",
                "additional_1": "custom:0.5:scrubber",
            },
            "traditional_ef_nh3_1",
            "traditional_ef_nh3",
        ),
    ],
)
def test_bad_farm_input_is_shown_next_to_the_field(
    site: Site, data: dict[str, str], field: str, message: str
) -> None:
    r = site.browser().post("/nitrogen", data)
    assert r.status_code == 422
    error = cell(r.text, rf'<p id="e-{field}" class="error">(.*?)</p>')
    assert message in error
    assert 'id="result-h"' not in r.text


def test_bad_uploaded_housings_file_names_row_and_field(site: Site) -> None:
    text = "farm_id,housing_code,animals,ef_nh3,traditional_ef_nh3,additional\nf,A1.100,-1,,,\n"
    r = site.browser().post(
        "/nitrogen", {}, files={"housings_file": ("mine.csv", text.encode(), "text/csv")}
    )
    assert r.status_code == 422
    # the page is Dutch by default: the place and the reason both (English: the CLI's text)
    assert "mine.csv, rij 1, veld &#39;animals&#39;: mag niet negatief zijn" in cell(
        r.text, r'<p id="e-housings_file" class="error">(.*?)</p>'
    )


def test_empty_farm_form_is_refused(site: Site) -> None:
    r = site.browser().post("/nitrogen", {})
    assert r.status_code == 422 and 'class="error form-error"' in r.text


# ----------------------------------------------------------------------------- Vbr page


def vbr_example(b: Browser, **extra: str) -> str:
    r = b.post("/nitrogen/vbr", {"source": "example", "budget": "6000000", **extra})
    assert r.status_code == 200, r.text[:2000]
    return r.text


def test_vbr_example_ranking_and_cut_off_equal_the_cli(site: Site) -> None:
    """docs/nitrogen.md 'Vbr ranking' with €6 m: round 1 (≤ 1,000 m inclusive, NH-41) by time:
    V002 (exactly 1,000 m) 1,5 m, V001 3 m → 4,5 m, V004 0,9 m → 5,4 m; round 2 by €/kg: V007
    (100000 / 500 = 200 €/kg) → 5,5 m; V003 (1 m) does not fit → stop (NH-42)."""
    b = site.browser()
    html = vbr_example(b)
    assert "Voorbeeldinvoer" in html  # labelled as example input
    cli_rows = json.loads(
        run_cli(
            "vbr",
            "--applications",
            str(EXAMPLES / "applications.csv"),
            "--areas",
            str(EXAMPLES / "areas.geojson"),
            "--budget",
            "6000000",
            "--format",
            "json",
        )
    )
    order = re.findall(r'<tr data-id="([^"]+)" data-granted="(yes|no)"', html)
    assert order == [(x["application_id"], "yes" if x["granted"] else "no") for x in cli_rows]
    assert [i for i, g in order if g == "yes"] == ["V002", "V001", "V004", "V007"]
    assert 'data-cutoff="V003"' in html
    assert 'data-granted="5500000"' in html
    # the cut-off row sits right before V003
    assert re.search(r'<tr class="cutoff">.*?</tr>\s*<tr data-id="V003"', html, re.S)
    rows = download(b, "/nitrogen/vbr/export", hidden_form(html, "vbr-export"), "ranking:csv")
    assert rows[0] == [
        "application_id",
        "round",
        "rank",
        "distance_m",
        "eur_per_kg",
        "granted",
        "cumulative_eur",
    ]
    assert [r[0] for r in rows[1:]] == [x["application_id"] for x in cli_rows]
    assert [Decimal(r[6]) for r in rows[1:]] == [
        Decimal(str(x["cumulative_eur"])) for x in cli_rows
    ]
    assert [r[3] for r in rows[1:3]] == ["1000.00", "0.00"]
    xlsx = download(b, "/nitrogen/vbr/export", hidden_form(html, "vbr-export"), "ranking:xlsx")
    assert [r[5] for r in xlsx[1:]] == [str(x["granted"]) for x in cli_rows]


def test_vbr_map_has_one_point_per_application_with_its_budget_class(site: Site) -> None:
    html = vbr_example(site.browser())
    svg = cell(html, r'(<svg class="map".*?</svg>)')
    points = re.findall(r'<circle class="application ([a-z-]+)" data-key="([^"]+)"', svg)
    assert sorted(k for _c, k in points) == [f"V00{i}" for i in range(1, 8)]
    cls = dict((k, c) for c, k in points)
    assert {k for k, c in cls.items() if c == "in-budget"} == {"V001", "V002", "V004", "V007"}
    assert {k for k, c in cls.items() if c == "out-of-budget"} == {"V003", "V005", "V006"}
    assert svg.count("<title>V00") == 7  # a <title> per point
    assert svg.count('<g class="area"><path') == 1 and svg.count("<path") >= 4  # 3 areas + zone
    assert "http" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")  # no tiles


def test_vbr_skip_mode_grants_v006_as_the_cli_does(site: Site) -> None:
    """docs/nitrogen.md: with --mode skip V006 (0,5 m) is still granted: 6,0 m."""
    html = vbr_example(site.browser(), mode="skip")
    assert 'data-granted="6000000"' in html and "data-cutoff" not in html
    assert '<tr data-id="V006" data-granted="yes"' in html


def test_vbr_uploaded_files_equal_the_example(site: Site) -> None:
    b = site.browser()
    files = {
        "applications": ("apps.csv", (EXAMPLES / "applications.csv").read_bytes(), "text/csv"),
        "areas": ("areas.geojson", (EXAMPLES / "areas.geojson").read_bytes(), "application/json"),
    }
    r = b.post("/nitrogen/vbr", {"source": "upload", "budget": "6000000"}, files=files)
    assert r.status_code == 200 and 'data-cutoff="V003"' in r.text
    assert "Voorbeeldinvoer" not in r.text
    rows = download(b, "/nitrogen/vbr/export", hidden_form(r.text, "vbr-export"), "ranking:csv")
    assert [x[0] for x in rows[1:5]] == ["V002", "V001", "V004", "V007"]


AREA = {
    "type": "FeatureCollection",
    "crs": {"type": "name", "properties": {"name": "EPSG:28992"}},
    "features": [
        {
            "type": "Feature",
            "properties": {},
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [
                        [150000, 450000],
                        [152000, 450000],
                        [152000, 452000],
                        [150000, 452000],
                        [150000, 450000],
                    ]
                ],
            },
        }
    ],
}
APPS = (
    "application_id,submitted_at,x,y,nh3_kg,subsidy_eur\n"
    "A1,2026-03-02T09:00:00+01:00,151000,451000,10,100\n"
)


def bowtie() -> dict[str, object]:
    doc = json.loads(json.dumps(AREA))
    doc["features"][0]["geometry"]["coordinates"] = [
        [[150000, 450000], [152000, 452000], [152000, 450000], [150000, 452000], [150000, 450000]]
    ]
    return doc


def no_crs() -> dict[str, object]:
    doc = json.loads(json.dumps(AREA))
    del doc["crs"]
    return doc


@pytest.mark.parametrize(
    ("apps", "areas", "field", "message"),
    [
        (APPS, bowtie(), "areas", "ongeldige polygoon"),
        (APPS, no_crs(), "areas", "geen coördinatenstelsel (CRS)"),
        (
            APPS.replace("151000,451000", "151000,700000"),
            AREA,
            "applications",
            "buiten Nederland",
        ),
        (
            APPS.replace("151000,451000", "-5000,451000"),
            AREA,
            "applications",
            "buiten Nederland",
        ),
        (APPS.replace(",10,100", ",0,100"), AREA, "applications", "moet positief zijn"),
    ],
)
def test_bad_vbr_input_is_shown_next_to_the_field(
    site: Site, apps: str, areas: dict[str, object], field: str, message: str
) -> None:
    files = {
        "applications": ("apps.csv", apps.encode(), "text/csv"),
        "areas": ("areas.geojson", json.dumps(areas).encode(), "application/json"),
    }
    r = site.browser().post("/nitrogen/vbr", {"source": "upload"}, files=files)
    assert r.status_code == 422
    assert message in cell(r.text, rf'<p id="e-{field}" class="error">(.*?)</p>')
    assert '<svg class="map"' not in r.text


def test_vbr_without_files_and_with_a_negative_budget_is_refused(site: Site) -> None:
    r = site.browser().post("/nitrogen/vbr", {"source": "upload", "budget": "-1"})
    assert r.status_code == 422
    for f in ("applications", "areas", "budget"):
        assert f'id="e-{f}"' in r.text


# ----------------------------------------------------------------------------- sectors, budget


def test_sector_targets_and_monitoring_equal_the_domain(site: Site) -> None:
    """docs/nitrogen.md: Landbouw 110,3 kt × (1 − 42 %) = 63,974 kt in 2035 (seed 002 §2);
    path 2027 = 110,3 + (63,974 − 110,3) × 8/16 = 87,137 kt (NH-31); observed 90 > 87,137 →
    behind by 2,863 kt."""
    b = site.browser()
    r = b.get("/nitrogen/sectors")
    assert r.status_code == 200 and 'data-target="63.974"' in r.text
    assert r.text.count('<figure class="sector-chart"') >= 1
    r46 = b.get("/nitrogen/sectors?set=vervolgpakket-2025-46")
    assert 'data-target="59.562"' in r46.text  # 110,3 × (1 − 46 %) = 59,562
    r = b.post("/nitrogen/sectors", {"sector_1": "landbouw/nh3", "year_1": "2027", "kt_1": "90"})
    assert r.status_code == 200, r.text[:2000]
    assert ('data-path="87.137"' in r.text and "behind" in r.text.lower()) or "achter" in r.text
    rows = download(
        b, "/nitrogen/sectors/export", hidden_form(r.text, "sectors-export"), "monitoring:csv"
    )
    assert rows[1][:5] == ["landbouw", "nh3", "2027", "True", "90"]
    assert rows[1][6] == "87.137" and rows[1][8] == "behind" and rows[1][9] == "2.863"
    t = b.get("/nitrogen/sectors/export?set=vervolgpakket-2025&fmt=csv")
    assert t.status_code == 200 and "landbouw,nh3,110.3,42,63.974," in t.text


def test_bad_sector_observation_is_shown_next_to_the_field(site: Site) -> None:
    r = site.browser().post(
        "/nitrogen/sectors", {"sector_1": "landbouw/nh3", "year_1": "2027", "kt_1": "-3"}
    )
    assert r.status_code == 422 and "mag niet negatief zijn" in r.text
    assert 'id="e-kt_1"' in r.text


def test_budget_table_adds_up_as_printed_and_tracks_commitments(site: Site) -> None:
    """Tabel 1 (seed 002): 750 + 375 = 1.125 (brede vrijwillige beëindigingsregeling);
    100 + 400 = 500 (natuur); structural 12,5 + 12,5 = 25 (natuurmonitoring); every sum adds up."""
    b = site.browser()
    r = b.get("/nitrogen/budget")
    assert r.status_code == 200
    assert 'data-ok="no"' not in r.text and r.text.count('data-ok="yes"') >= 10
    cli_rows = list(csv.reader(io.StringIO(run_cli("budget", "--format", "csv"))))
    export = b.get("/nitrogen/budget/export?table=table&fmt=csv")
    got = list(csv.reader(io.StringIO(export.text)))
    assert len(got) == len(cli_rows)
    assert got[1][:2] == ["incidenteel", "brede_vrijwillige_beeindigingsregeling"]
    assert got[1][3:] == ["750", "375", "1125"]
    r = b.post(
        "/nitrogen/budget",
        {"line_1": "incidenteel/natuur", "amount_1": "600", "description_1": "x"},
    )
    assert r.status_code == 200
    assert 'data-line="incidenteel/natuur"' in r.text and 'data-remaining="-100"' in r.text
    rows = download(
        b, "/nitrogen/budget/export", hidden_form(r.text, "budget-export"), "commitments:csv"
    )
    assert ["incidenteel", "natuur", "500", "600", "-100", "True"] in rows


def test_bad_commitment_is_shown_next_to_the_field(site: Site) -> None:
    r = site.browser().post("/nitrogen/budget", {"line_1": "incidenteel/natuur", "amount_1": "-1"})
    assert r.status_code == 422 and 'id="e-amount_1"' in r.text


# ----------------------------------------------------------------------------- CSRF, language


@pytest.mark.parametrize(
    "url",
    [
        "/nitrogen",
        "/nitrogen/export",
        "/nitrogen/vbr",
        "/nitrogen/vbr/export",
        "/nitrogen/sectors",
        "/nitrogen/sectors/export",
        "/nitrogen/budget",
        "/nitrogen/budget/export",
    ],
)
def test_every_post_is_refused_without_a_valid_csrf_token(site: Site, url: str) -> None:
    b = site.browser()
    data = {"source": "example", "budget": "6000000", **farm_form(), "export": "x:csv"}
    assert b.post(url, data, csrf="wrong").status_code == 403
    assert b.post(url, data, csrf="").status_code == 403


def test_pages_are_dutch_by_default_and_english_by_the_switch(site: Site) -> None:
    b = site.browser()
    assert "Bedrijfsemissie, norm en pad" in b.get("/nitrogen").text
    b.post("/language", {"lang": "en", "next": "/nitrogen"})
    for url, text in [
        ("/nitrogen", "Farm emissions, norm and path"),
        ("/nitrogen/vbr", "Vbr buy-out ranking"),
        ("/nitrogen/sectors", "Sector targets and monitoring"),
        ("/nitrogen/budget", "Budget per measure (Tabel 1)"),
    ]:
        r = b.get(url)
        assert r.status_code == 200 and text in r.text and '<html lang="en">' in r.text
