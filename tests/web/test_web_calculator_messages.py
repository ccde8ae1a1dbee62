"""Refusals of the Energie Vervoer rules engine on the public calculators page: Dutch for a Dutch
visitor (the site's default), English with the language switch; the CLI stays English, byte for
byte.

The engine (``keten.ev``) and the parameter lookups (``keten.core.params``) raise
``RuleError(msg(template, **params))``; the page renders ``str(exc)`` inside ``i18n.using`` and
so shows the ``messages`` catalogue's Dutch. Numbers:

* fossil comparator 94 g/MJ (Bijlage 1; EV-06): an intensity of 94 gives 94 − 94 = 0, refused
  ("no reduction");
* RFNBO threshold 28.2 gCO2e/MJ (70 % below 94; EV-06): an RFNBO at 30 is refused;
* conventional crops cannot be booked in zeevaart (EV-08);
* besluit-2025 has no luchtvaart table, and marks ev.zeevaart.total 2027 unknown (EV-10).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner
from web_site import make_registry

from keten.cli.main import app as keten_cli
from keten.core.errors import ParameterError, RuleError
from keten.core.messages import Msg
from keten.core.params import load_set
from keten.core.trace import Trace
from keten.ev.model import Booking
from keten.ev.units import BOOKING_COLUMNS, row_codes, row_error, row_message, units_for_booking
from keten.web import i18n
from keten.web.app import create_web_app

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
GOOD = {
    "booking_year": "2026",
    "booking_scenario": "both",
    "sector": "land",
    "category": "annex-ixa",
    "fuel": "hvo",
    "quantity": "500000",
    "unit": "l",
    "ghg_intensity": "10",
}
COMPARATOR_EN = "ghg_intensity 94 is at or above the fossil comparator 94 g/MJ: no reduction"
COMPARATOR_NL = (
    "broeikasgasintensiteit (ghg_intensity) 94 ligt op of boven de fossiele referentiewaarde "
    "94 g/MJ: geen reductie"
)
RFNBO_EN = "an RFNBO may not exceed 28.2 gCO2e/MJ; got 30"
RFNBO_NL = "een RFNBO mag niet boven 28.2 gCO2e/MJ liggen; opgegeven: 30"
EV08_EN = "category 'conventional' cannot be booked in sector 'zeevaart' (EV-08)"
EV08_NL = "categorie 'conventional' kan niet worden ingeboekt in sector 'zeevaart' (EV-08)"
NO_TABLE_EN = "sector 'luchtvaart' has no obligation in parameter set 'besluit-2025'"
NO_TABLE_NL = "sector 'luchtvaart' heeft geen jaarverplichting in parameterset 'besluit-2025'"
UNKNOWN_EN = (
    "— zeevaart 2027: parameter ev.zeevaart.total is unknown in set 'besluit-2025' for 2027"
)
UNKNOWN_NL = (
    "— zeevaart 2027: parameter ev.zeevaart.total is onbekend in parameterset 'besluit-2025' "
    "voor 2027"
)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    """An anonymous visitor without a language cookie: the site's default, Dutch."""
    reg = make_registry("sqlite:///" + str(tmp_path / "k.db"))
    with TestClient(create_web_app(reg), base_url="https://testserver") as c:
        yield c
    reg.ledger.sessions.kw["bind"].dispose()


def token(c: TestClient) -> str:
    m = CSRF_RE.search(c.get("/calculators").text)
    assert m
    return m.group(1)


