"""Refusals of the MKI rules engine (``keten.mki``) and its file reader (``keten.io.mki_files``)
on the MKI pages: Dutch for a Dutch visitor (the site's default), English with the language
cookie; nothing computed or kept for export when refused. The CLI stays English, byte for byte.

The engine and the reader raise ``RuleError``/``InputError(msg(template, **params))``; the pages
render ``str(exc)`` inside ``i18n.using`` and so show the ``messages_mki`` catalogue's Dutch, the
place of a file error ("rij 1, veld 'unit'") included. Where a page picks the form field from the
words of a refusal (the award method's options) it reads the English text (``exc.english()``).

Numbers and rules used:

* MKI-W factor and the bounded method's bounds are tender parameters: a negative factor, an upper
  bound at or below the lower bound and a negative maximum discount are refused (MKI-12);
* climate change is priced through GWP-total; a profile with only part of its parts cannot be
  priced (MKI-03);
* concrete ceilings are per m3 (issue #6); a batch needs a ceiling of its product group (MKI-11).
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner
from web_site import Browser, make_registry

from keten.cli.mki import app as mki_cli
from keten.core.errors import InputError, RuleError
from keten.core.messages import Msg
from keten.io.mki_files import read_project
from keten.mki.award import Method
from keten.mki.model import Profile
from keten.web import catalogues, i18n
from keten.web.app import create_web_app
from keten.web.pages.mki import STORE

EX = Path(__file__).resolve().parents[2] / "examples" / "mki"
DAY = "2025-09-01"
PROJECT = {"source": "upload", "weighting_set": "2", "date": DAY, "period": "100"}
TENDER = {
    "source": "example",
    "method": "both",
    "factor": "2",
    "upper": "200000",
    "lower": "100000",
    "max_discount": "80000",
}
CEILINGS = {"source": "upload", "weighting_set": "2", "date": DAY}
PROFILES = "product_id,unit,data_category,module,indicator,value\n"
GOOD_PROFILE = "beton,m3,1,A1-A3,GWP-total,250\n"
PROJECT_HEAD = "element_id,product_id,quantity,service_life_years,unit\n"
GOOD_PROJECT = PROJECT_HEAD + "fund,beton,10,100,m3\n"
BATCH_HEAD = "batch_id,material,product_group,unit,mki_eur_per_unit\n"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    db = tmp_path_factory.mktemp("mki-messages") / "k.db"
    reg = make_registry(f"sqlite:///{db}")
    app = create_web_app(reg)
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as c:
        yield c
    reg.ledger.sessions.kw["bind"].dispose()


def browser(client: TestClient, lang: str) -> Browser:
    client.cookies.clear()
    client.cookies.set("keten_lang", lang)
    b = Browser(client, None)
    b.get("/mki")
    return b


def error(page: str, name: str) -> str:
    m = re.search(rf'id="e-{name}" class="error">([^<]*)<', page)
    assert m, f"no error next to {name}"
    return html_lib.unescape(m.group(1))


def form_error(page: str) -> str:
    m = re.search(r'<p class="error form-error" role="alert">([^<]*)<', page)
    assert m, "no error for the whole form"
    return html_lib.unescape(m.group(1))


def files(**texts: str) -> dict[str, tuple[str, bytes, str]]:
    return {k: (f"{k}.csv", v.encode(), "text/csv") for k, v in texts.items()}


def example_text(name: str) -> str:
    return (EX / name).read_text(encoding="utf-8")


def refused(
    client: TestClient,
    lang: str,
    url: str,
    data: dict[str, str],
    upload: dict[str, str] | None = None,
) -> str:
    """The page of a refused POST (422): nothing computed, no result kept for an export."""
    b = browser(client, lang)
    before = len(STORE)
    r = b.post(url, data, files=files(**upload) if upload else None)
    assert r.status_code == 422, r.text
    assert f'<html lang="{lang}">' in r.text
    assert "/mki/export/" not in r.text and "data-total" not in r.text
    assert len(STORE) == before
    return r.text


# ----------------------------------------------------------------------------- the pages

#: (url, form, uploaded files, field the refusal stands next to ("_form": the whole form),
#: Dutch, English). The first four come from the file reader, the others from the engine.
CASES = [
    pytest.param(
        "/mki",
        PROJECT,
        {"project": GOOD_PROJECT, "profiles": PROFILES + "beton,m3,1,A1-A3,GWP,1\n"},
        "profiles",
        "profiles.csv, rij 1, veld 'indicator': onbekende indicator 'GWP' voor wegingsset 2; "
        "het is een code van set 1",
        "profiles.csv, row 1, field 'indicator': unknown indicator 'GWP' for weighting set 2; "
        "it is a set 1 code",
        id="reader-set-1-code",
    ),
    pytest.param(
        "/mki",
        PROJECT,
        {"project": PROJECT_HEAD + "fund,beton,10,100,t\n", "profiles": PROFILES + GOOD_PROFILE},
        "project",
        "project.csv, rij 1, veld 'unit': eenheid 't' past niet bij de functionele eenheid 'm3' "
        "van milieuprofiel beton",
        "project.csv, row 1, field 'unit': unit 't' does not match the functional unit 'm3' of "
        "profile beton",
        id="reader-unit-mismatch",
    ),
    pytest.param(
        "/mki",
        PROJECT,
        {
            "project": GOOD_PROJECT + "fund,beton,5,50,m3\n",
            "profiles": PROFILES + GOOD_PROFILE,
        },
        "project",
        "project.csv, rij 2, veld 'element_id': element fund staat al in rij 1",
        "project.csv, row 2, field 'element_id': element fund already in row 1",
        id="reader-duplicate-element",
    ),
    pytest.param(
        "/mki/ceilings",
        CEILINGS,
        {
            "batches": BATCH_HEAD + "L-1,concrete,C30/37 funderingen,t,20\n",
            "ceilings": example_text("ceilings.csv"),
        },
        "batches",
        "batches.csv, rij 1, veld 'unit': plafondwaarden voor concrete gelden per m3, niet per 't'",
        "batches.csv, row 1, field 'unit': concrete ceilings are per m3, not per 't'",
        id="reader-ceiling-unit",
    ),
    pytest.param(
        "/mki",
        PROJECT,
        {"project": GOOD_PROJECT, "profiles": PROFILES + "beton,m3,1,A1-A3,GWP-fossil,250\n"},
        "_form",
        "milieuprofiel beton module A1-A3: geen GWP-total en maar een deel van de onderdelen "
        "ervan (ontbreekt: GWP-biogenic, GWP-luluc) — klimaatverandering kan niet worden "
        "beprijsd (MKI-03)",
        "profile beton module A1-A3: no GWP-total and only part of its parts (missing "
        "GWP-biogenic, GWP-luluc) — climate change cannot be priced (MKI-03)",
        id="engine-climate-parts",
    ),
    pytest.param(
        "/mki/ceilings",
        CEILINGS,
        {
            "batches": BATCH_HEAD + "L-1,concrete,C20/25 wanden,m3,20\n",
            "ceilings": example_text("ceilings.csv"),
        },
        "batches",
        "partij L-1: geen plafondwaarde voor concrete productgroep 'C20/25 wanden'",
        "batch L-1: no ceiling for concrete product group 'C20/25 wanden'",
        id="engine-no-ceiling",
    ),
    pytest.param(
        "/mki/tender",
        {**TENDER, "upper": "100000", "lower": "200000"},
        None,
        "upper",
        "de bovengrens van de MKI moet boven de ondergrens liggen",
        "the upper MKI bound must be above the lower bound",
        id="engine-bounds",
    ),
    pytest.param(
        "/mki/tender",
        {**TENDER, "factor": "-1"},
        None,
        "factor",
        "de MKI-W-factor mag niet negatief zijn",
        "the MKI-W factor must not be negative",
        id="engine-factor",
    ),
    pytest.param(
        "/mki/tender",
        {**TENDER, "max_discount": "-5"},
        None,
        "max_discount",
        "de maximale korting mag niet negatief zijn",
        "the maximum discount must not be negative",
        id="engine-discount",
    ),
]


@pytest.mark.parametrize(("url", "data", "upload", "field", "dutch", "english"), CASES)
def test_a_refusal_is_dutch_on_the_dutch_page_and_english_on_the_english_one(
    client: TestClient,
    url: str,
    data: dict[str, str],
    upload: dict[str, str] | None,
    field: str,
    dutch: str,
    english: str,
) -> None:
    # The field is found on the English words (e.g. "upper", "per"), so the Dutch text stands
    # next to the same field as the English one.
    page = refused(client, "nl", url, data, upload)
    shown = form_error(page) if field == "_form" else error(page, field)
    assert shown == dutch
    assert english not in html_lib.unescape(page)
    page = refused(client, "en", url, data, upload)
    shown = form_error(page) if field == "_form" else error(page, field)
    assert shown == english
    assert dutch not in html_lib.unescape(page)


def test_a_refused_variant_names_its_file_in_dutch(client: TestClient) -> None:
    variant = example_text("variant.csv").replace("beton-c30-cem3", "beton-x")
    upload = {
        "project": example_text("project.csv"),
        "variant": variant,
        "profiles": example_text("profiles.csv"),
    }
    page = refused(client, "nl", "/mki/compare", PROJECT, upload)
    assert error(page, "variant") == (
        "variant.csv, rij 1, veld 'product_id': geen milieuprofiel voor product 'beton-x' in het "
        "bestand met milieuprofielen"
    )


def test_the_same_files_compute_once_corrected(client: TestClient) -> None:
    """The refusals above are the input's: 10 m3 × 250 × 0.116 €/kg CO2 eq = 290 EUR."""
    b = browser(client, "nl")
    r = b.post(
        "/mki",
        PROJECT,
        files=files(project=GOOD_PROJECT, profiles=PROFILES + GOOD_PROFILE),
    )
    assert r.status_code == 200 and 'data-total="mki">290 EUR' in r.text


