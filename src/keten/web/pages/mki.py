"""MKI pages (issue #6, "Web pages and exports"), no account needed: the project page (MKI total,
by module, element, material group and indicator, with charts), variant comparison, the tender
evaluation table (both award methods, ties shown), the material-ceiling check, and CSV / Excel
export of every result table.

The pages compute exactly what ``keten mki project|compare|award|check`` compute: the uploaded
files are read by the CLI's readers (:mod:`keten.io.mki_files`) and passed to the same domain
functions (:func:`keten.mki.project.project_mki`, :func:`keten.mki.compare.compare`,
:func:`keten.mki.award.rank_bids`, :func:`keten.mki.ceilings.check_batches`). A file the
readers refuse is shown next to its field with the reader's one-line message (file, row, field),
the file named as the user uploaded it. The example files of ``examples/mki`` can be chosen
explicitly; results computed from them are labelled as example input.

Result tables are kept for one hour in the server process (:class:`ResultStore`), bound to the
visitor's CSRF token, so that an export holds exactly the rows the page showed.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from starlette.datastructures import FormData

import keten
from keten.core.errors import KetenError, ParameterError, UnknownValueError
from keten.core.messages import msg
from keten.core.quantity import parse_number, tidy
from keten.core.trace import Trace
from keten.io.csvfile import MAX_AMOUNT, MAX_AMOUNT_TEXT
from keten.io.mki_files import (
    read_batches,
    read_bids,
    read_ceilings,
    read_profiles,
    read_project,
)
from keten.mki.award import Method, rank_bids
from keten.mki.ceilings import check_batches, param_ceilings
from keten.mki.compare import compare
from keten.mki.project import ProjectResult, project_mki
from keten.mki.weights import load_weighting_set
from keten.registry.service import NotFound
from keten.web import charts, forms, i18n, ui
from keten.web.forms import Checked, text
from keten.web.results import BoundedStore

router = ui.page_router()
_ = i18n.gettext
Opts = TypeVar("Opts")  # a page's options read from its form

#: The repository's example inputs (absent in an installed wheel: the option is then hidden).
EXAMPLES = Path(keten.__file__).resolve().parents[2] / "examples"
MAX_UPLOAD = 5_000_000  # bytes per file: a project of tens of thousands of elements
WEIGHTING_SETS = ("1", "2")
AWARD_METHODS = ("mki-w", "bounded")
BOTH = "both"


# ----------------------------------------------------------------------------- result tables


@dataclass
class Table:
    """One result table: ``columns`` are the export (and CLI) column names, ``headers`` the
    translated column titles shown on the page; ``rows`` hold the exact values of both."""

    name: str
    title: str
    columns: list[str]
    headers: list[str]
    rows: list[list[Any]]
    chart: Markup | None = None

    def numeric(self, j: int) -> bool:
        return any(
            isinstance(r[j], int | float | Decimal) and not isinstance(r[j], bool)
            for r in self.rows
        )


STORE: BoundedStore[dict[str, Table]] = BoundedStore(
    max_items=200,
    max_age=3600.0,
    missing=lambda: _("This result is no longer available; compute it again."),
)
"""Result tables of recent computations per visitor (bounded, one hour), for the exports."""


def owner(request: Request) -> str:
    """Who may download a stored result: the visitor with this CSRF token (session or cookie)."""
    return ui.viewer(request).csrf


def keep(request: Request, tables: Sequence[Table]) -> str:
    """Store the result tables for the visitor's exports; the id to export them with."""
    return STORE.put(owner(request), {t.name: t for t in tables})


def export_response(request: Request, token: str, table: str, fmt: str) -> Response:
    t = STORE.get(owner(request), token).get(table)
    if t is None:
        raise NotFound(_("This result has no such table."))
    return ui.export(fmt, t.name, t.columns, t.rows)


# ----------------------------------------------------------------------------- form input


def examples_available(area: str, files: Sequence[str]) -> bool:
    return all((EXAMPLES / area / f).is_file() for f in files)


