"""Calculators that need no account: the obligation, booking and compliance calculators on the
Energie Vervoer engine (``keten.ev``), per parameter set (``bijlage-1``, ``besluit-2025``) or both
side by side, each result with its full explanation trace.

The page computes exactly what ``keten ev obligation``, ``keten ev units --explain``, ``keten ev
compliance`` and ``keten ev plan`` compute: deliveries go through
:func:`keten.ev.obligation.obligations`, a booking through :func:`keten.ev.units.units_for_booking`,
units held and prices through :func:`keten.ev.compliance.compliance` and
:func:`keten.ev.compliance.least_cost_plans`. Input is checked field by field first (the same
checks as the file readers of :mod:`keten.io.ev_files`); what only a parameter set can refuse (a
sector the set has no table for, a value the set marks unknown) is shown in that set's column.
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from starlette.datastructures import FormData

from keten.core.errors import InputError, KetenError
from keten.core.messages import Msg, msg
from keten.core.params import ParameterSet, load_set
from keten.core.quantity import mul, parse_number, tidy
from keten.core.trace import Trace
from keten.ev.compliance import Compliance, PurchasePlan, compliance, least_cost_plans
from keten.ev.energy import fuel_catalogue
from keten.ev.model import (
    CATEGORIES,
    ELECTRICITY_FUEL,
    MAX_QUANTITY,
    OBLIGATION_ROWS,
    QUANTITY_UNITS,
    SECTORS,
    Booking,
    Delivery,
    Holding,
    UnitType,
)
from keten.ev.obligation import Obligation, check_sector, obligations
from keten.ev.units import units_for_booking
from keten.io.csvfile import read_rows
from keten.io.ev_files import DELIVERY_COLUMNS, read_holdings, read_prices
from keten.web import forms, i18n, ui
from keten.web.forms import Checked
from keten.web.traces import TraceView, trace_view

router = ui.page_router()


_ = i18n.gettext  # the translation, with %(name)s placeholders filled from keyword values


SETS = ("bijlage-1", "besluit-2025")
BOTH = "both"
FORM_ROWS = 5
MAX_UPLOAD = 2_000_000  # bytes: a deliveries file of tens of thousands of rows
SUPPLIER = "—"  # deliveries entered in the form belong to one (unnamed) supplier
#: Supplier and sector results one page shows (a table and an explanation each, per parameter
#: set: about 6 KB); larger files: ``keten ev obligation``, which has no such limit.
MAX_GROUPS = 500
#: Suppliers the compliance calculator shows (each with its sectors, plan and explanation);
#: larger files: ``keten ev compliance`` and ``keten ev plan``.
MAX_SUPPLIERS = 100


@cache
def params(name: str) -> ParameterSet:
    return load_set("ev", name)


@cache
def years() -> tuple[int, ...]:
    """The years the default set has obligation tables for (Bijlage 1: 2026–2030)."""
    table = params(SETS[0]).parameter("ev.land.total")
    return tuple(y for y in range(2000, 2101) if table.covers(y))


def fuels() -> dict[str, list[str]]:
    """Fuel → accepted units; the fuel catalogue lives in the shared ``common`` set."""
    return fuel_catalogue(params(SETS[0]))


def row_labels() -> dict[str, str]:
    return {
        "total": _("Total obligation"),
        "sector_specific": _("Sector-specific part"),
        "vrije_ruimte": _("Free space (vrije ruimte)"),
        "annex_ixa_min": _("Annex IX-A sub-obligation"),
        "rfnbo_min": _("RFNBO sub-obligation"),
        "conventional_cap": _("Cap on conventional (crop) units"),
        "annex_ixb_cap": _("Cap on Annex IX-B units"),
    }


def scenario_options() -> list[tuple[str, str]]:
    return [
        ("bijlage-1", _("bijlage-1 (Bijlage 1 as printed)")),
        ("besluit-2025", _("besluit-2025 (2025 draft decree)")),
        (BOTH, _("both, side by side")),
    ]


# ----------------------------------------------------------------------------- traces


# ----------------------------------------------------------------------------- input


def _scenarios(form: FormData, c: Checked, name: str) -> list[str]:
    choice = forms.text(form, name) or SETS[0]
    c.values[name] = choice
    if choice == BOTH:
        return list(SETS)
    if choice not in SETS:
        c.errors[name] = _("Choose one of the offered parameter sets.")
        return []
    return [choice]


def _year(form: FormData, c: Checked, name: str) -> int:
    raw = forms.text(form, name)
    c.values[name] = raw
    allowed = years()
    if forms.digits(raw) and int(raw) in allowed:
        return int(raw)
    c.errors[name] = _(
        "Enter a year from %(first)s to %(last)s (the years the tables cover).",
        first=allowed[0],
        last=allowed[-1],
    )
    return 0


def _quantity(raw: str) -> tuple[Decimal | None, str | None]:
    """The quantity as an exact number, or the reason it is refused."""
    if not raw:
        return None, _("Enter a quantity.")
    try:
        q = parse_number(raw)
    except ValueError:
        return None, _("Enter a number with at most six decimals, e.g. 1000000 or 2,5.")
    if q <= 0:
        return None, _("The quantity must be more than zero.")
    if q >= MAX_QUANTITY:
        return None, _("The quantity is implausibly large (limit 10^12).")
    return q, None


def _fuel_unit(fuel: str, unit: str, key: str, c: Checked) -> bool:
    catalogue = fuels()
    if fuel not in catalogue:
        c.errors[f"fuel{key}"] = _(
            "Unknown fuel %(fuel)s; choose one from the list.", fuel=repr(fuel)
        )
        return False
    if unit not in catalogue[fuel]:
        c.errors[f"unit{key}"] = _(
            "Fuel %(fuel)s is given in %(units)s.", fuel=fuel, units=", ".join(catalogue[fuel])
        )
        return False
    return True


def _form_deliveries(form: FormData, c: Checked) -> list[Delivery]:
    out = []
    for i in range(1, FORM_ROWS + 1):
        cells = {k: forms.text(form, f"{k}_{i}") for k in ("sector", "fuel", "quantity", "unit")}
        c.values.update({f"{k}_{i}": v for k, v in cells.items()})
        if not cells["quantity"] and not cells["fuel"]:
            continue  # an empty row
        ok = True
        if cells["sector"] not in SECTORS:
            c.errors[f"sector_{i}"] = _("Choose a sector.")
            ok = False
        ok = _fuel_unit(cells["fuel"], cells["unit"], f"_{i}", c) and ok
        q, why = _quantity(cells["quantity"])
        if why:
            c.errors[f"quantity_{i}"] = why
        if ok and q is not None:
            out.append(Delivery(SUPPLIER, cells["sector"], cells["fuel"], q, cells["unit"]))
    return out


def file_deliveries(filename: str, data: bytes) -> list[Delivery]:
    """Deliveries from a CSV in the ``examples/ev/deliveries.csv`` format, checked as
    :func:`keten.io.ev_files.read_deliveries` checks them except the sector's table, which
    depends on the parameter set (shown per set). Errors name the file, row and field."""
    catalogue = fuels()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "deliveries.csv"
        path.write_bytes(data)
        out = []
        try:
            for row, r in read_rows(path, DELIVERY_COLUMNS):

                def bad(field_: str, message: str | Msg, row: int = row) -> InputError:
                    return InputError(message, file=filename, row=row, field=field_)

                if not r["supplier"]:
                    raise bad("supplier", msg("is empty"))
                if r["sector"] not in SECTORS:
                    raise bad(
                        "sector",
                        msg(
                            "unknown sector %(sector)s (%(sectors)s)",
                            sector=repr(r["sector"]),
                            sectors=", ".join(SECTORS),
                        ),
                    )
                if r["fuel"] not in catalogue:
                    raise bad(
                        "fuel",
                        msg(
                            "unknown fuel %(fuel)s (known: %(known)s)",
                            fuel=repr(r["fuel"]),
                            known=", ".join(sorted(catalogue)),
                        ),
                    )
                if r["unit"] not in catalogue[r["fuel"]]:
                    raise bad(
                        "unit",
                        msg(
                            "fuel %(fuel)s cannot be given in %(unit)s (use %(units)s)",
                            fuel=repr(r["fuel"]),
                            unit=repr(r["unit"]),
                            units=", ".join(catalogue[r["fuel"]]),
                        ),
                    )
                try:
                    q = parse_number(r["quantity"])
                except ValueError as exc:
                    raise bad("quantity", exc.args[0]) from None
                if q <= 0:
                    raise bad("quantity", msg("must be positive"))
                if q >= MAX_QUANTITY:
                    raise bad(
                        "quantity",
                        msg("is implausibly large (limit %(limit)s)", limit=MAX_QUANTITY),
                    )
                out.append(Delivery(r["supplier"], r["sector"], r["fuel"], q, r["unit"]))
        except InputError as exc:
            if exc.file != filename:  # the reader names the temporary path
                raise InputError(
                    exc.translatable, file=filename, row=exc.row, field=exc.field
                ) from None
            raise
    if not out:
        raise InputError(msg("no deliveries in the file"), file=filename)
    groups = len({(d.supplier, d.sector) for d in out})
    if groups > MAX_GROUPS:
        raise InputError(
            msg(
                "the file has %(n)s supplier and sector combinations; this page shows at most "
                "%(max)s — use keten ev obligation for larger files",
                n=groups,
                max=MAX_GROUPS,
            ),
            file=filename,
        )
    return out


# ----------------------------------------------------------------------------- obligation


@dataclass
class ObligationView:
    supplier: str
    sector: str
    base_mj: Decimal
    rows: list[dict[str, Any]]  # row, label, value (None = unknown), why
    trace: TraceView


@dataclass
class SectorRefused:
    supplier: str
    sector: str
    message: str


@dataclass
class ScenarioObligations:
    scenario: str
    results: list[ObligationView] = field(default_factory=list)
    refused: list[SectorRefused] = field(default_factory=list)


def _view(o: Obligation) -> ObligationView:
    labels = row_labels()
    rows = [
        {
            "row": r,
            "label": labels[r],
            "value": o.rows[r],
            "why": o.unknown.get(r, ""),
        }
        for r in OBLIGATION_ROWS
    ]
    unknown = {f"ev.{o.sector}.{r}": why for r, why in o.unknown.items()}
    return ObligationView(o.supplier, o.sector, tidy(o.base_mj), rows, trace_view(o.trace, unknown))


def obligations_per_scenario(
    deliveries: list[Delivery], year: int, scenario: str
) -> ScenarioObligations:
    """Obligations per supplier and sector under ``scenario``; a sector the set cannot compute
    (no table, or its total marked unknown) is listed as refused with the engine's reason."""
    pset = params(scenario)
    out = ScenarioObligations(scenario)
    groups: dict[tuple[str, str], list[Delivery]] = defaultdict(list)
    for d in deliveries:
        groups[(d.supplier, d.sector)].append(d)
    for (supplier, sector), group in sorted(
        groups.items(), key=lambda kv: (kv[0][0], SECTORS.index(kv[0][1]))
    ):
        try:
            check_sector(pset, sector, year)
            out.results += [_view(o) for o in obligations(group, year, pset)]
        except KetenError as exc:
            out.refused.append(SectorRefused(supplier, sector, str(exc).splitlines()[0]))
    return out


