"""What every HTML page shares: the template environment, the signed-in viewer, CSRF-checked
routes, rendering, flash messages and number formatting.

A page module in :mod:`keten.web.pages` creates ``router = page_router()`` and uses
:func:`render`; the application includes every such module. Routes of a page router check the
CSRF token of every POST before the handler runs (:class:`PageRoute`).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, unquote

from babel.numbers import format_decimal
from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

import keten
from keten.core.messages import msg
from keten.registry.service import Actor, AuthError, Registry
from keten.web import i18n
from keten.web.security import SignedIn, cookie_secure, same

TEMPLATES = Path(__file__).parent / "templates"
FLASH_COOKIE = "keten_flash"

env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html", "svg"]),
    undefined=StrictUndefined,
    extensions=["jinja2.ext.i18n"],
    trim_blocks=True,
    lstrip_blocks=True,
)
env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]


def num(value: object, places: int | None = None) -> str:
    """A number in the current language's notation (nl: 1.234,5; en: 1,234.5); exact for
    Decimals and integers; '—' for None."""
    if value is None or value == "":
        return "—"
    try:
        d = Decimal(str(value))
    except ArithmeticError:
        return str(value)
    with localcontext() as context:
        if d.is_finite():  # room for every digit (and the locale's 3 decimals): the 28-digit
            # default context raised InvalidOperation on larger numbers
            exponent = int(d.as_tuple().exponent)
            decimals = max(places if places is not None else -exponent, 3)
            context.prec = max(context.prec, max(d.adjusted(), 0) + 2 + decimals)
        if places is not None:
            d = d.quantize(Decimal(1).scaleb(-places))
            fmt = "#,##0" + ("." + "0" * places if places else "")
            return str(
                format_decimal(d, format=fmt, locale=i18n.language(), decimal_quantization=False)
            )
        return str(format_decimal(d, locale=i18n.language(), decimal_quantization=False))


def day(value: dt.date | dt.datetime | str | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.strftime("%d-%m-%Y" if i18n.language() == "nl" else "%Y-%m-%d")


def moment(value: dt.datetime | str | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.strftime("%d-%m-%Y %H:%M" if i18n.language() == "nl" else "%Y-%m-%d %H:%M")


def status(value: object) -> str:
    """A register status (booking, transfer, verification) in the current language."""
    labels = {
        "proposed": _("proposed"),
        "approved": _("approved"),
        "rejected": _("rejected"),
        "withdrawn": _("withdrawn"),
        "unverified": _("unverified"),
        "verified": _("verified"),
    }
    return labels.get(str(value), str(value))


env.filters["status"] = status
env.filters["num"] = num
env.filters["day"] = day
env.filters["moment"] = moment

# Navigation: (path, label). A link shows only when the application has that page.
NAV: list[tuple[str, str]] = [
    ("/register", "Register"),
    ("/calculators", "Calculators"),
    ("/nitrogen", "Nitrogen"),
    ("/mki", "MKI"),
    ("/footprint", "Chain emissions"),
    ("/vehicles", "Vehicles and EU targets"),
]
_ = i18n.gettext
_NAV_LABELS = [_("Register"), _("Calculators"), _("Nitrogen"), _("MKI")]  # extraction markers
_NAV_LABELS += [_("Chain emissions"), _("Vehicles and EU targets")]


@dataclass
class Viewer:
    """Who is looking: the signed-in person (or nobody), the CSRF token for forms, the
    language."""

    signed_in: SignedIn | None
    anon_csrf: str
    lang: str
    new_anon_cookie: bool = False

    @property
    def actor(self) -> Actor | None:
        return self.signed_in.actor if self.signed_in else None

    @property
    def csrf(self) -> str:
        return self.signed_in.csrf if self.signed_in else self.anon_csrf


class LoginRequired(Exception):
    pass


class CsrfRefused(Exception):
    pass


def viewer(request: Request) -> Viewer:
    v: Viewer = request.state.viewer
    return v


def registry(request: Request) -> Registry:
    reg: Registry = request.app.state.registry
    return reg


def person(request: Request) -> Actor:
    """The signed-in person; anonymous visitors are sent to the login page."""
    actor = viewer(request).actor
    if actor is None:
        raise LoginRequired()
    return actor


def roles(*allowed: str) -> Callable[[Request], Actor]:
    """A dependency: the signed-in person, who must have one of ``allowed`` roles (403 else)."""

    def check(request: Request) -> Actor:
        actor = person(request)
        if actor.role not in allowed:
            raise AuthError(msg("%(actor)s may not open this page", actor=actor.label))
        return actor

    return check


def holder_person(request: Request) -> Actor:
    """A signed-in person acting for a holder (rekeningbevoegde or fiatteur)."""
    actor = person(request)
    if actor.holder_id is None:
        raise AuthError(msg("%(actor)s does not act for a holder", actor=actor.label))
    return actor


async def check_csrf(request: Request) -> None:
    v = viewer(request)
    token = request.headers.get("x-csrf-token")
    if token is None:
        form = await request.form()
        value = form.get("csrf_token")
        token = value if isinstance(value, str) else None
    if not same(token, v.csrf):
        raise CsrfRefused()


class PageRoute(APIRoute):
    """A page route: every POST must carry the viewer's CSRF token."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            if request.method == "POST":
                await check_csrf(request)
            return await original(request)

        return handler


