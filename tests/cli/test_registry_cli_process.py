"""`keten registry` as a newcomer runs it: each command a fresh process (not CliRunner in the test
process, where every model module is already imported).

Pins a defect found while writing docs/register.md: in a fresh process `create-user` failed with
"Foreign key associated with column 'reg_user.pact_org_id' could not find table 'pact_org'"
because the PACT models were not loaded with the register's models.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

KETEN = str(Path(sys.executable).with_name("keten"))
PW = "een lang wachtwoord 2026"


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