def source_choice(form: FormData, c: Checked, area: str, files: Sequence[str]) -> bool:
    """Whether the visitor chose the example files (only when they exist)."""
    choice = text(form, "source", c) or "upload"
    if choice == "example" and examples_available(area, files):
        return True
    if choice not in ("upload", "example"):
        c.errors["source"] = _("Choose your own files or the example files.")
    elif choice == "example":
        c.errors["source"] = _("The example files are not available on this server.")
    return False


def example(c: Checked, area: str, name: str, filename: str) -> Path:
    path = EXAMPLES / area / filename
    c.names[str(path)] = (name, f"examples/{area}/{filename}")
    c.values[f"{name}_name"] = f"examples/{area}/{filename}"
    return path


def weighting_set(form: FormData, c: Checked) -> str:
    value = text(form, "weighting_set", c) or "2"
    if value not in WEIGHTING_SETS:
        c.errors["weighting_set"] = _("Choose weighting set 1 or 2.")
    return value


def calc_date(form: FormData, c: Checked) -> dt.date:
    raw = text(form, "date", c)
    if not raw:
        c.values["date"] = dt.date.today().isoformat()
        return dt.date.today()
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        c.errors["date"] = _("Enter a date as YYYY-MM-DD, e.g. 2025-09-01.")
        return dt.date.today()


def number(form: FormData, name: str, c: Checked, *, required: bool = False) -> Decimal | None:
    raw = text(form, name, c)
    if not raw:
        if required:
            c.errors[name] = _("Enter a number.")
        return None
    try:
        value = parse_number(raw)
    except ValueError:
        c.errors[name] = _("Enter a number with at most six decimals, e.g. 100 or 2,5.")
        return None
    if abs(value) >= MAX_AMOUNT:  # the readers' sanity bound of amounts (GEN-01; larger: a 500)
        c.errors[name] = str(msg("too large (limit %(limit)s)", limit=MAX_AMOUNT_TEXT))
        return None
    return value


def period_years(form: FormData, c: Checked) -> Decimal | None:
    p = number(form, "period", c)
    if p is not None and p <= 0:
        c.errors["period"] = _("The reference period must be more than zero years.")
    return p


# ----------------------------------------------------------------------------- project


def breakdown_rows(result: ProjectResult) -> list[list[Any]]:
    """The rows of ``keten mki project --format csv``: breakdown, key, eur."""
    rows: list[list[Any]] = [["total", "mki_eur", tidy(result.mki_eur)]]
    for name, part in (
        ("module", result.by_module),
        ("element", result.by_element),
        ("material_group", result.by_material_group),
        ("indicator", result.by_indicator),
    ):
        rows += [[name, k, tidy(v)] for k, v in part.items()]
    return rows


def eur_chart(title: str, part: dict[str, Decimal]) -> Markup:
    return charts.bar_chart(
        title, list(part), [charts.Series(_("MKI"), list(part.values()))], unit="EUR"
    )


def parameter_table(trace: Trace) -> Table:
    d = trace.to_dict()
    return Table(
        "parameters",
        _("Parameters used (prices and surcharges)"),
        ["name", "period", "value", "unit", "status", "source"],
        [_("Parameter"), _("Period"), _("Value"), _("Unit"), _("Status"), _("Source")],
        [
            [p["name"], p["period"], Decimal(p["value"]), p["unit"], p["status"], p["source"]]
            for p in d["parameters"]
        ],
    )


