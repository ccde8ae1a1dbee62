"""Tables of the unit ledger (domain-agnostic) and its audit log.

Invariants the database enforces itself: no negative holding balance, holds within the balance,
positive posting amounts, unique idempotency keys, an append-only audit log (triggers in the
migration). ``keten.ledger.verify`` checks the rest (conservation per lot, balances equal the
postings, the audit hash chain).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ACCOUNT_KINDS = ("holding", "issuance", "surrender", "cancel")


class Base(DeclarativeBase):
    pass


class Account(Base):
    """A place units can be: a holder's holding account, or a system account (issuance: where
    units come from; surrender and cancel: where they end)."""

    __tablename__ = "ledger_account"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    owner: Mapped[str | None] = mapped_column(String(200), index=True)
    __table_args__ = (
        CheckConstraint(
            "kind IN ('holding', 'issuance', 'surrender', 'cancel')", name="ck_account_kind"
        ),
    )


class Lot(Base):
    """Units of one type and vintage created by one origin (e.g. a booking)."""

    __tablename__ = "ledger_lot"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_type: Mapped[str] = mapped_column(String(100), index=True)
    vintage: Mapped[int] = mapped_column(Integer, index=True)
    origin: Mapped[str] = mapped_column(String(200), unique=True)
    created: Mapped[int] = mapped_column(BigInteger)
    __table_args__ = (CheckConstraint("created > 0", name="ck_lot_created_positive"),)


class Balance(Base):
    """Units of a lot on a holding account; ``held`` of them are on hold."""

    __tablename__ = "ledger_balance"
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_account.id"), primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("ledger_lot.id"), primary_key=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    held: Mapped[int] = mapped_column(BigInteger, default=0)
    __table_args__ = (
        CheckConstraint("amount >= 0", name="ck_balance_not_negative"),
        CheckConstraint("held >= 0 AND held <= amount", name="ck_balance_held_within"),
        Index("ix_balance_lot", "lot_id"),
    )


class Movement(Base):
    """One applied request: who, why, when; its postings move units."""

    __tablename__ = "ledger_movement"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    actor: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    request_key: Mapped[str] = mapped_column(String(200), unique=True)
    __table_args__ = (
        CheckConstraint("length(actor) > 0", name="ck_movement_actor"),
        CheckConstraint("length(reason) > 0", name="ck_movement_reason"),
    )


class Posting(Base):
    """Double entry: ``amount`` units of a lot leave ``debit`` and arrive on ``credit``."""

    __tablename__ = "ledger_posting"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    movement_id: Mapped[int] = mapped_column(ForeignKey("ledger_movement.id"), index=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("ledger_lot.id"), index=True)
    debit_id: Mapped[int] = mapped_column(ForeignKey("ledger_account.id"), index=True)
    credit_id: Mapped[int] = mapped_column(ForeignKey("ledger_account.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    __table_args__ = (
        CheckConstraint("amount > 0", name="ck_posting_positive"),
        CheckConstraint("debit_id <> credit_id", name="ck_posting_two_places"),
    )


class Hold(Base):
    """Units of a lot on an account that may not move until released."""

    __tablename__ = "ledger_hold"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_account.id"), index=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("ledger_lot.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text)
    placed_by: Mapped[str] = mapped_column(String(200))
    placed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    released_by: Mapped[str | None] = mapped_column(String(200))
    released_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (CheckConstraint("amount > 0", name="ck_hold_positive"),)


class IdempotencyRecord(Base):
    """A write request already applied: its key, a fingerprint of its content, its result."""

    __tablename__ = "ledger_idempotency"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    result: Mapped[str] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class AuditHead(Base):
    """The newest audit event (one row): appenders lock it, so the chain never forks."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class AuditEvent(Base):
    """Append-only, hash-chained log: ``hash = sha256(prev_hash + canonical event)``."""

    __tablename__ = "audit_event"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    subject: Mapped[str] = mapped_column(String(200))
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    __table_args__ = (UniqueConstraint("prev_hash", name="uq_audit_prev"),)


# --------------------------------------------------------------------------- register (EV)

#: ketenpartner: a company's person for PACT data exchange (issue 7), member of a PACT
#: organisation (``pact_org_id``), no register holder.
ROLES = ("rekeningbevoegde", "fiatteur", "verificateur", "toezichthouder", "ketenpartner")