# ----------------------------------------------------------------------------- CLI and engine


def test_cli_prints_exactly_the_english_line(tmp_path: Path) -> None:
    project = tmp_path / "project.csv"
    project.write_text(PROJECT_HEAD + "fund,beton,10,100,t\n", encoding="utf-8")
    profiles = tmp_path / "profiles.csv"
    profiles.write_text(PROFILES + GOOD_PROFILE, encoding="utf-8")
    r = CliRunner().invoke(
        mki_cli, ["project", "--project", str(project), "--profiles", str(profiles)]
    )
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr == (
        f"error: {project}, row 1, field 'unit': unit 't' does not match the functional unit "
        "'m3' of profile beton\n"
    )
    r = CliRunner().invoke(
        mki_cli,
        [
            "award",
            "--bids",
            str(EX / "bids.csv"),
            "--method",
            "bounded",
            "--upper",
            "1",
            "--lower",
            "2",
            "--max-discount",
            "3",
        ],
    )
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr == "error: the upper MKI bound must be above the lower bound\n"


def test_engine_and_reader_refusals_follow_the_language_of_the_context(tmp_path: Path) -> None:
    with pytest.raises(RuleError) as rule:
        Method("bounded", upper=None, lower=None, max_discount=None)
    assert isinstance(rule.value.args[0], Msg)
    english = "method bounded needs --upper, --lower and --max-discount"
    assert str(rule.value) == rule.value.english() == english
    with i18n.using("nl"):
        assert str(rule.value) == "methode bounded vraagt --upper, --lower en --max-discount"
        assert rule.value.english() == english

    path = tmp_path / "p.csv"
    path.write_text(PROJECT_HEAD + "fund,staal,10,100,t\n", encoding="utf-8")
    profiles = {"beton": Profile("beton", "m3", "1", {})}
    with pytest.raises(InputError) as bad:
        read_project(path, profiles)
    english = (
        f"{path}, row 1, field 'product_id': no profile for product 'staal' in the profiles file"
    )
    assert str(bad.value) == english
    with i18n.using("nl"):
        assert str(bad.value) == (
            f"{path}, rij 1, veld 'product_id': geen milieuprofiel voor product 'staal' in het "
            "bestand met milieuprofielen"
        )
        assert bad.value.english() == english