def project_tables(result: ProjectResult) -> list[Table]:
    eur = _("MKI (EUR)")
    return [
        Table(
            "mki-modules",
            _("MKI by life-cycle module"),
            ["module", "eur"],
            [_("Module"), eur],
            [[k, tidy(v)] for k, v in result.by_module.items()],
            eur_chart(_("MKI by life-cycle module"), result.by_module),
        ),
        Table(
            "mki-elements",
            _("MKI by element"),
            ["element_id", "replacements", "eur"],
            [_("Element"), _("Replacements"), eur],
            [[k, result.replacements.get(k), tidy(v)] for k, v in result.by_element.items()],
            eur_chart(_("MKI by element"), result.by_element),
        ),
        Table(
            "mki-material-groups",
            _("MKI by material group"),
            ["material_group", "eur"],
            [_("Material group"), eur],
            [[k, tidy(v)] for k, v in result.by_material_group.items()],
        ),
        Table(
            "mki-indicators",
            _("MKI by indicator"),
            ["indicator", "eur"],
            [_("Indicator"), eur],
            [[k, tidy(v)] for k, v in result.by_indicator.items()],
        ),
        Table(
            "mki-breakdown",
            _("All breakdowns (as keten mki project --format csv)"),
            ["breakdown", "key", "eur"],
            [_("Breakdown"), _("Key"), eur],
            breakdown_rows(result),
        ),
        parameter_table(result.trace),
    ]


class Settings(NamedTuple):
    """The options of the project and comparison forms (``keten mki project`` options)."""

    wset: str
    day: dt.date
    period: Decimal | None
    include_d: bool


def project_settings(form: FormData, c: Checked) -> Settings:
    wset = weighting_set(form, c)
    day = calc_date(form, c)
    period = period_years(form, c)
    return Settings(wset, day, period, text(form, "include_d", c) == "1")


def compute_project(project: Path, profiles: Path, s: Settings, c: Checked) -> ProjectResult | None:
    """Read and compute as ``keten mki project`` does; refusals go next to their field."""
    try:
        profs = read_profiles(profiles, s.wset)
        elements = read_project(project, profs)
        return project_mki(
            elements,
            profs,
            Trace(load_weighting_set(s.wset)),
            weighting_set=s.wset,
            day=s.day,
            period=s.period,
            include_d=s.include_d,
        )
    except UnknownValueError as exc:  # a price not found (six of set 2): unknown on every day
        c.refuse(exc)
    except ParameterError as exc:  # no price or surcharge valid on the chosen date
        c.errors.setdefault("date", str(exc).splitlines()[0])
    except KetenError as exc:
        c.refuse(exc)
    return None


def set_options() -> list[tuple[str, str]]:
    return [
        ("2", _("Set 2 (EN 15804+A2), from 1 July 2024")),
        ("1", _("Set 1 (EN 15804+A1, CML)")),
    ]


def base_context(page: str, **extra: Any) -> dict[str, Any]:
    ctx: dict[str, Any] = {
        "page": page,
        "set_options": set_options(),
        "c_errors": {},
        "c_values": {"weighting_set": "2", "date": dt.date.today().isoformat(), "source": "upload"},
        "result": None,
        "tables": [],
        "token": "",
        "is_example": False,
        "examples": False,
    }
    ctx.update(extra)
    return ctx


def render(
    request: Request, page: str, c: Checked | None = None, status: int = 200, **extra: Any
) -> HTMLResponse:
    ctx = base_context(page, **extra)
    if c is not None:
        ctx["c_errors"], ctx["c_values"] = c.errors, {**ctx["c_values"], **c.values}
    return ui.render(request, f"mki/{page}.html", ctx, status=status)


@dataclass(frozen=True)
class Input:
    """An input file of a page: its form field and the example file that may stand for it."""

    name: str
    filename: str
    required: bool = True


def filenames(inputs: Sequence[Input]) -> tuple[str, ...]:
    return tuple(i.filename for i in inputs)