# ----------------------------------------------------------------------------- booking


@dataclass
class BookingView:
    scenario: str
    units: int | None = None
    unit_name: str = ""
    trace: TraceView | None = None
    refused: str = ""
    #: The form field the refusal is about (chosen on its English text, see ``_booking_field``).
    refused_field: str = "_form"


def _booking_field(message: str) -> str:
    """The form field an engine refusal of a booking is about, from its *English* text
    (``exc.english()``: the shown text may be Dutch)."""
    for key, name in (
        ("ghg_intensity", "ghg_intensity"),
        ("RFNBO", "ghg_intensity"),
        ("category", "category"),
        ("sector", "sector"),
        ("quantity", "quantity"),
        ("unit", "unit"),
        ("fuel", "fuel"),
    ):
        if key in message:
            return name
    return "_form"


def _booking_input(form: FormData, c: Checked) -> Booking | None:
    cells = {
        k: forms.text(form, k)
        for k in ("sector", "category", "fuel", "quantity", "unit", "ghg_intensity")
    }
    c.values.update(cells)
    if cells["sector"] not in SECTORS:
        c.errors["sector"] = _("Choose a sector.")
    if cells["category"] not in CATEGORIES:
        c.errors["category"] = _("Choose a category.")
    fuel_ok = _fuel_unit(cells["fuel"], cells["unit"], "", c)
    q, why = _quantity(cells["quantity"])
    if why:
        c.errors["quantity"] = why
    ci: Decimal | None = None
    raw = cells["ghg_intensity"]
    if fuel_ok and cells["fuel"] == ELECTRICITY_FUEL:
        if raw:
            c.errors["ghg_intensity"] = _(
                "Leave this empty for electricity: the grid renewable share applies."
            )
    elif not raw:
        c.errors["ghg_intensity"] = _("Enter the GHG intensity in gCO2e/MJ.")
    else:
        try:
            ci = parse_number(raw)
        except ValueError:
            c.errors["ghg_intensity"] = _(
                "Enter a number with at most six decimals, e.g. 1000000 or 2,5."
            )
    if c.errors or q is None:
        return None
    return Booking("—", cells["sector"], cells["category"], cells["fuel"], q, cells["unit"], ci)


