"""The start page, the language switch and the health check."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from keten.web import i18n, ui
from keten.web.security import LANG_COOKIE, cookie_secure

router = ui.page_router()
_ = i18n.gettext


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    blurbs = {
        "/register": _(
            "Register Energie voor Vervoer: deliveries, bookings, transfers and the year-end "
            "closing."
        ),
        "/calculators": _(
            "Obligation and booking calculators on the Energie Vervoer rules, no account needed."
        ),
        "/nitrogen": _("Farm ammonia emissions, norms, the buy-out ranking and sector targets."),
        "/mki": _("Environmental cost indicator of civil works, material ceilings, tender award."),
        "/footprint": _("MRIO footprints, carbon leakage, scope 3.1 and PACT data exchange."),
        "/vehicles": _("CO2 standards for new cars and vans, the 2040 target and the ESR."),
    }
    return ui.render(request, "index.html", {"blurbs": blurbs})


@router.post("/language")
def language(
    lang: Annotated[str, Form(max_length=5)], next: Annotated[str, Form(max_length=500)] = "/"
) -> RedirectResponse:
    response = ui.redirect(ui.safe_next(next) if next != "/" else "/")
    if lang in i18n.LANGUAGES:
        response.set_cookie(
            LANG_COOKIE,
            lang,
            max_age=365 * 24 * 3600,
            path="/",
            httponly=True,
            samesite="lax",
            secure=cookie_secure(),
        )
    return response


@router.get("/health", include_in_schema=False)
def health() -> JSONResponse:
    return JSONResponse({"status": "ok"})
