"""Refusals of the nitrogen engine (``keten.nitrogen``) and its file reader
(``keten.io.nitrogen_files``) on the nitrogen pages: Dutch for a Dutch visitor (the site's
default), English with the language switch; the CLI stays English, byte for byte.

The engine and the reader raise ``RuleError``/``InputError`` with ``msg(template, **params)``
(catalogue area ``messages_nitrogen``); the pages render ``str(exc)`` inside ``i18n.using`` and so
show the Dutch of the catalogue — the place of a file error ("rij 1, veld 'animals'") included.
Data (file names, codes, numbers, a library's own text) stays as given. Numbers used:

* a reduction is a fraction in [0, 1) (NH-07): ``custom:1`` is refused;
* RD New bounds of the Netherlands (NH-44): x from 0 to 285000 m, so x = −5000 is refused;
* the sector path starts in the base year 2019 (seed 002 §2, NH-31): an observation of 2018 is
  refused;
* farm hectares must be > 0 (NH-49); a GHG factor per animal category present (NH-50).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner
from web_site import Browser, make_registry

from keten.cli.nitrogen import app as cli
from keten.core.errors import InputError, RuleError
from keten.core.messages import Msg, msg
from keten.core.params import load_set
from keten.io.nitrogen_files import load_catalogue, read_housings
from keten.nitrogen.emissions import Housing, farm_emissions
from keten.nitrogen.norms import farm_norms
from keten.nitrogen.sectors import Observation, monitor
from keten.web import catalogues, i18n
from keten.web.app import create_web_app

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "nitrogen"
PACKAGE = ROOT / "src" / "keten"
AREA = "messages_nitrogen"
HOUSINGS = "farm_id,housing_code,animals,ef_nh3,traditional_ef_nh3,additional\n"
NEGATIVE_ANIMALS = HOUSINGS + "f,A1.100,-1,,,\n"
APPS = (EXAMPLES / "applications.csv").read_text(encoding="utf-8").splitlines()[0] + "\n"
APP_OUTSIDE = APPS + "A1,2026-03-02T09:00:00+01:00,-5000,451000,10,100\n"
FACTORS_WITHOUT_A3 = b"animal_category,kg_co2e_per_animal,source\nA1,3,x\n"
UNKNOWN_LINE = b"kind,line,amount_eur_m,description\nincidenteel,nope,1,x\n"


def areas_without_crs() -> bytes:
    doc = json.loads((EXAMPLES / "areas.geojson").read_text(encoding="utf-8"))
    del doc["crs"]
    return json.dumps(doc).encode()


@pytest.fixture(scope="module")
def web_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    """The pages need no database and no account: one application (SQLite) for the module."""
    reg = make_registry("sqlite:///" + str(tmp_path_factory.mktemp("nitrogen-msg") / "k.db"))
    yield create_web_app(reg)
    reg.ledger.sessions.kw["bind"].dispose()


@pytest.fixture
def open_browser(web_app: FastAPI) -> Iterator[Any]:
    """``open_browser(lang)``: a fresh anonymous browser; "en" goes through the language
    switch, "nl" is the site's default (no cookie)."""
    clients: list[TestClient] = []

    def make(lang: str) -> Browser:
        client = TestClient(web_app, base_url="https://testserver", follow_redirects=False)
        client.__enter__()
        clients.append(client)
        b = Browser(client, None)
        b.get("/nitrogen")
        if lang == "en":
            r = b.post("/language", {"lang": "en", "next": "/nitrogen"})
            assert r.status_code == 303 and client.cookies.get("keten_lang") == "en"
        return b

    yield make
    for c in clients:
        c.__exit__(None, None, None)


def errors(page: str) -> dict[str, str]:
    """Field → the error shown next to it (text, entities decoded)."""
    found = re.findall(r'<p id="e-([^"]+)" class="error">(.*?)</p>', page, re.S)
    return {k: html.unescape(v) for k, v in found}