# ----------------------------------------------------------------------------- catalogue, source

PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def area_templates() -> dict[str, list[str]]:
    return catalogues.extract()["messages_mki"]


def test_every_template_of_the_area_renders_in_english_and_in_dutch() -> None:
    """Each ``msg(...)`` template of keten/mki and keten/io/mki_files.py, filled with dummy
    values, renders without a KeyError/ValueError in English (the text the CLI prints) and has a
    Dutch translation with the same placeholders that is actually used."""
    templates = area_templates()
    assert len(templates) >= 60
    dutch = i18n.catalogue("nl")
    for template in sorted(templates):
        names = PLACEHOLDER.findall(template)
        rest = PLACEHOLDER.sub("", template)
        if names:  # Msg %-formats: a literal % must be written %%
            assert "%" not in rest.replace("%%", ""), template
        else:  # Msg does not %-format: a %% would be shown as it is
            assert "%" not in template, template
        params = {n: f"<{n}>" for n in names}
        m = Msg(template, tuple(params.items()))
        english = m.english()
        assert all(f"<{n}>" in english for n in names), template
        assert dutch.get(template), f"no Dutch for {template!r}"
        assert sorted(PLACEHOLDER.findall(dutch[template])) == sorted(names), template
        with i18n.using("nl"):
            shown = str(m)
        assert shown == dutch[template] % params if names else dutch[template]
        assert all(f"<{n}>" in shown for n in names), template
