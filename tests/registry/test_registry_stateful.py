"""Hypothesis stateful test of the register: random sequences of bookings, approvals,
rejections, transfers, holds, releases, corrections and closings by random users. After every
step all ledger invariants hold (``verify``), and each holder's balance equals what the steps
that succeeded imply. Runs on SQLite and PostgreSQL; each example gets its own names in the same
database, so the invariants are also checked across examples."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from keten.core.errors import KetenError
from keten.core.params import load_set
from keten.ledger.service import Ledger, Line
from keten.ledger.verify import verify
from keten.registry import closing
from keten.registry.service import BookingInput, Registry
from keten.store.db import make_engine, session_factory, upgrade

PW = "correct horse battery"
T = "land/other"
_example = itertools.count()


def machine_for(database_url: str) -> type[RuleBasedStateMachine]:
    engine = make_engine(database_url)
    upgrade(engine)
    now = [dt.datetime(2026, 3, 1, tzinfo=dt.UTC)]
    reg = Registry(
        Ledger(session_factory(engine), clock=lambda: now[0]), load_set("ev", "bijlage-1")
    )
    reg.init()
    keys = itertools.count()

    class Register(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            n = next(_example)
            self.holders = [f"H{n}a", f"H{n}b"]
            self.users: dict[str, dict[str, object]] = {}
            for h in self.holders:
                reg.create_holder(h, can_book=True, actor="t", key=self.key())
                for role in ("rekeningbevoegde", "fiatteur"):
                    name = f"{h}-{role[:4]}"
                    reg.create_user(name, PW, role, h, actor="t", key=self.key())
                    self.users[name] = {"holder": h, "role": role}
            reg.create_user(f"nea{n}", PW, "toezichthouder", None, actor="t", key=self.key())
            self.actors = {u: reg.login(u, PW) for u in self.users}
            self.nea = reg.login(f"nea{n}", PW)
            self.expected: dict[str, int] = defaultdict(int)
            self.bookings: list[tuple[int, str, int]] = []  # id, holder, units
            self.transfers: list[tuple[int, str, str, int]] = []
            self.holds: list[list[int]] = []
            self.proof = itertools.count()
            self.n = n

        def key(self) -> str:
            return f"k{next(keys)}"

        def actor(self, holder: str, role: str):  # type: ignore[no-untyped-def]
            return self.actors[f"{holder}-{role[:4]}"]

        @rule(h=st.integers(0, 1), kwh=st.integers(1, 50_000))
        def propose_booking(self, h: int, kwh: int) -> None:
            holder = self.holders[h]
            b = BookingInput(
                f"P{self.n}-{next(self.proof)}",
                2026,
                "land",
                "other",
                "electricity",
                str(kwh),
                "kWh",
                None,
            )
            units, _ = reg.units_of(b)
            try:
                bid = reg.propose_booking(self.actor(holder, "rekeningbevoegde"), b, key=self.key())
            except KetenError:
                assert units == 0  # e.g. too small to create a unit
                return
            self.bookings.append((bid, holder, units))

        @rule(i=st.integers(0, 50), approve=st.booleans(), same=st.booleans())
        def decide_booking(self, i: int, approve: bool, same: bool) -> None:
            if not self.bookings:
                return
            bid, holder, units = self.bookings[i % len(self.bookings)]
            who = self.actor(holder, "fiatteur" if not same else "rekeningbevoegde")
            try:
                reg.decide_booking(who, bid, approve=approve, key=self.key())
            except KetenError:
                return
            self.bookings.remove((bid, holder, units))
            if approve:
                self.expected[holder] += units

        @rule(h=st.integers(0, 1), amount=st.integers(1, 5_000))
        def transfer(self, h: int, amount: int) -> None:
            src, dst = self.holders[h], self.holders[1 - h]
            try:
                tid = reg.propose_transfer(
                    self.actor(src, "rekeningbevoegde"),
                    dst,
                    [Line(T, 2026, amount)],
                    key=self.key(),
                )
                reg.decide_transfer(self.actor(src, "fiatteur"), tid, approve=True, key=self.key())
            except KetenError:
                return  # not enough free units: nothing may have changed (checked below)
            self.expected[src] -= amount
            self.expected[dst] += amount

        @rule(h=st.integers(0, 1), amount=st.integers(1, 2_000))
        def correction(self, h: int, amount: int) -> None:
            holder = self.holders[h]
            try:
                reg.correct(
                    self.nea, holder, [Line(T, 2026, amount)], reason="test", key=self.key()
                )
            except KetenError:
                return
            self.expected[holder] -= amount

        @rule(i=st.integers(0, 50))
        def hold_a_booking(self, i: int) -> None:
            try:
                with reg.ledger.sessions() as s:
                    from sqlalchemy import select

                    from keten.store.models import Booking, Holder

                    ids = (
                        s.execute(
                            select(Booking.id)
                            .join(Holder, Holder.id == Booking.holder_id)
                            .where(Holder.name.in_(self.holders), Booking.status == "approved")
                        )
                        .scalars()
                        .all()
                    )
                if not ids:
                    return
                self.holds.append(
                    reg.hold_booking(self.nea, ids[i % len(ids)], reason="r", key=self.key())
                )
            except KetenError:
                return

        @rule()
        def release(self) -> None:
            if self.holds:
                reg.release_holds(self.nea, self.holds.pop(), reason="done", key=self.key())

        @rule()
        def preview_closing(self) -> None:
            plan = closing.plan(reg, 2026)
            for h in plan.holders:
                assert h.shortfall_total >= 0
                assert sum(a for _, _, a in h.banked) <= h.banking_limit

        @invariant()
        def ledger_invariants_hold(self) -> None:
            with reg.ledger.sessions() as s:
                assert verify(s) == []
            for h in self.holders:
                assert reg.ledger.balances(f"holder:{h}").get((T, 2026), 0) == self.expected[h]

    return Register


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_register_state_machine(database_url: str) -> None:
    run_state_machine_as_test(
        machine_for(database_url),
        settings=settings(
            max_examples=8,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
