"""Read models for the regulator's (toezichthouder) and the verifier's web pages.

Read-only: every function reads the tables with ``select()`` and writes nothing. Authorisation is
the caller's: these views show the whole register and are for the regulator's pages only (the
verifier's pages use ``Reads.bookings``, which filters by verificateur).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from keten.core.messages import msg
from keten.ledger.verify import verify
from keten.registry.service import NotFound, Registry
from keten.store.models import (
    Account,
    AuditEvent,
    Balance,
    Booking,
    Closing,
    Delivery,
    Hold,
    Holder,
    Lot,
    User,
)

AUDIT_PAGE_SIZE = 50


def holder_totals(reg: Registry) -> list[dict[str, Any]]:
    """Every holder with its facilities, its people and its units: total, on hold, free."""
    with reg.ledger.sessions() as s:
        sums = {
            str(name): (int(amount or 0), int(held or 0))
            for name, amount, held in s.execute(
                select(Account.name, func.sum(Balance.amount), func.sum(Balance.held))
                .join(Balance, Balance.account_id == Account.id)
                .where(Account.kind == "holding")
                .group_by(Account.name)
            )
        }
        people = dict(
            s.execute(
                select(User.holder_id, func.count())
                .where(User.holder_id.is_not(None))
                .group_by(User.holder_id)
            ).all()
        )
        out = []
        for h in s.execute(select(Holder).order_by(Holder.name)).scalars():
            units, held = sums.get(h.account, (0, 0))
            out.append(
                {
                    "id": h.id,
                    "name": h.name,
                    "can_book": h.can_book,
                    "has_obligation": h.has_obligation,
                    "can_transfer": h.can_transfer,
                    "is_service_provider": h.is_service_provider,
                    "people": int(people.get(h.id, 0)),
                    "units": units,
                    "held": held,
                    "free": units - held,
                }
            )
        return out


def holder_balances(reg: Registry, holder_id: int) -> tuple[str, list[dict[str, Any]]]:
    """A holder's name and its units per (unit type, vintage): amount, on hold, free."""
    with reg.ledger.sessions() as s:
        h = s.get(Holder, holder_id)
        if h is None:
            raise NotFound(msg("unknown holder %(id)s", id=holder_id))
        rows = s.execute(
            select(Lot.unit_type, Lot.vintage, func.sum(Balance.amount), func.sum(Balance.held))
            .join(Balance, Balance.lot_id == Lot.id)
            .join(Account, Account.id == Balance.account_id)
            .where(Account.name == h.account)
            .group_by(Lot.unit_type, Lot.vintage)
            .order_by(Lot.unit_type, Lot.vintage)
        ).all()
        return h.name, [
            {
                "unit_type": str(t),
                "vintage": int(v),
                "amount": int(a),
                "held": int(d),
                "free": int(a) - int(d),
            }
            for t, v, a, d in rows
            if a
        ]


def held_per_lot(reg: Registry) -> dict[int, int]:
    """Units on hold per lot (open holds, on any account)."""
    with reg.ledger.sessions() as s:
        return {
            int(lot): int(n)
            for lot, n in s.execute(
                select(Hold.lot_id, func.sum(Hold.amount))
                .where(Hold.released_at.is_(None))
                .group_by(Hold.lot_id)
            )
        }


def review_queue(bookings: list[dict[str, Any]], held: dict[int, int]) -> list[dict[str, Any]]:
    """Bookings to review: proposed, or approved and not (yet) verified; with the units of each
    booking's lot that are on hold."""
    queue = []
    for b in bookings:
        if b["status"] == "proposed" or (
            b["status"] == "approved" and b["verification"] != "verified"
        ):
            queue.append({**b, "held": held.get(b["lot_id"], 0) if b["lot_id"] else 0})
    return queue


