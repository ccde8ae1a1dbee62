"""`keten registry` as a newcomer runs it: each command a fresh process (not CliRunner in the test
process, where every model module is already imported).

Pins a defect found while writing docs/register.md: in a fresh process `create-user` failed with
"Foreign key associated with column 'reg_user.pact_org_id' could not find table 'pact_org'"
because the PACT models were not loaded with the register's models; and two defects of the
fifth session's audit (a second session file replayed as the first; a password without a terminal).
"""

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


def test_setup_commands_each_in_a_fresh_process(tmp_path: Path) -> None:
    assert keten(tmp_path, "init").returncode == 0
    r = keten(tmp_path, "create-holder", "Brandstof BV", "--book", "--obligation")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "holder 1: Brandstof BV"
    r = keten(
        tmp_path, "create-user", "alice", "--role", "rekeningbevoegde", "--holder", "Brandstof BV"
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "user 1: alice (rekeningbevoegde)"
    r = keten(tmp_path, "create-user", "nea", "--role", "toezichthouder")
    assert r.returncode == 0, r.stderr
    r = keten(tmp_path, "create-token", "alice", "--label", "guide")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("kt_") and len(r.stdout.strip()) > 20
    r = keten(tmp_path, "verify")
    assert r.returncode == 0, r.stdout + r.stderr


def test_bad_user_input_is_one_line_and_creates_nothing(tmp_path: Path) -> None:
    assert keten(tmp_path, "init").returncode == 0
    r = keten(tmp_path, "create-user", "dave", "--role", "fiatteur", "--holder", "Nope BV")
    assert r.returncode == 2
    assert r.stderr.strip() == "error: unknown holder 'Nope BV'"
    assert r.stdout == ""
    r = keten(tmp_path, "create-user", "dave", "--role", "koning")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    # Nothing was created: the name is still free, so the first real user gets id 1.
    r = keten(tmp_path, "create-user", "dave", "--role", "verificateur")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "user 1: dave (verificateur)"


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