async def calculate(
    request: Request,
    page: str,
    inputs: Sequence[Input],
    options: Callable[[FormData, Checked], Opts],
    compute: Callable[[Opts, dict[str, Path], Checked], dict[str, Any] | None],
    **shown: Any,
) -> HTMLResponse:
    """A page's POST: read the options, then the input files (the uploads, or the example files
    when chosen), ``compute`` what the page shows (its ``tables`` kept for the exports) — or show
    the form again with every refusal next to its field (422)."""
    form = await request.form()
    c = Checked()
    ex = examples_available("mki", filenames(inputs))
    is_example = source_choice(form, c, "mki", filenames(inputs))
    chosen = options(form, c)
    out = None
    with tempfile.TemporaryDirectory() as tmp:
        paths: dict[str, Path] = {}
        for i in inputs:
            if is_example:
                path: Path | None = example(c, "mki", i.name, i.filename)
            else:
                path = await forms.save(
                    form, i.name, c, Path(tmp), limit=MAX_UPLOAD, required=i.required
                )
            if path is not None:
                paths[i.name] = path
        if not c.errors and all(i.name in paths for i in inputs if i.required):
            out = compute(chosen, paths, c)
    if c.errors or out is None:
        return render(request, page, c, status=422, examples=ex, **shown)
    token = keep(request, out["tables"])
    return render(request, page, c, examples=ex, token=token, is_example=is_example, **shown, **out)


PROJECT_FILES = (Input("project", "project.csv"), Input("profiles", "profiles.csv"))


@router.get("/mki", response_class=HTMLResponse)
def project_page(request: Request) -> HTMLResponse:
    return render(request, "project", examples=examples_available("mki", filenames(PROJECT_FILES)))


def project_shown(s: Settings, paths: dict[str, Path], c: Checked) -> dict[str, Any] | None:
    result = compute_project(paths["project"], paths["profiles"], s, c)
    return None if result is None else {"result": result, "tables": project_tables(result)}


@router.post("/mki", response_class=HTMLResponse)
async def project_post(request: Request) -> HTMLResponse:
    return await calculate(request, "project", PROJECT_FILES, project_settings, project_shown)


@router.get("/mki/export/{token}/{table}.{fmt}")
def export(request: Request, token: str, table: str, fmt: str) -> Response:
    return export_response(request, token, table, fmt)


# ----------------------------------------------------------------------------- compare


COMPARE_FILES = (
    Input("project", "project.csv"),
    Input("variant", "variant.csv"),
    Input("profiles", "profiles.csv"),
)


def compare_tables(data: dict[str, Any], a: ProjectResult, b: ProjectResult) -> list[Table]:
    heads = [_("Breakdown"), _("Key"), _("Variant A (EUR)"), _("Variant B (EUR)")]
    heads.append(_("Difference B − A (EUR)"))
    cols = ["breakdown", "key", "a_eur", "b_eur", "difference_eur"]

    def rows(lines: list[dict[str, Any]]) -> list[list[Any]]:
        return [[ln[k] for k in cols] for ln in lines]

    def pair(title: str, pa: dict[str, Decimal], pb: dict[str, Decimal]) -> Markup:
        keys = list(pa) + [k for k in pb if k not in pa]
        return charts.bar_chart(
            title,
            keys,
            [
                charts.Series(_("Variant A"), [pa.get(k) for k in keys]),
                charts.Series(_("Variant B"), [pb.get(k) for k in keys]),
            ],
            unit="EUR",
        )

    modules = [ln for ln in data["lines"] if ln["breakdown"] in ("total", "module")]
    elements = [ln for ln in data["lines"] if ln["breakdown"] == "element"]
    tables = [
        Table(
            "compare-modules",
            _("By life-cycle module"),
            cols,
            heads,
            rows(modules),
            pair(_("MKI by life-cycle module"), a.by_module, b.by_module),
        ),
        Table(
            "compare-elements",
            _("By element"),
            cols,
            heads,
            rows(elements),
            pair(_("MKI by element"), a.by_element, b.by_element),
        ),
        Table(
            "compare-lines",
            _("All breakdowns (as keten mki compare --format csv)"),
            cols,
            heads,
            rows(data["lines"]),
        ),
    ]
    for kind, title in (
        ("element", _("Largest causes by element")),
        ("indicator", _("Largest causes by indicator")),
        ("module", _("Largest causes by module")),
    ):
        tables.append(Table(f"causes-{kind}", title, cols, heads, rows(data[f"causes_by_{kind}"])))
    return tables


