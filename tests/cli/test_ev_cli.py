"""The ``keten ev`` command line as a public contract (issue text).

Most cases run in-process with typer's ``CliRunner`` (stdout and stderr are captured apart); a
handful run the real ``keten`` binary in a subprocess to check exit codes and streams end to end.

Hand-computed reference (bijlage-1, 2026, EV-01/EV-03/EV-06):

* 1,000,000 l diesel, land: 36,000,000 MJ; total = 36e6 × 94 × 14.4 % / 1000 = 487,296;
  annex 9A 3.07 % → 103,888.8 → 103,889; RFNBO 0.05 % → 1,692; conventional cap 1.2 % → 40,608;
  annex 9B cap 4.29 % → 145,173.6 → 145,174.  2030: 22.9 % → 774,936 (besluit-2025: 27.1 % →
  917,064).
* 1,000,000 l diesel, binnenvaart: total 3.8 % → 128,592; sector-specific 3.0 % → 101,520;
  vrije ruimte 0.8 % → 27,072; RFNBO 0.02 % → 676.8 → 677; annex 9B cap 11.07 % → 374,609.
* 500,000 l HVO at 10 g/MJ: 17,000,000 MJ × 84 / 1000 = 1,428,000 EREs.
* 2,000,000 kWh: 7,200,000 MJ × 50.5 % × 183 / 1000 = 665,388 EREs.
* 100,000 l HVO at 20 g/MJ in luchtvaart: 3,400,000 MJ × 74 / 1000 = 251,600 LREs.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from keten.cli.main import app
from keten.core.params import params_root

# --------------------------------------------------------------------------- headers and files

EXAMPLES_EV = Path(__file__).resolve().parents[2] / "examples" / "ev"
DELIVERIES_HEADER = "supplier,sector,fuel,quantity,unit"
BOOKINGS_HEADER = "holder,sector,category,fuel,quantity,unit,ghg_intensity"
UNITS_HEADER = "holder,origin_sector,category,amount"
PRICES_HEADER = "origin_sector,category,price_eur"

HEADERS = {
    "deliveries": DELIVERIES_HEADER,
    "bookings": BOOKINGS_HEADER,
    "units": UNITS_HEADER,
    "prices": PRICES_HEADER,
}

#: One valid data row per kind of file.
VALID_ROW = {
    "deliveries": "A,land,diesel,1000000,l",
    "bookings": "A,land,annex-ixa,hvo,500000,l,10",
    "units": "A,land,other,100",
    "prices": "land,other,0.21",
}

#: The files each command reads, in the order of its options.
COMMAND_FILES = {
    "obligation": ("deliveries",),
    "units": ("bookings",),
    "compliance": ("deliveries", "units"),
    "plan": ("deliveries", "units", "prices"),
}

#: The command that reads a kind of file first.
ROLE_COMMAND = {
    "deliveries": "obligation",
    "bookings": "units",
    "units": "compliance",
    "prices": "plan",
}

#: (command, file) pairs: every file of every command.
COMMAND_ROLES = [(c, r) for c, roles in COMMAND_FILES.items() for r in roles]

OBLIGATION_FIELDS = {
    "supplier",
    "sector",
    "year",
    "base_mj",
    "total",
    "sector_specific",
    "vrije_ruimte",
    "annex_ixa_min",
    "rfnbo_min",
    "conventional_cap",
    "annex_ixb_cap",
}
ERE_FIELDS = OBLIGATION_FIELDS - {"supplier", "sector", "year", "base_mj"}
UNITS_FIELDS = {"holder", "origin_sector", "category", "year", "units"}

HEX64 = re.compile(r"^[0-9a-f]{64}$")


def write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def csv_text(header: str, *rows: str) -> str:
    return "\n".join([header, *rows]) + "\n"


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# --------------------------------------------------------------------------- running the CLI


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None = None

    def describe(self) -> str:
        exc = f"\nexception: {self.exception!r}" if self.exception else ""
        return f"exit {self.exit_code}\nstdout: {self.stdout!r}\nstderr: {self.stderr!r}{exc}"


_RUNNER = CliRunner()


def invoke(*args: object) -> Run:
    """Run ``keten <args>`` in-process (typer's CliRunner keeps stdout and stderr apart)."""
    result = _RUNNER.invoke(app, [str(a) for a in args])
    exception = result.exception
    if isinstance(exception, SystemExit):
        exception = None
    return Run(result.exit_code, result.stdout, result.stderr, exception)


def _keten_command() -> list[str]:
    beside = Path(sys.executable).parent / "keten"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("keten")
    if found:
        return [found]
    return [sys.executable, "-m", "keten.cli.main"]


KETEN = _keten_command()


def run_process(*args: object, cwd: Path | None = None) -> Run:
    """Run the real ``keten`` executable in a subprocess."""
    proc = subprocess.run(
        [*KETEN, *(str(a) for a in args)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
        cwd=cwd,
        env={**os.environ, "COLUMNS": "200"},
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


def ok_json(run: Run) -> Any:
    assert run.exit_code == 0, run.describe()
    assert run.stderr == "", run.describe()
    return json.loads(run.stdout, parse_float=Decimal)


def assert_input_error(
    run: Run,
    *,
    file: Path | str | None = None,
    row: int | None = None,
    field: str | None = None,
    contains: Sequence[str] = (),
) -> str:
    """Exit code 2, nothing on stdout, one line on stderr naming file, row and field."""
    assert run.exception is None, run.describe()
    assert run.exit_code == 2, run.describe()
    assert run.stdout == "", run.describe()
    message = run.stderr.rstrip("\n")
    assert message, run.describe()
    assert "\n" not in message, f"error is not one line:\n{run.stderr}"
    assert "Traceback" not in message, run.describe()
    if file is not None:
        assert str(file) in message, f"file {file} not named: {message}"
    if row is not None:
        assert re.search(rf"\brow {row}\b", message), f"row {row} not named: {message}"
    if field is not None:
        pattern = rf"field\W{{0,3}}{re.escape(field)}\b"
        assert re.search(pattern, message), f"field {field!r} not named: {message}"
    for text in contains:
        assert text.lower() in message.lower(), f"{text!r} not in: {message}"
    return message


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def files(tmp_path: Path) -> Callable[..., list[str]]:
    """Build the argument list of a command with valid files, except those given."""

    def build(
        command: str,
        *,
        year: int = 2026,
        override: dict[str, Path] | None = None,
        extra: Sequence[str] = (),
    ) -> list[str]:
        override = override or {}
        args = ["ev", command, "--year", str(year)]
        for role in COMMAND_FILES[command]:
            path = override.get(role)
            if path is None:
                path = write(
                    tmp_path, f"valid_{role}.csv", csv_text(HEADERS[role], VALID_ROW[role])
                )
            args += [f"--{role}", str(path)]
        return [*args, *extra]

    return build


@pytest.fixture
def small(tmp_path: Path) -> dict[str, Path]:
    """A small hand-computed case: two suppliers, their units, prices and bookings."""
    return {
        "deliveries": write(
            tmp_path,
            "small_deliveries.csv",
            csv_text(
                DELIVERIES_HEADER,
                "A,land,diesel,1000000,l",
                "B,land,diesel,600000,l",
                "B,land,diesel,400000,l",
                "B,binnenvaart,diesel,1000000,l",
            ),
        ),
        "units": write(
            tmp_path,
            "small_units.csv",
            csv_text(
                UNITS_HEADER,
                "A,land,annex-ixa,200000",
                "A,land,rfnbo,2000",
                "A,land,other,300000",
                "B,land,other,400000",
                "B,land,conventional,100000",
                "B,binnenvaart,other,128592",
                "C,land,other,5",
            ),
        ),
        "prices": write(
            tmp_path,
            "small_prices.csv",
            csv_text(
                PRICES_HEADER,
                "land,annex-ixa,0.35",
                "land,rfnbo,0.90",
                "land,other,0.21",
            ),
        ),
        "bookings": write(
            tmp_path,
            "small_bookings.csv",
            csv_text(
                BOOKINGS_HEADER,
                "Brandstof BV,land,annex-ixa,hvo,500000,l,10",
                "Laadpunt,land,other,electricity,2000000,kWh,",
                "Noordzee,luchtvaart,annex-ixb,hvo,100000,l,20",
            ),
        ),
    }


LAND_2026 = {
    "total": 487_296,
    "sector_specific": 487_296,
    "vrije_ruimte": 0,
    "annex_ixa_min": 103_889,
    "rfnbo_min": 1_692,
    "conventional_cap": 40_608,
    "annex_ixb_cap": 145_174,
}
BINNENVAART_2026 = {
    "total": 128_592,
    "sector_specific": 101_520,
    "vrije_ruimte": 27_072,
    "annex_ixa_min": 0,
    "rfnbo_min": 677,
    "conventional_cap": 0,
    "annex_ixb_cap": 374_609,
}
EXPECTED_UNITS = [
    ("Brandstof BV", "land", "annex-ixa", 1_428_000),
    ("Laadpunt", "land", "other", 665_388),
    ("Noordzee", "luchtvaart", "annex-ixb", 251_600),
]


# =========================================================================== 1. contract


class TestObligationContract:
    def test_json_fields_types_and_values(self, small: dict[str, Path]) -> None:
        data = ok_json(
            invoke(
                "ev", "obligation", "--year", 2026, "--deliveries", small["deliveries"],
                "--format", "json",
            )
        )  # fmt: skip
        assert isinstance(data, list)
        assert [(o["supplier"], o["sector"]) for o in data] == [
            ("A", "land"),
            ("B", "land"),
            ("B", "binnenvaart"),
        ]
        for o in data:
            assert set(o) == OBLIGATION_FIELDS
            assert isinstance(o["supplier"], str) and isinstance(o["sector"], str)
            assert is_int(o["year"]) and o["year"] == 2026
            assert Decimal(o["base_mj"]) == Decimal(36_000_000)
            for f in ERE_FIELDS:
                assert is_int(o[f]), f"{f} is not an integer: {o[f]!r}"
        assert {f: data[0][f] for f in ERE_FIELDS} == LAND_2026
        # B's two land deliveries are summed into one base before rounding.
        assert {f: data[1][f] for f in ERE_FIELDS} == LAND_2026
        assert {f: data[2][f] for f in ERE_FIELDS} == BINNENVAART_2026

    def test_csv_has_header_and_parses(self, small: dict[str, Path]) -> None:
        run = invoke(
            "ev", "obligation", "--year", 2026, "--deliveries", small["deliveries"],
            "--format", "csv",
        )  # fmt: skip
        assert run.exit_code == 0, run.describe()
        rows = list(csv.DictReader(io.StringIO(run.stdout)))
        assert set(rows[0]) >= OBLIGATION_FIELDS
        assert len(rows) == 3
        assert rows[0]["supplier"] == "A"
        assert int(rows[0]["total"]) == 487_296
        assert int(rows[2]["vrije_ruimte"]) == 27_072

    def test_table_names_the_suppliers(self, small: dict[str, Path]) -> None:
        run = invoke("ev", "obligation", "--year", 2026, "--deliveries", small["deliveries"])
        assert run.exit_code == 0, run.describe()
        assert "A" in run.stdout and "B" in run.stdout
        assert "487296" in run.stdout.replace(",", "")

    def test_table_is_the_default_format_and_json_is_not(self, small: dict[str, Path]) -> None:
        run = invoke("ev", "obligation", "--year", 2026, "--deliveries", small["deliveries"])
        with pytest.raises(json.JSONDecodeError):
            json.loads(run.stdout)

    def test_year_2030(self, small: dict[str, Path]) -> None:
        data = ok_json(
            invoke(
                "ev", "obligation", "--year", 2030, "--deliveries", small["deliveries"],
                "--format", "json",
            )
        )  # fmt: skip
        assert data[0]["total"] == 774_936
        assert data[0]["year"] == 2030

    def test_besluit_2025_changes_land_2030(self, tmp_path: Path) -> None:
        """Issue: --params besluit-2025 gives land 2030 27.1 % instead of 22.9 % (EV-10).

        The draft's land sub-obligations are unknown: null in JSON, named on stderr (EV-32).
        """
        deliveries = write(
            tmp_path, "d.csv", "supplier,sector,fuel,quantity,unit\nA,land,diesel,1000000,l\n"
        )
        args = ["ev", "obligation", "--year", 2030, "--deliveries", deliveries]
        default = ok_json(invoke(*args, "--format", "json"))
        explicit = ok_json(invoke(*args, "--params", "bijlage-1", "--format", "json"))
        assert default == explicit
        run = invoke(*args, "--params", "besluit-2025", "--format", "json")
        assert run.exit_code == 0, run.describe()
        besluit = json.loads(run.stdout)
        land = besluit[0]
        assert land["total"] == 917_064  # 36e6 × 94 × 27.1 % / 1000
        assert land["annex_ixa_min"] is None and land["rfnbo_min"] is None
        assert "ev.land.annex_ixa_min" in run.stderr and "EV-32" in run.stderr
        assert default[0]["total"] == 774_936  # 22.9 %
        # the rows that use an unknown value: compliance stops and names it (EV-32)
        units = write(tmp_path, "u.csv", "holder,origin_sector,category,amount\nA,land,other,5\n")
        run = invoke(
            "ev", "compliance", "--year", 2030, "--deliveries", deliveries, "--units", units,
            "--params", "besluit-2025",
        )  # fmt: skip
        assert_input_error(run, contains=["ev.land.annex_ixa_min is unknown in set 'besluit-2025'"])

    def test_besluit_2025_unknown_needed_value_is_an_error(self, small: dict[str, Path]) -> None:
        """Binnenvaart 2030 is unknown in besluit-2025: the obligation cannot be computed."""
        run = invoke(
            "ev",
            "obligation",
            "--year",
            2030,
            "--deliveries",
            small["deliveries"],
            "--params",
            "besluit-2025",
        )
        assert run.exit_code == 2 and run.stdout == ""
        assert "ev.binnenvaart.total is unknown" in run.stderr

    def test_besluit_2025_land_2030_in_params_listing(self) -> None:
        def land_total(params: str) -> Decimal:
            rows = ok_json(
                invoke("ev", "params", "--params", params, "--year", 2030, "--format", "json")
            )
            row = next(r for r in rows if r["name"] == "ev.land.total")
            return Decimal(str(row["value"]))

        assert land_total("bijlage-1") == Decimal("22.9")
        assert land_total("besluit-2025") == Decimal("27.1")


class TestUnitsContract:
    def test_json_fields_types_and_values(self, small: dict[str, Path]) -> None:
        data = ok_json(
            invoke(
                "ev", "units", "--year", 2026, "--bookings", small["bookings"], "--format", "json"
            )
        )
        assert len(data) == 3
        for obj in data:
            assert set(obj) == UNITS_FIELDS
            assert is_int(obj["units"]) and is_int(obj["year"]) and obj["year"] == 2026
        got = [(o["holder"], o["origin_sector"], o["category"], o["units"]) for o in data]
        assert got == EXPECTED_UNITS, "one object per row, in the order of the rows"

    def test_rows_keep_input_order(self, tmp_path: Path) -> None:
        """One object per booking row: the n-th object belongs to the n-th row."""
        rows = [f"H{i},land,other,hvo,{1000 + i},l,10" for i in range(200)]
        path = write(tmp_path, "ordered.csv", csv_text(BOOKINGS_HEADER, *rows))
        for _ in range(3):
            data = ok_json(
                invoke("ev", "units", "--year", 2026, "--bookings", path, "--format", "json")
            )
            assert [o["holder"] for o in data] == [f"H{i}" for i in range(200)]
            # (1000 + i) l × 34 MJ/l × 84 g/MJ / 1000, rounded down
            assert [o["units"] for o in data] == [(1000 + i) * 34 * 84 // 1000 for i in range(200)]

    def test_csv_has_header_and_parses(self, small: dict[str, Path]) -> None:
        run = invoke(
            "ev", "units", "--year", 2026, "--bookings", small["bookings"], "--format", "csv"
        )
        assert run.exit_code == 0, run.describe()
        rows = list(csv.DictReader(io.StringIO(run.stdout)))
        assert set(rows[0]) >= UNITS_FIELDS
        assert [int(r["units"]) for r in rows] == [u for *_, u in EXPECTED_UNITS]

    def test_table_names_the_holders(self, small: dict[str, Path]) -> None:
        run = invoke("ev", "units", "--year", 2026, "--bookings", small["bookings"])
        assert run.exit_code == 0, run.describe()
        for holder in ("Brandstof BV", "Laadpunt", "Noordzee"):
            assert holder in run.stdout

    def test_decimal_comma_and_rounding_down(self, tmp_path: Path) -> None:
        # 500,000.5 l × 34 × (94 − 10.25) / 1000 = 1,423,751.42… → 1,423,751
        path = write(
            tmp_path,
            "comma.csv",
            csv_text(BOOKINGS_HEADER, 'H,land,annex-ixa,hvo,"500000,5",l,10.25'),
        )
        data = ok_json(
            invoke("ev", "units", "--year", 2026, "--bookings", path, "--format", "json")
        )
        assert data[0]["units"] == 1_423_751

    def test_negative_intensity_accepted(self, tmp_path: Path) -> None:
        # Negative intensities occur (biomethane from manure) and are accepted (EV-11); they
        # create more units than intensity 0.
        path = write(
            tmp_path,
            "neg_ci.csv",
            csv_text(
                BOOKINGS_HEADER,
                "H,land,annex-ixa,biomethane,1000,kg,-100",
                "H,land,annex-ixa,biomethane,1000,kg,0",
            ),
        )
        data = ok_json(
            invoke("ev", "units", "--year", 2026, "--bookings", path, "--format", "json")
        )
        assert data[0]["units"] > data[1]["units"] > 0


class TestComplianceContract:
    def test_json_fields_types_and_values(self, small: dict[str, Path]) -> None:
        data = ok_json(
            invoke(
                "ev", "compliance", "--year", 2026, "--deliveries", small["deliveries"],
                "--units", small["units"], "--format", "json",
            )
        )  # fmt: skip
        assert [r["supplier"] for r in data] == ["A", "B"], "only suppliers are reported (EV-19)"
        for r in data:
            assert {
                "supplier",
                "compliant",
                "shortfall_total",
                "shortfall_by_sector",
                "plan",
            } <= set(r)
            assert isinstance(r["compliant"], bool)
            assert is_int(r["shortfall_total"])
            assert isinstance(r["shortfall_by_sector"], dict)
            assert all(is_int(v) for v in r["shortfall_by_sector"].values())
            assert sum(r["shortfall_by_sector"].values()) == r["shortfall_total"]
            assert isinstance(r["plan"], list)
            for p in r["plan"]:
                assert set(p) == {"sector", "origin_sector", "category", "amount"}
                assert is_int(p["amount"]) and p["amount"] > 0
        a, b = data
        # A: 502,000 units incl. enough annex-ixa and rfnbo: compliant; surrenders exactly the
        # obligation (EV-12) and keeps scarce units where it can (EV-07).
        assert a["compliant"] is True
        assert a["shortfall_total"] == 0
        assert a["shortfall_by_sector"] == {"land": 0}
        surrendered = {(p["origin_sector"], p["category"]): p["amount"] for p in a["plan"]}
        assert all(p["sector"] == "land" for p in a["plan"])
        assert sum(surrendered.values()) == 487_296
        assert surrendered[("land", "other")] == 300_000
        assert surrendered[("land", "annex-ixa")] >= 103_889
        assert surrendered[("land", "rfnbo")] >= 1_692
        # B: no annex-ixa or rfnbo units → every sub-obligation is short (EV-15/16):
        # land 103,889 + 1,692 = 105,581; binnenvaart holds its total (128,592) in "other"
        # units, but its RFNBO part (677) can only be filled by rfnbo units.
        assert b["compliant"] is False
        assert b["shortfall_by_sector"] == {"land": 105_581, "binnenvaart": 677}
        assert b["shortfall_total"] == 106_258
        conventional = [p for p in b["plan"] if p["category"] == "conventional"]
        assert sum(p["amount"] for p in conventional) <= 40_608, "cap (EV-14)"

    def test_csv_has_header_and_parses(self, small: dict[str, Path]) -> None:
        run = invoke(
            "ev", "compliance", "--year", 2026, "--deliveries", small["deliveries"],
            "--units", small["units"], "--format", "csv",
        )  # fmt: skip
        assert run.exit_code == 0, run.describe()
        rows = list(csv.DictReader(io.StringIO(run.stdout)))
        assert {"supplier", "compliant", "shortfall_total"} <= set(rows[0])
        assert [r["supplier"] for r in rows] == ["A", "B"]
        assert [int(r["shortfall_total"]) for r in rows] == [0, 106_258]

    def test_table_names_the_suppliers(self, small: dict[str, Path]) -> None:
        run = invoke(
            "ev", "compliance", "--year", 2026, "--deliveries", small["deliveries"],
            "--units", small["units"],
        )  # fmt: skip
        assert run.exit_code == 0, run.describe()
        assert "A" in run.stdout and "B" in run.stdout
        assert "106258" in run.stdout.replace(",", "")


class TestPlanContract:
    def test_json_fields_types_and_values(self, small: dict[str, Path]) -> None:
        data = ok_json(
            invoke(
                "ev", "plan", "--year", 2026, "--deliveries", small["deliveries"],
                "--units", small["units"], "--prices", small["prices"], "--format", "json",
            )
        )  # fmt: skip
        assert [p["supplier"] for p in data] == ["A", "B"]
        for p in data:
            assert {"supplier", "cost_eur", "purchases"} <= set(p)
            assert isinstance(p["cost_eur"], int | Decimal)
            for b in p["purchases"]:
                assert set(b) == {"origin_sector", "category", "amount"}
                assert is_int(b["amount"]) and b["amount"] > 0
        a, b = data
        assert a["purchases"] == [] and Decimal(a["cost_eur"]) == 0
        bought = {(x["origin_sector"], x["category"]): x["amount"] for x in b["purchases"]}
        # land annex 9A 103,889; RFNBO 1,692 (land) + 677 (binnenvaart, through its vrije
        # ruimte) = 2,369: 103,889 × 0.35 + 2,369 × 0.90 = 36,361.15 + 2,132.10
        assert bought == {("land", "annex-ixa"): 103_889, ("land", "rfnbo"): 2_369}
        assert Decimal(b["cost_eur"]) == Decimal("38493.25")

    def test_csv_has_header_and_parses(self, small: dict[str, Path]) -> None:
        run = invoke(
            "ev", "plan", "--year", 2026, "--deliveries", small["deliveries"],
            "--units", small["units"], "--prices", small["prices"], "--format", "csv",
        )  # fmt: skip
        assert run.exit_code == 0, run.describe()
        rows = list(csv.DictReader(io.StringIO(run.stdout)))
        assert {"supplier", "cost_eur", "origin_sector", "category", "amount"} <= set(rows[0])
        b_rows = {
            (r["origin_sector"], r["category"]): int(r["amount"])
            for r in rows
            if r["supplier"] == "B"
        }
        assert b_rows == {("land", "annex-ixa"): 103_889, ("land", "rfnbo"): 2_369}
        assert {Decimal(r["cost_eur"]) for r in rows if r["supplier"] == "B"} == {
            Decimal("38493.25")
        }

    def test_table_names_the_suppliers(self, small: dict[str, Path]) -> None:
        run = invoke(
            "ev", "plan", "--year", 2026, "--deliveries", small["deliveries"],
            "--units", small["units"], "--prices", small["prices"],
        )  # fmt: skip
        assert run.exit_code == 0, run.describe()
        assert "A" in run.stdout and "B" in run.stdout


# --------------------------------------------------------------------------- --explain


def _explain_args(command: str, small: dict[str, Path]) -> list[object]:
    opts: list[object] = ["ev", command, "--year", 2026]
    for role in COMMAND_FILES[command]:
        opts += [f"--{role}", small[role]]
    return opts


def _check_explain(explain: dict[str, Any], set_name: str = "bijlage-1") -> None:
    assert {"steps", "parameters", "receipt"} <= set(explain)
    assert isinstance(explain["steps"], list) and explain["steps"]
    for step in explain["steps"]:
        assert isinstance(step, dict)
    assert isinstance(explain["parameters"], list) and explain["parameters"]
    for p in explain["parameters"]:
        assert isinstance(p.get("source"), str) and p["source"].strip(), p
        assert p.get("name", "").startswith("ev."), p
    receipt = explain["receipt"]
    assert isinstance(receipt["keten_version"], str) and receipt["keten_version"]
    assert receipt.get("parameter_set", set_name) == set_name
    files = receipt["parameter_files"]
    assert isinstance(files, dict) and files
    for name, digest in files.items():
        assert name.endswith(".yaml"), name
        assert HEX64.match(digest), f"{name}: {digest!r} is not a sha256"
    # every parameter's file is in the receipt
    for p in explain["parameters"]:
        if "file" in p:
            assert p["file"] in files


@pytest.mark.parametrize("command", list(COMMAND_FILES))
def test_explain_json_adds_steps_parameters_receipt(command: str, small: dict[str, Path]) -> None:
    plain = ok_json(invoke(*_explain_args(command, small), "--format", "json"))
    data = ok_json(invoke(*_explain_args(command, small), "--format", "json", "--explain"))
    assert len(data) == len(plain) > 0
    for obj, ref in zip(data, plain, strict=True):
        assert "explain" in obj
        _check_explain(obj["explain"])
        assert {k: v for k, v in obj.items() if k != "explain"} == ref


def test_explain_receipt_hashes_are_the_parameter_files(small: dict[str, Path]) -> None:
    import hashlib

    from keten.core.params import params_root

    data = ok_json(invoke(*_explain_args("obligation", small), "--format", "json", "--explain"))
    root = params_root()
    for name, digest in data[0]["explain"]["receipt"]["parameter_files"].items():
        assert hashlib.sha256((root / name).read_bytes()).hexdigest() == digest


def test_explain_units_belongs_to_its_row(small: dict[str, Path]) -> None:
    """The explanation of each units row is the arithmetic of that row."""
    data = ok_json(invoke(*_explain_args("units", small), "--format", "json", "--explain"))
    for obj in data:
        results = [s.get("result") for s in obj["explain"]["steps"]]
        assert str(obj["units"]) in results, (obj["holder"], obj["units"], results)


@pytest.mark.parametrize("command", list(COMMAND_FILES))
def test_explain_table_prints_explanation(command: str, small: dict[str, Path]) -> None:
    run = invoke(*_explain_args(command, small), "--explain")
    assert run.exit_code == 0, run.describe()
    assert "Explanation" in run.stdout
    assert "receipt" in run.stdout


# --------------------------------------------------------------------------- example, params


def test_example_prints_the_four_sections() -> None:
    run = run_process("ev", "example")
    assert run.exit_code == 0, run.describe()
    for heading in (
        "1. Obligations",
        "2. Units from bookings",
        "3. Compliance",
        "4. Least-cost plan",
    ):
        assert heading in run.stdout, heading


def test_example_missing_folder(tmp_path: Path) -> None:
    folder = tmp_path / "no_such_example"
    run = invoke("ev", "example", "--dir", folder)
    assert_input_error(run, file=folder)


def test_params_lists_land_total() -> None:
    run = run_process("ev", "params", "--year", 2026)
    assert run.exit_code == 0, run.describe()
    assert "ev.land.total" in run.stdout
    rows = ok_json(invoke("ev", "params", "--year", 2026, "--format", "json"))
    land = next(r for r in rows if r["name"] == "ev.land.total")
    assert Decimal(str(land["value"])) == Decimal("14.4")
    assert land["source"]


def test_version() -> None:
    run = invoke("version")
    assert run.exit_code == 0, run.describe()
    assert run.stdout.strip()


# --------------------------------------------------------------------------- end to end


def test_subprocess_obligation_json(small: dict[str, Path]) -> None:
    run = run_process(
        "ev", "obligation", "--year", 2026, "--deliveries", small["deliveries"], "--format", "json"
    )
    data = ok_json(run)
    assert data[0]["total"] == 487_296


def test_subprocess_plan_json(small: dict[str, Path]) -> None:
    run = run_process(
        "ev", "plan", "--year", 2026, "--deliveries", small["deliveries"],
        "--units", small["units"], "--prices", small["prices"], "--format", "json",
    )  # fmt: skip
    data = ok_json(run)
    assert Decimal(data[1]["cost_eur"]) == Decimal("38493.25")


def test_subprocess_bad_row_exit_code_and_streams(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "sub_bad.csv",
        csv_text(DELIVERIES_HEADER, "A,land,diesel,1000000,l", "A,land,diesel,1e3,l"),
    )
    run = run_process("ev", "obligation", "--year", 2026, "--deliveries", path, "--format", "json")
    assert_input_error(run, file=path, row=2, field="quantity")


def test_subprocess_bad_booking_exit_code_and_streams(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "sub_bad_bookings.csv",
        csv_text(BOOKINGS_HEADER, VALID_ROW["bookings"], "A,land,annex-ixa,hvo,100,l,94"),
    )
    run = run_process("ev", "units", "--year", 2026, "--bookings", path, "--format", "json")
    assert_input_error(run, file=path, row=2, field="ghg_intensity")


def test_subprocess_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.csv"
    run = run_process(
        "ev", "compliance", "--year", 2026, "--deliveries", path,
        "--units", path, "--format", "json",
    )  # fmt: skip
    assert_input_error(run, file=path)


def test_subprocess_unknown_format_is_usage_error(small: dict[str, Path]) -> None:
    run = run_process(
        "ev", "obligation", "--year", 2026, "--deliveries", small["deliveries"], "--format", "xml"
    )
    assert_input_error(run, contains=["Invalid value for '--format'", "'xml'"])


def test_subprocess_unknown_params(small: dict[str, Path]) -> None:
    run = run_process(
        "ev", "obligation", "--year", 2026, "--deliveries", small["deliveries"],
        "--params", "nope",
    )  # fmt: skip
    assert_input_error(run, contains=["nope", "bijlage-1", "besluit-2025"])


# =========================================================================== 2. bad input

# --------------------------------------------------------------------------- whole-file problems


def _bad_file(kind: str, role: str, folder: Path) -> Path:
    """A broken ``role`` file of the given kind."""
    header = HEADERS[role]
    row = VALID_ROW[role]
    cols = header.split(",")
    cells = row.split(",")
    name = f"{role}_{kind}.csv"
    if kind == "missing":
        return folder / name
    if kind == "folder":
        # a folder holding a valid file of the right kind: still not a file
        sub = folder / f"{role}_folder.csv"
        sub.mkdir()
        write(sub, f"inner_{role}.csv", csv_text(header, row))
        return sub
    content: str | bytes
    if kind == "empty":
        content = ""
    elif kind == "missing-column":
        content = csv_text(",".join(cols[:-1]), ",".join(cells[:-1]))
    elif kind == "misspelled-column":
        content = csv_text(",".join([*cols[:-1], cols[-1] + "x"]), row)
    elif kind == "unknown-column":
        content = csv_text(header + ",extra", row + ",x")
    elif kind == "duplicate-column":
        content = csv_text(header + "," + cols[-1], row + "," + cells[-1])
    elif kind == "no-header":
        content = csv_text(row, row)
    elif kind == "too-many-fields":
        content = csv_text(header, row + ",surplus")
    elif kind == "too-few-fields":
        content = csv_text(header, ",".join(cells[:-2]))
    elif kind == "non-utf8":
        content = (
            (csv_text(header, row)).encode()
            + "Zoë".encode("latin-1")
            + b","
            + (",".join(cells[1:]).encode())
            + b"\n"
        )
    elif kind == "unterminated-quote":
        content = csv_text(header, '"' + row)
    else:  # pragma: no cover
        raise AssertionError(kind)
    return write(folder, name, content)


FILE_KINDS = [
    "missing",
    "folder",
    "empty",
    "missing-column",
    "misspelled-column",
    "unknown-column",
    "duplicate-column",
    "no-header",
    "too-many-fields",
    "too-few-fields",
    "non-utf8",
    "unterminated-quote",
]

#: Where a row must be named as well.
ROW_OF_KIND = {"too-many-fields": 1, "too-few-fields": 1}
#: Words the message must contain.
WORDS_OF_KIND = {"duplicate-column": ["duplicate"], "missing-column": ["missing"]}


@pytest.mark.parametrize("kind", FILE_KINDS)
@pytest.mark.parametrize(("command", "role"), COMMAND_ROLES, ids=lambda v: str(v))
def test_bad_file(
    command: str, role: str, kind: str, tmp_path: Path, files: Callable[..., list[str]]
) -> None:
    bad = _bad_file(kind, role, tmp_path)
    run = invoke(*files(command, override={role: bad}, extra=["--format", "json"]))
    message = assert_input_error(
        run, file=bad, row=ROW_OF_KIND.get(kind), contains=WORDS_OF_KIND.get(kind, ())
    )
    if kind == "duplicate-column":
        # the message names the duplicated column as it is in the file, not a renamed one
        duplicated = HEADERS[role].split(",")[-1]
        assert re.search(rf"duplicate\w* column\S* {duplicated}\b", message), message
        assert "_duplicated_" not in message, message


@pytest.mark.parametrize("role", list(HEADERS))
def test_header_only_file_is_accepted(
    role: str, tmp_path: Path, files: Callable[..., list[str]]
) -> None:
    """A file with a header and no rows is valid (no deliveries → no suppliers)."""
    path = write(tmp_path, f"header_only_{role}.csv", csv_text(HEADERS[role]))
    data = ok_json(
        invoke(*files(ROLE_COMMAND[role], override={role: path}, extra=["--format", "json"]))
    )
    assert isinstance(data, list)


#: A second valid row, different from ``VALID_ROW`` (prices may not repeat a type).
OTHER_ROW = {
    VALID_ROW["deliveries"]: "B,land,petrol,1000,l",
    VALID_ROW["bookings"]: "B,land,other,electricity,1000,kWh,",
    VALID_ROW["units"]: "A,land,rfnbo,7",
    VALID_ROW["prices"]: "land,rfnbo,0.90",
}

SPECIAL_LAYOUTS = {
    "utf8-bom": lambda header, row: "\ufeff" + csv_text(header, row),
    "trailing-blank-lines": lambda header, row: csv_text(header, row) + "\n\n",
    "blank-line-between-rows": lambda header, row: csv_text(header, row, "", OTHER_ROW[row]),
    "crlf": lambda header, row: csv_text(header, row).replace("\n", "\r\n"),
}


@pytest.mark.parametrize("layout", list(SPECIAL_LAYOUTS))
@pytest.mark.parametrize("role", list(HEADERS))
def test_layouts_are_tolerated_alike(
    role: str, layout: str, tmp_path: Path, files: Callable[..., list[str]]
) -> None:
    """All four CSV files are read the same way: BOM, blank lines and CRLF are fine."""
    content = SPECIAL_LAYOUTS[layout](HEADERS[role], VALID_ROW[role])
    path = write(tmp_path, f"{layout}_{role}.csv", content)
    ok_json(invoke(*files(ROLE_COMMAND[role], override={role: path}, extra=["--format", "json"])))


# --------------------------------------------------------------------------- bad rows


@dataclass(frozen=True)
class BadRow:
    id: str
    role: str
    row: str
    field: str
    contains: tuple[str, ...] = ()


BAD_ROWS = [
    # deliveries: supplier,sector,fuel,quantity,unit
    BadRow("empty-supplier", "deliveries", ",land,diesel,1000,l", "supplier"),
    BadRow("unknown-sector", "deliveries", "A,lucht,diesel,1000,l", "sector", ("lucht",)),
    BadRow("unknown-fuel", "deliveries", "A,land,kerosene,1000,l", "fuel", ("kerosene",)),
    BadRow("empty-fuel", "deliveries", "A,land,,1000,l", "fuel"),
    BadRow("diesel-in-kwh", "deliveries", "A,land,diesel,1000,kWh", "unit", ("kWh",)),
    BadRow("unknown-unit", "deliveries", "A,land,diesel,1000,gallon", "unit"),
    BadRow("energy-in-litres", "deliveries", "A,land,energy,1000,l", "unit"),
    BadRow("quantity-text", "deliveries", "A,land,diesel,lots,l", "quantity"),
    BadRow("quantity-negative", "deliveries", "A,land,diesel,-1000,l", "quantity"),
    BadRow("quantity-zero", "deliveries", "A,land,diesel,0,l", "quantity"),
    BadRow("quantity-7-decimals", "deliveries", "A,land,diesel,1.1234567,l", "quantity"),
    BadRow("quantity-exponent", "deliveries", "A,land,diesel,1e3,l", "quantity"),
    BadRow("quantity-thousands", "deliveries", 'A,land,diesel,"1,000,000",l', "quantity"),
    BadRow("quantity-empty", "deliveries", "A,land,diesel,,l", "quantity"),
    BadRow("quantity-nan", "deliveries", "A,land,diesel,NaN,l", "quantity"),
    BadRow("quantity-inf", "deliveries", "A,land,diesel,Infinity,l", "quantity"),
    # bookings: holder,sector,category,fuel,quantity,unit,ghg_intensity
    BadRow("empty-holder", "bookings", ",land,annex-ixa,hvo,1000,l,10", "holder"),
    BadRow("unknown-sector", "bookings", "H,lucht,annex-ixa,hvo,1000,l,10", "sector", ("lucht",)),
    BadRow("unknown-category", "bookings", "H,land,advanced,hvo,1000,l,10", "category"),
    BadRow("unknown-fuel", "bookings", "H,land,annex-ixa,kerosene,1000,l,10", "fuel"),
    BadRow("diesel-in-kwh", "bookings", "H,land,other,diesel,1000,kWh,10", "unit", ("kWh",)),
    BadRow("electricity-in-mj", "bookings", "H,land,other,electricity,1000,MJ,", "unit"),
    BadRow("quantity-text", "bookings", "H,land,annex-ixa,hvo,lots,l,10", "quantity"),
    BadRow("quantity-negative", "bookings", "H,land,annex-ixa,hvo,-1000,l,10", "quantity"),
    BadRow("quantity-zero", "bookings", "H,land,annex-ixa,hvo,0,l,10", "quantity"),
    BadRow("quantity-7-decimals", "bookings", "H,land,annex-ixa,hvo,1.1234567,l,10", "quantity"),
    BadRow("quantity-exponent", "bookings", "H,land,annex-ixa,hvo,1e3,l,10", "quantity"),
    BadRow("quantity-empty", "bookings", "H,land,annex-ixa,hvo,,l,10", "quantity"),
    BadRow("quantity-1e12", "bookings", "H,land,annex-ixa,hvo,1000000000000,l,10", "quantity"),
    BadRow("quantity-1e32", "bookings", "H,land,annex-ixa,hvo,1" + "0" * 32 + ",l,10", "quantity"),
    BadRow(
        "electricity-1e32",
        "bookings",
        "H,land,other,electricity,1" + "0" * 32 + ",kWh,",
        "quantity",
    ),
    BadRow("intensity-94", "bookings", "H,land,annex-ixa,hvo,1000,l,94", "ghg_intensity"),
    BadRow("intensity-120", "bookings", "H,land,annex-ixa,hvo,1000,l,120", "ghg_intensity"),
    BadRow("intensity-missing", "bookings", "H,land,annex-ixa,hvo,1000,l,", "ghg_intensity"),
    BadRow("intensity-text", "bookings", "H,land,annex-ixa,hvo,1000,l,low", "ghg_intensity"),
    BadRow("intensity-exponent", "bookings", "H,land,annex-ixa,hvo,1000,l,1e1", "ghg_intensity"),
    BadRow(
        "intensity-below-minus-1000",
        "bookings",
        "H,land,annex-ixa,biomethane,1000,kg,-1000.5",
        "ghg_intensity",
    ),
    BadRow(
        "intensity-minus-1e33",
        "bookings",
        "H,land,annex-ixa,biomethane,1000,kg,-1" + "0" * 33,
        "ghg_intensity",
    ),
    BadRow(
        "intensity-for-electricity",
        "bookings",
        "H,land,other,electricity,1000,kWh,0",
        "ghg_intensity",
    ),
    BadRow("rfnbo-above-28.2", "bookings", "H,land,rfnbo,hydrogen,1000,kg,28.3", "ghg_intensity"),
    BadRow(
        "conventional-in-zeevaart",
        "bookings",
        "H,zeevaart,conventional,hvo,1000,l,10",
        "category",
        ("zeevaart",),
    ),
    BadRow(
        "conventional-in-binnenvaart",
        "bookings",
        "H,binnenvaart,conventional,hvo,1000,l,10",
        "category",
    ),
    BadRow(
        "conventional-in-luchtvaart",
        "bookings",
        "H,luchtvaart,conventional,hvo,1000,l,10",
        "category",
    ),
    BadRow("annex-ixb-in-zeevaart", "bookings", "H,zeevaart,annex-ixb,hvo,1000,l,10", "category"),
    # units: holder,origin_sector,category,amount
    BadRow("empty-holder", "units", ",land,other,100", "holder"),
    BadRow("unknown-origin-sector", "units", "A,lucht,other,100", "origin_sector"),
    BadRow("unknown-category", "units", "A,land,advanced,100", "category", ("advanced",)),
    BadRow("amount-fractional", "units", "A,land,other,1.5", "amount"),
    BadRow("amount-negative", "units", "A,land,other,-1", "amount"),
    BadRow("amount-text", "units", "A,land,other,many", "amount"),
    BadRow("amount-exponent", "units", "A,land,other,1e3", "amount"),
    BadRow("amount-empty", "units", "A,land,other,", "amount"),
    # prices: origin_sector,category,price_eur
    BadRow("unknown-origin-sector", "prices", "lucht,other,0.2", "origin_sector"),
    BadRow("unknown-category", "prices", "land,advanced,0.2", "category", ("advanced",)),
    BadRow("price-negative", "prices", "land,rfnbo,-0.2", "price_eur"),
    BadRow("price-text", "prices", "land,rfnbo,cheap", "price_eur"),
    BadRow("price-empty", "prices", "land,rfnbo,", "price_eur"),
    BadRow("price-duplicate-type", "prices", "land,other,0.30", "category", ("land",)),
]


@pytest.mark.parametrize("case", BAD_ROWS, ids=lambda c: f"{c.role}-{c.id}")
def test_bad_row(case: BadRow, tmp_path: Path, files: Callable[..., list[str]]) -> None:
    """The bad row is data row 2 (after one valid row); the message names file, row, field."""
    bad = write(
        tmp_path,
        f"{case.role}_{case.id}.csv",
        csv_text(HEADERS[case.role], VALID_ROW[case.role], case.row),
    )
    run = invoke(
        *files(ROLE_COMMAND[case.role], override={case.role: bad}, extra=["--format", "json"])
    )
    assert_input_error(run, file=bad, row=2, field=case.field, contains=case.contains)


@pytest.mark.parametrize("command", ["compliance", "plan"])
def test_bad_deliveries_row_in_every_command(
    command: str, tmp_path: Path, files: Callable[..., list[str]]
) -> None:
    bad = write(tmp_path, "bad_d.csv", csv_text(DELIVERIES_HEADER, "A,land,diesel,1000,kWh"))
    run = invoke(*files(command, override={"deliveries": bad}))
    assert_input_error(run, file=bad, row=1, field="unit")


def test_bad_units_row_in_plan(tmp_path: Path, files: Callable[..., list[str]]) -> None:
    bad = write(tmp_path, "bad_u.csv", csv_text(UNITS_HEADER, "A,land,other,2.5"))
    run = invoke(*files("plan", override={"units": bad}))
    assert_input_error(run, file=bad, row=1, field="amount")


@pytest.mark.parametrize("role", list(HEADERS))
def test_row_number_is_the_data_row(
    role: str, tmp_path: Path, files: Callable[..., list[str]]
) -> None:
    """First data row = row 1: a bad 5th data row (6th line of the file) is reported as row 5."""
    bad_row = {
        "deliveries": "A,land,diesel,1e3,l",
        "bookings": "A,land,annex-ixa,hvo,1e3,l,10",
        "units": "A,land,other,1e3",
        "prices": "zeevaart,other,1e3",
    }[role]
    valid = {
        "deliveries": [f"S{i},land,diesel,{i + 1}000,l" for i in range(4)],
        "bookings": [f"H{i},land,annex-ixa,hvo,{i + 1}000,l,10" for i in range(4)],
        "units": [f"A,land,other,{i + 1}" for i in range(4)],
        "prices": ["land,other,0.2", "land,rfnbo,0.9", "land,annex-ixa,0.3", "binnenvaart,other,1"],
    }[role]
    bad = write(tmp_path, f"rowno_{role}.csv", csv_text(HEADERS[role], *valid, bad_row))
    run = invoke(*files(ROLE_COMMAND[role], override={role: bad}, extra=["--format", "json"]))
    field = {"deliveries": "quantity", "bookings": "quantity", "units": "amount"}.get(
        role, "price_eur"
    )
    message = assert_input_error(run, file=bad, row=5, field=field)
    assert not re.search(r"\brow 6\b", message)


def test_first_bad_row_is_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "two_bad.csv",
        csv_text(
            BOOKINGS_HEADER,
            VALID_ROW["bookings"],
            VALID_ROW["bookings"],
            "H,land,annex-ixa,hvo,1000,l,94",
            "H,land,advanced,hvo,1000,l,10",
        ),
    )
    run = invoke("ev", "units", "--year", 2026, "--bookings", path)
    assert_input_error(run, file=path, row=3, field="ghg_intensity")


# --------------------------------------------------------------------------- bad flags


def test_unknown_params_lists_known_sets(files: Callable[..., list[str]]) -> None:
    for command in COMMAND_FILES:
        run = invoke(*files(command, extra=["--params", "nope"]))
        assert_input_error(run, contains=["nope", "bijlage-1", "besluit-2025"])
    run = invoke("ev", "params", "--params", "nope")
    assert_input_error(run, contains=["nope", "bijlage-1", "besluit-2025"])


@pytest.mark.parametrize("command", list(COMMAND_FILES))
def test_year_outside_coverage(command: str, files: Callable[..., list[str]]) -> None:
    """The year is wrong, not a row: the error names --year and the years the tables cover
    (Bijlage 1: 2026–2030), before any file is read."""
    run = invoke(*files(command, year=2031))
    message = assert_input_error(run, contains=["--year 2031", "'bijlage-1'", "2026–2030"])
    assert ".csv" not in message


@pytest.mark.parametrize("command", list(COMMAND_FILES))
def test_year_outside_coverage_with_header_only_files(command: str, tmp_path: Path) -> None:
    """Files without rows printed ``[]`` with exit code 0 for a year no table covers."""
    args = ["ev", command, "--year", "2031"]
    for role in COMMAND_FILES[command]:
        args += [f"--{role}", str(write(tmp_path, f"{role}.csv", csv_text(HEADERS[role])))]
    assert_input_error(invoke(*args), contains=["--year 2031", "2026–2030"])


def test_unknown_sector_in_a_bookings_file_is_called_unknown(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "b.csv",
        csv_text(BOOKINGS_HEADER, VALID_ROW["bookings"], "H,Land,annex-ixa,hvo,1000,l,10"),
    )
    run = invoke("ev", "units", "--year", 2026, "--bookings", path)
    assert_input_error(
        run,
        file=path,
        row=2,
        field="sector",
        contains=["unknown sector 'Land' (known: land, binnenvaart, zeevaart, luchtvaart)"],
    )


@pytest.mark.parametrize("command", list(COMMAND_FILES))
def test_year_before_the_system(command: str, files: Callable[..., list[str]]) -> None:
    run = invoke(*files(command, year=2025))
    assert_input_error(run, contains=["2025"])


def test_electricity_in_2027_grid_share_unknown(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "elec_2027.csv",
        csv_text(BOOKINGS_HEADER, VALID_ROW["bookings"], "L,land,other,electricity,1000,kWh,"),
    )
    run = invoke("ev", "units", "--year", 2027, "--bookings", path, "--format", "json")
    assert_input_error(run, file=path, row=2, contains=["ev.grid_renewable_share"])


def test_fuel_bookings_in_2027_need_no_grid_share(tmp_path: Path) -> None:
    path = write(tmp_path, "fuel_2027.csv", csv_text(BOOKINGS_HEADER, VALID_ROW["bookings"]))
    data = ok_json(invoke("ev", "units", "--year", 2027, "--bookings", path, "--format", "json"))
    assert data[0]["units"] == 1_428_000


@pytest.mark.parametrize("command", ["obligation", "compliance", "plan"])
def test_besluit_zeevaart_2027_unknown(
    command: str, tmp_path: Path, files: Callable[..., list[str]]
) -> None:
    deliveries = write(tmp_path, "zee.csv", csv_text(DELIVERIES_HEADER, "A,zeevaart,hfo,1000,kg"))
    run = invoke(
        *files(
            command,
            year=2027,
            override={"deliveries": deliveries},
            extra=["--params", "besluit-2025"],
        )
    )
    assert_input_error(run, contains=["zeevaart", "unknown", "besluit-2025"])


@pytest.mark.parametrize("command", ["obligation", "compliance", "plan"])
def test_besluit_luchtvaart_deliveries_refused(
    command: str, tmp_path: Path, files: Callable[..., list[str]]
) -> None:
    deliveries = write(
        tmp_path,
        "lucht.csv",
        csv_text(DELIVERIES_HEADER, "A,land,diesel,1000,l", "A,luchtvaart,energy,1000,GJ"),
    )
    run = invoke(
        *files(command, override={"deliveries": deliveries}, extra=["--params", "besluit-2025"])
    )
    assert_input_error(run, file=deliveries, row=2, field="sector", contains=["luchtvaart"])


def test_besluit_luchtvaart_bookings_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "lucht_b.csv",
        csv_text(BOOKINGS_HEADER, VALID_ROW["bookings"], "H,luchtvaart,other,hvo,1000,l,10"),
    )
    run = invoke("ev", "units", "--year", 2026, "--params", "besluit-2025", "--bookings", path)
    assert_input_error(run, file=path, row=2, field="sector", contains=["luchtvaart"])


@pytest.mark.parametrize("command", [*COMMAND_FILES, "params"])
def test_unknown_format_is_usage_error(command: str, files: Callable[..., list[str]]) -> None:
    args = (
        ["ev", "params", "--format", "xml"]
        if command == "params"
        else files(command, extra=["--format", "xml"])
    )
    message = assert_input_error(invoke(*args), contains=["'--format'", "'xml'", "'table'"])
    assert message.endswith(f"(see keten ev {command} --help)")


@pytest.mark.parametrize("command", list(COMMAND_FILES))
def test_explain_with_csv_refused(command: str, files: Callable[..., list[str]]) -> None:
    run = invoke(*files(command, extra=["--format", "csv", "--explain"]))
    assert_input_error(run, contains=["--explain", "csv"])


@pytest.mark.parametrize("command", list(COMMAND_FILES))
def test_year_not_a_number_is_usage_error(command: str, files: Callable[..., list[str]]) -> None:
    args = files(command)
    args[args.index("--year") + 1] = "twenty"
    assert_input_error(invoke(*args), contains=["Invalid value for '--year'", "integer"])


@pytest.mark.parametrize("command", list(COMMAND_FILES))
def test_missing_required_option_is_usage_error(command: str) -> None:
    run = invoke("ev", command, "--year", 2026)
    role = COMMAND_FILES[command][0]
    assert_input_error(run, contains=[f"Missing option '--{role}'", f"keten ev {command} --help"])


@pytest.mark.parametrize("command", list(COMMAND_FILES))
def test_unknown_option_is_one_line(command: str, files: Callable[..., list[str]]) -> None:
    run = invoke(*files(command, extra=["--yaer", "2026"]))
    assert_input_error(run, contains=["No such option: --yaer", "--year"])


def test_unknown_command_is_one_line() -> None:
    run = invoke("ev", "oblgation", "--year", 2026)
    assert_input_error(run, contains=["No such command 'oblgation'", "'obligation'"])


# --------------------------------------------------------------------------- parquet bookings

_PQ_TEXT = {
    "holder": ["Brandstof BV", "Laadpunt", "Noordzee", "Bio"],
    "sector": ["land", "land", "luchtvaart", "land"],
    "category": ["annex-ixa", "other", "annex-ixb", "annex-ixa"],
    "fuel": ["hvo", "electricity", "hvo", "biomethane"],
    "unit": ["l", "kWh", "l", "kg"],
}
_PQ_QUANTITY = ["500000.5", "2000000", "100000", "1234.123456"]
_PQ_INTENSITY = ["10.25", None, "20", "-12.5"]


def _parquet_csv(tmp_path: Path) -> Path:
    lines = []
    for i in range(4):
        cells = [_PQ_TEXT[c][i] for c in ("holder", "sector", "category", "fuel")]
        lines.append(
            ",".join([*cells, _PQ_QUANTITY[i], _PQ_TEXT["unit"][i], _PQ_INTENSITY[i] or ""])
        )
    return write(tmp_path, "pq_twin.csv", csv_text(BOOKINGS_HEADER, *lines))


def _write_parquet(path: Path, quantity: Any, intensity: Any) -> Path:
    table = pa.table({**_PQ_TEXT, "quantity": quantity, "ghg_intensity": intensity})
    pq.write_table(table, path)
    return path


def _units_json(path: Path) -> Any:
    return ok_json(invoke("ev", "units", "--year", 2026, "--bookings", path, "--format", "json"))


def _dec(values: list[str | None], scale: int) -> Any:
    return pa.array([None if v is None else Decimal(v) for v in values], pa.decimal128(20, scale))


def test_parquet_decimal_columns_equal_csv(tmp_path: Path) -> None:
    path = _write_parquet(tmp_path / "ok.parquet", _dec(_PQ_QUANTITY, 6), _dec(_PQ_INTENSITY, 2))
    from_parquet, from_csv = _units_json(path), _units_json(_parquet_csv(tmp_path))
    assert from_parquet == from_csv
    assert [o["units"] for o in from_csv][:3] == [1_423_751, 665_388, 251_600]


@pytest.mark.parametrize(
    ("q_precision", "ci_precision"),
    [(38, 38), (16, 5), (38, 4), (24, 30)],
)
def test_parquet_decimals_of_any_precision_equal_csv(
    tmp_path: Path, q_precision: int, ci_precision: int
) -> None:
    """Decimals are rescaled to 10^6 from their Int128 when that cannot overflow (precision −
    scale + 6 ≤ 38) and by a decimal cast otherwise; both give the CSV's units exactly."""
    quantity = pa.array([Decimal(v) for v in _PQ_QUANTITY], pa.decimal128(q_precision, 6))
    intensity = pa.array(
        [None if v is None else Decimal(v) for v in _PQ_INTENSITY],
        pa.decimal128(ci_precision, 2),
    )
    path = _write_parquet(tmp_path / "p.parquet", quantity, intensity)
    from_parquet, from_csv = _units_json(path), _units_json(_parquet_csv(tmp_path))
    assert from_parquet == from_csv


@pytest.mark.parametrize("precision", [38, 31])  # decimal cast / Int128 rescaled
def test_parquet_decimal_too_large_is_refused_as_in_csv(tmp_path: Path, precision: int) -> None:
    big = ["1" + "0" * 30, "2000000", "100000", "1234"]  # 10^30 l: beyond any quantity
    quantity = pa.array([Decimal(v) for v in big], pa.decimal128(precision, 0))
    path = _write_parquet(tmp_path / "big.parquet", quantity, _dec(_PQ_INTENSITY, 2))
    run = invoke("ev", "units", "--year", 2026, "--bookings", path)
    assert run.exit_code == 2 and run.stdout == ""
    assert "row 1, field 'quantity'" in run.stderr


def test_parquet_string_columns_equal_csv(tmp_path: Path) -> None:
    path = _write_parquet(tmp_path / "str.parquet", pa.array(_PQ_QUANTITY), pa.array(_PQ_INTENSITY))
    from_parquet, from_csv = _units_json(path), _units_json(_parquet_csv(tmp_path))
    assert from_parquet == from_csv


def test_parquet_integer_columns_accepted(tmp_path: Path) -> None:
    path = _write_parquet(
        tmp_path / "int.parquet",
        pa.array([500000, 2000000, 100000, 1000], pa.int64()),
        pa.array([10, None, 20, -12], pa.int32()),
    )
    data = ok_json(invoke("ev", "units", "--year", 2026, "--bookings", path, "--format", "json"))
    assert [o["units"] for o in data][:3] == [1_428_000, 665_388, 251_600]


@pytest.mark.parametrize("column", ["quantity", "ghg_intensity"])
@pytest.mark.parametrize("float_type", ["float64", "float32"])
def test_parquet_float_column_refused(column: str, float_type: str, tmp_path: Path) -> None:
    ftype = getattr(pa, float_type)()
    quantity = pa.array([500000.0, 2000000.0, 100000.0, 1000.0], ftype)
    intensity = pa.array([10.0, None, 20.0, -12.0], ftype)
    path = _write_parquet(
        tmp_path / f"float_{column}.parquet",
        quantity if column == "quantity" else _dec(_PQ_QUANTITY, 6),
        intensity if column == "ghg_intensity" else _dec(_PQ_INTENSITY, 2),
    )
    run = invoke("ev", "units", "--year", 2026, "--bookings", path, "--format", "json")
    assert_input_error(run, file=path, field=column)


def test_parquet_seven_decimals_refused(tmp_path: Path) -> None:
    path = _write_parquet(
        tmp_path / "d7.parquet",
        _dec(["1.1234567", "2", "3", "4"], 7),
        _dec(_PQ_INTENSITY, 2),
    )
    run = invoke("ev", "units", "--year", 2026, "--bookings", path)
    assert_input_error(run, file=path, field="quantity")


def test_parquet_bad_row_named(tmp_path: Path) -> None:
    path = _write_parquet(
        tmp_path / "neg.parquet",
        _dec(["500000", "2000000", "-5", "4"], 3),
        _dec(_PQ_INTENSITY, 2),
    )
    run = invoke("ev", "units", "--year", 2026, "--bookings", path)
    assert_input_error(run, file=path, row=3, field="quantity")


def test_parquet_missing_column(tmp_path: Path) -> None:
    table = pa.table(
        {k: v for k, v in _PQ_TEXT.items() if k != "unit"}
        | {"quantity": _dec(_PQ_QUANTITY, 6), "ghg_intensity": _dec(_PQ_INTENSITY, 2)}
    )
    path = tmp_path / "miss.parquet"
    pq.write_table(table, path)
    run = invoke("ev", "units", "--year", 2026, "--bookings", path)
    assert_input_error(run, file=path, contains=["unit"])


def test_parquet_not_parquet(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.parquet", b"this is not a parquet file\n")
    run = invoke("ev", "units", "--year", 2026, "--bookings", path)
    assert_input_error(run, file=path)


def test_subprocess_parquet_float_refused(tmp_path: Path) -> None:
    path = _write_parquet(
        tmp_path / "float_sub.parquet",
        pa.array([500000.0, 2000000.0, 100000.0, 1000.0], pa.float64()),
        _dec(_PQ_INTENSITY, 2),
    )
    run = run_process("ev", "units", "--year", 2026, "--bookings", path, "--format", "json")
    assert_input_error(run, file=path, field="quantity")


# =========================================================================== 3. large input


def _random_bookings(n: int, seed: int = 20260101) -> list[list[str]]:
    from keten.core.params import load_set
    from keten.ev.energy import fuel_catalogue
    from keten.ev.model import CATEGORIES
    from keten.ev.units import NOT_BOOKABLE

    catalogue = fuel_catalogue(load_set("ev", "bijlage-1"))
    pairs = [(f, u) for f, us in catalogue.items() for u in us]
    types = [
        (s, c)
        for s in ("land", "binnenvaart", "zeevaart", "luchtvaart")
        for c in CATEGORIES
        if (s, c) not in NOT_BOOKABLE
    ]
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        sector, category = rng.choice(types)
        fuel, unit = rng.choice(pairs)
        whole = rng.randint(1, 10 ** rng.randint(0, 9))
        decimals = rng.randint(0, 6)
        quantity = (
            f"{whole}.{rng.randint(0, 10**decimals - 1):0{decimals}d}" if decimals else str(whole)
        )
        if fuel == "electricity":
            intensity = ""
        else:
            top = Decimal("28.2") if category == "rfnbo" else Decimal("93.999999")
            low = Decimal(-1000)
            step = Decimal("0.000001")
            span = int((top - low) / step)
            intensity = str(low + step * rng.randint(0, span))
            if rng.random() < 0.5:
                intensity = str(Decimal(intensity).quantize(Decimal("0.01"), rounding="ROUND_DOWN"))
            if rng.random() < 0.1:
                intensity = intensity.replace(".", ",")
        if rng.random() < 0.1:
            quantity = quantity.replace(".", ",")
        rows.append([f"holder{i % 97}", sector, category, fuel, quantity, unit, intensity])
    return rows


def test_large_bookings_file_matches_per_row_rule(tmp_path: Path) -> None:
    from keten.core.params import load_set
    from keten.core.quantity import parse_number
    from keten.core.trace import Trace
    from keten.ev.model import Booking
    from keten.ev.units import units_for_booking

    n = 20_000
    rows = _random_bookings(n)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(BOOKINGS_HEADER.split(","))
    writer.writerows(rows)
    path = write(tmp_path, "large_bookings.csv", buf.getvalue())

    pset = load_set("ev", "bijlage-1")
    expected = []
    for holder, sector, category, fuel, quantity, unit, intensity in rows:
        booking = Booking(
            holder,
            sector,
            category,
            fuel,
            parse_number(quantity),
            unit,
            parse_number(intensity) if intensity else None,
        )
        expected.append(units_for_booking(booking, 2026, Trace(pset)).units)

    start = time.perf_counter()
    run = run_process("ev", "units", "--year", 2026, "--bookings", path, "--format", "csv")
    elapsed = time.perf_counter() - start
    assert run.exit_code == 0, run.describe()[:2000]
    out = list(csv.DictReader(io.StringIO(run.stdout)))
    assert len(out) == n
    got = [int(r["units"]) for r in out]
    assert sum(got) == sum(expected)
    assert sorted(got) == sorted(expected)
    assert elapsed < 60, f"20,000 rows took {elapsed:.1f} s"


def test_large_bookings_file_rows_in_order(tmp_path: Path) -> None:
    """Each output row is the units of the input row at the same position."""
    from keten.core.params import load_set
    from keten.core.quantity import parse_number
    from keten.core.trace import Trace
    from keten.ev.model import Booking
    from keten.ev.units import units_for_booking

    rows = _random_bookings(5_000, seed=7)
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([BOOKINGS_HEADER.split(","), *rows])
    path = write(tmp_path, "ordered_bookings.csv", buf.getvalue())
    pset = load_set("ev", "bijlage-1")
    expected = [
        units_for_booking(
            Booking(h, s, c, f, parse_number(q), u, parse_number(ci) if ci else None),
            2026,
            Trace(pset),
        ).units
        for h, s, c, f, q, u, ci in rows
    ]
    out = list(
        csv.DictReader(
            io.StringIO(
                invoke("ev", "units", "--year", 2026, "--bookings", path, "--format", "csv").stdout
            )
        )
    )
    assert [int(r["units"]) for r in out] == expected
    assert [r["holder"] for r in out] == [r[0] for r in rows]


def test_table_plan_names_what_to_buy_and_the_receipt_is_whole(small: dict[str, Path]) -> None:
    """The plan table showed the purchases as "4 items"; the explanation's receipt cut each
    sha256 to 16 characters, so it could not be checked against ``sha256sum``."""
    run = invoke(
        "ev", "plan", "--year", 2026, "--deliveries", EXAMPLES_EV / "deliveries.csv",
        "--units", EXAMPLES_EV / "units.csv", "--prices", EXAMPLES_EV / "prices.csv", "--explain",
    )  # fmt: skip
    assert run.exit_code == 0, run.describe()
    out = " ".join(run.stdout.split())  # the console may fold long lines
    assert (
        "purchases Brandstof BV: 11520 binnenvaart/other at €0.25, 72616 land/annex-ixa at "
        "€0.35, 927104 land/annex-ixb at €0.18, 23117 land/rfnbo at €0.90"
    ) in out
    assert "Explanation — Brandstof BV" in out and "Brandstof BV true" not in out
    lhv = params_root() / "ev" / "common" / "lhv.yaml"
    assert f"sha256:{hashlib.sha256(lhv.read_bytes()).hexdigest()}" in out.replace(" ", "")
