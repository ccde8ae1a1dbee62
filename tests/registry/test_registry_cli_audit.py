"""`keten registry import-bookings` as a user runs it, each command a fresh process (audit)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, func, select

from keten.store.models import ChargingSession

KETEN = str(Path(sys.executable).with_name("keten"))
PW = "een lang wachtwoord 2026"
HEADER = "connection_id,meter_id,period_start,period_end,kwh,own_generation\n"


def keten(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "KETEN_DATABASE_URL": f"sqlite:///{tmp_path / 'keten.db'}",
        "KETEN_PASSWORD": PW,
        "COLUMNS": "200",
    }
    return subprocess.run(
        [KETEN, "registry", *args], env=env, cwd=tmp_path, capture_output=True, text=True
    )


def test_second_file_under_the_same_proof_is_refused_not_reported_as_booked(
    tmp_path: Path,
) -> None:
    """Before the fix the default key was (proof, year) and the fingerprint held only the totals:
    a second file with other sessions but the same kWh and row count printed "booking 1
    proposed" with exit 0 and booked none of its sessions."""
    for args in (
        ["init"],
        ["create-holder", "Laad BV", "--book", "--service-provider"],
        ["create-user", "lp", "--role", "rekeningbevoegde", "--holder", "Laad BV"],
    ):
        assert keten(tmp_path, *args).returncode == 0
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text(HEADER + "C1,M1,2026-06-01,2026-06-30,100,0\n", encoding="utf-8")
    b.write_text(HEADER + "C2,M1,2026-06-01,2026-06-30,100,0\n", encoding="utf-8")
    imp = ["import-bookings", "--user", "lp", "--proof-ref", "LP-3", "--year", "2026"]
    r = keten(tmp_path, *imp[:1], str(a), *imp[1:])
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("booking 1 proposed")
    r = keten(tmp_path, *imp[:1], str(a), *imp[1:])  # the same command again: applied once
    assert r.returncode == 0 and r.stdout.startswith("booking 1 proposed")
    r = keten(tmp_path, *imp[:1], str(b), *imp[1:])
    assert r.returncode == 2
    assert r.stdout == ""
    assert r.stderr.strip() == "error: proof 'LP-3' is booked already"
    engine = create_engine(f"sqlite:///{tmp_path / 'keten.db'}")
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ChargingSession)).scalar() == 1
    engine.dispose()


def test_without_a_password_and_a_terminal_the_error_is_one_line(tmp_path: Path) -> None:
    """Audit: without KETEN_PASSWORD and without a terminal the commands printed a getpass
    warning and "Aborted." with exit 1. Now one line, exit 2; a password piped on standard input
    is used, so scripts can pass it without a terminal."""
    assert keten(tmp_path, "init").returncode == 0
    assert keten(tmp_path, "create-user", "nea", "--role", "toezichthouder").returncode == 0
    env = {k: v for k, v in os.environ.items() if k != "KETEN_PASSWORD"}
    env["KETEN_DATABASE_URL"] = f"sqlite:///{tmp_path / 'keten.db'}"

    def run(args: list[str], stdin: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [KETEN, "registry", *args], env=env, input=stdin, capture_output=True, text=True
        )

    for args in (
        ["create-token", "nea"],
        ["close-year", "--year", "2026", "--run", "--user", "nea"],
        ["create-user", "nea2", "--role", "toezichthouder"],
    ):
        r = run(args, "")
        assert r.returncode == 2, (args, r.stderr)
        assert r.stdout == ""
        assert r.stderr == "error: no password: set KETEN_PASSWORD or give it on standard input\n"
    r = run(["create-token", "nea"], PW + "\n")
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.strip()) >= 32  # the token, shown once
