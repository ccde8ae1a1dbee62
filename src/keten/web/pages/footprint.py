"""Chain-emission pages (issue #7), no account needed: MRIO accounts per region (production vs
consumption, imports, exports; optionally a region's national footprint view), a region's
national footprint over several MRIO years with user-set non-binding targets and the distance to
them (``/footprint/national``, FP-08, FP-45), the
carbon-leakage check of a scenario, and a company's scope 3.1 from a purchases file with
optional supplier PACT footprints; CSV and Excel export of every result table.

The pages compute what ``keten footprint accounts|national|leakage|scope3`` compute, with the
CLI's readers (:mod:`keten.io.footprint_files`) and the same domain functions. The MRIO comes
from one of the sources the CLI reads (``--mrio``): pymrio's test system (offered when pymrio
is installed), the example MRIO of ``examples/footprint`` (labelled as example input), or an
uploaded ``.zip`` of a keten Parquet MRIO folder (``keten-mrio.json`` with its Parquet files,
FP-06) — a zip without ``keten-mrio.json`` is handed to pymrio as EXIOBASE 3, as the CLI does
with a ``.zip`` path. Nothing is downloaded.
"""

from __future__ import annotations

import importlib.util
import tempfile
import zipfile
from dataclasses import replace
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from keten.core.errors import InputError, KetenError, ParameterError
from keten.core.messages import msg
from keten.core.params import load_set
from keten.core.quantity import tidy
from keten.core.trace import Trace
from keten.footprint.accounts import accounts, multipliers, upstream_multipliers
from keten.footprint.leakage import leakage
from keten.footprint.mrio import MRIO
from keten.footprint.national import (
    NationalFootprint,
    Target,
    distance_to_targets,
    national_view,
)
from keten.footprint.pact import build_footprint
from keten.footprint.scope3 import SpendFactors, scope3
from keten.io.footprint_files import (
    LAYOUT_FILE,
    TARGET_COLUMNS,
    load_mrio,
    read_deflators,
    read_pact,
    read_pcf_entries,
    read_purchases,
    read_scenario,
    read_targets,
)
from keten.web import charts, forms, i18n, ui
from keten.web.forms import Checked, text
from keten.web.pages.mki import (
    EXAMPLES,
    MAX_UPLOAD,
    Table,
    example,
    export_response,
    keep,
    number,
)

router = ui.page_router()
_ = i18n.gettext

MAX_MRIO = 200_000_000  # bytes of an uploaded MRIO zip
MAX_UNZIPPED = 1_000_000_000  # bytes after unpacking
MAX_MEMBERS = 5_000
EXAMPLE_MRIO = EXAMPLES / "footprint" / "tiny-mrio"
PARAMS = "beleidsagenda-2026"
ACCOUNTS = ("production", "consumption", "imports", "exports")
MAX_CHARTS = 4  # stressors drawn as charts (the table holds them all)
EXAMPLE_COMPANY = ("Jansen", "urn:kvk:12345678", "2026-01-01T00:00:00Z")


def has_pymrio() -> bool:
    return importlib.util.find_spec("pymrio") is not None


def example_mrio() -> bool:
    return (EXAMPLE_MRIO / LAYOUT_FILE).is_file()


def mrio_options(optional: bool = False) -> list[tuple[str, str]]:
    out = []
    if optional:
        out.append(("none", _("No MRIO (no spend-based or hybrid lines)")))
    out.append(("upload", _("Upload an MRIO (.zip)")))
    if has_pymrio():
        out.append(("pymrio-test", _("pymrio test system (6 regions × 8 sectors, fictitious)")))
    if example_mrio():
        out.append(("example", _("Example MRIO examples/footprint/tiny-mrio (example input)")))
    return out


# ----------------------------------------------------------------------------- MRIO input


def _safe_extract(zf: zipfile.ZipFile, root: Path, shown: str) -> None:
    members = zf.infolist()
    if len(members) > MAX_MEMBERS:
        raise InputError(
            msg("more than %(max_members)s files in the zip", max_members=MAX_MEMBERS), file=shown
        )
    if sum(m.file_size for m in members) > MAX_UNZIPPED:
        raise InputError(
            msg("unpacks to more than %(max_bytes)s bytes", max_bytes=MAX_UNZIPPED), file=shown
        )
    for m in members:
        p = PurePosixPath(m.filename)
        if p.is_absolute() or ".." in p.parts or "\\" in m.filename:
            raise InputError(
                msg("unsafe path %(filename)s in the zip", filename=repr(m.filename)), file=shown
            )
        if (m.external_attr >> 16) & 0o170000 == 0o120000:
            raise InputError(
                msg("symbolic link %(filename)s in the zip", filename=repr(m.filename)), file=shown
            )
    zf.extractall(root)


