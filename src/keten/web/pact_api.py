"""PACT Technical Specification v3 over HTTP: a router with ``POST /auth/token``,
``GET /3/footprints``, ``GET /3/footprints/{id}`` and ``POST /3/events`` (issue 7).

Mount it at the root of an application (``app.include_router(create_pact_router(store))``);
the rules live in :mod:`keten.footprint.pact_store`. Contracts:

- ``/auth/token``: OAuth2 client credentials (RFC 6749 §4.4), client authentication by HTTP
  Basic or by the form fields ``client_id`` / ``client_secret`` (not both), form body
  ``grant_type=client_credentials``. 200 ``{"access_token", "token_type": "bearer",
  "expires_in"}``; errors as RFC 6749 §5.2 ``{"error", "error_description"}``: ``invalid_request``
  400, ``unsupported_grant_type`` 400, ``invalid_client`` 401 with ``WWW-Authenticate: Basic``.
- The ``/3/…`` actions need ``Authorization: Bearer <access_token>``. Errors are PACT error
  responses ``{"code", "message"}`` with the status of the PACT error table: ``BadRequest`` 400
  (bad input, and a missing or unknown token, as the PACT conformance tests expect; FP-42),
  ``TokenExpired`` 401, ``NoSuchFootprint`` 404, ``NotImplemented`` 400 (vendor ``x-`` criteria).
  Token errors carry ``WWW-Authenticate: Bearer`` (RFC 6750 §3).
- ``GET /3/footprints``: criteria productId, companyId, geography, classification (repeat for
  OR), validOn, validAfter, validBefore, status; ``limit`` (positive integer, pages of at most
  100). More results: ``Link: <absolute URL>; rel="next"`` on the request's own host (FP-38).
  Body ``{"data": [ProductFootprint, …]}``.
- ``GET /3/footprints/{id}``: ``{"data": ProductFootprint}``; 404 when it does not exist or is
  not shared with the caller (the same answer; FP-36).
- ``POST /3/events``: a CloudEvent (``application/cloudevents+json`` or ``application/json``);
  200 with an empty body when accepted, 400 ``BadRequest`` naming the field otherwise (FP-40).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from keten.core import messages
from keten.core.errors import InputError
from keten.footprint.pact_store import (
    Caller,
    Cursor,
    NoSuchFootprint,
    PactAuthError,
    PactStore,
    TokenExpired,
    TokenInvalid,
    parse_filters,
)

MAX_TOKEN_BODY = 64 * 1024
MAX_EVENT_BODY = 5 * 1024 * 1024
REALM = 'realm="pact"'


class _OAuthError(Exception):
    def __init__(self, error: str, description: str, status: int = 400, basic: bool = False):
        self.error, self.description, self.status, self.basic = error, description, status, basic


class _PactError(Exception):
    def __init__(self, code: str, message: str, status: int, headers: dict[str, str] | None = None):
        self.code, self.message, self.status = code, message, status
        self.headers = headers or {}


def _oauth_response(exc: _OAuthError) -> JSONResponse:
    headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
    if exc.basic:
        headers["WWW-Authenticate"] = f"Basic {REALM}"
    return JSONResponse(
        {"error": exc.error, "error_description": exc.description},
        status_code=exc.status,
        headers=headers,
    )


def _pact_response(exc: _PactError) -> JSONResponse:
    return JSONResponse(
        {"code": exc.code, "message": exc.message}, status_code=exc.status, headers=exc.headers
    )


def _bad(message: str) -> _PactError:
    return _PactError("BadRequest", message, 400)


def _input(exc: InputError) -> _PactError:
    where = f"{exc.field}: " if exc.field else ""
    with messages.english():  # the PACT API answers in English, whatever the page language
        return _bad(where + exc.reason)


def _json(text: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(text, status_code=status, media_type="application/json", headers=headers)


def _client_credentials(request: Request, form: dict[str, str]) -> tuple[str, str, bool]:
    """(client_id, client_secret, via Basic header) of a token request."""
    header = request.headers.get("authorization")
    in_form = "client_secret" in form or "client_id" in form
    if header is not None:
        if "client_secret" in form:
            raise _OAuthError(
                "invalid_request", "use one client authentication method, not Basic and form"
            )
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            raise _OAuthError("invalid_client", "use HTTP Basic client authentication", 401, True)
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise _OAuthError("invalid_client", "malformed Basic credentials", 401, True) from None
        cid, sep, secret = decoded.partition(":")
        if not sep:
            raise _OAuthError("invalid_client", "malformed Basic credentials", 401, True)
        cid = unquote_plus(cid)
        if form.get("client_id", cid) != cid:
            raise _OAuthError("invalid_request", "client_id differs from the Basic credentials")
        return cid, unquote_plus(secret), True
    if not in_form:
        raise _OAuthError("invalid_client", "client authentication required", 401, True)
    if not form.get("client_id") or "client_secret" not in form:
        raise _OAuthError("invalid_client", "give client_id and client_secret", 400)
    return form["client_id"], form["client_secret"], False


def _token_form(request: Request, body: bytes) -> dict[str, str]:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/x-www-form-urlencoded":
        raise _OAuthError("invalid_request", "the body must be application/x-www-form-urlencoded")
    if len(body) > MAX_TOKEN_BODY:
        raise _OAuthError("invalid_request", "request body too large")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
    except (UnicodeDecodeError, ValueError):
        raise _OAuthError("invalid_request", "the body is not form-encoded UTF-8") from None
    form: dict[str, str] = {}
    for key, value in pairs:
        if key in form:
            raise _OAuthError("invalid_request", f"parameter {key!r} given more than once")
        form[key] = value
    return form


def _caller(store: PactStore, request: Request) -> Caller:
    header = request.headers.get("authorization")
    scheme, _, token = (header or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise _PactError(
            "BadRequest",
            "authentication required: Authorization: Bearer <access token> (from /auth/token)",
            400,
            {"WWW-Authenticate": f"Bearer {REALM}"},
        )
    try:
        return store.caller(token)
    except TokenExpired:
        raise _PactError(
            "TokenExpired",
            "The specified access token has expired",
            401,
            {
                "WWW-Authenticate": f'Bearer {REALM}, error="invalid_token", '
                'error_description="the access token has expired"'
            },
        ) from None
    except TokenInvalid:
        raise _PactError(
            "BadRequest",
            "Invalid access token",
            400,
            {"WWW-Authenticate": f'Bearer {REALM}, error="invalid_token"'},
        ) from None


def _single(items: Sequence[tuple[str, str]], name: str) -> str | None:
    values = [v for k, v in items if k == name]
    if len(values) > 1:
        raise _bad(f"{name}: give it once")
    return values[0] if values else None


def _guard(fn: Callable[[], Response]) -> Response:
    try:
        return fn()
    except _PactError as exc:
        return _pact_response(exc)
    except InputError as exc:
        return _pact_response(_input(exc))


def create_pact_router(store: PactStore) -> APIRouter:
    """The PACT v3 actions over ``store`` (module docstring: the contracts)."""
    router = APIRouter(tags=["PACT"])

    @router.post("/auth/token", summary="Action Authenticate (OAuth2 client credentials)")
    async def authenticate(request: Request) -> Response:
        body = await request.body()
        try:
            form = _token_form(request, body)
            if "grant_type" not in form:
                raise _OAuthError("invalid_request", "grant_type is missing")
            if form["grant_type"] != "client_credentials":
                raise _OAuthError(
                    "unsupported_grant_type", "only grant_type=client_credentials is supported"
                )
            cid, secret, basic = _client_credentials(request, form)
            try:
                token = await run_in_threadpool(store.issue_token, cid, secret)
            except PactAuthError:
                raise _OAuthError(
                    "invalid_client", "client authentication failed", 401 if basic else 400, basic
                ) from None
        except _OAuthError as exc:
            return _oauth_response(exc)
        return JSONResponse(
            {
                "access_token": token.access_token,
                "token_type": token.token_type,
                "expires_in": token.expires_in,
            },
            headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
        )

    @router.get("/3/footprints", summary="Action ListFootprints")
    def list_footprints(request: Request) -> Response:
        def run() -> Response:
            caller = _caller(store, request)
            items = request.query_params.multi_items()
            for key, _ in items:
                if key.lower().startswith("x-"):
                    raise _PactError(
                        "NotImplemented", f"{key}: no vendor criteria are implemented", 400
                    )
            limit_text = _single(items, "limit")
            cursor_text = _single(items, "cursor")
            limit = None
            if limit_text is not None:
                if not re.fullmatch(r"[0-9]{1,9}", limit_text) or int(limit_text) < 1:
                    raise _bad("limit: must be a positive integer")
                limit = int(limit_text)
            cursor = Cursor.parse(cursor_text) if cursor_text is not None else None
            criteria = [(k, v) for k, v in items if k not in ("limit", "cursor")]
            page = store.list_footprints(caller, parse_filters(criteria), limit, cursor)
            headers = {}
            if page.next is not None:
                query = [*criteria]
                if limit_text is not None:
                    query.append(("limit", limit_text))
                query.append(("cursor", str(page.next)))
                url = request.url.replace(query=urlencode(query))
                headers["Link"] = f'<{url}>; rel="next"'
            return _json('{"data":[' + ",".join(page.documents) + "]}", headers=headers)

        return _guard(run)

    @router.get("/3/footprints/{pf_id}", summary="Action GetFootprint")
    def get_footprint(pf_id: str, request: Request) -> Response:
        def run() -> Response:
            caller = _caller(store, request)
            try:
                doc = store.get_footprint(caller, pf_id)
            except NoSuchFootprint:
                raise _PactError(
                    "NoSuchFootprint", "The specified footprint does not exist.", 404
                ) from None
            return _json('{"data":' + doc + "}")

        return _guard(run)

    @router.post("/3/events", summary="Action Events")
    async def events(request: Request) -> Response:
        body = await request.body()

        def run() -> Response:
            caller = _caller(store, request)
            ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
            if ctype not in ("application/cloudevents+json", "application/json"):
                raise _bad("the body must be application/cloudevents+json")
            if len(body) > MAX_EVENT_BODY:
                raise _bad(f"the event is larger than {MAX_EVENT_BODY} bytes")
            try:
                text = body.decode("utf-8")
                event: Any = json.loads(text, parse_float=Decimal)
            except UnicodeDecodeError:
                raise _bad("the body is not UTF-8") from None
            except (json.JSONDecodeError, RecursionError) as exc:
                msg = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
                raise _bad(f"the body is not JSON: {msg}") from None
            store.record_event(caller, event, text)
            return Response(status_code=200)

        return await run_in_threadpool(_guard, run)

    return router