def booking_per_scenario(booking: Booking, year: int, scenario: str) -> BookingView:
    trace = Trace(params(scenario))
    try:
        result = units_for_booking(booking, year, trace)
    except KetenError as exc:
        return BookingView(
            scenario,
            refused=str(exc).splitlines()[0],
            refused_field=_booking_field(exc.english()),
        )
    return BookingView(scenario, result.units, result.unit_name, trace_view(trace))


# ----------------------------------------------------------------------------- compliance


@dataclass
class PurchaseView:
    origin_sector: str
    category: str
    amount: int
    price_eur: str  # shown as money (see ``money``)
    cost_eur: str


@dataclass
class SupplierCompliance:
    """One supplier's best allocation of the units held (EV-12 to EV-16), and with prices its
    cheapest purchase (EV-18) with the allocation after it."""

    held: Compliance
    trace: TraceView
    plan: PurchasePlan | None = None
    purchases: list[PurchaseView] = field(default_factory=list)
    cost_eur: str = ""


@dataclass
class ScenarioCompliance:
    scenario: str
    results: list[SupplierCompliance] = field(default_factory=list)
    refused: str = ""


def money(value: Decimal) -> str:
    """Euros in the page's notation: padded to whole cents, never rounded (a price may have six
    decimals, and so may a cost)."""
    exponent = value.as_tuple().exponent
    return ui.num(value, 2) if isinstance(exponent, int) and exponent >= -2 else ui.num(value)


