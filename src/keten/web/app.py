"""The web application: the HTML pages (``keten.web.pages``), the register's JSON API
(``/api/v1``) and the PACT data exchange (``/auth/token``, ``/3/…``) in one FastAPI application.

Every page module in :mod:`keten.web.pages` that defines ``router`` is included. Errors become
an HTML page for page paths and JSON for ``/api/``; security headers are set on every answer.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import select
from starlette.exceptions import HTTPException as StarletteHTTPException

from keten.core.errors import KetenError
from keten.core.messages import Msg, msg, render
from keten.footprint.pact_store import PactStore
from keten.registry.service import AuthError, NotFound, Registry
from keten.store.models import AuditEvent
from keten.web import api, i18n, pages, ui
from keten.web.pact_api import create_pact_router
from keten.web.security import (
    CSRF_COOKIE,
    LANG_COOKIE,
    SESSION_COOKIE,
    LoginLimiter,
    Sessions,
    cookie_secure,
    new_token,
)

STATIC = Path(__file__).parent / "static"

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


MACHINE_PREFIXES = ("/api/", "/static/", "/auth/", "/3/")  # JSON APIs (register, PACT), files


def _is_page(path: str) -> bool:
    return not path.startswith(MACHINE_PREFIXES)


def invalid_input(error: Mapping[str, Any]) -> Msg:
    """A page's one-line message for a FastAPI/pydantic validation error (the first of a
    request): the field (or the part of the web address) and the problem, translatable. The
    JSON APIs answer with FastAPI's own errors instead."""
    loc = [str(p) for p in error.get("loc", ())]
    name = loc[-1] if loc else ""
    where = (
        msg("web address, part '%(field)s'", field=name)
        if loc[:1] == ["path"]
        else msg("field '%(field)s'", field=name)
    )
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    problem: Msg
    if kind == "string_too_long":
        problem = msg("at most %(n)s characters", n=ctx.get("max_length", "?"))
    elif kind in ("int_parsing", "int_type", "int_from_float"):
        problem = msg("not a whole number")
    elif kind in ("less_than_equal", "greater_than_equal"):  # e.g. a row id beyond 2^63 − 1
        problem = msg("out of range")
    elif kind == "missing":
        problem = msg("not filled in")
    else:
        problem = msg("invalid value")
    return Msg("%(where)s: %(problem)s", (("where", where), ("problem", problem)))


def is_demo(reg: Registry) -> bool:
    """Whether the database holds generated demo data (the seed script records an audit event
    ``demo.seed``)."""
    with reg.ledger.sessions() as s:
        return (
            s.execute(select(AuditEvent.seq).where(AuditEvent.action == "demo.seed").limit(1))
            .scalars()
            .first()
            is not None
        )


def create_web_app(reg: Registry, *, login_limiter: LoginLimiter | None = None) -> FastAPI:
    app = api.create_app(reg)
    app.state.sessions = Sessions(reg)
    app.state.login_limiter = login_limiter or LoginLimiter()
    app.state.demo = is_demo(reg)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # PACT v3 data exchange (issue #7): /auth/token and /3/… on the same database.
    app.include_router(create_pact_router(PactStore(reg.ledger.sessions, clock=reg.clock)))

    page_routes = []
    for info in pkgutil.iter_modules(pages.__path__):
        module = importlib.import_module(f"{pages.__name__}.{info.name}")
        router = getattr(module, "router", None)
        if router is not None:
            app.include_router(router)
            page_routes += list(router.routes)
    app.state.page_routes = page_routes
    app.state.page_paths = {getattr(r, "path", "") for r in page_routes}

    @app.middleware("http")
    async def _viewer_and_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        path = request.url.path
        if not _is_page(path):
            response = await call_next(request)
            response.headers.setdefault("X-Content-Type-Options", "nosniff")
            return response
        anon = request.cookies.get(CSRF_COOKIE)
        fresh = not anon or len(anon) > 100
        v = ui.Viewer(
            signed_in=app.state.sessions.find(request.cookies.get(SESSION_COOKIE)),
            anon_csrf=new_token() if fresh else str(anon),
            lang=i18n.pick(request.cookies.get(LANG_COOKIE)),
            new_anon_cookie=fresh,
        )
        request.state.viewer = v
        with i18n.using(v.lang):
            response = await call_next(request)
        if v.new_anon_cookie and v.signed_in is None:
            response.set_cookie(
                CSRF_COOKIE,
                v.anon_csrf,
                path="/",
                httponly=True,
                samesite="strict",
                secure=cookie_secure(),
            )
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        if v.signed_in is not None:
            response.headers["Cache-Control"] = "no-store"
        return response

    def page_error(request: Request, status: int, message: str) -> Response:
        if not hasattr(request.state, "viewer"):
            return JSONResponse({"detail": message}, status_code=status)
        return ui.render(
            request, "error.html", {"status": status, "message": message}, status=status
        )

    @app.exception_handler(KetenError)
    async def _keten_error(request: Request, exc: KetenError) -> Response:
        if not _is_page(request.url.path):
            return api.error_response(exc)
        status = 403 if isinstance(exc, AuthError) else 404 if isinstance(exc, NotFound) else 422
        return page_error(request, status, str(exc).splitlines()[0])

    @app.exception_handler(ui.LoginRequired)
    async def _login(request: Request, _exc: ui.LoginRequired) -> Response:
        return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)

    @app.exception_handler(ui.CsrfRefused)
    async def _csrf(request: Request, _exc: ui.CsrfRefused) -> Response:
        with i18n.using(ui.viewer(request).lang):
            message = i18n.gettext(
                "The form has expired or did not come from this site. Reload the page and try "
                "again."
            )
        return page_error(request, 403, message)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if not _is_page(request.url.path) or not hasattr(request.state, "viewer"):
            return JSONResponse(
                {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
            )
        with i18n.using(ui.viewer(request).lang):
            message = (
                i18n.gettext("This page does not exist.")
                if exc.status_code == 404
                else str(exc.detail)
            )
        return page_error(request, exc.status_code, message)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        if not _is_page(request.url.path) or not hasattr(request.state, "viewer"):
            return JSONResponse({"detail": exc.errors()}, status_code=422)
        first = exc.errors()[0] if exc.errors() else {}
        with i18n.using(ui.viewer(request).lang):
            message = render(invalid_input(first))
        return page_error(request, 422, message)

    return app
