"""Register benchmark 2 (issue #3) and the helpers the other register benchmarks share.

Bulk import of N charging sessions (default 1,000,000) from CSV through
``keten.registry.sessions.import_sessions`` (the path of ``POST /bookings/bulk``), on SQLite and on
PostgreSQL: rows per second, with a plain polars read of the same file as the baseline in the
same run. Goal: ≥ 100,000 rows/s.

    python benchmarks/registry_bench.py [--sessions 1000000]

Benchmark 1 (transfers vs pgbench) is ``registry_transfers.py``; benchmark 3 (year-end closing of
10 million lots) is ``registry_closing.py``.

The PostgreSQL server is started from the machine's binaries (KETEN_PG_BIN or
/usr/lib/postgresql/15/bin) in a temporary folder and stopped at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl

from keten.core.params import load_set
from keten.ledger.service import Ledger
from keten.registry.service import Registry
from keten.registry.sessions import import_sessions
from keten.store.db import make_engine, session_factory, upgrade

PG_BIN = Path(os.environ.get("KETEN_PG_BIN", "/usr/lib/postgresql/15/bin"))


def _as_pg(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@contextmanager
def postgres() -> Iterator[tuple[str, int, Path]]:
    base = Path(tempfile.mkdtemp(prefix="keten-bench-pg-"))
    data, sock = base / "data", base / "sock"
    data.mkdir()
    sock.mkdir()
    if os.geteuid() == 0:
        for p in (base, data, sock):
            shutil.chown(p, "postgres")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    run = lambda a: subprocess.run(_as_pg(a), check=True, capture_output=True)  # noqa: E731
    run([str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"])
    opts = f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c max_connections=50"
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
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}", port, sock
    finally:
        subprocess.run(
            _as_pg([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(base, ignore_errors=True)


def createdb(port: int, sock: Path, name: str) -> None:
    args = [str(PG_BIN / "createdb"), "-h", str(sock), "-p", str(port), "-U", "postgres", name]
    subprocess.run(_as_pg(args), check=True, capture_output=True)


def pgbench_tps(port: int, sock: Path, seconds: int, clients: int = 8) -> float:
    """pgbench TPC-B: scale 8, ``clients`` connections, 2 threads, prepared statements."""
    createdb(port, sock, "pgb")
    common = ["-h", str(sock), "-p", str(port), "-U", "postgres"]
    subprocess.run(
        _as_pg([str(PG_BIN / "pgbench"), "-i", "-s", "8", *common, "pgb"]),
        check=True,
        capture_output=True,
    )
    out = subprocess.run(
        _as_pg(
            [
                str(PG_BIN / "pgbench"),
                *("-c", str(clients), "-j", "2", "-M", "prepared", "-T", str(seconds)),
                *common,
                "pgb",
            ]
        ),
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    match = re.search(r"tps = ([0-9.]+)", out)
    if not match:
        raise RuntimeError(f"pgbench printed no tps:\n{out}")
    return float(match.group(1))


def sessions_file(path: Path, rows: int) -> None:
    frame = pl.DataFrame(
        {
            "connection_id": [f"EAN{i:012d}" for i in range(rows)],
            "meter_id": [f"M{i % 9973}" for i in range(rows)],
            "period_start": ["2026-01-01"] * rows,
            "period_end": ["2026-03-31"] * rows,
            "kwh": [f"{(i % 5000) + 1}.{i % 1000:03d}" for i in range(rows)],
            "own_generation": ["nee" if i % 7 else "ja" for i in range(rows)],
        }
    )
    frame.write_csv(path)


def bulk_import(url: str, path: Path, rows: int) -> tuple[float, float]:
    engine = make_engine(url)
    upgrade(engine)
    now = dt.datetime(2026, 4, 15, tzinfo=dt.UTC)
    reg = Registry(Ledger(session_factory(engine), clock=lambda: now), load_set("ev", "bijlage-1"))
    reg.init()
    reg.create_holder("Laad BV", can_book=True, is_service_provider=True, actor="b", key="h")
    reg.create_user("sam", "a long password!", "rekeningbevoegde", "Laad BV", actor="b", key="u")
    sam = reg.login("sam", "a long password!")
    t = time.perf_counter()
    pl.read_csv(path, infer_schema=False)
    base = time.perf_counter() - t
    t = time.perf_counter()
    import_sessions(reg, sam, path, proof_ref="BENCH", year=2026, key="bench")
    took = time.perf_counter() - t
    engine.dispose()
    return rows / took, base


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=1_000_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "sessions.csv"
        sessions_file(csv, args.sessions)
        rate, base = bulk_import(f"sqlite:///{tmp}/bench.db", csv, args.sessions)
        _report("SQLite    ", rate, args.sessions / base)
        with postgres() as (url, port, sock):
            createdb(port, sock, "imp")
            rate, base = bulk_import(f"{url}/imp", csv, args.sessions)
            _report("PostgreSQL", rate, args.sessions / base)


def _report(engine: str, rate: float, read: float) -> None:
    print(
        f"bulk import {engine}: {rate:,.0f} rows/s (goal ≥ 100,000; baseline polars read_csv "
        f"alone {read:,.0f} rows/s; ratio import / read {rate / read:.3f})"
    )


if __name__ == "__main__":
    main()
