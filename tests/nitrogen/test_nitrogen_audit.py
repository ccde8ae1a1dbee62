"""Defects found by the fresh-eyes audit of ``keten nitrogen`` (each test failed before its fix)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from typer.testing import CliRunner

from keten.cli.nitrogen import app
from keten.core.errors import InputError, RuleError
from keten.core.params import load_set
from keten.io.nitrogen_files import (
    load_catalogue,
    read_applications,
    read_housings,
    read_ladder,
)
from keten.nitrogen import DEFAULT_SET, DOMAIN
from keten.nitrogen.norms import farm_norms

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "nitrogen"
HEADER = "farm_id,housing_code,animals,ef_nh3,traditional_ef_nh3,additional"
runner = CliRunner()


def _farm(tmp_path: Path) -> tuple[Path, Path]:
    housings = tmp_path / "h.csv"
    housings.write_text(f"{HEADER}\nf1,A1.100,100,,,\n", encoding="utf-8")
    observed = tmp_path / "obs.csv"
    observed.write_text("farm_id,year,nh3_kg\nf1,2027,1100\nf1,2035,800\n", encoding="utf-8")
    return housings, observed


def test_negative_avoided_cost_refused(tmp_path: Path) -> None:
    # 100 × A1.100 = 1300 kg; proportional norm 1300 × (1 − 42 %) = 754; 2035: 800 − 754 = 46 kg
    # over. Before the fix --avoided-cost -1 sized the fine 46 × (−1) × 1.5 = −69 EUR.
    housings, observed = _farm(tmp_path)
    r = runner.invoke(
        app,
        [
            "norms",
            "--housings",
            str(housings),
            "--observed",
            str(observed),
            "--method",
            "proportional",
            "--avoided-cost",
            "-1",
            "--format",
            "json",
        ],
    )
    assert r.exit_code == 2
    assert r.stdout == ""
    assert r.stderr.strip() == "error: field '--avoided-cost': must not be negative"


@pytest.mark.parametrize("year", ["2035", "2040"])
def test_reference_year_not_before_target_year_refused(tmp_path: Path, year: str) -> None:
    # Before the fix a reference year of 2040 dropped every observation (no monitoring, no
    # case history) and 2035 skipped the 2035 miss, so 2037 became the first fine instead of
    # the freezing step: both silently, exit 0.
    housings, observed = _farm(tmp_path)
    r = runner.invoke(
        app,
        [
            "norms",
            "--housings",
            str(housings),
            "--observed",
            str(observed),
            "--reference-year",
            year,
        ],
    )
    assert r.exit_code == 2
    assert r.stdout == ""
    assert r.stderr.strip() == (
        f"error: reference year {year} is not before the target year 2035 (NH-14)"
    )


def test_farm_norms_refuses_reference_year_at_target(tmp_path: Path) -> None:
    housings, _ = _farm(tmp_path)
    catalogue = load_catalogue(load_set(DOMAIN, DEFAULT_SET))
    rows = read_housings(housings, catalogue)
    with pytest.raises(RuleError, match="reference year 2035 is not before the target year"):
        farm_norms(rows, catalogue, "proportional", 2035, {}, read_ladder())
    # 2034 is still a valid reference year: path from 2034 to 2035
    assert farm_norms(rows, catalogue, "proportional", 2034)[0].norm_kg == 754


def test_vbr_applications_without_rows_refused(tmp_path: Path) -> None:
    # Before the fix a header-only file gave "granted €0" and an empty table, exit 0.
    apps = tmp_path / "apps.csv"
    apps.write_text("application_id,submitted_at,x,y,nh3_kg,subsidy_eur\n", encoding="utf-8")
    r = runner.invoke(
        app,
        ["vbr", "--applications", str(apps), "--areas", str(EXAMPLES / "areas.geojson")],
    )
    assert r.exit_code == 2
    assert r.stdout == ""
    assert r.stderr.strip() == f"error: {apps}: no data rows"
    pset = load_set(DOMAIN, DEFAULT_SET)
    with pytest.raises(InputError, match="no data rows"):
        read_applications(apps, pset, dt.date(2026, 3, 1))


def test_monitor_without_observations_refused(tmp_path: Path) -> None:
    # Before the fix a header-only file printed an empty line, exit 0.
    observed = tmp_path / "sectors.csv"
    observed.write_text("sector,substance,year,kt\n", encoding="utf-8")
    r = runner.invoke(app, ["monitor", "--observed", str(observed)])
    assert r.exit_code == 2
    assert r.stdout == ""
    assert r.stderr.strip() == f"error: {observed}: no data rows"


def test_unverified_values_flagged_without_explain(tmp_path: Path) -> None:
    # NH-02: a result that uses an H code is flagged. Before the fix the note appeared only with
    # --explain; the default run (fast path, NH-48, no traces) said nothing.
    # HA1.100 → A1.100: 10 × 13.0 = 130 kg.
    housings = tmp_path / "h.csv"
    housings.write_text(f"{HEADER}\nf,HA1.100,10,,,\n", encoding="utf-8")
    r = runner.invoke(app, ["emissions", "--housings", str(housings), "--format", "json"])
    assert r.exit_code == 0, r.output
    assert '"nh3_kg": 130' in r.stdout
    assert r.stderr.strip() == (
        "note: result uses values not read in an authoritative source: "
        "nitrogen.catalogue.h_alias_same_value"
    )
    # the worked example: the keten scrubber codes (NH-04, inferred), same note as --explain
    notes = [
        runner.invoke(app, ["emissions", "--housings", str(EXAMPLES / "housings.csv"), *extra])
        .stderr.strip()
        .splitlines()[0]
        for extra in ([], ["--explain"])
    ]
    assert (
        notes[0]
        == notes[1]
        == (
            "note: result uses values not read in an authoritative source: "
            "nitrogen.reduction.LW-BIO-70, nitrogen.reduction.LW-CHEM-70"
        )
    )


def test_monitor_sector_without_target_names_the_file(tmp_path: Path) -> None:
    # The set has no target for landbouw/nox; the refusal names the file it came from.
    observed = tmp_path / "sectors.csv"
    observed.write_text("sector,substance,year,kt\nlandbouw,nox,2027,10\n", encoding="utf-8")
    r = runner.invoke(app, ["monitor", "--observed", str(observed)])
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.startswith(f"error: {observed}: no target for landbouw/nox")
    assert r.stderr.count("\n") == 1


def test_budget_commitment_on_an_unknown_line_names_the_file(tmp_path: Path) -> None:
    commitments = tmp_path / "c.csv"
    commitments.write_text(
        "kind,line,amount_eur_m,description\nincidenteel,foo,1,x\n", encoding="utf-8"
    )
    r = runner.invoke(app, ["budget", "--commitments", str(commitments)])
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr == f"error: {commitments}: unknown budget line incidenteel.foo\n"


def test_negative_vbr_budget_names_the_option(tmp_path: Path) -> None:
    r = runner.invoke(
        app,
        [
            "vbr",
            "--applications",
            str(EXAMPLES / "applications.csv"),
            "--areas",
            str(EXAMPLES / "areas.geojson"),
            "--budget",
            "-5",
        ],
    )
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr == "error: field '--budget': must not be negative\n"


def _flag_note(stderr: str) -> set[str]:
    notes = [ln for ln in stderr.splitlines() if "not read in an authoritative source" in ln]
    return {name for ln in notes for name in ln.split("source: ", 1)[1].split(", ")}


def test_norms_flag_unverified_values_without_explain() -> None:
    """Audit: ``norms`` named the values not read in an authoritative source (NH-02) only with
    ``--explain``. The example's farms use the assumed reference year (NH-14) and the keten
    scrubber codes LW-CHEM-70 / LW-BIO-70 (NH-04): the note without ``--explain`` names exactly
    what the explanations name; with ``--reference-year`` given, that parameter is not used."""
    housings = str(EXAMPLES / "housings.csv")
    plain = runner.invoke(app, ["norms", "--housings", housings, "--format", "json"])
    explained = runner.invoke(app, ["norms", "--housings", housings, "--explain"])
    assert plain.exit_code == 0 and explained.exit_code == 0
    assert (
        _flag_note(plain.stderr)
        == _flag_note(explained.stdout + explained.stderr)
        == {
            "nitrogen.norm.reference_year",
            "nitrogen.reduction.LW-BIO-70",
            "nitrogen.reduction.LW-CHEM-70",
        }
    )
    given = runner.invoke(app, ["norms", "--housings", housings, "--reference-year", "2019"])
    assert given.exit_code == 0
    assert _flag_note(given.stderr) == {
        "nitrogen.reduction.LW-BIO-70",
        "nitrogen.reduction.LW-CHEM-70",
    }