def compliance_per_scenario(
    deliveries: list[Delivery],
    holdings: list[Holding],
    prices: dict[UnitType, Decimal] | None,
    year: int,
    scenario: str,
) -> ScenarioCompliance:
    """Compliance of every supplier under ``scenario`` (and the least-cost plan when ``prices``
    are given). A set that cannot compute an obligation the deliveries need (no table for the
    sector, a value it marks unknown) refuses the whole set, as ``keten ev compliance`` does."""
    pset = params(scenario)
    try:
        obs = obligations(deliveries, year, pset)
        results = compliance(obs, holdings, pset, year)
        plans: list[PurchasePlan] | None = None
        if prices is not None:
            plans = least_cost_plans(obs, holdings, prices, pset, year)
    except KetenError as exc:
        return ScenarioCompliance(scenario, refused=str(exc).splitlines()[0])
    by_supplier = {p.supplier: p for p in plans or []}
    out = ScenarioCompliance(scenario)
    for held in results:
        plan = by_supplier.get(held.supplier)
        if plan is None:
            out.results.append(SupplierCompliance(held, trace_view(held.trace)))
            continue
        purchases = [
            PurchaseView(
                p.origin_sector,
                p.category,
                p.amount,
                money(p.price_eur),
                money(mul(Decimal(p.amount), p.price_eur)),
            )
            for p in plan.purchases
        ]
        view = SupplierCompliance(held, trace_view(plan.compliance.trace), plan, purchases)
        view.cost_eur = money(plan.cost_eur)
        out.results.append(view)
    return out