def upload(name: str, field: str, content: bytes) -> dict[str, tuple[str, bytes, str]]:
    return {field: (name, content, "text/csv")}


def example(name: str, field: str) -> dict[str, tuple[str, bytes, str]]:
    return upload(name, field, (EXAMPLES / name).read_bytes())


# (id, url, form, files, field, Dutch, English, what a computed result would show)
REFUSALS: list[tuple[str, str, dict[str, str], Any, str, str, str, str]] = [
    (
        "unknown-housing-code",  # engine: Catalogue.resolve, through the reader
        "/nitrogen",
        {"housing_code_1": "X9.999", "animals_1": "100"},
        None,
        "housing_code_1",
        "onbekende code van een huisvestings- of aanvullend systeem 'X9.999'",
        "unknown housing or additional system code 'X9.999'",
        'id="result-h"',
    ),
    (
        "reduction-outside-0-1",  # engine: check_reduction (NH-07)
        "/nitrogen",
        {"housing_code_1": "A1.100", "animals_1": "100", "additional_1": "custom:1"},
        None,
        "additional_1",
        "reductie 1 ligt buiten [0, 1)",
        "reduction 1 is outside [0, 1)",
        'id="result-h"',
    ),
    (
        "negative-animals-in-a-file",  # reader: the place is translated with the reason
        "/nitrogen",
        {},
        upload("mine.csv", "housings_file", NEGATIVE_ANIMALS.encode()),
        "housings_file",
        "mine.csv, rij 1, veld 'animals': mag niet negatief zijn",
        "mine.csv, row 1, field 'animals': must not be negative",
        'id="result-h"',
    ),
    (
        "no-ghg-factor-for-a-category",  # engine: kpis._ghg (NH-50)
        "/nitrogen",
        {},
        {
            **example("housings.csv", "housings_file"),
            **upload("factors.csv", "ghg_file", FACTORS_WITHOUT_A3),
        },
        "ghg_file",
        "geen broeikasgasfactor voor diercategorie A3 (bedrijf melkvee-1, huisvestingssysteem "
        "A3.100) in factors.csv",
        "no GHG factor for animal category A3 (farm melkvee-1, housing A3.100) in factors.csv",
        'id="result-h"',
    ),
    (
        "zero-hectares",  # reader: read_farms (NH-49)
        "/nitrogen",
        {"housing_code_1": "A1.100", "animals_1": "100", "hectares": "0"},
        None,
        "hectares",
        "moet groter zijn dan 0, opgegeven: 0",
        "must be greater than 0, got 0",
        'id="result-h"',
    ),
    (
        "application-outside-the-netherlands",  # reader: read_applications (NH-44)
        "/nitrogen/vbr",
        {"source": "upload"},
        {
            **upload("apps.csv", "applications", APP_OUTSIDE.encode()),
            **example("areas.geojson", "areas"),
        },
        "applications",
        "apps.csv, rij 1, veld 'x': x -5000 ligt buiten Nederland in RD New (0–285000 m; NH-44)",
        "apps.csv, row 1, field 'x': x -5000 is outside the Netherlands in RD New "
        "(0–285000 m; NH-44)",
        '<svg class="map"',
    ),
    (
        "areas-without-crs",  # reader: GeoJSON without a crs member (NH-47)
        "/nitrogen/vbr",
        {"source": "upload"},
        {
            **example("applications.csv", "applications"),
            "areas": ("areas.geojson", areas_without_crs(), "application/json"),
        },
        "areas",
        "areas.geojson, veld 'crs': geen coördinatenstelsel (CRS): voeg een 'crs'-lid toe "
        "(bijv. EPSG:28992) of geef het coördinatenstelsel van de gebieden op (NH-47)",
        "areas.geojson, field 'crs': missing CRS: add a 'crs' member (e.g. EPSG:28992) or give "
        "the coordinate system of the areas (NH-47)",
        '<svg class="map"',
    ),
    (
        "observation-before-the-base-year",  # engine: sectors.monitor (NH-31)
        "/nitrogen/sectors",
        {"sector_1": "landbouw/nh3", "year_1": "2018", "kt_1": "90"},
        None,
        "year_1",
        "jaar 2018 ligt voor het basisjaar 2019",
        "year 2018 is before the base year 2019",
        "data-path=",
    ),
    (
        "unknown-budget-line",  # engine: budget.track
        "/nitrogen/budget",
        {},
        upload("c.csv", "commitments_file", UNKNOWN_LINE),
        "commitments_file",
        "c.csv: onbekende budgetregel incidenteel.nope",
        "c.csv: unknown budget line incidenteel.nope",
        "data-remaining=",
    ),
]


