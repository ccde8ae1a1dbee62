"""Refusals of the vehicles engine (``keten.vehicles``) and its file reader
(``keten.io.vehicles_files``) on the /vehicles pages: Dutch for a Dutch visitor (the site's
default), English with the language cookie; the CLI, the skipped-rows file and the exports stay
English, byte for byte.

The engine and the reader raise ``RuleError``/``ParameterError``/``InputError(msg(...))``; the
reasons of skipped rows are kept as English text (``Skipped.reason``: CLI, exports) and as a
translatable message (``Skipped.message``: the page). Numbers:

* the in-force set has target formulas for 2020 (NEDC) and 2025 onwards only (2021–2024 not
  implemented, docs/interpretations-vehicles.md);
* ESR transfers are capped at 10 % of the year's AEA (Art. 5(4)): 10 % × 100 = 10 < 50;
* the example file eea_cars_2025.csv has 4 unusable rows of 10 (VH-09): kerosene, no mass,
  negative emissions, a 2024 row.
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient
from typer.testing import CliRunner
from web_site import make_registry

from keten.cli.vehicles import app as vehicles_cli
from keten.cli.vehicles import targets_app
from keten.core.errors import InputError, ParameterError, RuleError
from keten.core.messages import Msg
from keten.core.params import load_set
from keten.io.vehicles_files import Monitoring, Skipped, no_usable_rows, read_monitoring
from keten.vehicles.accounts import EsrYear, esr
from keten.vehicles.standards import check_year
from keten.web import i18n
from keten.web.app import create_web_app

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
HEADER = "Mh,Ft,Mt,Ewltp,R,Year\n"
ONLY_BAD = HEADER + "X,kerosene,1500,150,10,2025\nY,petrol,1500,150,1.5,2025\n"

NO_FORMULA_EN = (
    "no target formula for cars in 2022 in set 'in-force' (covered: 2020 (NEDC), 2025 onwards; "
    "2021–2024 not implemented)"
)
NO_FORMULA_NL = (
    "geen doelformule voor personenauto's in 2022 in parameterset 'in-force' (gedekt: 2020 "
    "(NEDC), vanaf 2025; 2021–2024 niet geïmplementeerd)"
)
HEADER_EN = (
    "mine.csv: header: missing column(s) Mh, Ft, Mt, Ewltp, R, Year (need Mh,Ft,Mt,Ewltp,R,Year)"
)
HEADER_NL = (
    "mine.csv: kopregel: ontbrekende kolom(men) Mh, Ft, Mt, Ewltp, R, Year "
    "(nodig: Mh,Ft,Mt,Ewltp,R,Year)"
)
NO_ROWS_EN = (
    "no usable rows for 2025 (2 skipped: unknown fuel type (Ft): 'kerosene' ×1; "
    "registrations (R) is not a whole number: '1.5' ×1)"
)
NO_ROWS_NL = (
    "geen bruikbare rijen voor 2025 (2 overgeslagen: onbekende brandstofsoort (Ft): 'kerosene' "
    "×1; registraties (R): geen geheel getal: '1.5' ×1)"
)
NO_1990_EN = "the series needs the 1990 net emissions (the base of the 2040 target)"
NO_1990_NL = "de reeks moet de netto-uitstoot van 1990 bevatten (de basis van het doel voor 2040)"
ESR_YEAR_EN = (
    "s.csv, row 1, field 'year': year 2040 is outside the ESR period 2021–2030 "
    "(and not the 2005 base)"
)
ESR_YEAR_NL = (
    "s.csv, rij 1, veld 'year': jaar 2040 valt buiten de ESR-periode 2021–2030 "
    "(en is niet het basisjaar 2005)"
)
ESR_GAP_EN = (
    "the ESR series must cover consecutive years from 2021 (at most to 2030); got 2021, 2023"
)
ESR_GAP_NL = (
    "de ESR-reeks moet opeenvolgende jaren vanaf 2021 bevatten (hoogstens tot 2030); "
    "opgegeven: 2021, 2023"
)
CAP_EN = "2021: transfer_in 50 exceeds the cap 10 % × 100 = 10 (Art. 5(4))"
CAP_NL = "2021: transfer_in 50 overschrijdt het plafond 10 % × 100 = 10 (art. 5, lid 4)"
TOO_LARGE_EN = "s.csv: too large for an emission series"
TOO_LARGE_NL = "s.csv: te groot voor een emissiereeks"

#: The example file's skipped rows (VH-09), English (CLI, export) and Dutch (page).
SKIPPED = [
    ("unknown fuel type (Ft): 'kerosene'", "onbekende brandstofsoort (Ft): 'kerosene'"),
    ("missing mass (Mt)", "geen massa (Mt) opgegeven"),
    ("negative emissions (Ewltp)", "uitstoot (Ewltp): negatief"),
    ("row of another year (Year): '2024'", "rij van een ander jaar (Year): '2024'"),
]


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    """An anonymous visitor without a language cookie: the site's default, Dutch."""
    reg = make_registry("sqlite:///" + str(tmp_path / "k.db"))
    with TestClient(create_web_app(reg), base_url="https://testserver") as c:
        yield c
    reg.ledger.sessions.kw["bind"].dispose()


