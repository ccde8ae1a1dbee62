"""``keten footprint …`` as a public contract (issue 7), run in-process with CliRunner against
the footprint app; examples/footprint/ holds the input files of docs/footprint.md."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pymrio
import pytest
from footprint_pactdocs import doc
from typer.testing import CliRunner

from keten.cli.footprint import app

EX = Path(__file__).resolve().parents[2] / "examples" / "footprint"
TINY = str(EX / "tiny-mrio")


def run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(app, list(args))
    return r.exit_code, r.stdout, r.stderr


def ok(*args: str) -> str:
    code, out, err = run(*args)
    assert code == 0, err
    return out


def bad(*args: str) -> str:
    code, out, err = run(*args)
    assert code == 2, (out, err)
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    return lines[0]


def test_accounts_json_contract_against_pymrio() -> None:
    data = json.loads(
        ok("accounts", "--mrio", "pymrio-test", "--extension", "emissions", "--format", "json")
    )
    assert set(data) == {"stressors", "regions"}
    assert data["stressors"] == ["emission_type1/air", "emission_type2/water"]
    io = pymrio.load_test()
    io.calc_all()
    e = io.emissions
    for r, tables in data["regions"].items():
        assert set(tables) == {"production", "consumption", "imports", "exports"}
        for key, frame in (
            ("production", e.D_pba_reg),
            ("consumption", e.D_cba_reg),
            ("imports", e.D_imp_reg),
            ("exports", e.D_exp_reg),
        ):
            for i, st in enumerate(data["stressors"]):
                assert tables[key][st] == pytest.approx(float(frame.iloc[i][r]), rel=1e-9)


def test_accounts_tiny_table_and_csv() -> None:
    out = ok("accounts", "--mrio", TINY, "--extension", "emissions", "--format", "csv")
    lines = out.strip().splitlines()
    assert lines[0] == "region,account,stressor,value"
    assert "NL,consumption,GHG,302.5" in lines and "CN,exports,GHG,210.0" in lines
    assert "302.5" in ok("accounts", "--mrio", TINY, "--extension", "emissions")
    data = json.loads(
        ok(
            "accounts",
            "--mrio",
            TINY,
            "--extension",
            "emissions",
            "--format",
            "json",
            "--method",
            "block",
        )
    )
    assert data["regions"]["NL"]["imports"]["GHG"] == pytest.approx(210.0)


def test_multiplier_views() -> None:
    def first(view: str) -> float:
        out = ok(
            "multipliers",
            "--mrio",
            TINY,
            "--extension",
            "emissions",
            "--view",
            view,
            "--format",
            "json",
        )
        return float(json.loads(out)[0]["GHG"])

    assert first("total") == pytest.approx(4.25)
    assert first("upstream") == pytest.approx(3.25)
    assert first("downstream") == pytest.approx(0.25)
    assert "--view" in bad(
        "multipliers", "--mrio", TINY, "--extension", "emissions", "--view", "sideways"
    )


def test_national_with_targets() -> None:
    out = ok(
        "national",
        "--mrio",
        TINY,
        "--region",
        "NL",
        "--extension",
        "emissions",
        "--stressor",
        "GHG",
        "--targets",
        str(EX / "targets.csv"),
        "--groups",
        str(EX / "groups.csv"),
        "--format",
        "json",
    )
    data = json.loads(out)
    (year,) = data["years"]
    assert (year["total"], year["domestic"], year["abroad"]) == pytest.approx((302.5, 92.5, 210))
    assert year["year"] == 2020 and year["by_group"]["products"]["total"] == pytest.approx(272.5)
    t_total, t_abroad = data["targets"]
    assert t_total["distance"] == pytest.approx(60.5) and not t_total["met"]
    assert t_abroad["distance"] == pytest.approx(60.0)
    table = ok(
        "national",
        "--mrio",
        TINY,
        "--region",
        "NL",
        "--extension",
        "emissions",
        "--stressor",
        "GHG",
    )
    assert "By source region" in table and "█" in table
    assert "region" in bad(
        "national",
        "--mrio",
        TINY,
        "--region",
        "BE",
        "--extension",
        "emissions",
        "--stressor",
        "GHG",
    )
    assert "--year" in bad(
        "national",
        "--mrio",
        TINY,
        "--mrio",
        TINY,
        "--year",
        "2020",
        "--region",
        "NL",
        "--extension",
        "emissions",
        "--stressor",
        "GHG",
    )


def test_leakage_example() -> None:
    data = json.loads(
        ok("leakage", "--mrio", TINY, "--scenario", str(EX / "scenario.yaml"), "--format", "json")
    )
    assert data["leakage_rate"] == pytest.approx(2.4) and data["flag"] is True
    data = json.loads(
        ok(
            "leakage",
            "--mrio",
            TINY,
            "--scenario",
            str(EX / "scenario.yaml"),
            "--threshold",
            "3",
            "--format",
            "json",
        )
    )
    assert data["flag"] is False


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("name: x\n", "region"),
        ("region: NL\nstressor: GHG\nchanges: []\n", "changes"),
        ("region: NL\nstressor: GHG\ncolour: red\nchanges: [{}]\n", "colour"),
        (
            "region: NL\nstressor: GHG\nchanges: [{region: NL, sector: goods, kind: output}]\n",
            "changes[0].change",
        ),
        (
            "region: NL\nstressor: GHG\nchanges: [{region: NL, sector: goods, kind: output, "
            "change: ten}]\n",
            "changes[0].change",
        ),
        (
            "region: NL\nstressor: GHG\nchanges: [{region: NL, sector: goods, kind: output, "
            "change: -1, shift: 2}]\n",
            "changes[0].shift",
        ),
        (
            "region: NL\nstressor: GHG\nthreshold: true\nchanges: [{region: NL, sector: goods, "
            "kind: output, change: -1}]\n",
            "threshold",
        ),
        ("[unclosed\n", "YAML"),
    ],
)
def test_bad_scenario_files(tmp_path: Path, text: str, where: str) -> None:
    f = tmp_path / "s.yaml"
    f.write_text(text)
    msg = bad("leakage", "--mrio", TINY, "--scenario", str(f))
    assert where in msg and str(f) in msg


def test_scope3_example() -> None:
    pact = EX / "pact_out.json"
    try:
        ok(
            "pact",
            "export",
            "--footprints",
            str(EX / "pcf.csv"),
            "--company-name",
            "Jansen",
            "--company-id",
            "urn:kvk:12345678",
            "--created",
            "2026-03-01T09:00:00Z",
            "--out",
            str(pact),
        )
        out = ok(
            "scope3",
            "--purchases",
            str(EX / "purchases.csv"),
            "--mrio",
            TINY,
            "--pact",
            str(pact),
            "--deflators",
            str(EX / "deflators.csv"),
            "--format",
            "json",
            "--explain",
        )
    finally:
        pact.unlink(missing_ok=True)
    data = json.loads(out)
    assert data["category_3_1_kg_co2e"] == 922652.5
    assert data["category_4_kg_co2e"] == 300
    assert data["by_method"]["supplier"] == 9252.5
    assert data["explain"]["parameters"][0]["status"] == "assumption"


def test_scope3_errors(tmp_path: Path) -> None:
    msg = bad("scope3", "--purchases", str(EX / "purchases.csv"), "--mrio", TINY)
    assert "row 2" in msg and "price_year" in msg  # no deflator for EUR 2024
    msg = bad("scope3", "--purchases", str(EX / "purchases.csv"), "--mrio", "pymrio-test")
    assert "--price-year" in msg
    msg = bad("scope3", "--purchases", str(tmp_path / "none.csv"))
    assert "not found" in msg


def test_pact_export_validate_import_round_trip(tmp_path: Path) -> None:
    out = ok(
        "pact",
        "export",
        "--footprints",
        str(EX / "pcf.csv"),
        "--company-name",
        "Jansen",
        "--company-id",
        "urn:kvk:12345678",
        "--created",
        "2026-03-01T09:00:00Z",
    )
    data = json.loads(out)["data"]
    assert data[0]["pcf"]["pcfExcludingBiogenicUptake"] == "1850.5"
    f = tmp_path / "out.json"
    f.write_text(out)
    assert "True" in ok("pact", "validate", str(f)) or "true" in ok("pact", "validate", str(f))
    rows = json.loads(ok("pact", "import", str(f), "--format", "json"))
    assert rows[0]["kg_co2e_per_unit"] == 1.8505 and rows[0]["mean_dqr"] == 1.5


def test_pact_invalid_documents(tmp_path: Path) -> None:
    f = tmp_path / "bad.json"
    f.write_text(json.dumps({"data": [doc(pcf__declaredUnitOfMeasurement="tonne")]}))
    msg = bad("pact", "validate", str(f))
    assert "data[0].pcf.declaredUnitOfMeasurement" in msg and str(f) in msg
    f.write_text(json.dumps(doc(companyIds="DELETE")))
    assert "companyIds" in bad("pact", "validate", str(f))
    pcf = tmp_path / "pcf.csv"
    text = (EX / "pcf.csv").read_text().replace(",kilogram,", ",kg,")
    pcf.write_text(text)
    msg = bad(
        "pact",
        "export",
        "--footprints",
        str(pcf),
        "--company-name",
        "J",
        "--company-id",
        "urn:kvk:1",
    )
    assert "row 1" in msg and "declaredUnitOfMeasurement" in msg
    pcf.write_text((EX / "pcf.csv").read_text().replace(",1850.5,1850.5,", ",-1,1850.5,"))
    assert "pcf_excluding_biogenic" in bad(
        "pact",
        "export",
        "--footprints",
        str(pcf),
        "--company-name",
        "J",
        "--company-id",
        "urn:kvk:1",
    )


# ------------------------------------------------------------------ hostile MRIO folders


def _copy(tmp_path: Path) -> Path:
    d = tmp_path / "m"
    shutil.copytree(TINY, d)
    return d


def _triplets(path: Path, rows: list[int], cols: list[int], vals: list[float]) -> None:
    pq.write_table(
        pa.table(
            {
                "row": pa.array(rows, pa.int32()),
                "col": pa.array(cols, pa.int32()),
                "value": pa.array(vals, pa.float64()),
            }
        ),
        path,
    )


def test_hostile_parquet_layouts(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    _triplets(d / "A.parquet", [0, 9], [0, 0], [0.1, 0.2])
    msg = bad("accounts", "--mrio", str(d), "--extension", "emissions")
    assert "A.parquet" in msg and "row 2" in msg and "outside" in msg
    _triplets(d / "A.parquet", [0, 0], [0, 0], [0.1, 0.2])
    assert "duplicate" in bad("accounts", "--mrio", str(d), "--extension", "emissions")
    _triplets(d / "A.parquet", [0], [0], [float("nan")])
    assert "finite" in bad("accounts", "--mrio", str(d), "--extension", "emissions")
    (d / "A.parquet").write_text("not parquet")
    assert "Parquet" in bad("accounts", "--mrio", str(d), "--extension", "emissions")
    (d / "A.parquet").unlink()
    assert "not found" in bad("accounts", "--mrio", str(d), "--extension", "emissions")


def test_hostile_metadata(tmp_path: Path) -> None:
    d = _copy(tmp_path)
    meta = json.loads((d / "keten-mrio.json").read_text())
    for change, word in (
        ({"format": "other"}, "format"),
        ({"version": 9}, "version"),
        ({"regions": []}, "regions"),
        ({"extra": 1}, "extra"),
        ({"year": "2020"}, "year"),
    ):
        (d / "keten-mrio.json").write_text(json.dumps({**meta, **change}))
        assert word in bad("accounts", "--mrio", str(d), "--extension", "emissions")
    (d / "keten-mrio.json").write_text("{")
    assert "JSON" in bad("accounts", "--mrio", str(d), "--extension", "emissions")
    x = np.array([62.5, -40, 130, 20])
    (d / "keten-mrio.json").write_text(json.dumps(meta))
    _triplets(d / "x.parquet", [0, 1, 2, 3], [0, 0, 0, 0], list(x))
    assert "negative" in bad("accounts", "--mrio", str(d), "--extension", "emissions")


def test_unreadable_sources(tmp_path: Path) -> None:
    assert "not found" in bad("accounts", "--mrio", str(tmp_path / "nope"), "--extension", "e")
    (tmp_path / "junk").mkdir()
    assert "pymrio cannot read" in bad(
        "accounts", "--mrio", str(tmp_path / "junk"), "--extension", "e"
    )
    assert "--method" in bad(
        "accounts", "--mrio", TINY, "--extension", "emissions", "--method", "qr"
    )


def test_national_refuses_two_targets_for_the_same_year_and_scope(tmp_path: Path) -> None:
    # FP-45: one target per (year, scope); a second one would make the distance ambiguous.
    targets = tmp_path / "targets.csv"
    targets.write_text("year,value,scope\n2030,200,total\n2030,150,abroad\n2030,210,total\n")
    line = bad(
        "national", "--mrio", TINY, "--region", "NL", "--extension", "emissions",
        "--stressor", "GHG", "--targets", str(targets),
    )  # fmt: skip
    assert line == (
        f"error: {targets}, row 3, field 'year': two targets for 2030 (total): give one per year "
        "and scope (FP-45)"
    )
