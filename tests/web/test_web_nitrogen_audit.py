"""Audit of the nitrogen pages as a user meets them (2026 web audit): a sector observed twice
in the same year, a rules date the parameters do not cover, and an unreadable areas file.

Numbers used (``params/nitrogen``, set vervolgpakket-2025): landbouw NH3 baseline 2019 110.3 kt,
target 2035 −42 % → 63.974 kt; path 2027 = 110.3 + (63.974 − 110.3) × 8/16 = 87.137 kt (NH-31).
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner
from web_site import Browser, make_registry

from keten.cli.nitrogen import app as nitrogen_cli
from keten.web.app import create_web_app

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "nitrogen"
SECTOR_HEAD = "sector,substance,year,kt\n"


@pytest.fixture(scope="module")
def web_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    reg = make_registry("sqlite:///" + str(tmp_path_factory.mktemp("nitrogen-audit") / "k.db"))
    yield create_web_app(reg)
    reg.ledger.sessions.kw["bind"].dispose()


@pytest.fixture
def browser(web_app: FastAPI) -> Iterator[Browser]:
    """A fresh anonymous English browser (the Dutch page is checked where a message is new)."""
    with TestClient(web_app, base_url="https://testserver", follow_redirects=False) as client:
        client.cookies.set("keten_lang", "en")
        b = Browser(client, None)
        b.get("/nitrogen")
        yield b


def error(page: str, name: str) -> str:
    m = re.search(rf'id="e-{name}" class="error[^"]*">([^<]*)<', page)
    assert m, f"no error next to {name}"
    return html_lib.unescape(m.group(1))


def csv_file(name: str, text: str) -> tuple[str, bytes, str]:
    return (name, text.encode(), "text/csv")


# ----------------------------------------------------------------------------- sectors


def test_a_sector_observed_twice_in_a_file_is_refused(browser: Browser) -> None:
    """landbouw NH3 2027 observed as 90 kt and as 80 kt: the page showed both, "behind" (90 >
    87.137) and "on track" (80 < 87.137) for the same sector and year."""
    text = SECTOR_HEAD + "landbouw,nh3,2027,90\nlandbouw,nh3,2027,80\n"
    r = browser.post(
        "/nitrogen/sectors",
        {"set": "vervolgpakket-2025"},
        files={"observed_file": csv_file("observed.csv", text)},
    )
    assert r.status_code == 422
    assert error(r.text, "observed_file") == (
        "observed.csv, row 2, field 'year': sector, substance and year given twice"
    )
    assert 'class="monitoring"' not in r.text


def test_a_sector_observed_twice_in_the_form_is_refused_next_to_the_second_row(
    browser: Browser,
) -> None:
    r = browser.post(
        "/nitrogen/sectors",
        {
            "set": "vervolgpakket-2025",
            "sector_1": "landbouw/nh3",
            "year_1": "2027",
            "kt_1": "90",
            "sector_2": "landbouw/nh3",
            "year_2": "2027",
            "kt_2": "80",
        },
    )
    assert r.status_code == 422
    assert error(r.text, "year_2") == "sector, substance and year given twice"
    assert 'class="monitoring"' not in r.text


def test_a_sector_observed_twice_is_refused_in_dutch(web_app: FastAPI) -> None:
    with TestClient(web_app, base_url="https://testserver", follow_redirects=False) as client:
        b = Browser(client, None)
        b.get("/nitrogen/sectors")
        r = b.post(
            "/nitrogen/sectors",
            {
                "set": "vervolgpakket-2025",
                "sector_1": "landbouw/nh3",
                "year_1": "2027",
                "kt_1": "90",
                "sector_3": "landbouw/nh3",
                "year_3": "2027",
                "kt_3": "80",
            },
        )
    assert r.status_code == 422
    assert error(r.text, "year_3") == "sector, stof en jaar staan er twee keer in"


def test_two_years_of_one_sector_still_compute(browser: Browser) -> None:
    """2027: 90 > 87.137 → behind; 2029: path 110.3 + (63.974 − 110.3) × 10/16 = 110.3 − 28.95375
    = 81.34625 kt,
    80 ≤ 81.34625 → on track."""
    text = SECTOR_HEAD + "landbouw,nh3,2027,90\nlandbouw,nh3,2029,80\n"
    r = browser.post(
        "/nitrogen/sectors",
        {"set": "vervolgpakket-2025"},
        files={"observed_file": csv_file("observed.csv", text)},
    )
    assert r.status_code == 200
    assert 'data-sector="landbouw/nh3" data-year="2027"' in r.text
    assert 'data-path="81.34625"' in r.text


def test_the_cli_refuses_a_sector_observed_twice(tmp_path: Path) -> None:
    path = tmp_path / "observed.csv"
    path.write_text(SECTOR_HEAD + "landbouw,nh3,2027,90\nlandbouw,nh3,2027,80\n")
    r = CliRunner().invoke(nitrogen_cli, ["monitor", "--observed", str(path)])
    assert r.exit_code == 2
    assert f"{path}, row 2, field 'year': sector, substance and year given twice" in r.output


# ----------------------------------------------------------------------------- vbr


VBR = {"set": "vervolgpakket-2025", "mode": "stop", "budget": "6000000"}


def test_a_vbr_date_before_the_parameters_is_refused_next_to_the_date(browser: Browser) -> None:
    """The RD New bounds (nitrogen.rd.*) are valid from 2015-01-01."""
    r = browser.post("/nitrogen/vbr", {**VBR, "source": "example", "date": "1999-01-01"})
    assert r.status_code == 422
    assert "has no value on 1999-01-01" in error(r.text, "date")
    assert 'class="error form-error"' not in r.text


def test_an_unreadable_parquet_file_does_not_show_a_server_path(browser: Browser) -> None:
    """The refusal quoted pyarrow, which names the server's temporary file
    (/tmp/tmp…/areas.parquet)."""
    apps = (EXAMPLES / "applications.csv").read_bytes()
    r = browser.post(
        "/nitrogen/vbr",
        {**VBR, "source": "upload", "date": "2026-03-01"},
        files={
            "applications": ("applications.csv", apps, "text/csv"),
            "areas": ("areas.parquet", b"garbage", "application/octet-stream"),
        },
    )
    assert r.status_code == 422
    message = error(r.text, "areas")
    assert message.startswith("areas.parquet: not a Parquet file: ")
    assert "/tmp" not in message and "'areas.parquet'" in message


# ----------------------------------------------------------------------------- budget


def test_a_header_only_commitments_file_is_refused(browser: Browser) -> None:
    """The page used to show every line of Tabel 1 with nothing committed, as if the file held
    commitments; the observations file of the sector page already refused this."""
    r = browser.post(
        "/nitrogen/budget",
        {},
        files={
            "commitments_file": csv_file("commitments.csv", "kind,line,amount_eur_m,description\n")
        },
    )
    assert r.status_code == 422
    assert error(r.text, "commitments_file") == "commitments.csv: no data rows"
    assert 'class="tracker"' not in r.text
