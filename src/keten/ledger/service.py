"""Ledger operations. Every write is one transaction that

* carries an idempotency key: a retry with the same key and content returns the first result
  and changes nothing; the same key with other content is refused;
* records a movement (actor, reason, time) whose postings each debit one account and credit
  another;
* keeps the materialised balances (no negative balance, holds within the balance — also
  enforced by the database) and appends an audit event.

Units are fungible within (unit type, vintage): a transfer of N units takes them from the
holder's lots of that type and vintage in lot order, skipping units on hold. On PostgreSQL the
balance rows are locked (``SELECT … FOR UPDATE``, in key order, so two transfers never deadlock
or spend the same units); on SQLite every write transaction is ``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, func, insert, select, tuple_, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from keten.core.errors import KetenError
from keten.core.messages import msg
from keten.ledger import audit
from keten.store.models import (
    Account,
    Balance,
    Hold,
    IdempotencyRecord,
    Lot,
    Movement,
    Posting,
)

SYSTEM_ACCOUNTS = ("issuance", "surrender", "cancel")
_ACC = cast(Table, Account.__table__)
_LOT = cast(Table, Lot.__table__)
_BAL = cast(Table, Balance.__table__)
_MOV = cast(Table, Movement.__table__)
_POST = cast(Table, Posting.__table__)
_IDEM = cast(Table, IdempotencyRecord.__table__)
# Core statements, built once (their compiled form is cached): the write path is lean.
_IDEM_GET = select(_IDEM.c.fingerprint, _IDEM.c.result).where(_IDEM.c.key == bindparam("k"))
_IDEM_PUT = insert(_IDEM)
_ACCOUNTS = select(_ACC.c.name, _ACC.c.id).where(_ACC.c.name.in_([bindparam("a"), bindparam("b")]))
_NEW_MOVEMENT = insert(_MOV).returning(_MOV.c.id)
_SET_BALANCE = (
    update(_BAL)
    .where(_BAL.c.account_id == bindparam("a"), _BAL.c.lot_id == bindparam("l"))
    .values(amount=bindparam("n"))
)
_NEW_BALANCE = insert(_BAL)
_NEW_POSTING = insert(_POST)
_ATTEMPTS = 8
_RETRY_STATES = {"40P01", "40001"}  # deadlock detected, serialization failure


class LedgerError(KetenError):
    """A request the ledger refuses (insufficient units, unknown account, reused key, ...)."""


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Line:
    """``amount`` units of ``unit_type`` and ``vintage``."""

    unit_type: str
    vintage: int
    amount: int


class Ledger:
    def __init__(
        self, sessions: sessionmaker[Session], clock: Callable[[], dt.datetime] = utcnow
    ) -> None:
        self.sessions = sessions
        self.clock = clock

    # ------------------------------------------------------------------ transactions

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self.sessions() as session, session.begin():
            yield session

    def run(
        self,
        key: str,
        request: dict[str, Any],
        apply: Callable[[Session], dict[str, Any]],
    ) -> dict[str, Any]:
        """One write transaction, applied once per ``key``: a retry with the same request returns
        the stored result and changes nothing; the same key with another request is refused."""
        if not key or len(key) > 200:
            raise LedgerError(msg("every write needs an idempotency key of 1–200 characters"))
        fingerprint = hashlib.sha256(
            json.dumps(request, sort_keys=True, default=str).encode()
        ).hexdigest()
        for attempt in range(_ATTEMPTS):
            try:
                with self.transaction() as session:
                    conn = session.connection()
                    done = conn.execute(_IDEM_GET, {"k": key}).first()
                    if done is not None:
                        if done.fingerprint != fingerprint:
                            raise LedgerError(
                                msg(
                                    "idempotency key %(key)s was used for a different request",
                                    key=repr(key),
                                )
                            )
                        result: dict[str, Any] = json.loads(done.result)
                        return result
                    stored = json.dumps(apply(session), default=str)
                    session.flush()
                    conn.execute(
                        _IDEM_PUT,
                        {
                            "key": key,
                            "fingerprint": fingerprint,
                            "result": stored,
                            "at": self.clock(),
                        },
                    )
                    # The first answer and every retry's answer are the same JSON.
                    first: dict[str, Any] = json.loads(stored)
                    return first
            except IntegrityError:
                # A concurrent request with the same key won the race: read its result.
                continue
            except DBAPIError as exc:
                # PostgreSQL chose this transaction as a deadlock or serialisation victim;
                # nothing of it was applied: try again.
                if getattr(exc.orig, "sqlstate", None) not in _RETRY_STATES:
                    raise
                time.sleep(random.uniform(0, 0.01 * (attempt + 1)))
        raise LedgerError(
            msg(
                "request %(key)s could not be applied (conflict, tried %(n)s×)",
                key=repr(key),
                n=_ATTEMPTS,
            )
        )

    def _movement(
        self, conn: Connection, kind: str, actor: str, reason: str, key: str
    ) -> tuple[int, dt.datetime]:
        """A new movement row: (id, time)."""
        if not actor.strip():
            raise LedgerError(msg("every movement needs an actor"))
        if not reason.strip():
            raise LedgerError(msg("every movement needs a reason"))
        at = self.clock()
        row = {"kind": kind, "actor": actor, "reason": reason, "at": at, "request_key": key}
        return int(conn.execute(_NEW_MOVEMENT, row).scalar_one()), at

    # ------------------------------------------------------------------ accounts

    def ensure_system_accounts(self) -> None:
        with self.transaction() as session:
            for kind in SYSTEM_ACCOUNTS:
                if session.execute(select(Account).where(Account.name == f"system:{kind}")).first():
                    continue
                session.add(Account(name=f"system:{kind}", kind=kind, owner=None))

    def open_account(self, name: str, owner: str, *, actor: str, key: str) -> int:
        def apply(session: Session) -> dict[str, Any]:
            if session.execute(select(Account).where(Account.name == name)).first():
                raise LedgerError(msg("account %(name)s exists already", name=repr(name)))
            acc = Account(name=name, kind="holding", owner=owner)
            session.add(acc)
            session.flush()
            audit.append(
                session,
                at=self.clock(),
                actor=actor,
                action="account.open",
                subject=name,
                payload={"owner": owner},
            )
            return {"account_id": acc.id}

        return int(self.run(key, {"op": "open", "name": name, "owner": owner}, apply)["account_id"])

    @staticmethod
    def account_id(session: Session, name: str) -> int:
        acc = session.execute(select(Account.id).where(Account.name == name)).scalar_one_or_none()
        if acc is None:
            raise LedgerError(msg("unknown account %(name)s", name=repr(name)))
        return int(acc)

    @staticmethod
    def account_id_or_none(session: Session, name: str) -> int | None:
        acc = session.execute(select(Account.id).where(Account.name == name)).scalar_one_or_none()
        return None if acc is None else int(acc)

    @staticmethod
    def _system(session: Session, kind: str) -> int:
        acc = session.execute(
            select(Account.id).where(Account.name == f"system:{kind}")
        ).scalar_one_or_none()
        if acc is None:
            raise LedgerError(msg("the ledger is not initialised (system accounts missing)"))
        return int(acc)

    # ------------------------------------------------------------------ writes

    def issue(
        self,
        account: str,
        unit_type: str,
        vintage: int,
        amount: int,
        *,
        origin: str,
        actor: str,
        reason: str,
        key: str,
    ) -> int:
        """Create ``amount`` units in a new lot on ``account``; returns the lot id."""
        request = {
            "op": "issue",
            "account": account,
            "type": unit_type,
            "vintage": vintage,
            "amount": amount,
            "origin": origin,
        }

        def apply(session: Session) -> dict[str, Any]:
            return self.issue_in(
                session,
                account,
                unit_type,
                vintage,
                amount,
                origin=origin,
                actor=actor,
                reason=reason,
                key=key,
            )

        return int(self.run(key, request, apply)["lot_id"])

    def issue_in(
        self,
        session: Session,
        account: str,
        unit_type: str,
        vintage: int,
        amount: int,
        *,
        origin: str,
        actor: str,
        reason: str,
        key: str,
    ) -> dict[str, Any]:
        """``issue`` inside the caller's transaction (no idempotency record of its own)."""
        if amount <= 0:
            raise LedgerError(msg("amount must be positive, got %(amount)s", amount=amount))
        session.flush()
        conn = session.connection()
        ids = self._accounts(conn, account, "system:issuance")
        acc, issuance = ids[account], ids["system:issuance"]
        if conn.execute(select(_LOT.c.id).where(_LOT.c.origin == origin)).first():
            raise LedgerError(
                msg("units from %(origin)s were created already", origin=repr(origin))
            )
        lot_id = int(
            conn.execute(
                insert(_LOT).returning(_LOT.c.id),
                {"unit_type": unit_type, "vintage": vintage, "origin": origin, "created": amount},
            ).scalar_one()
        )
        movement_id, at = self._movement(conn, "issue", actor, reason, key)
        conn.execute(
            _NEW_POSTING,
            {
                "movement_id": movement_id,
                "lot_id": lot_id,
                "debit_id": issuance,
                "credit_id": acc,
                "amount": amount,
            },
        )
        conn.execute(
            _NEW_BALANCE, {"account_id": acc, "lot_id": lot_id, "amount": amount, "held": 0}
        )
        audit.append(
            session,
            at=at,
            actor=actor,
            action="units.issue",
            subject=account,
            payload={
                "type": unit_type,
                "vintage": vintage,
                "amount": amount,
                "origin": origin,
                "lot": lot_id,
                "movement": movement_id,
                "reason": reason,
            },
        )
        return {"lot_id": lot_id, "movement_id": movement_id}

    @staticmethod
    def _accounts(conn: Connection, first: str, second: str) -> dict[str, int]:
        """Ids of two accounts in one round trip; an unknown one is refused."""
        ids = {str(n): int(i) for n, i in conn.execute(_ACCOUNTS, {"a": first, "b": second})}
        for name in (first, second):
            if name not in ids:
                if name.startswith("system:"):
                    raise LedgerError(
                        msg("the ledger is not initialised (system accounts missing)")
                    )
                raise LedgerError(msg("unknown account %(name)s", name=repr(name)))
        return ids

    def move(
        self,
        kind: str,
        source: str,
        target: str | None,
        lines: Sequence[Line],
        *,
        actor: str,
        reason: str,
        key: str,
    ) -> dict[str, Any]:
        """Transfer (``target`` a holding account), surrender or cancel (``target`` None)."""
        request = {
            "op": kind,
            "source": source,
            "target": target,
            "lines": [(ln.unit_type, ln.vintage, ln.amount) for ln in lines],
        }

        def apply(session: Session) -> dict[str, Any]:
            return self.move_in(
                session, kind, source, target, lines, actor=actor, reason=reason, key=key
            )

        return self.run(key, request, apply)

    def move_in(
        self,
        session: Session,
        kind: str,
        source: str,
        target: str | None,
        lines: Sequence[Line],
        *,
        actor: str,
        reason: str,
        key: str,
    ) -> dict[str, Any]:
        """``move`` inside the caller's transaction.

        The lean write path (SQLAlchemy Core, a fixed number of round trips): the source's and
        the target's balance rows of the lines' unit types and vintages are locked in one
        statement, ordered by (lot, account) — every transaction takes its row locks in that one
        global order, so two transfers (also A→B against B→A) never deadlock and never spend the
        same units. Units are taken from the source's lots in lot order, skipping held units.
        """
        if kind not in ("transfer", "surrender", "cancel"):
            raise LedgerError(msg("unknown movement kind %(kind)s", kind=repr(kind)))
        if kind == "transfer" and target is None:
            raise LedgerError(msg("a transfer needs a target account"))
        if target == source:
            raise LedgerError(msg("source and target are the same account"))
        if not lines:
            raise LedgerError(msg("nothing to move"))
        for line in lines:
            if line.amount <= 0:
                raise LedgerError(
                    msg("amount must be positive, got %(amount)s", amount=line.amount)
                )
        session.flush()
        conn = session.connection()
        dst_name = target if target is not None else f"system:{kind}"
        ids = self._accounts(conn, source, dst_name)
        src, dst = ids[source], ids[dst_name]
        movement_id, at = self._movement(conn, kind, actor, reason, key)
        wanted = {(ln.unit_type, ln.vintage) for ln in lines}
        accounts = [src, dst] if target is not None else [src]
        rows = conn.execute(
            select(
                _BAL.c.account_id,
                _BAL.c.lot_id,
                _BAL.c.amount,
                _BAL.c.held,
                _LOT.c.unit_type,
                _LOT.c.vintage,
            )
            .join(_LOT, _LOT.c.id == _BAL.c.lot_id)
            .where(
                _BAL.c.account_id.in_(accounts),
                tuple_(_LOT.c.unit_type, _LOT.c.vintage).in_(sorted(wanted)),
            )
            .order_by(_BAL.c.lot_id, _BAL.c.account_id)
            .with_for_update(of=_BAL)
        ).all()
        free: dict[tuple[str, int], list[tuple[int, int, int]]] = {}  # (lot, amount, held)
        target_has: dict[int, int] = {}
        for acc, lot_id, amount, held, utype, vintage in rows:
            if acc == src:
                if amount > held:
                    free.setdefault((utype, int(vintage)), []).append((lot_id, amount, held))
            else:
                target_has[lot_id] = amount
        taken: list[tuple[int, int]] = []
        updates: list[dict[str, int]] = []
        for line in lines:
            need = line.amount
            group = free.get((line.unit_type, line.vintage), [])
            for i, (lot_id, amount, held) in enumerate(group):
                if need == 0:
                    break
                use = min(need, amount - held)
                if use <= 0:
                    continue
                group[i] = (lot_id, amount - use, held)
                need -= use
                taken.append((lot_id, use))
            if need:
                raise LedgerError(
                    msg(
                        "not enough %(unit_type)s %(vintage)s units available: "
                        "asked %(asked)s, free %(free)s",
                        unit_type=line.unit_type,
                        vintage=line.vintage,
                        asked=line.amount,
                        free=line.amount - need,
                    )
                )
        left = {lot: amount for group in free.values() for lot, amount, _ in group}
        moved: dict[int, int] = {}
        for lot_id, use in taken:
            moved[lot_id] = moved.get(lot_id, 0) + use
        for lot_id in sorted(moved):
            updates.append({"a": src, "l": lot_id, "n": left[lot_id]})
        inserts: list[dict[str, int]] = []
        if target is not None:
            for lot_id in sorted(moved):
                if lot_id in target_has:
                    updates.append({"a": dst, "l": lot_id, "n": target_has[lot_id] + moved[lot_id]})
                else:
                    inserts.append(
                        {"account_id": dst, "lot_id": lot_id, "amount": moved[lot_id], "held": 0}
                    )
        conn.execute(_SET_BALANCE, updates)
        if inserts:
            conn.execute(_NEW_BALANCE, inserts)
        conn.execute(
            _NEW_POSTING,
            [
                {
                    "movement_id": movement_id,
                    "lot_id": lot_id,
                    "debit_id": src,
                    "credit_id": dst,
                    "amount": amount,
                }
                for lot_id, amount in taken
            ],
        )
        audit.append(
            session,
            at=at,
            actor=actor,
            action=f"units.{kind}",
            subject=source,
            payload={
                "target": target,
                "lines": [(ln.unit_type, ln.vintage, ln.amount) for ln in lines],
                "movement": movement_id,
                "lots": taken,
                "reason": reason,
            },
        )
        return {"movement_id": movement_id, "lots": [list(t) for t in taken]}

    def hold(
        self, account: str, lot_id: int, amount: int, *, actor: str, reason: str, key: str
    ) -> int:
        """Put ``amount`` units of a lot on hold: they cannot move until released."""
        request = {"op": "hold", "account": account, "lot": lot_id, "amount": amount}

        def apply(session: Session) -> dict[str, Any]:
            return {
                "hold_id": self.hold_in(
                    session, account, lot_id, amount, actor=actor, reason=reason
                )
            }

        return int(self.run(key, request, apply)["hold_id"])

    def hold_in(
        self, session: Session, account: str, lot_id: int, amount: int, *, actor: str, reason: str
    ) -> int:
        if amount <= 0:
            raise LedgerError(msg("amount must be positive, got %(amount)s", amount=amount))
        if not reason.strip():
            raise LedgerError(msg("a hold needs a reason"))
        acc = self.account_id(session, account)
        bal = session.execute(
            select(Balance)
            .where(Balance.account_id == acc, Balance.lot_id == lot_id)
            .with_for_update()
        ).scalar_one_or_none()
        free = 0 if bal is None else bal.amount - bal.held
        if bal is None or free < amount:
            raise LedgerError(
                msg(
                    "cannot hold %(amount)s units of lot %(lot)s: %(free)s free",
                    amount=amount,
                    lot=lot_id,
                    free=free,
                )
            )
        bal.held += amount
        h = Hold(
            account_id=acc,
            lot_id=lot_id,
            amount=amount,
            reason=reason,
            placed_by=actor,
            placed_at=self.clock(),
        )
        session.add(h)
        session.flush()
        audit.append(
            session,
            at=h.placed_at,
            actor=actor,
            action="units.hold",
            subject=account,
            payload={"lot": lot_id, "amount": amount, "hold": h.id, "reason": reason},
        )
        return h.id

    def release(self, hold_id: int, *, actor: str, reason: str, key: str) -> None:
        def apply(session: Session) -> dict[str, Any]:
            self.release_in(session, hold_id, actor=actor, reason=reason)
            return {"hold_id": hold_id}

        self.run(key, {"op": "release", "hold": hold_id}, apply)

    def release_in(self, session: Session, hold_id: int, *, actor: str, reason: str) -> None:
        h = session.execute(
            select(Hold).where(Hold.id == hold_id).with_for_update()
        ).scalar_one_or_none()
        if h is None:
            raise LedgerError(msg("unknown hold %(id)s", id=hold_id))
        if h.released_at is not None:
            raise LedgerError(msg("hold %(id)s was released already", id=hold_id))
        bal = session.execute(
            select(Balance)
            .where(Balance.account_id == h.account_id, Balance.lot_id == h.lot_id)
            .with_for_update()
        ).scalar_one()
        bal.held -= h.amount
        h.released_by, h.released_at = actor, self.clock()
        audit.append(
            session,
            at=h.released_at,
            actor=actor,
            action="units.release",
            subject=str(hold_id),
            payload={"hold": hold_id, "reason": reason},
        )

    def lot_positions(self, session: Session, lot_id: int) -> list[tuple[str, int, int]]:
        """Where a lot's units are now: [(account name, amount, held)] on holding accounts."""
        rows = session.execute(
            select(Account.name, Balance.amount, Balance.held)
            .join(Account, Account.id == Balance.account_id)
            .where(Balance.lot_id == lot_id, Balance.amount > 0)
            .order_by(Account.name)
        ).all()
        return [(str(n), int(a), int(h)) for n, a, h in rows]

    # ------------------------------------------------------------------ reads

    def balances(
        self, account: str, as_of: dt.datetime | None = None
    ) -> dict[tuple[str, int], int]:
        """Units per (unit type, vintage) on ``account``: now, or at ``as_of`` (from postings)."""
        with self.sessions() as session:
            acc = self.account_id(session, account)
            if as_of is None:
                rows = session.execute(
                    select(Lot.unit_type, Lot.vintage, func.sum(Balance.amount))
                    .join(Lot, Lot.id == Balance.lot_id)
                    .where(Balance.account_id == acc)
                    .group_by(Lot.unit_type, Lot.vintage)
                ).all()
                return {(t, v): int(n) for t, v, n in rows if n}
            out: dict[tuple[str, int], int] = {}
            for col, sign in ((Posting.credit_id, 1), (Posting.debit_id, -1)):
                rows = session.execute(
                    select(Lot.unit_type, Lot.vintage, func.sum(Posting.amount))
                    .join(Lot, Lot.id == Posting.lot_id)
                    .join(Movement, Movement.id == Posting.movement_id)
                    .where(col == acc, Movement.at <= as_of)
                    .group_by(Lot.unit_type, Lot.vintage)
                ).all()
                for t, v, n in rows:
                    out[(t, v)] = out.get((t, v), 0) + sign * int(n)
            return {k: v for k, v in out.items() if v}
