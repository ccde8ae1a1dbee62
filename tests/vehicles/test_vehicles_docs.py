"""The worked example of docs/vehicles.md, run on examples/vehicles/ (numbers pinned)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from keten.cli.vehicles import app, targets_app

EX = Path(__file__).resolve().parents[2] / "examples" / "vehicles"
DOC = Path(__file__).resolve().parents[2] / "docs" / "vehicles.md"
RUNNER = CliRunner()


def test_docs_example_compliance() -> None:
    r = RUNNER.invoke(
        app,
        [
            "compliance",
            "--data",
            str(EX / "eea_cars_2025.csv"),
            "--year",
            "2025",
            "--format",
            "json",
        ],
    )
    assert r.exit_code == 0, r.stderr
    rows = {x["manufacturer"]: x for x in json.loads(r.stdout)}
    beta = rows["BETA CARS"]
    assert (beta["registrations"], beta["average_emissions"], beta["target"]) == (
        400,
        103.75,
        94.499,
    )
    assert (beta["zlev_share"], beta["zlev_factor"], beta["excess"]) == (0.11, 1, 9.251)
    assert beta["premium_eur"] == 351538
    assert (
        rows["ALPHA MOTORS"]["target"] == 97.824
        and rows["ALPHA MOTORS"]["average_emissions"] == 77.1
    )
    assert rows["Gamma Pool"]["target"] == 98.278
    assert "4 of 10 rows" in r.stderr
    doc = DOC.read_text()
    assert "| BETA CARS | 400 | 103.750 | 94.499 | 0.11 | 1 | 9.251 | 351538 |" in doc


def test_docs_example_derogation() -> None:
    r = RUNNER.invoke(
        app,
        [
            "compliance",
            "--data",
            str(EX / "eea_cars_2025.csv"),
            "--year",
            "2025",
            "--derogations",
            str(EX / "derogations.csv"),
            "--format",
            "json",
        ],
    )
    beta = next(x for x in json.loads(r.stdout) if x["manufacturer"] == "BETA CARS")
    assert beta["target"] == 140 and beta["premium_eur"] == 0


def test_docs_example_targets() -> None:
    r = RUNNER.invoke(
        targets_app, ["eu2040", "--series", str(EX / "eu2040_series.csv"), "--format", "json"]
    )
    doc = json.loads(r.stdout)
    assert doc["summary"]["domestic_limit_2040"] == 720
    years = {y["year"]: y for y in doc["years"]}
    assert years[2035]["credits_counted"] == 0 and years[2035]["path_limit"] == 1320
    assert years[2040]["accounted"] == 460 and years[2040]["on_track"] is True
    r = RUNNER.invoke(
        targets_app, ["esr", "--series", str(EX / "esr_nl_series.csv"), "--format", "json"]
    )
    doc = json.loads(r.stdout)
    years = {y["year"]: y for y in doc["years"]}
    assert years[2024]["shortfall"] == 7.5 and years[2025]["penalty_added"] == 8.1
    assert years[2025]["banked_out"] == 4.4 and doc["limit_2030"] == 62.4