def active_holds(reg: Registry, lot_id: int | None = None) -> list[dict[str, Any]]:
    """Open holds (not released), oldest first, with holder, unit type, vintage and booking."""
    with reg.ledger.sessions() as s:
        q = (
            select(Hold, Account.name, Lot.unit_type, Lot.vintage)
            .join(Account, Account.id == Hold.account_id)
            .join(Lot, Lot.id == Hold.lot_id)
            .where(Hold.released_at.is_(None))
            .order_by(Hold.id)
        )
        if lot_id is not None:
            q = q.where(Hold.lot_id == lot_id)
        rows = s.execute(q).all()
        holders = {str(a): str(n) for a, n in s.execute(select(Holder.account, Holder.name))}
        lots = {int(h.lot_id) for h, *_ in rows}
        bookings = (
            {
                int(lot): int(bid)
                for bid, lot in s.execute(
                    select(Booking.id, Booking.lot_id).where(Booking.lot_id.in_(lots))
                )
                if lot is not None
            }
            if lots
            else {}
        )
        return [
            {
                "id": h.id,
                "holder": holders.get(str(account), str(account)),
                "lot_id": h.lot_id,
                "booking_id": bookings.get(int(h.lot_id)),
                "unit_type": str(unit_type),
                "vintage": int(vintage),
                "amount": int(h.amount),
                "reason": h.reason,
                "placed_by": h.placed_by,
                "placed_at": h.placed_at,
            }
            for h, account, unit_type, vintage in rows
        ]


def lot_positions(reg: Registry, lot_id: int) -> list[dict[str, Any]]:
    """Where a lot's units are now: holder, amount, on hold (holding accounts only)."""
    with reg.ledger.sessions() as s:
        holders = {str(a): str(n) for a, n in s.execute(select(Holder.account, Holder.name))}
        return [
            {"holder": holders.get(name, name), "amount": amount, "held": held}
            for name, amount, held in reg.ledger.lot_positions(s, lot_id)
        ]


def unit_types(reg: Registry) -> list[str]:
    """The unit types that exist in the register (of every lot ever created)."""
    with reg.ledger.sessions() as s:
        return [
            str(t)
            for t in s.execute(select(Lot.unit_type).distinct().order_by(Lot.unit_type)).scalars()
        ]


def register_years(reg: Registry) -> list[int]:
    """Years with deliveries, units (vintages) or a closing, newest first."""
    with reg.ledger.sessions() as s:
        years = {int(y) for y in s.execute(select(Delivery.year).distinct()).scalars()}
        years |= {int(y) for y in s.execute(select(Lot.vintage).distinct()).scalars()}
        years |= {int(y) for y in s.execute(select(Closing.year)).scalars()}
    return sorted(years, reverse=True)


@dataclass(frozen=True)
class ClosingRecord:
    year: int
    run_at: dt.datetime
    actor: str
    summary: dict[str, Any]


def closing_record(reg: Registry, year: int) -> ClosingRecord | None:
    """The stored closing of ``year``, if it was run."""
    with reg.ledger.sessions() as s:
        c = s.get(Closing, year)
        if c is None:
            return None
        return ClosingRecord(c.year, c.run_at, c.actor, json.loads(c.summary))


def _units(lines: list[Any]) -> int:
    return sum(int(line[2]) for line in lines)