@router.get("/mki/compare", response_class=HTMLResponse)
def compare_page(request: Request) -> HTMLResponse:
    return render(request, "compare", examples=examples_available("mki", filenames(COMPARE_FILES)))


def variant_notes(a: Sequence[str], b: Sequence[str]) -> list[str]:
    """The notes of both variants, each saying which variant it is about (a note such as "module
    D excluded: -116 EUR not counted" differs per variant); a note of both is shown once."""
    out = []
    for note in a:
        if note in b:
            out.append(_("Variants A and B: %(note)s") % {"note": note})
        else:
            out.append(_("Variant A: %(note)s") % {"note": note})
    out += [_("Variant B: %(note)s") % {"note": n} for n in b if n not in a]
    return out


def compare_shown(s: Settings, paths: dict[str, Path], c: Checked) -> dict[str, Any] | None:
    a = compute_project(paths["project"], paths["profiles"], s, c)
    b = compute_project(paths["variant"], paths["profiles"], s, c) if a else None
    if a is None or b is None:
        return None
    data = compare(a, b)
    return {
        "result": data,
        "notes": variant_notes(a.notes, b.notes),
        "flagged": sorted(set(a.flagged) | set(b.flagged)),
        "tables": compare_tables(data, a, b),
    }


@router.post("/mki/compare", response_class=HTMLResponse)
async def compare_post(request: Request) -> HTMLResponse:
    return await calculate(request, "compare", COMPARE_FILES, project_settings, compare_shown)


# ----------------------------------------------------------------------------- tender


TENDER_FILES = (Input("bids", "bids.csv"),)


def method_options() -> list[tuple[str, str]]:
    return [
        (BOTH, _("Both methods side by side")),
        ("mki-w", _("MKI-W: fictitious price = price + factor × MKI")),
        ("bounded", _("Bounded fictitious discount between an upper and a lower MKI bound")),
    ]


def award_methods(form: FormData, c: Checked) -> list[Method]:
    choice = text(form, "method", c) or BOTH
    names = list(AWARD_METHODS) if choice == BOTH else [choice]
    if any(n not in AWARD_METHODS for n in names):
        c.errors["method"] = _("Choose an award method.")
        return []
    factor = number(form, "factor", c, required="mki-w" in names)
    upper = number(form, "upper", c, required="bounded" in names)
    lower = number(form, "lower", c, required="bounded" in names)
    max_discount = number(form, "max_discount", c, required="bounded" in names)
    if c.errors:
        return []
    out = []
    for n in names:
        try:
            out.append(
                Method(n, factor=factor, upper=upper, lower=lower, max_discount=max_discount)
            )
        except KetenError as exc:
            english = exc.english()  # the field is chosen on the English words
            where = next(
                (
                    f
                    for key, f in (
                        ("discount", "max_discount"),
                        ("factor", "factor"),
                        ("upper", "upper"),
                        ("lower", "lower"),
                    )
                    if key in english
                ),
                "method",
            )
            c.errors.setdefault(where, str(exc))  # shown in the page's language
    return out


def method_title(m: Method) -> str:
    if m.name == "mki-w":
        return _("MKI-W, factor %(f)s") % {"f": ui.num(m.factor)}
    return _("Bounded discount: upper %(u)s, lower %(l)s, maximum discount %(d)s EUR") % {
        "u": ui.num(m.upper),
        "l": ui.num(m.lower),
        "d": ui.num(m.max_discount),
    }


def ranking_table(m: Method, rows: list[dict[str, Any]], trace: Trace) -> Table:
    formula = {s.label: s.formula for s in trace.steps}
    cols = ["bidder", "price_eur", "mki_eur", "fictitious_price_eur", "rank", "tie", "calculation"]
    heads = [_("Bidder"), _("Price (EUR)"), _("Offered MKI (EUR)"), _("Fictitious price (EUR)")]
    heads += [_("Rank"), _("Tie"), _("Calculation")]
    return Table(
        f"award-{m.name}",
        method_title(m),
        cols,
        heads,
        [
            [
                r["bidder"],
                r["price_eur"],
                r["mki_eur"],
                r["fictitious_price_eur"],
                r["rank"],
                r["tie"],
                formula.get(f"bid {r['bidder']}", ""),
            ]
            for r in rows
        ],
        charts.bar_chart(
            _("Fictitious price per bidder"),
            [r["bidder"] for r in rows],
            [charts.Series(m.name, [r["fictitious_price_eur"] for r in rows])],
            unit="EUR",
        ),
    )


