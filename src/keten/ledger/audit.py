"""The hash-chained audit log.

Each event stores the hash of the previous one: ``hash = sha256(prev_hash ‖ canonical(event))``
where ``canonical`` is the JSON of ``seq, at, actor, action, subject, payload`` with sorted keys.
Editing or deleting any event breaks the chain at that point; ``verify_chain`` finds it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any, cast

from sqlalchemy import Table, event, insert, select, update
from sqlalchemy.orm import Session

from keten.store.models import AuditEvent, AuditHead

GENESIS = "0" * 64


def _utc(at: dt.datetime) -> dt.datetime:
    """Times are stored in UTC; SQLite gives them back without a zone."""
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)


def _canonical(
    seq: int, at: dt.datetime, actor: str, action: str, subject: str, payload: str
) -> str:
    return json.dumps(
        {
            "seq": seq,
            "at": _utc(at).isoformat(),
            "actor": actor,
            "action": action,
            "subject": subject,
            "payload": payload,
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )


def event_hash(
    prev: str, seq: int, at: dt.datetime, actor: str, action: str, subject: str, payload: str
) -> str:
    text = prev + _canonical(seq, at, actor, action, subject, payload)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_PENDING = "keten.audit.pending"
_EVENT = cast(Table, AuditEvent.__table__)
_HEAD = cast(Table, AuditHead.__table__)
_LOCK_HEAD = select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.id == 1).with_for_update()
_SET_HEAD = update(_HEAD).where(_HEAD.c.id == 1)


def append(
    session: Session,
    *,
    at: dt.datetime,
    actor: str,
    action: str,
    subject: str,
    payload: dict[str, Any],
) -> None:
    """Append one event to the caller's transaction.

    The event is chained and written when the transaction commits (``_write_pending``, a
    ``before_commit`` hook): the head row is locked only for the last statements of the
    transaction, so concurrent writers wait for each other as briefly as possible, and the
    chain still never forks (EV-26). A transaction that rolls back writes no event.
    """
    body = json.dumps(
        payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
    )
    pending: list[tuple[dt.datetime, str, str, str, str]] = session.info.setdefault(_PENDING, [])
    pending.append((at, actor, action, subject, body))


def pending(session: Session) -> int:
    """Events appended in the open transaction and not yet written."""
    return len(session.info.get(_PENDING, ()))


@event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    events = session.info.get(_PENDING)
    if not events or session.in_nested_transaction():
        return
    session.flush()  # every other change first: the head stays locked only for what follows
    conn = session.connection()
    seq, prev = conn.execute(_LOCK_HEAD).one()
    rows = []
    for at, actor, action, subject, body in events:
        seq += 1
        digest = event_hash(prev, seq, at, actor, action, subject, body)
        rows.append(
            {
                "seq": seq,
                "at": at,
                "actor": actor,
                "action": action,
                "subject": subject,
                "payload": body,
                "prev_hash": prev,
                "hash": digest,
            }
        )
        prev = digest
    conn.execute(insert(_EVENT), rows)
    conn.execute(_SET_HEAD, {"seq": seq, "hash": prev})
    del session.info[_PENDING]


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, previous_transaction: Any) -> None:
    if not session.in_transaction():
        session.info.pop(_PENDING, None)


def verify_chain(session: Session) -> list[str]:
    """Problems found in the chain (empty when intact)."""
    problems: list[str] = []
    prev, expected_seq = GENESIS, 1
    for ev in session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars():
        if ev.seq != expected_seq:
            problems.append(f"audit event {expected_seq} is missing (next is {ev.seq})")
        if ev.prev_hash != prev:
            problems.append(
                f"audit event {ev.seq}: previous hash does not match event {ev.seq - 1}"
            )
        digest = event_hash(
            ev.prev_hash, ev.seq, ev.at, ev.actor, ev.action, ev.subject, ev.payload
        )
        if digest != ev.hash:
            problems.append(f"audit event {ev.seq}: content was changed (hash mismatch)")
        prev, expected_seq = ev.hash, ev.seq + 1
    head = session.get(AuditHead, 1)
    if head is None or head.seq != expected_seq - 1 or head.hash != prev:
        problems.append("audit head does not point at the last event (events deleted at the end?)")
    return problems