def token(c: TestClient) -> str:
    m = CSRF_RE.search(c.get("/vehicles").text)
    assert m
    return m.group(1)


def english(c: TestClient) -> None:
    c.cookies.set("keten_lang", "en")


def error(page: str, name: str) -> str:
    m = re.search(rf'<p id="e-{name}" class="error">(.*?)</p>', page, re.S)
    assert m, f"no error next to {name}"
    return html.unescape(m.group(1))


def stored(c: TestClient) -> int:
    """How many results the pages keep for export (a refusal keeps none)."""
    return len(getattr(c.app.state, "vehicles_results", None) or ())  # type: ignore[attr-defined]


def compute(c: TestClient, files: object = None, **data: object) -> tuple[int, str]:
    form = {"csrf_token": token(c), "year": "2025", "category": "cars", "scenario": "in-force"}
    r = c.post("/vehicles", data=form | data, files=files)  # type: ignore[arg-type]
    return r.status_code, r.text


def series(c: TestClient, url: str, body: bytes) -> tuple[int, str]:
    r = c.post(url, data={"csrf_token": token(c)}, files={"series": ("s.csv", body)})
    return r.status_code, r.text


# ----------------------------------------------------------------------------- the pages


MONITORING_REFUSALS = [
    pytest.param({"use_example": "1", "year": "2022"}, None, "year", NO_FORMULA_NL, NO_FORMULA_EN,
                 id="no-target-formula"),
    pytest.param({}, {"data": ("mine.csv", b"a,b\n1,2\n")}, "data", HEADER_NL, HEADER_EN,
                 id="header"),
    pytest.param({}, {"data": ("bad.csv", ONLY_BAD.encode())}, "data", NO_ROWS_NL, NO_ROWS_EN,
                 id="no-usable-rows"),
]  # fmt: skip


@pytest.mark.parametrize(("form", "files", "field", "nl", "en"), MONITORING_REFUSALS)
def test_monitoring_refusals_are_dutch_then_english(
    client: TestClient, form: dict[str, str], files: object, field: str, nl: str, en: str
) -> None:
    status, page = compute(client, files=files, **form)
    assert status == 422 and nl in error(page, field) and en not in html.unescape(page)
    assert "data-manufacturer" not in page and stored(client) == 0
    english(client)
    status, page = compute(client, files=files, **form)
    assert status == 422 and en in error(page, field) and nl not in html.unescape(page)
    assert "data-manufacturer" not in page and stored(client) == 0


SERIES_REFUSALS = [
    pytest.param("/vehicles/eu2040", b"year,net_emissions\n2030,100\n", NO_1990_NL, NO_1990_EN,
                 id="eu2040-no-1990"),
    pytest.param("/vehicles/esr", b"year,emissions\n2040,5\n", ESR_YEAR_NL, ESR_YEAR_EN,
                 id="esr-year-outside"),
    pytest.param("/vehicles/esr", b"year,emissions\n2021,5\n2023,5\n", ESR_GAP_NL, ESR_GAP_EN,
                 id="esr-gap"),
    pytest.param("/vehicles/esr", b"year,emissions,aea,transfer_in\n2021,100,100,50\n", CAP_NL,
                 CAP_EN, id="esr-transfer-cap"),
    pytest.param("/vehicles/eu2040", b"year,net_emissions\n" + b"1990,1\n" * 30_000,
                 TOO_LARGE_NL, TOO_LARGE_EN, id="series-too-large"),
]  # fmt: skip