def _layout_folder(zf: zipfile.ZipFile) -> str | None:
    """The folder in the zip holding ``keten-mrio.json`` (at the top or one level down)."""
    for name in zf.namelist():
        p = PurePosixPath(name)
        if p.name == LAYOUT_FILE and len(p.parts) <= 2:
            return str(p.parent) if len(p.parts) == 2 else ""
    return None


def _refuse_mrio(c: Checked, exc: KetenError, root: Path, shown: str) -> None:
    if isinstance(exc, InputError):
        file = exc.file or ""
        if file.startswith(str(root)):
            inner = file[len(str(root)) :].lstrip("/")
            file = f"{shown}:{inner}" if inner else shown
        elif not file:
            file = shown
        c.errors.setdefault(
            "mrio", str(InputError(exc.translatable, file=file, row=exc.row, field=exc.field))
        )
    else:
        c.errors.setdefault("mrio", str(exc).splitlines()[0])


async def load_system(
    form: FormData, c: Checked, tmp: Path, *, optional: bool = False
) -> MRIO | None:
    """The MRIO the visitor chose; ``None`` with an error next to the field otherwise (or, when
    ``optional``, when no MRIO was chosen)."""
    default = "none" if optional else "upload"
    choice = text(form, "mrio_source", c) or default
    offered = [v for v, _label in mrio_options(optional)]
    if choice not in offered:
        c.errors["mrio_source"] = _("Choose one of the offered MRIO sources.")
        return None
    if choice == "none":
        return None
    try:
        if choice == "pymrio-test":
            c.values["mrio_name"] = _("pymrio test system")
            return load_mrio("pymrio-test")
        if choice == "example":
            c.values["mrio_name"] = "examples/footprint/tiny-mrio"
            return load_mrio(str(EXAMPLE_MRIO))
    except KetenError as exc:
        _refuse_mrio(c, exc, tmp, choice)
        return None
    path = await forms.save(form, "mrio", c, tmp, limit=MAX_MRIO)
    if path is None:
        return None
    shown = c.names[str(path)][1]
    root = tmp / "mrio"
    try:
        if not zipfile.is_zipfile(path):
            raise InputError(
                msg("not a zip file (zip the keten Parquet MRIO folder with keten-mrio.json)"),
                file=shown,
            )
        with zipfile.ZipFile(path) as zf:
            folder = _layout_folder(zf)
            if folder is not None:
                _safe_extract(zf, root, shown)
                return load_mrio(str(root / folder) if folder else str(root))
        if not has_pymrio():
            raise InputError(
                msg(
                    "no %(layout_file)s in the zip (keten Parquet MRIO layout); "
                    "pymrio, needed for EXIOBASE zips, is not installed",
                    layout_file=LAYOUT_FILE,
                ),
                file=shown,
            )
        zpath = path.with_suffix(".zip")
        path.rename(zpath)
        system = load_mrio(str(zpath))
        return system
    except KetenError as exc:
        _refuse_mrio(c, exc, root, shown)
        return None
    except (zipfile.BadZipFile, OSError) as exc:
        c.errors["mrio"] = str(
            InputError(msg("unreadable zip: %(reason)s", reason=str(exc)), file=shown)
        )
        return None


def fmt_float(v: float) -> float:
    """Floats as the engine returns them (the table and the exports show the same value)."""
    return float(v)


# ----------------------------------------------------------------------------- accounts


