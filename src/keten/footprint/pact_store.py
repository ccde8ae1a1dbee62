"""PACT data exchange in the database: organisations, OAuth2 clients and access tokens,
footprints with their sharing, ListFootprints/GetFootprint and received events.

The HTTP side (``keten.web.pact_api``) is thin: every rule lives here.

- An **organisation** is a company; a **client** of it gets ``client_id`` + ``client_secret``
  (the secret is shown once and kept only as an argon2 hash). ``issue_token`` implements the
  OAuth2 client-credentials grant (RFC 6749 §4.4): a random access token, kept as SHA-256, valid
  ``token_ttl`` seconds.
- **Footprints** are validated with :func:`keten.footprint.pact.validate_footprint` and stored as
  JSON text with their owner; a second import of the same id by the same owner is a no-op when
  the content is identical, the status change Active → Deprecated is accepted, any other change
  is refused: PACT v3 wants a new footprint id with ``precedingPfIds`` (FP-37).
- A caller sees its own organisation's footprints and those **shared** with it, nothing else;
  a footprint it may not see answers exactly like one that does not exist (FP-36).
- **ListFootprints** filters as :class:`keten.footprint.pact.FootprintRegistry` does (FP-35),
  in SQL; pages follow the insertion order and a page's cursor fixes the result set (FP-38).
- **Events** (CloudEvents 1.0, the four PACT v3 types) are validated and stored; the same event
  (source + id) sent twice is stored once (FP-40).
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import json
import re
import secrets
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from keten.core.errors import InputError, KetenError
from keten.core.messages import Msg, msg
from keten.footprint.pact import STATUSES, footprint_issues, parse_datetime, reason_of
from keten.store.models import User
from keten.store.pact_models import (
    PactClient,
    PactEvent,
    PactFootprint,
    PactFootprintKey,
    PactOrg,
    PactShare,
    PactToken,
)

DEFAULT_TOKEN_TTL = 3600
MAX_PAGE = 100
MAX_KEY_LENGTH = 2000

EVENT_PUBLISHED = "org.wbcsd.pact.ProductFootprint.PublishedEvent.3"
EVENT_REQUEST_CREATED = "org.wbcsd.pact.ProductFootprint.RequestCreatedEvent.3"
EVENT_REQUEST_FULFILLED = "org.wbcsd.pact.ProductFootprint.RequestFulfilledEvent.3"
EVENT_REQUEST_REJECTED = "org.wbcsd.pact.ProductFootprint.RequestRejectedEvent.3"
EVENT_TYPES = (
    EVENT_PUBLISHED,
    EVENT_REQUEST_CREATED,
    EVENT_REQUEST_FULFILLED,
    EVENT_REQUEST_REJECTED,
)

#: ListFootprints criteria (rest-api.md "Filtering"); list-valued ones repeat, OR within.
LIST_CRITERIA = {
    "productId": "product",
    "companyId": "company",
    "classification": "classification",
    "geography": "geography",
}
TIME_CRITERIA = ("validOn", "validAfter", "validBefore")
CRITERIA = (*LIST_CRITERIA, *TIME_CRITERIA, "status")


class PactAuthError(KetenError):
    """Client authentication failed (unknown client, wrong secret, revoked): ``invalid_client``."""


class TokenInvalid(KetenError):
    """The access token is unknown (or its client was revoked)."""


class TokenExpired(KetenError):
    """The access token was valid but has expired."""


class NoSuchFootprint(KetenError):
    """No footprint with this id that the caller may see (FP-36)."""


def _utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC)


def _naive_utc(value: dt.datetime) -> dt.datetime:
    """UTC without tzinfo: SQLite stores datetimes without a zone, so all stored and compared
    datetimes are UTC (PostgreSQL ``timestamptz`` gets the same instant)."""
    return _utc(value).replace(tzinfo=None)


def _db_time(value: dt.datetime, dialect: str) -> dt.datetime:
    return _naive_utc(value) if dialect == "sqlite" else _utc(value)


def plus_years(when: dt.datetime, years: int) -> dt.datetime:
    """``when`` + ``years`` calendar years; 29 February becomes 28 February (FP-39)."""
    year = when.year + years
    day = min(when.day, calendar.monthrange(year, when.month)[1])
    return when.replace(year=year, day=day)


@dataclass(frozen=True)
class Validity:
    """Validity period of a footprint as the filters use it (FP-35): ``start`` is
    validityPeriodStart, else pcf.referencePeriodEnd; ``end`` is validityPeriodEnd, else
    start + 3 years; ``declared_end`` is validityPeriodEnd as given (validBefore uses it only)."""

    start: dt.datetime
    end: dt.datetime
    declared_end: dt.datetime | None


def validity(fp: Mapping[str, Any]) -> Validity:
    start = parse_datetime(fp.get("validityPeriodStart") or fp["pcf"]["referencePeriodEnd"])
    declared = fp.get("validityPeriodEnd")
    declared_end = parse_datetime(declared) if declared is not None else None
    end = declared_end if declared_end is not None else plus_years(start, 3)
    return Validity(_utc(start), _utc(end), None if declared_end is None else _utc(declared_end))


Party = Literal["organisation", "owner", "customer"]


def _unknown_party(what: Party, name: str) -> Msg:
    """No organisation ``name``: one whole sentence per role the name was given in."""
    if what == "owner":
        return msg("unknown owner %(name)s (create it with org-create)", name=repr(name))
    if what == "customer":
        return msg("unknown customer %(name)s (create it with org-create)", name=repr(name))
    return msg("unknown organisation %(name)s (create it with org-create)", name=repr(name))


def _too_long(kind: str) -> Msg:
    """An identifier of ``kind`` (see :func:`footprint_keys`) above ``MAX_KEY_LENGTH``."""
    n = MAX_KEY_LENGTH
    if kind == "product":
        return msg("a product identifier longer than %(max_length)s characters", max_length=n)
    if kind == "company":
        return msg("a company identifier longer than %(max_length)s characters", max_length=n)
    if kind == "classification":
        return msg(
            "a classification identifier longer than %(max_length)s characters", max_length=n
        )
    return msg("a geography identifier longer than %(max_length)s characters", max_length=n)


def footprint_keys(fp: Mapping[str, Any]) -> set[tuple[str, str]]:
    """The (kind, value) identifiers of a footprint that the list filters match on."""
    keys = {("product", str(v)) for v in fp.get("productIds", [])}
    keys |= {("company", str(v)) for v in fp.get("companyIds", [])}
    keys |= {("classification", str(v)) for v in fp.get("productClassifications", [])}
    pcf = fp.get("pcf", {})
    for k in ("geographyRegionOrSubregion", "geographyCountry", "geographyCountrySubdivision"):
        if k in pcf:
            keys.add(("geography", str(pcf[k])))
    return keys


def _json_default(obj: object) -> str:
    if isinstance(obj, Decimal):
        return str(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON")


def canonical_json(obj: object) -> str:
    """Sorted keys, no spaces: the stored text and the basis of the content hash. A JSON number
    read as ``Decimal`` (only possible inside ``extensions``) is written as a decimal string."""
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default
    )


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Credentials:
    """A new client's credentials; the secret is shown once and never stored."""

    client_id: str
    client_secret: str
    org: str


