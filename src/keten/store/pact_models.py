"""Tables of PACT data exchange over HTTP (issue 7; ``keten.footprint.pact_store``).

An organisation (``pact_org``) is a company: an SME supplier that owns footprints, or a customer
they are shared with (one company can be both). It calls the API through OAuth2 clients
(``pact_client``; the secret is kept only as an argon2 hash) that get short-lived access tokens
(``pact_token``; kept as SHA-256). A footprint (``pact_footprint``) is the ProductFootprint JSON
as stored, with the columns the ListFootprints filters need; its multi-valued identifiers
(product ids, company ids, classifications, geography) are rows of ``pact_footprint_key``.
``pact_share`` says which customer may see which footprint; ``pact_event`` keeps the CloudEvents
received on ``POST /3/events``.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from keten.store.models import Base

KEY_KINDS = ("product", "company", "classification", "geography")


class PactOrg(Base):
    """A company taking part in PACT exchange: a supplier, a customer, or both."""

    __tablename__ = "pact_org"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class PactClient(Base):
    """OAuth2 client credentials of an organisation (client secret as an argon2 hash)."""

    __tablename__ = "pact_client"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(200))
    org_id: Mapped[int] = mapped_column(ForeignKey("pact_org.id"), index=True)
    label: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class PactToken(Base):
    """An access token (SHA-256 of it) issued to a client, valid until ``expires_at``."""

    __tablename__ = "pact_token"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("pact_client.id"), index=True)
    issued_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class PactFootprint(Base):
    """One ProductFootprint of its owner. ``seq`` orders the list and its pagination links;
    validity columns are UTC (FP-39)."""

    __tablename__ = "pact_footprint"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    pf_id: Mapped[str] = mapped_column(String(36), unique=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("pact_org.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    created: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    valid_start: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    valid_end: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    valid_end_declared: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    document: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    stored_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        CheckConstraint("status IN ('Active', 'Deprecated')", name="ck_pact_footprint_status"),
    )


class PactFootprintKey(Base):
    """One filterable identifier of a footprint: kind product/company/classification/geography."""

    __tablename__ = "pact_footprint_key"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    footprint_seq: Mapped[int] = mapped_column(ForeignKey("pact_footprint.seq"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(2000))
    __table_args__ = (
        UniqueConstraint("footprint_seq", "kind", "value", name="uq_pact_footprint_key"),
        Index("ix_pact_footprint_key_kind_value", "kind", "value"),
        CheckConstraint(
            "kind IN ('product', 'company', 'classification', 'geography')",
            name="ck_pact_footprint_key_kind",
        ),
    )


class PactShare(Base):
    """A footprint shared with a customer organisation."""

    __tablename__ = "pact_share"
    footprint_seq: Mapped[int] = mapped_column(ForeignKey("pact_footprint.seq"), primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("pact_org.id"), primary_key=True)
    shared_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    __table_args__ = (Index("ix_pact_share_org", "org_id"),)


class PactEvent(Base):
    """A CloudEvent received on ``POST /3/events``, as received (``body``), from a client."""

    __tablename__ = "pact_event"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("pact_org.id"), index=True)
    client_pk: Mapped[int] = mapped_column(ForeignKey("pact_client.id"))
    event_id: Mapped[str] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(String(2000))
    type: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    body_hash: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        UniqueConstraint("org_id", "source", "event_id", name="uq_pact_event_source_id"),
    )
