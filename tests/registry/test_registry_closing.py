"""Year-end closing (jaarafsluiting) on SQLite and PostgreSQL, with the arithmetic written out.

Brandstof BV, 2026, set bijlage-1 — deliveries 1,000,000 l diesel to land:
  base 36,000,000 MJ; total 14.4 % → 487,296; Annex IX-A 3.07 % → 103,888.8 → 103,889;
  RFNBO 0.05 % → 1,692; conventional cap 1.20 % → 40,608 (EV-01, EV-03).
Bookings (EV-06):
  50,000 l HVO (annex-ixa) at 10 g/MJ: 50,000 × 34 × 84 / 1000 = 142,800
  1,000,000 kWh (other): 1,000,000 × 3.6 × 50.5 % × 183 / 1000 = 332,694
  300,000 l bioethanol (conventional) at 40 g/MJ: 300,000 × 21 × 54 / 1000 = 340,200
  then 5,000 annex-ixa units are transferred to Handel BV → 137,800 annex-ixa left.
Best allocation (EV-07, EV-12..EV-16): Annex IX-A part 103,889 from annex-ixa; RFNBO part 1,692
  empty (no rfnbo units) → shortfall 1,692; general part 487,296 − 103,889 − 1,692 = 381,715 from
  other 332,694 + conventional 40,608 (cap) + annex-ixa 8,413 (scarce, last).
  Surrendered annex-ixa 112,302, other 332,694, conventional 40,608.
  Penalty 1,692 × €0.60 = €1,015.20 (ev.register.penalty_per_unit, an assumption).
Banking (EV-24): limit max(25 % × 487,296 = 121,824, 2,000) = 121,824; left annex-ixa 25,498 (banked
  first), conventional 340,200 − 40,608 = 299,592 → banked 121,824 − 25,498 = 96,326, cancelled
  203,266. Handel BV (no obligation): limit 2,000 → banks 2,000 annex-ixa, 3,000 cancelled.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from keten.core.errors import KetenError
from keten.core.params import load_set
from keten.ledger.service import Ledger, Line
from keten.ledger.verify import verify
from keten.registry import closing
from keten.registry.service import Actor, AuthError, BookingInput, Registry
from keten.store.db import make_engine, session_factory, upgrade
from keten.store.models import Movement

PW = "correct horse battery"


@pytest.fixture
def reg(database_url: str) -> Iterator[Registry]:
    engine = make_engine(database_url)
    upgrade(engine)
    now = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    r = Registry(Ledger(session_factory(engine), clock=lambda: now), load_set("ev", "bijlage-1"))
    r.init()
    r.create_holder("Brandstof BV", can_book=True, has_obligation=True, actor="t", key="h1")
    r.create_holder("Handel BV", actor="t", key="h2")
    for name, role, holder in (
        ("alice", "rekeningbevoegde", "Brandstof BV"),
        ("bob", "fiatteur", "Brandstof BV"),
        ("nea", "toezichthouder", None),
    ):
        r.create_user(name, PW, role, holder, actor="t", key=f"u-{name}")
    alice, bob = r.login("alice", PW), r.login("bob", PW)
    r.register_delivery(alice, 2026, 5, "land", "diesel", "1000000", "l", key="d1")
    for i, b in enumerate(
        [
            BookingInput("P1", 2026, "land", "annex-ixa", "hvo", "50000", "l", "10"),
            BookingInput("P2", 2026, "land", "other", "electricity", "1000000", "kWh", None),
            BookingInput("P3", 2026, "land", "conventional", "bioethanol", "300000", "l", "40"),
        ]
    ):
        bid = r.propose_booking(alice, b, key=f"p{i}")
        r.decide_booking(bob, bid, approve=True, key=f"a{i}")
    t = r.propose_transfer(alice, "Handel BV", [Line("land/annex-ixa", 2026, 5000)], key="t1")
    r.decide_transfer(bob, t, approve=True, key="t1a")
    yield r
    engine.dispose()


def nea(r: Registry) -> Actor:
    return r.login("nea", PW)


def test_closing_plan_arithmetic(reg: Registry) -> None:
    p = closing.plan(reg, 2026)
    brandstof, handel = p.holders
    assert brandstof.obligation_total == 487_296
    assert brandstof.shortfall_by_sector == {"land": 1_692}
    assert brandstof.penalty_eur == "1015.20"  # 1,692 × 0.60
    assert sorted(brandstof.surrender) == [
        ("land/annex-ixa", 2026, 112_302),
        ("land/conventional", 2026, 40_608),
        ("land/other", 2026, 332_694),
    ]
    assert brandstof.banking_limit == 121_824
    assert brandstof.banked == [
        ("land/annex-ixa", 2026, 25_498),
        ("land/conventional", 2026, 96_326),
    ]
    assert brandstof.cancel == [("land/conventional", 2026, 203_266)]
    assert handel.obligation_total == 0 and handel.banking_limit == 2_000
    assert handel.banked == [("land/annex-ixa", 2026, 2_000)]
    assert handel.cancel == [("land/annex-ixa", 2026, 3_000)]


def test_preview_writes_nothing_and_run_applies_it_once(reg: Registry) -> None:
    with reg.ledger.sessions() as s:
        before = s.execute(select(func.count()).select_from(Movement)).scalar()
    preview = closing.plan(reg, 2026).to_dict()
    with reg.ledger.sessions() as s:
        assert s.execute(select(func.count()).select_from(Movement)).scalar() == before
    first = closing.run(reg, nea(reg), 2026, key="close-2026")
    assert first == json.loads(json.dumps(preview))  # the stored summary is JSON
    assert reg.ledger.balances("holder:Brandstof BV") == {
        ("land/annex-ixa", 2026): 25_498,
        ("land/conventional", 2026): 96_326,
    }
    assert reg.ledger.balances("holder:Handel BV") == {("land/annex-ixa", 2026): 2_000}
    with reg.ledger.sessions() as s:
        after = s.execute(select(func.count()).select_from(Movement)).scalar()
        assert verify(s) == []
    again = closing.run(reg, nea(reg), 2026, key="close-2026-bis")  # another key, same year
    assert again == first
    with reg.ledger.sessions() as s:
        assert s.execute(select(func.count()).select_from(Movement)).scalar() == after


def test_only_the_regulator_closes(reg: Registry) -> None:
    with pytest.raises(AuthError):
        closing.run(reg, reg.login("bob", PW), 2026, key="x")


def test_units_on_hold_are_neither_surrendered_nor_cancelled(reg: Registry) -> None:
    """EV-23: held units stay where they are until the regulator releases them."""
    regulator = nea(reg)
    reg.hold_booking(regulator, 3, reason="review", key="hold-3")  # the bioethanol booking
    p = closing.plan(reg, 2026)
    brandstof = p.holders[0]
    assert all(t != "land/conventional" for t, _, _ in brandstof.surrender)
    # Without conventional units the general part (381,715) takes other 332,694 and every
    # annex-ixa unit beyond the IX-A part: 137,800 − 103,889 = 33,911 → 366,605, short 15,110;
    # with the empty RFNBO part: 15,110 + 1,692 = 16,802.
    assert brandstof.shortfall_total == 16_802
    closing.run(reg, regulator, 2026, key="close")
    assert reg.ledger.balances("holder:Brandstof BV")[("land/conventional", 2026)] == 340_200


def test_published_statistics_after_the_closing(reg: Registry) -> None:
    """Per year and unit type, from the worked case above (all movements dated 2026-12-01)."""
    from keten.registry.service import Reads

    closing.run(reg, nea(reg), 2026, key="close")
    stats = {r["unit_type"]: r for r in Reads(reg).statistics("year")}
    assert set(stats) == {"land/annex-ixa", "land/conventional", "land/other"}
    ixa, conv, other = stats["land/annex-ixa"], stats["land/conventional"], stats["land/other"]
    assert (ixa["period"], ixa["created"], ixa["transferred"]) == ("2026", 142_800, 5_000)
    assert (ixa["surrendered"], ixa["cancelled"], ixa["banked"]) == (112_302, 3_000, 27_498)
    assert (conv["created"], conv["surrendered"], conv["cancelled"], conv["banked"]) == (
        340_200,
        40_608,
        203_266,
        96_326,
    )
    assert (other["created"], other["surrendered"], other["banked"]) == (332_694, 332_694, 0)
    months = Reads(reg).statistics("month")
    assert {r["period"] for r in months} == {"2026-12"}
    with pytest.raises(KetenError, match="period"):
        Reads(reg).statistics("week")
