"""Bulk booking of charging sessions (inboekdienstverlener), SQLite and PostgreSQL.

Worked case (EV-25, 2026): grid 100 + 250.5 = 350.5 kWh at 50.5 %, own generation 50 kWh at 100 %:
(350.5 × 0.505 + 50 × 1) = 227.0025 renewable kWh × 3.6 MJ/kWh × 183 g/MJ / 1000 = 149.549… → 149.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import func, select

from keten.core.errors import InputError, KetenError
from keten.core.params import load_set
from keten.ledger.service import Ledger
from keten.ledger.verify import verify
from keten.registry.service import AuthError, Registry
from keten.registry.sessions import ImportRefused, import_sessions
from keten.store.db import make_engine, session_factory, upgrade
from keten.store.models import Booking, ChargingSession

PW = "correct horse battery"
HEADER = "connection_id,meter_id,period_start,period_end,kwh,own_generation\n"
GOOD = HEADER + (
    "EAN1,M1,2026-01-01,2026-03-31,100,nee\n"
    "EAN2,M2,2026-01-01,2026-03-31,250.5,no\n"
    "EAN3,M3,2026-01-01,2026-03-31,50,ja\n"
)


@pytest.fixture
def reg(database_url: str) -> Iterator[Registry]:
    engine = make_engine(database_url)
    upgrade(engine)
    now = dt.datetime(2026, 4, 15, tzinfo=dt.UTC)
    r = Registry(Ledger(session_factory(engine), clock=lambda: now), load_set("ev", "bijlage-1"))
    r.init()
    r.create_holder(
        "Laadpunt Diensten", can_book=True, is_service_provider=True, actor="t", key="h"
    )
    r.create_user("sam", PW, "rekeningbevoegde", "Laadpunt Diensten", actor="t", key="u1")
    r.create_user("fay", PW, "fiatteur", "Laadpunt Diensten", actor="t", key="u2")
    yield r
    engine.dispose()


def write(tmp: Path, name: str, text: str) -> Path:
    p = tmp / name
    p.write_text(text, encoding="utf-8")
    return p


def counts(reg: Registry) -> tuple[int, int]:
    with reg.ledger.sessions() as s:
        return (
            int(s.execute(select(func.count()).select_from(Booking)).scalar() or 0),
            int(s.execute(select(func.count()).select_from(ChargingSession)).scalar() or 0),
        )


def test_file_becomes_one_booking_with_exact_units(reg: Registry, tmp_path: Path) -> None:
    sam, fay = reg.login("sam", PW), reg.login("fay", PW)
    bid = import_sessions(
        reg, sam, write(tmp_path, "q1.csv", GOOD), proof_ref="Q1-2026", year=2026, key="imp1"
    )
    with reg.ledger.sessions() as s:
        assert s.get(Booking, bid).units == 149  # type: ignore[union-attr]
    assert counts(reg) == (1, 3)
    reg.decide_booking(fay, bid, approve=True, key="ok1")
    assert reg.ledger.balances("holder:Laadpunt Diensten") == {("land/other", 2026): 149}
    with reg.ledger.sessions() as s:
        assert verify(s) == []


def test_parquet_gives_the_same_booking(reg: Registry, tmp_path: Path) -> None:
    frame = pl.read_csv(write(tmp_path, "q.csv", GOOD), infer_schema=False)
    path = tmp_path / "q1.parquet"
    frame.write_parquet(path)
    bid = import_sessions(reg, reg.login("sam", PW), path, proof_ref="Q1", year=2026, key="i")
    with reg.ledger.sessions() as s:
        assert s.get(Booking, bid).units == 149  # type: ignore[union-attr]


def test_bad_rows_are_all_reported_and_nothing_is_imported(reg: Registry, tmp_path: Path) -> None:
    bad = HEADER + (
        "EAN1,M1,2026-01-01,2026-03-31,100,nee\n"  # row 1 fine
        ",M2,2026-01-01,2026-03-31,5,nee\n"  # row 2: empty connection
        "EAN3,M3,2026-02-30,2026-03-31,5,nee\n"  # row 3: no such date
        "EAN4,M4,2026-03-01,2026-02-01,5,nee\n"  # row 4: end before start
        "EAN5,M5,2025-12-01,2026-01-31,5,nee\n"  # row 5: starts in 2025
        "EAN6,M6,2026-01-01,2026-03-31,-5,nee\n"  # row 6: negative
        "EAN7,M7,2026-01-01,2026-03-31,1e3,nee\n"  # row 7: exponent
        "EAN8,M8,2026-01-01,2026-03-31,5,misschien\n"  # row 8: flag
        "EAN1,M1,2026-01-01,2026-03-31,7,nee\n"  # row 9: duplicate of row 1
    )
    with pytest.raises(ImportRefused) as exc:
        import_sessions(
            reg,
            reg.login("sam", PW),
            write(tmp_path, "bad.csv", bad),
            proof_ref="Q-bad",
            year=2026,
            key="bad",
        )
    assert [(r["row"], r["field"]) for r in exc.value.report] == [
        (2, "connection_id"),
        (3, "period_start"),
        (4, "period_end"),
        (5, "period_start"),
        (6, "kwh"),
        (7, "kwh"),
        (8, "own_generation"),
        (9, "connection_id"),
    ]
    assert "8 row(s) refused" in str(exc.value)
    assert counts(reg) == (0, 0)


def test_a_session_can_be_booked_once_across_files(reg: Registry, tmp_path: Path) -> None:
    sam = reg.login("sam", PW)
    import_sessions(reg, sam, write(tmp_path, "a.csv", GOOD), proof_ref="A", year=2026, key="a")
    again = HEADER + "EAN9,M9,2026-01-01,2026-03-31,10,nee\nEAN2,M2,2026-01-01,2026-03-31,1,nee\n"
    with pytest.raises(ImportRefused) as exc:
        import_sessions(
            reg, sam, write(tmp_path, "b.csv", again), proof_ref="B", year=2026, key="b"
        )
    assert exc.value.report == [
        {"row": 2, "field": "connection_id", "error": "session was booked in an earlier file"}
    ]
    assert counts(reg) == (1, 3)


def test_file_level_refusals(reg: Registry, tmp_path: Path) -> None:
    sam = reg.login("sam", PW)
    with pytest.raises(InputError, match="missing column"):
        import_sessions(
            reg,
            sam,
            write(tmp_path, "h.csv", "connection_id,kwh\nA,1\n"),
            proof_ref="H",
            year=2026,
            key="h",
        )
    with pytest.raises(InputError, match="no sessions"):
        import_sessions(
            reg, sam, write(tmp_path, "e.csv", HEADER), proof_ref="E", year=2026, key="e"
        )
    with pytest.raises(InputError, match="not found"):
        import_sessions(reg, sam, tmp_path / "nope.csv", proof_ref="N", year=2026, key="n")
    with pytest.raises(AuthError):
        reg.create_user("vic", PW, "verificateur", None, actor="t", key="uv")
        import_sessions(
            reg,
            reg.login("vic", PW),
            write(tmp_path, "g.csv", GOOD),
            proof_ref="G",
            year=2026,
            key="g",
        )
    import_sessions(reg, sam, write(tmp_path, "ok.csv", GOOD), proof_ref="P", year=2026, key="p")
    with pytest.raises(KetenError, match="booked already"):
        import_sessions(
            reg,
            sam,
            write(tmp_path, "ok2.csv", HEADER + "X,Y,2026-05-01,2026-05-02,100,nee\n"),
            proof_ref="P",
            year=2026,
            key="p2",
        )
    assert counts(reg) == (1, 3)


def test_same_proof_and_key_with_other_sessions_is_refused_not_replayed(
    reg: Registry, tmp_path: Path
) -> None:
    """A retry replays only the same request. A second file with the same kWh totals but other
    sessions, sent with the key of the first, used to be answered with the first booking's id —
    the caller was told its sessions were booked while none of them was."""
    sam = reg.login("sam", PW)
    first = HEADER + "EAN1,M1,2026-06-01,2026-06-30,100,nee\n"
    other = HEADER + "EAN2,M1,2026-06-01,2026-06-30,100,nee\n"  # same rows, kWh and flags
    bid = import_sessions(
        reg, sam, write(tmp_path, "a.csv", first), proof_ref="J", year=2026, key="j"
    )
    # the same file again with the same key: the first answer, nothing more
    assert (
        import_sessions(
            reg, sam, write(tmp_path, "a2.csv", first), proof_ref="J", year=2026, key="j"
        )
        == bid
    )
    with pytest.raises(KetenError, match="different request"):
        import_sessions(
            reg, sam, write(tmp_path, "b.csv", other), proof_ref="J", year=2026, key="j"
        )
    assert counts(reg) == (1, 1)


def test_only_an_inboekdienstverlener_imports_charging_sessions(
    reg: Registry, tmp_path: Path
) -> None:
    """The facility 'inboekdienstverlener' (--service-provider) is what allows bulk booking of
    charging sessions; a holder with only the booking facility books single bookings."""
    reg.create_holder("Brandstof BV", can_book=True, actor="t", key="hb")
    reg.create_user("ann", PW, "rekeningbevoegde", "Brandstof BV", actor="t", key="ua")
    with pytest.raises(AuthError, match="inboekdienstverlener"):
        import_sessions(
            reg,
            reg.login("ann", PW),
            write(tmp_path, "s.csv", GOOD),
            proof_ref="S",
            year=2026,
            key="s",
        )
    assert counts(reg) == (0, 0)
