"""Defects found in the fresh-eyes audit of ``keten footprint`` (docs/footprint.md), each pinned
by a test that fails without its fix. Run in-process with CliRunner against the footprint app."""

from __future__ import annotations

import json
from pathlib import Path

from test_footprint_cli import EX, TINY, bad, ok, run


def scope3_args(tmp_path: Path) -> list[str]:
    jansen = tmp_path / "jansen.json"
    ok(
        *("pact", "export", "--footprints", str(EX / "pcf.csv")),
        *("--company-name", "Jansen", "--company-id", "urn:kvk:12345678", "--out", str(jansen)),
    )
    return [
        *("scope3", "--purchases", str(EX / "purchases.csv"), "--mrio", TINY),
        *("--pact", str(jansen), "--deflators", str(EX / "deflators.csv")),
    ]


# ----------------------------------------------------------------------------- scope 3.1 output


def test_scope3_totals_table_is_readable(tmp_path: Path) -> None:
    """The guide's example: primary-data share (9,252.5 + 400) / 922,652.5 × 100 = 1.04617 %
    and DQR (850,000·4.5 + 48,000·4.5 + 12,000·3.5 + 9,252.5·1.5 + 3,400·3) / 922,652.5 =
    4,107,078.75 / 922,652.5 = 4.45138. The table showed both as 50-digit decimals cut off by
    "…"; it shows 6 significant digits (JSON keeps full precision)."""
    out = ok(*scope3_args(tmp_path))
    totals = out[out.index("Totals") :]
    assert "922652.5" in totals
    assert "1.04617" in totals and "1.046168519" not in totals
    assert "4.45138" in totals and "4.451382020" not in totals
    assert "…" not in totals


def test_scope3_explain_in_table(tmp_path: Path) -> None:
    """docs: "`--explain` adds every step and the parameters used with their sources and file
    hashes" — the table format ignored it."""
    plain = ok(*scope3_args(tmp_path))
    out = ok(*scope3_args(tmp_path), "--explain")
    assert "Explanation" not in plain
    assert "Explanation" in out and "parameters used" in out and "sha256:" in out
    assert "footprint.scope3.dqr.spend_based" in out


def test_scope3_explain_with_csv_is_refused(tmp_path: Path) -> None:
    line = bad(*scope3_args(tmp_path), "--format", "csv", "--explain")
    assert "--explain" in line


# ----------------------------------------------------------------------------- PACT export


def test_pact_export_refuses_two_rows_with_one_id(tmp_path: Path) -> None:
    """FP-32: id = uuid5(company | product | reference start). Two rows with the same product and
    reference start gave one file with two footprints of the same id, which `pact validate` of
    the same tool then refused ("duplicate footprint id")."""
    lines = (EX / "pcf.csv").read_text(encoding="utf-8").splitlines()
    csv = tmp_path / "pcf.csv"
    csv.write_text("\n".join([lines[0], lines[1], lines[1]]) + "\n", encoding="utf-8")
    out = tmp_path / "out.json"
    line = bad(
        *("pact", "export", "--footprints", str(csv), "--company-name", "J"),
        *("--company-id", "urn:kvk:1", "--out", str(out)),
    )
    assert line.startswith(f"error: {csv}, row 2, field 'product_id': ")
    assert "row 1" in line
    assert not out.exists()


def test_pact_export_out_unwritable(tmp_path: Path) -> None:
    """`--out` a folder or in a missing folder gave a traceback (exit 1)."""
    for target in (tmp_path, tmp_path / "missing" / "o.json"):
        line = bad(
            *("pact", "export", "--footprints", str(EX / "pcf.csv"), "--company-name", "J"),
            *("--company-id", "urn:kvk:1", "--out", str(target)),
        )
        assert line.startswith(f"error: {target}: cannot write")


def test_pact_export_bad_created_names_the_option() -> None:
    """A bad `--created` was reported as row 1 of the CSV."""
    line = bad(
        *("pact", "export", "--footprints", str(EX / "pcf.csv"), "--company-name", "J"),
        *("--company-id", "urn:kvk:1", "--created", "yesterday"),
    )
    assert line.startswith("error: field '--created': ")
    assert "pcf.csv" not in line


def test_pact_files_that_are_folders(tmp_path: Path) -> None:
    assert bad("pact", "validate", str(tmp_path)) == f"error: {tmp_path}: is a folder, not a file"


# ----------------------------------------------------------------------------- leakage


