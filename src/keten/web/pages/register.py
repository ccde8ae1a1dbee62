"""The register for a holder's people (rekeningbevoegde, fiatteur): dashboard, deliveries,
bookings (with the bulk upload of charging sessions), transfers and the year-end closing.

Authorisation is server-side on every page and action: a person sees and acts only for their
own holder (:mod:`keten.registry.holder_views` reads only that holder's rows; another holder's
booking or transfer id answers 404 like an unknown one), the register's services refuse what a
role may not do (403), anonymous visitors are sent to the login page. A verificateur and the
toezichthouder have their own pages (``/register/verifier``, ``/register/regulator``).

Input is checked field by field before anything is written; an upload of deliveries is checked
row by row in full first and registers nothing when one row is bad.
"""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from fastapi import File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from keten.core.errors import InputError, KetenError
from keten.core.messages import Msg, msg
from keten.core.quantity import parse_number, tidy
from keten.core.trace import Trace
from keten.ev.energy import fuel_catalogue
from keten.ev.model import (
    CATEGORIES,
    ELECTRICITY_FUEL,
    MAX_QUANTITY,
    MAX_UNITS,
    QUANTITY_UNITS,
    SECTORS,
)
from keten.ev.model import Delivery as DeliveryRecord
from keten.ev.obligation import obligations, sectors_in
from keten.io.csvfile import check_header
from keten.ledger.service import LedgerError, Line
from keten.registry import holder_views as hv
from keten.registry.service import Actor, AuthError, BookingInput, NotFound, Registry
from keten.registry.sessions import ImportRefused, import_sessions, session_units
from keten.web import charts, forms, i18n, ui
from keten.web.api import RowId
from keten.web.forms import Checked
from keten.web.results import BoundedStore
from keten.web.traces import trace_view

router = ui.page_router()


_ = i18n.gettext  # the translation, with %(name)s placeholders filled from keyword values


DELIVERY_COLUMNS = ("year", "month", "sector", "fuel", "quantity", "unit")
MAX_DELIVERY_UPLOAD = 1_000_000  # bytes
MAX_DELIVERY_ROWS = 5_000
MAX_SESSION_UPLOAD = 512 * 1024 * 1024  # bytes, as the API
SHOWN_ERRORS = 20  # rows of a refused file shown on the page (all are in the report)
TRANSFER_LINES = 4


# ----------------------------------------------------------------------------- labels


def subnav(path: str) -> list[tuple[str, str, bool]]:
    items = [
        ("/register", _("Dashboard")),
        ("/register/deliveries", _("Deliveries")),
        ("/register/bookings", _("Bookings")),
        ("/register/transfers", _("Transfers")),
        ("/register/year-end", _("Year-end")),
    ]
    return [
        (href, label, path == href or (href != "/register" and path.startswith(href + "/")))
        for href, label in items
    ]


def status_labels() -> dict[str, str]:
    return {
        "proposed": _("proposed"),
        "approved": _("approved"),
        "rejected": _("rejected"),
        "withdrawn": _("withdrawn"),
        "unverified": _("unverified"),
        "verified": _("verified"),
    }


def deadline_labels() -> dict[str, str]:
    return {
        "deliveries": _("Registration of deliveries"),
        "bookings": _("Bookings (inboekingen)"),
        "verification": _("Verification of bookings"),
        "surrender": _("Surrender at the year-end closing"),
    }


def month_options() -> list[tuple[str, str]]:
    return [(str(m), f"{m:02d}") for m in range(1, 13)]


# ----------------------------------------------------------------------------- common


def _reg(request: Request) -> Registry:
    return ui.registry(request)


def _holder(request: Request, actor: Actor) -> hv.HolderFacts:
    return hv.holder_of(_reg(request), actor)


def _page(
    request: Request, holder: hv.HolderFacts, template: str, context: dict[str, Any], status: int
) -> HTMLResponse:
    ctx = {
        "holder": holder,
        "subnav": subnav(request.url.path),
        "labels": status_labels(),
        **context,
    }
    return ui.render(request, template, ctx, status=status)


def _status(exc: KetenError) -> int:
    if isinstance(exc, AuthError):
        return 403
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, LedgerError):
        return 409
    return 422


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _number(raw: str, c: Checked, name: str, *, empty: str) -> Decimal | None:
    if not raw:
        c.errors[name] = empty
        return None
    try:
        return parse_number(raw)
    except ValueError:
        c.errors[name] = _("Enter a number with at most six decimals, e.g. 1000000 or 2,5.")
        return None


def _year(reg: Registry, raw: str, c: Checked, name: str = "year") -> int:
    allowed = hv.open_years(reg)
    if forms.digits(raw) and int(raw) in allowed:
        return int(raw)
    c.errors[name] = (
        _("Registration is open for: %(years)s.", years=", ".join(str(y) for y in allowed))
        if allowed
        else _("Registration is not open for any year now.")
    )
    return 0


