"""Refusals of the chain-emission engine (``keten.footprint``) and its file reader
(``keten.io.footprint_files``) on the /footprint and /footprint/pact pages: Dutch for a Dutch
visitor, English with the language switch; the CLI and the PACT JSON API stay English, byte for
byte.

The engine and the reader raise ``InputError(msg(template, **params))`` (catalogue area
``messages_footprint``); a page renders ``str(exc)`` inside ``i18n.using`` and so shows the Dutch.
Inputs (examples/footprint, docs/footprint.md): the two-region example MRIO has the regions NL and
CN and the extension ``emissions`` with the stressor GHG; a spend-based purchase needs an MRIO
(FP-20); a PACT pcf value is a decimal string ≥ 0 (FP-31).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from test_web_footprint import PURCHASES, tiny_zip
from test_web_mki import browser, error
from test_web_pact import ID1, ID2, JANSEN, SMIT, Pact, footprint_doc, upload
from typer.testing import CliRunner
from web_site import Site, make_registry

from keten.cli.footprint import app as fp_cli
from keten.core.errors import InputError
from keten.core.messages import Msg
from keten.footprint.pact import check_footprints, validate_footprint
from keten.web import i18n
from keten.web.app import create_web_app

ROOT = Path(i18n.__file__).parent.parent  # src/keten
PLACEHOLDER = re.compile(r"%\((\w+)\)s")

REGION_EN = "unknown region 'DE' (known: NL, CN)"
REGION_NL = "onbekende regio 'DE' (bekend: NL, CN)"
EXTENSION_EN = "unknown extension 'water' (known: emissions)"
EXTENSION_NL = "onbekende extensie 'water' (bekend: emissions)"
VERSION_EN = "mine.zip:tiny-mrio/keten-mrio.json, field 'version': unsupported version (expected 1)"
VERSION_NL = (
    "mine.zip:tiny-mrio/keten-mrio.json, veld 'version': versie niet ondersteund (verwacht: 1)"
)
NOT_ZIP_EN = "mine.zip: not a zip file (zip the keten Parquet MRIO folder with keten-mrio.json)"
NOT_ZIP_NL = "mine.zip: geen zipbestand (zip de keten Parquet-MRIO-map met keten-mrio.json)"
STRESSOR_EN = "unknown stressor 'CO2' (known: GHG)"
STRESSOR_NL = "onbekende stressor 'CO2' (bekend: GHG)"
NEEDS_MRIO_EN = "a spend-based or hybrid line needs an MRIO, and none was chosen"
NEEDS_MRIO_NL = (
    "een regel op basis van uitgaven of een hybride regel heeft een MRIO nodig, en er is er geen "
    "gekozen"
)
METHOD_EN = "unknown method 'guess' (expected spend, average, supplier, hybrid)"
METHOD_NL = "onbekende methode 'guess' (verwacht spend, average, supplier, hybrid)"
NEGATIVE_EN = "data[1].pcf.pcfExcludingBiogenicUptake: must not be negative, is -2"
NEGATIVE_NL = "data[1].pcf.pcfExcludingBiogenicUptake: mag niet negatief zijn, is -2"
JSON_EN = "not valid JSON: Expecting property name enclosed in double quotes (line 1)"
JSON_NL = "geen geldige JSON: Expecting property name enclosed in double quotes (regel 1)"
TAKEN_EN = "a footprint with this id belongs to another organisation"
TAKEN_NL = "een footprint met deze id hoort bij een andere organisatie"

SCENARIO = (
    "region: NL\nstressor: CO2\nchanges:\n  - {region: NL, sector: goods, kind: output,"
    " change: -1}\n"
)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """An anonymous visitor of the chain-emission pages (no database use of their own)."""
    db = tmp_path_factory.mktemp("fpm") / "k.db"
    app = create_web_app(make_registry(f"sqlite:///{db}"))
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as c:
        yield c


def post_mrio(client: TestClient, lang: str, upload_: bytes, **form: str) -> tuple[int, str]:
    b = browser(client, lang)
    r = b.post(
        "/footprint",
        {"mrio_source": "upload", "extension": "emissions", **form},
        files={"mrio": ("mine.zip", upload_, "application/zip")},
    )
    return r.status_code, r.text


def post_purchases(client: TestClient, lang: str, row: str, mrio: str) -> tuple[int, str]:
    b = browser(client, lang)
    r = b.post(
        "/footprint/scope3",
        {"source": "upload", "mrio_source": mrio},
        files={"purchases": ("purchases.csv", (PURCHASES + row).encode(), "text/csv")},
    )
    return r.status_code, r.text


# ----------------------------------------------------------------------------- /footprint


def test_unknown_region_is_refused_in_dutch_then_english(client: TestClient) -> None:
    """national.py: the region is not one of the MRIO's (NL, CN)."""
    form = {"mrio_source": "example", "extension": "emissions", "region": "DE"}
    r = browser(client, "nl").post("/footprint", form)
    assert r.status_code == 422 and error(r.text, "region") == REGION_NL
    assert REGION_EN not in r.text and 'data-table="national"' not in r.text
    r = browser(client, "en").post("/footprint", form)
    assert r.status_code == 422 and error(r.text, "region") == REGION_EN
    assert REGION_NL not in r.text and 'data-table="national"' not in r.text


