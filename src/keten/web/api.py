"""JSON API of the register under ``/api/v1`` (FastAPI, OpenAPI at ``/api/v1/openapi.json``).

Authentication: ``Authorization: Bearer <API token>`` for programs; for people signed in to the
web pages, their session cookie (writes then also need the ``X-CSRF-Token`` header). Every
write needs an ``Idempotency-Key`` header; a retry with the same key and body applies nothing
twice. Authorisation is checked by the service layer for every action; objects of another holder
answer 404, as unknown ids do.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import (
    APIRouter,
    Depends,
    FastAPI,
    File,
    Form,
    Header,
    Query,
    Request,
    UploadFile,
)
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

import keten
from keten.core.errors import InputError, KetenError
from keten.ledger.service import LedgerError, Line
from keten.ledger.verify import verify
from keten.registry import closing
from keten.registry.service import Actor, AuthError, BookingInput, NotFound, Reads, Registry
from keten.registry.sessions import ImportRefused, import_sessions
from keten.web.security import SESSION_COOKIE, Sessions, same

MAX_UPLOAD = 512 * 1024 * 1024


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HolderIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    can_book: bool = False
    has_obligation: bool = False
    can_transfer: bool = True
    is_service_provider: bool = False


class UserIn(Strict):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=12, max_length=1000)
    role: str
    holder: str | None = None


class DeliveryIn(Strict):
    year: int = Field(ge=2000, le=2100)
    month: int
    sector: str = Field(max_length=20)
    fuel: str = Field(max_length=50)
    quantity: str = Field(max_length=40)
    unit: str = Field(max_length=10)


class BookingIn(Strict):
    proof_ref: str = Field(min_length=1, max_length=200)
    year: int = Field(ge=2000, le=2100)
    sector: str = Field(max_length=20)
    category: str = Field(max_length=20)
    fuel: str = Field(max_length=50)
    quantity: str = Field(max_length=40)
    unit: str = Field(max_length=10)
    ghg_intensity: str | None = Field(default=None, max_length=40)


class DecisionIn(Strict):
    approve: bool
    note: str = Field(default="", max_length=2000)


class VerificationIn(Strict):
    verified: bool
    note: str = Field(min_length=1, max_length=2000)


class ReasonIn(Strict):
    reason: str = Field(min_length=1, max_length=2000)


class LineIn(Strict):
    unit_type: str = Field(max_length=100)
    vintage: int = Field(ge=2000, le=2100)
    amount: int = Field(gt=0, le=10**15)


class TransferIn(Strict):
    to_holder: str = Field(min_length=1, max_length=200)
    lines: list[LineIn] = Field(min_length=1, max_length=100)


class CorrectionIn(Strict):
    holder: str = Field(min_length=1, max_length=200)
    lines: list[LineIn] = Field(min_length=1, max_length=100)
    reason: str = Field(min_length=1, max_length=2000)


class ReleaseIn(Strict):
    hold_ids: list[int] = Field(min_length=1, max_length=1000)
    reason: str = Field(min_length=1, max_length=2000)


class TokenIn(Strict):
    label: str = Field(default="token", max_length=100)


class _Unauthorized(Exception):
    pass


def current_actor(request: Request, authorization: Annotated[str | None, Header()] = None) -> Actor:
    """The user of the Bearer API token, or the person of the web session cookie (a write with
    the cookie must also send the session's CSRF token in ``X-CSRF-Token``); 401 otherwise."""
    reg: Registry = request.app.state.registry
    if authorization and authorization.startswith("Bearer "):
        try:
            return reg.actor_for_token(authorization.removeprefix("Bearer ").strip())
        except AuthError:
            raise _Unauthorized() from None
    sessions: Sessions | None = getattr(request.app.state, "sessions", None)
    signed = sessions.find(request.cookies.get(SESSION_COOKIE)) if sessions else None
    if signed is None:
        raise _Unauthorized()
    if request.method not in ("GET", "HEAD") and not same(
        request.headers.get("x-csrf-token"), signed.csrf
    ):
        raise AuthError("a write with a session cookie needs the session's X-CSRF-Token header")
    return signed.actor


def idempotency(idempotency_key: Annotated[str | None, Header()] = None) -> str:
    if not idempotency_key or len(idempotency_key) > 200:
        raise KetenError("every write needs an Idempotency-Key header (1–200 characters)")
    return f"api:{idempotency_key}"


Who = Annotated[Actor, Depends(current_actor)]
Year = Annotated[int, PathParam(ge=2000, le=2100)]
#: A row id in a web address: 1 … 2^63 − 1 (a larger one overflowed the database's INTEGER: a 500).
RowId = Annotated[int, PathParam(ge=1, le=2**63 - 1)]
Key = Annotated[str, Depends(idempotency)]


def _lines(lines: list[LineIn]) -> list[Line]:
    return [Line(ln.unit_type, ln.vintage, ln.amount) for ln in lines]


def error_response(exc: KetenError) -> JSONResponse:
    """The JSON answer for a refused request: 403 not allowed, 404 unknown (or another
    holder's), 409 ledger conflict, 422 otherwise; ``detail`` is one line, always English (the
    text scripts rely on), also when a page in Dutch answers with it."""
    status = 422
    if isinstance(exc, AuthError):
        status = 403
    elif isinstance(exc, NotFound):
        status = 404
    elif isinstance(exc, LedgerError):
        status = 409
    body: dict[str, Any] = {"detail": exc.english().splitlines()[0]}
    if isinstance(exc, ImportRefused):
        body["errors"] = exc.report
    return JSONResponse(status_code=status, content=body)


def create_app(reg: Registry) -> FastAPI:
    reads = Reads(reg)
    app = FastAPI(
        title="keten — Register Energie voor Vervoer",
        version=keten.__version__,
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
    )

    @app.exception_handler(KetenError)
    async def _keten_error(_request: Request, exc: KetenError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(_Unauthorized)
    async def _unauth(_request: Request, _exc: _Unauthorized) -> JSONResponse:
        return JSONResponse(
            status_code=401,
            content={"detail": "authentication required: Authorization: Bearer <API token>"},
            headers={"WWW-Authenticate": "Bearer"},
        )

    app.state.registry = reg
    api = APIRouter(prefix="/api/v1")

    def regulator(a: Actor) -> None:
        if a.role != "toezichthouder":
            raise AuthError(f"{a.label} may not do this (needs: toezichthouder)")

    @api.get("/me")
    def me(a: Who) -> dict[str, Any]:
        return {"username": a.username, "role": a.role, "holder_id": a.holder_id}

    @api.post("/tokens")
    def new_token(body: TokenIn, a: Who, key: Key) -> dict[str, Any]:
        return {"token": reg.create_token(a, body.label, key=key)}

    @api.get("/holders")
    def holders(a: Who) -> list[dict[str, Any]]:
        return reads.holders(a)

    @api.post("/holders", status_code=201)
    def create_holder(body: HolderIn, a: Who, key: Key) -> dict[str, Any]:
        regulator(a)
        hid = reg.create_holder(
            body.name,
            can_book=body.can_book,
            has_obligation=body.has_obligation,
            can_transfer=body.can_transfer,
            is_service_provider=body.is_service_provider,
            actor=a.label,
            key=key,
        )
        return {"id": hid}

    @api.post("/users", status_code=201)
    def create_user(body: UserIn, a: Who, key: Key) -> dict[str, Any]:
        regulator(a)
        return {
            "id": reg.create_user(
                body.username, body.password, body.role, body.holder, actor=a.label, key=key
            )
        }

    def visible_holder(a: Actor, name: str) -> None:
        if not any(h["name"] == name for h in reads.holders(a)):
            raise NotFound(f"unknown holder {name!r}")

    @api.get("/holders/{name}/balances")
    def balances(name: str, a: Who, as_of: dt.datetime | None = None) -> list[dict[str, Any]]:
        visible_holder(a, name)
        if as_of is not None and as_of.tzinfo is None:
            as_of = as_of.replace(tzinfo=dt.UTC)
        account = f"holder:{name}"
        bal = reg.balances(a, name) if as_of is None else reg.ledger.balances(account, as_of)
        return [{"unit_type": t, "vintage": v, "amount": n} for (t, v), n in sorted(bal.items())]

    @api.get("/holders/{name}/obligation")
    def obligation(
        name: str, year: Annotated[int, Query(ge=2000, le=2100)], a: Who
    ) -> list[dict[str, Any]]:
        visible_holder(a, name)
        return [o.to_dict() for o in reg.indicative_obligation(name, year)]

    @api.post("/deliveries", status_code=201)
    def delivery(body: DeliveryIn, a: Who, key: Key) -> dict[str, Any]:
        return {
            "id": reg.register_delivery(
                a, body.year, body.month, body.sector, body.fuel, body.quantity, body.unit, key=key
            )
        }

    @api.get("/bookings")
    def bookings(a: Who, status: str | None = None) -> list[dict[str, Any]]:
        return reads.bookings(a, status)

    @api.get("/bookings/{booking_id}")
    def booking(booking_id: RowId, a: Who) -> dict[str, Any]:
        return reads.booking(a, booking_id)

    @api.post("/bookings", status_code=201)
    def propose(body: BookingIn, a: Who, key: Key) -> dict[str, Any]:
        return {"id": reg.propose_booking(a, BookingInput(**body.model_dump()), key=key)}

    @api.post("/bookings/bulk", status_code=201)
    async def bulk(
        a: Who,
        key: Key,
        proof_ref: Annotated[str, Form(min_length=1, max_length=200)],
        year: Annotated[int, Form(ge=2000, le=2100)],
        file: Annotated[UploadFile, File()],
    ) -> dict[str, Any]:
        suffix = ".parquet" if (file.filename or "").lower().endswith(".parquet") else ".csv"
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"sessions{suffix}"
            size = 0
            with path.open("wb") as out:
                while chunk := await file.read(1 << 20):
                    size += len(chunk)
                    if size > MAX_UPLOAD:
                        raise InputError(f"file larger than {MAX_UPLOAD} bytes")
                    out.write(chunk)
            bid = import_sessions(reg, a, path, proof_ref=proof_ref, year=year, key=key)
        return {"id": bid}

    @api.post("/bookings/{booking_id}/decision")
    def decide(booking_id: RowId, body: DecisionIn, a: Who, key: Key) -> dict[str, Any]:
        reads.booking(a, booking_id)
        reg.decide_booking(a, booking_id, approve=body.approve, note=body.note, key=key)
        return reads.booking(a, booking_id)

    @api.post("/bookings/{booking_id}/withdraw")
    def withdraw(booking_id: RowId, a: Who, key: Key) -> dict[str, Any]:
        reads.booking(a, booking_id)
        reg.withdraw_booking(a, booking_id, key=key)
        return reads.booking(a, booking_id)

    @api.post("/bookings/{booking_id}/verification")
    def verification(booking_id: RowId, body: VerificationIn, a: Who, key: Key) -> dict[str, Any]:
        reads.booking(a, booking_id)
        reg.verify_booking(a, booking_id, verified=body.verified, note=body.note, key=key)
        return reads.booking(a, booking_id)

    @api.post("/bookings/{booking_id}/hold")
    def hold(booking_id: RowId, body: ReasonIn, a: Who, key: Key) -> dict[str, Any]:
        regulator(a)
        return {"hold_ids": reg.hold_booking(a, booking_id, reason=body.reason, key=key)}

    @api.post("/holds/release")
    def release(body: ReleaseIn, a: Who, key: Key) -> dict[str, Any]:
        regulator(a)
        reg.release_holds(a, body.hold_ids, reason=body.reason, key=key)
        return {"released": body.hold_ids}

    @api.get("/transfers")
    def transfers(a: Who) -> list[dict[str, Any]]:
        return reads.transfers(a)

    def visible_transfer(a: Actor, transfer_id: int) -> dict[str, Any]:
        for t in reads.transfers(a):
            if t["id"] == transfer_id:
                return t
        raise NotFound(f"unknown transfer {transfer_id}")

    @api.post("/transfers", status_code=201)
    def propose_transfer(body: TransferIn, a: Who, key: Key) -> dict[str, Any]:
        return {"id": reg.propose_transfer(a, body.to_holder, _lines(body.lines), key=key)}

    @api.post("/transfers/{transfer_id}/decision")
    def decide_transfer(transfer_id: RowId, body: DecisionIn, a: Who, key: Key) -> dict[str, Any]:
        visible_transfer(a, transfer_id)
        reg.decide_transfer(a, transfer_id, approve=body.approve, note=body.note, key=key)
        return visible_transfer(a, transfer_id)

    @api.post("/transfers/{transfer_id}/withdraw")
    def withdraw_transfer(transfer_id: RowId, a: Who, key: Key) -> dict[str, Any]:
        visible_transfer(a, transfer_id)
        reg.withdraw_transfer(a, transfer_id, key=key)
        return visible_transfer(a, transfer_id)

    @api.post("/corrections")
    def correction(body: CorrectionIn, a: Who, key: Key) -> dict[str, Any]:
        regulator(a)
        reg.correct(a, body.holder, _lines(body.lines), reason=body.reason, key=key)
        return {"holder": body.holder, "corrected": True}

    @api.get("/closing/{year}")
    def closing_preview(year: Year, a: Who) -> dict[str, Any]:
        regulator(a)
        return closing.plan(reg, year).to_dict()

    @api.post("/closing/{year}")
    def closing_run(year: Year, a: Who, key: Key) -> dict[str, Any]:
        return closing.run(reg, a, year, key=key)

    @api.get("/statistics")
    def statistics(a: Who, period: str = "year") -> dict[str, Any]:
        regulator(a)
        return {"period": period, "units": reads.statistics(period)}

    @api.get("/audit")
    def audit_log(a: Who, after: int = 0, limit: int = 100) -> dict[str, Any]:
        regulator(a)
        return _audit(reg, after, max(1, min(limit, 1000)))

    app.include_router(api)
    return app


def _audit(reg: Registry, after: int, limit: int) -> dict[str, Any]:
    from sqlalchemy import select

    from keten.store.models import AuditEvent

    with reg.ledger.sessions() as s:
        events = (
            s.execute(
                select(AuditEvent)
                .where(AuditEvent.seq > after)
                .order_by(AuditEvent.seq)
                .limit(limit)
            )
            .scalars()
            .all()
        )
        problems = verify(s)
    return {
        "verified": not problems,
        "problems": problems,
        "events": [
            {
                "seq": e.seq,
                "at": e.at.isoformat(),
                "actor": e.actor,
                "action": e.action,
                "subject": e.subject,
                "payload": e.payload,
                "hash": e.hash,
            }
            for e in events
        ],
    }