def closing_rows(summary: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One row per holder of a closing summary (``ClosingPlan.to_dict()`` or the stored one) with
    the units surrendered, banked and cancelled added up; and the totals row."""
    from decimal import Decimal

    rows = []
    totals: dict[str, Any] = dict.fromkeys(
        ("obligation", "surrendered", "shortfall", "banked", "cancelled"), 0
    )
    totals["penalty_eur"] = Decimal(0)
    for h in summary["holders"]:
        row = {
            "holder": h["holder"],
            "obligation": int(h["obligation_total"]),
            "surrendered": _units(h["surrender"]),
            "shortfall": int(h["shortfall_total"]),
            "shortfall_by_sector": dict(h["shortfall_by_sector"]),
            "penalty_eur": Decimal(str(h["penalty_eur"])),
            "banking_limit": int(h["banking_limit"]),
            "banked": _units(h["banked"]),
            "cancelled": _units(h["cancel"]),
            "surrender_lines": [tuple(x) for x in h["surrender"]],
            "banked_lines": [tuple(x) for x in h["banked"]],
            "cancel_lines": [tuple(x) for x in h["cancel"]],
        }
        rows.append(row)
        for k in ("obligation", "surrendered", "shortfall", "banked", "cancelled", "penalty_eur"):
            totals[k] += row[k]
    return rows, totals


def corrections(reg: Registry, limit: int = 50) -> list[dict[str, Any]]:
    """The newest ex-officio corrections (ambtshalve vaststellingen) from the audit log."""
    with reg.ledger.sessions() as s:
        events = (
            s.execute(
                select(AuditEvent)
                .where(AuditEvent.action == "correction")
                .order_by(AuditEvent.seq.desc())
                .limit(limit)
            )
            .scalars()
            .all()
        )
    out = []
    for e in events:
        payload = json.loads(e.payload)
        out.append(
            {
                "seq": e.seq,
                "at": e.at,
                "actor": e.actor,
                "holder": e.subject,
                "lines": payload.get("lines", []),
                "reason": payload.get("reason", ""),
            }
        )
    return out


@dataclass(frozen=True)
class AuditPage:
    events: list[dict[str, Any]]
    page: int
    pages: int
    total: int
    order: str


def audit_page(reg: Registry, page: int = 1, order: str = "newest") -> AuditPage:
    """One page of the audit log, ``AUDIT_PAGE_SIZE`` events, newest first or by sequence."""
    if order not in ("newest", "seq"):
        order = "newest"
    with reg.ledger.sessions() as s:
        total = int(s.execute(select(func.count()).select_from(AuditEvent)).scalar_one())
        pages = max(1, -(-total // AUDIT_PAGE_SIZE))
        page = min(max(1, page), pages)
        key = AuditEvent.seq.desc() if order == "newest" else AuditEvent.seq
        events = (
            s.execute(
                select(AuditEvent)
                .order_by(key)
                .offset((page - 1) * AUDIT_PAGE_SIZE)
                .limit(AUDIT_PAGE_SIZE)
            )
            .scalars()
            .all()
        )
        rows = [
            {
                "seq": e.seq,
                "at": e.at,
                "actor": e.actor,
                "action": e.action,
                "subject": e.subject,
                "payload": e.payload,
                "hash": e.hash,
            }
            for e in events
        ]
    return AuditPage(rows, page, pages, total, order)


def problems(reg: Registry) -> list[str]:
    """Every broken invariant of the ledger and the audit chain (``keten.ledger.verify``)."""
    with reg.ledger.sessions() as s:
        return verify(s)


def verification_history(reg: Registry, booking_id: int) -> list[dict[str, Any]]:
    """The verificateur's decisions on a booking, oldest first, with their notes (audit log)."""
    with reg.ledger.sessions() as s:
        events = (
            s.execute(
                select(AuditEvent)
                .where(AuditEvent.action == "booking.verify", AuditEvent.subject == str(booking_id))
                .order_by(AuditEvent.seq)
            )
            .scalars()
            .all()
        )
    out = []
    for e in events:
        payload = json.loads(e.payload)
        out.append(
            {
                "at": e.at,
                "actor": e.actor,
                "verified": bool(payload.get("verified")),
                "note": str(payload.get("note", "")),
            }
        )
    return out


def assigned_verifiers(reg: Registry, booking_ids: list[int]) -> dict[int, str | None]:
    """The user name of the verificateur each booking is assigned to (None: unassigned)."""
    if not booking_ids:
        return {}
    with reg.ledger.sessions() as s:
        names = dict(s.execute(select(User.id, User.username)).all())
        return {
            int(bid): (str(names[vid]) if vid is not None else None)
            for bid, vid in s.execute(
                select(Booking.id, Booking.verifier_id).where(Booking.id.in_(booking_ids))
            )
        }
