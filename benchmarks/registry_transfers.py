"""Register benchmark 1 (issue #3): transfers per second end to end through the service layer on
PostgreSQL, as a ratio to pgbench (TPC-B) on the same throwaway server in the same run.

    python benchmarks/registry_transfers.py [--seconds 15] [--clients 8] [--holders 20]

Fair comparison (both sides):
* the same server (PostgreSQL 15 from KETEN_PG_BIN, default settings: fsync and
  synchronous_commit on, shared_buffers 128 MB), started in a temporary folder;
* the same number of client connections: ``--clients`` (default 8). pgbench runs
  ``pgbench -c 8 -j 2 -T <seconds> -M prepared`` on a database initialised with ``-s 8`` (one
  branch per client, as TPC-B prescribes); keten runs 8 worker *processes* (not threads, so the
  GIL does not cap the client), each with its own connection;
* the same duration.

What keten measures is the path the API takes (``POST /transfers`` then
``POST /transfers/{id}/decision``): ``Registry.propose_transfer`` by the holder's rekeningbevoegde
and ``Registry.decide_transfer(approve=True)`` by its fiatteur (four eyes) — two transactions per
transfer, each idempotent and audited. Printed:

* ``transfers/s``: approved transfers per second (propose + approve), the headline ratio;
* ``ledger transfers/s``: ``Ledger.move`` (a direct transfer in one transaction, the ledger's own
  service method; what the approval runs inside its transaction), for reference.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import random
import time
from typing import Any

from registry_bench import createdb, pgbench_tps, postgres

from keten.core.errors import KetenError
from keten.core.params import load_set
from keten.ledger.service import Ledger, Line
from keten.ledger.verify import verify
from keten.registry.service import Actor, Registry
from keten.store.db import make_engine, session_factory, upgrade

T = "land/other"
PW = "a long password!"


def _setup(url: str, holders: int) -> dict[str, tuple[Actor, Actor]]:
    engine = make_engine(url)
    upgrade(engine)
    reg = Registry(Ledger(session_factory(engine)), load_set("ev", "bijlage-1"))
    reg.init()
    actors: dict[str, tuple[Actor, Actor]] = {}
    for i in range(holders):
        name = f"h{i}"
        reg.create_holder(name, actor="bench", key=f"h-{name}")
        reg.create_user(f"r{i}", PW, "rekeningbevoegde", name, actor="bench", key=f"r-{name}")
        reg.create_user(f"f{i}", PW, "fiatteur", name, actor="bench", key=f"f-{name}")
        reg.ledger.issue(
            f"holder:{name}", T, 2026, 10**9, origin=f"l-{name}", actor="b", reason="s", key=name
        )
        actors[name] = (reg.login(f"r{i}", PW), reg.login(f"f{i}", PW))
    engine.dispose()
    return actors


def _registry_worker(
    url: str, w: int, seconds: float, actors: dict[str, tuple[Actor, Actor]], out: Any
) -> None:
    engine = make_engine(url)
    reg = Registry(Ledger(session_factory(engine)), load_set("ev", "bijlage-1"))
    names = sorted(actors)
    rng = random.Random(w)
    done = failed = i = 0
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        a, b = rng.sample(names, 2)
        proposer, approver = actors[a]
        i += 1
        try:
            tid = reg.propose_transfer(
                proposer, b, [Line(T, 2026, rng.randint(1, 100))], key=f"p{w}-{i}"
            )
            reg.decide_transfer(approver, tid, approve=True, key=f"d{w}-{i}")
            done += 1
        except KetenError:
            failed += 1
    engine.dispose()
    out.put((done, failed))


def _ledger_worker(url: str, w: int, seconds: float, names: list[str], out: Any) -> None:
    engine = make_engine(url)
    led = Ledger(session_factory(engine))
    rng = random.Random(w)
    done = failed = i = 0
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        a, b = rng.sample(names, 2)
        i += 1
        try:
            led.move(
                "transfer",
                a,
                b,
                [Line(T, 2026, rng.randint(1, 100))],
                actor=f"w{w}",
                reason="bench",
                key=f"m{w}-{i}",
            )
            done += 1
        except KetenError:
            failed += 1
    engine.dispose()
    out.put((done, failed))


def _run(target: Any, args: tuple[Any, ...], clients: int) -> tuple[int, int, float]:
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    procs = [ctx.Process(target=target, args=(args[0], w, *args[1:], out)) for w in range(clients)]
    start = time.monotonic()
    for p in procs:
        p.start()
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
    elapsed = time.monotonic() - start
    return sum(r[0] for r in results), sum(r[1] for r in results), elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--holders", type=int, default=20)
    args = ap.parse_args()
    with postgres() as (url, port, sock):
        tps = pgbench_tps(port, sock, int(args.seconds), args.clients)
        createdb(port, sock, "reg")
        actors = _setup(f"{url}/reg", args.holders)
        done, failed, took = _run(
            _registry_worker, (f"{url}/reg", args.seconds, actors), args.clients
        )
        names = [f"holder:{n}" for n in sorted(actors)]
        ldone, lfailed, ltook = _run(
            _ledger_worker, (f"{url}/reg", args.seconds, names), args.clients
        )
        engine = make_engine(f"{url}/reg")
        with session_factory(engine)() as s:
            problems = verify(s)
        engine.dispose()
        rate, lrate = done / took, ldone / ltook
        print(f"pgbench TPC-B (-c {args.clients} -j 2 -M prepared, scale 8): {tps:,.0f} tps")
        print(
            f"keten transfers, propose + approve ({args.clients} processes): {rate:,.0f} /s "
            f"({done} in {took:.1f} s, {failed} refused; {2 * rate:,.0f} transactions/s)"
        )
        print(
            f"keten Ledger.move ({args.clients} processes)                : {lrate:,.0f} /s "
            f"({ldone} in {ltook:.1f} s, {lfailed} refused)"
        )
        print(f"ratio transfers / pgbench            : {rate / tps:.3f} (goal ≥ 0.3)")
        print(f"ratio Ledger.move / pgbench          : {lrate / tps:.3f}")
        print(f"verify after the run                 : {'ok' if not problems else problems[:3]}")


if __name__ == "__main__":
    main()