@pytest.mark.parametrize(
    ("url", "form", "files", "field", "dutch", "english", "result"),
    [pytest.param(*r[1:], id=r[0]) for r in REFUSALS],
)
def test_a_refusal_is_dutch_by_default_and_english_after_the_switch(
    open_browser: Any,
    url: str,
    form: dict[str, str],
    files: Any,
    field: str,
    dutch: str,
    english: str,
    result: str,
) -> None:
    for lang, shown, other in (("nl", dutch, english), ("en", english, dutch)):
        r = open_browser(lang).post(url, form, files=files)
        assert r.status_code == 422, (lang, r.text[:500])
        assert errors(r.text).get(field) == shown, (lang, errors(r.text))
        page = html.unescape(r.text)
        assert other not in page
        assert result not in r.text  # refused: nothing computed, nothing kept


def test_the_same_pages_compute_with_good_input(open_browser: Any) -> None:
    """The markers the refusals check for do appear when the input is right (so their absence
    above means something)."""
    b = open_browser("nl")
    r = b.post("/nitrogen", {"housing_code_1": "A1.100", "animals_1": "100", "hectares": "40"})
    assert r.status_code == 200 and 'id="result-h"' in r.text
    r = b.post(
        "/nitrogen/vbr",
        {"source": "upload"},
        files={**example("applications.csv", "applications"), **example("areas.geojson", "areas")},
    )
    assert r.status_code == 200 and '<svg class="map"' in r.text
    r = b.post("/nitrogen/sectors", {"sector_1": "landbouw/nh3", "year_1": "2027", "kt_1": "90"})
    assert r.status_code == 200 and 'data-path="87.137"' in r.text
    r = b.post(
        "/nitrogen/budget",
        {},
        files=upload("c.csv", "commitments_file", UNKNOWN_LINE.replace(b"nope", b"natuur")),
    )
    assert r.status_code == 200 and 'data-remaining="499"' in r.text


def test_a_reason_in_the_case_history_stays_english_data(open_browser: Any) -> None:
    """The enforcement history's reason is result data (shown and exported as it is): the
    parameter error inside it ("fine not sized: …", NH-15) is its English text on a Dutch page
    too, so the reason is never half Dutch. 100 × 13,0 = 1300 kg; norm 1300 × (1 − 42 %) = 754;
    800 observed in 2035 → 46 kg above the norm."""
    r = open_browser("nl").post(
        "/nitrogen",
        {"housing_code_1": "A1.100", "animals_1": "100", "method": "proportional"}
        | {"obs_2035": "800"},
    )
    assert r.status_code == 200
    page = html.unescape(r.text)
    assert (
        "46 kg above the norm 754; fine not sized: parameter "
        "nitrogen.enforcement.avoided_cost_per_kg is unknown in set 'vervolgpakket-2025'"
    ) in page
    assert "is onbekend in parameterset" not in page


# ----------------------------------------------------------------------------- CLI and engine


