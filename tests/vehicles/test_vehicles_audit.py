"""Audit of ``keten vehicles`` as a new user meets it (issue 8): a refused run writes nothing,
an error about a derogation or credits file names that file, its row and field on one line, and
the guide points at the interpretations that exist.

Data (in-force, cars 2025): A — 2 petrol cars Mt 1650.15 kg at 110 g/km; row 2 has no mass
(``Mt`` empty), so it is skipped (VH-09) and the file has one refused row.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner
from vehicles_testdata import row, write_csv, write_eea

from keten.cli.vehicles import app

RUNNER = CliRunner()
ROOT = Path(__file__).resolve().parents[2]


def run(*args: object) -> tuple[int, str, str]:
    r = RUNNER.invoke(app, [str(a) for a in args])
    return r.exit_code, r.stdout, r.stderr


def one_line_error(code: int, out: str, err: str, *parts: str) -> None:
    assert code == 2, (code, out, err)
    assert out == ""
    line = err.strip()
    assert line.startswith("error: ") and "\n" not in line, err
    for p in parts:
        assert p in line, (p, line)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return write_eea(tmp_path / "eea.csv", [row("A", e="110", r="2"), row("A", mt="")])


def test_strict_refusal_writes_no_skipped_file(data: Path, tmp_path: Path) -> None:
    out_file = tmp_path / "skipped.csv"
    one_line_error(
        *run("compliance", "--data", data, "--year", 2025, "--strict", "--skipped", out_file),
        "row 2, field 'Mt': missing mass (Mt)",
    )
    assert not out_file.exists()
    assert list(tmp_path.iterdir()) == [data]  # no temporary file left behind either
    # the same run without --strict succeeds and writes the file in place
    code, _, err = run("compliance", "--data", data, "--year", 2025, "--skipped", out_file)
    assert code == 0, err
    lines = out_file.read_text().splitlines()
    assert lines[0].startswith("row,reason,") and lines[1].startswith("2,missing mass (Mt),")
    assert f"all skipped rows with their reasons: {out_file}" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["eea.csv", "skipped.csv"]


def test_refused_run_keeps_an_earlier_skipped_file(data: Path, tmp_path: Path) -> None:
    out_file = write_csv(tmp_path / "skipped.csv", "kept\n")
    one_line_error(
        *run("compliance", "--data", data, "--year", 2030, "--skipped", out_file),
        "no usable rows for 2030",
    )
    assert out_file.read_text() == "kept\n"


def test_scenarios_refusal_writes_no_skipped_file(data: Path, tmp_path: Path) -> None:
    out_file = tmp_path / "skipped.csv"
    code, _, _ = run("scenarios", "--data", data, "--year", 2025, "--strict", "--skipped", out_file)
    assert code == 2
    assert not out_file.exists()


def test_unknown_derogation_manufacturer_names_file_row_field(data: Path, tmp_path: Path) -> None:
    # row 1 (A, 2025) is fine; row 2 names Z, which has no vehicles in 2025 in the data. The
    # refusal is one line (no skipped-row notes before it) naming the derogation file.
    d = write_csv(tmp_path / "d.csv", "manufacturer,year,target\nA,2025,140\nZ,2025,100\n")
    one_line_error(
        *run("compliance", "--data", data, "--year", 2025, "--derogations", d),
        f"{d}, row 2, field 'manufacturer': manufacturer 'Z' has no vehicles in 2025",
    )


def test_unknown_credits_manufacturer_names_file_row_field(data: Path, tmp_path: Path) -> None:
    c = write_csv(tmp_path / "c.csv", "manufacturer,year,steel,fuels\nZ,2025,1,0\n")
    one_line_error(
        *run(
            "compliance",
            "--data",
            data,
            "--year",
            2025,
            "--scenario",
            "com-2025-995",
            "--credits",
            c,
        ),
        f"{c}, row 1, field 'manufacturer': manufacturer 'Z' has no vehicles in 2025",
    )


def test_guide_points_at_existing_interpretations() -> None:
    """docs/vehicles.md names the file of its interpretations and their range; both exist."""
    guide = (ROOT / "docs" / "vehicles.md").read_text()
    named = set(re.findall(r"`(docs/[\w./-]+\.md)`", guide))
    assert named, "the guide names its interpretations file"
    for rel in named:
        assert (ROOT / rel).is_file(), rel
    text = (ROOT / "docs" / "interpretations.md").read_text()
    first, last = re.search(r"\(VH-(\d+) … VH-(\d+)", guide).groups()  # type: ignore[union-attr]
    assert f"### VH-{first} " in text and f"### VH-{last} " in text
    assert f"### VH-{int(last) + 1:02d} " not in text


def test_generate_into_missing_folder_is_one_line_error(tmp_path: Path) -> None:
    out = tmp_path / "nope" / "g.csv"
    one_line_error(
        *run("generate", "--out", out, "--rows", 5),
        f"{out}: folder for the output file does not exist",
    )
    assert not out.parent.exists()


def test_generate_to_unwritable_place_is_one_line_error() -> None:
    # /proc admits no new files, even for root: open() fails with an OSError
    one_line_error(
        *run("generate", "--out", "/proc/keten-g.parquet", "--rows", 5),
        "/proc/keten-g.parquet: cannot write:",
    )


def test_skipped_file_in_unwritable_place_is_one_line_error(data: Path) -> None:
    one_line_error(
        *run("compliance", "--data", data, "--year", 2025, "--skipped", "/proc/keten-s.csv"),
        "/proc/keten-s.csv: cannot write:",
    )


def test_reader_reports_unwritable_skipped_file(data: Path) -> None:
    """keten.io.vehicles_files on its own (the CLI stages the file): an OSError of the sink is
    an InputError naming the skipped-rows file, not a traceback."""
    from keten.core.errors import InputError
    from keten.io.vehicles_files import read_monitoring

    with pytest.raises(InputError, match=r"^/proc/keten-s\.csv: cannot write: "):
        read_monitoring(data, [2025], skipped_out=Path("/proc/keten-s.csv"))


def test_guide_says_where_the_esr_2030_limit_is_shown() -> None:
    """The guide's 62.4 (2005 emissions 120 × (100 − 48) % = 62.4) is not in the ESR table; the
    guide names the two outputs that show it, and both do."""
    from keten.cli.vehicles import targets_app

    guide = (ROOT / "docs" / "vehicles.md").read_text()
    sentence = guide[guide.index("2030 limit: 2005") :].split("\n\n")[0]
    assert "`--explain`" in sentence and "`limit_2030`" in sentence, sentence
    series = str(ROOT / "examples" / "vehicles" / "esr_nl_series.csv")
    table = RUNNER.invoke(targets_app, ["esr", "--series", series])
    assert table.exit_code == 0 and "62.4" not in table.stdout
    explained = RUNNER.invoke(targets_app, ["esr", "--series", series, "--explain"])
    assert re.search(r"2030 limit .*120 × \(100 − 48\) %.*62\.4", explained.stdout)


def test_eu2040_refusal_names_the_series_file(tmp_path: Path) -> None:
    """A series whose 1990 net emissions are 0 is refused by the engine (a −90 % target of
    nothing has no meaning); the CLI names the file the series came from."""
    from keten.cli.vehicles import targets_app

    series = tmp_path / "net.csv"
    series.write_text("year,net_emissions\n1990,0\n2030,10\n", encoding="utf-8")
    r = RUNNER.invoke(targets_app, ["eu2040", "--series", str(series)])
    one_line_error(r.exit_code, r.stdout, r.stderr, str(series), "1990 net emissions")
    assert r.stderr == f"error: {series}: 1990 net emissions must be positive\n"
