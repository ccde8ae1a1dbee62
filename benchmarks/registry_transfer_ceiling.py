"""Reference for register benchmark 1 (issue #3): how far could *any* client get?

``registry_transfers.py`` measures keten's transfers against pgbench TPC-B. This script measures
the ceiling under keten's schema: one transfer done entirely inside PostgreSQL by a PL/pgSQL
function (one round trip, no Python per statement, no ORM) with the write set an audited
double-entry transfer needs — lock and update two balance rows, one movement, one posting, one
idempotency record, one hash-chained audit event (sha256 over the previous hash, head row
locked) — from 8 client processes, against pgbench on the same throwaway server in the same run.
Four-eyes (propose, then approve by a second user) would add a second transaction per transfer.

The function lives only in this script's throwaway database; keten does not use it.

    python benchmarks/registry_transfer_ceiling.py [--seconds 10] [--clients 8]
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path
from typing import Any

import psycopg
from registry_bench import createdb, pgbench_tps, postgres
from registry_transfers import _run

from keten.ledger.service import Ledger
from keten.store.db import make_engine, session_factory, upgrade

T = "land/other"
MOVE = r"""
CREATE FUNCTION bench_move(p_from int, p_to int, p_lot int, p_amount bigint, p_key text,
                           p_actor text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE mid int; s int; h text; body text; t timestamptz := clock_timestamp(); d text;
BEGIN
  PERFORM 1 FROM ledger_balance WHERE lot_id = p_lot AND account_id IN (p_from, p_to)
    ORDER BY account_id FOR UPDATE;
  UPDATE ledger_balance SET amount = amount - p_amount
    WHERE account_id = p_from AND lot_id = p_lot AND amount - held >= p_amount;
  IF NOT FOUND THEN RAISE EXCEPTION 'insufficient free units'; END IF;
  INSERT INTO ledger_balance (account_id, lot_id, amount, held) VALUES (p_to, p_lot, p_amount, 0)
    ON CONFLICT (account_id, lot_id) DO UPDATE SET amount = ledger_balance.amount + excluded.amount;
  INSERT INTO ledger_movement (kind, actor, reason, at, request_key)
    VALUES ('transfer', p_actor, 'bench', t, p_key) RETURNING id INTO mid;
  INSERT INTO ledger_posting (movement_id, lot_id, debit_id, credit_id, amount)
    VALUES (mid, p_lot, p_from, p_to, p_amount);
  INSERT INTO ledger_idempotency (key, fingerprint, result, at) VALUES (p_key, 'x', '{}', t);
  body := json_build_object('lines', json_build_array(json_build_array('land/other', 2026,
          p_amount)), 'movement', mid, 'reason', 'bench', 'target', p_to)::text;
  SELECT seq, hash INTO s, h FROM audit_head WHERE id = 1 FOR UPDATE;
  s := s + 1;
  d := encode(sha256(convert_to(h || json_build_object('actor', p_actor, 'action',
       'units.transfer', 'at', t, 'payload', body, 'seq', s, 'subject', 'x')::text, 'UTF8')),
       'hex');
  INSERT INTO audit_event (seq, at, actor, action, subject, payload, prev_hash, hash)
    VALUES (s, t, p_actor, 'units.transfer', 'x', body, h, d);
  UPDATE audit_head SET seq = s, hash = d WHERE id = 1;
  RETURN mid;
END $$;
"""


def _worker(dsn: str, w: int, seconds: float, accounts: list[int], lot: int, out: Any) -> None:
    conn = psycopg.connect(dsn, autocommit=True)
    rng = random.Random(w)
    done = failed = i = 0
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        a, b = rng.sample(accounts, 2)
        i += 1
        try:
            conn.execute(
                "SELECT bench_move(%s, %s, %s, %s, %s, %s)",
                (a, b, lot, rng.randint(1, 100), f"k{w}-{i}", f"w{w}"),
                prepare=True,
            )
            done += 1
        except psycopg.Error:
            failed += 1
    conn.close()
    out.put((done, failed))


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--holders", type=int, default=20)
    args = ap.parse_args()
    with postgres() as (url, port, sock):
        tps = pgbench_tps(port, sock, int(args.seconds), args.clients)
        createdb(port, sock, "reg")
        engine = make_engine(f"{url}/reg")
        upgrade(engine)
        ledger = Ledger(session_factory(engine))
        ledger.ensure_system_accounts()
        names = [f"holder:h{i}" for i in range(args.holders)]
        for n in names:
            ledger.open_account(n, n, actor="bench", key=f"open-{n}")
        ledger.issue(names[0], T, 2026, 10**12, origin="l", actor="b", reason="s", key="issue")
        engine.dispose()
        dsn = f"host={Path(sock)} port={port} user=postgres dbname=reg"
        with psycopg.connect(dsn, autocommit=True) as c:
            c.execute(MOVE)
            accounts = [
                r[0] for r in c.execute("SELECT id FROM ledger_account WHERE kind = 'holding'")
            ]
            lot = c.execute("SELECT id FROM ledger_lot").fetchone()[0]  # type: ignore[index]
            for a in accounts[1:]:
                c.execute(
                    "SELECT bench_move(%s, %s, %s, %s, %s, %s)",
                    (accounts[0], a, lot, 10**10, f"seed-{a}", "seed"),
                )
        done, failed, took = _run(_worker, (dsn, args.seconds, accounts, lot), args.clients)
        rate = done / took
        print(f"pgbench TPC-B (-c {args.clients} -j 2 -M prepared, scale 8): {tps:,.0f} tps")
        print(
            f"server-side audited move, one round trip ({args.clients} processes): {rate:,.0f} /s"
            f" ({done} in {took:.1f} s, {failed} refused)"
        )
        print(f"ratio ceiling / pgbench: {rate / tps:.3f} (issue goal for keten's transfers ≥ 0.3)")


if __name__ == "__main__":
    main()