def _idle_holders(deliveries: list[Delivery], holdings: list[Holding]) -> list[str]:
    """Holders in the units file without deliveries: their units count for nothing here."""
    suppliers = {d.supplier for d in deliveries}
    return sorted({h.holder for h in holdings} - suppliers)


# ----------------------------------------------------------------------------- pages


def _context(**extra: Any) -> dict[str, Any]:
    catalogue = fuels()
    ctx: dict[str, Any] = {
        "years": years(),
        "year_options": [(str(y), str(y)) for y in years()],
        "sector_options": [("", "—"), *((s, s) for s in SECTORS)],
        "category_options": [("", "—"), *((k, k) for k in CATEGORIES)],
        "fuel_options": [("", "—"), *((f, f) for f in sorted(catalogue))],
        "unit_options": [(u, u) for u in QUANTITY_UNITS],
        "catalogue": catalogue,
        "scenarios": scenario_options(),
        "form_rows": FORM_ROWS,
        "active": "",
        "ob_errors": {},
        "ob_values": {"year": str(years()[0]), "scenario": SETS[0]},
        "bk_errors": {},
        "bk_values": {"booking_year": str(years()[0]), "booking_scenario": SETS[0]},
        "cp_errors": {},
        "cp_values": {"cp_year": str(years()[0]), "cp_scenario": SETS[0]},
        "ob_results": None,
        "bk_results": None,
        "cp_results": None,
        "source_name": "",
    }
    ctx.update(extra)
    return ctx


@router.get("/calculators", response_class=HTMLResponse)
def calculators(request: Request) -> HTMLResponse:
    return ui.render(request, "calculators/index.html", _context())


@router.post("/calculators/obligation", response_class=HTMLResponse)
async def obligation_calculator(request: Request) -> HTMLResponse:
    form = await request.form()
    c = Checked()
    scenarios = _scenarios(form, c, "scenario")
    year = _year(form, c, "year")
    upload = await forms.upload(form, "deliveries", c, MAX_UPLOAD, fallback="upload.csv")
    deliveries = _form_deliveries(form, c)
    source = _("the rows entered above")
    entered = any(
        c.values.get(f"{k}_{i}") for k in ("fuel", "quantity") for i in range(1, FORM_ROWS + 1)
    )
    if upload is not None:
        if entered:
            c.errors["deliveries"] = _("Enter rows or upload a file, not both.")
        else:
            try:
                deliveries = file_deliveries(*upload)
                source = upload[0]
            except InputError as exc:
                c.errors["deliveries"] = str(exc)
    elif not entered and "deliveries" not in c.errors:
        c.errors["_form"] = _("Enter at least one delivery, or upload a deliveries file.")
    if c.errors:
        return ui.render(
            request,
            "calculators/index.html",
            _context(active="obligation", ob_errors=c.errors, ob_values=c.values),
            status=422,
        )
    results = [obligations_per_scenario(deliveries, year, s) for s in scenarios]
    return ui.render(
        request,
        "calculators/index.html",
        _context(
            active="obligation",
            ob_values=c.values,
            ob_results=results,
            ob_year=year,
            source_name=source,
        ),
    )


