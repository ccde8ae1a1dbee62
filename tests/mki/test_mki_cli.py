"""CLI contract of ``keten mki`` (issue #6): command names, JSON fields, one-line errors, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from keten.cli.mki import app

EX = Path(__file__).resolve().parents[2] / "examples" / "mki"
XML = Path(__file__).parent / "data" / "epd_concrete.xml"
runner = CliRunner()


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args))


def test_project_json_contract() -> None:
    res = invoke(
        "project",
        "--project",
        str(EX / "project.csv"),
        "--profiles",
        str(EX / "profiles.csv"),
        "--set",
        "2",
        "--period",
        "100",
        "--date",
        "2025-09-01",
        "--format",
        "json",
    )
    assert res.exit_code == 0, res.stderr
    data = json.loads(res.stdout)
    assert {"mki_eur", "by_module", "by_element", "by_indicator"} <= set(data)
    assert data["mki_eur"] == 34936.9216
    assert data["by_element"]["deklaag"] == 29699.28
    assert "mki.weight.GWP-total" in data["flagged_parameters"]
    assert "module D excluded" in res.stderr


def test_project_include_d_and_explain() -> None:
    res = invoke(
        "project",
        "--project",
        str(EX / "project.csv"),
        "--profiles",
        str(EX / "profiles.csv"),
        "--period",
        "100",
        "--date",
        "2025-09-01",
        "--include-d",
        "--format",
        "json",
        "--explain",
    )
    data = json.loads(res.stdout)
    # D: −10 × 0.116 × 100 m3 = −116 → 34,936.9216 − 116 = 34,820.9216
    assert data["mki_eur"] == 34820.9216
    assert data["by_module"]["D"] == -116
    assert data["explain"]["receipt"]["parameter_set"] == "set-2"
    assert any(s["ref"] == "MKI-07" for s in data["explain"]["steps"])


def test_project_table_and_csv() -> None:
    base = [
        "project",
        "--project",
        str(EX / "project.csv"),
        "--profiles",
        str(EX / "profiles.csv"),
        "--period",
        "100",
        "--date",
        "2025-09-01",
    ]
    table = invoke(*base)
    assert table.exit_code == 0 and "34936.9216" in table.stdout
    out = invoke(*base, "--format", "csv").stdout.splitlines()
    assert out[0] == "breakdown,key,eur"
    assert "element,leuning,2101.9216" in out


def test_project_errors_are_one_line_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "p.csv"
    bad.write_text("element_id,product_id,quantity,service_life_years\ne1,beton-c30,-1,50\n")
    res = invoke("project", "--project", str(bad), "--profiles", str(EX / "profiles.csv"))
    assert res.exit_code == 2
    assert res.stdout == ""
    assert res.stderr.strip().count("\n") == 0
    assert "row 1, field 'quantity': must not be negative" in res.stderr
    res = invoke(
        "project",
        "--project",
        str(EX / "project.csv"),
        "--profiles",
        str(EX / "profiles.csv"),
        "--set",
        "3",
    )
    assert res.exit_code == 2 and "unknown weighting set '3'" in res.stderr
    res = invoke(
        "project",
        "--project",
        str(EX / "project.csv"),
        "--profiles",
        str(EX / "profiles.csv"),
        "--set",
        "1",
    )
    assert res.exit_code == 2 and "it is a set 2 code" in res.stderr
    res = invoke(
        "project",
        "--project",
        str(EX / "project.csv"),
        "--profiles",
        str(EX / "profiles.csv"),
        "--date",
        "2024-01-01",
    )
    assert res.exit_code == 2 and "no value on 2024-01-01" in res.stderr
    res = invoke(
        "project",
        "--project",
        str(EX / "project.csv"),
        "--profiles",
        str(EX / "profiles.csv"),
        "--period",
        "-5",
    )
    assert res.exit_code == 2 and "--period" not in res.stdout


def test_award_json_contract_both_methods() -> None:
    res = invoke(
        "award",
        "--bids",
        str(EX / "bids.csv"),
        "--method",
        "mki-w",
        "--factor",
        "2",
        "--format",
        "json",
    )
    assert res.exit_code == 0, res.stderr
    rows = json.loads(res.stdout)
    # A 1,000,000 + 300,000 = 1,300,000; B 1,050,000 + 200,000 = 1,250,000;
    # C 990,000 + 340,000 = 1,330,000
    assert [(r["bidder"], r["fictitious_price_eur"], r["rank"]) for r in rows] == [
        ("Aannemer B", 1250000, 1),
        ("Aannemer A", 1300000, 2),
        ("Aannemer C", 1330000, 3),
    ]
    assert {"bidder", "price_eur", "mki_eur", "fictitious_price_eur", "rank"} <= set(rows[0])
    res = invoke(
        "award",
        "--bids",
        str(EX / "bids.csv"),
        "--method",
        "bounded",
        "--upper",
        "200000",
        "--lower",
        "100000",
        "--max-discount",
        "80000",
        "--format",
        "json",
        "--explain",
    )
    rows = json.loads(res.stdout)
    # A: 80,000 × 0.5 = 40,000 → 960,000; B: 80,000 → 970,000; C: 80,000 × 0.3 = 24,000 → 966,000
    assert [(r["bidder"], r["fictitious_price_eur"]) for r in rows] == [
        ("Aannemer A", 960000),
        ("Aannemer C", 966000),
        ("Aannemer B", 970000),
    ]
    assert rows[0]["explain"]["steps"][0]["label"] == "bid Aannemer A"
    res = invoke("award", "--bids", str(EX / "bids.csv"), "--method", "mki-w")
    assert res.exit_code == 2 and "needs --factor" in res.stderr and res.stdout == ""


def test_penalty_and_check() -> None:
    res = invoke(
        "penalty",
        "--method",
        "mki-w",
        "--factor",
        "2",
        "--offered",
        "100",
        "--delivered",
        "130",
        "--date",
        "2025-09-01",
        "--format",
        "json",
    )
    assert json.loads(res.stdout)[0]["penalty_eur"] == 90
    res = invoke(
        "check",
        "--batches",
        str(EX / "batches.csv"),
        "--ceilings",
        str(EX / "ceilings.csv"),
        "--format",
        "json",
    )
    assert res.exit_code == 0, res.stderr
    assert [r["result"] for r in json.loads(res.stdout)] == ["pass", "pass", "fail", "pass"]
    res = invoke(
        "check", "--batches", str(EX / "batches.csv"), "--set", "1", "--date", "2025-01-01"
    )
    assert res.exit_code == 2 and "no published ceilings" in res.stderr


def test_import_epd_then_project(tmp_path: Path) -> None:
    res = invoke("import-epd", "--xml", str(XML), "--product-id", "c30", "--unit", "m3")
    assert res.exit_code == 0, res.stderr
    assert res.stdout.splitlines()[0] == "product_id,unit,data_category,module,indicator,value"
    prof = tmp_path / "profiles.csv"
    prof.write_text(res.stdout)
    proj = tmp_path / "project.csv"
    proj.write_text("element_id,product_id,quantity,service_life_years\ne,c30,10,100\n")
    out = invoke(
        "project",
        "--project",
        str(proj),
        "--profiles",
        str(prof),
        "--date",
        "2025-09-01",
        "--format",
        "json",
    )
    assert json.loads(out.stdout)["mki_eur"] == 304.72  # 10 × 30.472 (test_mki_epd)


def test_compare_and_params() -> None:
    res = invoke(
        "compare",
        "--project",
        str(EX / "project.csv"),
        "--variant",
        str(EX / "variant.csv"),
        "--profiles",
        str(EX / "profiles.csv"),
        "--period",
        "100",
        "--date",
        "2025-09-01",
        "--format",
        "json",
    )
    assert res.exit_code == 0, res.stderr
    assert json.loads(res.stdout)["difference_eur"] == -815.9
    res = invoke("params", "--set", "2", "--date", "2025-09-01", "--format", "json")
    rows = {r["name"]: r for r in json.loads(res.stdout)}
    assert rows["mki.weight.GWP-total"]["value"] == 0.116
    assert rows["mki.weight.PM"]["value"] == "—"
