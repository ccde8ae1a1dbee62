"""Register workflows (names from the NEa practice). Every write:

* is authorised here, server-side, from the acting user's role and holder;
* carries an idempotency key and is one transaction (``Ledger.run``): a retry applies nothing;
* is written to the hash-chained audit log.

Four-eyes principle: a booking or transfer proposed by one user (rekeningbevoegde or fiatteur)
takes effect only when a *different* user of the same holder with the role fiatteur approves it.
Proposals can be withdrawn (by a user of the holder) or rejected (by a fiatteur).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar, cast

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from keten.core.errors import KetenError
from keten.core.messages import Msg, msg
from keten.core.params import ParameterSet
from keten.core.quantity import MAX_DECIMALS, parse_number
from keten.core.trace import Trace
from keten.ev.model import CATEGORIES, MAX_QUANTITY, SECTORS
from keten.ev.model import Booking as BookingRecord
from keten.ev.model import Delivery as DeliveryRecord
from keten.ev.obligation import Obligation, obligations
from keten.ev.units import units_for_booking
from keten.ledger import audit
from keten.ledger.service import Ledger, LedgerError, Line
from keten.store.models import (
    ROLES,
    Account,
    ApiToken,
    Booking,
    Closing,
    Delivery,
    Holder,
    Transfer,
    User,
)

_HASHER = PasswordHasher()


class AuthError(KetenError):
    """Wrong credentials, or a user acting outside its role or holder."""


@dataclass(frozen=True)
class Actor:
    user_id: int
    username: str
    role: str
    holder_id: int | None

    @property
    def label(self) -> str:
        return f"{self.username} ({self.role})"


@dataclass(frozen=True)
class BookingInput:
    proof_ref: str  # PoS / Union Database id, unique across the register
    year: int
    sector: str
    category: str
    fuel: str
    quantity: str
    unit: str
    ghg_intensity: str | None


def unit_type(origin_sector: str, category: str) -> str:
    return f"{origin_sector}/{category}"


class Registry:
    def __init__(
        self,
        ledger: Ledger,
        params: ParameterSet,
        clock: Callable[[], dt.datetime] | None = None,
        hasher: PasswordHasher | None = None,
    ) -> None:
        self.ledger = ledger
        self.params = params
        self.clock = clock or ledger.clock
        # argon2id with the library's defaults (RFC 9106 low-memory profile); tests may pass a
        # cheaper hasher — verification reads the parameters from each stored hash.
        self.hasher = hasher or _HASHER

    # ------------------------------------------------------------------ set-up

    def init(self) -> None:
        self.ledger.ensure_system_accounts()

    def create_holder(
        self,
        name: str,
        *,
        can_book: bool = False,
        has_obligation: bool = False,
        can_transfer: bool = True,
        is_service_provider: bool = False,
        actor: str,
        key: str,
    ) -> int:
        name = name.strip()
        if not name or len(name) > 200:
            raise KetenError(msg("a holder needs a name of 1–200 characters"))
        request = {
            "op": "create_holder",
            "name": name,
            "book": can_book,
            "obligation": has_obligation,
            "transfer": can_transfer,
            "service_provider": is_service_provider,
        }

        def apply(s: Session) -> dict[str, Any]:
            if s.execute(select(Holder.id).where(Holder.name == name)).first():
                raise KetenError(msg("holder %(name)s exists already", name=repr(name)))
            account = f"holder:{name}"
            if Ledger.account_id_or_none(s, account) is None:
                s.add(Account(name=account, kind="holding", owner=name))
            h = Holder(
                name=name,
                can_book=can_book,
                has_obligation=has_obligation,
                can_transfer=can_transfer,
                is_service_provider=is_service_provider,
                account=account,
                created_at=self.clock(),
            )
            s.add(h)
            s.flush()
            self._audit(s, actor, "holder.create", name, request)
            return {"holder_id": h.id}

        return int(self.ledger.run(key, request, apply)["holder_id"])

    def create_user(
        self, username: str, password: str, role: str, holder: str | None, *, actor: str, key: str
    ) -> int:
        username = username.strip()
        if not username or len(username) > 100:
            raise KetenError(msg("a username has 1–100 characters"))
        if role not in ROLES:
            raise KetenError(
                msg(
                    "unknown role %(role)s (roles: %(roles)s)",
                    role=repr(role),
                    roles=", ".join(ROLES),
                )
            )
        if len(password) < 12:
            raise KetenError(msg("a password has at least 12 characters"))
        if role in ("rekeningbevoegde", "fiatteur") and holder is None:
            raise KetenError(msg("a %(role)s belongs to a holder", role=role))
        if role in ("verificateur", "toezichthouder", "ketenpartner") and holder is not None:
            raise KetenError(msg("a %(role)s does not belong to a holder", role=role))
        request = {"op": "create_user", "username": username, "role": role, "holder": holder}

        def apply(s: Session) -> dict[str, Any]:
            if s.execute(select(User.id).where(User.username == username)).first():
                raise KetenError(msg("user %(name)s exists already", name=repr(username)))
            holder_id = self._holder_id(s, holder) if holder is not None else None
            u = User(
                username=username,
                password_hash=self.hasher.hash(password),
                role=role,
                holder_id=holder_id,
                active=True,
                created_at=self.clock(),
            )
            s.add(u)
            s.flush()
            self._audit(s, actor, "user.create", username, request)
            return {"user_id": u.id}

        return int(self.ledger.run(key, request, apply)["user_id"])

    def login(self, username: str, password: str) -> Actor:
        with self.ledger.sessions() as s:
            u = s.execute(select(User).where(User.username == username)).scalar_one_or_none()
            if u is None or not u.active:
                self.hasher.hash(password)  # same work whether or not the user exists
                raise AuthError(msg("unknown user or wrong password"))
            try:
                self.hasher.verify(u.password_hash, password)
            except VerificationError:
                raise AuthError(msg("unknown user or wrong password")) from None
            return Actor(u.id, u.username, u.role, u.holder_id)

    def change_password(self, actor: Actor, old: str, new: str, *, key: str) -> None:
        """Set a new password (at least 12 characters) after checking the current one."""
        if len(new) < 12:
            raise KetenError(msg("a password has at least 12 characters"))
        if len(new) > 1000:
            raise KetenError(msg("a password has at most 1,000 characters"))
        if new == old:
            raise KetenError(msg("the new password must differ from the current one"))
        self.login(actor.username, old)

        def apply(s: Session) -> dict[str, Any]:
            u = s.get(User, actor.user_id)
            if u is None:
                raise NotFound(msg("unknown user %(name)s", name=repr(actor.username)))
            u.password_hash = self.hasher.hash(new)
            self._audit(s, actor.label, "user.password", actor.username, {})
            return {"changed": actor.user_id}

        self.ledger.run(key, {"op": "password", "user": actor.user_id}, apply)

    def create_token(self, actor: Actor, label: str, *, key: str) -> str:
        """A new API token for the acting user. Only its SHA-256 is stored — also in the
        idempotency record, so a retry of the same request cannot show the token again: it is
        refused with a clear message (create a new token instead)."""
        label = label.strip() or "token"
        issued: dict[str, str] = {}

        def apply(s: Session) -> dict[str, Any]:
            token = "kt_" + secrets.token_urlsafe(32)
            row = ApiToken(
                user_id=actor.user_id,
                token_hash=hashlib.sha256(token.encode()).hexdigest(),
                label=label[:100],
                created_at=self.clock(),
            )
            s.add(row)
            s.flush()
            self._audit(s, actor.label, "token.create", actor.username, {"label": label})
            issued["token"] = token
            return {"token_id": row.id}

        self.ledger.run(key, {"op": "token", "user": actor.user_id, "label": label}, apply)
        if "token" not in issued:
            raise KetenError(
                msg(
                    "this token request was already applied and a token is shown only once; "
                    "create a new token"
                )
            )
        return issued["token"]

    def revoke_token(self, actor: Actor, token_id: int, *, key: str) -> None:
        def apply(s: Session) -> dict[str, Any]:
            t = s.get(ApiToken, token_id)
            if t is None or t.user_id != actor.user_id:
                raise NotFound(msg("unknown token %(id)s", id=token_id))
            t.revoked_at = self.clock()
            self._audit(s, actor.label, "token.revoke", actor.username, {"id": token_id})
            return {"revoked": token_id}

        self.ledger.run(key, {"op": "revoke", "id": token_id}, apply)

    def actor_for_token(self, token: str) -> Actor:
        digest = hashlib.sha256(token.encode()).hexdigest()
        with self.ledger.sessions() as s:
            row = s.execute(
                select(User)
                .join(ApiToken, ApiToken.user_id == User.id)
                .where(ApiToken.token_hash == digest, ApiToken.revoked_at.is_(None), User.active)
            ).scalar_one_or_none()
            if row is None:
                raise AuthError(msg("invalid or revoked API token"))
            return Actor(row.id, row.username, row.role, row.holder_id)

    @staticmethod
    def _holder_id(s: Session, name: str) -> int:
        hid = s.execute(select(Holder.id).where(Holder.name == name)).scalar_one_or_none()
        if hid is None:
            raise NotFound(msg("unknown holder %(name)s", name=repr(name)))
        return int(hid)

    @staticmethod
    def _holder(s: Session, holder_id: int) -> Holder:
        h = s.get(Holder, holder_id)
        if h is None:
            raise NotFound(msg("unknown holder %(id)s", id=holder_id))
        return h

    # ------------------------------------------------------------------ audit

    def _audit(
        self,
        s: Session,
        actor: str,
        action: str,
        subject: str,
        payload: dict[str, Any],
        *,
        at: dt.datetime | None = None,
    ) -> None:
        """Append the audit event of a write (at the clock's now unless ``at`` is given)."""
        audit.append(
            s,
            at=self.clock() if at is None else at,
            actor=actor,
            action=action,
            subject=subject,
            payload=payload,
        )

    # ------------------------------------------------------------------ authorisation

    @staticmethod
    def _require(actor: Actor, *roles: str) -> None:
        if actor.role not in roles:
            raise AuthError(
                msg(
                    "%(actor)s may not do this (needs: %(roles)s)",
                    actor=actor.label,
                    roles=", ".join(roles),
                )
            )

    @staticmethod
    def _same_holder(actor: Actor, holder_id: int) -> None:
        if actor.holder_id != holder_id:
            raise AuthError(msg("%(actor)s does not act for this holder", actor=actor.label))

    def _four_eyes(self, actor: Actor, holder_id: int, proposer_id: int) -> None:
        self._require(actor, "fiatteur")
        self._same_holder(actor, holder_id)
        if actor.user_id == proposer_id:
            raise AuthError(
                msg("four-eyes principle: the proposer cannot approve their own proposal")
            )

    # ------------------------------------------------------------------ deadlines

    def deadline(self, year: int) -> dt.datetime:
        """Registration for ``year`` closes at this moment (exclusive), Europe/Amsterdam midnight
        approximated in UTC (EV-22)."""
        month = int(self.params.get("ev.register.deadline_month", year).value)
        day = int(self.params.get("ev.register.deadline_day", year).value)
        return dt.datetime(year + 1, month, day, tzinfo=dt.UTC)

    def _open_for(self, year: int, s: Session) -> None:
        """Deliveries and bookings of ``year`` can be registered now: from the start of the year
        until the deadline (EV-22), and not after the year-end closing of ``year`` ran (EV-31)."""
        _not_closed(s, year)
        now = self.clock()
        if now >= self.deadline(year):
            raise KetenError(
                msg(
                    "registration for %(year)s closed on %(date)s",
                    year=year,
                    date=self.deadline(year).date(),
                )
            )
        if now.year < year:
            raise KetenError(msg("registration for %(year)s is not open yet", year=year))

    # ------------------------------------------------------------------ deliveries

    def register_delivery(
        self,
        actor: Actor,
        year: int,
        month: int,
        sector: str,
        fuel: str,
        quantity: str,
        unit: str,
        *,
        key: str,
    ) -> int:
        """Opvoer levering: one month, sector and fuel of a holder with an obligation."""
        self._require(actor, "rekeningbevoegde", "fiatteur")
        if not 1 <= month <= 12:
            raise KetenError(msg("month must be 1–12, got %(month)s", month=month))
        qty = _number(quantity, "quantity")
        record = DeliveryRecord("check", sector, fuel, qty, unit)
        obligations([record], year, self.params)  # refuses unknown sector, fuel, unit, year
        if qty <= 0:
            raise KetenError(msg("quantity must be positive"))
        if qty >= MAX_QUANTITY:  # the bound of the deliveries file and of bookings (EV-11)
            raise KetenError(
                msg(
                    "quantity %(quantity)s is implausibly large (limit %(max_quantity)s)",
                    quantity=qty,
                    max_quantity=MAX_QUANTITY,
                )
            )
        request = {
            "op": "delivery",
            "year": year,
            "month": month,
            "sector": sector,
            "fuel": fuel,
            "quantity": str(qty),
            "unit": unit,
            "user": actor.user_id,
        }

        def apply(s: Session) -> dict[str, Any]:
            assert actor.holder_id is not None
            holder = self._holder(s, actor.holder_id)
            if not holder.has_obligation:
                raise AuthError(
                    msg("holder %(name)s has no obligation facility", name=repr(holder.name))
                )
            self._open_for(year, s)
            d = Delivery(
                holder_id=holder.id,
                year=year,
                month=month,
                sector=sector,
                fuel=fuel,
                quantity=str(qty),
                unit=unit,
                registered_by=actor.user_id,
                registered_at=self.clock(),
            )
            s.add(d)
            s.flush()
            self._audit(
                s, actor.label, "delivery.register", holder.name, request, at=d.registered_at
            )
            return {"delivery_id": d.id}

        return int(self.ledger.run(key, request, apply)["delivery_id"])

    def indicative_obligation(self, holder: str, year: int) -> list[Obligation]:
        """Obligation so far from the registered deliveries (Indicatie jaarverplichting)."""
        with self.ledger.sessions() as s:
            hid = self._holder_id(s, holder)
            rows = (
                s.execute(select(Delivery).where(Delivery.holder_id == hid, Delivery.year == year))
                .scalars()
                .all()
            )
            records = [
                DeliveryRecord(holder, d.sector, d.fuel, Decimal(d.quantity), d.unit) for d in rows
            ]
        return obligations(records, year, self.params)

    # ------------------------------------------------------------------ bookings

    def units_of(self, b: BookingInput) -> tuple[int, Trace]:
        """Units a booking creates (the Energie Vervoer rule), with its trace."""
        record = BookingRecord(
            "holder",
            b.sector,
            b.category,
            b.fuel,
            _number(b.quantity, "quantity"),
            b.unit,
            None if b.ghg_intensity in (None, "") else _number(b.ghg_intensity, "ghg_intensity"),
        )
        trace = Trace(self.params)
        return units_for_booking(record, b.year, trace).units, trace

    def propose_booking(self, actor: Actor, b: BookingInput, *, key: str) -> int:
        self._require(actor, "rekeningbevoegde", "fiatteur")
        proof = b.proof_ref.strip()
        if not proof or len(proof) > 200:
            raise KetenError(msg("a booking needs a sustainability-proof reference (PoS/UDB id)"))
        units, _ = self.units_of(b)
        if units <= 0:
            raise KetenError(msg("this booking creates no units"))
        request = {"op": "propose_booking", **b.__dict__, "user": actor.user_id}

        def apply(s: Session) -> dict[str, Any]:
            assert actor.holder_id is not None
            holder = self._holder(s, actor.holder_id)
            if not holder.can_book:
                raise AuthError(
                    msg("holder %(name)s has no booking facility", name=repr(holder.name))
                )
            if s.execute(select(Booking.id).where(Booking.proof_ref == proof)).first():
                raise KetenError(msg("proof %(proof)s is booked already", proof=repr(proof)))
            self._open_for(b.year, s)
            row = Booking(
                holder_id=holder.id,
                proof_ref=proof,
                year=b.year,
                sector=b.sector,
                category=b.category,
                fuel=b.fuel,
                quantity=b.quantity,
                unit=b.unit,
                ghg_intensity=b.ghg_intensity or None,
                units=units,
                status="proposed",
                proposed_by=actor.user_id,
                proposed_at=self.clock(),
                verification="unverified",
            )
            s.add(row)
            s.flush()
            self._audit(
                s,
                actor.label,
                "booking.propose",
                holder.name,
                {**request, "units": units, "id": row.id},
                at=row.proposed_at,
            )
            return {"booking_id": row.id}

        return int(self.ledger.run(key, request, apply)["booking_id"])

    def _booking(self, s: Session, booking_id: int) -> Booking:
        return _locked(s, Booking, booking_id, "booking")

    def decide_booking(
        self, actor: Actor, booking_id: int, *, approve: bool, note: str = "", key: str
    ) -> None:
        """Approve (units are created on the holder's account) or reject a proposed booking."""
        request = {
            "op": "decide_booking",
            "id": booking_id,
            "approve": approve,
            "note": note,
            "user": actor.user_id,
        }

        def apply(s: Session) -> dict[str, Any]:
            row = self._booking(s, booking_id)
            self._four_eyes(actor, row.holder_id, row.proposed_by)
            _still_proposed("booking", booking_id, row.status)
            holder = self._holder(s, row.holder_id)
            if approve:
                _not_closed(s, row.year)  # EV-31: no units of a closed year any more
            row.decided_by, row.decided_at, row.note = actor.user_id, self.clock(), note or None
            if approve:
                result = self.ledger.issue_in(
                    s,
                    holder.account,
                    unit_type(row.sector, row.category),
                    row.year,
                    row.units,
                    origin=f"booking:{row.id}",
                    actor=actor.label,
                    reason=f"booking {row.id} approved (proof {row.proof_ref})",
                    key=key,
                )
                row.lot_id, row.status = int(result["lot_id"]), "approved"
            else:
                row.status = "rejected"
            self._audit(s, actor.label, f"booking.{row.status}", holder.name, request)
            return {"status": row.status}

        self.ledger.run(key, request, apply)

    def withdraw_booking(self, actor: Actor, booking_id: int, *, key: str) -> None:
        request = {"op": "withdraw_booking", "id": booking_id, "user": actor.user_id}

        def apply(s: Session) -> dict[str, Any]:
            row = self._booking(s, booking_id)
            self._require(actor, "rekeningbevoegde", "fiatteur")
            self._same_holder(actor, row.holder_id)
            _still_proposed("booking", booking_id, row.status)
            row.status, row.decided_by, row.decided_at = "withdrawn", actor.user_id, self.clock()
            self._audit(s, actor.label, "booking.withdraw", str(booking_id), request)
            return {"status": row.status}

        self.ledger.run(key, request, apply)

    def verify_booking(
        self, actor: Actor, booking_id: int, *, verified: bool, note: str, key: str
    ) -> None:
        """A verificateur marks a booking verified or rejected, with a note."""
        self._require(actor, "verificateur")
        if not note.strip():
            raise KetenError(msg("a verification needs a note"))
        request = {
            "op": "verify_booking",
            "id": booking_id,
            "verified": verified,
            "note": note,
            "user": actor.user_id,
        }

        def apply(s: Session) -> dict[str, Any]:
            row = self._booking(s, booking_id)
            if row.verifier_id not in (None, actor.user_id):
                raise AuthError(msg("this booking is assigned to another verificateur"))
            row.verifier_id = actor.user_id
            row.verification = "verified" if verified else "rejected"
            self._audit(s, actor.label, "booking.verify", str(booking_id), request)
            return {"verification": row.verification}

        self.ledger.run(key, request, apply)

    def hold_booking(self, actor: Actor, booking_id: int, *, reason: str, key: str) -> list[int]:
        """The regulator holds every unit of an approved booking, wherever it is now."""
        self._require(actor, "toezichthouder")
        request = {"op": "hold_booking", "id": booking_id, "reason": reason}

        def apply(s: Session) -> dict[str, Any]:
            row = self._booking(s, booking_id)
            if row.lot_id is None:
                raise KetenError(
                    msg(
                        "booking %(id)s has no units (status %(status)s)",
                        id=booking_id,
                        status=_status(row.status),
                    )
                )
            holds = [
                self.ledger.hold_in(
                    s, account, row.lot_id, amount - held, actor=actor.label, reason=reason
                )
                for account, amount, held in self.ledger.lot_positions(s, row.lot_id)
                if amount > held
            ]
            if not holds:
                raise KetenError(msg("booking %(id)s: no units left to hold", id=booking_id))
            return {"holds": holds}

        return [int(h) for h in self.ledger.run(key, request, apply)["holds"]]

    def release_holds(
        self, actor: Actor, hold_ids: Sequence[int], *, reason: str, key: str
    ) -> None:
        self._require(actor, "toezichthouder")

        def apply(s: Session) -> dict[str, Any]:
            for h in hold_ids:
                self.ledger.release_in(s, h, actor=actor.label, reason=reason)
            return {"released": list(hold_ids)}

        self.ledger.run(key, {"op": "release", "holds": list(hold_ids), "reason": reason}, apply)

    # ------------------------------------------------------------------ transfers

    def propose_transfer(
        self, actor: Actor, to_holder: str, lines: Sequence[Line], *, key: str
    ) -> int:
        self._require(actor, "rekeningbevoegde", "fiatteur")
        if not lines or any(ln.amount <= 0 for ln in lines):
            raise KetenError(msg("a transfer needs lines with positive amounts"))
        for ln in lines:
            sector, _, category = ln.unit_type.partition("/")
            if sector not in SECTORS or category not in CATEGORIES:
                raise KetenError(
                    msg(
                        "unknown unit type %(type)s: expected sector/category, e.g. land/annex-ixa",
                        type=repr(ln.unit_type),
                    )
                )
        payload = [[ln.unit_type, ln.vintage, ln.amount] for ln in lines]
        request = {
            "op": "propose_transfer",
            "to": to_holder,
            "lines": payload,
            "user": actor.user_id,
        }

        def apply(s: Session) -> dict[str, Any]:
            # SQLAlchemy Core, one query for both holders: the transfer path is lean (EV-27).
            assert actor.holder_id is not None
            conn = s.connection()
            found = conn.execute(
                _TRANSFER_HOLDERS, {"id": actor.holder_id, "name": to_holder}
            ).all()
            source = next((h for h in found if h.id == actor.holder_id), None)
            if source is None:
                raise NotFound(msg("unknown holder %(id)s", id=actor.holder_id))
            if not source.can_transfer:
                raise AuthError(
                    msg("holder %(name)s has no transfer facility", name=repr(source.name))
                )
            target = next((h for h in found if h.name == to_holder), None)
            if target is None:
                raise NotFound(msg("unknown holder %(name)s", name=repr(to_holder)))
            if target.id == source.id:
                raise KetenError(msg("a transfer goes to another holder"))
            at = self.clock()
            transfer_id = int(
                conn.execute(
                    _NEW_TRANSFER,
                    {
                        "from_holder_id": source.id,
                        "to_holder_id": target.id,
                        "lines": json.dumps(payload),
                        "status": "proposed",
                        "proposed_by": actor.user_id,
                        "proposed_at": at,
                    },
                ).scalar_one()
            )
            self._audit(
                s,
                actor.label,
                "transfer.propose",
                source.name,
                {**request, "id": transfer_id},
                at=at,
            )
            return {"transfer_id": transfer_id}

        return int(self.ledger.run(key, request, apply)["transfer_id"])

    @staticmethod
    def _transfer_row(s: Session, transfer_id: int) -> Any:
        """The transfer, locked for the decision (404 if unknown)."""
        s.flush()
        row = s.connection().execute(_LOCK_TRANSFER, {"tid": transfer_id}).first()
        if row is None:
            raise NotFound(msg("unknown transfer %(id)s", id=transfer_id))
        return row

    def decide_transfer(
        self, actor: Actor, transfer_id: int, *, approve: bool, note: str = "", key: str
    ) -> None:
        request = {
            "op": "decide_transfer",
            "id": transfer_id,
            "approve": approve,
            "note": note,
            "user": actor.user_id,
        }

        def apply(s: Session) -> dict[str, Any]:
            t = self._transfer_row(s, transfer_id)
            self._four_eyes(actor, t.from_holder_id, t.proposed_by)
            _still_proposed("transfer", transfer_id, t.status)
            conn = s.connection()
            if approve:
                accounts = dict(
                    conn.execute(
                        _HOLDER_ACCOUNTS, {"ids": [t.from_holder_id, t.to_holder_id]}
                    ).all()
                )
                lines = [Line(u, int(v), int(a)) for u, v, a in json.loads(t.lines)]
                self.ledger.move_in(
                    s,
                    "transfer",
                    accounts[t.from_holder_id],
                    accounts[t.to_holder_id],
                    lines,
                    actor=actor.label,
                    reason=f"transfer {t.id}",
                    key=key,
                )
            status = "approved" if approve else "rejected"
            conn.execute(
                _DECIDE_TRANSFER,
                {
                    "tid": transfer_id,
                    "status": status,
                    "decided_by": actor.user_id,
                    "decided_at": self.clock(),
                    "note": note or None,
                },
            )
            self._audit(s, actor.label, f"transfer.{status}", str(transfer_id), request)
            return {"status": status}

        self.ledger.run(key, request, apply)

    def withdraw_transfer(self, actor: Actor, transfer_id: int, *, key: str) -> None:
        request = {"op": "withdraw_transfer", "id": transfer_id, "user": actor.user_id}

        def apply(s: Session) -> dict[str, Any]:
            t = self._transfer_row(s, transfer_id)
            self._require(actor, "rekeningbevoegde", "fiatteur")
            self._same_holder(actor, t.from_holder_id)
            _still_proposed("transfer", transfer_id, t.status)
            s.connection().execute(
                _DECIDE_TRANSFER,
                {
                    "tid": transfer_id,
                    "status": "withdrawn",
                    "decided_by": actor.user_id,
                    "decided_at": self.clock(),
                    "note": None,
                },
            )
            self._audit(s, actor.label, "transfer.withdraw", str(transfer_id), request)
            return {"status": "withdrawn"}

        self.ledger.run(key, request, apply)

    # ------------------------------------------------------------------ regulator

    def correct(
        self, actor: Actor, holder: str, lines: Sequence[Line], *, reason: str, key: str
    ) -> None:
        """Ambtshalve vaststelling: the regulator cancels units of a holder, with a reason."""
        self._require(actor, "toezichthouder")
        if not reason.strip():
            raise KetenError(msg("an ex-officio correction needs a reason"))
        request = {
            "op": "correct",
            "holder": holder,
            "lines": [[ln.unit_type, ln.vintage, ln.amount] for ln in lines],
            "reason": reason,
        }

        def apply(s: Session) -> dict[str, Any]:
            h = self._holder(s, self._holder_id(s, holder))
            self.ledger.move_in(
                s,
                "cancel",
                h.account,
                None,
                lines,
                actor=actor.label,
                reason=f"ambtshalve vaststelling: {reason}",
                key=key,
            )
            self._audit(s, actor.label, "correction", holder, request)
            return {"corrected": True}

        self.ledger.run(key, request, apply)

    def balances(self, actor: Actor, holder: str) -> dict[tuple[str, int], int]:
        """A holder's units per (type, vintage): its own users and the regulator may look."""
        with self.ledger.sessions() as s:
            h = self._holder(s, self._holder_id(s, holder))
        if actor.role != "toezichthouder":
            self._same_holder(actor, h.id)
        return self.ledger.balances(h.account)


class Reads:
    """Read models for the API and the web pages, filtered by what the actor may see."""

    def __init__(self, reg: Registry) -> None:
        self.reg = reg

    def holders(self, actor: Actor) -> list[dict[str, Any]]:
        with self.reg.ledger.sessions() as s:
            q = select(Holder).order_by(Holder.name)
            if actor.role not in ("toezichthouder", "verificateur"):
                q = q.where(Holder.id == actor.holder_id)
            return [
                {
                    "id": h.id,
                    "name": h.name,
                    "can_book": h.can_book,
                    "has_obligation": h.has_obligation,
                    "can_transfer": h.can_transfer,
                    "is_service_provider": h.is_service_provider,
                }
                for h in s.execute(q).scalars()
            ]

    def bookings(self, actor: Actor, status: str | None = None) -> list[dict[str, Any]]:
        with self.reg.ledger.sessions() as s:
            q = select(Booking, Holder.name).join(Holder, Holder.id == Booking.holder_id)
            if actor.role == "verificateur":
                q = q.where((Booking.verifier_id == actor.user_id) | Booking.verifier_id.is_(None))
            elif actor.role != "toezichthouder":
                q = q.where(Booking.holder_id == actor.holder_id)
            if status:
                q = q.where(Booking.status == status)
            return [_booking_dict(b, name) for b, name in s.execute(q.order_by(Booking.id))]

    def booking(self, actor: Actor, booking_id: int) -> dict[str, Any]:
        for b in self.bookings(actor):
            if b["id"] == booking_id:
                return b
        raise NotFound(msg("unknown booking %(id)s", id=booking_id))

    def transfers(self, actor: Actor) -> list[dict[str, Any]]:
        with self.reg.ledger.sessions() as s:
            q = select(Transfer).order_by(Transfer.id)
            if actor.role != "toezichthouder":
                q = q.where(
                    (Transfer.from_holder_id == actor.holder_id)
                    | (Transfer.to_holder_id == actor.holder_id)
                )
            names = {h.id: h.name for h in s.execute(select(Holder)).scalars()}
            return [
                {
                    "id": t.id,
                    "from": names[t.from_holder_id],
                    "to": names[t.to_holder_id],
                    "lines": json.loads(t.lines),
                    "status": t.status,
                    "proposed_at": t.proposed_at.isoformat(),
                    "note": t.note,
                }
                for t in s.execute(q).scalars()
            ]

    def statistics(self, period: str = "year") -> list[dict[str, Any]]:
        """Published statistics per period (``year``, ``quarter`` or ``month``) and unit type:
        units created, transferred, surrendered and cancelled (by the movement's date), and
        banked at the year-end closing (by the closing's date)."""
        if period not in ("year", "quarter", "month"):
            raise KetenError(
                msg("period must be year, quarter or month, not %(period)s", period=repr(period))
            )
        from sqlalchemy import func

        from keten.store.models import Closing, Lot, Movement, Posting

        names = {
            "issue": "created",
            "transfer": "transferred",
            "surrender": "surrendered",
            "cancel": "cancelled",
        }
        rows: dict[tuple[str, str, int], dict[str, Any]] = {}

        def row(day: dt.date, unit_type: str, vintage: int) -> dict[str, Any]:
            label = {
                "year": f"{day.year}",
                "quarter": f"{day.year}-Q{(day.month - 1) // 3 + 1}",
                "month": f"{day.year}-{day.month:02d}",
            }[period]
            return rows.setdefault(
                (label, unit_type, vintage),
                {
                    "period": label,
                    "unit_type": unit_type,
                    "vintage": vintage,
                    "created": 0,
                    "transferred": 0,
                    "surrendered": 0,
                    "cancelled": 0,
                    "banked": 0,
                },
            )

        with self.reg.ledger.sessions() as s:
            for kind, unit_type, vintage, at, amount in s.execute(
                select(
                    Movement.kind, Lot.unit_type, Lot.vintage, Movement.at, func.sum(Posting.amount)
                )
                .join(Posting, Posting.movement_id == Movement.id)
                .join(Lot, Lot.id == Posting.lot_id)
                .group_by(Movement.kind, Lot.unit_type, Lot.vintage, Movement.at)
            ):
                if kind in names:
                    row(at.date(), unit_type, int(vintage))[names[kind]] += int(amount)
            for c in s.execute(select(Closing)).scalars():
                for h in json.loads(c.summary)["holders"]:
                    for unit_type, vintage, amount in h["banked"]:
                        row(c.run_at.date(), unit_type, int(vintage))["banked"] += int(amount)
        return [rows[k] for k in sorted(rows)]


class NotFound(KetenError):
    """An id the actor cannot see: unknown or another holder's (the same answer for both)."""


def _booking_dict(b: Booking, holder: str) -> dict[str, Any]:
    return {
        "id": b.id,
        "holder": holder,
        "proof_ref": b.proof_ref,
        "year": b.year,
        "sector": b.sector,
        "category": b.category,
        "fuel": b.fuel,
        "quantity": b.quantity,
        "unit": b.unit,
        "ghg_intensity": b.ghg_intensity,
        "units": b.units,
        "status": b.status,
        "verification": b.verification,
        "lot_id": b.lot_id,
    }


# Core statements of the transfer path (built once; EV-27).
_HOLDER = cast(Table, Holder.__table__)
_TRANSFER = cast(Table, Transfer.__table__)
_TRANSFER_HOLDERS = select(_HOLDER.c.id, _HOLDER.c.name, _HOLDER.c.can_transfer).where(
    (_HOLDER.c.id == bindparam("id")) | (_HOLDER.c.name == bindparam("name"))
)
_HOLDER_ACCOUNTS = select(_HOLDER.c.id, _HOLDER.c.account).where(
    _HOLDER.c.id.in_(bindparam("ids", expanding=True))
)
_NEW_TRANSFER = insert(_TRANSFER).returning(_TRANSFER.c.id)
_LOCK_TRANSFER = (
    select(
        _TRANSFER.c.id,
        _TRANSFER.c.from_holder_id,
        _TRANSFER.c.to_holder_id,
        _TRANSFER.c.lines,
        _TRANSFER.c.status,
        _TRANSFER.c.proposed_by,
    )
    .where(_TRANSFER.c.id == bindparam("tid"))
    .with_for_update()
)
_DECIDE_TRANSFER = (
    update(_TRANSFER)
    .where(_TRANSFER.c.id == bindparam("tid"))
    .values(
        status=bindparam("status"),
        decided_by=bindparam("decided_by"),
        decided_at=bindparam("decided_at"),
        note=bindparam("note"),
    )
)

_Row = TypeVar("_Row", Booking, Transfer)


def _locked(s: Session, model: type[_Row], row_id: int, label: str) -> _Row:
    """The row ``row_id`` of a proposal table, locked for the decision (404 if unknown)."""
    row = s.execute(select(model).where(model.id == row_id).with_for_update()).scalar_one_or_none()
    if row is None:
        raise NotFound(
            msg("unknown booking %(id)s", id=row_id)
            if label == "booking"
            else msg("unknown transfer %(id)s", id=row_id)
        )
    return row


# Statuses of bookings and transfers as shown in messages (the stored codes stay English).
_STATUS = {
    "proposed": msg("proposed"),
    "approved": msg("approved"),
    "rejected": msg("rejected"),
    "withdrawn": msg("withdrawn"),
}


def _status(code: str) -> Msg | str:
    return _STATUS.get(code, code)


def _not_closed(s: Session, year: int) -> None:
    """Refuse a delivery, booking or approval of a year whose closing ran (EV-31): the stored
    closing would no longer match the obligation and units it was computed from."""
    if s.get(Closing, year) is not None:
        raise KetenError(
            msg("registration for %(year)s ended with the year-end closing of %(year)s", year=year)
        )


def _still_proposed(label: str, row_id: int, status: str) -> None:
    if status != "proposed":
        raise KetenError(
            msg("booking %(id)s is %(status)s, not proposed", id=row_id, status=_status(status))
            if label == "booking"
            else msg(
                "transfer %(id)s is %(status)s, not proposed", id=row_id, status=_status(status)
            )
        )


def _number(text: str, field: str) -> Decimal:
    try:
        return parse_number(text)
    except ValueError:
        # the English text is parse_number's own (a test keeps the two the same)
        raise KetenError(
            msg(
                "%(field)s: not a number with at most %(decimals)s decimals: %(text)s",
                field=field,
                decimals=MAX_DECIMALS,
                text=repr(text),
            )
        ) from None


__all__ = ["Actor", "AuthError", "BookingInput", "LedgerError", "Registry", "unit_type"]
