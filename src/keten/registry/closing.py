"""Year-end closing (jaarafsluiting) of year Y.

1. Obligations of every holder from its registered deliveries of Y (``keten.ev.obligation``).
2. The units a holder can use: free units (not on hold) of vintage Y or earlier (EV-23).
3. Surrender per the engine's best allocation (``keten.ev.compliance``); within a unit type the
   oldest vintage goes first (EV-23).
4. Shortfall per holder and sector, and a penalty = shortfall × ``ev.register.penalty_per_unit``
   (an assumption, flagged).
5. Banking: of the free units of vintage ≤ Y left, a holder keeps up to its banking limit —
   max(``banking_share`` × total obligation, ``banking_minimum``) for a holder with an
   obligation, ``banking_minimum`` for others — filled in the order annex-ixa, rfnbo, other,
   annex-ixb, conventional (newest vintage first); the rest is cancelled (EV-24).

``plan`` computes all of it without writing. ``run`` applies it in one transaction, once per year:
a second run for the same year changes nothing and returns the first run's summary.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from keten.core.errors import KetenError
from keten.core.messages import msg
from keten.core.quantity import mul, percent, round_down
from keten.ev.compliance import compliance
from keten.ev.model import Delivery as DeliveryRecord
from keten.ev.model import Holding, UnitType
from keten.ev.obligation import obligations
from keten.ledger import audit
from keten.ledger.service import Ledger
from keten.registry.service import Actor, AuthError, Registry
from keten.store.models import Account, Balance, Closing, Delivery, Holder, Lot, Movement

SQLITE_CACHE_KIB = 1_048_576  # page cache while closing (SQLite), restored afterwards
BANKING_ORDER = ("annex-ixa", "rfnbo", "other", "annex-ixb", "conventional")


@dataclass
class HolderClosing:
    holder: str
    obligation_total: int
    shortfall_by_sector: dict[str, int]
    shortfall_total: int
    penalty_eur: str
    surrender: list[tuple[str, int, int]] = field(default_factory=list)  # type, vintage, amount
    banking_limit: int = 0
    banked: list[tuple[str, int, int]] = field(default_factory=list)
    cancel: list[tuple[str, int, int]] = field(default_factory=list)


@dataclass
class ClosingPlan:
    year: int
    parameter_set: str
    holders: list[HolderClosing]

    def to_dict(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "parameter_set": self.parameter_set,
            "holders": [asdict(h) for h in self.holders],
        }


def _free_units(s: Session, year: int) -> dict[int, dict[tuple[str, int], int]]:
    """Free units (not on hold) of vintage ≤ ``year`` per account id and (type, vintage): one
    grouped query over every balance (set-based, EV-28)."""
    rows = s.execute(
        select(
            Balance.account_id,
            Lot.unit_type,
            Lot.vintage,
            func.sum(Balance.amount - Balance.held),
        )
        .join(Lot, Lot.id == Balance.lot_id)
        .where(Lot.vintage <= year, Balance.amount > Balance.held)
        .group_by(Balance.account_id, Lot.unit_type, Lot.vintage)
    ).all()
    out: dict[int, dict[tuple[str, int], int]] = defaultdict(dict)
    for account_id, unit_type, vintage, free in rows:
        if free and free > 0:
            out[int(account_id)][(str(unit_type), int(vintage))] = int(free)
    return out


def plan(reg: Registry, year: int) -> ClosingPlan:
    """The closing of ``year`` as it would run now (nothing is written)."""
    with reg.ledger.sessions() as s:
        return plan_in(reg, s, year)


def plan_in(reg: Registry, s: Session, year: int) -> ClosingPlan:
    """``plan`` inside the caller's session (the closing run uses its write transaction)."""
    params = reg.params
    penalty = params.get("ev.register.penalty_per_unit", year).value
    share = params.get("ev.register.banking_share", year).value
    minimum = int(params.get("ev.register.banking_minimum", year).value)
    holders = s.execute(
        select(Holder.id, Holder.name, Account.id)
        .join(Account, Account.name == Holder.account)
        .order_by(Holder.name)
    ).all()
    by_account = _free_units(s, year)
    free = {name: by_account.get(int(account_id), {}) for _, name, account_id in holders}
    names = {int(hid): str(name) for hid, name, _ in holders}
    deliveries = [
        DeliveryRecord(names[int(hid)], sector, fuel, Decimal(quantity), unit)
        for hid, sector, fuel, quantity, unit in s.execute(
            select(
                Delivery.holder_id, Delivery.sector, Delivery.fuel, Delivery.quantity, Delivery.unit
            )
            .where(Delivery.year == year)
            .order_by(Delivery.holder_id, Delivery.id)
        )
    ]
    obs = obligations(deliveries, year, params)
    totals: dict[str, int] = defaultdict(int)
    for o in obs:
        totals[o.supplier] += o.row("total")
    holdings = [
        Holding(name, UnitType(*unit_type.split("/", 1)), amount)
        for name, units in free.items()
        for (unit_type, _vintage), amount in units.items()
    ]
    results = {r.supplier: r for r in compliance(obs, holdings, params, year)}
    out = []
    for _, name, _ in holders:
        units = dict(free[name])
        total = totals.get(name, 0)
        result = results.get(name)
        closing = HolderClosing(
            holder=name,
            obligation_total=total,
            shortfall_by_sector=result.shortfall_by_sector if result else {},
            shortfall_total=result.shortfall_total if result else 0,
            penalty_eur=str(mul(Decimal(result.shortfall_total if result else 0), penalty)),
        )
        if result:
            need: dict[str, int] = defaultdict(int)
            for p in result.plan:
                need[f"{p.origin_sector}/{p.category}"] += p.amount
            for unit_type, amount in sorted(need.items()):
                for t, vintage in sorted(k for k in units if k[0] == unit_type):
                    if amount == 0:
                        break
                    use = min(amount, units[(t, vintage)])
                    if use:
                        closing.surrender.append((t, vintage, use))
                        units[(t, vintage)] -= use
                        amount -= use
                if amount:
                    raise KetenError(
                        msg("closing %(holder)s: plan needs units the holder lacks", holder=name)
                    )
        limit = max(round_down(mul(Decimal(total), percent(share))), minimum) if total else minimum
        closing.banking_limit = limit
        room = limit
        order = sorted(
            (k for k, v in units.items() if v > 0),
            key=lambda k: (BANKING_ORDER.index(k[0].split("/", 1)[1]), -k[1], k[0]),
        )
        for key in order:
            keep = min(room, units[key])
            if keep:
                closing.banked.append((key[0], key[1], keep))
                room -= keep
            if units[key] - keep:
                closing.cancel.append((key[0], key[1], units[key] - keep))
        out.append(closing)
    return ClosingPlan(year, params.name, out)


