"""The verifier's (verificateur) pages under ``/register/verifier``.

The bookings assigned to this verificateur or not assigned to anyone (``Reads.bookings`` for a
verificateur), each with its details; a booking's page has the form to mark it verified or
rejected with a note (``Registry.verify_booking``; the first verificateur to decide on an
unassigned booking is assigned to it). Only a verificateur may open these pages.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from keten.core.errors import KetenError
from keten.registry import regulator_views as views
from keten.registry.service import Actor, AuthError, NotFound, Reads
from keten.web import i18n, ui
from keten.web.api import RowId

router = ui.page_router()
BASE = "/register/verifier"
Verifier = Annotated[Actor, Depends(ui.roles("verificateur"))]
MAX_NOTE = 2000
DECISIONS = ("verified", "rejected")


_ = i18n.gettext  # the translation, with %(name)s placeholders filled from keyword values


def _reads(request: Request) -> Reads:
    return Reads(ui.registry(request))


@router.get(BASE, response_class=HTMLResponse)
def bookings(request: Request, actor: Verifier, show: str = "open") -> HTMLResponse:
    rows = _reads(request).bookings(actor)
    assigned = views.assigned_verifiers(ui.registry(request), [b["id"] for b in rows])
    for b in rows:
        b["assigned"] = assigned.get(b["id"]) is not None
    if show != "all":
        show = "open"
        rows = [b for b in rows if b["verification"] == "unverified"]
    return ui.render(request, "verifier/bookings.html", {"bookings": rows, "show": show})


def _booking(request: Request, actor: Actor, booking_id: int, **extra: Any) -> dict[str, Any]:
    reg = ui.registry(request)
    b = _reads(request).booking(actor, booking_id)  # 404 when assigned to another verificateur
    return {
        "booking": b,
        "assigned": views.assigned_verifiers(reg, [booking_id]).get(booking_id),
        "history": views.verification_history(reg, booking_id),
        **extra,
    }


@router.get(BASE + "/bookings/{booking_id}", response_class=HTMLResponse)
def booking(request: Request, booking_id: RowId, actor: Verifier) -> HTMLResponse:
    return ui.render(request, "verifier/booking.html", _booking(request, actor, booking_id))


@router.post(BASE + "/bookings/{booking_id}", response_class=HTMLResponse)
def decide(
    request: Request,
    booking_id: RowId,
    actor: Verifier,
    decision: Annotated[str, Form(max_length=20)] = "",
    note: Annotated[str, Form(max_length=10_000)] = "",
    form_key: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    _reads(request).booking(actor, booking_id)
    errors: dict[str, str] = {}
    if decision not in DECISIONS:
        errors["decision"] = _("Choose verified or rejected.")
    text = note.strip()
    if not text:
        errors["note"] = _("Write a note: what you checked and what you found.")
    elif len(text) > MAX_NOTE:
        errors["note"] = _("At most %(n)s characters.", n=MAX_NOTE)
    if not errors:
        try:
            ui.registry(request).verify_booking(
                actor,
                booking_id,
                verified=decision == "verified",
                note=text,
                key=ui.idem(actor, form_key),
            )
        except (AuthError, NotFound):
            raise
        except KetenError as exc:
            errors["_form"] = str(exc).splitlines()[0]
        else:
            message = (
                _("Booking %(id)s is marked verified.", id=booking_id)
                if decision == "verified"
                else _("Booking %(id)s is marked rejected.", id=booking_id)
            )
            return ui.redirect(BASE, message)
    context = _booking(
        request, actor, booking_id, errors=errors, values={"decision": decision, "note": note}
    )
    return ui.render(request, "verifier/booking.html", context, status=422)
