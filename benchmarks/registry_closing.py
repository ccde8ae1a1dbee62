"""Register benchmark 3 (issue #3): year-end closing for 1,000 holders with 10 million unit lots.
Goal: < 30 s.

    python benchmarks/registry_closing.py [--holders 1000] [--lots 10000000]
        [--engine sqlite|postgresql]

Set-up (not measured): the schema by the migrations, the system accounts and the regulator through
the service layer; holders, their accounts, ``--lots`` lots (5 categories of land units, vintages
2025 and 2026, 1–1,000 units each, spread round-robin over the holders), their balances, their
issuance movements and postings, and for every third holder twelve monthly diesel deliveries of
2026 are bulk-inserted with SQL (a consistent ledger: ``verify`` holds on it).

Measured: ``closing.run`` — the path of ``POST /closing/{year}/run`` — for 2026, in one
transaction. Two references in the same run:

* scan: one aggregate scan over every balance joined with its lot (``SELECT count(*),
  sum(amount) … JOIN ledger_lot``), the least *reading* any closing must do;
* write floor: the least *writing* any closing that keeps per-lot postings must do — one row per
  lot of vintage ≤ 2026 inserted into a table shaped like ``ledger_posting`` (same columns, same
  four indexes, no foreign keys) plus one rewrite of every such balance row, in a transaction
  that is rolled back. A closing cannot be faster than this floor without changing the schema.

With ``--lots`` ≤ 200,000 the full ``verify`` runs afterwards.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
from registry_bench import createdb, postgres

from keten.core.params import load_set
from keten.ledger.service import Ledger
from keten.ledger.verify import verify
from keten.registry import closing
from keten.registry.service import Registry
from keten.store.db import make_engine, session_factory, upgrade

CATEGORIES = ("annex-ixa", "rfnbo", "other", "annex-ixb", "conventional")
PW = "a long password!"


def generate(url: str, holders: int, lots: int) -> Registry:
    engine = make_engine(url)
    upgrade(engine)
    now = dt.datetime(2027, 1, 15, tzinfo=dt.UTC)
    reg = Registry(Ledger(session_factory(engine), clock=lambda: now), load_set("ev", "bijlage-1"))
    reg.init()
    reg.create_user("nea", PW, "toezichthouder", None, actor="bench", key="nea")
    pg = engine.dialect.name == "postgresql"
    series = (
        "generate_series(1, :n) AS g(x)"
        if pg
        else "(WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < :n) "
        "SELECT x FROM c) AS g"
    )
    with engine.begin() as c:
        if not pg:
            c.exec_driver_sql("PRAGMA cache_size=-262144")
        ids = dict(c.execute(sa.text("SELECT name, id FROM ledger_account")).all())
        issuance = ids["system:issuance"]
        c.execute(
            sa.text(
                "INSERT INTO ledger_account (name, kind, owner) "
                f"SELECT 'holder:H' || x, 'holding', 'H' || x FROM {series}"
            ),
            {"n": holders},
        )
        first = c.execute(sa.text("SELECT min(id) FROM ledger_account WHERE kind = 'holding'"))
        first_acc = int(first.scalar_one())
        c.execute(
            sa.text(
                "INSERT INTO reg_holder (name, can_book, has_obligation, can_transfer, "
                "is_service_provider, account, created_at) "
                "SELECT 'H' || x, true, x % 3 = 0, true, false, 'holder:H' || x, :now "
                f"FROM {series}"
            ),
            {"n": holders, "now": now},
        )
        c.execute(
            sa.text(
                "INSERT INTO ledger_movement (kind, actor, reason, at, request_key) "
                f"SELECT 'issue', 'bench', 'generated lots', :now, 'gen-issue-' || x FROM {series}"
            ),
            {"n": holders, "now": now},
        )
        first_mov = int(c.execute(sa.text("SELECT min(id) FROM ledger_movement")).scalar_one())
        types = " ".join(f"WHEN {i} THEN 'land/{cat}'" for i, cat in enumerate(CATEGORIES))
        t = time.perf_counter()
        c.execute(
            sa.text(
                "INSERT INTO ledger_lot (id, unit_type, vintage, origin, created) "
                f"SELECT x, CASE x % 5 {types} END, 2025 + (x / 7) % 2, 'gen:' || x, "
                f"1 + ((x % 1000) * 7919) % 1000 FROM {series}"
            ),
            {"n": lots},
        )
        holder_of = f"(id - 1) % {holders}"
        c.execute(
            sa.text(
                "INSERT INTO ledger_balance (account_id, lot_id, amount, held) "
                f"SELECT {first_acc} + {holder_of}, id, created, 0 FROM ledger_lot ORDER BY id"
            )
        )
        c.execute(
            sa.text(
                "INSERT INTO ledger_posting (movement_id, lot_id, debit_id, credit_id, amount) "
                f"SELECT {first_mov} + {holder_of}, id, {issuance}, {first_acc} + {holder_of}, "
                "created FROM ledger_lot ORDER BY id"
            )
        )
        months = series.replace("g(x)", "m(x)").replace(") AS g", ") AS m")
        nea = c.execute(sa.text("SELECT id FROM reg_user WHERE username = 'nea'")).scalar_one()
        c.execute(
            sa.text(
                "INSERT INTO reg_delivery (holder_id, year, month, sector, fuel, quantity, unit, "
                "registered_by, registered_at) "
                "SELECT h.id, 2026, m.x, 'land', 'diesel', '700000', 'l', :nea, :now "
                f"FROM reg_holder h CROSS JOIN {months} WHERE h.has_obligation"
            ),
            {"n": 12, "nea": nea, "now": now},
        )
        print(f"generated {lots:,} lots for {holders:,} holders in {time.perf_counter() - t:.0f} s")
    if pg:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.exec_driver_sql("VACUUM ANALYZE")
    return reg


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--holders", type=int, default=1000)
    ap.add_argument("--lots", type=int, default=10_000_000)
    ap.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=Path(__file__).parent / "data") as tmp:
        if args.engine == "sqlite":
            measure(f"sqlite:///{tmp}/closing.db", args)
        else:
            with postgres() as (url, port, sock):
                createdb(port, sock, "closing")
                measure(f"{url}/closing", args)


def write_floor(engine: sa.Engine) -> float:
    """Seconds to write one posting-shaped row per lot and rewrite its balance (rolled back)."""
    pg = engine.dialect.name == "postgresql"
    key = "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY" if pg else "INTEGER PRIMARY KEY"
    with engine.connect() as c:
        tx = c.begin()
        c.exec_driver_sql(
            f"CREATE TABLE floor_posting (id {key}, movement_id INTEGER NOT NULL, "
            "lot_id INTEGER NOT NULL, debit_id INTEGER NOT NULL, credit_id INTEGER NOT NULL, "
            "amount BIGINT NOT NULL)"
        )
        for col in ("movement_id", "lot_id", "debit_id", "credit_id"):
            c.exec_driver_sql(f"CREATE INDEX floor_posting_{col} ON floor_posting ({col})")
        t = time.perf_counter()
        c.exec_driver_sql(
            "INSERT INTO floor_posting (movement_id, lot_id, debit_id, credit_id, amount) "
            "SELECT b.account_id, b.lot_id, b.account_id, 0, b.amount FROM ledger_balance b "
            "JOIN ledger_lot l ON l.id = b.lot_id WHERE l.vintage <= 2026"
        )
        c.exec_driver_sql(
            "UPDATE ledger_balance SET amount = amount + 0 "
            "WHERE lot_id IN (SELECT id FROM ledger_lot WHERE vintage <= 2026)"
        )
        took = time.perf_counter() - t
        tx.rollback()
    return took


def measure(url: str, args: argparse.Namespace) -> None:
    reg = generate(url, args.holders, args.lots)
    with reg.ledger.sessions() as s:
        t = time.perf_counter()
        s.execute(
            sa.text(
                "SELECT count(*), sum(b.amount) FROM ledger_balance b "
                "JOIN ledger_lot l ON l.id = b.lot_id WHERE l.vintage <= 2026"
            )
        ).one()
        scan = time.perf_counter() - t
    floor = write_floor(reg.ledger.sessions.kw["bind"])
    nea = reg.login("nea", PW)
    t = time.perf_counter()
    summary = closing.run(reg, nea, 2026, key="close-2026")
    took = time.perf_counter() - t
    holders = summary["holders"]
    surrendered = sum(a for h in holders for _, _, a in h["surrender"])
    cancelled = sum(a for h in holders for _, _, a in h["cancel"])
    banked = sum(a for h in holders for _, _, a in h["banked"])
    print(
        f"closing 2026 ({args.engine}, {args.holders:,} holders, {args.lots:,} lots): {took:.1f} s "
        f"(goal < 30 s)"
    )
    print(f"  scan of every balance       {scan:6.1f} s   closing / scan  {took / scan:5.1f}×")
    print(f"  write floor (per-lot rows)  {floor:6.1f} s   closing / floor {took / floor:5.1f}×")
    print(f"  surrendered {surrendered:,}, banked {banked:,}, cancelled {cancelled:,} units")
    if args.lots <= 200_000:
        with reg.ledger.sessions() as s:
            problems = verify(s)
        print(f"  verify: {'ok' if not problems else problems[:3]}")
    reg.ledger.sessions.kw["bind"].dispose()


if __name__ == "__main__":
    main()
