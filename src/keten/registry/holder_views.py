"""Read models of one holder for its own people (rekeningbevoegde, fiatteur): the web pages'
view of the register beyond :class:`keten.registry.service.Reads`.

Every function takes the holder the acting person belongs to (:func:`holder_of`) and reads only
that holder's rows: another holder's booking or transfer id answers :class:`NotFound`, exactly
like an unknown id. Nothing here writes.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from keten.core.messages import msg
from keten.core.params import ParameterSet, ParamValue
from keten.core.quantity import mul, percent
from keten.ev.model import unit_name
from keten.ev.obligation import Obligation
from keten.registry import closing
from keten.registry.service import Actor, AuthError, NotFound, Registry
from keten.registry.sessions import SessionTotals
from keten.store.models import (
    Account,
    AuditEvent,
    Balance,
    Booking,
    Closing,
    Delivery,
    Holder,
    Lot,
    Transfer,
    User,
)

#: Deadlines the dashboard shows. Each is read from its own parameters ``<prefix>_month`` and
#: ``<prefix>_day`` (month and day of Y+1) when the parameter set has them; otherwise from the
#: registration deadline ``ev.register.deadline_month`` / ``ev.register.deadline_day``, and the
#: page says so.
REGISTRATION = "ev.register.deadline"
DEADLINES: tuple[tuple[str, str], ...] = (
    ("deliveries", REGISTRATION),
    ("bookings", REGISTRATION),
    ("verification", "ev.register.verification_deadline"),
    ("surrender", "ev.register.surrender_deadline"),
)
CLOSING_PARAMETERS = (
    "ev.register.penalty_per_unit",
    "ev.register.banking_share",
    "ev.register.banking_minimum",
)


@dataclass(frozen=True)
class HolderFacts:
    id: int
    name: str
    account: str
    can_book: bool
    has_obligation: bool
    can_transfer: bool
    is_service_provider: bool


def holder_of(reg: Registry, actor: Actor) -> HolderFacts:
    """The holder ``actor`` acts for (AuthError for a person without a holder)."""
    if actor.holder_id is None or actor.role not in ("rekeningbevoegde", "fiatteur"):
        raise AuthError(msg("%(actor)s does not act for a holder", actor=actor.label))
    with reg.ledger.sessions() as s:
        h = s.get(Holder, actor.holder_id)
        if h is None:
            raise NotFound(msg("unknown holder %(id)s", id=actor.holder_id))
        return HolderFacts(
            h.id,
            h.name,
            h.account,
            h.can_book,
            h.has_obligation,
            h.can_transfer,
            h.is_service_provider,
        )


# ---------------------------------------------------------------------------------- balances


def balance_rows(reg: Registry, holder: HolderFacts) -> list[dict[str, Any]]:
    """Units on the holder's account per unit type and vintage: amount, on hold, free."""
    with reg.ledger.sessions() as s:
        rows = s.execute(
            select(
                Lot.unit_type,
                Lot.vintage,
                func.sum(Balance.amount),
                func.sum(Balance.held),
            )
            .join(Balance, Balance.lot_id == Lot.id)
            .join(Account, Account.id == Balance.account_id)
            .where(Account.name == holder.account)
            .group_by(Lot.unit_type, Lot.vintage)
            .order_by(Lot.unit_type, Lot.vintage)
        ).all()
    out = []
    for unit_type, vintage, amount, held in rows:
        if not amount:
            continue
        origin, _, category = str(unit_type).partition("/")
        out.append(
            {
                "unit_type": str(unit_type),
                "origin_sector": origin,
                "category": category,
                "unit_name": unit_name(origin),
                "vintage": int(vintage),
                "amount": int(amount),
                "held": int(held or 0),
                "free": int(amount) - int(held or 0),
            }
        )
    return out


def usable_by_sector(balances: list[dict[str, Any]], year: int) -> dict[str, int]:
    """Free units of vintage ≤ ``year`` per origin sector: what a closing of ``year`` could use
    (EV-23), grouped by the sector the units were booked in."""
    out: dict[str, int] = {}
    for b in balances:
        if b["vintage"] <= year and b["free"] > 0:
            out[b["origin_sector"]] = out.get(b["origin_sector"], 0) + b["free"]
    return out


