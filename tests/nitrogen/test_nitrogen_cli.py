"""``keten nitrogen`` CLI contract (issue #5): formats, exact decimals, one-line errors (exit 2)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from keten.cli.nitrogen import app

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "nitrogen"
HEADER = "farm_id,housing_code,animals,ef_nh3,traditional_ef_nh3,additional"
runner = CliRunner()


def run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args))


def test_emissions_json_contract() -> None:
    r = run("emissions", "--housings", str(EXAMPLES / "housings.csv"), "--format", "json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.stdout)
    assert [f["farm_id"] for f in data][:2] == ["melkvee-1", "varkens-2"]
    assert set(data[0]) == {"farm_id", "nh3_kg", "housings"}
    assert data[0]["nh3_kg"] == 1432  # 1300 + 132
    assert data[0]["housings"][1] == {"housing_code": "A3.100", "animals": 40, "nh3_kg": 132}
    assert [f["nh3_kg"] for f in data] == [1432, 2160, 270, 1350, 30]


def test_emissions_json_exact_decimal(tmp_path: Path) -> None:
    p = tmp_path / "h.csv"
    p.write_text(f"{HEADER}\nf,E5.100,3,,,custom:0.333333\n")  # 3 × 0.080 × 0.666667
    r = run("emissions", "--housings", str(p), "--format", "json")
    assert '"nh3_kg": 0.16000008' in r.stdout


def test_emissions_csv() -> None:
    r = run("emissions", "--housings", str(EXAMPLES / "housings.csv"), "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert list(rows[0]) == [*HEADER.split(","), "nh3_kg"]
    assert rows[3]["ef_nh3"] == "0.9" and rows[3]["nh3_kg"] == "270"


def test_emissions_explain_json_has_receipt() -> None:
    r = run(
        "emissions", "--housings", str(EXAMPLES / "housings.csv"), "--format", "json", "--explain"
    )
    d = json.loads(r.stdout)
    assert d[2]["explain"]["receipt"]["parameter_set"] == "vervolgpakket-2025"
    assert any(s["ref"] == "Rav eindnoot 3; NH-01" for s in d[2]["explain"]["steps"])
    assert "not read in an authoritative source" in r.stderr


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("f,Z9.9,1,,,", "row 1, field 'housing_code': unknown"),
        ("f,A1.100,-3,,,", "row 1, field 'animals': must not be negative"),
        ("f,A1.100,2.5,,,", "field 'animals': not a whole number"),
        ("f,A1.100,1,,,custom:1", r"field 'additional': reduction 1 is outside \[0, 1\)"),
        ("f,A1.100,1,,,custom:-0.1", "field 'additional'"),
        ("f,A1.100,1,,,custom:0.2:wet", "field 'additional'"),
        ("f,A1.100,1,,,NOPE", "field 'additional': unknown"),
        ("f,A1.100,1,,,A1.1", "field 'additional': A1.1 is a housing system"),
        ("f,,1,,,", "field 'housing_code': give housing_code or ef_nh3"),
        ("f,A1.100,1,2,,", "field 'ef_nh3': give housing_code or ef_nh3, not both"),
        ("f,A1.100,1,,2,", "field 'traditional_ef_nh3'"),
        ("f,,1,0.5,,custom:0.5:scrubber", "field 'traditional_ef_nh3': an air scrubber"),
        ("f,,1,abc,,", "field 'ef_nh3'"),
        (",A1.100,1,,,", "field 'farm_id'"),
    ],
)
def test_emissions_bad_input(tmp_path: Path, row: str, message: str) -> None:
    p = tmp_path / "h.csv"
    p.write_text(f"{HEADER}\n{row}\n")
    r = run("emissions", "--housings", str(p), "--format", "json")
    assert r.exit_code == 2 and r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1
    assert str(p) in r.stderr
    import re

    assert re.search(message, r.stderr), r.stderr


def test_emissions_bad_header(tmp_path: Path) -> None:
    p = tmp_path / "h.csv"
    p.write_text("farm,code\nf,A1.100\n")
    r = run("emissions", "--housings", str(p))
    assert r.exit_code == 2 and "missing column(s)" in r.stderr


def test_vbr_json_contract() -> None:
    """Synthetic map (examples/nitrogen/make_map.py), budget €6,000,000, stop at first misfit:
    round 1 by time: V002 (1.5 m, exactly 1,000 m) 1.5; V001 (3 m) 4.5; V004 (0.9 m) 5.4;
    round 2 by €/kg: V007 200 €/kg (0.1 m) 5.5; V003 250 €/kg (1 m) → 6.5 > 6: stop."""
    r = run(
        "vbr",
        "--applications",
        str(EXAMPLES / "applications.csv"),
        "--areas",
        str(EXAMPLES / "areas.geojson"),
        "--budget",
        "6000000",
        "--format",
        "json",
    )
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert list(d[0]) == [
        "application_id",
        "round",
        "rank",
        "distance_m",
        "eur_per_kg",
        "granted",
        "cumulative_eur",
    ]
    assert [x["application_id"] for x in d] == [
        "V002",
        "V001",
        "V004",
        "V007",
        "V003",
        "V006",
        "V005",
    ]
    assert [x["granted"] for x in d] == [True, True, True, True, False, False, False]
    assert d[3]["cumulative_eur"] == 5500000 and d[0]["distance_m"] == 1000.00


def test_vbr_skip_mode() -> None:
    r = run(
        "vbr",
        "--applications",
        str(EXAMPLES / "applications.csv"),
        "--areas",
        str(EXAMPLES / "areas.geojson"),
        "--budget",
        "6000000",
        "--mode",
        "skip",
        "--format",
        "json",
    )
    d = {x["application_id"]: x for x in json.loads(r.stdout)}
    assert d["V006"]["granted"] and d["V006"]["cumulative_eur"] == 6000000  # 5.5 + 0.5


def test_vbr_bad_budget_and_mode() -> None:
    base = [
        "vbr",
        "--applications",
        str(EXAMPLES / "applications.csv"),
        "--areas",
        str(EXAMPLES / "areas.geojson"),
    ]
    r = run(*base, "--budget", "1e6")
    assert r.exit_code == 2 and "--budget" in r.stderr and r.stdout == ""
    r = run(*base, "--mode", "random")
    assert r.exit_code == 2 and "--mode" in r.stderr


def test_budget_commands(tmp_path: Path) -> None:
    r = run("budget", "--check", "--format", "json")
    assert r.exit_code == 0 and all(c["ok"] for c in json.loads(r.stdout))
    r = run("budget", "--format", "csv")
    assert "brede_vrijwillige_beeindigingsregeling,Brede vrijwillige" in r.stdout
    p = tmp_path / "c.csv"
    p.write_text("kind,line,amount_eur_m,description\nincidenteel,mest,-1,x\n")
    r = run("budget", "--commitments", str(p))
    assert r.exit_code == 2 and "field 'amount_eur_m'" in r.stderr


def test_sectors_and_monitor(tmp_path: Path) -> None:
    r = run("sectors", "--format", "json")
    d = {x["sector"]: x for x in json.loads(r.stdout)}
    assert d["landbouw"]["target_2035_kt"] == 63.974 and d["industrie"]["target_2035_kt"] is None
    p = tmp_path / "o.csv"
    p.write_text("sector,substance,year,kt\nlandbouw,nh3,2027,90\n")
    r = run("monitor", "--observed", str(p), "--format", "json")
    assert json.loads(r.stdout)[0]["status"] == "behind"
    p.write_text("sector,substance,year,kt\nlandbouw,nh3,27,90\n")
    r = run("monitor", "--observed", str(p))
    assert r.exit_code == 2 and "field 'year'" in r.stderr


def test_norms_command(tmp_path: Path) -> None:
    h = tmp_path / "h.csv"
    h.write_text(f"{HEADER}\nm,A1.100,100,,,\n")
    o = tmp_path / "o.csv"
    o.write_text("farm_id,year,nh3_kg\nm,2027,1100\nm,2035,800\n")
    r = run(
        "norms",
        "--housings",
        str(h),
        "--method",
        "proportional",
        "--observed",
        str(o),
        "--avoided-cost",
        "10",
        "--format",
        "json",
    )
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)[0]
    assert d["norm_kg"] == 754 and d["history"][1]["fine_eur"] == 690
    r = run("norms", "--housings", str(h), "--method", "magic")
    assert r.exit_code == 2