@dataclass(frozen=True)
class AccessToken:
    access_token: str
    expires_in: int
    token_type: str = "bearer"


@dataclass(frozen=True)
class Caller:
    """The organisation (and client) behind a valid access token."""

    org_id: int
    org: str
    client_pk: int
    client_id: str


@dataclass(frozen=True)
class Filters:
    """Parsed ListFootprints criteria; empty tuples are absent criteria."""

    keys: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    status: tuple[str, ...] = ()
    valid_on: tuple[dt.datetime, ...] = ()
    valid_after: tuple[dt.datetime, ...] = ()
    valid_before: tuple[dt.datetime, ...] = ()


@dataclass(frozen=True)
class Cursor:
    """Position in a listing: footprints with ``after < seq <= upto`` remain (FP-38)."""

    after: int
    upto: int

    def __str__(self) -> str:
        return f"{self.after}.{self.upto}"

    @staticmethod
    def parse(text: str) -> Cursor:
        parts = text.split(".")
        if len(parts) != 2 or not all(re.fullmatch(r"[0-9]{1,18}", p) for p in parts):
            raise InputError(msg("is not a cursor from a pagination link"), field="cursor")
        after, upto = int(parts[0]), int(parts[1])
        if after > upto:
            raise InputError(msg("is not a cursor from a pagination link"), field="cursor")
        return Cursor(after, upto)


@dataclass(frozen=True)
class Page:
    """Footprint JSON texts of one page and the cursor of the next (None: the last page)."""

    documents: list[str]
    next: Cursor | None


@dataclass(frozen=True)
class StoredFootprint:
    """A footprint as its owner's people see it: the document, its owner, its validity (FP-35)
    and the customers it is shared with (names, sorted; only filled for the owner's view)."""

    pf_id: str
    owner: str
    status: str
    document: dict[str, Any]
    valid_start: dt.datetime
    valid_end: dt.datetime
    shared_with: tuple[str, ...] = ()


@dataclass(frozen=True)
class Correction:
    """What ``correct`` did: ``added`` (or ``unchanged``: the same correction again), the
    successor's id and the customers it is shared with."""

    action: str
    pf_id: str
    shared_with: tuple[str, ...]


@dataclass(frozen=True)
class LoadResult:
    """What ``add_footprints`` did per footprint id: added, unchanged or deprecated."""

    actions: list[tuple[str, str]]


