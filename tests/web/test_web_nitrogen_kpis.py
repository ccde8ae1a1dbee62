"""The farm KPIs on /nitrogen (NH-49…NH-51): kg NH3 per hectare and, with user-supplied factors,
GHG (kg CO2e) in total and per hectare — the numbers of ``keten nitrogen emissions --farms
--ghg-factors`` (docs/nitrogen.md, worked example), "not available" without hectares, bad input
next to its field (422) and the CSRF refusal."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from test_web_nitrogen import web_app  # noqa: F401  (the application, shared fixture)
from typer.testing import CliRunner
from web_site import Browser

from keten.cli.nitrogen import app as cli
from keten.nitrogen.kpis import display

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "nitrogen"


@pytest.fixture
def browser(web_app: FastAPI) -> Iterator[Browser]:  # noqa: F811 (the imported fixture)
    with TestClient(web_app, base_url="https://testserver", follow_redirects=False) as client:
        b = Browser(client, None)
        b.get("/nitrogen")
        yield b


def upload(*names: str) -> dict[str, tuple[str, bytes, str]]:
    field = {"housings.csv": "housings_file", "farms.csv": "farms_file"}
    field["ghg_factors.csv"] = "ghg_file"
    return {field[n]: (n, (EXAMPLES / n).read_bytes(), "text/csv") for n in names}


def kpis(html: str) -> dict[str, dict[str, str]]:
    """farm → KPI name → the value shown (data-value; "" = not available)."""
    out: dict[str, dict[str, str]] = {}
    for farm, row in re.findall(r'<tr data-kpi-farm="([^"]+)">(.*?)</tr>', html, re.S):
        out[farm] = dict(re.findall(r'data-kpi="([^"]+)" data-value="([^"]*)"', row))
    return out


def test_examples_show_the_kpis_of_the_cli_worked_example(browser: Browser) -> None:
    """docs/nitrogen.md (NH-49, NH-50; placeholder factors A1 3000, A3 1000, D3 200):
    melkvee-1: 100 × 13,0 + 40 × 4,4 × 0,75 = 1432 kg; 1432 / 40 ha = 35,8 kg NH3/ha;
               GHG 100 × 3000 + 40 × 1000 = 340000 kg CO2e; 340000 / 40 = 8500 per ha.
    varkens-2: 2160 / 12,5 = 172,8; 1000 × 200 = 200000; 200000 / 12,5 = 16000.
    varkens-3: 270 / 8 = 33,75; 200000 / 8 = 25000.
    varkens-4: 1350 / 30 = 45; 200000 / 30 = 6666,666… → shown 6666,67 (half up, display only).
    eigen-5: not in farms.csv → no per-hectare figure (never 0); custom housing → no GHG (NH-51)."""
    r = browser.post("/nitrogen", {}, files=upload("housings.csv", "farms.csv", "ghg_factors.csv"))
    assert r.status_code == 200, r.text[:2000]
    assert kpis(r.text) == {
        "melkvee-1": {
            "hectares": "40",
            "nh3_kg_per_ha": "35.8",
            "ghg_kg_co2e": "340000",
            "ghg_kg_co2e_per_ha": "8500",
        },
        "varkens-2": {
            "hectares": "12.5",
            "nh3_kg_per_ha": "172.8",
            "ghg_kg_co2e": "200000",
            "ghg_kg_co2e_per_ha": "16000",
        },
        "varkens-3": {
            "hectares": "8",
            "nh3_kg_per_ha": "33.75",
            "ghg_kg_co2e": "200000",
            "ghg_kg_co2e_per_ha": "25000",
        },
        "varkens-4": {
            "hectares": "30",
            "nh3_kg_per_ha": "45",
            "ghg_kg_co2e": "200000",
            "ghg_kg_co2e_per_ha": "6666.67",
        },
        "eigen-5": {
            "hectares": "",
            "nh3_kg_per_ha": "",
            "ghg_kg_co2e": "",
            "ghg_kg_co2e_per_ha": "",
        },
    }
    # the reasons come from the domain; the steps join the farm's explanation
    assert 'data-kpi-note="eigen-5">no hectares for farm eigen-5 in farms.csv' in r.text
    assert "custom housing(s) without an animal category: GHG not computed (NH-51)" in r.text
    assert "nh3_kg / hectares = 1432 / 40" in r.text
    assert "Σ animals × factor = 100 × 3000 + 40 × 1000" in r.text
    assert "ghg_factors.csv rij 2" in r.text  # the user's file named, not a temporary path (nl)
    assert "door de gebruiker aangeleverde factoren van ghg_factors.csv" in r.text  # NH-50, nl


def test_the_page_shows_what_the_cli_computes(browser: Browser, tmp_path: Path) -> None:
    r = browser.post("/nitrogen", {}, files=upload("housings.csv", "farms.csv", "ghg_factors.csv"))
    shown = kpis(r.text)
    result = CliRunner().invoke(
        cli,
        [
            "emissions",
            "--housings",
            str(EXAMPLES / "housings.csv"),
            "--farms",
            str(EXAMPLES / "farms.csv"),
            "--ghg-factors",
            str(EXAMPLES / "ghg_factors.csv"),
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    farms = json.loads(result.stdout)
    assert [f["farm_id"] for f in farms] == list(shown)
    for f in farms:
        for name in ("hectares", "nh3_kg_per_ha", "ghg_kg_co2e", "ghg_kg_co2e_per_ha"):
            value = f[name]
            expected = "" if value is None else str(display(Decimal(str(value))).normalize())
            assert Decimal(shown[f["farm_id"]][name] or "0") == Decimal(expected or "0")
            assert (shown[f["farm_id"]][name] == "") == (value is None)


def test_hectares_typed_for_the_farm_of_the_form(browser: Browser) -> None:
    """100 cows on A1.100: 100 × 13,0 = 1300 kg NH3; 1300 / 40 ha = 32,5 kg NH3/ha (NH-49).
    No GHG factors: no GHG columns."""
    r = browser.post(
        "/nitrogen",
        {"farm_id": "Hoeve", "housing_code_1": "A1.100", "animals_1": "100", "hectares": "40"},
    )
    assert r.status_code == 200, r.text[:2000]
    assert kpis(r.text) == {"Hoeve": {"hectares": "40", "nh3_kg_per_ha": "32.5"}}
    assert "nh3_kg / hectares = 1300 / 40" in r.text
    assert 'data-kpi="ghg_kg_co2e"' not in r.text


def test_without_hectares_the_kpis_are_not_available(browser: Browser) -> None:
    r = browser.post("/nitrogen", {"housing_code_1": "A1.100", "animals_1": "100"})
    assert r.status_code == 200
    assert 'data-kpis="no-hectares"' in r.text
    assert "niet beschikbaar: geen hectares in de gegevens" in r.text  # Dutch by default
    assert "data-kpi-farm" not in r.text  # no table with empty or zero figures
    browser.post("/language", {"lang": "en", "next": "/nitrogen"})
    r = browser.post("/nitrogen", {"housing_code_1": "A1.100", "animals_1": "100"})
    assert "not available: no hectares in the data" in r.text


def error_of(html: str, field: str) -> str:
    m = re.search(rf'<p id="e-{field}" class="error">(.*?)</p>', html, re.S)
    assert m, field
    return m.group(1)


@pytest.mark.parametrize(
    ("hectares", "message"),
    [
        ("0", "moet groter zijn dan 0, opgegeven: 0"),
        ("-3", "moet groter zijn dan 0"),
        ("ha", "getal"),
    ],
)
def test_bad_hectares_are_shown_next_to_the_field(
    browser: Browser, hectares: str, message: str
) -> None:
    r = browser.post(
        "/nitrogen", {"housing_code_1": "A1.100", "animals_1": "100", "hectares": hectares}
    )
    assert r.status_code == 422
    assert message in error_of(r.text, "hectares")
    assert "data-kpi-farm" not in r.text


def test_hectares_typed_for_an_uploaded_file_are_refused(browser: Browser) -> None:
    r = browser.post("/nitrogen", {"hectares": "40"}, files=upload("housings.csv"))
    assert r.status_code == 422
    assert "een bedrijvenbestand" in error_of(r.text, "hectares")


def test_a_bad_farms_file_names_its_row_and_field(browser: Browser) -> None:
    files = upload("housings.csv")
    files["farms_file"] = (
        "areas.csv",
        b"farm_id,hectares\nmelkvee-1,40\nmelkvee-1,3\n",
        "text/csv",
    )
    r = browser.post("/nitrogen", {}, files=files)
    assert r.status_code == 422
    assert "areas.csv" in error_of(r.text, "farms_file")
    assert "staat er twee keer in" in error_of(r.text, "farms_file")


def test_ghg_factors_missing_a_category_are_refused_next_to_the_file(browser: Browser) -> None:
    files = upload("housings.csv")
    files["ghg_file"] = ("factors.csv", b"animal_category,kg_co2e_per_animal,source\nA1,3,x\n", "")
    r = browser.post("/nitrogen", {}, files=files)
    assert r.status_code == 422
    message = error_of(r.text, "ghg_file")
    assert "geen broeikasgasfactor voor diercategorie A3" in message and "factors.csv" in message


def test_an_unknown_category_in_the_factors_file_names_the_row(browser: Browser) -> None:
    files = upload("housings.csv")
    files["ghg_file"] = ("f.csv", b"animal_category,kg_co2e_per_animal,source\nZZ,3,x\n", "")
    r = browser.post("/nitrogen", {}, files=files)
    assert r.status_code == 422
    assert "onbekende diercategorie" in error_of(r.text, "ghg_file")


def test_the_kpi_form_is_refused_without_a_csrf_token(browser: Browser) -> None:
    r = browser.post(
        "/nitrogen",
        {"housing_code_1": "A1.100", "animals_1": "100", "hectares": "40"},
        csrf="x",
    )
    assert r.status_code == 403 and "data-kpi-farm" not in r.text