def test_cli_prints_the_english_line_of_a_file_refusal(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text(NEGATIVE_ANIMALS, encoding="utf-8")
    r = CliRunner().invoke(cli, ["emissions", "--housings", str(path)])
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr == f"error: {path}, row 1, field 'animals': must not be negative\n"


def test_cli_prints_the_english_line_of_an_engine_refusal(tmp_path: Path) -> None:
    path = tmp_path / "observed.csv"
    path.write_text("sector,substance,year,kt\nlandbouw,nh3,2018,90\n", encoding="utf-8")
    r = CliRunner().invoke(cli, ["monitor", "--observed", str(path)])
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr == f"error: {path}: year 2018 is before the base year 2019\n"  # names the file


def test_engine_refusal_follows_the_language_of_the_context() -> None:
    params = load_set("nitrogen", "vervolgpakket-2025")
    with pytest.raises(RuleError) as caught:
        monitor(params, [Observation("landbouw", "nh3", 2018, Decimal(90))])
    exc = caught.value
    assert isinstance(exc.translatable, Msg)
    assert str(exc) == exc.english() == "year 2018 is before the base year 2019"
    with i18n.using("nl"):
        assert str(exc) == "jaar 2018 ligt voor het basisjaar 2019"
        assert exc.english() == "year 2018 is before the base year 2019"
    with i18n.using("en"):
        assert str(exc) == "year 2018 is before the base year 2019"


def test_an_engine_error_inside_a_file_error_keeps_its_translation(tmp_path: Path) -> None:
    """The reader passes the engine's message on as it was raised (``exc.translatable``)."""
    cat = load_catalogue(load_set("nitrogen", "vervolgpakket-2025"))
    path = tmp_path / "h.csv"
    path.write_text(HOUSINGS + "f,A1.100,1,,,custom:1\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_housings(path, cat)
    english = f"{path}, row 1, field 'additional': reduction 1 is outside [0, 1)"
    assert str(caught.value) == english
    with i18n.using("nl"):
        assert (
            str(caught.value) == f"{path}, rij 1, veld 'additional': reductie 1 ligt buiten [0, 1)"
        )
        assert caught.value.english() == english


def test_a_farm_without_a_housing_or_a_ladder_step_is_refused_in_both_languages() -> None:
    params = load_set("nitrogen", "vervolgpakket-2025")
    cat = load_catalogue(params)
    with pytest.raises(RuleError) as caught:
        farm_emissions([Housing("f", -1, "A1.100")], cat, 2025)
    assert str(caught.value) == "f: animals must not be negative"
    with i18n.using("nl"):
        assert str(caught.value) == "f: het aantal dieren mag niet negatief zijn"
    with pytest.raises(RuleError) as caught:
        farm_norms([Housing("f", 1, "A1.100")], cat, "stricter", observed={}, ladder=())
    assert str(caught.value) == (
        "enforcement ladder has no step for trigger behind_in_monitoring_year"
    )
    with i18n.using("nl"):
        assert str(caught.value) == (
            "de handhavingsladder heeft geen stap voor aanleiding behind_in_monitoring_year"
        )


# ----------------------------------------------------------------------------- catalogue, source


PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def area_ids(lang: str) -> set[str]:
    with (i18n.LOCALE_DIR / lang / f"{AREA}.po").open("rb") as fh:
        return {str(m.id) for m in read_po(fh, locale=lang) if m.id}


def test_the_area_holds_exactly_the_templates_of_the_code() -> None:
    used = set(catalogues.extract()[AREA])
    assert len(used) >= 70
    assert area_ids("nl") == used == area_ids("en")


@pytest.mark.parametrize("template", sorted(catalogues.extract()[AREA]))
def test_every_template_renders_in_english_and_dutch(template: str) -> None:
    names = PLACEHOLDER.findall(template)
    params = {n: f"<{n}>" for n in names}
    english = msg(template, **params).render(lambda t: t)
    if names:
        assert english == template % params  # raises on a stray % or a bad placeholder
        assert all(f"<{n}>" in english for n in names)
    else:
        assert "%" not in template  # without parameters the template is shown as written
        assert english == template
    dutch = i18n.catalogue("nl")[template]
    assert sorted(PLACEHOLDER.findall(dutch)) == sorted(names)
    shown = dutch % params if names else dutch  # raises if the translation does not fit
    assert shown != english  # translated, not copied
    with i18n.using("nl"):
        assert msg(template, **params).render() == shown