def accounts_tables(system: MRIO, extension: str) -> tuple[list[Table], Any]:
    acc = accounts(system, extension)
    regional = acc.regional()
    units = dict(zip(acc.stressors, acc.units, strict=True))
    flat = Table(
        "accounts",
        _("Accounts per region (as keten footprint accounts --format csv)"),
        ["region", "account", "stressor", "value"],
        [_("Region"), _("Account"), _("Stressor"), _("Value")],
        [
            [region, name, s, fmt_float(vals[s])]
            for region, tables in regional.items()
            for name, vals in tables.items()
            for s in acc.stressors
        ],
    )
    tables = []
    for k, s in enumerate(acc.stressors):
        values = [[fmt_float(regional[region][a][s]) for a in ACCOUNTS] for region in acc.regions]
        rows: list[list[Any]] = [
            [region, *v] for region, v in zip(acc.regions, values, strict=True)
        ]
        chart = None
        if k < MAX_CHARTS:
            chart = charts.bar_chart(
                _("Production vs consumption: %(s)s") % {"s": s},
                list(acc.regions),
                [
                    charts.Series(_("production"), [v[0] for v in values]),
                    charts.Series(_("consumption"), [v[1] for v in values]),
                ],
                unit=units[s],
            )
        tables.append(
            Table(
                f"regions-{k + 1}",
                _("%(s)s (%(u)s) per region") % {"s": s, "u": units[s]},
                ["region", "production", "consumption", "imports", "exports"],
                [_("Region"), _("Production"), _("Consumption"), _("Imports"), _("Exports")],
                rows,
                chart,
            )
        )
    return [*tables, flat], acc


def national_headers() -> list[str]:
    """Column headers of a national view: footprint, its split, production and the balance."""
    return [
        _("Footprint"),
        _("Domestic"),
        _("Abroad"),
        _("Abroad share"),
        _("Production"),
        _("Balance (footprint − production)"),
    ]


def national_tables(acc: Any, region: str, stressor: str, year: int | None) -> list[Table]:
    v = national_view(acc, region, stressor, year=year)
    summary = Table(
        "national",
        _("Footprint of %(r)s, %(s)s (%(u)s)") % {"r": region, "s": stressor, "u": v.unit},
        ["total", "domestic", "abroad", "abroad_share", "production", "balance"],
        national_headers(),
        [[v.total, v.domestic, v.abroad, v.abroad_share, v.production, v.balance]],
    )
    groups = Table(
        "national-groups",
        _("By product group"),
        ["group", "total", "domestic", "abroad"],
        [_("Product group"), _("Footprint"), _("Domestic"), _("Abroad")],
        [[g, d["total"], d["domestic"], d["abroad"]] for g, d in v.by_group.items()],
    )
    sources = Table(
        "national-sources",
        _("By source region"),
        ["source_region", "emissions"],
        [_("Source region"), _("Emissions")],
        [[q, e] for q, e in v.by_source.items()],
        charts.bar_chart(
            _("Footprint of %(r)s by source region") % {"r": region},
            list(v.by_source),
            [charts.Series(stressor, list(v.by_source.values()))],
            unit=v.unit,
        ),
    )
    return [summary, groups, sources]


def ctx(page: str, c: Checked | None = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "page": page,
        "c_errors": c.errors if c else {},
        "c_values": {"extension": "emissions", "year": "2026", **(c.values if c else {})},
        "mrio_options": mrio_options(page == "scope3"),
        "examples": {
            "scenario": (EXAMPLES / "footprint" / "scenario.yaml").is_file(),
            "purchases": (EXAMPLES / "footprint" / "purchases.csv").is_file(),
        },
        "result": None,
        "tables": [],
        "token": "",
        "is_example": False,
        "notes": [],
    }
    out.update(extra)
    return out


def page_render(
    request: Request, page: str, c: Checked | None = None, status: int = 200, **extra: Any
) -> HTMLResponse:
    return ui.render(request, f"footprint/{page}.html", ctx(page, c, **extra), status=status)


@router.get("/footprint", response_class=HTMLResponse)
def accounts_page(request: Request) -> HTMLResponse:
    return page_render(request, "accounts")


@router.post("/footprint", response_class=HTMLResponse)
async def accounts_post(request: Request) -> HTMLResponse:
    form = await request.form()
    c = Checked()
    extension = text(form, "extension", c) or "emissions"
    region = text(form, "region", c)
    stressor = text(form, "stressor", c)
    tables: list[Table] = []
    system = None
    with tempfile.TemporaryDirectory() as tmp:
        system = await load_system(form, c, Path(tmp))
    if system is not None and not c.errors:
        try:
            tables, acc = accounts_tables(system, extension)
        except InputError as exc:
            c.errors["extension"] = exc.reason
        else:
            if region:
                try:
                    tables = (
                        national_tables(acc, region, stressor or acc.stressors[0], system.year)
                        + tables
                    )
                except InputError as exc:
                    c.errors["stressor" if exc.field == "stressor" else "region"] = exc.reason
    if c.errors or not tables:
        return page_render(request, "accounts", c, status=422)
    assert system is not None
    return page_render(
        request,
        "accounts",
        c,
        result=system,
        tables=tables,
        token=keep(request, tables),
        is_example=c.values.get("mrio_source") in ("example", "pymrio-test"),
    )


