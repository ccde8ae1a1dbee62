"""Crash safety: the web service is killed with SIGKILL in the middle of a bulk import and in the
middle of a stream of transfers. After a restart ``verify`` passes, no partial import is visible,
and retrying every request with its idempotency key applies each exactly once. SQLite and
PostgreSQL; the server is the real ``keten serve`` in its own process."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import polars as pl
import pytest
from sqlalchemy import func, select

from keten.core.params import load_set
from keten.ledger.service import Ledger
from keten.ledger.verify import verify
from keten.registry.service import BookingInput, Registry
from keten.store.db import make_engine, session_factory, upgrade
from keten.store.models import ChargingSession

PW = "correct horse battery"
YEAR = dt.date.today().year  # registration for the current year is always open


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, url: str) -> None:
        self.url, self.port = url, _port()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {**os.environ, "KETEN_DATABASE_URL": self.url}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "keten.cli.main", "serve", "--port", str(self.port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.base}/api/v1/openapi.json", timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("keten serve did not start")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
def world(database_url: str) -> Iterator[tuple[Registry, Server, dict[str, str]]]:
    engine = make_engine(database_url)
    upgrade(engine)
    reg = Registry(Ledger(session_factory(engine)), load_set("ev", "bijlage-1"))
    reg.init()
    reg.create_holder("Laad BV", can_book=True, is_service_provider=True, actor="t", key="h1")
    reg.create_holder("Handel BV", actor="t", key="h2")
    tokens = {}
    for name, role in (("sam", "rekeningbevoegde"), ("fay", "fiatteur")):
        reg.create_user(name, PW, role, "Laad BV", actor="t", key=f"u-{name}")
        tokens[name] = reg.create_token(reg.login(name, PW), "t", key=f"tok-{name}")
    server = Server(database_url)
    server.start()
    yield reg, server, tokens
    if server.proc and server.proc.poll() is None:
        server.kill()
    engine.dispose()


def _sessions(reg: Registry) -> int:
    with reg.ledger.sessions() as s:
        return int(s.execute(select(func.count()).select_from(ChargingSession)).scalar() or 0)


def _ok(reg: Registry) -> None:
    with reg.ledger.sessions() as s:
        assert verify(s) == []


def test_kill_during_bulk_import(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    reg, server, tokens = world
    rows = 150_000
    path = tmp_path / "sessions.csv"
    pl.DataFrame(
        {
            "connection_id": [f"EAN{i}" for i in range(rows)],
            "meter_id": ["M"] * rows,
            "period_start": [f"{YEAR}-01-01"] * rows,
            "period_end": [f"{YEAR}-01-31"] * rows,
            "kwh": ["12.5"] * rows,
            "own_generation": ["nee"] * rows,
        }
    ).write_csv(path)
    headers = {"Authorization": f"Bearer {tokens['sam']}", "Idempotency-Key": "bulk-1"}

    def upload() -> None:
        try:
            with path.open("rb") as f:
                httpx.post(
                    f"{server.base}/api/v1/bookings/bulk",
                    headers=headers,
                    data={"proof_ref": "Q-crash", "year": str(YEAR)},
                    files={"file": ("s.csv", f, "text/csv")},
                    timeout=120,
                )
        except httpx.HTTPError:
            pass  # the server died under us

    t = threading.Thread(target=upload)
    t.start()
    time.sleep(1.0)
    server.kill()
    t.join()
    assert _sessions(reg) in (0, rows)  # all or nothing
    _ok(reg)
    server.start()
    for _ in range(2):  # the client retries with the same key: applied exactly once
        with path.open("rb") as f:
            r = httpx.post(
                f"{server.base}/api/v1/bookings/bulk",
                headers=headers,
                data={"proof_ref": "Q-crash", "year": str(YEAR)},
                files={"file": ("s.csv", f, "text/csv")},
                timeout=120,
            )
        assert r.status_code == 201, r.text
    assert _sessions(reg) == rows
    _ok(reg)


def test_kill_during_a_stream_of_transfers(world) -> None:  # type: ignore[no-untyped-def]
    reg, server, tokens = world
    sam, fay = reg.login("sam", PW), reg.login("fay", PW)
    bid = reg.propose_booking(
        sam,
        BookingInput("PoS-c", YEAR, "land", "other", "electricity", "100000", "kWh", None),
        key="p",
    )
    reg.decide_booking(fay, bid, approve=True, key="a")
    start = reg.ledger.balances("holder:Laad BV")[("land/other", YEAR)]
    n = 60
    sent: list[int] = []

    def stream() -> None:
        with httpx.Client(base_url=server.base, timeout=10) as c:
            for i in range(n):
                try:
                    r = c.post(
                        "/api/v1/transfers",
                        json={
                            "to_holder": "Handel BV",
                            "lines": [{"unit_type": "land/other", "vintage": YEAR, "amount": 10}],
                        },
                        headers={
                            "Authorization": f"Bearer {tokens['sam']}",
                            "Idempotency-Key": f"prop-{i}",
                        },
                    )
                    tid = r.json()["id"]
                    c.post(
                        f"/api/v1/transfers/{tid}/decision",
                        json={"approve": True},
                        headers={
                            "Authorization": f"Bearer {tokens['fay']}",
                            "Idempotency-Key": f"ok-{i}",
                        },
                    )
                    sent.append(i)
                except (httpx.HTTPError, KeyError, ValueError):
                    return

    t = threading.Thread(target=stream)
    t.start()
    time.sleep(1.5)
    server.kill()
    t.join()
    _ok(reg)
    server.start()
    with httpx.Client(base_url=server.base, timeout=10) as c:
        for i in range(n):  # retry every request of the stream with its own key
            r = c.post(
                "/api/v1/transfers",
                json={
                    "to_holder": "Handel BV",
                    "lines": [{"unit_type": "land/other", "vintage": YEAR, "amount": 10}],
                },
                headers={
                    "Authorization": f"Bearer {tokens['sam']}",
                    "Idempotency-Key": f"prop-{i}",
                },
            )
            assert r.status_code == 201, r.text
            d = c.post(
                f"/api/v1/transfers/{r.json()['id']}/decision",
                json={"approve": True},
                headers={"Authorization": f"Bearer {tokens['fay']}", "Idempotency-Key": f"ok-{i}"},
            )
            assert d.status_code == 200, d.text
    assert reg.ledger.balances("holder:Laad BV")[("land/other", YEAR)] == start - 10 * n
    assert reg.ledger.balances("holder:Handel BV") == {("land/other", YEAR): 10 * n}
    _ok(reg)