class Holder(Base):
    """A company in the register (rekeninghouder) with its facilities."""

    __tablename__ = "reg_holder"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    can_book: Mapped[bool] = mapped_column(default=False)  # inboekfaciliteit
    has_obligation: Mapped[bool] = mapped_column(default=False)  # verplichting
    can_transfer: Mapped[bool] = mapped_column(default=True)  # overboekfaciliteit
    is_service_provider: Mapped[bool] = mapped_column(default=False)  # inboekdienstverlener
    account: Mapped[str] = mapped_column(String(200), unique=True)  # ledger account name
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class User(Base):
    """A person: a holder's rekeningbevoegde or fiatteur, a verificateur, the toezichthouder, or
    a ketenpartner (a company's person for PACT, member of the PACT organisation
    ``pact_org_id``)."""

    __tablename__ = "reg_user"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(30))
    holder_id: Mapped[int | None] = mapped_column(ForeignKey("reg_holder.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    pact_org_id: Mapped[int | None] = mapped_column(ForeignKey("pact_org.id"), index=True)
    __table_args__ = (
        CheckConstraint(
            "role IN ('rekeningbevoegde', 'fiatteur', 'verificateur', 'toezichthouder', "
            "'ketenpartner')",
            name="ck_user_role",
        ),
    )


class Booking(Base):
    """An inboeking: proposed by one user, effective (units created) when another approves."""

    __tablename__ = "reg_booking"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    holder_id: Mapped[int] = mapped_column(ForeignKey("reg_holder.id"), index=True)
    proof_ref: Mapped[str] = mapped_column(String(200), unique=True)
    year: Mapped[int] = mapped_column(Integer)
    sector: Mapped[str] = mapped_column(String(20))
    category: Mapped[str] = mapped_column(String(20))
    fuel: Mapped[str] = mapped_column(String(50))
    quantity: Mapped[str] = mapped_column(String(40))  # exact decimal as text
    unit: Mapped[str] = mapped_column(String(10))
    ghg_intensity: Mapped[str | None] = mapped_column(String(40))
    units: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20), index=True)
    proposed_by: Mapped[int] = mapped_column(ForeignKey("reg_user.id"))
    proposed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("reg_user.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text)
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_lot.id"))
    verification: Mapped[str] = mapped_column(String(20), default="unverified")
    verifier_id: Mapped[int | None] = mapped_column(ForeignKey("reg_user.id"))
    __table_args__ = (
        CheckConstraint(
            "status IN ('proposed', 'approved', 'rejected', 'withdrawn')", name="ck_booking_status"
        ),
        CheckConstraint("units >= 0", name="ck_booking_units"),
    )


class Transfer(Base):
    """An overboeking between holders: proposed, then approved by another user (four eyes)."""

    __tablename__ = "reg_transfer"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    from_holder_id: Mapped[int] = mapped_column(ForeignKey("reg_holder.id"), index=True)
    to_holder_id: Mapped[int] = mapped_column(ForeignKey("reg_holder.id"), index=True)
    lines: Mapped[str] = mapped_column(Text)  # JSON [[unit_type, vintage, amount], ...]
    status: Mapped[str] = mapped_column(String(20), index=True)
    proposed_by: Mapped[int] = mapped_column(ForeignKey("reg_user.id"))
    proposed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("reg_user.id"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (
        CheckConstraint(
            "status IN ('proposed', 'approved', 'rejected', 'withdrawn')", name="ck_transfer_status"
        ),
        CheckConstraint("from_holder_id <> to_holder_id", name="ck_transfer_two_holders"),
    )


class Delivery(Base):
    """A registered delivery (opvoer levering) of one month, sector and fuel."""

    __tablename__ = "reg_delivery"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    holder_id: Mapped[int] = mapped_column(ForeignKey("reg_holder.id"), index=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    month: Mapped[int] = mapped_column(Integer)
    sector: Mapped[str] = mapped_column(String(20))
    fuel: Mapped[str] = mapped_column(String(50))
    quantity: Mapped[str] = mapped_column(String(40))
    unit: Mapped[str] = mapped_column(String(10))
    registered_by: Mapped[int] = mapped_column(ForeignKey("reg_user.id"))
    registered_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    __table_args__ = (CheckConstraint("month BETWEEN 1 AND 12", name="ck_delivery_month"),)


class Closing(Base):
    """A year-end closing (jaarafsluiting) that was run: one per year, with its summary."""

    __tablename__ = "reg_closing"
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    run_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)


class ChargingSession(Base):
    """A charging session booked in a bulk file of an inboekdienstverlener. A session (connection,
    meter, period) can be booked once in the whole register."""

    __tablename__ = "reg_charging_session"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("reg_booking.id"), index=True)
    connection_id: Mapped[str] = mapped_column(String(100))
    meter_id: Mapped[str] = mapped_column(String(100))
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    kwh: Mapped[str] = mapped_column(String(40))
    own_generation: Mapped[bool] = mapped_column()
    __table_args__ = (
        UniqueConstraint(
            "connection_id", "meter_id", "period_start", "period_end", name="uq_session_once"
        ),
    )


class ApiToken(Base):
    """An API token of a user, stored as its SHA-256 (the token itself is shown once)."""

    __tablename__ = "reg_api_token"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("reg_user.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class WebSession(Base):
    """A person's signed-in browser session, stored server-side as the SHA-256 of its cookie value
    (logging out or changing the password ends it). ``csrf`` is the session's CSRF token."""

    __tablename__ = "web_session"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("reg_user.id"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


# ``RegUser.pact_org_id`` refers to ``pact_org``: its model must be in the metadata whenever these
# models are, or the ORM cannot resolve the foreign key (e.g. ``keten registry create-user`` in a
# fresh process, which imports no PACT code). Imported last: pact_models needs ``Base``.
from keten.store import pact_models as _pact_models  # noqa: E402, F401