@router.get("/footprint/export/{token}/{table}.{fmt}")
def export(request: Request, token: str, table: str, fmt: str) -> Response:
    return export_response(request, token, table, fmt)


# ----------------------------------------------------------------------------- national series

SERIES_ROWS = 3  # MRIO rows the national form starts with
MAX_SERIES = 10  # MRIO years in one time series
TARGET_HEADER = ",".join(TARGET_COLUMNS)


def series_options() -> list[tuple[str, str]]:
    return [("", _("(not used)")), *mrio_options()]


async def load_series_mrio(
    form: FormData, c: Checked, tmp: Path, i: int
) -> tuple[int | None, MRIO | None] | None:
    """Row ``i`` of the MRIO list: (year, MRIO), or None when the row is empty. Errors go next to
    ``mrio_source_i`` / ``mrio_i`` / ``year_i``; the MRIO's own year is used when none is given
    (as ``keten footprint national`` does without ``--year``)."""
    src, file, yname = f"mrio_source_{i}", f"mrio_{i}", f"year_{i}"
    choice = text(form, src, c)
    year_raw = text(form, yname, c)
    has_file = forms.chosen(form.get(file)) is not None
    if not choice and not year_raw and not has_file:
        return None
    year: int | None = None
    if year_raw:
        if len(year_raw) == 4 and forms.digits(year_raw):
            year = int(year_raw)
        else:
            c.errors[yname] = _("Enter a year, e.g. 2024.")
    if not choice:
        c.errors[src] = _("Choose the MRIO of this year.")
        return None
    sub = Checked(values={"mrio_source": choice})
    form_i = FormData([("mrio_source", choice), *[("mrio", v) for v in form.getlist(file)]])
    folder = tmp / f"row-{i}"
    folder.mkdir()
    system = await load_system(form_i, sub, folder)
    for key, message in sub.errors.items():
        c.errors.setdefault(src if key == "mrio_source" else file, message)
    if system is None:
        return (year, None)
    c.values[f"mrio_name_{i}"] = sub.values.get("mrio_name", "")
    if year is None and yname not in c.errors:
        if system.year is None:
            c.errors[yname] = _("This MRIO does not state its year; enter it.")
        year = system.year
    return (year, system)


def read_target_text(raw: str, tmp: Path, shown: str) -> list[Target]:
    """Targets written as the CLI's ``--targets`` CSV (header ``year,value,scope``)."""
    path = tmp / "targets.csv"
    path.write_text(raw if raw.endswith("\n") else raw + "\n", encoding="utf-8")
    try:
        return list(read_targets(path))
    except InputError as exc:
        raise InputError(exc.translatable, file=shown, row=exc.row, field=exc.field) from None


async def series_targets(form: FormData, c: Checked, tmp: Path) -> list[Target]:
    """The targets of the text field or of the uploaded CSV (not both); ``read_targets`` refuses the
    same (year, scope) twice (FP-45)."""
    raw = form.get("targets")
    body = raw.strip() if isinstance(raw, str) else ""
    c.values["targets"] = body[:5000]
    upload = await forms.save(form, "targets_file", c, tmp, limit=MAX_UPLOAD, required=False)
    field = "targets_file" if upload is not None else "targets"
    if upload is not None and body and body != TARGET_HEADER:
        c.errors["targets"] = _("Write the targets here or upload a CSV file, not both.")
        return []
    try:
        if upload is not None:
            shown = c.names[str(upload)][1]
            try:
                targets = list(read_targets(upload))
            except InputError as exc:
                raise InputError(
                    exc.translatable, file=shown, row=exc.row, field=exc.field
                ) from None
        elif not body or body == TARGET_HEADER:
            return []
        elif len(body) > 5000:
            c.errors["targets"] = _("At most %(n)s characters.", n=5000)
            return []
        else:
            targets = read_target_text(body, tmp, _("targets"))
    except KetenError as exc:
        c.errors[field] = str(exc).splitlines()[0]
        return []
    return targets


def as_text_years(d: dict[str, Any]) -> dict[str, Any]:
    return {k: str(v) if k in ("target_year", "latest_year") else v for k, v in d.items()}