@pytest.mark.parametrize(("url", "body", "nl", "en"), SERIES_REFUSALS)
def test_series_refusals_are_dutch_then_english(
    client: TestClient, url: str, body: bytes, nl: str, en: str
) -> None:
    status, page = series(client, url, body)
    assert status == 422 and error(page, "series") == nl and en not in html.unescape(page)
    assert "<svg" not in page and stored(client) == 0
    english(client)
    status, page = series(client, url, body)
    assert status == 422 and error(page, "series") == en and nl not in html.unescape(page)
    assert "<svg" not in page and stored(client) == 0


def test_the_row_and_field_of_a_file_error_are_translated_with_it(client: TestClient) -> None:
    """The page names the visitor's file (not the temporary copy) and keeps the row and field
    translatable: the shared CSV reader's cell error in the series file."""
    status, page = series(client, "/vehicles/eu2040", b"year,net_emissions\n1990,abc\n")
    assert status == 422
    assert error(page, "series") == (
        "s.csv, rij 1, veld 'net_emissions': geen getal met hoogstens 6 decimalen: 'abc'"
    )
    english(client)
    status, page = series(client, "/vehicles/eu2040", b"year,net_emissions\n1990,abc\n")
    assert error(page, "series") == (
        "s.csv, row 1, field 'net_emissions': not a number with at most 6 decimals: 'abc'"
    )
    assert "/tmp" not in page


def test_skipped_rows_are_shown_in_dutch_then_english_and_exported_in_english(
    client: TestClient,
) -> None:
    for lang in ("nl", "en"):
        if lang == "en":
            english(client)
        status, page = compute(client, use_example="1")
        assert status == 200
        section = re.search(r'<section id="skipped">(.*?)</section>', page, re.S)
        assert section
        shown = [html.unescape(x) for x in re.findall(r"<tr><td>(.*?)</td>", section.group(1))]
        assert shown == [nl if lang == "nl" else en for en, nl in SKIPPED]
        m = re.search(r'name="result" value="([^"]+)"', page)
        assert m
        form = {"csrf_token": token(client), "result": m.group(1), "table": "skipped"}
        r = client.post("/vehicles/export", data=form | {"fmt": "csv"})
        assert r.status_code == 200
        rows = list(csv.DictReader(io.StringIO(r.content.decode())))
        assert [row["reason"] for row in rows] == [en for en, _ in SKIPPED]  # English, as the CLI


# ----------------------------------------------------------------------------- CLI and engine


def test_cli_compliance_prints_exactly_the_english_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(ONLY_BAD, encoding="utf-8")
    r = CliRunner().invoke(vehicles_cli, ["compliance", "--data", str(path), "--year", "2025"])
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr == f"error: {path}: {NO_ROWS_EN}\n"
    # the page's refusal (keten.io.vehicles_files.no_usable_rows) has the same English text
    mon = read_monitoring(path, [2025])
    assert no_usable_rows(mon, 2025, str(path)).english() == f"{path}: {NO_ROWS_EN}"