def run(reg: Registry, actor: Actor, year: int, *, key: str) -> dict[str, Any]:
    """Apply the closing of ``year`` (toezichthouder only); once per year.

    Set-based (EV-28): one surrender and one cancel movement per holder, their postings and the
    balance changes computed per lot in SQL (a running sum over each holder's lots of a type and
    vintage, in lot order — the order ``Ledger.move`` takes units in), not lot by lot in Python.
    On PostgreSQL the balances are locked against other writers (``LOCK TABLE … IN EXCLUSIVE
    MODE``; reads go on) from before the plan is read until the closing commits.
    """
    if actor.role != "toezichthouder":
        raise AuthError(msg("%(actor)s may not run the year-end closing", actor=actor.label))
    if year > reg.clock().year:  # EV-30: nothing of that year can be registered yet
        raise KetenError(
            msg("the closing of %(year)s cannot run before %(year)s has begun", year=year)
        )
    request = {"op": "close_year", "year": year}

    def apply(s: Session) -> dict[str, Any]:
        done = s.get(Closing, year)
        if done is not None:
            stored: dict[str, Any] = json.loads(done.summary)
            return stored
        conn = s.connection()
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("LOCK TABLE ledger_balance IN EXCLUSIVE MODE")
            conn.exec_driver_sql("SET LOCAL work_mem = '256MB'")
            closing = plan_in(reg, s, year)
            _apply(reg, s, closing, actor=actor.label, key=key)
        else:
            # A page cache the size of the indexes touched (SQLite's default is 2 MB); the
            # connection's setting is restored afterwards.
            cache = conn.exec_driver_sql("PRAGMA cache_size").scalar_one()
            conn.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
            try:
                closing = plan_in(reg, s, year)
                _apply(reg, s, closing, actor=actor.label, key=key)
            finally:
                conn.exec_driver_sql(f"PRAGMA cache_size={int(cache)}")
        summary = closing.to_dict()
        s.add(
            Closing(year=year, run_at=reg.clock(), actor=actor.label, summary=json.dumps(summary))
        )
        audit.append(
            s,
            at=reg.clock(),
            actor=actor.label,
            action="closing.run",
            subject=str(year),
            payload={"holders": len(closing.holders)},
        )
        return summary

    return reg.ledger.run(key, request, apply)


