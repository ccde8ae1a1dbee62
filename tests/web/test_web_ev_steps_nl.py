"""The explanation steps of the Energie Vervoer engine in the page's language: a Dutch visitor
reads "land basisenergie … som van de energie van alle leveringen", an English one "land base
energy … sum of the energy of all deliveries"; the CLI, the JSON and the receipts stay English
byte for byte (``Trace.to_dict``).

The steps are ``msg(...)`` templates (``keten.ev.obligation``, ``units``, ``compliance``,
``energy``) rendered when the page is rendered (``keten.web.traces.trace_view``).
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from test_web_calculators import CSRF_RE, client
from typer.testing import CliRunner

from keten.cli.main import app as keten_cli

__all__ = ["client"]  # the fixture of test_web_calculators (each test sets its language)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "ev"

#: (English, Dutch) of steps the compliance calculator shows for examples/ev with prices.
STEPS = [
    ("diesel land: energy", "diesel land: energie"),
    ("land base energy", "land basisenergie"),
    ("sum of the energy of all deliveries", "som van de energie van alle leveringen"),
    ("= 7038720 → round half up", "= 7038720 → half naar boven afgerond"),
    ("binnenvaart annex_ixa_min", "binnenvaart annex_ixa_min"),  # a row id: not translated
    (
        "row not in the sector's table: not applicable",
        "rij staat niet in de tabel van de sector: niet van toepassing",
    ),
    ("land surrender", "land inleveren"),
    ("parts filled: 1500616/1500616 annex-ixa", "gevulde delen: 1500616/1500616 annex-ixa"),
    ("7038720 of 7038720", "7038720 van 7038720"),
    ("land shortfall", "land tekort"),
    ("buy land/rfnbo", "koop land/rfnbo"),
    ("sum of purchases", "som van de aankopen"),
]


def explanation(c: TestClient, lang: str) -> str:
    c.cookies.set("keten_lang", lang)
    m = CSRF_RE.search(c.get("/calculators").text)
    assert m
    files = {
        f"cp_{name}": (f"{name}.csv", (EXAMPLES / f"{name}.csv").read_bytes())
        for name in ("deliveries", "units", "prices")
    }
    data = {"csrf_token": m.group(1), "cp_year": "2026", "cp_scenario": "bijlage-1"}
    r = c.post("/calculators/compliance", data=data, files=files)
    assert r.status_code == 200, r.text
    block = r.text.split('data-supplier="Brandstof BV"', 1)[1].split("</article>", 1)[0]
    return html.unescape(re.sub(r"<[^>]+>", " ", block))


@pytest.mark.parametrize(("lang", "index"), [("nl", 1), ("en", 0)])
def test_the_steps_are_in_the_pages_language(client: TestClient, lang: str, index: int) -> None:
    text = " ".join(explanation(client, lang).split())
    for pair in STEPS:
        assert pair[index] in text, pair[index]
        other = pair[1 - index]
        if other != pair[index] and other not in pair[index]:
            assert other not in text, other


def test_the_booking_calculator_names_the_units_created_in_dutch(client: TestClient) -> None:
    client.cookies.set("keten_lang", "nl")
    m = CSRF_RE.search(client.get("/calculators").text)
    assert m
    data = {
        "csrf_token": m.group(1),
        "booking_year": "2026",
        "booking_scenario": "bijlage-1",
        "sector": "land",
        "category": "annex-ixa",
        "fuel": "hvo",
        "quantity": "500000",
        "unit": "l",
        "ghg_intensity": "10",
    }
    r = client.post("/calculators/booking", data=data)
    assert r.status_code == 200, r.text
    text = html.unescape(r.text)
    # 500,000 l × 34 MJ/l = 17,000,000 MJ × (94 − 10) / 1000 = 1,428,000 (EV-06)
    assert "aangemaakte ERE's" in text and "= 1428000 → naar beneden afgerond" in text
    assert "EREs created" not in text and "round down" not in text


def test_the_cli_and_json_keep_the_english_steps() -> None:
    r = CliRunner().invoke(
        keten_cli,
        [
            "ev", "plan", "--year", "2026",
            "--deliveries", str(EXAMPLES / "deliveries.csv"),
            "--units", str(EXAMPLES / "units.csv"),
            "--prices", str(EXAMPLES / "prices.csv"),
            "--explain", "--format", "json",
        ],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    steps = json.loads(r.stdout)[0]["explain"]["steps"]
    labels = [s["label"] for s in steps]
    assert "land base energy" in labels and "land surrender" in labels
    assert "buy land/rfnbo" in labels and labels[-1] == "cost"
    surrender = next(s for s in steps if s["label"] == "land surrender")
    assert surrender["formula"].startswith("parts filled: 1500616/1500616 annex-ixa")
    assert surrender["result"] == "7038720 of 7038720"
    assert steps[-1]["formula"] == "sum of purchases"