def test_cli_skipped_rows_report_and_file_stay_english(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "vehicles" / "eea_cars_2025.csv"
    out = tmp_path / "skipped.csv"
    args = ["compliance", "--data", str(example), "--year", "2025", "--skipped", str(out)]
    r = CliRunner().invoke(vehicles_cli, [*args, "--format", "json"])
    assert r.exit_code == 0
    for en, _ in SKIPPED:
        assert f"  {en}: 1 row(s) — rows " in r.stderr
    assert [row["reason"] for row in csv.DictReader(out.open(encoding="utf-8"))] == [
        en for en, _ in SKIPPED
    ]


def test_cli_esr_transfer_cap_is_english(tmp_path: Path) -> None:
    path = tmp_path / "esr.csv"
    path.write_text("year,emissions,aea,transfer_in\n2021,100,100,50\n", encoding="utf-8")
    r = CliRunner().invoke(targets_app, ["esr", "--series", str(path), "--format", "json"])
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr == f"error: {path}: {CAP_EN}\n"  # the CLI names the series file


def test_engine_refusals_follow_the_language_of_the_context() -> None:
    with pytest.raises(ParameterError) as caught:
        check_year(load_set("vehicles", "in-force"), "cars", 2022)
    assert isinstance(caught.value.args[0], Msg)
    assert str(caught.value) == NO_FORMULA_EN
    with i18n.using("nl"):
        assert str(caught.value) == NO_FORMULA_NL
        assert caught.value.english() == NO_FORMULA_EN
    with pytest.raises(RuleError) as rule:
        year = EsrYear(2021, Decimal(100), aea=Decimal(100), transfer_in=Decimal(50))
        esr([year], load_set("vehicles", "in-force"), None)
    assert str(rule.value) == CAP_EN
    with i18n.using("nl"):
        assert str(rule.value) == CAP_NL


def test_skipped_reasons_keep_english_text_and_a_translatable_message(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(ONLY_BAD, encoding="utf-8")
    mon = read_monitoring(path, [2025])
    assert [s.reason for s in mon.skipped] == [
        "unknown fuel type (Ft): 'kerosene'",
        "registrations (R) is not a whole number: '1.5'",
    ]
    assert all(isinstance(s.message, Msg) for s in mon.skipped)
    assert [s.text for s in mon.skipped] == [s.reason for s in mon.skipped]
    with i18n.using("nl"):
        assert [s.text for s in mon.skipped] == [
            "onbekende brandstofsoort (Ft): 'kerosene'",
            "registraties (R): geen geheel getal: '1.5'",
        ]
        assert mon.skipped[0].reason == "unknown fuel type (Ft): 'kerosene'"  # stays English


def test_a_refusal_listing_thousands_of_reasons_renders() -> None:
    """Each distinct offending value is its own reason: the listing nests in halves, so 5,000
    reasons render without reaching the recursion limit — and exactly as the CLI joins them."""
    skipped = [Skipped(f"unknown fuel type (Ft): 'f{i}'", 1, []) for i in range(5000)]
    mon = Monitoring({}, skipped, 5000)
    exc = no_usable_rows(mon, 2025, "x.csv")
    why = "; ".join(f"{s.reason} ×{s.count}" for s in skipped)
    assert str(exc) == f"x.csv: no usable rows for 2025 (5000 skipped: {why})"
    with i18n.using("nl"):
        assert str(exc).startswith("x.csv: geen bruikbare rijen voor 2025 (5000 overgeslagen: ")
    assert no_usable_rows(Monitoring({}, [], 0), 2025, "x.csv").english() == (
        "x.csv: no usable rows for 2025"
    )


# ----------------------------------------------------------------------------- catalogue, source


def _area(lang: str) -> dict[str, str]:
    path = i18n.LOCALE_DIR / lang / "messages_vehicles.po"
    with path.open("rb") as fh:
        return {str(m.id): str(m.string) for m in read_po(fh, locale=lang) if m.id}


def test_every_template_of_the_area_renders_in_english_and_dutch() -> None:
    """Dummy values for every placeholder: the English template and its Dutch translation
    format without KeyError/ValueError (a literal % written %% where the template has params)."""
    placeholder = re.compile(r"%\((\w+)\)s")
    english_ids, dutch = _area("en"), _area("nl")
    assert len(english_ids) >= 60 and set(english_ids) == set(dutch)
    for template in english_ids:
        names = placeholder.findall(template)
        params = {n: f"<{n}>" for n in names}
        text = Msg(template, tuple(params.items())).english()
        assert all(f"<{n}>" in text for n in names), template
        if names:
            assert sorted(placeholder.findall(dutch[template])) == sorted(names), template
            translated = dutch[template] % params
            assert all(f"<{n}>" in translated for n in names), template
        else:
            assert "%%" not in template, template  # without params a % is written as it is
        assert dutch[template].strip(), template


def test_the_page_builds_its_refusals_from_the_translatable_message() -> None:
    exc = InputError(no_usable_rows(Monitoring({}, [], 0), 2025, "a").translatable, file="b", row=3)
    with i18n.using("nl"):
        assert str(exc) == "b, rij 3: geen bruikbare rijen voor 2025"
    assert exc.english() == "b, row 3: no usable rows for 2025"