def series_tables(
    views: list[NationalFootprint], targets: list[Target], accs: list[Any], region: str
) -> list[Table]:
    """The time series, the distance to each target (``distance_to_targets``, FP-08) for the
    latest year and for every year, and the latest year's groups and source regions."""
    unit, stressor = views[0].unit, views[0].stressor
    cols = ["year", "total", "domestic", "abroad", "abroad_share", "production", "balance"]
    rows: list[list[Any]] = [
        [str(v.year), v.total, v.domestic, v.abroad, v.abroad_share, v.production, v.balance]
        for v in views  # years as text: a year is not shown as a number "2,024"
    ]
    years = sorted({v.year for v in views if v.year is not None} | {t.year for t in targets})
    by_year = {v.year: v for v in views}

    def line(attr: str) -> list[float | None]:
        return [getattr(by_year[y], attr) if y in by_year else None for y in years]

    scope_name = {"total": _("footprint"), "domestic": _("domestic"), "abroad": _("abroad")}
    chart_series = [
        charts.Series(_("Footprint"), line("total")),
        charts.Series(_("Domestic"), line("domestic")),
        charts.Series(_("Abroad"), line("abroad")),
    ]
    for scope in ("total", "domestic", "abroad"):
        mine = {t.year: t.value for t in targets if t.scope == scope}
        if mine:
            chart_series.append(
                charts.Series(
                    _("Target (%(scope)s)", scope=scope_name[scope]),
                    [mine.get(y) for y in years],
                )
            )
    chart = charts.line_chart(
        _("Footprint of %(r)s, %(s)s: domestic and abroad per year", r=region, s=stressor),
        [str(y) for y in years],
        chart_series,
        unit=unit,
    )
    tables = [
        Table(
            "national-series",
            _("Footprint of %(r)s per year, %(s)s (%(u)s)", r=region, s=stressor, u=unit),
            cols,
            [_("Year"), *national_headers()],
            rows,
            chart,
        )
    ]
    if targets:
        d_cols = ["target_year", "scope", "target", "latest_year", "latest", "distance"]
        d_cols += ["distance_pct", "annual_change_needed", "met"]
        d_heads = [_("Target year"), _("Scope"), _("Target"), _("Latest MRIO year")]
        d_heads += [_("Latest value"), _("Distance (value − target)"), _("Distance (%)")]
        d_heads += [_("Change needed per year"), _("Target met")]
        latest = [as_text_years(d.to_dict()) for d in distance_to_targets(views, targets)]
        tables.append(
            Table(
                "national-targets",
                _("Distance to the targets (non-binding), from the latest year (FP-08)"),
                d_cols,
                d_heads,
                [[d[k] for k in d_cols] for d in latest],
            )
        )
        per_year: list[list[Any]] = []
        for t in targets:
            for v in views:
                if v.year is not None and v.year <= t.year:
                    d = as_text_years(distance_to_targets([v], [t])[0].to_dict())
                    per_year.append([d[k] for k in d_cols])
        y_cols = [*d_cols[:3], "year", "value", *d_cols[5:]]
        tables.append(
            Table(
                "national-target-years",
                _("Distance to the targets from each MRIO year"),
                y_cols,
                [
                    _("Target year"),
                    _("Scope"),
                    _("Target"),
                    _("MRIO year"),
                    _("Value"),
                    *d_heads[5:],
                ],
                per_year,
            )
        )
    last = views[-1]
    for part in national_tables(accs[-1], region, stressor, last.year)[1:]:
        tables.append(replace(part, title=f"{part.title} ({last.year})"))
    return tables


def series_ctx(c: Checked | None = None, rows: int = SERIES_ROWS, **extra: Any) -> dict[str, Any]:
    values = {"extension": "emissions", "targets": TARGET_HEADER, **(c.values if c else {})}
    return ctx(
        "national",
        c,
        c_values=values,
        rows=rows,
        max_rows=MAX_SERIES,
        series_options=series_options(),
        **extra,
    )


def series_rows(form: FormData) -> int:
    raw = form.get("rows")
    n = int(raw) if isinstance(raw, str) and forms.digits(raw) else SERIES_ROWS
    return max(1, min(n, MAX_SERIES))


@router.get("/footprint/national", response_class=HTMLResponse)
def national_page(request: Request) -> HTMLResponse:
    return ui.render(request, "footprint/national.html", series_ctx())


