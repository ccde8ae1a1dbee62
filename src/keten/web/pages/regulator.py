"""The regulator's (toezichthouder) pages under ``/register/regulator``.

* ``/register/regulator`` — every holder with its facilities and unit totals; per holder its
  balances by unit type and vintage and its bookings;
* ``/review`` — bookings to review (proposed; approved but not verified), a booking's page with
  the hold form (reason required), the open holds with release (reason required);
* ``/corrections`` — ambtshalve vaststelling: cancel units of a holder with a reason
  (``Registry.correct`` only cancels units: the amount is the number of units taken away);
* ``/closing`` — the year-end closing: preview (``closing.plan``) and run (``closing.run``, once
  per year; afterwards the stored summary with who ran it and when);
* ``/statistics`` — the published statistics per year, quarter or month, chart and table;
* ``/export/{statistics|holders|bookings}/{csv|xlsx}`` — the same tables as downloads;
* ``/audit`` — the audit log, 50 events a page, with the result of ``keten.ledger.verify``.

Only the toezichthouder may open these pages (403 for everyone else; anonymous visitors are sent
to /login). The services check the role again for every write.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Annotated, Any

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from keten.core.errors import KetenError
from keten.core.messages import msg
from keten.ledger.service import LedgerError, Line
from keten.registry import closing
from keten.registry import regulator_views as views
from keten.registry.service import Actor, AuthError, NotFound, Reads
from keten.web import charts, forms, i18n, ui
from keten.web.api import RowId

router = ui.page_router()
BASE = "/register/regulator"
Regulator = Annotated[Actor, Depends(ui.roles("toezichthouder"))]
MAX_REASON = 2000
PERIODS = ("year", "quarter", "month")
STAT_COLUMNS = (
    "period",
    "unit_type",
    "vintage",
    "created",
    "transferred",
    "surrendered",
    "cancelled",
    "banked",
)
STAT_MEASURES = STAT_COLUMNS[3:]
BOOKING_COLUMNS = (
    "id",
    "holder",
    "proof_ref",
    "year",
    "sector",
    "category",
    "fuel",
    "quantity",
    "unit",
    "ghg_intensity",
    "units",
    "status",
    "verification",
)
HOLDER_COLUMNS = (
    "name",
    "can_book",
    "has_obligation",
    "can_transfer",
    "is_service_provider",
    "people",
    "units",
    "held",
    "free",
)


_ = i18n.gettext  # the translation, with %(name)s placeholders filled from keyword values


def _reads(request: Request) -> Reads:
    return Reads(ui.registry(request))


# --------------------------------------------------------------------------- holders


@router.get(BASE, response_class=HTMLResponse)
def holders(request: Request, actor: Regulator) -> HTMLResponse:
    rows = views.holder_totals(ui.registry(request))
    totals = {k: sum(r[k] for r in rows) for k in ("units", "held", "free")}
    return ui.render(request, "regulator/holders.html", {"holders": rows, "totals": totals})


@router.get(BASE + "/holders/{holder_id}", response_class=HTMLResponse)
def holder(request: Request, holder_id: RowId, actor: Regulator) -> HTMLResponse:
    name, balances = views.holder_balances(ui.registry(request), holder_id)
    bookings = [b for b in _reads(request).bookings(actor) if b["holder"] == name]
    return ui.render(
        request,
        "regulator/holder.html",
        {
            "holder_id": holder_id,
            "name": name,
            "balances": balances,
            "totals": {k: sum(r[k] for r in balances) for k in ("amount", "held", "free")},
            "bookings": bookings,
        },
    )


# --------------------------------------------------------------------------- review and holds


def _review(request: Request, actor: Actor, **extra: Any) -> dict[str, Any]:
    reg = ui.registry(request)
    queue = views.review_queue(_reads(request).bookings(actor), views.held_per_lot(reg))
    return {"queue": queue, "holds": views.active_holds(reg), **extra}


@router.get(BASE + "/review", response_class=HTMLResponse)
def review(request: Request, actor: Regulator) -> HTMLResponse:
    return ui.render(request, "regulator/review.html", _review(request, actor))


def _booking(request: Request, actor: Actor, booking_id: int, **extra: Any) -> dict[str, Any]:
    reg = ui.registry(request)
    b = _reads(request).booking(actor, booking_id)
    lot = b["lot_id"]
    return {
        "booking": b,
        "positions": views.lot_positions(reg, lot) if lot else [],
        "holds": views.active_holds(reg, lot) if lot else [],
        "verifications": views.verification_history(reg, booking_id),
        **extra,
    }


@router.get(BASE + "/bookings/{booking_id}", response_class=HTMLResponse)
def booking(request: Request, booking_id: RowId, actor: Regulator) -> HTMLResponse:
    return ui.render(request, "regulator/booking.html", _booking(request, actor, booking_id))


def _reason(text: str, errors: dict[str, str], field: str = "reason") -> str:
    text = text.strip()
    if not text:
        errors[field] = _("Give a reason.")
    elif len(text) > MAX_REASON:
        errors[field] = _("At most %(n)s characters.", n=MAX_REASON)
    return text


@router.post(BASE + "/bookings/{booking_id}/hold", response_class=HTMLResponse)
def hold(
    request: Request,
    booking_id: RowId,
    actor: Regulator,
    reason: Annotated[str, Form(max_length=10_000)] = "",
    form_key: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    _reads(request).booking(actor, booking_id)  # 404 for an unknown booking
    errors: dict[str, str] = {}
    text = _reason(reason, errors)
    if not errors:
        try:
            ids = ui.registry(request).hold_booking(
                actor, booking_id, reason=text, key=ui.idem(actor, form_key)
            )
        except KetenError as exc:
            if isinstance(exc, NotFound):
                raise
            errors["_form"] = str(exc).splitlines()[0]
        else:
            return ui.redirect(
                f"{BASE}/bookings/{booking_id}",
                _(
                    "The units of booking %(id)s are on hold (%(n)s holds).",
                    id=booking_id,
                    n=len(ids),
                ),
            )
    context = _booking(request, actor, booking_id, errors=errors, values={"reason": reason})
    return ui.render(request, "regulator/booking.html", context, status=422)


@router.post(BASE + "/holds/release", response_class=HTMLResponse)
def release(
    request: Request,
    actor: Regulator,
    hold_ids: Annotated[list[str], Form()] = [],  # noqa: B006 (FastAPI copies defaults)
    reason: Annotated[str, Form(max_length=10_000)] = "",
    form_key: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    errors: dict[str, str] = {}
    ids: list[int] = []
    for h in hold_ids:
        if not forms.digits(h) or len(h) > 12:
            errors["hold_ids"] = _("Choose holds from the list.")
            break
        ids.append(int(h))
    if not hold_ids:
        errors["hold_ids"] = _("Choose at least one hold to release.")
    text = _reason(reason, errors)
    if not errors:
        try:
            ui.registry(request).release_holds(
                actor, sorted(set(ids)), reason=text, key=ui.idem(actor, form_key)
            )
        except LedgerError as exc:
            errors["hold_ids"] = str(exc).splitlines()[0]
        else:
            return ui.redirect(f"{BASE}/review", _("Released %(n)s holds.", n=len(set(ids))))
    context = _review(
        request, actor, errors=errors, values={"reason": reason}, chosen=set(hold_ids)
    )
    return ui.render(request, "regulator/review.html", context, status=422)


# --------------------------------------------------------------------------- corrections


def _corrections(request: Request, **extra: Any) -> dict[str, Any]:
    reg = ui.registry(request)
    return {
        "holder_names": [h["name"] for h in views.holder_totals(reg)],
        "unit_types": views.unit_types(reg),
        "corrections": views.corrections(reg),
        **extra,
    }


@router.get(BASE + "/corrections", response_class=HTMLResponse)
def corrections(request: Request, actor: Regulator) -> HTMLResponse:
    return ui.render(request, "regulator/corrections.html", _corrections(request))


def _int(text: str, lo: int, hi: int) -> int | None:
    text = text.strip()
    if not forms.digits(text) or len(text) > 16:
        return None
    n = int(text)
    return n if lo <= n <= hi else None


@router.post(BASE + "/corrections", response_class=HTMLResponse)
def correct(
    request: Request,
    actor: Regulator,
    holder: Annotated[str, Form(max_length=200)] = "",
    unit_type: Annotated[str, Form(max_length=100)] = "",
    vintage: Annotated[str, Form(max_length=20)] = "",
    amount: Annotated[str, Form(max_length=40)] = "",
    reason: Annotated[str, Form(max_length=10_000)] = "",
    form_key: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    context = _corrections(request)
    values = {
        "holder": holder,
        "unit_type": unit_type,
        "vintage": vintage,
        "amount": amount,
        "reason": reason,
    }
    errors: dict[str, str] = {}
    if holder not in context["holder_names"]:
        errors["holder"] = _("Choose a holder from the list.")
    if unit_type not in context["unit_types"]:
        errors["unit_type"] = _("Choose a unit type from the list.")
    year = _int(vintage, 2000, 2100)
    if year is None:
        errors["vintage"] = _("Enter a year between 2000 and 2100.")
    units = _int(amount, 1, 10**15)
    if units is None:
        errors["amount"] = _("Enter a whole number of units, at least 1.")
    text = _reason(reason, errors)
    if not errors:
        assert year is not None and units is not None
        try:
            ui.registry(request).correct(
                actor,
                holder,
                [Line(unit_type, year, units)],
                reason=text,
                key=ui.idem(actor, form_key),
            )
        except LedgerError as exc:
            errors["amount"] = str(exc).splitlines()[0]
        else:
            return ui.redirect(
                f"{BASE}/corrections",
                _("%(n)s units of %(holder)s are cancelled.", n=units, holder=holder),
            )
    context.update(errors=errors, values=values)
    return ui.render(request, "regulator/corrections.html", context, status=422)


# --------------------------------------------------------------------------- closing


def _closing(request: Request, year: int, **extra: Any) -> dict[str, Any]:
    reg = ui.registry(request)
    now = reg.clock()
    years = sorted(set(views.register_years(reg)) | {now.year, now.year - 1, year}, reverse=True)
    record = views.closing_record(reg, year)
    problem = None
    summary: dict[str, Any] = {"holders": []}
    if record is not None:
        summary = record.summary
    else:
        try:
            summary = closing.plan(reg, year).to_dict()
        except KetenError as exc:  # e.g. no parameter values for that year
            problem = str(exc).splitlines()[0]
    rows, totals = views.closing_rows(summary)
    return {
        "year": year,
        "years": years,
        "record": record,
        "problem": problem,
        "parameter_set": summary.get("parameter_set", reg.params.name),
        "rows": rows,
        "totals": totals,
        "year_open": year >= now.year,
        "not_begun": year > now.year,  # EV-30: closing.run refuses it
        **extra,
    }


def _default_year(request: Request) -> int:
    """The newest year with data that is not closed: an ended year first, else this year."""
    reg = ui.registry(request)
    now = reg.clock().year
    open_years = [
        y for y in views.register_years(reg) if y <= now and views.closing_record(reg, y) is None
    ]
    ended = [y for y in open_years if y < now]
    return ended[0] if ended else open_years[0] if open_years else now - 1


@router.get(BASE + "/closing", response_class=HTMLResponse)
def closing_page(request: Request, actor: Regulator, year: str = "") -> HTMLResponse:
    y = _int(year, 2000, 2100) if year else _default_year(request)
    if y is None:
        raise KetenError(_("Enter a year between 2000 and 2100."))
    return ui.render(request, "regulator/closing.html", _closing(request, y))


@router.post(BASE + "/closing", response_class=HTMLResponse)
def closing_run(
    request: Request,
    actor: Regulator,
    year: Annotated[str, Form(max_length=20)] = "",
    confirm: Annotated[str, Form(max_length=10)] = "",
    form_key: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    y = _int(year, 2000, 2100)
    errors: dict[str, str] = {}
    if y is None:
        errors["year"] = _("Enter a year between 2000 and 2100.")
    if confirm != "yes":
        errors["confirm"] = _("Confirm that you checked the preview.")
    if errors:
        shown = y if y is not None else _default_year(request)
        context = _closing(request, shown, errors=errors, values={"year": year})
        return ui.render(request, "regulator/closing.html", context, status=422)
    assert y is not None
    reg = ui.registry(request)
    already = views.closing_record(reg, y) is not None
    try:
        closing.run(reg, actor, y, key=ui.idem(actor, form_key))
    except KetenError as exc:
        if isinstance(exc, AuthError):
            raise
        errors["year"] = str(exc).splitlines()[0]
        context = _closing(request, y, errors=errors, values={"year": year})
        return ui.render(request, "regulator/closing.html", context, status=422)
    message = (
        _("The closing of %(year)s was run before; nothing changed.", year=y)
        if already
        else _("The closing of %(year)s is done.", year=y)
    )
    return ui.redirect(f"{BASE}/closing?year={y}", message)


# --------------------------------------------------------------------------- statistics


def _period(period: str) -> str:
    return period if period in PERIODS else "year"


@router.get(BASE + "/statistics", response_class=HTMLResponse)
def statistics(request: Request, actor: Regulator, period: str = "year") -> HTMLResponse:
    period = _period(period)
    rows = _reads(request).statistics(period)
    per: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(STAT_MEASURES, 0))
    for r in rows:
        for m in STAT_MEASURES:
            per[r["period"]][m] += int(r[m])
    labels = {
        "created": _("created"),
        "transferred": _("transferred"),
        "surrendered": _("surrendered"),
        "cancelled": _("cancelled"),
        "banked": _("banked"),
    }
    periods = sorted(per)
    chart = charts.bar_chart(
        _("Units per period"),
        periods,
        [charts.Series(labels[m], [per[p][m] for p in periods]) for m in STAT_MEASURES],
        unit=_("units"),
    )
    totals = {m: sum(int(r[m]) for r in rows) for m in STAT_MEASURES}
    return ui.render(
        request,
        "regulator/statistics.html",
        {
            "period": period,
            "periods": PERIODS,
            "rows": rows,
            "per_period": [(p, per[p]) for p in periods],
            "measures": STAT_MEASURES,
            "labels": labels,
            "chart": chart,
            "totals": totals,
        },
    )


@router.get(BASE + "/export/{what}/{fmt}")
def export(
    request: Request, what: str, fmt: str, actor: Regulator, period: str = "year"
) -> Response:
    if what == "statistics":
        period = _period(period)
        stats = _reads(request).statistics(period)
        return ui.export(
            fmt,
            f"statistics-{period}",
            STAT_COLUMNS,
            [[r[c] for c in STAT_COLUMNS] for r in stats],
        )
    if what == "holders":
        rows = views.holder_totals(ui.registry(request))
        return ui.export(
            fmt, "holders", HOLDER_COLUMNS, [[r[c] for c in HOLDER_COLUMNS] for r in rows]
        )
    if what == "bookings":
        bookings = _reads(request).bookings(actor)
        return ui.export(
            fmt, "bookings", BOOKING_COLUMNS, [[b[c] for c in BOOKING_COLUMNS] for b in bookings]
        )
    raise NotFound(
        msg("unknown export %(what)s (statistics, holders or bookings)", what=repr(what))
    )


# --------------------------------------------------------------------------- audit log


@router.get(BASE + "/audit", response_class=HTMLResponse)
def audit(
    request: Request, actor: Regulator, page: str = "1", order: str = "newest"
) -> HTMLResponse:
    reg = ui.registry(request)
    number = _int(page, 1, 10**9) or 1
    log = views.audit_page(reg, number, order)
    return ui.render(
        request,
        "regulator/audit.html",
        {"log": log, "problems": views.problems(reg)},
    )
