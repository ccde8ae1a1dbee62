"""The unit ledger on SQLite and PostgreSQL: double entry, conservation, holds, idempotency,
the audit hash chain, and ``verify`` catching every kind of tampering."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError

from keten.ledger.service import Ledger, LedgerError, Line
from keten.ledger.verify import verify
from keten.store.db import make_engine, session_factory, upgrade

T = "land/other"


@pytest.fixture
def ledger(database_url: str) -> Iterator[Ledger]:
    engine = make_engine(database_url)
    upgrade(engine)
    led = Ledger(session_factory(engine))
    led.ensure_system_accounts()
    for name in ("A", "B"):
        led.open_account(name, owner=name, actor="admin", key=f"open-{name}")
    yield led
    engine.dispose()


def problems(led: Ledger) -> list[str]:
    with led.sessions() as s:
        return verify(s)


def issue(led: Ledger, n: int, key: str, account: str = "A", vintage: int = 2026) -> int:
    return led.issue(
        account,
        T,
        vintage,
        n,
        origin=f"booking-{key}",
        actor="u1",
        reason="booking approved",
        key=key,
    )


def test_issue_transfer_surrender_cancel_conserve_units(ledger: Ledger) -> None:
    issue(ledger, 1000, "b1")
    issue(ledger, 500, "b2")
    ledger.move("transfer", "A", "B", [Line(T, 2026, 1200)], actor="u1", reason="sale", key="t1")
    ledger.move(
        "surrender", "B", None, [Line(T, 2026, 700)], actor="u2", reason="year end", key="s1"
    )
    ledger.move("cancel", "B", None, [Line(T, 2026, 100)], actor="nea", reason="excess", key="c1")
    assert ledger.balances("A") == {(T, 2026): 300}  # 1000 + 500 − 1200
    assert ledger.balances("B") == {(T, 2026): 400}  # 1200 − 700 − 100
    assert problems(ledger) == []


def test_transfer_takes_lots_in_order(ledger: Ledger) -> None:
    first = issue(ledger, 10, "b1")
    second = issue(ledger, 10, "b2")
    out = ledger.move("transfer", "A", "B", [Line(T, 2026, 15)], actor="u", reason="r", key="t")
    assert [tuple(x) for x in out["lots"]] == [(first, 10), (second, 5)]


@pytest.mark.parametrize("amount", [0, -5])
def test_non_positive_amounts_refused(ledger: Ledger, amount: int) -> None:
    with pytest.raises(LedgerError, match="positive"):
        issue(ledger, amount, "bad")
    with pytest.raises(LedgerError, match="positive"):
        ledger.move("transfer", "A", "B", [Line(T, 2026, amount)], actor="u", reason="r", key="x")
    assert problems(ledger) == []


def test_overspend_refused_and_nothing_changes(ledger: Ledger) -> None:
    issue(ledger, 100, "b1")
    with pytest.raises(LedgerError, match="asked 101, free 100"):
        ledger.move("transfer", "A", "B", [Line(T, 2026, 101)], actor="u", reason="r", key="t")
    assert ledger.balances("A") == {(T, 2026): 100}
    assert ledger.balances("B") == {}
    assert problems(ledger) == []


def test_wrong_vintage_or_type_is_not_spendable(ledger: Ledger) -> None:
    issue(ledger, 100, "b1", vintage=2026)
    with pytest.raises(LedgerError, match="not enough"):
        ledger.move("transfer", "A", "B", [Line(T, 2027, 1)], actor="u", reason="r", key="t1")
    with pytest.raises(LedgerError, match="not enough"):
        ledger.move(
            "transfer", "A", "B", [Line("land/rfnbo", 2026, 1)], actor="u", reason="r", key="t2"
        )


def test_unknown_accounts_and_missing_actor_or_reason_refused(ledger: Ledger) -> None:
    issue(ledger, 10, "b1")
    with pytest.raises(LedgerError, match="unknown account 'Z'"):
        ledger.move("transfer", "A", "Z", [Line(T, 2026, 1)], actor="u", reason="r", key="t1")
    with pytest.raises(LedgerError, match="actor"):
        ledger.move("transfer", "A", "B", [Line(T, 2026, 1)], actor=" ", reason="r", key="t2")
    with pytest.raises(LedgerError, match="reason"):
        ledger.move("transfer", "A", "B", [Line(T, 2026, 1)], actor="u", reason="", key="t3")
    with pytest.raises(LedgerError, match="same account"):
        ledger.move("transfer", "A", "A", [Line(T, 2026, 1)], actor="u", reason="r", key="t4")
    with pytest.raises(LedgerError, match="idempotency key"):
        ledger.move("transfer", "A", "B", [Line(T, 2026, 1)], actor="u", reason="r", key="")
    assert ledger.balances("A") == {(T, 2026): 10}
    assert problems(ledger) == []


def test_same_origin_cannot_create_units_twice(ledger: Ledger) -> None:
    ledger.issue("A", T, 2026, 5, origin="PoS-1", actor="u", reason="r", key="k1")
    with pytest.raises(LedgerError, match="created already"):
        ledger.issue("A", T, 2026, 5, origin="PoS-1", actor="u", reason="r", key="k2")


def test_retry_with_same_key_applies_once(ledger: Ledger) -> None:
    issue(ledger, 100, "b1")
    first = ledger.move("transfer", "A", "B", [Line(T, 2026, 30)], actor="u", reason="r", key="t")
    again = ledger.move("transfer", "A", "B", [Line(T, 2026, 30)], actor="u", reason="r", key="t")
    assert first == again
    assert ledger.balances("B") == {(T, 2026): 30}
    with pytest.raises(LedgerError, match="different request"):
        ledger.move("transfer", "A", "B", [Line(T, 2026, 31)], actor="u", reason="r", key="t")
    assert problems(ledger) == []


def test_holds_block_movement_until_released(ledger: Ledger) -> None:
    lot = issue(ledger, 100, "b1")
    hold = ledger.hold("A", lot, 80, actor="nea", reason="booking under review", key="h1")
    with pytest.raises(LedgerError, match="free 20"):
        ledger.move("transfer", "A", "B", [Line(T, 2026, 21)], actor="u", reason="r", key="t1")
    ledger.move("transfer", "A", "B", [Line(T, 2026, 20)], actor="u", reason="r", key="t2")
    with pytest.raises(LedgerError, match="cannot hold"):
        ledger.hold("A", lot, 1, actor="nea", reason="more", key="h2")
    assert problems(ledger) == []
    ledger.release(hold, actor="nea", reason="review done", key="r1")
    with pytest.raises(LedgerError, match="released already"):
        ledger.release(hold, actor="nea", reason="again", key="r2")
    ledger.move("transfer", "A", "B", [Line(T, 2026, 80)], actor="u", reason="r", key="t3")
    assert ledger.balances("B") == {(T, 2026): 100}
    assert problems(ledger) == []


def test_balance_as_of_a_date(ledger: Ledger) -> None:
    clock = iter(dt.datetime(2026, m, 1, tzinfo=dt.UTC) for m in range(1, 13))
    ledger.clock = lambda: next(clock)
    issue(ledger, 100, "b1")  # movement at 1 Jan (audit uses the same time)
    ledger.move("transfer", "A", "B", [Line(T, 2026, 40)], actor="u", reason="r", key="t1")
    assert ledger.balances("B", as_of=dt.datetime(2026, 1, 15, tzinfo=dt.UTC)) == {}
    assert ledger.balances("A", as_of=dt.datetime(2026, 1, 15, tzinfo=dt.UTC)) == {(T, 2026): 100}
    assert ledger.balances("A", as_of=dt.datetime(2026, 12, 31, tzinfo=dt.UTC)) == {(T, 2026): 60}


def test_database_refuses_negative_balance_directly(ledger: Ledger) -> None:
    issue(ledger, 10, "b1")
    with pytest.raises(IntegrityError), ledger.transaction() as s:
        s.execute(sa.text("UPDATE ledger_balance SET amount = -1"))


def test_audit_log_is_append_only_in_the_database(ledger: Ledger) -> None:
    issue(ledger, 10, "b1")
    for sql in ("UPDATE audit_event SET actor = 'x'", "DELETE FROM audit_event"):
        with pytest.raises(DBAPIError), ledger.transaction() as s:
            s.execute(sa.text(sql))
    assert problems(ledger) == []


def _drop_audit_protection(ledger: Ledger) -> None:
    with ledger.transaction() as s:
        if s.bind.dialect.name == "postgresql":
            s.execute(sa.text("DROP TRIGGER audit_event_no_change ON audit_event"))
        else:
            s.execute(sa.text("DROP TRIGGER audit_event_no_update"))
            s.execute(sa.text("DROP TRIGGER audit_event_no_delete"))


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("UPDATE audit_event SET actor = 'mallory' WHERE seq = 2", "content was changed"),
        ("DELETE FROM audit_event WHERE seq = 2", "missing"),
        ("DELETE FROM audit_event WHERE seq = (SELECT max(seq) FROM audit_event)", "audit head"),
    ],
)
def test_verify_detects_audit_edits_and_deletions(ledger: Ledger, sql: str, expected: str) -> None:
    issue(ledger, 10, "b1")
    ledger.move("transfer", "A", "B", [Line(T, 2026, 5)], actor="u", reason="r", key="t1")
    _drop_audit_protection(ledger)
    with ledger.transaction() as s:
        s.execute(sa.text(sql))
    assert any(expected in p for p in problems(ledger)), problems(ledger)


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("UPDATE ledger_balance SET amount = amount + 1", "postings give"),
        ("UPDATE ledger_lot SET created = created + 1", "created"),
        (
            "DELETE FROM ledger_posting WHERE id = (SELECT max(id) FROM ledger_posting)",
            "no postings",
        ),
        ("UPDATE ledger_balance SET held = 1", "open holds"),
    ],
)
def test_verify_detects_ledger_tampering(ledger: Ledger, sql: str, expected: str) -> None:
    issue(ledger, 10, "b1")
    ledger.move("transfer", "A", "B", [Line(T, 2026, 5)], actor="u", reason="r", key="t1")
    with ledger.transaction() as s:
        s.execute(sa.text(sql))
    assert any(expected in p for p in problems(ledger)), problems(ledger)


def test_migrations_match_the_models(database_url: str) -> None:
    """Alembic's comparison of the migrated schema with the models finds no difference."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from keten.store.models import Base

    engine = make_engine(database_url)
    upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        triggers = (
            {
                str(t)
                for (t,) in conn.execute(
                    sa.text("SELECT tgname FROM pg_trigger WHERE tgname LIKE 'keten_ref%'")
                )
            }
            if engine.dialect.name == "postgresql"
            else set()
        )
    engine.dispose()
    if engine.dialect.name == "postgresql":
        # EV-29: on PostgreSQL these foreign keys are statement-level constraint triggers
        # (migration 0007); every one of them must be there instead.
        replaced = {(d[1].parent.name, d[1].column_keys[0]) for d in diff if d[0] == "add_fk"}
        assert replaced == {
            ("ledger_posting", "movement_id"),
            ("ledger_posting", "lot_id"),
            ("ledger_posting", "debit_id"),
            ("ledger_posting", "credit_id"),
            ("reg_charging_session", "booking_id"),
        }
        diff = [d for d in diff if d[0] != "add_fk"]
        assert triggers == {
            f"keten_refs_{child}_{event}"
            for child in ("ledger_posting", "reg_charging_session")
            for event in ("insert", "update")
        } | {
            f"keten_refd_{parent}_{event}"
            for parent in ("ledger_movement", "ledger_lot", "ledger_account", "reg_booking")
            for event in ("delete", "update")
        }
    assert diff == []


def test_postgresql_refuses_dangling_references_set_based(database_url: str) -> None:
    """EV-29: a posting pointing at a missing lot, or removing a lot a posting points at, is
    refused by the database on both engines (foreign key / statement-level trigger)."""
    engine = make_engine(database_url)
    upgrade(engine)
    led = Ledger(session_factory(engine))
    led.ensure_system_accounts()
    led.open_account("A", "A", actor="t", key="oa")
    lot = issue(led, 10, "b1")
    for sql in (
        "INSERT INTO ledger_posting (movement_id, lot_id, debit_id, credit_id, amount) "
        "SELECT movement_id, 999999, debit_id, credit_id, 1 FROM ledger_posting",
        "UPDATE ledger_posting SET movement_id = 999999",
        f"DELETE FROM ledger_balance WHERE lot_id = {lot}; DELETE FROM ledger_lot",
        "UPDATE ledger_lot SET id = 999999",
    ):
        with pytest.raises(IntegrityError), led.transaction() as s:
            for part in sql.split("; "):
                s.execute(sa.text(part))
    assert problems(led) == []
    engine.dispose()