def _quantity(raw: str, c: Checked) -> Decimal | None:
    q = _number(raw, c, "quantity", empty=_("Enter a quantity."))
    if q is None:
        return None
    if q <= 0:
        c.errors["quantity"] = _("The quantity must be more than zero.")
        return None
    if q >= MAX_QUANTITY:
        c.errors["quantity"] = _("The quantity is implausibly large (limit 10^12).")
        return None
    return q


def _fuel_unit(reg: Registry, fuel: str, unit: str, c: Checked) -> None:
    catalogue = fuel_catalogue(reg.params)
    if fuel not in catalogue:
        c.errors["fuel"] = _("Unknown fuel %(fuel)s; choose one from the list.", fuel=repr(fuel))
    elif unit not in catalogue[fuel]:
        c.errors["unit"] = _(
            "Fuel %(fuel)s is given in %(units)s.", fuel=fuel, units=", ".join(catalogue[fuel])
        )


def _sector(reg: Registry, sector: str, year: int, c: Checked) -> None:
    if sector not in SECTORS:
        c.errors["sector"] = _("Choose one of the sectors in the list.")
    elif year and sector not in sectors_in(reg.params, year):
        c.errors["sector"] = _(
            "The parameter set has no obligation table for %(sector)s in %(year)s.",
            sector=sector,
            year=year,
        )


@dataclass(frozen=True)
class DeliveryIn:
    year: int
    month: int
    sector: str
    fuel: str
    quantity: Decimal
    unit: str


def check_delivery(reg: Registry, cells: dict[str, str]) -> tuple[DeliveryIn | None, Checked]:
    """One delivery (form or file row) checked field by field, then by the obligation rule
    itself (a value the parameter set marks unknown, EV-10)."""
    c = Checked({}, {k: cells.get(k, "").strip() for k in DELIVERY_COLUMNS})
    v = c.values
    year = _year(reg, v["year"], c)
    month = int(v["month"]) if forms.digits(v["month"]) else 0
    if not 1 <= month <= 12:
        c.errors["month"] = _("Choose a month from 1 to 12.")
    _sector(reg, v["sector"], year, c)
    _fuel_unit(reg, v["fuel"], v["unit"], c)
    qty = _quantity(v["quantity"], c)
    if c.errors or qty is None:
        return None, c
    try:
        obligations(
            [DeliveryRecord("check", v["sector"], v["fuel"], qty, v["unit"])], year, reg.params
        )
    except KetenError as exc:
        c.errors["_form"] = _first_line(exc)
        return None, c
    return DeliveryIn(year, month, v["sector"], v["fuel"], qty, v["unit"]), c


def _fuel_options(reg: Registry) -> list[tuple[str, str]]:
    return [(f, f) for f in sorted(fuel_catalogue(reg.params))]


def _form_options(reg: Registry) -> dict[str, Any]:
    years = hv.open_years(reg)
    year = years[0] if years else reg.clock().year
    return {
        "year_options": [(str(y), str(y)) for y in years],
        "month_options": month_options(),
        "sector_options": [(s, s) for s in sectors_in(reg.params, year)],
        "fuel_options": _fuel_options(reg),
        "unit_options": [(u, u) for u in QUANTITY_UNITS],
        "category_options": [(k, k) for k in CATEGORIES],
    }


# ----------------------------------------------------------------------------- dashboard


@router.get("/register", response_class=HTMLResponse)
def dashboard(request: Request, actor: ui.Person) -> Response:
    if actor.role == "verificateur":
        return ui.redirect("/register/verifier")
    if actor.role == "toezichthouder":
        return ui.redirect("/register/regulator")
    reg = _reg(request)
    holder = _holder(request, actor)
    year = reg.clock().year
    balances = hv.balance_rows(reg, holder)
    obs = reg.indicative_obligation(holder.name, year) if holder.has_obligation else []
    usable = hv.usable_by_sector(balances, year)
    sectors = [o.sector for o in obs] + [
        s for s in SECTORS if s in usable and s not in {o.sector for o in obs}
    ]
    by_sector = {o.sector: o for o in obs}
    rows: list[dict[str, Any]] = [
        {
            "sector": s,
            "base_mj": tidy(by_sector[s].base_mj) if s in by_sector else None,
            "total": by_sector[s].row("total") if s in by_sector else 0,
            "sector_specific": by_sector[s].rows["sector_specific"] if s in by_sector else None,
            "vrije_ruimte": by_sector[s].rows["vrije_ruimte"] if s in by_sector else None,
            "held": usable.get(s, 0),
        }
        for s in sectors
    ]
    chart = (
        charts.bar_chart(
            _("Indicative obligation %(year)s and units held, per sector", year=year),
            sectors,
            [
                charts.Series(_("Indicative obligation"), [r["total"] for r in rows]),
                charts.Series(_("Units held (booked in the sector)"), [r["held"] for r in rows]),
            ],
            unit=_("units"),
        )
        if rows
        else None
    )
    totals = {
        "amount": sum(b["amount"] for b in balances),
        "held": sum(b["held"] for b in balances),
        "free": sum(b["free"] for b in balances),
        "obligation": sum(r["total"] for r in rows),
        "usable": sum(usable.values()),
    }
    bookings = hv.booking_rows(reg, holder)
    transfers = hv.transfer_rows(reg, holder)
    pending = {
        "bookings": sum(1 for b in bookings if b["status"] == "proposed"),
        "transfers": sum(1 for t in transfers if t["outgoing"] and t["status"] == "proposed"),
    }
    return _page(
        request,
        holder,
        "register/dashboard.html",
        {
            "year": year,
            "balances": balances,
            "rows": rows,
            "chart": chart,
            "totals": totals,
            "deadlines": hv.deadlines(reg, year),
            "deadline_labels": deadline_labels(),
            "today": reg.clock(),
            "pending": pending,
            "closings": hv.closing_results(reg, holder),
        },
        200,
    )


