"""CO2 standards for new cars and vans per manufacturer, and the 2040 Climate-Law and ESR
trajectories (issue 8, "Web pages"), on the engine of :mod:`keten.vehicles`.

Nothing is shown unless the visitor chose a file: an upload, or the shipped example file when
they tick "use the example file" (then every result says it is example input).

The computation is the one of ``keten vehicles compliance`` / ``scenarios`` and ``keten targets
eu2040`` / ``esr``: :func:`keten.io.vehicles_files.read_monitoring` aggregates the file (rows
that cannot be used are skipped and reported per reason, VH-09), :func:`keten.vehicles.standards.
assess` assesses each manufacturer or pool, :func:`keten.vehicles.accounts.eu2040` and ``esr``
the accounts.

Exports: the result tables of the last computations are kept in a bounded per-process store
(:class:`keten.web.results.BoundedStore`, at most ``STORE_SIZE`` results for ``STORE_TTL``
seconds) under a random id, bound to the browser's CSRF token; the CSV and Excel buttons POST
that id (CSRF-checked), so the download holds exactly the numbers shown without uploading the
file again.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData, UploadFile

from keten.core.errors import InputError, KetenError, ParameterError
from keten.core.messages import msg
from keten.core.params import ParameterSet, available_sets, load_set, params_root
from keten.io.vehicles_files import (
    Monitoring,
    check_series_size,
    no_usable_rows,
    read_esr_series,
    read_monitoring,
    read_net_series,
)
from keten.registry.service import NotFound
from keten.vehicles.accounts import esr, eu2040
from keten.vehicles.model import CATEGORIES
from keten.vehicles.standards import Assessment, assess, check_year
from keten.web import charts, forms, i18n, ui
from keten.web.forms import Checked
from keten.web.results import BoundedStore
from keten.web.traces import trace_view

router = ui.page_router()


_ = i18n.gettext  # the translation, with %(name)s placeholders filled from keyword values


DOMAIN = "vehicles"
DEFAULT_SET = "in-force"
ACCOUNTS_SET = "in-force"  # the accounts use params/vehicles/common only (as the CLI)
MAX_UPLOAD = 100 * 2**20  # bytes; larger files: use the CLI, which streams any size
MAX_SERIES = 200_000
#: Manufacturers or pools one page shows (a table row, a chart bar group and an explanation per
#: fleet and scenario, about 6 KB each); real EEA files have a few hundred at most. Larger
#: files: ``keten vehicles compliance``, which has no such limit.
MAX_FLEETS = 500
STORE_SIZE = 200
STORE_TTL = 3600.0
TEXT_LIMIT = 100  # characters of a text field (forms.text cuts longer values)

#: The shipped example files (examples/vehicles/), offered as downloads and as explicit input.
EXAMPLES = {
    "monitoring": "eea_cars_2025.csv",
    "eu2040": "eu2040_series.csv",
    "esr": "esr_nl_series.csv",
}

#: The columns of the manufacturer table: the JSON contract of ``keten vehicles compliance``.
COLUMNS = (
    "manufacturer",
    "registrations",
    "average_emissions",
    "target",
    "zlev_share",
    "zlev_factor",
    "excess",
    "premium_eur",
)
EU2040_COLUMNS = (
    "year",
    "net_emissions",
    "credits_claimed",
    "credits_counted",
    "accounted",
    "reduction_pct",
    "path_limit",
    "on_track",
)
ESR_COLUMNS = (
    "year",
    "aea",
    "aea_from",
    "emissions",
    "penalty_added",
    "repaid",
    "banked_in",
    "transfers_net",
    "ets_flex",
    "lulucf_flex",
    "borrowed",
    "balance",
    "banked_out",
    "surplus_unused",
    "shortfall",
    "compliant",
)
SKIPPED_COLUMNS = ("reason", "count", "first_rows")


def column_labels() -> dict[str, str]:
    """The headers of the trajectory tables in the page's language (the exports keep the field
    names of ``keten targets eu2040`` / ``esr --format csv``)."""
    return {
        "year": _("Year"),
        "net_emissions": _("Net emissions"),
        "credits_claimed": _("Credits claimed"),
        "credits_counted": _("Credits counted"),
        "accounted": _("Accounted emissions"),
        "reduction_pct": _("Reduction against 1990 (%)"),
        "path_limit": _("Limit of the path"),
        "on_track": _("On track"),
        "aea": _("Allocation (AEA)"),
        "aea_from": _("AEA from"),
        "emissions": _("Emissions"),
        "penalty_added": _("Penalty added (shortfall × 1.08)"),
        "repaid": _("Borrowing repaid"),
        "banked_in": _("Banked in"),
        "transfers_net": _("Transfers (net)"),
        "ets_flex": _("ETS flexibility"),
        "lulucf_flex": _("LULUCF flexibility"),
        "borrowed": _("Borrowed"),
        "balance": _("Balance"),
        "banked_out": _("Banked out"),
        "surplus_unused": _("Surplus not banked"),
        "shortfall": _("Shortfall"),
        "compliant": _("Compliant"),
    }


def aea_sources() -> dict[str, str]:
    """Where a year's AEA came from (``EsrRow.aea_from``), in the page's language."""
    return {"input": _("series"), "params": _("parameter set")}


def example_path(kind: str) -> Path:
    return params_root().parent / "examples" / "vehicles" / EXAMPLES[kind]


# ----------------------------------------------------------------------------- result store


@dataclass
class Table:
    name: str  # file name of the export, without extension
    columns: Sequence[str]
    rows: list[list[object]]


def _gone() -> str:
    return _("This result is no longer available (results are kept for an hour); compute it again.")


ResultStore = BoundedStore[dict[str, Table]]


def store(request: Request) -> ResultStore:
    state = request.app.state
    found = getattr(state, "vehicles_results", None)
    if not isinstance(found, BoundedStore):
        found = ResultStore(max_items=STORE_SIZE, max_age=STORE_TTL, missing=_gone, id_bytes=18)
        state.vehicles_results = found
    return found


def _owner(request: Request) -> str:
    return ui.viewer(request).csrf


# ----------------------------------------------------------------------------- input


@dataclass
class Chosen:
    """The file the visitor chose: a temporary copy of an upload, or the example."""

    path: Path
    label: str  # the name shown and used in messages
    example: bool


async def _chosen(
    form: FormData, name: str, kind: str, tmp: Path, c: Checked, suffixes: Sequence[str]
) -> Chosen | None:
    """The file named ``name`` (upload) or the example of ``kind`` when the visitor ticked
    ``use_example`` — exactly one of the two."""
    item = form.get(name)
    upload = isinstance(item, UploadFile) and bool(item.filename)
    use_example = forms.text(form, "use_example", limit=TEXT_LIMIT) == "1"
    c.values["use_example"] = use_example
    if upload and use_example:
        c.errors[name] = _("Upload a file or use the example file, not both.")
        return None
    if use_example:
        path = example_path(kind)
        return Chosen(path, path.name, True)
    if not upload or not isinstance(item, UploadFile):
        c.errors[name] = _("Choose a file to upload, or tick “use the example file”.")
        return None
    label = Path(item.filename or "").name[:100]
    suffix = Path(label).suffix.lower()
    if suffix not in suffixes:
        c.errors[name] = _("The file must end in %(suffixes)s.", suffixes=", ".join(suffixes))
        return None
    path = tmp / f"upload{suffix}"
    size = 0
    with path.open("wb") as fh:
        while chunk := await item.read(2**20):
            size += len(chunk)
            if size > MAX_UPLOAD:
                c.errors[name] = _(
                    "The file is too large for the web page (at most %(n)s MB); use the command "
                    "line, which reads files of any size.",
                    n=MAX_UPLOAD // 2**20,
                )
                return None
            fh.write(chunk)
    return Chosen(path, label, False)


def _message(exc: KetenError, chosen: Chosen) -> str:
    """The engine's one-line message in the page's language, naming the visitor's file instead
    of the temporary one (the message stays translatable, its row and field too)."""
    if isinstance(exc, InputError) and exc.file is not None:
        exc = InputError(exc.translatable, file=chosen.label, row=exc.row, field=exc.field)
    return str(exc).splitlines()[0].replace(str(chosen.path), chosen.label)


def _scenario_options() -> list[str]:
    sets = available_sets(DOMAIN)
    return [DEFAULT_SET, *(s for s in sets if s != DEFAULT_SET)] if DEFAULT_SET in sets else sets


def _scenarios(form: FormData, c: Checked) -> list[ParameterSet]:
    offered = _scenario_options()
    chosen = [v for v in form.getlist("scenario") if isinstance(v, str)]
    c.values["scenario"] = chosen
    bad = [s for s in chosen if s not in offered]
    if bad or not chosen:
        c.errors["scenario"] = _("Choose at least one of the offered scenarios.")
        return []
    return [load_set(DOMAIN, s) for s in offered if s in chosen]


def _year(form: FormData, c: Checked) -> int:
    raw = forms.text(form, "year", limit=10)
    c.values["year"] = raw
    if len(raw) == 4 and forms.digits(raw):
        return int(raw)
    c.errors["year"] = _("Enter a year of registration, e.g. 2025.")
    return 0


def _category(form: FormData, c: Checked) -> str:
    value = forms.text(form, "category", limit=TEXT_LIMIT) or "cars"
    c.values["category"] = value
    if value not in CATEGORIES:
        c.errors["category"] = _("Choose cars or vans.")
    return value


# ----------------------------------------------------------------------------- manufacturers


@dataclass
class ScenarioResult:
    scenario: str
    assessments: list[Assessment]
    traces: dict[str, Any]
    unverified: list[str]


def _read_key(p: ParameterSet, category: str, year: int) -> tuple[bool, Decimal | None]:
    nedc = check_year(p, category, year)
    zlev = None
    if "vehicles.zlev.threshold" in p and p.parameter("vehicles.zlev.threshold").covers(year):
        zlev = p.get("vehicles.zlev.threshold", year).value
    return nedc, zlev


def compute_standards(
    chosen: Chosen, sets: list[ParameterSet], category: str, year: int
) -> tuple[Monitoring, list[ScenarioResult]]:
    """Read the file once per distinct reading rule (the 2020 NEDC columns, the ZLEV threshold)
    and assess every manufacturer or pool under each set — as ``keten vehicles compliance``."""
    reads: dict[tuple[bool, Decimal | None], Monitoring] = {}
    results = []
    first: Monitoring | None = None
    for p in sets:
        key = _read_key(p, category, year)
        if key not in reads:
            reads[key] = read_monitoring(chosen.path, [year], nedc=key[0], zlev_threshold=key[1])
        mon = reads[key]
        first = first or mon
        if not mon.fleets:
            raise no_usable_rows(mon, year, str(chosen.path))
        names = sorted(name for name, y in mon.fleets if y == year)
        if len(names) > MAX_FLEETS:
            raise KetenError(
                msg(
                    "the file has %(n)s manufacturers or pools for %(year)s; this page shows at "
                    "most %(max)s — use keten vehicles compliance for larger files",
                    n=len(names),
                    year=year,
                    max=MAX_FLEETS,
                )
            )
        assessed = [assess(mon.fleets[(n, year)], category, p) for n in names]
        results.append(
            ScenarioResult(
                p.name,
                assessed,
                {a.manufacturer: trace_view(a.trace) for a in assessed},
                sorted({n for a in assessed for n in a.unverified}),
            )
        )
    assert first is not None
    return first, results


def _row(a: Assessment) -> list[object]:
    d = a.to_dict()
    return [d[c] for c in COLUMNS]


def _skipped_rows(mon: Monitoring) -> list[list[object]]:
    """The skipped-rows export: the reasons in English, as the CLI and its skipped-rows file
    give them (the page shows them in its language)."""
    return [[s.reason, s.count, " ".join(str(e["row"]) for e in s.examples)] for s in mon.skipped]


def _chart(results: list[ScenarioResult], title: str) -> Any:
    names = [a.manufacturer for a in results[0].assessments]
    series = []
    for r in results:
        by = {a.manufacturer: a for a in r.assessments}
        series.append(
            charts.Series(
                _("average (%(s)s)", s=r.scenario),
                [by[n].average_emissions if n in by else None for n in names],
            )
        )
        series.append(
            charts.Series(
                _("target (%(s)s)", s=r.scenario),
                [by[n].target if n in by else None for n in names],
            )
        )
    return charts.bar_chart(  # g/km to three decimals, as in the tables (VH-06)
        title, names, series, unit="g/km", height=300, value_text=lambda v: ui.num(v, 3)
    )


def _category_options() -> list[tuple[str, str]]:
    return [("cars", _("cars (M1)")), ("vans", _("vans (N1)"))]


def _vehicles_context(**extra: Any) -> dict[str, Any]:
    ctx: dict[str, Any] = {
        "scenario_options": _scenario_options(),
        "category_options": _category_options(),
        "results": None,
        "errors": {},
        "values": {"year": "2025", "category": "cars", "scenario": [DEFAULT_SET]},
    }
    ctx.update(extra)
    return ctx


@router.get("/vehicles", response_class=HTMLResponse)
def vehicles(request: Request) -> HTMLResponse:
    return ui.render(request, "vehicles/index.html", _vehicles_context())


@router.post("/vehicles", response_class=HTMLResponse)
async def vehicles_compute(request: Request) -> HTMLResponse:
    form = await request.form()
    c = Checked()
    sets = _scenarios(form, c)
    year = _year(form, c)
    category = _category(form, c)
    if not c.errors:
        for p in sets:
            try:
                check_year(p, category, year)
            except KetenError as exc:
                c.errors["year"] = str(exc)
                break
    with tempfile.TemporaryDirectory(prefix="keten-web-") as tmp:
        chosen = await _chosen(form, "data", "monitoring", Path(tmp), c, (".csv", ".parquet"))
        if chosen is None or c.errors:
            return ui.render(
                request,
                "vehicles/index.html",
                _vehicles_context(errors=c.errors, values=c.values),
                status=422,
            )
        try:
            mon, results = compute_standards(chosen, sets, category, year)
        except KetenError as exc:
            # a value the sets lack for this year and category (TM0 from 2027): the year is
            # what the visitor can change, not the file
            c.errors["year" if isinstance(exc, ParameterError) else "data"] = _message(exc, chosen)
            return ui.render(
                request,
                "vehicles/index.html",
                _vehicles_context(errors=c.errors, values=c.values),
                status=422,
            )
    tables = {
        r.scenario: Table(
            f"vehicles_{category}_{year}_{r.scenario}", COLUMNS, [_row(a) for a in r.assessments]
        )
        for r in results
    }
    tables["skipped"] = Table(
        f"vehicles_{category}_{year}_skipped_rows", SKIPPED_COLUMNS, _skipped_rows(mon)
    )
    key = store(request).put(_owner(request), tables)
    title = _("Average emissions and target per manufacturer, %(year)s", year=year)
    return ui.render(
        request,
        "vehicles/index.html",
        _vehicles_context(
            values=c.values,
            results=results,
            monitoring=mon,
            chosen=chosen,
            year=year,
            category=category,
            category_label=dict(_category_options())[category],
            chart=_chart(results, title),
            result_id=key,
        ),
    )


# ----------------------------------------------------------------------------- accounts


def _series_context(kind: str, **extra: Any) -> dict[str, Any]:
    ctx: dict[str, Any] = {
        "kind": kind,
        "result": None,
        "errors": {},
        "values": {},
        "example_name": EXAMPLES[kind],
        "labels": column_labels(),
        "aea_sources": aea_sources(),
    }
    ctx.update(extra)
    return ctx


async def _series_page(request: Request, kind: str) -> HTMLResponse:
    form = await request.form()
    c = Checked()
    template = f"vehicles/{kind}.html"
    with tempfile.TemporaryDirectory(prefix="keten-web-") as tmp:
        chosen = await _chosen(form, "series", kind, Path(tmp), c, (".csv",))
        if chosen is None:
            return ui.render(
                request,
                template,
                _series_context(kind, errors=c.errors, values=c.values),
                status=422,
            )
        params = load_set(DOMAIN, ACCOUNTS_SET)
        try:
            check_series_size(chosen.path, MAX_SERIES)
            if kind == "eu2040":
                context = _eu2040(read_net_series(chosen.path), params)
            else:
                series, base = read_esr_series(chosen.path)
                context = _esr(series, base, params)
        except KetenError as exc:
            c.errors["series"] = _message(exc, chosen)
            return ui.render(
                request,
                template,
                _series_context(kind, errors=c.errors, values=c.values),
                status=422,
            )
    table: Table = context.pop("table")
    key = store(request).put(_owner(request), {kind: table})
    return ui.render(
        request,
        template,
        _series_context(kind, values=c.values, chosen=chosen, result_id=key, **context),
    )


def _eu2040(points: Any, params: ParameterSet) -> dict[str, Any]:
    result = eu2040(points, params)
    rows = [[y.to_dict()[k] for k in EU2040_COLUMNS] for y in result.years]
    xs = [str(y.year) for y in result.years]
    chart = charts.line_chart(
        _("Net emissions against the 2040 path"),
        xs,
        [
            charts.Series(_("net emissions"), [y.net_emissions for y in result.years]),
            charts.Series(
                _("accounted (with credits counted)"), [y.accounted for y in result.years]
            ),
            charts.Series(_("path limit"), [y.path_limit for y in result.years]),
        ],
        value_text=ui.num,
    )
    return {
        "result": result,
        "summary": result.summary(),
        "rows": rows,
        "columns": EU2040_COLUMNS,
        "chart": chart,
        "trace": trace_view(result.trace),
        "table": Table("eu2040_trajectory", EU2040_COLUMNS, rows),
    }


def _esr(series: Any, base: Decimal | None, params: ParameterSet) -> dict[str, Any]:
    result = esr(series, params, base)
    rows = [[r.to_dict()[k] for k in ESR_COLUMNS] for r in result.rows]
    xs = [str(r.year) for r in result.rows]
    chart = charts.line_chart(
        _("ESR emissions against the annual allocations"),
        xs,
        [
            charts.Series(_("emissions"), [r.emissions for r in result.rows]),
            charts.Series(_("annual emission allocation (AEA)"), [r.aea for r in result.rows]),
            charts.Series(_("balance"), [r.balance for r in result.rows]),
        ],
        value_text=ui.num,
    )
    return {
        "result": result,
        "rows": rows,
        "columns": ESR_COLUMNS,
        "chart": chart,
        "trace": trace_view(result.trace),
        "unverified": sorted({p.name for p in result.trace.flagged()}),
        "table": Table("esr_nl_compliance", ESR_COLUMNS, rows),
    }


@router.get("/vehicles/eu2040", response_class=HTMLResponse)
def eu2040_page(request: Request) -> HTMLResponse:
    return ui.render(request, "vehicles/eu2040.html", _series_context("eu2040"))


@router.post("/vehicles/eu2040", response_class=HTMLResponse)
async def eu2040_compute(request: Request) -> HTMLResponse:
    return await _series_page(request, "eu2040")


@router.get("/vehicles/esr", response_class=HTMLResponse)
def esr_page(request: Request) -> HTMLResponse:
    return ui.render(request, "vehicles/esr.html", _series_context("esr"))


@router.post("/vehicles/esr", response_class=HTMLResponse)
async def esr_compute(request: Request) -> HTMLResponse:
    return await _series_page(request, "esr")


# ----------------------------------------------------------------------------- downloads


@router.get("/vehicles/example/{kind}")
def example_file(kind: str) -> Response:
    """The shipped example input files (not real data), as downloads."""
    if kind not in EXAMPLES:
        raise NotFound(msg("no example file %(kind)s", kind=repr(kind)))
    return ui.download(example_path(kind).read_bytes(), f"example_{EXAMPLES[kind]}")


@router.post("/vehicles/export")
async def export(request: Request) -> Response:
    form = await request.form()
    key, table, fmt = (forms.text(form, k, limit=TEXT_LIMIT) for k in ("result", "table", "fmt"))
    t = store(request).get(_owner(request), key).get(table)
    if t is None:
        raise NotFound(_gone())
    return ui.export(fmt, t.name, t.columns, t.rows)