def test_unknown_extension_of_an_uploaded_mrio_is_dutch_then_english(client: TestClient) -> None:
    """mrio.py: the uploaded example MRIO has only the extension 'emissions'."""
    status, page = post_mrio(client, "nl", tiny_zip(), extension="water")
    assert status == 422 and error(page, "extension") == EXTENSION_NL
    assert 'data-table="accounts"' not in page
    status, page = post_mrio(client, "en", tiny_zip(), extension="water")
    assert status == 422 and error(page, "extension") == EXTENSION_EN
    assert 'data-table="accounts"' not in page


def test_bad_layout_file_is_refused_with_its_place_in_dutch(client: TestClient) -> None:
    """footprint_files.read_parquet_mrio: keten-mrio.json version 99; the file, the field and the
    reason are all in the page's language (the place is translated too)."""
    status, page = post_mrio(client, "nl", tiny_zip({"version": 99}))
    assert status == 422 and error(page, "mrio") == VERSION_NL
    status, page = post_mrio(client, "en", tiny_zip({"version": 99}))
    assert status == 422 and error(page, "mrio") == VERSION_EN


def test_a_file_that_is_not_a_zip_is_refused_in_dutch_then_english(client: TestClient) -> None:
    status, page = post_mrio(client, "nl", b"not a zip")
    assert status == 422 and error(page, "mrio") == NOT_ZIP_NL
    status, page = post_mrio(client, "en", b"not a zip")
    assert status == 422 and error(page, "mrio") == NOT_ZIP_EN


def test_unknown_stressor_of_a_scenario_is_dutch_then_english(client: TestClient) -> None:
    """leakage: the example MRIO's emissions extension has the stressor GHG only."""
    for lang, shown, other in (("nl", STRESSOR_NL, STRESSOR_EN), ("en", STRESSOR_EN, STRESSOR_NL)):
        r = browser(client, lang).post(
            "/footprint/leakage",
            {"source": "upload", "mrio_source": "example"},
            files={"scenario": ("scenario.yaml", SCENARIO.encode(), "application/yaml")},
        )
        assert r.status_code == 422
        message = error(r.text, "scenario")
        assert message.startswith("scenario.yaml") and message.endswith(shown), message
        assert other not in r.text


def test_spend_line_without_mrio_is_refused_in_dutch_then_english(client: TestClient) -> None:
    """scope3.py (FP-20): a spend-based line needs the MRIO's multipliers."""
    row = "A,x,spend,NL,goods,5,EUR,2020,,,,,,,\n"
    status, page = post_purchases(client, "nl", row, "none")
    assert status == 422 and error(page, "purchases").endswith(NEEDS_MRIO_NL)
    assert NEEDS_MRIO_EN not in page and 'data-table="scope3-totals"' not in page
    status, page = post_purchases(client, "en", row, "none")
    assert status == 422
    assert error(page, "purchases") == "purchases.csv, row 1, field 'method': " + NEEDS_MRIO_EN


def test_unknown_method_in_the_purchases_file_is_dutch_then_english(client: TestClient) -> None:
    """footprint_files.read_purchases: the method column takes the four methods only."""
    row = "A,x,guess,NL,goods,5,EUR,2020,,,,,,,\n"
    status, page = post_purchases(client, "nl", row, "example")
    assert status == 422 and error(page, "purchases").endswith(METHOD_NL)
    assert 'data-table="scope3-totals"' not in page
    status, page = post_purchases(client, "en", row, "example")
    assert status == 422
    assert error(page, "purchases") == "purchases.csv, row 1, field 'method': " + METHOD_EN


# ----------------------------------------------------------------------------- /footprint/pact


