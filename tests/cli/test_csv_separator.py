"""A CSV file saved by a spreadsheet in Dutch settings separates its columns by semicolons: every
reader (the shared header check ``keten.io.csvfile.check_header``) says so after the missing
columns, instead of only "missing column(s) …; unknown column(s) a;b;c"."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from keten.cli.main import app
from keten.core.errors import InputError
from keten.io.csvfile import check_header, read_rows

REASON = "the columns are separated by semicolons (;), use commas"


def _run(*args: object) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def test_the_ev_obligation_command_names_the_semicolons(tmp_path: Path) -> None:
    f = tmp_path / "d.csv"
    f.write_text("supplier;sector;fuel;quantity;unit\nA;land;diesel;1000000,5;l\n")
    code, out, err = _run("ev", "obligation", "--year", 2026, "--deliveries", f)
    assert (code, out) == (2, "")
    assert err == (
        f"error: {f}: header: missing column(s) supplier, sector, fuel, quantity, unit; "
        f"{REASON} (expected supplier,sector,fuel,quantity,unit)\n"
    )


def test_the_ev_units_command_names_the_semicolons(tmp_path: Path) -> None:
    """The bookings reader reads its header with its own CSV reader, then the shared check."""
    f = tmp_path / "b.csv"
    f.write_text(
        "holder;sector;category;fuel;quantity;unit;ghg_intensity\n"
        "A;land;annex-ixa;hvo;500000;l;10\n"
    )
    code, out, err = _run("ev", "units", "--year", 2026, "--bookings", f)
    assert (code, out) == (2, "")
    assert "header: missing column(s) holder, sector, category" in err
    assert f"{REASON} (expected holder,sector" in err


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        # the whole line separated by semicolons: the missing columns, then the reason
        (["a;b;c"], f"header: missing column(s) a, b, c; {REASON} (expected a,b,c)"),
        # a mix (one comma among the semicolons): still the reason, for the columns it hides
        (["a;b", "c"], f"header: missing column(s) a, b; {REASON} (expected a,b,c)"),
        # a semicolon that hides no expected column is only an unknown column
        (["a", "b", "c", "x;y"], "header: unknown column(s) x;y (expected a,b,c)"),
        # no semicolons: as before
        (["a", "b"], "header: missing column(s) c (expected a,b,c)"),
    ],
)
def test_check_header_gives_the_reason_only_for_a_header_separated_by_semicolons(
    header: list[str], expected: str
) -> None:
    with pytest.raises(InputError) as caught:
        check_header("f.csv", header, ["a", "b", "c"])
    assert str(caught.value) == f"f.csv: {expected}"


def test_read_rows_names_the_semicolons(tmp_path: Path) -> None:
    f = tmp_path / "f.csv"
    f.write_text("\ufeffa ; b;c\n1;2;3\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        list(read_rows(f, ["a", "b", "c"]))
    assert str(caught.value) == f"{f}: header: missing column(s) a, b, c; {REASON} (expected a,b,c)"