def test_leakage_bad_threshold_option_is_not_blamed_on_the_file() -> None:
    sc = str(EX / "scenario.yaml")
    line = bad("leakage", "--mrio", TINY, "--scenario", sc, "--threshold", "-1")
    assert "--threshold" in line and "scenario.yaml" not in line


def test_leakage_scenario_folder(tmp_path: Path) -> None:
    line = bad("leakage", "--mrio", TINY, "--scenario", str(tmp_path))
    assert line == f"error: {tmp_path}: is a folder, not a file"


# ----------------------------------------------------------------------------- national


def test_target_before_every_year_names_the_targets_file(tmp_path: Path) -> None:
    targets = tmp_path / "targets.csv"
    targets.write_text("year,value,scope\n2030,242,total\n2010,200,total\n", encoding="utf-8")
    line = bad(
        *("national", "--mrio", TINY, "--region", "NL", "--extension", "emissions"),
        *("--stressor", "GHG", "--targets", str(targets)),
    )
    assert line.startswith(f"error: {targets}, row 2, field 'year': ")


def test_distance_table_is_rounded_like_the_others() -> None:
    """Distance to the 2030 abroad target: (210 − 150) / 210 × 100 = 28.5714 %; the table
    printed 28.57142857142857 while every other table shows 6 significant digits."""
    out = ok(
        *("national", "--mrio", TINY, "--region", "NL", "--extension", "emissions"),
        *("--stressor", "GHG", "--targets", str(EX / "targets.csv")),
    )
    assert "28.5714" in out and "28.57142857" not in out
    data = json.loads(
        ok(
            *("national", "--mrio", TINY, "--region", "NL", "--extension", "emissions"),
            *("--stressor", "GHG", "--targets", str(EX / "targets.csv"), "--format", "json"),
        )
    )
    assert data["targets"][1]["distance_pct"] == 60 / 210 * 100


def test_scope3_explain_shows_the_hybrid_sum(tmp_path: Path) -> None:
    """Li, castings (hybrid, FP-24): 400 kg supplier scope 1+2 + 1,000 EUR × M_up[CN, goods] 3
    = 400 + 3,000 = 3,400 kg CO2e. The explanation showed the 3,000 but never the 3,400."""
    data = json.loads(ok(*scope3_args(tmp_path), "--format", "json", "--explain"))
    steps = {s["label"]: s for s in data["explain"]["steps"]}
    hybrid = steps["row 5 Li/castings (hybrid)"]
    assert hybrid["formula"] == "400 kg supplier scope 1+2 + 3000 kg upstream"
    assert hybrid["result"] == "3400 kg CO2e" and hybrid["ref"] == "FP-24"
    assert [ln["kg_co2e"] for ln in data["lines"] if ln["product"] == "castings"] == [3400]


def test_mrio_that_is_a_plain_file() -> None:
    """A CSV given as --mrio was handed to pymrio, which answered about a missing
    '<file>/file_parameters.json' inside the CSV."""
    csv = str(EX / "groups.csv")
    line = bad("accounts", "--mrio", csv, "--extension", "emissions")
    assert line == (
        f"error: {csv}: is neither a folder nor a .zip (give pymrio-test, a folder or a .zip)"
    )


def test_scope3_lists_only_the_dqr_defaults_its_lines_use(tmp_path: Path) -> None:
    """Audit: the note of values not from an authoritative source named all four default
    data-quality ratings (FP-25), also when every line is spend-based. A file of spend lines
    uses only ``footprint.scope3.dqr.spend_based``; the guide's example, which uses all four
    methods, still names all four."""
    lines = (EX / "purchases.csv").read_text(encoding="utf-8").splitlines()
    header, method = lines[0], lines[0].split(",").index("method")
    spend = [ln for ln in lines[1:] if ln.split(",")[method] == "spend"]
    assert spend
    only_spend = tmp_path / "spend.csv"
    only_spend.write_text("\n".join([header, *spend]) + "\n", encoding="utf-8")
    code, _, err = run(
        "scope3", "--purchases", str(only_spend), "--mrio", TINY,
        "--deflators", str(EX / "deflators.csv"),
    )  # fmt: skip
    assert code == 0, err
    assert "footprint.scope3.dqr.spend_based" in err
    for other in ("average_data", "supplier_specific", "dqr.hybrid"):
        assert other not in err, (other, err)
    code, _, err = run(*scope3_args(tmp_path))
    assert code == 0 and all(
        f"footprint.scope3.dqr.{n}" in err
        for n in ("spend_based", "average_data", "supplier_specific", "hybrid")
    ), err