def parse_filters(params: Sequence[tuple[str, str]]) -> Filters:
    """Criteria from query parameters ``(name, value)`` (a name may repeat: OR); an unknown name
    or a bad value raises ``InputError`` naming the parameter. A leading ``$`` is ignored (the
    PACT conformance tool sends ``$productId=…``; FP-41)."""
    keys: dict[str, list[str]] = {}
    status: list[str] = []
    times: dict[str, list[dt.datetime]] = {k: [] for k in TIME_CRITERIA}
    for raw_name, value in params:
        name = raw_name[1:] if raw_name.startswith("$") else raw_name
        if name in LIST_CRITERIA:
            if not value or len(value) > MAX_KEY_LENGTH:
                raise InputError(
                    msg("must be 1 to %(max_length)s characters", max_length=MAX_KEY_LENGTH),
                    field=raw_name,
                )
            keys.setdefault(LIST_CRITERIA[name], []).append(value)
        elif name == "status":
            if value not in STATUSES:
                raise InputError(
                    msg("%(value)s is not Active or Deprecated", value=repr(value)), field=raw_name
                )
            status.append(value)
        elif name in TIME_CRITERIA:
            try:
                times[name].append(_utc(parse_datetime(value)))
            except ValueError as exc:
                raise InputError(reason_of(exc), field=raw_name) from None
        else:
            raise InputError(
                msg("unknown filter (criteria: %(criteria)s)", criteria=", ".join(CRITERIA)),
                field=raw_name,
            )
    return Filters(
        {k: tuple(v) for k, v in keys.items()},
        tuple(status),
        tuple(times["validOn"]),
        tuple(times["validAfter"]),
        tuple(times["validBefore"]),
    )