# ----------------------------------------------------------------------------- deliveries


def _deliveries_page(
    request: Request,
    actor: Actor,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    upload_errors: list[dict[str, Any]] | None = None,
    upload_rows: int = 0,
    status: int = 200,
) -> HTMLResponse:
    reg = _reg(request)
    holder = _holder(request, actor)
    years = hv.open_years(reg)
    return _page(
        request,
        holder,
        "register/deliveries.html",
        {
            **_form_options(reg),
            "deliveries": hv.delivery_rows(reg, holder),
            "errors": errors or {},
            "values": values or ({"year": str(years[0])} if years else {}),
            "upload_errors": upload_errors or [],
            "upload_rows": upload_rows,
            "columns": ",".join(DELIVERY_COLUMNS),
            "max_rows": MAX_DELIVERY_ROWS,
        },
        status,
    )


@router.get("/register/deliveries", response_class=HTMLResponse)
def deliveries(request: Request, actor: ui.HolderPerson) -> HTMLResponse:
    return _deliveries_page(request, actor)


def _needs_obligation(holder: hv.HolderFacts) -> None:
    if not holder.has_obligation:
        raise AuthError(
            msg("holder %(holder)s has no obligation facility", holder=repr(holder.name))
        )


@router.post("/register/deliveries", response_class=HTMLResponse)
def register_delivery(
    request: Request,
    actor: ui.HolderPerson,
    year: Annotated[str, Form(max_length=10)] = "",
    month: Annotated[str, Form(max_length=10)] = "",
    sector: Annotated[str, Form(max_length=50)] = "",
    fuel: Annotated[str, Form(max_length=50)] = "",
    quantity: Annotated[str, Form(max_length=40)] = "",
    unit: Annotated[str, Form(max_length=10)] = "",
    form_key: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    reg = _reg(request)
    _needs_obligation(_holder(request, actor))
    cells = {"year": year, "month": month, "sector": sector, "fuel": fuel}
    cells |= {"quantity": quantity, "unit": unit}
    d, c = check_delivery(reg, cells)
    if d is not None:
        try:
            reg.register_delivery(
                actor,
                d.year,
                d.month,
                d.sector,
                d.fuel,
                str(d.quantity),
                d.unit,
                key=ui.idem(actor, form_key),
            )
        except KetenError as exc:
            if isinstance(exc, AuthError | NotFound):
                raise
            c.errors["_form"] = _first_line(exc)
    if c.errors:
        return _deliveries_page(request, actor, errors=c.errors, values=c.values, status=422)
    return ui.redirect(
        "/register/deliveries",
        _(
            "Delivery registered: %(sector)s, %(fuel)s, %(month)02d-%(year)s.",
            sector=d.sector if d else "",
            fuel=d.fuel if d else "",
            month=d.month if d else 0,
            year=d.year if d else 0,
        ),
    )


def read_delivery_csv(data: bytes) -> tuple[list[dict[str, str]], str | None]:
    """The rows of a deliveries file (header ``year,month,sector,fuel,quantity,unit``), or why
    the file as a whole cannot be read."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], _("The file is not UTF-8 text.")
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is not None:
        try:  # the header check of every file reader (it names a file separated by semicolons)
            check_header("", [h.strip() for h in header], DELIVERY_COLUMNS)
        except InputError as exc:
            return [], exc.reason
    if header is None or [h.strip() for h in header] != list(DELIVERY_COLUMNS):
        return [], _(
            "The first line must be exactly: %(columns)s.", columns=",".join(DELIVERY_COLUMNS)
        )
    rows = []
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(DELIVERY_COLUMNS):
            rows.append({"_cells": str(len(cells))})
        else:
            rows.append(dict(zip(DELIVERY_COLUMNS, cells, strict=True)))
        if len(rows) > MAX_DELIVERY_ROWS:
            return [], _("A file has at most %(n)s deliveries.", n=MAX_DELIVERY_ROWS)
    if not rows:
        return [], _("The file has no deliveries.")
    return rows, None


@router.post("/register/deliveries/upload", response_class=HTMLResponse)
def upload_deliveries(
    request: Request,
    actor: ui.HolderPerson,
    file: Annotated[UploadFile | None, File()] = None,
    form_key: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """All or nothing: every row is checked first; one bad row registers nothing. Each row is
    then registered with its own idempotency key (the upload's form key and the row number), so
    sending the same upload again applies no row twice."""
    reg = _reg(request)
    _needs_obligation(_holder(request, actor))
    if file is None or not file.filename:
        return _deliveries_page(
            request, actor, errors={"file": _("Choose a CSV file.")}, status=422
        )
    data = file.file.read(MAX_DELIVERY_UPLOAD + 1)
    if len(data) > MAX_DELIVERY_UPLOAD:
        return _deliveries_page(
            request,
            actor,
            errors={"file": _("The file is larger than %(n)s bytes.", n=MAX_DELIVERY_UPLOAD)},
            status=422,
        )
    rows, problem = read_delivery_csv(data)
    if problem:
        return _deliveries_page(request, actor, errors={"file": problem}, status=422)
    checked: list[DeliveryIn] = []
    bad: list[dict[str, Any]] = []
    for n, cells in enumerate(rows, start=1):
        if "_cells" in cells:
            bad.append(
                {
                    "row": n,
                    "field": "",
                    "error": _(
                        "%(n)s cells; a row has %(m)s.", n=cells["_cells"], m=len(DELIVERY_COLUMNS)
                    ),
                }
            )
            continue
        d, c = check_delivery(reg, cells)
        if d is None:
            bad += [{"row": n, "field": f.lstrip("_"), "error": e} for f, e in c.errors.items()]
        else:
            checked.append(d)
    if bad:
        return _deliveries_page(
            request,
            actor,
            errors={
                "file": _(
                    "%(bad)s of %(n)s rows refused; nothing was registered.",
                    bad=len({b["row"] for b in bad}),
                    n=len(rows),
                )
            },
            upload_errors=bad,
            upload_rows=len(rows),
            status=422,
        )
    base = ui.idem(actor, form_key)
    done = 0
    for n, d in enumerate(checked, start=1):
        try:
            reg.register_delivery(
                actor,
                d.year,
                d.month,
                d.sector,
                d.fuel,
                str(d.quantity),
                d.unit,
                key=f"{base}:row{n}",
            )
        except KetenError as exc:
            if isinstance(exc, AuthError | NotFound):
                raise
            return _deliveries_page(
                request,
                actor,
                errors={
                    "file": _(
                        "Row %(row)s was refused by the register (%(why)s); rows 1 to %(done)s "
                        "were registered.",
                        row=n,
                        why=_first_line(exc),
                        done=done,
                    )
                },
                status=_status(exc),
            )
        done += 1
    return ui.redirect("/register/deliveries", _("%(n)s deliveries registered.", n=done))


# ----------------------------------------------------------------------------- bookings


def _bookings_page(
    request: Request,
    actor: Actor,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    reg = _reg(request)
    holder = _holder(request, actor)
    years = hv.open_years(reg)
    return _page(
        request,
        holder,
        "register/bookings.html",
        {
            **_form_options(reg),
            "bookings": hv.booking_rows(reg, holder),
            "errors": errors or {},
            "values": values or ({"year": str(years[0])} if years else {}),
        },
        status,
    )


@router.get("/register/bookings", response_class=HTMLResponse)
def bookings(request: Request, actor: ui.HolderPerson) -> HTMLResponse:
    return _bookings_page(request, actor)


def _booking_field(message: str) -> str:
    """The form field a refusal of the booking rule is about (from its English words)."""
    low = message.lower()
    for name in ("ghg_intensity", "category", "proof", "quantity", "unit", "fuel", "sector"):
        if name in low:
            return "proof_ref" if name == "proof" else name
    if "rfnbo" in low or "comparator" in low:
        return "ghg_intensity"
    return "_form"


def check_booking(reg: Registry, cells: dict[str, str]) -> tuple[BookingInput | None, Checked]:
    names = ("proof_ref", "year", "sector", "category", "fuel", "quantity", "unit")
    c = Checked({}, {k: cells.get(k, "").strip() for k in (*names, "ghg_intensity")})
    v = c.values
    if not v["proof_ref"]:
        c.errors["proof_ref"] = _("Enter the reference of the sustainability proof (PoS/UDB).")
    year = _year(reg, v["year"], c)
    _sector(reg, v["sector"], year, c)
    if v["category"] not in CATEGORIES:
        c.errors["category"] = _("Choose one of the categories in the list.")
    _fuel_unit(reg, v["fuel"], v["unit"], c)
    _quantity(v["quantity"], c)
    if v["fuel"] == ELECTRICITY_FUEL:
        if v["ghg_intensity"]:
            c.errors["ghg_intensity"] = _(
                "Leave empty for electricity: the grid renewable share applies."
            )
    elif v["fuel"]:
        empty = _("Enter the GHG intensity (gCO2e/MJ).")
        _number(v["ghg_intensity"], c, "ghg_intensity", empty=empty)
    if c.errors:
        return None, c
    b = BookingInput(
        v["proof_ref"],
        year,
        v["sector"],
        v["category"],
        v["fuel"],
        v["quantity"],
        v["unit"],
        v["ghg_intensity"] or None,
    )
    try:
        reg.units_of(b)
    except KetenError as exc:
        c.errors[_booking_field(exc.english())] = _first_line(exc)
        return None, c
    return b, c


@router.post("/register/bookings", response_class=HTMLResponse)
def propose_booking(
    request: Request,
    actor: ui.HolderPerson,
    proof_ref: Annotated[str, Form(max_length=200)] = "",
    year: Annotated[str, Form(max_length=10)] = "",
    sector: Annotated[str, Form(max_length=50)] = "",
    category: Annotated[str, Form(max_length=50)] = "",
    fuel: Annotated[str, Form(max_length=50)] = "",
    quantity: Annotated[str, Form(max_length=40)] = "",
    unit: Annotated[str, Form(max_length=10)] = "",
    ghg_intensity: Annotated[str, Form(max_length=40)] = "",
    form_key: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    reg = _reg(request)
    holder = _holder(request, actor)
    if not holder.can_book:
        raise AuthError(msg("holder %(holder)s has no booking facility", holder=repr(holder.name)))
    cells = {"proof_ref": proof_ref, "year": year, "sector": sector, "category": category}
    cells |= {"fuel": fuel, "quantity": quantity, "unit": unit, "ghg_intensity": ghg_intensity}
    b, c = check_booking(reg, cells)
    booking_id = 0
    if b is not None:
        try:
            booking_id = reg.propose_booking(actor, b, key=ui.idem(actor, form_key))
        except KetenError as exc:
            if isinstance(exc, AuthError | NotFound):
                raise
            c.errors[_booking_field(exc.english())] = _first_line(exc)
    if c.errors:
        return _bookings_page(request, actor, errors=c.errors, values=c.values, status=422)
    return ui.redirect(
        f"/register/bookings/{booking_id}",
        _("Booking proposed; a fiatteur of your holder approves it (four eyes)."),
    )


# --- bulk upload of charging sessions (declared before /register/bookings/{id})


REPORTS: BoundedStore[bytes] = BoundedStore(
    max_items=32,
    max_bytes=64 * 1024 * 1024,
    size=len,
    missing=lambda: "unknown or expired error report",
)
"""Refused upload reports (CSV) of this process: at most 32 reports and 64 MiB in all (the
oldest go first), each readable only by the user who uploaded the file."""


def report_csv(report: list[dict[str, Any]]) -> bytes:
    return ui.table_csv(
        ("row", "field", "error"), [(r["row"], r["field"], r["error"]) for r in report]
    ).encode()


def _upload_page(
    request: Request,
    actor: Actor,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    refused: dict[str, Any] | None = None,
    status: int = 200,
) -> HTMLResponse:
    reg = _reg(request)
    holder = _holder(request, actor)
    years = hv.open_years(reg)
    return _page(
        request,
        holder,
        "register/upload.html",
        {
            "year_options": [(str(y), str(y)) for y in years],
            "errors": errors or {},
            "values": values or ({"year": str(years[0])} if years else {}),
            "refused": refused,
            "max_mb": MAX_SESSION_UPLOAD // (1024 * 1024),
        },
        status,
    )


@router.get("/register/bookings/upload", response_class=HTMLResponse)
def upload_form(request: Request, actor: ui.HolderPerson) -> HTMLResponse:
    return _upload_page(request, actor)


@router.post("/register/bookings/upload", response_class=HTMLResponse)
def upload_sessions(
    request: Request,
    actor: ui.HolderPerson,
    proof_ref: Annotated[str, Form(max_length=200)] = "",
    year: Annotated[str, Form(max_length=10)] = "",
    file: Annotated[UploadFile | None, File()] = None,
    form_key: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    reg = _reg(request)
    holder = _holder(request, actor)
    if not holder.can_book:
        raise AuthError(msg("holder %(holder)s has no booking facility", holder=repr(holder.name)))
    if not holder.is_service_provider:  # refused before the file is copied and read
        raise AuthError(msg("charging sessions are imported only by an inboekdienstverlener"))
    c = Checked({}, {"proof_ref": proof_ref.strip(), "year": year.strip()})
    if not c.values["proof_ref"]:
        c.errors["proof_ref"] = _("Enter the reference of the sustainability proof (PoS/UDB).")
    y = _year(reg, c.values["year"], c)
    name = file.filename if file is not None and file.filename else ""
    if not name:
        c.errors["file"] = _("Choose a CSV or Parquet file.")
    if c.errors or file is None:
        return _upload_page(request, actor, errors=c.errors, values=c.values, status=422)
    suffix = ".parquet" if name.lower().endswith(".parquet") else ".csv"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"sessions{suffix}"
        with path.open("wb") as out:
            shutil.copyfileobj(file.file, out, 1 << 20)
        if path.stat().st_size > MAX_SESSION_UPLOAD:
            c.errors["file"] = _("The file is larger than %(n)s bytes.", n=MAX_SESSION_UPLOAD)
            return _upload_page(request, actor, errors=c.errors, values=c.values, status=422)
        try:
            booking_id = import_sessions(
                reg,
                actor,
                path,
                proof_ref=c.values["proof_ref"],
                year=y,
                key=ui.idem(actor, form_key),
            )
        except ImportRefused as exc:
            rid = REPORTS.put(str(actor.user_id), report_csv(exc.report))
            refused = {
                "count": len(exc.report),
                "rows": [  # the errors in the page's language; the CSV report stays English
                    r | {"error": str(m)}
                    for r, m in zip(
                        exc.report[:SHOWN_ERRORS], exc.messages[:SHOWN_ERRORS], strict=True
                    )
                ],
                "report_id": rid,
                "file": name,
            }
            return _upload_page(request, actor, values=c.values, refused=refused, status=422)
        except InputError as exc:
            c.errors["file"] = _first_line(exc).replace(str(path), name)
            return _upload_page(request, actor, errors=c.errors, values=c.values, status=422)
        except KetenError as exc:
            if isinstance(exc, AuthError | NotFound):
                raise
            field = "proof_ref" if "proof" in exc.english() else "_form"
            c.errors[field] = _first_line(exc).replace(str(path), name)
            return _upload_page(request, actor, errors=c.errors, values=c.values, status=422)
    return ui.redirect(
        f"/register/bookings/{booking_id}",
        _("The file is accepted as one proposed booking; a fiatteur approves it (four eyes)."),
    )


@router.get("/register/bookings/upload/report/{report_id}")
def upload_report(report_id: str, actor: ui.HolderPerson) -> Response:
    return ui.download(REPORTS.get(str(actor.user_id), report_id[:100]), "session-errors.csv")


# --- one booking


def _booking_page(
    request: Request,
    actor: Actor,
    booking_id: int,
    *,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    reg = _reg(request)
    holder = _holder(request, actor)
    b = hv.booking_row(reg, holder, booking_id)
    trace = Trace(reg.params)
    sessions = hv.session_totals(reg, holder, booking_id)
    if sessions is not None:
        units = session_units(sessions, b["year"], trace)
    else:
        units, trace = reg.units_of(
            BookingInput(
                b["proof_ref"],
                b["year"],
                b["sector"],
                b["category"],
                b["fuel"],
                b["quantity"],
                b["unit"],
                b["ghg_intensity"],
            )
        )
    return _page(
        request,
        holder,
        "register/booking.html",
        {
            "b": b,
            "units": units,
            "trace": trace_view(trace),
            "sessions": sessions,
            "can_decide": b["status"] == "proposed"
            and actor.role == "fiatteur"
            and actor.user_id != b["proposed_by_id"],
            "is_proposer": actor.user_id == b["proposed_by_id"],
            "errors": errors or {},
        },
        status,
    )


@router.get("/register/bookings/{booking_id:int}", response_class=HTMLResponse)
def booking(request: Request, booking_id: RowId, actor: ui.HolderPerson) -> HTMLResponse:
    return _booking_page(request, actor, booking_id)


# ----------------------------------------------------------------------------- transfers


def _transfers_page(
    request: Request,
    actor: Actor,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
) -> HTMLResponse:
    reg = _reg(request)
    holder = _holder(request, actor)
    balances = hv.balance_rows(reg, holder)
    types = sorted({b["unit_type"] for b in balances})
    vals = values or {}
    lines = vals.get("lines") or [
        {"unit_type": "", "vintage": "", "amount": ""} for _ in range(TRANSFER_LINES)
    ]
    return _page(
        request,
        holder,
        "register/transfers.html",
        {
            "transfers": hv.transfer_rows(reg, holder),
            "balances": balances,
            "holder_options": [("", "—")] + [(n, n) for n in hv.other_holders(reg, holder)],
            "type_options": [("", "—")] + [(t, t) for t in types],
            "lines": lines,
            "errors": errors or {},
            "values": {"to_holder": vals.get("to_holder", "")},
            "me": actor,
        },
        status,
    )


@router.get("/register/transfers", response_class=HTMLResponse)
def transfers(request: Request, actor: ui.HolderPerson) -> HTMLResponse:
    return _transfers_page(request, actor)


@router.post("/register/transfers", response_class=HTMLResponse)
def propose_transfer(
    request: Request,
    actor: ui.HolderPerson,
    to_holder: Annotated[str, Form(max_length=200)] = "",
    unit_type: Annotated[list[str] | None, Form()] = None,
    vintage: Annotated[list[str] | None, Form()] = None,
    amount: Annotated[list[str] | None, Form()] = None,
    form_key: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    reg = _reg(request)
    holder = _holder(request, actor)
    types, vintages, amounts = unit_type or [], vintage or [], amount or []
    n = max(len(types), len(vintages), len(amounts))
    if n > 50:
        raise KetenError(msg("a transfer has at most 50 lines"))
    raw = [
        {
            "unit_type": (types[i] if i < len(types) else "").strip()[:100],
            "vintage": (vintages[i] if i < len(vintages) else "").strip()[:10],
            "amount": (amounts[i] if i < len(amounts) else "").strip()[:20],
        }
        for i in range(n)
    ]
    errors: dict[str, str] = {}
    others = hv.other_holders(reg, holder)
    if to_holder not in others:
        errors["to_holder"] = _("Choose the holder the units go to.")
    free: dict[tuple[str, int], int] = {}
    for b in hv.balance_rows(reg, holder):
        free[(b["unit_type"], b["vintage"])] = b["free"]
    lines: list[Line] = []
    wanted: dict[tuple[str, int], int] = {}
    for i, ln in enumerate(raw, start=1):
        if not any(ln.values()):
            continue
        if ln["unit_type"] not in {t for t, _v in free}:
            errors[f"line{i}_unit_type"] = _("Choose a unit type your holder has.")
            continue
        if not forms.digits(ln["vintage"]):
            errors[f"line{i}_vintage"] = _("Enter the vintage year, e.g. 2026.")
            continue
        if not forms.digits(ln["amount"]) or not 0 < int(ln["amount"]) <= MAX_UNITS:
            errors[f"line{i}_amount"] = _("Enter a whole number of units, more than zero.")
            continue
        key = (ln["unit_type"], int(ln["vintage"]))
        wanted[key] = wanted.get(key, 0) + int(ln["amount"])
        if wanted[key] > free.get(key, 0):
            errors[f"line{i}_amount"] = _(
                "Your holder has %(n)s free units of this type and vintage.", n=free.get(key, 0)
            )
            continue
        lines.append(Line(key[0], key[1], int(ln["amount"])))
    if not lines and not errors:
        errors["line1_unit_type"] = _("Enter at least one line.")
    if not errors:
        try:
            tid = reg.propose_transfer(actor, to_holder, lines, key=ui.idem(actor, form_key))
        except KetenError as exc:
            if isinstance(exc, AuthError):
                raise
            errors["_form"] = _first_line(exc)
    if errors:
        while len(raw) < TRANSFER_LINES:
            raw.append({"unit_type": "", "vintage": "", "amount": ""})
        return _transfers_page(
            request,
            actor,
            errors=errors,
            values={"to_holder": to_holder, "lines": raw},
            status=422,
        )
    return ui.redirect(
        "/register/transfers",
        _(
            "Transfer %(id)s proposed; a fiatteur of your holder approves it (four eyes).",
            id=tid,
        ),
    )


# ----------------------------------------------------------------------------- decisions


@dataclass(frozen=True)
class Proposal:
    """A kind of proposal that a fiatteur of the holder approves or rejects (four eyes) and its
    proposer may withdraw: what differs between a booking and a transfer."""

    noun: str  # in the route names
    path: str  # /register/<path>/<id>/...
    row: Callable[[Registry, hv.HolderFacts, int], dict[str, Any]]  # NotFound if not the holder's
    decide: Callable[[Registry, Actor, int, bool, str, str], None]
    withdraw: Callable[[Registry, Actor, int, str], None]
    page: Callable[[Request, Actor, int, dict[str, str], int], HTMLResponse]  # shows the errors
    decision_field: str  # where "Choose approve or reject." is shown
    refused: Callable[[int, str], str]  # the form error for a service's refusal
    approved: Callable[[int], str]
    rejected: Callable[[int], str]
    withdrawn: Callable[[int], str]
    not_yours: Msg  # the refusal of a withdrawal by someone else than the proposer
    back: Callable[[int], str]  # where a done action leads

    def refusal(self, request: Request, actor: Actor, item_id: int, exc: KetenError) -> Response:
        """The page again with the service's refusal for the whole form."""
        errors = {"_form": self.refused(item_id, _first_line(exc))}
        return self.page(request, actor, item_id, errors, _status(exc))


BOOKING = Proposal(
    noun="booking",
    path="bookings",
    row=hv.booking_row,
    decide=lambda reg, actor, i, approve, note, key: reg.decide_booking(
        actor, i, approve=approve, note=note, key=key
    ),
    withdraw=lambda reg, actor, i, key: reg.withdraw_booking(actor, i, key=key),
    page=lambda request, actor, i, errors, status: _booking_page(
        request, actor, i, errors=errors, status=status
    ),
    decision_field="decision",
    refused=lambda _i, why: why,
    approved=lambda _i: _("Booking approved: the units are on your account."),
    rejected=lambda _i: _("Booking rejected."),
    withdrawn=lambda _i: _("Booking withdrawn."),
    not_yours=msg("only the person who proposed a booking can withdraw it"),
    back=lambda i: f"/register/bookings/{i}",
)

TRANSFER = Proposal(
    noun="transfer",
    path="transfers",
    row=hv.transfer_row,
    decide=lambda reg, actor, i, approve, note, key: reg.decide_transfer(
        actor, i, approve=approve, note=note, key=key
    ),
    withdraw=lambda reg, actor, i, key: reg.withdraw_transfer(actor, i, key=key),
    page=lambda request, actor, _i, errors, status: _transfers_page(
        request, actor, errors=errors, status=status
    ),
    decision_field="_form",
    refused=lambda i, why: _("Transfer %(id)s: %(why)s", id=i, why=why),
    approved=lambda i: _("Transfer %(id)s approved: the units have moved.", id=i),
    rejected=lambda i: _("Transfer %(id)s rejected.", id=i),
    withdrawn=lambda i: _("Transfer %(id)s withdrawn.", id=i),
    not_yours=msg("only the person who proposed a transfer can withdraw it"),
    back=lambda _i: "/register/transfers",
)


def add_decision_routes(kind: Proposal) -> None:
    """``POST /register/<kind>/<id>/decision`` (approve or reject) and ``.../withdraw``."""

    @router.post(
        f"/register/{kind.path}/{{item_id:int}}/decision",
        response_class=HTMLResponse,
        name=f"decide_{kind.noun}",
    )
    def decide(
        request: Request,
        item_id: RowId,
        actor: ui.HolderPerson,
        decision: Annotated[str, Form(max_length=10)] = "",
        note: Annotated[str, Form(max_length=2000)] = "",
        form_key: Annotated[str, Form(max_length=100)] = "",
    ) -> Response:
        reg = _reg(request)
        kind.row(reg, _holder(request, actor), item_id)  # 404 for another holder's
        if decision not in ("approve", "reject"):
            errors = {kind.decision_field: _("Choose approve or reject.")}
            return kind.page(request, actor, item_id, errors, 422)
        approve = decision == "approve"
        try:
            kind.decide(reg, actor, item_id, approve, note.strip(), ui.idem(actor, form_key))
        except KetenError as exc:
            return kind.refusal(request, actor, item_id, exc)
        done = kind.approved if approve else kind.rejected
        return ui.redirect(kind.back(item_id), done(item_id))

    @router.post(
        f"/register/{kind.path}/{{item_id:int}}/withdraw",
        response_class=HTMLResponse,
        name=f"withdraw_{kind.noun}",
    )
    def withdraw(
        request: Request,
        item_id: RowId,
        actor: ui.HolderPerson,
        form_key: Annotated[str, Form(max_length=100)] = "",
    ) -> Response:
        reg = _reg(request)
        row = kind.row(reg, _holder(request, actor), item_id)
        if row["proposed_by_id"] != actor.user_id:
            raise AuthError(kind.not_yours)
        try:
            kind.withdraw(reg, actor, item_id, ui.idem(actor, form_key))
        except KetenError as exc:
            return kind.refusal(request, actor, item_id, exc)
        return ui.redirect(kind.back(item_id), kind.withdrawn(item_id))


add_decision_routes(BOOKING)
add_decision_routes(TRANSFER)


# ----------------------------------------------------------------------------- year-end


@router.get("/register/year-end", response_class=HTMLResponse)
def year_end(request: Request, actor: ui.HolderPerson, year: str | None = None) -> HTMLResponse:
    reg = _reg(request)
    holder = _holder(request, actor)
    covered = hv.covered_years(reg.params)
    now = reg.clock().year
    default = now if now in covered else (covered[-1] if covered else now)
    raw = (year or str(default)).strip()[:10]
    errors: dict[str, str] = {}
    if not forms.digits(raw) or int(raw) not in covered:
        errors["year"] = _(
            "Choose a year the parameter set covers: %(years)s.",
            years=", ".join(str(y) for y in covered),
        )
        chosen = default
    else:
        chosen = int(raw)
    view = hv.year_end(reg, holder, chosen)
    share = view.parameters["ev.register.banking_share"]
    minimum = view.parameters["ev.register.banking_minimum"]
    penalty = view.parameters["ev.register.penalty_per_unit"]
    return _page(
        request,
        holder,
        "register/year_end.html",
        {
            "view": view,
            "r": view.result,
            "obligations": [
                {
                    "o": o,
                    "trace": trace_view(o.trace),
                    "met": next(m for m in view.met_by_sector if m["sector"] == o.sector),
                }
                for o in view.obligations
            ],
            "share": share,
            "minimum": minimum,
            "penalty": penalty,
            "banking_exact": tidy(view.banking_exact),
            "year_options": [(str(y), str(y)) for y in covered],
            "values": {"year": raw if errors else str(chosen)},
            "errors": errors,
        },
        422 if errors else 200,
    )
