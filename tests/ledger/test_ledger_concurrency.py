"""Concurrency on PostgreSQL: 8 workers make random transfers among 20 holders for 20 s
(``KETEN_CONCURRENCY_SECONDS`` to change). Afterwards: units are conserved, no balance is
negative, and every holder's balance equals its start plus what the successful transfers moved
(no lost update, nothing applied twice, nothing half-applied)."""

from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter

import pytest

from keten.ledger.service import Ledger, LedgerError, Line
from keten.ledger.verify import verify
from keten.store.db import make_engine, session_factory, upgrade

T = "land/other"
HOLDERS = 20
WORKERS = 8
START = 1_000


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_random_transfers_by_eight_workers(database_url: str) -> None:
    seconds = float(os.environ.get("KETEN_CONCURRENCY_SECONDS", "20"))
    engine = make_engine(database_url)
    upgrade(engine)
    engine.dispose()
    engine = make_engine(database_url)  # a pool of WORKERS connections
    led = Ledger(session_factory(engine))
    led.ensure_system_accounts()
    names = [f"h{i}" for i in range(HOLDERS)]
    for n in names:
        led.open_account(n, n, actor="t", key=f"open-{n}")
        led.issue(n, T, 2026, START, origin=f"lot-{n}", actor="t", reason="start", key=f"i-{n}")
    moved: list[Counter[str]] = [Counter() for _ in range(WORKERS)]
    counts = [0] * WORKERS
    refused = [0] * WORKERS
    errors: list[BaseException] = []
    stop = time.monotonic() + seconds

    def work(w: int) -> None:
        rng = random.Random(w)
        try:
            while time.monotonic() < stop:
                a, b = rng.sample(names, 2)
                amount = rng.randint(1, 300)
                try:
                    led.move(
                        "transfer",
                        a,
                        b,
                        [Line(T, 2026, amount)],
                        actor=f"w{w}",
                        reason="load",
                        key=f"w{w}-{counts[w] + refused[w]}",
                    )
                except LedgerError:
                    refused[w] += 1  # not enough free units: must have changed nothing
                    continue
                moved[w][a] -= amount
                moved[w][b] += amount
                counts[w] += 1
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(counts) > 0
    print(f"{sum(counts)} transfers, {sum(refused)} refused in {seconds} s")
    expected = Counter({n: START for n in names})
    for m in moved:
        expected.update(m)
    for n in names:
        assert led.balances(n).get((T, 2026), 0) == expected[n], n
        assert expected[n] >= 0
    assert sum(expected.values()) == START * HOLDERS  # conservation
    with led.sessions() as s:
        assert verify(s) == []
    engine.dispose()