class PactStore:
    """PACT exchange over a database (a sessionmaker of ``keten.store.db.session_factory``)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        clock: Callable[[], dt.datetime] | None = None,
        token_ttl: int = DEFAULT_TOKEN_TTL,
        hasher: PasswordHasher | None = None,
    ) -> None:
        if token_ttl < 1:
            raise KetenError(msg("token lifetime must be at least 1 second"))
        self.sessions = sessions
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.token_ttl = token_ttl
        self.hasher = hasher or PasswordHasher()
        self._dummy_hash: str | None = None

    def _dummy(self) -> str:
        """A hash to verify against for an unknown client (same work as for a known one)."""
        if self._dummy_hash is None:
            self._dummy_hash = self.hasher.hash(secrets.token_urlsafe(16))
        return self._dummy_hash

    # ------------------------------------------------------------------ organisations, clients

    def _now(self) -> dt.datetime:
        return _utc(self.clock())

    def _dialect(self, s: Session) -> str:
        return s.get_bind().dialect.name

    def _t(self, s: Session, value: dt.datetime) -> dt.datetime:
        return _db_time(value, self._dialect(s))

    def _org(self, s: Session, name: str, what: Party = "organisation") -> PactOrg:
        org = s.execute(select(PactOrg).where(PactOrg.name == name)).scalar_one_or_none()
        if org is None:
            raise InputError(_unknown_party(what, name), field=what)
        return org

    def create_org(self, name: str) -> int:
        name = name.strip()
        if not name or len(name) > 200:
            raise InputError(msg("an organisation name is 1 to 200 characters"), field="name")
        with self.sessions.begin() as s:
            if s.execute(select(PactOrg.id).where(PactOrg.name == name)).first():
                raise InputError(
                    msg("organisation %(name)s exists already", name=repr(name)), field="name"
                )
            org = PactOrg(name=name, created_at=self._t(s, self._now()))
            s.add(org)
            s.flush()
            return org.id

    def orgs(self) -> list[str]:
        with self.sessions() as s:
            return list(s.execute(select(PactOrg.name).order_by(PactOrg.name)).scalars())

    def add_member(self, org: str, username: str) -> None:
        """Make the person ``username`` (role ketenpartner) a member of ``org``: in the web
        application they enter and share ``org``'s footprints. A person belongs to one
        organisation; adding them to another moves them."""
        with self.sessions.begin() as s:
            o = self._org(s, org)
            u = s.execute(select(User).where(User.username == username)).scalar_one_or_none()
            if u is None:
                raise InputError(
                    msg("unknown user %(username)s", username=repr(username)), field="user"
                )
            if u.role != "ketenpartner":
                raise InputError(
                    msg(
                        "%(username)s is a %(role)s; only a ketenpartner is a member of an "
                        "organisation",
                        username=username,
                        role=u.role,
                    ),
                    field="user",
                )
            u.pact_org_id = o.id

    def member_org(self, user_id: int) -> str | None:
        """The organisation of the person ``user_id`` (None: not a member of one)."""
        with self.sessions() as s:
            return s.execute(
                select(PactOrg.name)
                .join(User, User.pact_org_id == PactOrg.id)
                .where(User.id == user_id, User.active.is_(True))
            ).scalar_one_or_none()

    def members(self, org: str) -> list[str]:
        """User names of ``org``'s people."""
        with self.sessions() as s:
            o = self._org(s, org)
            return list(
                s.execute(
                    select(User.username).where(User.pact_org_id == o.id).order_by(User.username)
                ).scalars()
            )

    def create_client(self, org: str, label: str = "") -> Credentials:
        """New client credentials for ``org``; the secret is returned here and nowhere else."""
        if len(label) > 200:
            raise InputError(msg("a label is at most 200 characters"), field="label")
        client_id = "pc_" + secrets.token_hex(12)
        secret = secrets.token_urlsafe(32)
        with self.sessions.begin() as s:
            o = self._org(s, org)
            s.add(
                PactClient(
                    client_id=client_id,
                    secret_hash=self.hasher.hash(secret),
                    org_id=o.id,
                    label=label,
                    created_at=self._t(s, self._now()),
                )
            )
        return Credentials(client_id, secret, org)

    def revoke_client(self, client_id: str) -> None:
        """The client can no longer get tokens; its tokens stop working."""
        with self.sessions.begin() as s:
            c = s.execute(
                select(PactClient).where(PactClient.client_id == client_id)
            ).scalar_one_or_none()
            if c is None:
                raise InputError(
                    msg("unknown client %(client_id)s", client_id=repr(client_id)),
                    field="client_id",
                )
            if c.revoked_at is None:
                c.revoked_at = self._t(s, self._now())

    # ------------------------------------------------------------------ tokens

    def issue_token(self, client_id: str, client_secret: str) -> AccessToken:
        """OAuth2 client credentials grant; ``PactAuthError`` for any bad credential (the same
        work is done for an unknown client, so timing does not tell which part was wrong)."""
        with self.sessions.begin() as s:
            c = s.execute(
                select(PactClient).where(PactClient.client_id == client_id)
            ).scalar_one_or_none()
            try:
                self.hasher.verify(c.secret_hash if c else self._dummy(), client_secret)
            except (VerificationError, InvalidHashError):
                raise PactAuthError(msg("client authentication failed")) from None
            if c is None or c.revoked_at is not None:
                raise PactAuthError(msg("client authentication failed"))
            token = "pt_" + secrets.token_urlsafe(32)
            now = self._now()
            s.add(
                PactToken(
                    token_hash=_sha256(token),
                    client_pk=c.id,
                    issued_at=self._t(s, now),
                    expires_at=self._t(s, now + dt.timedelta(seconds=self.token_ttl)),
                )
            )
        return AccessToken(token, self.token_ttl)

    def caller(self, token: str) -> Caller:
        """The caller of a Bearer token; ``TokenInvalid`` or ``TokenExpired``."""
        with self.sessions() as s:
            row = s.execute(
                select(PactToken, PactClient, PactOrg)
                .join(PactClient, PactToken.client_pk == PactClient.id)
                .join(PactOrg, PactClient.org_id == PactOrg.id)
                .where(PactToken.token_hash == _sha256(token))
            ).first()
            if row is None or row[1].revoked_at is not None:
                raise TokenInvalid(msg("invalid access token"))
            tok, client, org = row
            expires = tok.expires_at
            if expires.tzinfo is None:
                expires = expires.replace(tzinfo=dt.UTC)
            if self._now() >= expires:
                raise TokenExpired(msg("the access token has expired"))
            return Caller(org.id, org.name, client.id, client.client_id)

    # ------------------------------------------------------------------ footprints

    def add_footprints(self, owner: str, footprints: Iterable[object]) -> LoadResult:
        """Store footprints of ``owner`` (all or nothing). Each is validated; ids of another
        owner are refused; a known id is unchanged, deprecated (FP-37) or refused."""
        items = list(footprints)
        if not items:
            raise InputError(msg("no footprints given"))
        seen: set[str] = set()
        for i, fp in enumerate(items):
            problems = footprint_issues(fp)
            if problems:
                path, why = problems[0]
                raise InputError(why, field=f"data[{i}].{path}" if path else f"data[{i}]")
            assert isinstance(fp, dict)
            if fp["id"] in seen:
                raise InputError(msg("duplicate footprint id"), field=f"data[{i}].id")
            seen.add(fp["id"])
            for kind, value in footprint_keys(fp):
                if len(value) > MAX_KEY_LENGTH:
                    raise InputError(
                        _too_long(kind),
                        field=f"data[{i}]",
                    )
        actions: list[tuple[str, str]] = []
        with self.sessions.begin() as s:
            o = self._org(s, owner, "owner")
            for i, fp in enumerate(items):
                assert isinstance(fp, dict)
                actions.append((fp["id"], self._add_one(s, o, fp, i)))
        return LoadResult(actions)

    def _add_one(self, s: Session, owner: PactOrg, fp: dict[str, Any], i: int) -> str:
        pf_id = str(uuid.UUID(fp["id"]))
        if pf_id != fp["id"]:
            raise InputError(msg("write the id in lower case with hyphens"), field=f"data[{i}].id")
        text = canonical_json(fp)
        digest = _sha256(text)
        row = s.execute(
            select(PactFootprint).where(PactFootprint.pf_id == pf_id)
        ).scalar_one_or_none()
        if row is not None:
            if row.owner_id != owner.id:
                raise InputError(
                    msg("a footprint with this id belongs to another organisation"),
                    field=f"data[{i}].id",
                )
            if row.content_hash == digest:
                return "unchanged"
            old = json.loads(row.document)
            if _only_deprecation(old, fp):
                row.status = "Deprecated"
                row.document = text
                row.content_hash = digest
                row.stored_at = self._t(s, self._now())
                return "deprecated"
            raise InputError(
                msg(
                    "a footprint with this id exists with other content; PACT v3 changes a "
                    "footprint by publishing a new id that lists this one in precedingPfIds "
                    "(only a change of status to Deprecated is accepted under the same id)"
                ),
                field=f"data[{i}].id",
            )
        v = validity(fp)
        row = PactFootprint(
            pf_id=pf_id,
            owner_id=owner.id,
            status=fp["status"],
            created=self._t(s, parse_datetime(fp["created"])),
            valid_start=self._t(s, v.start),
            valid_end=self._t(s, v.end),
            valid_end_declared=None if v.declared_end is None else self._t(s, v.declared_end),
            document=text,
            content_hash=digest,
            stored_at=self._t(s, self._now()),
        )
        s.add(row)
        s.flush()
        for kind, value in sorted(footprint_keys(fp)):
            s.add(PactFootprintKey(footprint_seq=row.seq, kind=kind, value=value))
        return "added"

    def share(self, owner: str, pf_ids: Sequence[str], customer: str) -> int:
        """Share ``owner``'s footprints with ``customer``; returns how many were new shares."""
        with self.sessions.begin() as s:
            o = self._org(s, owner, "owner")
            c = self._org(s, customer, "customer")
            if c.id == o.id:
                raise InputError(
                    msg("an organisation always sees its own footprints"), field="customer"
                )
            if not pf_ids:
                raise InputError(msg("give at least one footprint id"), field="id")
            new = 0
            for pf_id in pf_ids:
                seq = s.execute(
                    select(PactFootprint.seq).where(
                        PactFootprint.pf_id == pf_id, PactFootprint.owner_id == o.id
                    )
                ).scalar_one_or_none()
                if seq is None:
                    raise InputError(
                        msg("%(owner)s has no footprint %(pf_id)s", owner=owner, pf_id=repr(pf_id)),
                        field="id",
                    )
                if s.get(PactShare, (seq, c.id)) is None:
                    s.add(
                        PactShare(footprint_seq=seq, org_id=c.id, shared_at=self._t(s, self._now()))
                    )
                    s.flush()
                    new += 1
            return new

    def unshare(self, owner: str, pf_ids: Sequence[str], customer: str) -> int:
        """Stop sharing; returns how many shares were removed."""
        with self.sessions.begin() as s:
            o = self._org(s, owner, "owner")
            c = self._org(s, customer, "customer")
            gone = 0
            for pf_id in pf_ids:
                seq = s.execute(
                    select(PactFootprint.seq).where(
                        PactFootprint.pf_id == pf_id, PactFootprint.owner_id == o.id
                    )
                ).scalar_one_or_none()
                if seq is None:
                    raise InputError(
                        msg("%(owner)s has no footprint %(pf_id)s", owner=owner, pf_id=repr(pf_id)),
                        field="id",
                    )
                share = s.get(PactShare, (seq, c.id))
                if share is not None:
                    s.delete(share)
                    gone += 1
            return gone

    def owned(self, owner: str) -> list[dict[str, Any]]:
        """``owner``'s footprints with the customers each is shared with (for the CLI)."""
        return [
            {
                "id": f.pf_id,
                "product": f.document["productNameCompany"],
                "status": f.status,
                "shared_with": ";".join(f.shared_with),
            }
            for f in self.footprints_of(owner)
        ]

    def _stored(self, s: Session, row: PactFootprint, owner: str, shares: bool) -> StoredFootprint:
        customers = self._shared_names(s, row.seq) if shares else ()
        fp = json.loads(row.document)
        v = validity(fp)
        return StoredFootprint(row.pf_id, owner, row.status, fp, v.start, v.end, customers)

    def footprints_of(self, owner: str) -> list[StoredFootprint]:
        """``owner``'s footprints, oldest first, with the customers each is shared with."""
        with self.sessions() as s:
            o = self._org(s, owner, "owner")
            rows = s.execute(
                select(PactFootprint)
                .where(PactFootprint.owner_id == o.id)
                .order_by(PactFootprint.seq)
            ).scalars()
            return [self._stored(s, r, o.name, True) for r in rows]

    def own_footprint(self, owner: str, pf_id: str) -> StoredFootprint:
        """One of ``owner``'s footprints; ``NoSuchFootprint`` for any other id (another
        organisation's footprint looks like one that does not exist; FP-36)."""
        with self.sessions() as s:
            o = self._org(s, owner, "owner")
            row = s.execute(
                select(PactFootprint).where(
                    PactFootprint.pf_id == pf_id, PactFootprint.owner_id == o.id
                )
            ).scalar_one_or_none()
            if row is None:
                raise NoSuchFootprint(msg("no footprint %(pf_id)s", pf_id=repr(pf_id)))
            return self._stored(s, row, o.name, True)

    def received(self, org: str) -> list[StoredFootprint]:
        """Footprints of other organisations shared with ``org``, oldest first."""
        with self.sessions() as s:
            o = self._org(s, org)
            rows = s.execute(
                select(PactFootprint, PactOrg.name)
                .join(PactShare, PactShare.footprint_seq == PactFootprint.seq)
                .join(PactOrg, PactOrg.id == PactFootprint.owner_id)
                .where(PactShare.org_id == o.id)
                .order_by(PactFootprint.seq)
            ).all()
            return [self._stored(s, r, name, False) for r, name in rows]

    def visible_footprint(self, org: str, pf_id: str) -> StoredFootprint:
        """A footprint ``org`` may see (its own or shared with it); ``NoSuchFootprint`` else."""
        with self.sessions() as s:
            o = self._org(s, org)
            row = s.execute(
                select(PactFootprint, PactOrg.name)
                .join(PactOrg, PactOrg.id == PactFootprint.owner_id)
                .where(PactFootprint.pf_id == pf_id, self._visible(o.id))
            ).first()
            if row is None:
                raise NoSuchFootprint(msg("no footprint %(pf_id)s", pf_id=repr(pf_id)))
            return self._stored(s, row[0], row[1], row[0].owner_id == o.id)

    def deprecate(self, owner: str, pf_id: str, comment: str = "") -> bool:
        """Active → Deprecated (with ``statusComment`` when given), the one change PACT v3
        allows under the same id (FP-37); ``False`` when it was deprecated already."""
        if len(comment) > 1000:
            raise InputError(msg("a status comment is at most 1,000 characters"), field="comment")
        fp = self.own_footprint(owner, pf_id)
        if fp.status == "Deprecated":
            return False
        doc = {**fp.document, "status": "Deprecated"}
        if comment.strip():
            doc["statusComment"] = comment.strip()
        self.add_footprints(owner, [doc])
        return True

    def correct(
        self, owner: str, pf_id: str, successor: Mapping[str, Any], comment: str = ""
    ) -> Correction:
        """Publish ``successor`` as the correction of ``owner``'s footprint ``pf_id``, all or
        nothing (PACT v3 decision 0041: a change is a new footprint whose ``precedingPfIds`` name
        the old one; FP-44): the successor is stored, the original becomes Deprecated with a
        ``statusComment`` naming its successor (and ``comment``), and every customer the
        original is shared with gets the successor too. ``NoSuchFootprint`` when ``pf_id`` is
        not ``owner``'s (FP-36); a deprecated original is refused (FP-43). The same correction
        again (same successor id and content) changes nothing and answers "unchanged"."""
        if len(comment) > 1000:
            raise InputError(msg("a status comment is at most 1,000 characters"), field="comment")
        problems = footprint_issues(successor)
        if problems:
            path, why = problems[0]
            raise InputError(why, field=path)
        fp = dict(successor)
        if fp["id"] == pf_id or pf_id not in (fp.get("precedingPfIds") or []):
            raise InputError(
                msg(
                    "a correction has a new id and lists the corrected footprint in precedingPfIds"
                ),
                field="precedingPfIds",
            )
        for kind, value in footprint_keys(fp):
            if len(value) > MAX_KEY_LENGTH:
                raise InputError(_too_long(kind))
        with self.sessions.begin() as s:
            o = self._org(s, owner, "owner")
            row = s.execute(
                select(PactFootprint)
                .where(PactFootprint.pf_id == pf_id, PactFootprint.owner_id == o.id)
                .with_for_update()
            ).scalar_one_or_none()
            if row is None:
                raise NoSuchFootprint(msg("no footprint %(pf_id)s", pf_id=repr(pf_id)))
            same = s.execute(
                select(PactFootprint.seq).where(
                    PactFootprint.pf_id == fp["id"],
                    PactFootprint.owner_id == o.id,
                    PactFootprint.content_hash == _sha256(canonical_json(fp)),
                )
            ).scalar_one_or_none()
            if same is not None:
                return Correction("unchanged", fp["id"], self._shared_names(s, same))
            if row.status != "Active":
                raise InputError(
                    msg(
                        "this footprint is deprecated; correct the footprint that replaced it "
                        "(FP-43)"
                    ),
                    field="id",
                )
            self._add_one(s, o, fp, 0)
            new = s.execute(
                select(PactFootprint).where(PactFootprint.pf_id == fp["id"])
            ).scalar_one()
            note = f"Corrected by footprint {fp['id']}"
            if comment.strip():
                note += f": {comment.strip()}"
            old = {**json.loads(row.document), "status": "Deprecated", "statusComment": note}
            text = canonical_json(old)
            row.status = "Deprecated"
            row.document = text
            row.content_hash = _sha256(text)
            row.stored_at = self._t(s, self._now())
            shares = s.execute(
                select(PactShare.org_id).where(PactShare.footprint_seq == row.seq)
            ).scalars()
            for org_id in list(shares):
                s.add(
                    PactShare(
                        footprint_seq=new.seq, org_id=org_id, shared_at=self._t(s, self._now())
                    )
                )
            s.flush()
            return Correction("added", fp["id"], self._shared_names(s, new.seq))

    def _shared_names(self, s: Session, seq: int) -> tuple[str, ...]:
        """Names of the organisations a footprint is shared with, in name order."""
        return tuple(
            s.execute(
                select(PactOrg.name)
                .join(PactShare, PactShare.org_id == PactOrg.id)
                .where(PactShare.footprint_seq == seq)
                .order_by(PactOrg.name)
            ).scalars()
        )

    def _visible(self, org_id: int) -> ColumnElement[bool]:
        shared = exists().where(
            PactShare.footprint_seq == PactFootprint.seq, PactShare.org_id == org_id
        )
        return or_(PactFootprint.owner_id == org_id, shared)

    def _criteria(self, s: Session, f: Filters) -> list[ColumnElement[bool]]:
        out: list[ColumnElement[bool]] = []
        for kind, values in f.keys.items():
            out.append(
                exists().where(
                    PactFootprintKey.footprint_seq == PactFootprint.seq,
                    PactFootprintKey.kind == kind,
                    PactFootprintKey.value.in_(values),
                )
            )
        if f.status:
            out.append(PactFootprint.status.in_(f.status))
        if f.valid_on:
            out.append(
                or_(
                    *(
                        and_(
                            PactFootprint.valid_start <= self._t(s, w),
                            PactFootprint.valid_end > self._t(s, w),
                        )
                        for w in f.valid_on
                    )
                )
            )
        if f.valid_after:
            out.append(or_(*(PactFootprint.valid_start > self._t(s, w) for w in f.valid_after)))
        if f.valid_before:
            out.append(
                or_(
                    *(
                        and_(
                            PactFootprint.valid_end_declared.is_not(None),
                            PactFootprint.valid_end_declared < self._t(s, w),
                        )
                        for w in f.valid_before
                    )
                )
            )
        return out

    def list_footprints(
        self,
        caller: Caller,
        filters: Filters | None = None,
        limit: int | None = None,
        cursor: Cursor | None = None,
    ) -> Page:
        """ListFootprints for ``caller``: at most ``limit`` (capped at 100; default 100)
        footprints in insertion order; ``next`` continues the same result set (FP-38)."""
        if limit is not None and limit < 1:
            raise InputError(msg("must be a positive integer"), field="limit")
        size = min(limit or MAX_PAGE, MAX_PAGE)
        f = filters or Filters()
        with self.sessions() as s:
            if cursor is None:
                top = s.execute(select(func.max(PactFootprint.seq))).scalar_one_or_none()
                cursor = Cursor(0, top or 0)
            rows = list(
                s.execute(
                    select(PactFootprint.seq, PactFootprint.document)
                    .where(
                        self._visible(caller.org_id),
                        PactFootprint.seq > cursor.after,
                        PactFootprint.seq <= cursor.upto,
                        *self._criteria(s, f),
                    )
                    .order_by(PactFootprint.seq)
                    .limit(size + 1)
                )
            )
        more = len(rows) > size
        rows = rows[:size]
        nxt = Cursor(rows[-1][0], cursor.upto) if more else None
        return Page([r[1] for r in rows], nxt)

    def get_footprint(self, caller: Caller, pf_id: str) -> str:
        """GetFootprint: the JSON text, or ``NoSuchFootprint`` when absent or not visible."""
        with self.sessions() as s:
            doc = s.execute(
                select(PactFootprint.document).where(
                    PactFootprint.pf_id == pf_id, self._visible(caller.org_id)
                )
            ).scalar_one_or_none()
        if doc is None:
            raise NoSuchFootprint(msg("no footprint %(pf_id)s", pf_id=repr(pf_id)))
        return doc

    # ------------------------------------------------------------------ events

    def record_event(self, caller: Caller, event: object, body: str) -> bool:
        """Validate a CloudEvent (:func:`check_event`) and store it; ``False`` when this caller
        sent the same event (source + id, same body) before, which is accepted again."""
        check_event(event)
        assert isinstance(event, dict)
        digest = _sha256(body)
        with self.sessions() as s, s.begin():
            old = s.execute(
                select(PactEvent.body_hash).where(
                    PactEvent.org_id == caller.org_id,
                    PactEvent.source == event["source"],
                    PactEvent.event_id == event["id"],
                )
            ).scalar_one_or_none()
            if old is not None:
                if old != digest:
                    raise InputError(
                        msg(
                            "an event with this source and id was received before with another body"
                        ),
                        field="id",
                    )
                return False
            s.add(
                PactEvent(
                    org_id=caller.org_id,
                    client_pk=caller.client_pk,
                    event_id=event["id"],
                    source=event["source"],
                    type=event["type"],
                    body=body,
                    body_hash=digest,
                    received_at=self._t(s, self._now()),
                )
            )
            try:
                s.flush()
            except IntegrityError:  # the same event arriving twice at the same moment
                raise InputError(msg("this event is being received already"), field="id") from None
        return True

    def events(self, org: str) -> list[dict[str, Any]]:
        """Events received from ``org``'s clients, oldest first."""
        with self.sessions() as s:
            o = self._org(s, org)
            rows = s.execute(
                select(PactEvent).where(PactEvent.org_id == o.id).order_by(PactEvent.id)
            ).scalars()
            return [
                {
                    "received_at": _utc_text(r.received_at),
                    "type": r.type.removeprefix("org.wbcsd.pact.ProductFootprint."),
                    "id": r.event_id,
                    "source": r.source,
                    "data": json.loads(r.body).get("data"),
                }
                for r in rows
            ]


