"""The set-based year-end closing (EV-28) takes the same lots as ``Ledger.move`` would: within a
holder's (type, vintage) the first free units are surrendered, the next cancelled, the rest
banked — lot by lot, in lot order, skipping units on hold. SQLite and PostgreSQL.

Handel BV has no obligation, so its banking limit is the minimum, 2,000 (EV-24), and nothing is
surrendered. Lots of land/annex-ixa 2026: #1 1,500, #2 1,000, #3 700 = 3,200 units.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from keten.core.params import load_set
from keten.ledger.service import Ledger
from keten.ledger.verify import verify
from keten.registry import closing
from keten.registry.service import Registry
from keten.store.models import Posting

PW = "correct horse battery"
T = "land/annex-ixa"
ACCOUNT = "holder:Handel BV"


@pytest.fixture
def world(database_url: str) -> Iterator[tuple[Registry, list[int]]]:
    from keten.store.db import make_engine, session_factory, upgrade

    engine = make_engine(database_url)
    upgrade(engine)
    now = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    r = Registry(Ledger(session_factory(engine), clock=lambda: now), load_set("ev", "bijlage-1"))
    r.init()
    r.create_holder("Handel BV", actor="t", key="h")
    r.create_user("nea", PW, "toezichthouder", None, actor="t", key="u")
    lots = [
        r.ledger.issue(ACCOUNT, T, 2026, n, origin=f"o{i}", actor="t", reason="r", key=f"i{i}")
        for i, n in enumerate((1500, 1000, 700))
    ]
    yield r, lots
    engine.dispose()


def positions(r: Registry, lots: list[int]) -> list[tuple[int, int]]:
    with r.ledger.sessions() as s:
        out = []
        for lot in lots:
            found = r.ledger.lot_positions(s, lot)  # only accounts with units left
            assert len(found) <= 1
            out.append((found[0][1], found[0][2]) if found else (0, 0))
        return out


def test_cancel_takes_the_first_lots_and_banks_the_rest(world: tuple[Registry, list[int]]) -> None:
    r, lots = world
    summary = closing.run(r, r.login("nea", PW), 2026, key="close")
    (handel,) = summary["holders"]
    assert handel["banked"] == [[T, 2026, 2000]] and handel["cancel"] == [[T, 2026, 1200]]
    # 1,200 cancelled from lot #1 (1,500 → 300); lots #2 and #3 untouched: 300 + 1,000 + 700.
    assert positions(r, lots) == [(300, 0), (1000, 0), (700, 0)]
    with r.ledger.sessions() as s:
        rows = s.execute(select(Posting.lot_id, Posting.amount).where(Posting.amount == 1200)).all()
        assert [tuple(x) for x in rows] == [(lots[0], 1200)]
        assert verify(s) == []


def test_held_units_are_skipped_lot_by_lot(world: tuple[Registry, list[int]]) -> None:
    r, lots = world
    nea = r.login("nea", PW)
    r.ledger.hold(ACCOUNT, lots[0], 500, actor="nea", reason="review", key="hold")
    closing.run(r, nea, 2026, key="close")
    # Free 1,000 + 1,000 + 700 = 2,700; bank 2,000, cancel 700 — all from lot #1's free units:
    # lot #1 1,500 − 700 = 800 of which 500 held.
    assert positions(r, lots) == [(800, 500), (1000, 0), (700, 0)]
    with r.ledger.sessions() as s:
        assert verify(s) == []


def test_cancel_spanning_lots(world: tuple[Registry, list[int]]) -> None:
    r, lots = world
    r.ledger.issue(ACCOUNT, T, 2026, 1800, origin="o3", actor="t", reason="r", key="i3")
    closing.run(r, r.login("nea", PW), 2026, key="close")
    # 5,000 units, bank 2,000, cancel 3,000: lot #1 1,500 and lot #2 1,000 wholly, 500 of lot #3.
    assert positions(r, lots) == [(0, 0), (0, 0), (200, 0)]
    with r.ledger.sessions() as s:
        assert verify(s) == []