@router.post("/footprint/national", response_class=HTMLResponse)
async def national_post(request: Request) -> HTMLResponse:
    """``keten footprint national --mrio … --year … --targets …`` as a page (nothing stored)."""
    form = await request.form()
    c = Checked()
    rows = series_rows(form)
    if form.get("action") == "add_row":
        for i in range(rows):
            text(form, f"mrio_source_{i}", c)
            text(form, f"year_{i}", c)
        for name in ("region", "extension", "stressor"):
            text(form, name, c)
        raw = form.get("targets")
        c.values["targets"] = raw.strip()[:5000] if isinstance(raw, str) else ""
        more = min(rows + 1, MAX_SERIES)
        return ui.render(request, "footprint/national.html", series_ctx(c, more))
    region = text(form, "region", c)
    extension = text(form, "extension", c) or "emissions"
    stressor = text(form, "stressor", c)
    if not region:
        c.errors["region"] = _("Enter a region, e.g. NL.")
    tables: list[Table] = []
    used: list[str] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        targets = await series_targets(form, c, tmp)
        series: list[tuple[int, int | None, MRIO | None]] = []
        for i in range(rows):
            got = await load_series_mrio(form, c, tmp, i)
            if got is not None:
                series.append((i, *got))
    if not series and not any(k.startswith("mrio") for k in c.errors):
        c.errors["mrio_source_0"] = _("Choose at least one MRIO.")
    seen: dict[int, int] = {}
    for i, year, _system in series:
        if year is None:
            continue
        if year in seen:
            c.errors.setdefault(
                f"year_{i}", _("%(year)s is given twice; one MRIO per year.", year=year)
            )
        seen.setdefault(year, i)
    if not c.errors:
        views: list[NationalFootprint] = []
        accs: list[Any] = []
        for i, year, system in sorted(series, key=lambda r: r[1] or 0):
            assert system is not None
            try:
                acc = accounts(system, extension)
                views.append(national_view(acc, region, stressor or acc.stressors[0], year=year))
                accs.append(acc)
                used.append(f"{year}: {c.values.get(f'mrio_name_{i}', '')}")
            except InputError as exc:
                where = exc.field if exc.field in ("region", "stressor") else "extension"
                c.errors.setdefault(where, exc.reason)
                break
        if not c.errors and views:
            try:
                tables = series_tables(views, targets, accs, region)
            except InputError as exc:
                c.errors["targets_file" if "targets_file_name" in c.values else "targets"] = (
                    exc.reason
                )
    if c.errors or not tables:
        return ui.render(request, "footprint/national.html", series_ctx(c, rows), status=422)
    return ui.render(
        request,
        "footprint/national.html",
        series_ctx(
            c,
            rows,
            result=True,
            tables=tables,
            used=used,
            token=keep(request, tables),
            is_example=any(
                c.values.get(f"mrio_source_{i}") in ("example", "pymrio-test")
                for i, _y, _s in series
            ),
        ),
    )


# ----------------------------------------------------------------------------- leakage


def leakage_tables(res: Any) -> list[Table]:
    d = res.to_dict()
    cols = ["scenario", "stressor", "unit", "delta_domestic", "delta_foreign", "delta_global"]
    cols += ["leakage_rate", "threshold", "flag"]
    heads = [_("Scenario"), _("Stressor"), _("Unit"), _("Δ domestic"), _("Δ foreign")]
    heads += [_("Δ global"), _("Leakage rate"), _("Threshold"), _("Flag")]
    return [
        Table("leakage", _("Leakage check"), cols, heads, [[d[k] for k in cols]]),
        Table(
            "leakage-regions",
            _("Change in emissions per region"),
            ["region", "delta"],
            [_("Region"), _("Change (%(u)s)") % {"u": res.unit}],
            [[q, v] for q, v in res.by_region.items()],
            charts.bar_chart(
                _("Change in emissions per region"),
                list(res.by_region),
                [charts.Series(res.stressor, list(res.by_region.values()))],
                unit=res.unit,
            ),
        ),
    ]


@router.get("/footprint/leakage", response_class=HTMLResponse)
def leakage_page(request: Request) -> HTMLResponse:
    return page_render(request, "leakage")