# ---------------------------------------------------------------------------------- deliveries


def delivery_rows(reg: Registry, holder: HolderFacts) -> list[dict[str, Any]]:
    """The holder's registered deliveries, newest year and month first."""
    with reg.ledger.sessions() as s:
        rows = s.execute(
            select(Delivery, User.username)
            .join(User, User.id == Delivery.registered_by)
            .where(Delivery.holder_id == holder.id)
            .order_by(Delivery.year.desc(), Delivery.month.desc(), Delivery.id.desc())
        ).all()
        return [
            {
                "id": d.id,
                "year": d.year,
                "month": d.month,
                "sector": d.sector,
                "fuel": d.fuel,
                "quantity": d.quantity,
                "unit": d.unit,
                "registered_by": username,
                "registered_at": d.registered_at,
            }
            for d, username in rows
        ]


def delivery_count(reg: Registry, holder: HolderFacts) -> int:
    with reg.ledger.sessions() as s:
        return int(
            s.execute(
                select(func.count()).select_from(Delivery).where(Delivery.holder_id == holder.id)
            ).scalar_one()
        )


# ---------------------------------------------------------------------------------- bookings


def _names(s: Any, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    return {
        int(i): str(n)
        for i, n in s.execute(select(User.id, User.username).where(User.id.in_(wanted)))
    }


def _booking(b: Booking, names: dict[int, str]) -> dict[str, Any]:
    return {
        "id": b.id,
        "proof_ref": b.proof_ref,
        "year": b.year,
        "sector": b.sector,
        "category": b.category,
        "fuel": b.fuel,
        "quantity": b.quantity,
        "unit": b.unit,
        "ghg_intensity": b.ghg_intensity,
        "units": b.units,
        "unit_name": unit_name(b.sector),
        "status": b.status,
        "verification": b.verification,
        "proposed_by_id": b.proposed_by,
        "proposed_by": names.get(b.proposed_by, "?"),
        "proposed_at": b.proposed_at,
        "decided_by": names.get(b.decided_by) if b.decided_by else None,
        "decided_at": b.decided_at,
        "note": b.note,
        "lot_id": b.lot_id,
    }


def booking_rows(reg: Registry, holder: HolderFacts) -> list[dict[str, Any]]:
    """The holder's bookings, newest first, with who proposed and who decided."""
    with reg.ledger.sessions() as s:
        rows = (
            s.execute(
                select(Booking).where(Booking.holder_id == holder.id).order_by(Booking.id.desc())
            )
            .scalars()
            .all()
        )
        names = _names(s, [b.proposed_by for b in rows] + [b.decided_by for b in rows])
        return [_booking(b, names) for b in rows]


def booking_row(reg: Registry, holder: HolderFacts, booking_id: int) -> dict[str, Any]:
    """One booking of the holder; NotFound for an unknown id or another holder's."""
    with reg.ledger.sessions() as s:
        b = s.get(Booking, booking_id)
        if b is None or b.holder_id != holder.id:
            raise NotFound(msg("unknown booking %(id)s", id=booking_id))
        return _booking(b, _names(s, {b.proposed_by, b.decided_by}))


def session_totals(reg: Registry, holder: HolderFacts, booking_id: int) -> SessionTotals | None:
    """The kWh totals of a bulk booking of charging sessions, as the import recorded them in the
    audit log (``booking.import``); None for an ordinary booking."""
    with reg.ledger.sessions() as s:
        payloads = s.execute(
            select(AuditEvent.payload).where(
                AuditEvent.action == "booking.import", AuditEvent.subject == holder.name
            )
        ).scalars()
        for text in payloads:
            p = json.loads(text)
            if p.get("id") == booking_id:
                return SessionTotals(
                    int(p["rows"]), Decimal(str(p["grid_kwh"])), Decimal(str(p["own_kwh"]))
                )
    return None


# ---------------------------------------------------------------------------------- transfers


def _transfer(
    t: Transfer, holder: HolderFacts, holders: dict[int, str], names: dict[int, str]
) -> dict[str, Any]:
    outgoing = t.from_holder_id == holder.id
    lines = [
        {
            "unit_type": str(u),
            "unit_name": unit_name(str(u).partition("/")[0]),
            "vintage": int(v),
            "amount": int(a),
        }
        for u, v, a in json.loads(t.lines)
    ]
    return {
        "id": t.id,
        "direction": "out" if outgoing else "in",
        "outgoing": outgoing,
        "counterpart": holders.get(t.to_holder_id if outgoing else t.from_holder_id, "?"),
        "lines": lines,
        "total": sum(ln["amount"] for ln in lines),
        "status": t.status,
        "proposed_by_id": t.proposed_by if outgoing else None,
        "proposed_by": names.get(t.proposed_by, "?") if outgoing else None,
        "proposed_at": t.proposed_at,
        "decided_by": names.get(t.decided_by) if outgoing and t.decided_by else None,
        "decided_at": t.decided_at,
        "note": t.note if outgoing else None,
    }


def transfer_rows(reg: Registry, holder: HolderFacts) -> list[dict[str, Any]]:
    """Transfers out of and into the holder, newest first. Of an incoming transfer the other
    holder's people (proposer, fiatteur, note) are not shown."""
    with reg.ledger.sessions() as s:
        rows = (
            s.execute(
                select(Transfer)
                .where(
                    (Transfer.from_holder_id == holder.id) | (Transfer.to_holder_id == holder.id)
                )
                .order_by(Transfer.id.desc())
            )
            .scalars()
            .all()
        )
        wanted = {t.from_holder_id for t in rows} | {t.to_holder_id for t in rows}
        holders = {
            int(i): str(n)
            for i, n in s.execute(select(Holder.id, Holder.name).where(Holder.id.in_(wanted)))
        }
        own = [t for t in rows if t.from_holder_id == holder.id]
        names = _names(s, [t.proposed_by for t in own] + [t.decided_by for t in own])
        return [_transfer(t, holder, holders, names) for t in rows]


def transfer_row(reg: Registry, holder: HolderFacts, transfer_id: int) -> dict[str, Any]:
    """One transfer into or out of the holder; NotFound otherwise."""
    for t in transfer_rows(reg, holder):
        if t["id"] == transfer_id:
            return t
    raise NotFound(msg("unknown transfer %(id)s", id=transfer_id))


def other_holders(reg: Registry, holder: HolderFacts) -> list[str]:
    """Names of the holders a transfer can go to (every other holder)."""
    with reg.ledger.sessions() as s:
        return [
            str(n)
            for n in s.execute(
                select(Holder.name).where(Holder.id != holder.id).order_by(Holder.name)
            ).scalars()
        ]


# ---------------------------------------------------------------------------------- deadlines


def covered_years(params: ParameterSet) -> list[int]:
    """Years the land obligation table covers (the years the register works in)."""
    if "ev.land.total" not in params:
        return []
    table = params.parameter("ev.land.total")
    return [y for y in range(2000, 2101) if table.covers(y)]


def registration_open(reg: Registry, year: int) -> bool:
    """Deliveries and bookings of ``year`` can be registered now (EV-22): the year has begun, its
    deadline has not passed and its closing has not run (EV-31)."""
    now = reg.clock()
    if not (now.year >= year and now < reg.deadline(year)):
        return False
    with reg.ledger.sessions() as s:
        return s.get(Closing, year) is None


def open_years(reg: Registry) -> list[int]:
    return [y for y in covered_years(reg.params) if registration_open(reg, y)]


@dataclass(frozen=True)
class Deadline:
    kind: str  # deliveries, bookings, verification, surrender
    year: int
    at: dt.datetime  # the moment it closes (exclusive)
    days_left: int  # calendar days from today to that day; negative when passed
    parameters: tuple[ParamValue, ...]
    own_parameter: bool  # False: the registration deadline stands in (no parameter of its own)
    wanted: str  # the parameter prefix looked for


def _deadline_values(params: ParameterSet, prefix: str, year: int) -> tuple[ParamValue, ...]:
    return (params.get(f"{prefix}_month", year), params.get(f"{prefix}_day", year))


def deadlines(reg: Registry, year: int) -> list[Deadline]:
    """The register's deadlines for ``year``, with days left from ``reg.clock()``."""
    today = reg.clock().date()
    out = []
    for kind, prefix in DEADLINES:
        own = f"{prefix}_month" in reg.params and f"{prefix}_day" in reg.params
        values = _deadline_values(reg.params, prefix if own else REGISTRATION, year)
        at = (
            reg.deadline(year)
            if prefix == REGISTRATION or not own
            else dt.datetime(year + 1, int(values[0].value), int(values[1].value), tzinfo=dt.UTC)
        )
        out.append(Deadline(kind, year, at, (at.date() - today).days, values, own, prefix))
    return out


# ---------------------------------------------------------------------------------- year-end


@dataclass
class YearEnd:
    """The year-end closing of one holder: as the closing would compute it now, or — when the
    year is closed — as it was stored."""

    year: int
    holder: str
    closed: bool
    run_at: dt.datetime | None
    run_by: str | None
    result: dict[str, Any]  # obligation_total, shortfall_*, penalty_eur, surrender, banked, ...
    obligations: list[Obligation]
    parameters: dict[str, ParamValue]  # the closing's own parameters
    banking_exact: Decimal  # banking_share × obligation, before rounding down

    @property
    def met_by_sector(self) -> list[dict[str, Any]]:
        short = self.result.get("shortfall_by_sector", {}) or {}
        rows = []
        for o in self.obligations:
            total = o.row("total")
            missing = int(short.get(o.sector, 0))
            rows.append(
                {"sector": o.sector, "total": total, "shortfall": missing, "met": total - missing}
            )
        return rows


def year_end(reg: Registry, holder: HolderFacts, year: int) -> YearEnd:
    """This holder's part of the closing of ``year`` (never another holder's)."""
    with reg.ledger.sessions() as s:
        done = s.get(Closing, year)
        stored = (done.run_at, done.actor, json.loads(done.summary)) if done else None
    if stored is not None:
        run_at: dt.datetime | None = stored[0]
        run_by: str | None = stored[1]
        summary = stored[2]
        mine = [h for h in summary.get("holders", []) if h.get("holder") == holder.name]
        result = mine[0] if mine else _empty(holder.name)
    else:
        run_at, run_by = None, None
        planned = closing.plan(reg, year).to_dict()
        mine = [h for h in planned["holders"] if h["holder"] == holder.name]
        result = mine[0] if mine else _empty(holder.name)
    obs = reg.indicative_obligation(holder.name, year)
    parameters = {name: reg.params.get(name, year) for name in CLOSING_PARAMETERS}
    share = parameters["ev.register.banking_share"].value
    exact = mul(Decimal(int(result.get("obligation_total", 0))), percent(share))
    return YearEnd(
        year=year,
        holder=holder.name,
        closed=stored is not None,
        run_at=run_at,
        run_by=run_by,
        result=result,
        obligations=obs,
        parameters=parameters,
        banking_exact=exact,
    )


def _empty(name: str) -> dict[str, Any]:
    return {
        "holder": name,
        "obligation_total": 0,
        "shortfall_by_sector": {},
        "shortfall_total": 0,
        "penalty_eur": "0",
        "surrender": [],
        "banking_limit": 0,
        "banked": [],
        "cancel": [],
    }


__all__ = [
    "Deadline",
    "HolderFacts",
    "YearEnd",
    "balance_rows",
    "booking_row",
    "booking_rows",
    "deadlines",
    "delivery_rows",
    "holder_of",
    "open_years",
    "transfer_row",
    "transfer_rows",
    "year_end",
]


def closing_results(reg: Registry, holder: HolderFacts) -> list[dict[str, Any]]:
    """This holder's results of every year-end closing that ran (newest year first), as
    stored: obligation, units surrendered, shortfall, penalty, banked and cancelled."""
    from keten.store.models import Closing

    out: list[dict[str, Any]] = []
    with reg.ledger.sessions() as s:
        for c in s.execute(select(Closing).order_by(Closing.year.desc())).scalars():
            for h in json.loads(c.summary)["holders"]:
                if h["holder"] != holder.name:
                    continue
                out.append(
                    {
                        "year": c.year,
                        "run_at": c.run_at,
                        "obligation": h["obligation_total"],
                        "surrendered": sum(int(x[2]) for x in h["surrender"]),
                        "shortfall": h["shortfall_total"],
                        "penalty_eur": h["penalty_eur"],
                        "banked": sum(int(x[2]) for x in h["banked"]),
                        "cancelled": sum(int(x[2]) for x in h["cancel"]),
                    }
                )
    return out