def _utc_text(value: dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return _utc(value).isoformat().replace("+00:00", "Z")


def _only_deprecation(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """``new`` is ``old`` with status Active → Deprecated (and statusComment set or changed)."""
    if old.get("status") != "Active" or new.get("status") != "Deprecated":
        return False
    strip = ("status", "statusComment")
    a = {k: v for k, v in old.items() if k not in strip}
    b = {k: v for k, v in new.items() if k not in strip}
    return canonical_json(a) == canonical_json(b)


# ----------------------------------------------------------------------------- events


def _strings(value: object, where: str) -> None:
    if not isinstance(value, list) or not value:
        raise InputError(msg("must be a non-empty list of strings"), field=where)
    for i, v in enumerate(value):
        if not isinstance(v, str) or not v.strip():
            raise InputError(msg("must be a non-empty string"), field=f"{where}[{i}]")


def _check_criteria(data: Mapping[str, Any]) -> None:
    allowed = {*CRITERIA, "comment", "pf"}
    for key in data:
        if key not in allowed:
            raise InputError(
                msg(
                    "unknown field (criteria: %(criteria)s, comment)", criteria=", ".join(CRITERIA)
                ),
                field=f"data.{key}",
            )
    for key in LIST_CRITERIA:
        if key in data:
            _strings(data[key], f"data.{key}")
    for key in TIME_CRITERIA:
        if key in data:
            try:
                parse_datetime(data[key])
            except ValueError as exc:
                raise InputError(reason_of(exc), field=f"data.{key}") from None
    if "status" in data and data["status"] not in STATUSES:
        raise InputError(msg("must be Active or Deprecated"), field="data.status")
    if "comment" in data and not isinstance(data["comment"], str):
        raise InputError(msg("must be a string"), field="data.comment")
    if "pf" in data:  # the 2.x request fragment the conformance tool still sends (FP-41)
        pf = data["pf"]
        if not isinstance(pf, dict) or set(pf) != {"productIds"}:
            raise InputError(msg('must be {"productIds": [...]}'), field="data.pf")
        _strings(pf["productIds"], "data.pf.productIds")


def check_event(event: object) -> None:
    """A PACT v3 event in CloudEvents 1.0 structured JSON, else ``InputError`` naming the field.

    Required: ``specversion`` "1.0", ``id`` and ``source`` (non-empty strings), ``type`` (one of
    the four PACT v3 types), ``data`` (an object); ``time``, when given, RFC 3339. ``data`` per
    type: PublishedEvent ``pfIds`` (non-empty list); RequestCreatedEvent the ListFootprints
    criteria and ``comment``; RequestFulfilledEvent ``requestEventId`` and ``pfs`` (valid
    ProductFootprints); RequestRejectedEvent ``requestEventId`` and ``error`` {code, message}.
    """
    if not isinstance(event, dict):
        raise InputError(msg("an event must be a JSON object"))
    for key in ("specversion", "id", "source", "type", "data"):
        if key not in event:
            raise InputError(msg("required field is missing"), field=key)
    if event["specversion"] != "1.0":
        raise InputError(msg('must be "1.0" (CloudEvents 1.0)'), field="specversion")
    for key, limit in (("id", 500), ("source", 2000)):
        v = event[key]
        if not isinstance(v, str) or not v.strip() or len(v) > limit:
            raise InputError(
                msg("must be a non-empty string of at most %(limit)s characters", limit=limit),
                field=key,
            )
    if event["type"] not in EVENT_TYPES:
        raise InputError(
            msg(
                "%(type)s is not a PACT v3 event type (%(event_types)s)",
                type=repr(event["type"]),
                event_types=", ".join(EVENT_TYPES),
            ),
            field="type",
        )
    if "time" in event:
        try:
            parse_datetime(event["time"])
        except ValueError as exc:
            raise InputError(reason_of(exc), field="time") from None
    data = event["data"]
    if not isinstance(data, dict):
        raise InputError(msg("must be an object"), field="data")
    kind = event["type"]
    if kind == EVENT_PUBLISHED:
        if "pfIds" not in data:
            raise InputError(msg("required field is missing"), field="data.pfIds")
        _strings(data["pfIds"], "data.pfIds")
    elif kind == EVENT_REQUEST_CREATED:
        _check_criteria(data)
    else:
        rid = data.get("requestEventId")
        if not isinstance(rid, str) or not rid.strip():
            raise InputError(
                msg("must be the id of the request event"), field="data.requestEventId"
            )
        if kind == EVENT_REQUEST_FULFILLED:
            pfs = data.get("pfs")
            if not isinstance(pfs, list):
                raise InputError(msg("must be a list of ProductFootprints"), field="data.pfs")
            for i, fp in enumerate(pfs):
                problems = footprint_issues(fp)
                if problems:
                    path, why = problems[0]
                    raise InputError(why, field=f"data.pfs[{i}].{path}".rstrip("."))
        else:
            err = data.get("error")
            if not (
                isinstance(err, dict)
                and isinstance(err.get("code"), str)
                and isinstance(err.get("message"), str)
            ):
                raise InputError(
                    msg('must be {"code": "...", "message": "..."}'), field="data.error"
                )