def page_router(**kw: Any) -> APIRouter:
    kw.setdefault("include_in_schema", False)
    return APIRouter(route_class=PageRoute, **kw)


def form_key() -> str:
    """A fresh key for one rendering of a form: its submission is applied once, however often
    the browser sends it (the register's idempotency key)."""
    return secrets.token_urlsafe(16)


def idem(actor: Actor, key: str | None) -> str:
    """The register idempotency key of a form submission."""
    if not key or len(key) > 100:
        key = form_key()
    return f"web:{actor.user_id}:{key}"


def nav(request: Request) -> list[tuple[str, str, bool]]:
    paths: set[str] = request.app.state.page_paths
    here = request.url.path
    return [
        (path, i18n.gettext(label), here == path or here.startswith(path + "/"))
        for path, label in NAV
        if path in paths
    ]


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
) -> HTMLResponse:
    v = viewer(request)
    flash = request.cookies.get(FLASH_COOKIE)
    with i18n.using(v.lang):
        ctx: dict[str, Any] = {
            "request": request,
            "viewer": v,
            "actor": v.actor,
            "csrf_token": v.csrf,
            "form_key": form_key(),
            "lang": v.lang,
            "languages": i18n.LANGUAGES,
            "nav": nav(request),
            "demo": request.app.state.demo,
            "version": keten.__version__,
            "flash": unquote(flash)[:300] if flash else None,
            "errors": {},
            "values": {},
            "path": request.url.path,
        }
        ctx.update(context or {})
        html = env.get_template(template).render(ctx)
    response = HTMLResponse(html, status_code=status)
    if flash:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def redirect(url: str, message: str | None = None) -> RedirectResponse:
    """303 to a page of this site, with an optional one-time message shown there."""
    if not url.startswith("/") or url.startswith("//"):
        url = "/"
    response = RedirectResponse(url, status_code=303)
    if message:
        response.set_cookie(
            FLASH_COOKIE,
            quote(message[:300]),
            max_age=60,
            path="/",
            httponly=True,
            samesite="strict",
            secure=cookie_secure(),
        )
    return response


def safe_next(url: str | None) -> str:
    """A local path to continue at after sign-in (never another site)."""
    if not url or not url.startswith("/") or url.startswith("//") or "\\" in url:
        return "/register"
    return url


def table_csv(columns: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """CSV text of a result table (comma-separated, exact numbers as text)."""
    import csv
    import io

    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow(["" if c is None else str(c) for c in r])
    return out.getvalue()


def table_xlsx(sheet: str, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> bytes:
    """An Excel workbook of a result table. Numbers stay exact: integers and decimals are written
    as text when a float could not hold them exactly, as numbers otherwise."""
    import io

    import xlsxwriter  # type: ignore[import-untyped]

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet(sheet[:31])
    bold = wb.add_format({"bold": True})
    for j, name in enumerate(columns):
        ws.write_string(0, j, str(name), bold)
    for i, r in enumerate(rows, start=1):
        for j, c in enumerate(r):
            if c is None:
                continue
            if isinstance(c, bool):
                ws.write_boolean(i, j, c)
            elif isinstance(c, int | Decimal) and Decimal(float(c)) == Decimal(c):
                ws.write_number(i, j, float(c))
            else:
                ws.write_string(i, j, str(c))
    wb.close()
    return buf.getvalue()


def download(content: str | bytes, filename: str) -> Response:
    media = (
        "text/csv; charset=utf-8"
        if filename.endswith(".csv")
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        if filename.endswith(".xlsx")
        else "application/octet-stream"
    )
    return Response(
        content,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def export(
    fmt: str, name: str, columns: Sequence[str], rows: Sequence[Sequence[object]]
) -> Response:
    """A result table as ``csv`` or ``xlsx`` download (anything else: 404)."""
    from keten.registry.service import NotFound

    if fmt == "csv":
        return download(table_csv(columns, rows), f"{name}.csv")
    if fmt == "xlsx":
        return download(table_xlsx(name, columns, rows), f"{name}.xlsx")
    raise NotFound(msg("unknown export format %(fmt)s (csv or xlsx)", fmt=repr(fmt)))


Person = Annotated[Actor, Depends(person)]
HolderPerson = Annotated[Actor, Depends(holder_person)]