@router.post("/footprint/leakage", response_class=HTMLResponse)
async def leakage_post(request: Request) -> HTMLResponse:
    form = await request.form()
    c = Checked()
    threshold = number(form, "threshold", c)
    choice = text(form, "source", c) or "upload"
    is_example = choice == "example" and ctx("leakage")["examples"]["scenario"]
    tables: list[Table] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        if is_example:
            scenario_path: Path | None = example(c, "footprint", "scenario", "scenario.yaml")
        else:
            scenario_path = await forms.save(form, "scenario", c, Path(tmp), limit=MAX_UPLOAD)
        system = await load_system(form, c, Path(tmp))
        if scenario_path is not None and system is not None and not c.errors:
            try:
                sc = read_scenario(scenario_path)
                if threshold is not None:
                    sc = replace(sc, threshold=float(threshold))
                res = leakage(system, sc)
                tables = leakage_tables(res)
                notes = [res.note] if res.note else []
            except InputError as exc:
                if exc.file is None and exc.field == "threshold" and threshold is not None:
                    c.errors["threshold"] = exc.reason  # the one typed here, not the file's
                elif exc.file is None:
                    # the scenario names the regions, sectors and stressor (as the CLI says)
                    shown = InputError(exc.translatable, file=str(scenario_path), field=exc.field)
                    c.refuse(shown, default="scenario")
                else:
                    c.refuse(exc, default="scenario")
            except KetenError as exc:
                c.refuse(exc, default="scenario")
    if c.errors or not tables:
        return page_render(request, "leakage", c, status=422)
    return page_render(
        request,
        "leakage",
        c,
        result=True,
        tables=tables,
        notes=notes,
        token=keep(request, tables),
        is_example=is_example or c.values.get("mrio_source") in ("example", "pymrio-test"),
    )


# ----------------------------------------------------------------------------- scope 3.1


def spend_factors(
    system: MRIO, extension: str, stressor: str, price_year: int | None
) -> SpendFactors:
    """Per (region, sector) the total and upstream multipliers of one stressor, as
    ``keten footprint scope3 --mrio`` builds them."""
    ext = system.extension(extension)
    k = ext.index(stressor) if stressor else 0
    py = price_year or system.price_year
    if py is None:
        raise InputError(
            msg("the MRIO's price year is unknown; enter it in the price-year field"),
            field="price_year",
        )
    M = multipliers(system, ext)
    up = upstream_multipliers(system, ext, M)
    keys = [(r, s) for r in system.regions for s in system.sectors]
    return SpendFactors(
        stressor=ext.stressors[k],
        unit=ext.units[k],
        money=system.unit,
        price_year=py,
        total={key: float(M[k, i]) for i, key in enumerate(keys)},
        upstream={key: float(up[k, i]) for i, key in enumerate(keys)},
    )


def is_year(raw: str) -> bool:
    """A calendar year as a visitor types it: four digits, not 0000."""
    return len(raw) == 4 and forms.digits(raw) and int(raw) > 0


def example_pacts() -> list[dict[str, Any]]:
    """The PACT footprints of examples/footprint/pcf.csv as ``keten footprint pact export``
    writes them for the example supplier (docs/footprint.md)."""
    name, company_id, created = EXAMPLE_COMPANY
    return [
        build_footprint(entry, name, company_id, created)
        for _row, entry in read_pcf_entries(EXAMPLES / "footprint" / "pcf.csv")
    ]


def _shown(v: Decimal | None) -> Decimal | None:
    """A share or score with the 28 significant digits a page can show (the export the same)."""
    return None if v is None else tidy(+v)


def scope3_tables(res: Any) -> list[Table]:
    line_cols = ["row", "supplier", "product", "method", "category", "kg_co2e"]
    line_cols += ["primary_kg_co2e", "dqr", "basis"]
    heads = [_("Row"), _("Supplier"), _("Product"), _("Method"), _("Category")]
    heads += [_("kg CO2e"), _("of which primary data (kg CO2e)"), _("Data quality (DQR)")]
    heads += [_("Basis")]
    s = res.summary()
    tot_cols = ["category_3_1_kg_co2e", "category_4_kg_co2e", "primary_data_share_pct"]
    tot_cols.append("data_quality_score")
    tables = [
        Table(
            "scope3-totals",
            _("Totals"),
            tot_cols,
            [
                _("Category 3.1 (kg CO2e)"),
                _("Category 4 (kg CO2e)"),
                _("Primary-data share (%)"),
                _("Data-quality score"),
            ],
            [[_shown(s[k]) for k in tot_cols]],
        ),
        Table(
            "scope3-lines",
            _("Lines per purchase (category 3.1 and 4)"),
            line_cols,
            heads,
            [[ln.to_dict()[k] for k in line_cols] for ln in res.lines],
        ),
    ]
    for key, title, head in (
        ("supplier", _("Category 3.1 by supplier"), _("Supplier")),
        ("method", _("Category 3.1 by method"), _("Method")),
        ("product", _("Category 3.1 by product"), _("Product")),
    ):
        part = s[f"by_{key}"]
        tables.append(
            Table(
                f"scope3-{key}",
                title,
                [key, "kg_co2e"],
                [head, _("kg CO2e")],
                [[k, v] for k, v in part.items()],
                charts.bar_chart(
                    title, list(part), [charts.Series("kg CO2e", list(part.values()))], unit="kg"
                )
                if key == "supplier"
                else None,
            )
        )
    return tables