@router.get("/mki/tender", response_class=HTMLResponse)
def tender_page(request: Request) -> HTMLResponse:
    return render(
        request,
        "tender",
        examples=examples_available("mki", filenames(TENDER_FILES)),
        method_options=method_options(),
    )


def tender_shown(
    methods: list[Method], paths: dict[str, Path], c: Checked
) -> dict[str, Any] | None:
    tables: list[Table] = []
    try:
        bids = read_bids(paths["bids"])
        pset = load_weighting_set("2")  # only carries the trace; no price is used
        for m in methods:
            trace = Trace(pset)
            tables.append(ranking_table(m, rank_bids(bids, m, trace), trace))
    except KetenError as exc:
        c.refuse(exc, default="bids")
    return {"result": True, "tables": tables} if tables else None


@router.post("/mki/tender", response_class=HTMLResponse)
async def tender_post(request: Request) -> HTMLResponse:
    return await calculate(
        request,
        "tender",
        TENDER_FILES,
        award_methods,
        tender_shown,
        method_options=method_options(),
    )


# ----------------------------------------------------------------------------- ceilings


CEILING_FILES = (Input("batches", "batches.csv"), Input("ceilings", "ceilings.csv", False))
CEILING_COLUMNS = [
    "batch_id",
    "material",
    "product_group",
    "unit",
    "mki_eur_per_unit",
    "ceiling_eur_per_unit",
    "margin_eur_per_unit",
    "margin_percent",
    "result",
    "ceiling_source",
]


def ceiling_table(rows: list[dict[str, Any]]) -> Table:
    heads = [_("Batch"), _("Material"), _("Product group"), _("Unit"), _("MKI per unit (EUR)")]
    heads += [_("Ceiling per unit (EUR)"), _("Margin per unit (EUR)"), _("Margin (%)")]
    heads += [_("Result"), _("Source of the ceiling")]
    return Table(
        "ceiling-check",
        _("Delivered batches against the ceilings"),
        CEILING_COLUMNS,
        heads,
        [[r[k] for k in CEILING_COLUMNS] for r in rows],
    )


@router.get("/mki/ceilings", response_class=HTMLResponse)
def ceilings_page(request: Request) -> HTMLResponse:
    return render(request, "ceilings", examples=examples_available("mki", filenames(CEILING_FILES)))


def ceiling_options(form: FormData, c: Checked) -> tuple[str, dt.date]:
    return weighting_set(form, c), calc_date(form, c)


def ceilings_shown(
    options: tuple[str, dt.date], paths: dict[str, Path], c: Checked
) -> dict[str, Any] | None:
    wset, day = options
    ceilings = paths.get("ceilings")
    try:
        trace = Trace(load_weighting_set(wset))
        table = read_ceilings(ceilings) if ceilings else param_ceilings(trace, day)
        if not table:
            c.errors["ceilings"] = _(
                "Weighting set %(set)s has no published ceilings valid on %(day)s; "
                "upload a ceilings file."
            ) % {"set": wset, "day": day.isoformat()}
            return None
        tables = [ceiling_table(check_batches(read_batches(paths["batches"]), table, trace))]
        if trace.used:
            tables.append(parameter_table(trace))
    except KetenError as exc:
        c.refuse(exc, default="batches")
        return None
    return {"result": True, "tables": tables, "published": ceilings is None}


@router.post("/mki/ceilings", response_class=HTMLResponse)
async def ceilings_post(request: Request) -> HTMLResponse:
    return await calculate(request, "ceilings", CEILING_FILES, ceiling_options, ceilings_shown)
