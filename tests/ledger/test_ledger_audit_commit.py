"""EV-26: audit events are chained and written when their transaction commits — a rolled-back
transaction leaves no event, the events of one transaction are consecutive, and the chain stays
verifiable. SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from keten.ledger import audit
from keten.ledger.service import Ledger
from keten.ledger.verify import verify
from keten.store.db import make_engine, session_factory, upgrade
from keten.store.models import AuditEvent

AT = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)


def test_events_are_written_at_commit_and_dropped_on_rollback(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    led = Ledger(session_factory(engine))

    def count() -> int:
        with led.sessions() as s:
            return int(s.execute(select(func.count()).select_from(AuditEvent)).scalar() or 0)

    with pytest.raises(RuntimeError), led.transaction() as s:
        audit.append(s, at=AT, actor="a", action="x", subject="s", payload={"n": 1})
        assert audit.pending(s) == 1
        raise RuntimeError("rolled back")
    assert count() == 0
    with led.transaction() as s:
        for n in range(3):
            audit.append(s, at=AT, actor="a", action="x", subject="s", payload={"n": n})
        assert count() == 0  # not yet visible to another session
    with led.sessions() as s:
        rows = s.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars().all()
        assert [(e.seq, e.payload) for e in rows] == [
            (1, '{"n":0}'),
            (2, '{"n":1}'),
            (3, '{"n":2}'),
        ]
        assert rows[1].prev_hash == rows[0].hash and rows[2].prev_hash == rows[1].hash
        assert verify(s) == []
    engine.dispose()