def dutch(pact: Pact, user: str) -> Any:
    b = pact.browser(user)
    b.client.cookies.set("keten_lang", "nl")
    return b


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("payload", "nl", "en"),
    [
        (
            {"data": [footprint_doc(ID1), footprint_doc(ID2, pcfExcludingBiogenicUptake="-2")]},
            NEGATIVE_NL,
            NEGATIVE_EN,
        ),
        (b"{not json", JSON_NL, JSON_EN),
    ],
    ids=["negative-pcf", "not-json"],
)
def test_bad_pact_upload_is_refused_in_dutch_then_english(
    site: Site, payload: object, nl: str, en: str
) -> None:
    pact = Pact(site)
    r = upload(dutch(pact, "jan"), payload)
    assert r.status_code == 422 and error(r.text, "file") == "Er is niets opgeslagen. " + nl
    assert pact.owned(JANSEN) == []
    r = upload(pact.browser("jan"), payload)
    assert r.status_code == 422 and error(r.text, "file") == "Nothing was stored. " + en
    assert pact.owned(JANSEN) == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_another_organisations_id_is_refused_in_dutch_then_english(site: Site) -> None:
    """pact_store.add_footprints: the id is Aannemer Smit's; nothing of Jansen's file is stored."""
    pact = Pact(site)
    pact.store.add_footprints(SMIT, [footprint_doc(ID1)])
    doc = {"data": [footprint_doc(ID2), footprint_doc(ID1)]}
    r = upload(dutch(pact, "jan"), doc)
    assert r.status_code == 422 and error(r.text, "file").endswith(TAKEN_NL)
    r = upload(pact.browser("jan"), doc)
    assert r.status_code == 422 and error(r.text, "file").endswith(TAKEN_EN)
    assert pact.owned(JANSEN) == [] and pact.owned(SMIT) == [(ID1, "Active", ())]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_pact_api_answers_in_english_to_a_dutch_visitor(site: Site) -> None:
    """The PACT JSON API renders the same refusal in English whatever the language cookie."""
    pact = Pact(site)
    token = pact.token(JANSEN)
    api = pact.site.browser().client
    api.cookies.set("keten_lang", "nl")
    r = api.get(
        "/3/footprints?status=Draft",
        headers={"Authorization": f"Bearer {token}", "Accept-Language": "nl"},
    )
    assert r.status_code == 400
    assert r.json() == {
        "code": "BadRequest",
        "message": "status: 'Draft' is not Active or Deprecated",
    }


# ----------------------------------------------------------------------------- CLI and engine


def test_cli_scope3_prints_exactly_the_english_line(tmp_path: Path) -> None:
    path = tmp_path / "purchases.csv"
    path.write_text(PURCHASES + "A,x,guess,NL,goods,5,EUR,2020,,,,,,,\n", encoding="utf-8")
    r = CliRunner().invoke(fp_cli, ["scope3", "--purchases", str(path)])
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr == f"error: {path}, row 1, field 'method': {METHOD_EN}\n"


def test_pact_problems_follow_the_language_of_the_context() -> None:
    bad = footprint_doc(ID1, pcfExcludingBiogenicUptake="-2", declaredUnitAmount="0")
    expected = [
        ("pcf.declaredUnitAmount", "must be greater than 0, is 0"),
        ("pcf.pcfExcludingBiogenicUptake", "must not be negative, is -2"),
    ]
    assert validate_footprint(bad) == expected
    with pytest.raises(InputError) as caught:
        check_footprints(bad)
    assert isinstance(caught.value.args[0], Msg)
    en = "field 'pcf.declaredUnitAmount': must be greater than 0, is 0 (+1 more)"
    assert str(caught.value) == caught.value.english() == en
    with i18n.using("nl"):
        assert validate_footprint(bad)[0] == (
            "pcf.declaredUnitAmount",
            "moet groter dan 0 zijn, is 0",
        )
        assert str(caught.value) == (
            "veld 'pcf.declaredUnitAmount': moet groter dan 0 zijn, is 0 (+1 meer)"
        )
        assert caught.value.english() == en  # what the JSON API and the CLI send


# ----------------------------------------------------------------------------- catalogue, source


def area_templates() -> set[str]:
    """Every msg(...) template of the engine and its reader, read from the source."""
    call = re.compile(r"\bmsg\(\s*((?:\"(?:[^\"\\]|\\.)*\"\s*)+)", re.S)
    out: set[str] = set()
    for path in [*sorted((ROOT / "footprint").glob("*.py")), ROOT / "io" / "footprint_files.py"]:
        for m in call.finditer(path.read_text(encoding="utf-8")):
            parts = re.findall(r"\"((?:[^\"\\]|\\.)*)\"", m.group(1))
            out.add("".join(p.replace('\\"', '"') for p in parts))
    return out


def test_every_template_renders_in_english_and_dutch_with_its_parameters() -> None:
    """Each template with dummy values for its placeholders: English and Dutch render without a
    KeyError/ValueError, a template without parameters has no %-escape, and the Dutch has the
    same placeholders."""
    templates = area_templates()
    assert len(templates) >= 180
    dutch = i18n.catalogue("nl")
    for t in sorted(templates):
        names = PLACEHOLDER.findall(t)
        values = {n: "x" for n in names}
        english = t % values if names else t
        assert "%(" not in english and (names or "%%" not in t), t
        assert dutch.get(t), f"no Dutch for {t!r}"
        assert sorted(set(PLACEHOLDER.findall(dutch[t]))) == sorted(set(names)), t
        assert "%(" not in (dutch[t] % values if names else dutch[t]), t