async def _pact_uploads(form: FormData, c: Checked, tmp: Path) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i, item in enumerate(form.getlist("pact")):
        file = forms.chosen(item)
        if file is None:
            continue
        got = await forms.read_file(file, "pact", c, MAX_UPLOAD, "pact.json")
        if got is None:
            return []
        shown, data = got
        path = tmp / f"pact-{i}.json"
        path.write_bytes(data)
        c.names[str(path)] = ("pact", shown)
        try:
            out += read_pact(path)
        except KetenError as exc:
            c.refuse(exc, default="pact")
            return []
    return out


@router.get("/footprint/scope3", response_class=HTMLResponse)
def scope3_page(request: Request) -> HTMLResponse:
    return page_render(request, "scope3")


@router.post("/footprint/scope3", response_class=HTMLResponse)
async def scope3_post(request: Request) -> HTMLResponse:
    form = await request.form()
    c = Checked()
    choice = text(form, "source", c) or "upload"
    is_example = choice == "example" and ctx("scope3")["examples"]["purchases"]
    extension = text(form, "extension", c) or "emissions"
    stressor = text(form, "stressor", c)
    year_raw = text(form, "year", c) or "2026"
    if not is_year(year_raw):
        c.errors["year"] = _("Enter a year, e.g. 2026.")
    py_raw = text(form, "price_year", c)
    if py_raw and not is_year(py_raw):  # 0 was taken as "not given" (the MRIO's price year)
        c.errors["price_year"] = _("Enter a year, e.g. 2020.")
    tables: list[Table] = []
    notes: list[str] = []
    flagged: list[str] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        if is_example:
            purchases: Path | None = example(c, "footprint", "purchases", "purchases.csv")
        else:
            purchases = await forms.save(form, "purchases", c, tmp, limit=MAX_UPLOAD)
        deflators = await forms.save(form, "deflators", c, tmp, limit=MAX_UPLOAD, required=False)
        if deflators is None and is_example:
            deflators = example(c, "footprint", "deflators", "deflators.csv")
        pacts = await _pact_uploads(form, c, tmp)
        if is_example and not pacts:
            pacts = example_pacts()
            c.values["pact_name"] = "examples/footprint/pcf.csv"
        system = await load_system(form, c, tmp, optional=True)
        if purchases is not None and not c.errors:
            try:
                rows = read_purchases(purchases)
                defl = read_deflators(deflators) if deflators else {}
                factors = None
                if system is not None:
                    try:
                        factors = spend_factors(
                            system, extension, stressor, int(py_raw) if py_raw else None
                        )
                    except InputError as exc:
                        field = exc.field if exc.field in ("stressor", "price_year") else None
                        c.errors[field or "extension"] = exc.reason
                if not c.errors:
                    trace = Trace(load_set("footprint", PARAMS))
                    try:
                        res = scope3(rows, trace, int(year_raw), factors, defl, pacts)
                    except ParameterError as exc:  # the reporting year has no ratings
                        c.errors["year"] = str(exc).splitlines()[0]
                    except InputError as exc:
                        shown = c.names[str(purchases)][1]
                        c.errors["purchases"] = str(
                            InputError(exc.translatable, file=shown, row=exc.row, field=exc.field)
                        )
                    else:
                        tables = scope3_tables(res)
                        notes = list(res.notes)
                        flagged = sorted({p.name for p in res.trace.flagged()})
            except KetenError as exc:
                c.refuse(exc, default="purchases")
    if c.errors or not tables:
        return page_render(request, "scope3", c, status=422)
    return page_render(
        request,
        "scope3",
        c,
        result=True,
        tables=tables,
        notes=notes,
        flagged=flagged,
        token=keep(request, tables),
        is_example=is_example or c.values.get("mrio_source") in ("example", "pymrio-test"),
    )