@router.post("/calculators/booking", response_class=HTMLResponse)
async def booking_calculator(request: Request) -> HTMLResponse:
    form = await request.form()
    c = Checked()
    scenarios = _scenarios(form, c, "booking_scenario")
    year = _year(form, c, "booking_year")
    booking = _booking_input(form, c)
    results: list[BookingView] = []
    if booking is not None and not c.errors:
        results = [booking_per_scenario(booking, year, s) for s in scenarios]
        refusals = {r.refused for r in results}
        if all(r.refused for r in results) and len(refusals) == 1:
            # every set refuses it for the same reason: it is the input, not a set's gap
            message = refusals.pop()
            c.errors[results[0].refused_field] = message
    if c.errors:
        return ui.render(
            request,
            "calculators/index.html",
            _context(active="booking", bk_errors=c.errors, bk_values=c.values),
            status=422,
        )
    return ui.render(
        request,
        "calculators/index.html",
        _context(active="booking", bk_values=c.values, bk_results=results, bk_year=year),
    )


@router.post("/calculators/compliance", response_class=HTMLResponse)
async def compliance_calculator(request: Request) -> HTMLResponse:
    form = await request.form()
    c = Checked()
    scenarios = _scenarios(form, c, "cp_scenario")
    year = _year(form, c, "cp_year")
    deliveries: list[Delivery] = []
    holdings: list[Holding] = []
    prices: dict[UnitType, Decimal] | None = None
    upload = await forms.upload(form, "cp_deliveries", c, MAX_UPLOAD, fallback="deliveries.csv")
    if upload is None and "cp_deliveries" not in c.errors:
        c.errors["cp_deliveries"] = _("Choose a deliveries file.")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        units_path = await forms.save(form, "cp_units", c, folder, limit=MAX_UPLOAD, required=False)
        prices_path = await forms.save(
            form, "cp_prices", c, folder, limit=MAX_UPLOAD, required=False
        )
        if upload is not None:
            try:
                deliveries = file_deliveries(*upload)
            except InputError as exc:
                c.errors["cp_deliveries"] = str(exc)
        if units_path is not None:
            try:
                holdings = read_holdings(units_path)
            except InputError as exc:
                c.refuse(exc)
        if prices_path is not None:
            try:
                prices = read_prices(prices_path)
            except InputError as exc:
                c.refuse(exc)
    suppliers = {d.supplier for d in deliveries}
    if len(suppliers) > MAX_SUPPLIERS and "cp_deliveries" not in c.errors:
        c.errors["cp_deliveries"] = _(
            "The file has %(n)s suppliers; this page shows at most %(max)s. Use keten ev "
            "compliance for larger files.",
            n=len(suppliers),
            max=MAX_SUPPLIERS,
        )
    if c.errors:
        return ui.render(
            request,
            "calculators/index.html",
            _context(active="compliance", cp_errors=c.errors, cp_values=c.values),
            status=422,
        )
    results = [compliance_per_scenario(deliveries, holdings, prices, year, s) for s in scenarios]
    return ui.render(
        request,
        "calculators/index.html",
        _context(
            active="compliance",
            cp_values=c.values,
            cp_results=results,
            cp_year=year,
            cp_prices=prices is not None,
            cp_idle=_idle_holders(deliveries, holdings),
            cp_files={
                "deliveries": upload[0] if upload else "",
                "units": c.values.get("cp_units_name", ""),
                "prices": c.values.get("cp_prices_name", ""),
            },
        ),
    )