_PLAN = "keten_close_plan"
_TAKE = "keten_close_take"


def _apply(reg: Registry, s: Session, closing: ClosingPlan, *, actor: str, key: str) -> None:
    """Write the surrenders and cancellations of a plan in the caller's transaction."""
    conn = s.connection()
    pg = conn.dialect.name == "postgresql"
    found = conn.execute(
        select(Holder.name, Account.id, Account.name).join(Account, Account.name == Holder.account)
    ).all()
    accounts = {str(h): int(i) for h, i, _ in found}
    account_names = {str(h): str(a) for h, _, a in found}
    system = Ledger._accounts(conn, "system:surrender", "system:cancel")
    reason = f"jaarafsluiting {closing.year}"
    movements: list[dict[str, Any]] = []
    events: list[tuple[str, str, str, list[tuple[str, int, int]]]] = []
    plan: dict[tuple[int, str, int], list[int]] = {}
    for h in closing.holders:
        for kind, lines in (("surrender", h.surrender), ("cancel", h.cancel)):
            if not lines:
                continue
            request_key = f"{key}:{kind}:{h.holder}"
            at = reg.ledger.clock()
            movements.append(
                {
                    "kind": kind,
                    "actor": actor,
                    "reason": reason,
                    "at": at,
                    "request_key": request_key,
                }
            )
            events.append((request_key, kind, h.holder, lines))
            for unit_type, vintage, amount in lines:
                row = plan.setdefault((accounts[h.holder], unit_type, vintage), [0, 0])
                row[0 if kind == "surrender" else 1] += amount
    if not movements:
        return
    ids = {
        str(k): int(i)
        for i, k in conn.execute(
            insert(Movement).returning(Movement.id, Movement.request_key), movements
        )
    }
    conn.exec_driver_sql(
        f"CREATE TEMPORARY TABLE {_PLAN} (account_id INTEGER, unit_type VARCHAR(100), "
        "vintage INTEGER, surrender BIGINT, cancel BIGINT, s_mov INTEGER, c_mov INTEGER, "
        "PRIMARY KEY (account_id, unit_type, vintage))" + (" ON COMMIT DROP" if pg else "")
    )
    name_of = {v: k for k, v in accounts.items()}
    conn.execute(
        text(f"INSERT INTO {_PLAN} VALUES (:a, :t, :v, :s, :c, :sm, :cm)"),
        [
            {
                "a": acc,
                "t": unit_type,
                "v": vintage,
                "s": amounts[0],
                "c": amounts[1],
                "sm": ids.get(f"{key}:surrender:{name_of[acc]}"),
                "cm": ids.get(f"{key}:cancel:{name_of[acc]}"),
            }
            for (acc, unit_type, vintage), amounts in plan.items()
        ],
    )
    if pg:
        conn.exec_driver_sql(f"ANALYZE {_PLAN}")  # else the planner guesses: nested loops
    # Per lot, in lot order within (account, type, vintage): the first `surrender` free units are
    # surrendered, the next `cancel` units cancelled, the rest stays (banked).
    conn.exec_driver_sql(
        f"CREATE TEMPORARY TABLE {_TAKE} "
        + ("ON COMMIT DROP " if pg else "")
        + f"""AS SELECT account_id, lot_id, s_mov, c_mov,
              CASE WHEN surrender - before >= free THEN free
                   WHEN surrender - before <= 0 THEN 0 ELSE surrender - before END AS s,
              CASE WHEN surrender + cancel - before >= free THEN free
                   ELSE surrender + cancel - before END AS sc
            FROM (SELECT b.account_id, b.lot_id, b.amount - b.held AS free,
                         p.surrender, p.cancel, p.s_mov, p.c_mov,
                         SUM(b.amount - b.held) OVER (
                             PARTITION BY b.account_id, l.unit_type, l.vintage
                             ORDER BY b.lot_id ROWS UNBOUNDED PRECEDING
                         ) - (b.amount - b.held) AS before
                  FROM ledger_balance b
                  JOIN ledger_lot l ON l.id = b.lot_id
                  JOIN {_PLAN} p ON p.account_id = b.account_id
                       AND p.unit_type = l.unit_type AND p.vintage = l.vintage
                  WHERE b.amount > b.held) w
            WHERE surrender + cancel - before > 0"""
    )
    if pg:
        conn.exec_driver_sql(f"ANALYZE {_TAKE}")
    taken_s, taken_c = conn.exec_driver_sql(
        f"SELECT COALESCE(SUM(s), 0), COALESCE(SUM(sc - s), 0) FROM {_TAKE}"
    ).one()
    want_s = sum(v[0] for v in plan.values())
    want_c = sum(v[1] for v in plan.values())
    if (int(taken_s), int(taken_c)) != (want_s, want_c):
        raise KetenError(
            msg(
                "closing %(year)s: lots give %(taken_s)s/%(taken_c)s units to surrender/cancel, "
                "the plan %(want_s)s/%(want_c)s (balances changed while closing?)",
                year=closing.year,
                taken_s=taken_s,
                taken_c=taken_c,
                want_s=want_s,
                want_c=want_c,
            )
        )
    conn.execute(
        text(
            "INSERT INTO ledger_posting (movement_id, lot_id, debit_id, credit_id, amount) "
            f"SELECT s_mov, lot_id, account_id, :sur, s FROM {_TAKE} WHERE s > 0 "
            f"UNION ALL SELECT c_mov, lot_id, account_id, :can, sc - s FROM {_TAKE} WHERE sc > s"
        ),
        {"sur": system["system:surrender"], "can": system["system:cancel"]},
    )
    conn.exec_driver_sql(
        f"UPDATE ledger_balance SET amount = ledger_balance.amount - t.sc FROM {_TAKE} t "
        "WHERE ledger_balance.account_id = t.account_id AND ledger_balance.lot_id = t.lot_id"
    )
    if not pg:
        conn.exec_driver_sql(f"DROP TABLE {_TAKE}")
        conn.exec_driver_sql(f"DROP TABLE {_PLAN}")
    for request_key, kind, holder, lines in events:
        audit.append(
            s,
            at=reg.ledger.clock(),
            actor=actor,
            action=f"units.{kind}",
            subject=account_names[holder],
            payload={
                "target": None,
                "lines": lines,
                "movement": ids[request_key],
                "reason": reason,
            },
        )
