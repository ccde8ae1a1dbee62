"""Farm KPIs (issue #5, "Farm emissions", 4th bullet): kg NH3 per hectare (NH-49) and GHG from
user-supplied per-animal factors (NH-50, NH-51). Hand-worked arithmetic; bad input as often as
good input."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from keten.cli.nitrogen import app
from keten.core.errors import InputError, RuleError
from keten.core.params import load_set
from keten.io.nitrogen_files import load_catalogue, read_farms, read_ghg_factors, read_housings
from keten.nitrogen import DEFAULT_SET, DOMAIN
from keten.nitrogen.catalogue import Catalogue
from keten.nitrogen.emissions import Housing, farm_emissions
from keten.nitrogen.kpis import GhgFactor, GhgFactors, display, farm_kpis, per_hectare

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "nitrogen"
HOUSINGS = EXAMPLES / "housings.csv"
FARMS = EXAMPLES / "farms.csv"
GHG = EXAMPLES / "ghg_factors.csv"
HEADER = "farm_id,housing_code,animals,ef_nh3,traditional_ef_nh3,additional"
runner = CliRunner()


def run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args))


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(load_set(DOMAIN, DEFAULT_SET))


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def factors(**kg: str) -> GhgFactors:
    return GhgFactors(
        {c: GhgFactor(c, Decimal(v), "test value", i + 1) for i, (c, v) in enumerate(kg.items())},
        "test.csv",
    )


# ------------------------------------------------------------------------------ arithmetic


def test_per_hectare_hand_worked(catalogue: Catalogue) -> None:
    # melkvee-1: 100 × 13,0 + 40 × 4,4 × 0,75 = 1432 kg; 1432 / 40 ha = 35.8 kg/ha (NH-49)
    rows = read_housings(HOUSINGS, catalogue)
    farms = farm_emissions(rows, catalogue, 2025)
    kpis = farm_kpis(farms, rows, catalogue, {"melkvee-1": Decimal(40)})
    assert kpis[0].nh3_kg_per_ha == Decimal("35.8")
    assert kpis[0].hectares == Decimal(40)


def test_per_hectare_exact_and_display() -> None:
    # 2160 / 12.5 = 172.8 exactly; 270 / 8 = 33.75; 1 / 3 keeps 60 digits, shown 0.33 (NH-49)
    assert per_hectare(Decimal(2160), Decimal("12.5")) == Decimal("172.8")
    assert per_hectare(Decimal(270), Decimal(8)) == Decimal("33.75")
    third = per_hectare(Decimal(1), Decimal(3))
    assert str(third) == "0." + "3" * 60
    assert display(third) == Decimal("0.33")
    assert display(Decimal("6666.666")) == Decimal("6666.67")
    assert display(Decimal("0.125")) == Decimal("0.13")  # half up, display only


@pytest.mark.parametrize("ha", ["0", "-1"])
def test_per_hectare_refuses_zero_and_negative(ha: str) -> None:
    with pytest.raises(RuleError, match="greater than 0"):
        per_hectare(Decimal(10), Decimal(ha))


def test_missing_farm_gets_no_kpi_and_a_note(catalogue: Catalogue) -> None:
    rows = read_housings(HOUSINGS, catalogue)
    farms = farm_emissions(rows, catalogue, 2025)
    kpis = farm_kpis(farms, rows, catalogue, {"melkvee-1": Decimal(40)}, area_file="f.csv")
    varkens = kpis[1]
    assert varkens.nh3_kg_per_ha is None and varkens.hectares is None  # never 0
    assert varkens.notes == [
        "no hectares for farm varkens-2 in f.csv: per-hectare KPIs not computed (NH-49)"
    ]
    assert varkens.to_dict()["nh3_kg_per_ha"] is None


def test_ghg_sum_hand_worked(catalogue: Catalogue) -> None:
    # melkvee-1: Σ animals × factor = 100 × 3000 (A1) + 40 × 1000 (A3) = 340000 kg CO2e;
    # per hectare 340000 / 40 = 8500 (NH-49, NH-50)
    rows = read_housings(HOUSINGS, catalogue)
    farms = farm_emissions(rows, catalogue, 2025)
    ghg = read_ghg_factors(GHG, catalogue)
    kpis = farm_kpis(farms, rows, catalogue, read_farms(FARMS), ghg)
    assert kpis[0].ghg_kg_co2e == Decimal(340000)
    assert kpis[0].ghg_by_housing == [Decimal(300000), Decimal(40000)]
    assert kpis[0].ghg_kg_co2e_per_ha == Decimal(8500)
    # varkens-2..4: 1000 × 200 (D3) = 200000; varkens-4 per ha 200000 / 30 = 6666.66…
    assert [k.ghg_kg_co2e for k in kpis[1:4]] == [Decimal(200000)] * 3
    assert kpis[3].ghg_kg_co2e_per_ha is not None
    assert display(kpis[3].ghg_kg_co2e_per_ha) == Decimal("6666.67")
    d = kpis[0].to_dict()
    assert d["ghg_source"] == "user-supplied"


def test_ghg_decimals_exact(catalogue: Catalogue) -> None:
    # 3 × 0.000001 + 7 × 123.456789 = 0.000003 + 864.197523 = 864.197526 (no float drift)
    rows = [
        Housing("f", 3, "A1.100"),
        Housing("f", 7, "HA3.100"),  # H alias resolves to category A3 (NH-02)
    ]
    farms = farm_emissions(rows, catalogue, 2025)
    k = farm_kpis(farms, rows, catalogue, None, factors(A1="0.000001", A3="123.456789"))[0]
    assert k.ghg_kg_co2e == Decimal("864.197526")
    assert "hectares" not in k.to_dict() and "ghg_kg_co2e_per_ha" not in k.to_dict()


def test_ghg_unknown_category_names_it(catalogue: Catalogue) -> None:
    rows = [Housing("f", 10, "D3.100")]
    farms = farm_emissions(rows, catalogue, 2025)
    with pytest.raises(RuleError) as exc:
        farm_kpis(farms, rows, catalogue, None, factors(A1="1"))
    assert str(exc.value) == (
        "no GHG factor for animal category D3 (farm f, housing D3.100) in test.csv"
    )


def test_ghg_custom_housing_not_computed(catalogue: Catalogue) -> None:
    # NH-51: a custom housing has no animal category → no GHG for the farm, with a note
    rows = [Housing("f", 10, "A1.100"), Housing("f", 5, None, Decimal("2"))]
    farms = farm_emissions(rows, catalogue, 2025)
    k = farm_kpis(farms, rows, catalogue, {"f": Decimal(2)}, factors(A1="1"))[0]
    assert k.ghg_kg_co2e is None and k.ghg_kg_co2e_per_ha is None
    assert k.ghg_by_housing == [Decimal(10), None]
    assert "custom housing" in k.notes[0] and "NH-51" in k.notes[0]
    assert k.nh3_kg_per_ha == Decimal(70)  # NH3 is still computed: (10 × 13 + 5 × 2) / 2


def test_trace_has_the_new_steps(catalogue: Catalogue) -> None:
    rows = read_housings(HOUSINGS, catalogue)
    farms = farm_emissions(rows, catalogue, 2025, explain=True)
    farm_kpis(farms, rows, catalogue, read_farms(FARMS), read_ghg_factors(GHG, catalogue))
    assert farms[0].trace is not None
    steps = {str(s.label): s for s in farms[0].trace.steps}  # the English text (a msg)
    per_ha = steps["melkvee-1: NH3 per hectare"]
    assert (str(per_ha.formula), per_ha.result, per_ha.ref) == (
        "nh3_kg / hectares = 1432 / 40",
        "35.8",
        "NH-49",
    )
    total = steps["melkvee-1: GHG total"]
    assert str(total.formula) == "Σ animals × factor = 100 × 3000 + 40 × 1000"
    assert total.result == "340000"
    assert "user-supplied" in total.ref and "assumption" in total.ref
    row = steps["melkvee-1 A1.100: GHG (category A1)"]
    assert "EXAMPLE ONLY" in str(row.formula) and "row 1" in str(row.formula)


# ------------------------------------------------------------------------------ file readers


def test_read_farms_ok(tmp_path: Path) -> None:
    p = write(tmp_path, "f.csv", "farm_id,hectares\na,40\nb,12,5\n")
    with pytest.raises(InputError, match="row 2: has 3 fields"):  # Dutch comma needs quotes
        read_farms(p)
    p = write(tmp_path, "f.csv", 'farm_id,hectares\na,40\nb,"12,5"\n')
    assert read_farms(p) == {"a": Decimal(40), "b": Decimal("12.5")}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("a,0\n", "row 1, field 'hectares': must be greater than 0, got 0"),
        ("a,-3\n", "row 1, field 'hectares': must be greater than 0, got -3"),
        ("a,\n", "row 1, field 'hectares': is empty"),
        ("a,ten\n", "row 1, field 'hectares': not a number"),
        ("a,1e3\n", "row 1, field 'hectares': not a number"),
        ("a,1.1234567\n", "row 1, field 'hectares': not a number"),
        ("a,40\na,41\n", "row 2, field 'farm_id': farm 'a' given twice"),
        (",40\n", "row 1, field 'farm_id': is empty"),
    ],
)
def test_read_farms_errors(tmp_path: Path, body: str, expected: str) -> None:
    p = write(tmp_path, "f.csv", "farm_id,hectares\n" + body)
    with pytest.raises(InputError) as exc:
        read_farms(p)
    assert str(exc.value).startswith(f"{p}, {expected}")
    assert "\n" not in str(exc.value)


def test_read_farms_bad_header(tmp_path: Path) -> None:
    p = write(tmp_path, "f.csv", "farm,ha\na,1\n")
    with pytest.raises(InputError, match="missing column"):
        read_farms(p)


def test_read_ghg_factors_ok(tmp_path: Path, catalogue: Catalogue) -> None:
    p = write(
        tmp_path,
        "g.csv",
        "animal_category,kg_co2e_per_animal,source\na 1,2500.5,my study\nD3,0,none\n",
    )
    g = read_ghg_factors(p, catalogue)
    assert g.factors["A1"].kg_co2e_per_animal == Decimal("2500.5")
    assert g.factors["A1"].source == "my study" and g.factors["A1"].row == 1
    assert g.factors["D3"].kg_co2e_per_animal == 0
    assert g.file == str(p) and g.status == "user-supplied"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Z9,1,s\n", "row 1, field 'animal_category': unknown animal category 'Z9'"),
        (",1,s\n", "row 1, field 'animal_category': is empty"),
        ("A1,1,s\nA1,2,s\n", "row 2, field 'animal_category': animal category A1 given twice"),
        ("A1,-1,s\n", "row 1, field 'kg_co2e_per_animal': must not be negative"),
        ("A1,abc,s\n", "row 1, field 'kg_co2e_per_animal': not a number"),
        ("A1,,s\n", "row 1, field 'kg_co2e_per_animal': is empty"),
        ("A1,1,\n", "row 1, field 'source': is empty"),
    ],
)
def test_read_ghg_factors_errors(
    tmp_path: Path, catalogue: Catalogue, body: str, expected: str
) -> None:
    p = write(tmp_path, "g.csv", "animal_category,kg_co2e_per_animal,source\n" + body)
    with pytest.raises(InputError) as exc:
        read_ghg_factors(p, catalogue)
    assert str(exc.value).startswith(f"{p}, {expected}")


# ------------------------------------------------------------------------------ CLI


def test_cli_json_new_fields_old_fields_unchanged() -> None:
    old = json.loads(run("emissions", "--housings", str(HOUSINGS), "--format", "json").stdout)
    r = run(
        "emissions",
        "--housings",
        str(HOUSINGS),
        "--farms",
        str(FARMS),
        "--ghg-factors",
        str(GHG),
        "--format",
        "json",
    )
    assert r.exit_code == 0, r.output
    new = json.loads(r.stdout)
    for o, n in zip(old, new, strict=True):
        assert {k: n[k] for k in o} == o  # every old field, same value
    assert set(new[0]) - set(old[0]) == {
        "hectares",
        "nh3_kg_per_ha",
        "ghg_kg_co2e",
        "ghg_source",
        "ghg_kg_co2e_per_ha",
        "kpi_notes",
    }
    assert new[0]["nh3_kg_per_ha"] == 35.8  # 1432 / 40
    assert new[0]["ghg_kg_co2e"] == 340000 and new[0]["ghg_kg_co2e_per_ha"] == 8500
    assert new[0]["ghg_source"] == "user-supplied"
    assert new[2]["nh3_kg_per_ha"] == 33.75  # 270 / 8
    assert new[1]["ghg_kg_co2e_per_ha"] == 16000  # 200000 / 12.5
    assert new[2]["ghg_kg_co2e_per_ha"] == 25000  # 200000 / 8
    # varkens-4: 1350 / 30 = 45; 200000 / 30 = 6666.666… exact to 60 digits in JSON
    assert new[3]["nh3_kg_per_ha"] == 45
    assert '"ghg_kg_co2e_per_ha": 6666.6666666666666666666' in r.stdout
    # eigen-5: no hectares row, custom housing → absent (null) with notes, never 0
    assert new[4]["nh3_kg_per_ha"] is None and new[4]["ghg_kg_co2e"] is None
    assert len(new[4]["kpi_notes"]) == 2
    assert "no hectares for farm eigen-5" in r.stderr
    assert "user-supplied factors" in r.stderr


def test_cli_json_without_options_has_no_new_fields() -> None:
    r = run("emissions", "--housings", str(HOUSINGS), "--format", "json")
    assert set(json.loads(r.stdout)[0]) == {"farm_id", "nh3_kg", "housings"}


def test_cli_farms_only() -> None:
    r = run("emissions", "--housings", str(HOUSINGS), "--farms", str(FARMS), "--format", "json")
    d = json.loads(r.stdout)[1]
    assert d["nh3_kg_per_ha"] == 172.8  # 2160 / 12.5
    assert "ghg_kg_co2e" not in d and "ghg_source" not in d


def test_cli_table_shows_rounded_kpis() -> None:
    r = run(
        "emissions", "--housings", str(HOUSINGS), "--farms", str(FARMS), "--ghg-factors", str(GHG)
    )
    assert r.exit_code == 0, r.output
    assert "35.8" in r.stdout and "6666.67" in r.stdout and "n/a" in r.stdout
    assert "user-supplied" in r.stdout


def test_cli_csv_adds_ghg_columns() -> None:
    r = run("emissions", "--housings", str(HOUSINGS), "--ghg-factors", str(GHG), "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert list(rows[0]) == [*HEADER.split(","), "nh3_kg", "ghg_kg_co2e", "ghg_source"]
    assert rows[0]["ghg_kg_co2e"] == "300000" and rows[0]["nh3_kg"] == "1300"
    assert rows[5]["ghg_kg_co2e"] == ""  # custom housing (NH-51)


def test_cli_explain_shows_formulas() -> None:
    r = run(
        "emissions",
        "--housings",
        str(HOUSINGS),
        "--farms",
        str(FARMS),
        "--ghg-factors",
        str(GHG),
        "--format",
        "json",
        "--explain",
    )
    steps = json.loads(r.stdout)[0]["explain"]["steps"]
    formulas = [s["formula"] for s in steps]
    assert "nh3_kg / hectares = 1432 / 40" in formulas
    assert "Σ animals × factor = 100 × 3000 + 40 × 1000" in formulas


@pytest.mark.parametrize(
    ("farms", "ghg", "expected"),
    [
        ("farm_id,hectares\nmelkvee-1,0\n", None, "f.csv, row 1, field 'hectares': must be"),
        ("farm_id,hectares\nmelkvee-1,-40\n", None, "f.csv, row 1, field 'hectares': must be"),
        ("farm_id,hectares\na,1\na,2\n", None, "f.csv, row 2, field 'farm_id': farm 'a'"),
        ("farm_id,hectares\na,1x\n", None, "f.csv, row 1, field 'hectares': not a number"),
        (
            None,
            "animal_category,kg_co2e_per_animal,source\nA1,1,s\n",
            "no GHG factor for animal category A3 (farm melkvee-1, housing A3.100)",
        ),
        (
            None,
            "animal_category,kg_co2e_per_animal,source\nQ7,1,s\n",
            "g.csv, row 1, field 'animal_category': unknown animal category 'Q7'",
        ),
    ],
)
def test_cli_errors_one_line_exit_2(
    tmp_path: Path, farms: str | None, ghg: str | None, expected: str
) -> None:
    args = ["emissions", "--housings", str(HOUSINGS), "--format", "json"]
    if farms is not None:
        args += ["--farms", str(write(tmp_path, "f.csv", farms))]
    if ghg is not None:
        args += ["--ghg-factors", str(write(tmp_path, "g.csv", ghg))]
    r = run(*args)
    assert r.exit_code == 2
    assert r.stdout == ""
    assert expected in r.stderr
    assert r.stderr.count("\n") == 1


def test_cli_missing_farms_file(tmp_path: Path) -> None:
    r = run("emissions", "--housings", str(HOUSINGS), "--farms", str(tmp_path / "none.csv"))
    assert r.exit_code == 2 and "file not found" in r.stderr and r.stdout == ""


def test_cli_warns_about_farms_without_housings(tmp_path: Path) -> None:
    p = write(tmp_path, "f.csv", "farm_id,hectares\nmelkvee-1,40\nelders,10\n")
    r = run("emissions", "--housings", str(HOUSINGS), "--farms", str(p), "--format", "json")
    assert r.exit_code == 0
    assert "lists farms without housings: elders" in r.stderr


def test_housing_file_with_h_alias_and_per_ha(tmp_path: Path) -> None:
    # 3 × 13,0 (HA1.100 = A1.100, NH-02) = 39 kg over 1.5 ha = 26 kg/ha
    h = write(tmp_path, "h.csv", f"{HEADER}\nx,HA1.100,3,,,\n")
    f = write(tmp_path, "f.csv", "farm_id,hectares\nx,1.5\n")
    r = run("emissions", "--housings", str(h), "--farms", str(f), "--format", "json")
    assert json.loads(r.stdout)[0]["nh3_kg_per_ha"] == 26