def switch_to_english(c: TestClient) -> None:
    r = c.post(
        "/language",
        data={"csrf_token": token(c), "lang": "en", "next": "/calculators"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and c.cookies.get("keten_lang") == "en"


def book(c: TestClient, **change: str) -> tuple[int, str]:
    r = c.post("/calculators/booking", data={"csrf_token": token(c), **GOOD, **change})
    return r.status_code, html.unescape(r.text)


def obligation(c: TestClient, sector: str, fuel: str, quantity: str, unit: str, year: str) -> str:
    data = {"csrf_token": token(c), "year": year, "scenario": "both", "sector_1": sector}
    data |= {"fuel_1": fuel, "quantity_1": quantity, "unit_1": unit}
    r = c.post("/calculators/obligation", data=data)
    assert r.status_code == 200, r.text
    return html.unescape(r.text)


def error(page: str, name: str) -> str:
    m = re.search(rf'<p id="e-{name}" class="error">(.*?)</p>', page, re.S)
    assert m, f"no error next to {name}"
    return m.group(1)


# ----------------------------------------------------------------------------- the page


def test_intensity_at_the_comparator_is_refused_in_dutch_then_english(client: TestClient) -> None:
    status, page = book(client, ghg_intensity="94")
    assert status == 422
    assert COMPARATOR_NL in error(page, "ghg_intensity") and COMPARATOR_EN not in page
    switch_to_english(client)
    status, page = book(client, ghg_intensity="94")
    assert status == 422
    assert COMPARATOR_EN in error(page, "ghg_intensity") and COMPARATOR_NL not in page


def test_rfnbo_above_its_limit_is_refused_in_dutch_then_english(client: TestClient) -> None:
    status, page = book(client, category="rfnbo", ghg_intensity="30")
    assert status == 422
    assert RFNBO_NL in error(page, "ghg_intensity") and RFNBO_EN not in page
    switch_to_english(client)
    status, page = book(client, category="rfnbo", ghg_intensity="30")
    assert status == 422 and RFNBO_EN in error(page, "ghg_intensity") and RFNBO_NL not in page


def test_category_not_bookable_in_the_sector_is_dutch_then_english(client: TestClient) -> None:
    status, page = book(client, sector="zeevaart", category="conventional")
    # The field is chosen on the English text, so the Dutch refusal stands next to "category" too.
    assert status == 422 and EV08_NL in error(page, "category") and EV08_EN not in page
    switch_to_english(client)
    status, page = book(client, sector="zeevaart", category="conventional")
    assert status == 422 and EV08_EN in error(page, "category") and EV08_NL not in page


def test_a_set_without_the_sector_says_so_in_dutch_then_english(client: TestClient) -> None:
    """500,000 GJ luchtvaart 2026: bijlage-1 computes it, besluit-2025 has no luchtvaart table."""
    page = obligation(client, "luchtvaart", "energy", "500000", "GJ", "2026")
    assert NO_TABLE_NL in page and NO_TABLE_EN not in page
    switch_to_english(client)
    page = obligation(client, "luchtvaart", "energy", "500000", "GJ", "2026")
    assert NO_TABLE_EN in page and NO_TABLE_NL not in page


def test_a_value_the_set_marks_unknown_is_dutch_then_english(client: TestClient) -> None:
    """zeevaart 2027 in besluit-2025: the total is marked unknown (EV-10); the set's note (data
    from the parameter file) stays as written."""
    page = obligation(client, "zeevaart", "hfo", "1000", "kg", "2027")
    assert UNKNOWN_NL in page and UNKNOWN_EN not in page
    switch_to_english(client)
    page = obligation(client, "zeevaart", "hfo", "1000", "kg", "2027")
    assert UNKNOWN_EN in page and UNKNOWN_NL not in page


# ----------------------------------------------------------------------------- CLI and engine


@pytest.mark.parametrize(
    ("row", "year", "line"),
    [
        (
            "Brandstof BV,land,annex-ixa,hvo,1000,l,94",
            "2026",
            "row 1, field 'ghg_intensity': " + COMPARATOR_EN,
        ),
        (
            "Brandstof BV,land,rfnbo,hvo,1000,l,30",
            "2026",
            "row 1, field 'ghg_intensity': " + RFNBO_EN,
        ),
        (
            "Brandstof BV,Land,annex-ixa,hvo,1000,l,10",
            "2026",
            "row 1, field 'sector': unknown sector 'Land' (known: land, binnenvaart, zeevaart, "
            "luchtvaart)",
        ),
    ],
)
def test_cli_ev_units_prints_exactly_the_english_line(
    tmp_path: Path, row: str, year: str, line: str
) -> None:
    path = tmp_path / "bookings.csv"
    path.write_text(",".join(BOOKING_COLUMNS) + "\n" + row + "\n", encoding="utf-8")
    r = CliRunner().invoke(keten_cli, ["ev", "units", "--year", year, "--bookings", str(path)])
    assert r.exit_code == 2
    assert r.stdout == ""
    assert r.stderr == f"error: {path}, {line}\n"


def test_cli_unknown_parameter_set_is_english() -> None:
    r = CliRunner().invoke(keten_cli, ["ev", "params", "--params", "nope", "--year", "2026"])
    assert r.exit_code == 2
    assert (
        r.stderr == "error: unknown parameter set 'nope' for ev (known: besluit-2025, bijlage-1)\n"
    )


def test_engine_refusal_follows_the_language_of_the_context() -> None:
    booking = Booking("h", "land", "annex-ixa", "hvo", Decimal(500000), "l", Decimal(94))
    with pytest.raises(RuleError) as caught:
        units_for_booking(booking, 2026, Trace(load_set("ev", "bijlage-1")))
    assert isinstance(caught.value.args[0], Msg)
    assert str(caught.value) == caught.value.english() == COMPARATOR_EN
    with i18n.using("nl"):
        assert str(caught.value) == COMPARATOR_NL
        assert caught.value.english() == COMPARATOR_EN  # what the JSON API sends


def test_parameter_errors_follow_the_language_of_the_context() -> None:
    bijlage = load_set("ev", "bijlage-1")
    with pytest.raises(ParameterError) as caught:
        bijlage.get("ev.land.total", 2031)
    en = "parameter ev.land.total has no value for 2031 in set 'bijlage-1' (covered: 2026–2030)"
    assert str(caught.value) == en
    with i18n.using("nl"):
        assert str(caught.value) == (
            "parameter ev.land.total heeft geen waarde voor 2031 in parameterset 'bijlage-1' "
            "(gedekt: 2026–2030)"
        )
    with pytest.raises(ParameterError) as caught:
        load_set("nodomain", "x")
    assert str(caught.value) == "unknown parameter set 'x' for nodomain (known: none)"
    with i18n.using("nl"):
        assert str(caught.value) == "onbekende parameterset 'x' voor nodomain (bekend: geen)"


def test_file_row_errors_are_translatable_and_english_by_default() -> None:
    """The row checks of the vectorised path (EV-11) give the same English as before."""
    params = load_set("ev", "bijlage-1")
    rows = [
        ["h", "land", "annex-ixa", "hvo", "1000", "l", "94"],
        ["h", "land", "annex-ixa", "hvo", "1,5x", "l", "10"],
        ["h", "zeevaart", "conventional", "hvo", "1000", "l", "10"],
    ]
    frame = pl.DataFrame(rows, schema=list(BOOKING_COLUMNS), orient="row").lazy()
    coded = row_codes(frame, params, 2026).collect().to_dicts()
    expected = [
        ("ghg_intensity", COMPARATOR_EN, COMPARATOR_NL),
        (
            "quantity",
            "not a number with at most 6 decimals: '1,5x'",
            "geen getal met hoogstens 6 decimalen: '1,5x'",
        ),
        ("category", EV08_EN, EV08_NL),
    ]
    for row, (field, en, nl) in zip(coded, expected, strict=True):
        assert row_error(row, params, 2026) == (field, en)
        assert isinstance(row_message(row, params, 2026)[1], Msg)
        with i18n.using("nl"):
            assert row_error(row, params, 2026) == (field, nl)


# ----------------------------------------------------------------------------- files

#: A deliveries file refused by the shared CSV reader (keten.io.csvfile) or by the page's row
#: checks: (file text, Dutch line, English line). The place ("rij 1, veld 'fuel'") is
#: translated with the reason; file names, values and column names stay as typed.
BAD_FILES = [
    (
        "supplier,sector,fuel\nA,land,diesel\n",
        "mine.csv: kopregel: ontbrekende kolom(men) quantity, unit "
        "(verwacht supplier,sector,fuel,quantity,unit)",
        "mine.csv: header: missing column(s) quantity, unit "
        "(expected supplier,sector,fuel,quantity,unit)",
    ),
    (
        "supplier,sector,fuel,quantity,unit,extra,extra\nA,land,diesel,5,l,1,2\n",
        "mine.csv: kopregel: onbekende kolom(men) extra, extra; dubbele kolom(men) extra "
        "(verwacht supplier,sector,fuel,quantity,unit)",
        "mine.csv: header: unknown column(s) extra, extra; duplicate column(s) extra "
        "(expected supplier,sector,fuel,quantity,unit)",
    ),
    (
        "supplier,sector,fuel,quantity,unit\nA,land,kerosine,5,l\n",
        "mine.csv, rij 1, veld 'fuel': onbekende brandstof 'kerosine' (bekend: ",
        "mine.csv, row 1, field 'fuel': unknown fuel 'kerosine' (known: ",
    ),
    (
        "supplier,sector,fuel,quantity,unit\nA,land,diesel,5,l\nA,land,diesel,1e5,l\n",
        "mine.csv, rij 2, veld 'quantity': geen getal met hoogstens 6 decimalen: '1e5'",
        "mine.csv, row 2, field 'quantity': not a number with at most 6 decimals: '1e5'",
    ),
    (
        "supplier,sector,fuel,quantity,unit\nA,rail,diesel,5,l\n",
        "mine.csv, rij 1, veld 'sector': onbekende sector 'rail' (land, ",
        "mine.csv, row 1, field 'sector': unknown sector 'rail' (land, ",
    ),
    (
        "supplier,sector,fuel,quantity,unit\nA,land,diesel,5\n",
        "mine.csv, rij 1: heeft 4 velden, de kopregel heeft er 5",
        "mine.csv, row 1: has 4 fields, the header has 5",
    ),
    (
        "supplier,sector,fuel,quantity,unit\n\n",
        "mine.csv: geen leveringen in het bestand",
        "mine.csv: no deliveries in the file",
    ),
]


def upload(c: TestClient, text: str) -> tuple[int, str]:
    data = {"csrf_token": token(c), "year": "2026", "scenario": "bijlage-1"}
    files = {"deliveries": ("mine.csv", text.encode())}
    r = c.post("/calculators/obligation", data=data, files=files)
    return r.status_code, html.unescape(r.text)


@pytest.mark.parametrize(("text", "dutch", "english"), BAD_FILES)
def test_a_bad_deliveries_file_is_refused_in_dutch_then_english(
    client: TestClient, text: str, dutch: str, english: str
) -> None:
    status, page = upload(client, text)
    assert status == 422
    assert dutch in error(page, "deliveries") and english not in page
    assert 'data-scenario="' not in page  # no result
    switch_to_english(client)
    status, page = upload(client, text)
    assert status == 422
    assert english in error(page, "deliveries") and dutch not in page


def test_cli_reads_the_same_bad_file_in_english(tmp_path: Path) -> None:
    path = tmp_path / "mine.csv"
    path.write_text("supplier,sector,fuel,quantity,unit\nA,land,diesel,5,l\nA,land,diesel,1e5,l\n")
    result = CliRunner().invoke(
        keten_cli, ["ev", "obligation", "--year", "2026", "--deliveries", str(path)]
    )
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.strip() == (
        f"error: {path}, row 2, field 'quantity': not a number with at most 6 decimals: '1e5'"
    )


def test_parse_number_errors_follow_the_language_of_the_context() -> None:
    from keten.core.quantity import parse_number, to_decimal

    for parse, text, en, nl in (
        (
            parse_number,
            "1e5",
            "not a number with at most 6 decimals: '1e5'",
            "geen getal met hoogstens 6 decimalen: '1e5'",
        ),
        (to_decimal, "x", "not a number: 'x'", "geen getal: 'x'"),
    ):
        with pytest.raises(ValueError) as caught:
            parse(text)
        assert str(caught.value) == en
        with i18n.using("nl"):
            assert str(caught.value) == nl


# ----------------------------------------------------------------------------- catalogue, source


def test_every_engine_message_has_a_dutch_translation_with_the_same_placeholders() -> None:
    placeholder = re.compile(r"%\((\w+)\)s")
    root = Path(i18n.__file__).parent.parent
    templates: set[str] = set()
    call = re.compile(r"\bmsg\(\s*((?:\"[^\"]*\"\s*)+)", re.S)
    for path in [*sorted((root / "ev").glob("*.py")), root / "core" / "params.py"]:
        for m in call.finditer(path.read_text(encoding="utf-8")):
            templates.add("".join(re.findall(r"\"([^\"]*)\"", m.group(1))))
    assert len(templates) >= 30
    dutch = i18n.catalogue("nl")
    for t in sorted(templates):
        assert t in dutch, f"no Dutch for {t!r}"
        assert sorted(placeholder.findall(dutch[t])) == sorted(placeholder.findall(t)), t
