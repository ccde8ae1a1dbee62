"""Shared fixtures: databases. PostgreSQL tests start a throwaway server of their own.

The server comes from the machine's PostgreSQL binaries (``KETEN_PG_BIN`` or
/usr/lib/postgresql/15/bin); as root they run as the ``postgres`` user (PostgreSQL refuses root).
No mocks: every database test runs on a real SQLite file and on a real PostgreSQL server.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

# CI runs the property tests with a fixed seed, so a run is reproducible and never fails by luck
# on a case a previous run did not meet; developers explore new cases on every run.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "default")

PG_BIN = Path(os.environ.get("KETEN_PG_BIN", "/usr/lib/postgresql/15/bin"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_postgres(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A PostgreSQL server for this test session; yields a base URL without database name."""
    if not (PG_BIN / "initdb").exists():
        pytest.fail(f"PostgreSQL binaries not found in {PG_BIN} (set KETEN_PG_BIN)")
    base = Path(tempfile.mkdtemp(prefix="keten-pg-"))
    data, sock = base / "data", base / "sock"
    data.mkdir()
    sock.mkdir()
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
        shutil.chown(data, "postgres")
        shutil.chown(sock, "postgres")
    port = _free_port()
    run = lambda args: subprocess.run(_as_postgres(args), check=True, capture_output=True)  # noqa: E731
    run([str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync"])
    opts = f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100"
    run(
        [
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            opts,
            "-l",
            str(base / "log"),
            "-w",
            "start",
        ]
    )
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(
            _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(base, ignore_errors=True)


_db_counter = iter(range(1, 10**9))


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database on each engine."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'keten.db'}"
    server: str = request.getfixturevalue("postgres_server")
    import sqlalchemy as sa

    name = f"t{next(_db_counter)}_{os.getpid()}"
    admin = sa.create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return f"{server}/{name}"
