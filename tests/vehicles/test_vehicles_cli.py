"""``keten vehicles …`` and ``keten targets …`` as contracts (issue 8): JSON fields, exit codes,
one-line errors naming file, row and field, nothing on stdout on error.

Hand-computed reference (in-force, cars 2025, TM0 1650.15, a = 0.0144 UNVERIFIED):
A: 3 petrol cars Mt 1650.15 at 110 g/km + 1 BEV Mt 1650.15 → N 4, average 330/4 = 82.5;
   y = 1/4 = 0.25 → factor 1.0; target 93.6 → excess 0.
B: 2 diesel cars Mt 1650.15 at 120 g/km → average 120, y 0 → factor 1.0, target 93.6;
   excess 26.4 → premium 26.4 × 95 × 2 = 5,016.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner
from vehicles_testdata import EEA_HEADER, row, write_csv, write_eea

from keten.cli.vehicles import app, targets_app

RUNNER = CliRunner()
CONTRACT = [
    "manufacturer",
    "registrations",
    "average_emissions",
    "target",
    "zlev_share",
    "zlev_factor",
    "excess",
    "premium_eur",
    "unverified",
]


def run(*args: object, targets: bool = False) -> tuple[int, str, str]:
    r = RUNNER.invoke(targets_app if targets else app, [str(a) for a in args])
    return r.exit_code, r.stdout, r.stderr


def good_rows() -> list[dict[str, str]]:
    return [
        row("A", e="110", r="3"),
        row("A", e="0", ft="electric"),
        row("B", e="120", r="2", ft="diesel"),
    ]


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return write_eea(tmp_path / "eea.csv", good_rows())


def err_ok(code: int, out: str, err: str, *parts: str) -> None:
    assert code == 2, (code, out, err)
    assert out == ""
    if err.startswith("Usage:"):  # typer/click refuses the option before keten runs
        assert not [p for p in parts if p], err
        return
    line = err.strip()
    assert line.startswith("error: ") and "\n" not in line, err
    for p in parts:
        assert p in line, (p, line)


# ----------------------------------------------------------------------------- good input


def test_compliance_json_contract(data: Path) -> None:
    code, out, err = run("compliance", "--data", data, "--year", 2025, "--format", "json")
    assert code == 0, err
    rows = json.loads(out)
    assert [list(r) for r in rows] == [CONTRACT, CONTRACT]
    a, b = rows
    assert (a["manufacturer"], a["registrations"], a["average_emissions"]) == ("A", 4, 82.5)
    assert (a["zlev_share"], a["zlev_factor"], a["target"], a["excess"]) == (0.25, 1, 93.6, 0)
    assert (b["excess"], b["premium_eur"]) == (26.4, 5016)
    assert b["unverified"] == ["vehicles.cars.slope", "vehicles.cars.slope_above_tm0"]
    assert "vehicles.cars.slope" in err  # the note says an unverified value was used


def test_compliance_parquet_same_as_csv(data: Path, tmp_path: Path) -> None:
    import polars as pl

    pq = tmp_path / "eea.parquet"
    pl.read_csv(data).write_parquet(pq)
    a = run("compliance", "--data", data, "--year", 2025, "--format", "json")
    b = run("compliance", "--data", pq, "--year", 2025, "--format", "json")
    assert a[0] == b[0] == 0 and json.loads(a[1]) == json.loads(b[1])


def test_compliance_explain_json_has_trace_and_receipt(data: Path) -> None:
    code, out, _ = run(
        "compliance", "--data", data, "--year", 2025, "--format", "json", "--explain"
    )
    assert code == 0
    ex = json.loads(out)[1]["explain"]
    labels = [s["label"] for s in ex["steps"]]
    assert "reference target" in labels and "premium" in labels
    assert ex["receipt"]["parameter_set"] == "in-force"
    slope = next(p for p in ex["parameters"] if p["name"] == "vehicles.cars.slope")
    assert slope["status"] == "unverified"


def test_compliance_table_and_csv(data: Path) -> None:
    code, out, _ = run("compliance", "--data", data, "--year", 2025)
    assert code == 0 and "5016" in out
    code, out, _ = run("compliance", "--data", data, "--year", 2025, "--format", "csv")
    assert code == 0
    assert out.splitlines()[0] == ",".join(CONTRACT[:-1])
    assert out.splitlines()[2] == "B,2,120.000,93.600,0,1,26.400,5016"


def test_compliance_table_explain(data: Path) -> None:
    code, out, _ = run("compliance", "--data", data, "--year", 2025, "--explain")
    assert code == 0 and "Explanation" in out and "receipt" in out


def test_pool_from_mp(tmp_path: Path) -> None:
    f = write_eea(
        tmp_path / "p.csv", [row("A", e="110", mp="P"), row("B", e="0", mp="P", ft="electric")]
    )
    code, out, _ = run("compliance", "--data", f, "--year", 2025, "--format", "json")
    assert code == 0
    [p] = json.loads(out)
    # 2 cars, average 55; y = 0.5 → factor 1.05; target 93.6 × 1.05 = 98.28
    assert (p["manufacturer"], p["registrations"], p["target"]) == ("P", 2, 98.28)


def test_derogation_file(data: Path, tmp_path: Path) -> None:
    d = write_csv(tmp_path / "d.csv", "manufacturer,year,target\nB,2025,119\n")
    code, out, _ = run(
        "compliance", "--data", data, "--year", 2025, "--derogations", d, "--format", "json"
    )
    assert code == 0
    b = json.loads(out)[1]
    # 120 − 119 = 1 → 1 × 95 × 2 = 190
    assert (b["target"], b["premium_eur"], b["zlev_factor"]) == (119, 190, None)


def test_scenarios_side_by_side(tmp_path: Path) -> None:
    f = write_eea(tmp_path / "s.csv", [row("A", e="20", year="2035", r="10")])
    code, out, _ = run("scenarios", "--data", f, "--year", 2035, "--format", "json")
    assert code == 0
    [a] = json.loads(out)
    s = a["scenarios"]
    assert list(s) == ["in-force", "com-2025-995"]
    # in force 2035: target 0 → excess 20 → 20 × 95 × 10 = 19,000;
    # COM: target 11.01 → excess 8.99 → 8.99 × 95 × 10 = 8,540.5
    assert s["in-force"]["premium_eur"] == 19000
    assert s["com-2025-995"]["target"] == 11.01 and s["com-2025-995"]["premium_eur"] == 8540.5
    code, out, _ = run("scenarios", "--data", f, "--year", 2035, "--format", "csv")
    assert code == 0 and "in-force premium_eur" in out.splitlines()[0]


def test_m1e_and_credits_in_com(tmp_path: Path) -> None:
    f = write_eea(tmp_path / "m.csv", [row("A", e="20", year="2035", r="10")])
    c = write_csv(tmp_path / "c.csv", "manufacturer,year,steel,fuels\nA,2035,5,0\n")
    code, out, _ = run(
        "compliance",
        "--data",
        f,
        "--year",
        2035,
        "--scenario",
        "com-2025-995",
        "--credits",
        c,
        "--format",
        "json",
    )
    assert code == 0
    # 20 − 5 = 15 → 15 − 11.01 = 3.99 → 3.99 × 95 × 10 = 3,790.5
    assert json.loads(out)[0]["premium_eur"] == 3790.5


def test_m1e_list(tmp_path: Path) -> None:
    f = write_eea(
        tmp_path / "m.csv",
        [row("A", e="100", r="10"), row("A", e="0", ft="electric", cn="MINI", r="10")],
    )
    m = write_csv(tmp_path / "m1e.csv", "manufacturer,commercial_name\nA,MINI\n")
    code, out, _ = run(
        "compliance",
        "--data",
        f,
        "--year",
        2025,
        "--scenario",
        "com-2025-995",
        "--m1e",
        m,
        "--format",
        "json",
    )
    assert code == 0
    # (1000 + 0.3 × 0)/(20 + 0.3 × 10) = 1000/23 = 43.478…
    assert json.loads(out)[0]["average_emissions"] == 43.478


def test_params_and_generate(tmp_path: Path) -> None:
    code, out, _ = run("params", "--scenario", "com-2025-995", "--year", 2035, "--format", "json")
    assert code == 0 and any(r["name"] == "vehicles.m1e_weight" for r in json.loads(out))
    out_file = tmp_path / "g.parquet"
    code, _, _ = run("generate", "--out", out_file, "--rows", 1000)
    assert code == 0 and out_file.exists()
    code, out, _ = run("compliance", "--data", out_file, "--year", 2025, "--format", "json")
    assert code == 0 and sum(r["registrations"] for r in json.loads(out)) == 1000


# ----------------------------------------------------------------------------- bad rows (EEA)


@pytest.mark.parametrize(
    ("bad", "reason", "field"),
    [
        (row("C", ft="kerosene"), "unknown fuel type (Ft): 'kerosene'", "Ft"),
        (row("C", mt=""), "missing mass (Mt)", "Mt"),
        (row("C", e="-5"), "negative emissions (Ewltp)", "Ewltp"),
        (row("C", year="2024"), "row of another year (Year): '2024'", "Year"),
        (row("C", mt="heavy"), "mass (Mt) is not a number: 'heavy'", "Mt"),
        (row("C", mt="0"), "mass (Mt) is zero", "Mt"),
        (row("C", e="nan"), "emissions (Ewltp) is not a number: 'nan'", "Ewltp"),
        (row("C", e="inf"), "emissions (Ewltp) is not a number: 'inf'", "Ewltp"),
        (row("C", e="1.2345"), "emissions (Ewltp) has more than 3 decimals: '1.2345'", "Ewltp"),
        (row("C", e="100000"), "emissions (Ewltp) above 10000", "Ewltp"),
        (row("C", r="0"), "registrations (R) is zero", "R"),
        (row("C", r="1.5"), "registrations (R) is not a whole number: '1.5'", "R"),
        (row("C", r=""), "missing registrations (R)", "R"),
        (row("C", r="99999999999"), "registrations (R) above 1e+07", "R"),
        (row(""), "missing manufacturer (Mh)", "Mh"),
        (row("C", ft=""), "missing fuel type (Ft)", "Ft"),
        (row("C", year=""), "missing year (Year)", "Year"),
        (row("C", year="20x5"), "year (Year) is not a whole number: '20x5'", "Year"),
        (row("C", eco="-1"), "negative eco-innovation savings (Erwltp)", "Erwltp"),
    ],
)
def test_bad_row_is_skipped_and_reported(
    tmp_path: Path, bad: dict[str, str], reason: str, field: str
) -> None:
    f = write_eea(tmp_path / "bad.csv", [*good_rows(), bad])
    code, out, err = run(
        "compliance",
        "--data",
        f,
        "--year",
        2025,
        "--format",
        "json",
        "--skipped",
        tmp_path / "skipped.csv",
    )
    assert code == 0
    assert [r["manufacturer"] for r in json.loads(out)] == ["A", "B"]  # C never counted
    assert "1 of 4 rows" in err and f"{reason}: 1 row(s) — rows 4" in err
    skipped = (tmp_path / "skipped.csv").read_text().splitlines()
    assert skipped[0].startswith("row,reason,") and skipped[1].startswith("4,")
    # --strict refuses the file with one line naming file, row and field
    code, out, err = run("compliance", "--data", f, "--year", 2025, "--strict")
    err_ok(code, out, err, str(f), "row 4", f"field '{field}'", reason)


def test_skipped_rows_counted_per_reason(tmp_path: Path) -> None:
    rows = [*good_rows()] + [row("C", ft="kerosene")] * 7 + [row("D", year="2026")] * 2
    f = write_eea(tmp_path / "bad.csv", rows)
    code, _, err = run("compliance", "--data", f, "--year", 2025, "--format", "json")
    assert code == 0
    assert "9 of 12 rows" in err
    assert "unknown fuel type (Ft): 'kerosene': 7 row(s) — rows 4, 5, 6, 7, 8 and 2 more" in err
    assert "row of another year (Year): '2026': 2 row(s) — rows 11, 12" in err


def test_all_rows_bad_is_an_error(tmp_path: Path) -> None:
    f = write_eea(tmp_path / "bad.csv", [row("C", year="2024")])
    code, out, err = run("compliance", "--data", f, "--year", 2025)
    err_ok(code, out, err, "no usable rows for 2025")


# ----------------------------------------------------------------------------- bad files and flags


def test_missing_column(tmp_path: Path) -> None:
    f = write_eea(tmp_path / "h.csv", [row("A")], header=tuple(h for h in EEA_HEADER if h != "Mt"))
    err_ok(*run("compliance", "--data", f, "--year", 2025), "missing column(s) Mt")


def test_duplicate_column(tmp_path: Path) -> None:
    f = write_csv(tmp_path / "h.csv", "Mh,Ft,Mt,Ewltp,R,Year,Mt (kg)\nA,petrol,1,1,1,2025,1\n")
    err_ok(*run("compliance", "--data", f, "--year", 2025), "duplicate column(s) Mt")


def test_eea_unit_suffixes_accepted(tmp_path: Path) -> None:
    f = write_csv(tmp_path / "u.csv", "Mh,Ft,Mt,Ewltp (g/km),R,Year\nA,petrol,1650.15,100,1,2025\n")
    code, out, _ = run("compliance", "--data", f, "--year", 2025, "--format", "json")
    assert code == 0 and json.loads(out)[0]["average_emissions"] == 100


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "empty file"),
        ("latin.csv", "Mh,Ft\xe9\n".encode("latin-1"), "not UTF-8"),
        ("x.xlsx", b"whatever", "expected a .csv or .parquet"),
        ("bad.parquet", b"PAR1 not really", "cannot read"),
    ],
)
def test_bad_files(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    f = tmp_path / name
    f.write_bytes(content)
    err_ok(*run("compliance", "--data", f, "--year", 2025), message)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    err_ok(*run("compliance", "--data", tmp_path / "nope.csv", "--year", 2025), "file not found")
    err_ok(*run("compliance", "--data", tmp_path, "--year", 2025))  # typer refuses a folder


def test_malformed_quotes_csv(tmp_path: Path) -> None:
    f = write_csv(tmp_path / "q.csv", 'Mh,Ft,Mt,Ewltp,R,Year\n"A,petrol,1,1,1,2025\n')
    code, out, err = run("compliance", "--data", f, "--year", 2025)
    assert code == 2 and out == "" and err.startswith("error: ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scenario", "nope"], "unknown parameter set 'nope'"),
        (["--year", "2022"], "no target formula for cars in 2022"),
        (["--year", "2020", "--vans"], "no target formula for vans in 2020"),
        (["--average"], "--average assesses the period 2025–2027: use --year 2027"),
        (["--format", "csv", "--explain"], "--explain goes with --format table or json"),
        (["--format", "xml"], ""),
        (["--year", "abc"], ""),
    ],
)
def test_bad_flags(data: Path, args: list[str], message: str) -> None:
    base = ["compliance", "--data", str(data)]
    if "--year" not in args:
        base += ["--year", "2025"]
    err_ok(*run(*base, *args), message)


def test_average_2027_needs_tm0(tmp_path: Path) -> None:
    f = write_eea(tmp_path / "a.csv", [row("A", year=y) for y in ("2025", "2026", "2027")])
    err_ok(
        *run("compliance", "--data", f, "--year", 2027, "--average"), "vehicles.cars.tm0 is unknown"
    )


def test_average_2027_with_derogations(tmp_path: Path) -> None:
    f = write_eea(
        tmp_path / "a.csv",
        [
            row("A", year="2025", e="135", r="1000"),
            row("A", year="2026", e="126", r="1200"),
            row("A", year="2027", e="127", r="800"),
        ],
    )
    d = write_csv(
        tmp_path / "d.csv", "manufacturer,year,target\nA,2025,130\nA,2026,128\nA,2027,125\n"
    )
    code, out, err = run(
        "compliance",
        "--data",
        f,
        "--year",
        2027,
        "--average",
        "--derogations",
        d,
        "--format",
        "json",
    )
    assert code == 0, err
    [a] = json.loads(out)
    # same numbers as test_three_year_averaging_reg_2025_1214_vh_05
    assert (a["registrations"], a["average_emissions"], a["target"]) == (3000, 129.267, 127.867)
    assert a["premium_eur"] == 399000


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("manufacturer,year,target\nB,2025,abc\n", "row 1, field 'target'"),
        ("manufacturer,year,target\nB,2025,-1\n", "must not be negative"),
        ("manufacturer,year,target\nB,25,100\n", "field 'year': not a year"),
        ("manufacturer,year,target\nB,2025,100\nB,2025,101\n", "row 2, field 'manufacturer'"),
        ("manufacturer,year\nB,2025\n", "missing column(s) target"),
        ("manufacturer,year,target\nZ,2025,100\n", "'Z' has no vehicles in 2025"),
        ("manufacturer,year,target\n,2025,100\n", "field 'manufacturer': is empty"),
    ],
)
def test_bad_derogation_file(data: Path, tmp_path: Path, text: str, message: str) -> None:
    d = write_csv(tmp_path / "d.csv", text)
    err_ok(*run("compliance", "--data", data, "--year", 2025, "--derogations", d), message)


def test_derogation_for_pool_refused(tmp_path: Path) -> None:
    f = write_eea(tmp_path / "p.csv", [row("A", mp="P"), row("B", mp="P")])
    d = write_csv(tmp_path / "d.csv", "manufacturer,year,target\nP,2025,100\n")
    err_ok(
        *run("compliance", "--data", f, "--year", 2025, "--derogations", d),
        "a pool cannot have a derogation target",
    )


@pytest.mark.parametrize(
    ("text", "scenario", "message"),
    [
        ("manufacturer,year,steel,fuels\nA,2025,1,0\n", "in-force", "has no credits"),
        ("manufacturer,year,steel,fuels\nA,2025,x,0\n", "com-2025-995", "field 'steel'"),
        ("manufacturer,year,steel,fuels\nA,2025,1,-2\n", "com-2025-995", "field 'fuels'"),
        ("manufacturer,year,steel\nA,2025,1\n", "com-2025-995", "missing column(s) fuels"),
        # credits exist from 2035 only in the proposal set
        ("manufacturer,year,steel,fuels\nA,2025,1,0\n", "com-2025-995", "has no value for 2025"),
    ],
)
def test_bad_credits(data: Path, tmp_path: Path, text: str, scenario: str, message: str) -> None:
    c = write_csv(tmp_path / "c.csv", text)
    err_ok(
        *run("compliance", "--data", data, "--year", 2025, "--scenario", scenario, "--credits", c),
        message,
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("manufacturer,commercial_name\nA,\n", "field 'commercial_name': is empty"),
        ("manufacturer\nA\n", "missing column(s) commercial_name"),
        ("manufacturer,commercial_name\nA,X\nA,X\n", "row 2, field 'commercial_name'"),
    ],
)
def test_bad_m1e_file(data: Path, tmp_path: Path, text: str, message: str) -> None:
    m = write_csv(tmp_path / "m.csv", text)
    err_ok(*run("compliance", "--data", data, "--year", 2025, "--m1e", m), message)


def test_m1e_needs_cn_column(tmp_path: Path) -> None:
    f = write_eea(tmp_path / "n.csv", [row("A")], header=tuple(h for h in EEA_HEADER if h != "Cn"))
    m = write_csv(tmp_path / "m.csv", "manufacturer,commercial_name\nA,X\n")
    err_ok(*run("compliance", "--data", f, "--year", 2025, "--m1e", m), "needs the column Cn")


def test_generate_refuses_overwrite_and_bad_args(tmp_path: Path, data: Path) -> None:
    err_ok(*run("generate", "--out", data, "--rows", 10), "refusing to overwrite")
    err_ok(
        *run("generate", "--out", tmp_path / "x.txt", "--rows", 10), "expected a .csv or .parquet"
    )
    err_ok(*run("generate", "--out", tmp_path / "y.csv", "--rows", 0))
    err_ok(*run("params", "--scenario", "nope"), "unknown parameter set")


def test_scenarios_bad_year(data: Path) -> None:
    err_ok(*run("scenarios", "--data", data, "--year", 2023), "no target formula")


# ----------------------------------------------------------------------------- targets


def test_eu2040_json(tmp_path: Path) -> None:
    s = write_csv(tmp_path / "s.csv", "year,net_emissions,credits\n1990,4800,\n2040,700,300\n")
    code, out, err = run("eu2040", "--series", s, "--format", "json", targets=True)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["summary"]["target_2040"] == 480 and doc["summary"]["credit_cap_2040"] == 240
    assert doc["years"][1]["credits_counted"] == 240 and doc["years"][1]["on_track"] is True
    code, out, _ = run("eu2040", "--series", s, "--explain", targets=True)
    assert code == 0 and "Explanation" in out
    code, out, _ = run("eu2040", "--series", s, "--format", "csv", targets=True)
    assert code == 0 and out.startswith("year,net_emissions")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("year,net_emissions\n2040,700\n", "needs the 1990"),
        ("year,net_emissions\n1990,4800\n1990,4700\n", "row 2, field 'year': duplicate year"),
        ("year,net_emissions\n1990,abc\n", "row 1, field 'net_emissions'"),
        ("year,net_emissions,credits\n1990,4800,\n2040,1,-5\n", "field 'credits'"),
        ("year,net_emissions,extra\n1990,4800,1\n", "unknown column(s) extra"),
        ("year\n1990\n", "missing column(s) net_emissions"),
        ("", "empty file"),
        ("year,net_emissions\n", "no data rows"),
        ("year,net_emissions\nnineteen,1\n", "not a year"),
    ],
)
def test_eu2040_bad_series(tmp_path: Path, text: str, message: str) -> None:
    s = write_csv(tmp_path / "s.csv", text)
    err_ok(*run("eu2040", "--series", s, targets=True), message)


def test_esr_json(tmp_path: Path) -> None:
    s = write_csv(tmp_path / "e.csv", "year,emissions,aea\n2005,120,\n2021,90,100\n2022,115,100\n")
    code, out, err = run("esr", "--series", s, "--format", "json", targets=True)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["limit_2030"] == 62.4 and doc["target_2030_pct"] == 48
    # 2022: 100 + 10 banked − 115 = −5, no 2023 to borrow from → shortfall 5
    assert doc["years"][1]["shortfall"] == 5 and doc["years"][1]["compliant"] is False
    code, out, _ = run("esr", "--series", s, targets=True)
    assert code == 0 and "ESR Netherlands" in out


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("year,emissions\n2021,90\n", "esr.nl.aea is unknown"),
        ("year,emissions,aea\n2019,90,100\n", "row 1, field 'year': year 2019 is outside"),
        ("year,emissions,aea\n2005,120,100\n", "row 1, field 'aea': only emissions"),
        ("year,emissions,aea\n2021,-1,100\n", "field 'emissions': must not be negative"),
        ("year,emissions,aea,transfer_out\n2021,90,100,11\n", "exceeds the cap"),
        ("year,emissions,aea,ets_flex\n2021,90,100,1\n", "esr.nl.ets_flex_cap is unknown"),
        ("year,emissions,aea\n2021,90,100\n2023,90,100\n", "consecutive years"),
        ("year,emissions,bogus\n2021,90,1\n", "unknown column(s) bogus"),
    ],
)
def test_esr_bad_series(tmp_path: Path, text: str, message: str) -> None:
    s = write_csv(tmp_path / "e.csv", text)
    err_ok(*run("esr", "--series", s, targets=True), message)


def test_targets_missing_file(tmp_path: Path) -> None:
    err_ok(*run("esr", "--series", tmp_path / "no.csv", targets=True), "file not found")
    err_ok(
        *run(
            "eu2040", "--series", tmp_path / "no.csv", "--format", "csv", "--explain", targets=True
        )
    )


def test_invalid_utf8_in_a_data_row(tmp_path: Path) -> None:
    f = tmp_path / "u.csv"
    f.write_bytes(b"Mh,Ft,Mt,Ewltp,R,Year\nA\xe9,petrol,1650.15,100,1,2025\n")
    err_ok(*run("compliance", "--data", f, "--year", 2025), "cannot read", "utf-8")


def test_vans_flag(tmp_path: Path) -> None:
    # 10 vans at TM0 2161.13 kg and 160 g/km: target 153.9 (y = 0 → 1 − 0.17 → factor 1.0);
    # excess 6.1 → 6.1 × 95 × 10 = 5,795
    f = write_eea(tmp_path / "v.csv", [row("V", mt="2161.13", e="160", r="10", ft="diesel")])
    code, out, _ = run("compliance", "--data", f, "--year", 2025, "--vans", "--format", "json")
    assert code == 0
    [v] = json.loads(out)
    assert (v["target"], v["excess"], v["premium_eur"]) == (153.9, 6.1, 5795)
    assert v["unverified"] == ["vehicles.vans.slope", "vehicles.vans.slope_above_tm0"]


def test_2020_nedc_from_file(tmp_path: Path) -> None:
    # 95 + 0.0333 × (1479.88 − 1379.88) = 98.33; 110 − 98.33 = 11.67 → 11.67 × 95 × 1 = 1,108.65
    f = write_eea(tmp_path / "n.csv", [row("A", year="2020", m="1479.88", enedc="110", mt="")])
    code, out, _ = run("compliance", "--data", f, "--year", 2020, "--format", "json")
    assert code == 0
    [a] = json.loads(out)
    assert (a["target"], a["premium_eur"], a["unverified"]) == (98.33, 1108.65, [])


def test_2020_needs_enedc_column(tmp_path: Path) -> None:
    f = write_eea(
        tmp_path / "n.csv",
        [row("A", year="2020")],
        header=("Mh", "Ft", "Mt", "Ewltp", "R", "Year", "M"),
    )
    err_ok(*run("compliance", "--data", f, "--year", 2020), "missing column Enedc")


def test_m1e_with_vans_refused(data: Path, tmp_path: Path) -> None:
    m = write_csv(tmp_path / "m.csv", "manufacturer,commercial_name\nA,X\n")
    err_ok(
        *run("compliance", "--data", data, "--year", 2025, "--vans", "--m1e", m),
        "does not apply to --vans",
    )


def test_skipped_file_bad_folder_and_clean_file(data: Path, tmp_path: Path) -> None:
    err_ok(
        *run(
            "compliance", "--data", data, "--year", 2025, "--skipped", tmp_path / "nope" / "s.csv"
        ),
        "folder for the skipped rows does not exist",
    )
    out_file = tmp_path / "s.csv"
    code, _, _ = run("compliance", "--data", data, "--year", 2025, "--skipped", out_file)
    assert code == 0
    assert out_file.read_text().splitlines() == [
        "row,reason,Mh,Ft,Mt,Ewltp,R,Year,Mp,Erwltp,Cn,M,Enedc"
    ]


@pytest.mark.parametrize(
    "args", [["--year", "1999"], ["--seed", "-1"], ["--rows", "x"], ["--rows", "60000000"]]
)
def test_generate_bad_options(tmp_path: Path, args: list[str]) -> None:
    base = ["generate", "--out", str(tmp_path / "g.csv")]
    if "--rows" not in args:
        base += ["--rows", "10"]
    err_ok(*run(*base, *args))
    assert not (tmp_path / "g.csv").exists()
