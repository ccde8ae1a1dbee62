"""The hash-chained audit log.

Each event stores the hash of the previous one: ``hash = sha256(prev_hash ‖ canonical(event))``
where ``canonical`` is the JSON of ``seq, at, actor, action, subject, payload`` with sorted keys.
Editing or deleting any event breaks the chain at that point; ``verify_chain`` finds it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from sqlalchemy import select
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


def append(
    session: Session,
    *,
    at: dt.datetime,
    actor: str,
    action: str,
    subject: str,
    payload: dict[str, Any],
) -> AuditEvent:
    """Append one event in the caller's transaction (the head row is locked until commit)."""
    head = session.execute(
        select(AuditHead).where(AuditHead.id == 1).with_for_update()
    ).scalar_one()
    body = json.dumps(
        payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str
    )
    seq = head.seq + 1
    digest = event_hash(head.hash, seq, at, actor, action, subject, body)
    event = AuditEvent(
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        subject=subject,
        payload=body,
        prev_hash=head.hash,
        hash=digest,
    )
    session.add(event)
    head.seq, head.hash = seq, digest
    return event


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
