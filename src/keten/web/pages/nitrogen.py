"""Stikstof pages, no account needed: the farm page (emissions, norm, path, enforcement), the Vbr
buy-out ranking with its map, the sector monitoring and the budget table (Tabel 1 of seed 002).

Every number comes from the nitrogen domain exactly as ``keten nitrogen …`` computes it: input
goes through the CLI's file readers (:mod:`keten.io.nitrogen_files`) — rows entered in a form are
written as a file in the CLI's format first — and then through the domain's public functions
(``farm_emissions``, ``farm_norms``, ``rank_applications``, ``sector_targets``, ``monitor``,
``table``/``check_table``/``track``). Nothing is stored: exports send the input back in hidden
fields and compute again.
"""

from __future__ import annotations

import base64
import binascii
import csv
import datetime as dt
import io
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from fastapi import Request, Response
from fastapi.responses import HTMLResponse
from starlette.datastructures import FormData

import keten
from keten.core.errors import InputError, KetenError, ParameterError, UnknownValueError
from keten.core.messages import msg
from keten.core.params import ParameterSet, load_set
from keten.core.quantity import parse_number, tidy
from keten.io.nitrogen_files import (
    load_catalogue,
    read_applications,
    read_areas,
    read_commitments,
    read_farms,
    read_ghg_factors,
    read_housings,
    read_ladder,
    read_observed_farms,
    read_observed_sectors,
)
from keten.nitrogen import DOMAIN
from keten.nitrogen.budget import COLUMNS, KINDS, TOTAL, check_table, table, track
from keten.nitrogen.catalogue import Catalogue
from keten.nitrogen.emissions import Housing, farm_emissions
from keten.nitrogen.kpis import FarmKpis, display, farm_kpis
from keten.nitrogen.norms import METHODS, FarmNorm, farm_norms
from keten.nitrogen.sectors import (
    BASE_YEAR,
    SECTOR_TARGETS,
    SEED_DAY,
    SectorStatus,
    monitor,
    monitoring_years,
    path_value,
    sector_targets,
)
from keten.nitrogen.vbr import MODES, Allocation, AreaIndex, rank_applications
from keten.web import forms, i18n, ui
from keten.web.charts import Series, line_chart
from keten.web.forms import Checked
from keten.web.maps import Layer, MapPoint, svg_map
from keten.web.traces import TraceView, trace_view

router = ui.page_router()
_ = i18n.gettext
T = TypeVar("T")

SETS = ("vervolgpakket-2025", "vervolgpakket-2025-46")
FORM_ROWS = 5
OBS_ROWS = 3
MAX_UPLOAD = 1_000_000  # bytes of a CSV file
MAX_AREAS = 4_000_000  # bytes of an areas file
EMISSION_YEAR = 2025  # the CLI's default --year
VBR_DATE = "2026-03-01"  # the CLI's default --date
HOUSING_HEADER = (
    "farm_id",
    "housing_code",
    "animals",
    "ef_nh3",
    "traditional_ef_nh3",
    "additional",
)
AREA_SUFFIXES = (".geojson", ".json", ".parquet", ".geoparquet", ".gpkg")
#: The repository's example inputs (absent in an installed wheel: the option is then hidden).
EXAMPLES = Path(keten.__file__).resolve().parents[2] / "examples" / "nitrogen"
EXAMPLE_FILES = ("applications.csv", "areas.geojson")


@cache
def params(name: str) -> ParameterSet:
    return load_set(DOMAIN, name)


@cache
def catalogue(name: str) -> Catalogue:
    return load_catalogue(params(name))


def set_options() -> list[tuple[str, str]]:
    return [
        (SETS[0], _("vervolgpakket-2025 (agricultural target 42 %)")),
        (SETS[1], _("vervolgpakket-2025-46 (agricultural target 46 %)")),
    ]


def subnav() -> list[tuple[str, str]]:
    return [
        ("/nitrogen", _("Farm")),
        ("/nitrogen/vbr", _("Vbr buy-out ranking")),
        ("/nitrogen/sectors", _("Sector monitoring")),
        ("/nitrogen/budget", _("Budget")),
    ]


def target_year(pset: ParameterSet) -> int:
    return int(pset.at("nitrogen.target_year", SEED_DAY).value)


# ----------------------------------------------------------------------------- input helpers


def _long(form: FormData, name: str, limit: int) -> str:
    value = form.get(name)
    if not isinstance(value, str):
        return ""
    if len(value) > limit:
        raise InputError(msg("the data sent with the form is too large"))
    return value


def _choice(form: FormData, c: Checked, name: str, options: Sequence[str], default: str) -> str:
    value = forms.text(form, name) or default
    c.values[name] = value
    if value not in options:
        c.errors[name] = _("Choose one of the offered options.")
    return value


def _set(form: FormData, c: Checked) -> str:
    return _choice(form, c, "set", SETS, SETS[0])


def _whole_year(form: FormData, c: Checked, name: str, default: str = "") -> int | None:
    raw = forms.text(form, name) or default
    c.values[name] = raw
    if not raw:
        return None
    if not (forms.digits(raw) and 2000 <= int(raw) <= 2100):
        c.errors[name] = _("Enter a year from 2000 to 2100.")
        return None
    return int(raw)


def _number(raw: str) -> Decimal | None:
    try:
        return parse_number(raw)
    except ValueError:
        return None


def _decode(data: bytes) -> str | None:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def csv_text(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow(["" if v is None else str(v) for v in r])
    return out.getvalue()


@contextmanager
def as_file(content: str | bytes, filename: str) -> Iterator[Path]:
    """``content`` as a temporary file named like the upload (the readers take paths)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(filename).name
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)
        yield path


def read_named(content: str | bytes, filename: str, reader: Callable[[Path], T]) -> T:
    """``reader`` on ``content``; an ``InputError`` names ``filename``, not the temporary path.
    The message stays translatable (``exc.translatable``): its place ("row 3, field 'x'") is
    then shown in the page's language together with the reason."""
    with as_file(content, filename) as path:
        try:
            return reader(path)
        except InputError as exc:
            if exc.file == str(path):
                raise InputError(
                    exc.translatable, file=filename, row=exc.row, field=exc.field
                ) from None
            raise


def first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def with_defaults(ctx: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """A page's context ``ctx`` updated with ``extra``; the form values of ``extra`` added to
    the defaults of ``ctx``."""
    values = {**ctx["values"], **extra.get("values", {})}
    return {**ctx, **extra, "values": values}


def answer(
    request: Request, page: str, context: Callable[..., dict[str, Any]], c: Checked, **shown: Any
) -> HTMLResponse:
    """The page ``nitrogen/<page>.html`` after a POST: the form's values shown again with the
    errors next to their fields (422), or with no errors and what ``shown`` holds."""
    ctx = context(errors=c.errors, values=c.values, **shown)
    return ui.render(request, f"nitrogen/{page}.html", ctx, status=422 if c.errors else 200)


async def rows_or_file(
    form: FormData,
    c: Checked,
    field: str,
    entered_csv: str,
    check: Callable[[str, str], object],
    *,
    both: str,
    neither: str,
) -> str:
    """The rows entered in the form (``entered_csv``) or the uploaded file ``field`` (its text,
    checked by ``check(text, filename)``), not both and at least one: else the error ``both``
    next to the file field or ``neither`` for the whole form."""
    upload = await forms.upload(form, field, c, MAX_UPLOAD)
    out = entered_csv
    if upload is not None:
        text = _decode(upload[1])
        if entered_csv:
            c.errors[field] = both
        elif text is None:
            c.errors[field] = _("The file is not UTF-8 text.")
        else:
            out = text
            try:
                check(text, upload[0])
            except InputError as exc:
                c.errors[field] = str(exc)
            except KetenError as exc:
                c.errors[field] = f"{upload[0]}: {first_line(exc)}"
    if not out and not c.errors:
        c.errors["_form"] = neither
    return out


# ----------------------------------------------------------------------------- traces


# ============================================================================= farm page


@dataclass
class FarmInput:
    """What the farm computation needs; also sent back in the export form."""

    set: str
    year: int
    method: str
    reference_year: int | None
    avoided_cost: Decimal | None
    housings_csv: str
    observed_csv: str
    source: str
    farms_csv: str = ""  # farm_id,hectares (NH-49); not sent back: the exports hold no KPIs
    farms_source: str = ""
    ghg_csv: str = ""  # user-supplied GHG factors (NH-50)
    ghg_source: str = ""

    def hidden(self) -> dict[str, str]:
        return {
            "set": self.set,
            "year": str(self.year),
            "method": self.method,
            "reference_year": "" if self.reference_year is None else str(self.reference_year),
            "avoided_cost": "" if self.avoided_cost is None else str(self.avoided_cost),
            "housings_csv": self.housings_csv,
            "observed_csv": self.observed_csv,
            "source": self.source,
        }


@dataclass
class RowView:
    farm_id: str
    housing_code: str
    category: str
    animals: int
    factor_used: Decimal
    traditional: Decimal | None
    additional: str
    nh3_kg: Decimal
    catalogue_source: str


@dataclass
class PathRow:
    year: int
    path_kg: Decimal
    monitoring: bool
    observed_kg: Decimal | None
    status: str
    gap_kg: Decimal | None


@dataclass
class FarmView:
    farm_id: str
    rows: list[RowView]
    total: Decimal
    emission_trace: TraceView
    norm: FarmNorm
    norm_trace: TraceView | None
    path: list[PathRow]
    chart: Any
    observed: bool
    kpis: FarmKpis | None = None  # with hectares or GHG factors (NH-49…NH-51)

    @property
    def kpi_numbers(self) -> dict[str, Decimal | None]:
        """The KPIs as shown: rounded half up to two decimals (display only, NH-49)."""
        k = self.kpis
        if k is None:
            return {}
        values = {
            "hectares": k.hectares,
            "nh3_kg_per_ha": k.nh3_kg_per_ha,
            "ghg_kg_co2e": k.ghg_kg_co2e,
            "ghg_kg_co2e_per_ha": k.ghg_kg_co2e_per_ha,
        }
        return {name: None if v is None else tidy(display(v)) for name, v in values.items()}

    @property
    def numbers(self) -> dict[str, Decimal]:
        """The norm's numbers as shown and exported (exact, without trailing zeros)."""
        n = self.norm
        return {
            "reference_kg": tidy(n.reference_kg),
            "proportional_kg": tidy(n.proportional_kg),
            "benchmark_kg": tidy(n.benchmark_kg),
            "norm_kg": tidy(n.norm_kg),
        }


@dataclass
class FarmResult:
    inp: FarmInput
    farms: list[FarmView]
    target_year: int

    @property
    def observed(self) -> bool:
        return bool(self.inp.observed_csv)

    @property
    def events(self) -> int:
        return sum(len(f.norm.history) for f in self.farms)

    @property
    def with_area(self) -> bool:
        return bool(self.inp.farms_csv)

    @property
    def with_ghg(self) -> bool:
        return bool(self.inp.ghg_csv)

    @property
    def kpi_notes(self) -> list[tuple[str, str]]:
        """(farm, why a KPI is not computed), from the domain (NH-49, NH-51)."""
        return [(f.farm_id, n) for f in self.farms if f.kpis for n in f.kpis.notes]


def category_options(cat: Catalogue) -> list[tuple[str, str]]:
    return [("", "—")] + [(k, f"{k} — {s.description}") for k, s in sorted(cat.traditional.items())]


def housing_systems(cat: Catalogue, year: int) -> list[dict[str, Any]]:
    """The catalogue as the page lists it (code, category, kind, value, unit, source)."""
    out = []
    for s in cat.systems.values():
        try:
            pv = cat.params.get(s.parameter, year)
        except ParameterError:
            continue
        out.append(
            {
                "code": s.code,
                "category": s.animal_category,
                "kind": s.kind,
                "scrubber": s.scrubber,
                "description": s.description,
                "value": pv.value,
                "unit": pv.unit,
                "source": pv.source,
                "status": pv.status,
            }
        )
    return out


def _form_housings(form: FormData, c: Checked, cat: Catalogue) -> str | None:
    """The rows entered in the form as a housings CSV; each row checked by the CLI's reader
    (so the same messages), errors placed next to the row's field."""
    farm = forms.text(form, "farm_id", limit=60) or "farm"
    c.values["farm_id"] = farm
    lines: list[list[str]] = []
    for i in range(1, FORM_ROWS + 1):
        cells = {
            k: forms.text(form, f"{k}_{i}")
            for k in ("category", "housing_code", "animals", "ef_nh3", "traditional_ef_nh3")
        }
        cells["additional"] = forms.text(form, f"additional_{i}", limit=300)
        c.values.update({f"{k}_{i}": v for k, v in cells.items()})
        if not any(v for k, v in cells.items() if k != "category"):
            continue
        line = [farm] + [cells[k] for k in HOUSING_HEADER[1:]]
        try:
            housings = read_named(
                csv_text(HOUSING_HEADER, [line]),
                "form",
                lambda p: read_housings(p, cat),
            )
        except InputError as exc:
            name = f"{exc.field}_{i}" if exc.field in HOUSING_HEADER[1:] else f"housing_code_{i}"
            if exc.field == "farm_id":
                name = "farm_id"
            c.errors[name] = exc.reason
            continue
        h = housings[0]
        if cells["category"]:
            if cells["category"] not in cat.traditional:
                c.errors[f"category_{i}"] = _("Choose an animal category from the list.")
            elif h.housing_code is not None:
                system = cat.resolve(h.housing_code).system
                if system.animal_category != cells["category"]:
                    c.errors[f"category_{i}"] = _(
                        "%(code)s is a housing system of animal category %(found)s, not %(given)s."
                    ) % {
                        "code": h.housing_code,
                        "found": system.animal_category,
                        "given": cells["category"],
                    }
        lines.append(line)
    return csv_text(HOUSING_HEADER, lines) if lines else None


def observation_years(pset: ParameterSet) -> list[int]:
    """The monitoring years offered in the form: 2027, 2029, … up to two rounds after 2035."""
    return monitoring_years(pset, target_year(pset) + 2 * 2)


def _form_observed(form: FormData, c: Checked, pset: ParameterSet) -> list[tuple[int, str]]:
    out = []
    for y in observation_years(pset):
        raw = forms.text(form, f"obs_{y}")
        c.values[f"obs_{y}"] = raw
        if not raw:
            continue
        v = _number(raw)
        if v is None:
            c.errors[f"obs_{y}"] = _("Enter a number with at most six decimals, e.g. 1100 or 2,5.")
        elif v < 0:
            c.errors[f"obs_{y}"] = _("The emission must not be negative.")
        else:
            out.append((y, raw))
    return out


def compute_farm(inp: FarmInput) -> FarmResult:
    """Emissions, norms, path and monitoring as ``keten nitrogen emissions`` and ``… norms``
    compute them. ``InputError`` (file, row, field) and ``KetenError`` pass through."""
    if inp.set not in SETS:
        raise InputError(msg("unknown parameter set"), field="set")
    if inp.method not in METHODS:
        raise InputError(msg("unknown norm method"), field="method")
    pset = params(inp.set)
    cat = catalogue(inp.set)
    housings: list[Housing] = read_named(
        inp.housings_csv, inp.source or "housings.csv", lambda p: read_housings(p, cat)
    )
    observed = (
        read_named(inp.observed_csv, "observed.csv", read_observed_farms)
        if inp.observed_csv
        else None
    )
    try:
        emissions = farm_emissions(housings, cat, inp.year, explain=True)
    except ParameterError as exc:
        raise InputError(first_line(exc), field="year") from None
    try:
        norms = farm_norms(
            housings,
            cat,
            inp.method,  # type: ignore[arg-type]
            inp.reference_year,
            observed,
            read_ladder(),
            inp.avoided_cost,
            explain=True,
        )
    except ParameterError as exc:
        raise InputError(first_line(exc), field="reference_year") from None
    areas = (
        read_named(inp.farms_csv, inp.farms_source or "farms.csv", read_farms)
        if inp.farms_csv
        else None
    )
    ghg = (
        read_named(
            inp.ghg_csv, inp.ghg_source or "ghg_factors.csv", lambda p: read_ghg_factors(p, cat)
        )
        if inp.ghg_csv
        else None
    )
    kpis: dict[str, FarmKpis] = {}
    if areas is not None or ghg is not None:
        # the same domain function as ``keten nitrogen emissions --farms --ghg-factors``; its
        # steps join each farm's emission explanation
        area_file = inp.farms_source or "farms.csv"
        if ghg is not None:
            ghg = replace(ghg, file=inp.ghg_source or "ghg_factors.csv")
        try:
            found = farm_kpis(emissions, housings, cat, areas, ghg, area_file)
        except KetenError as exc:
            raise InputError(first_line(exc), field="ghg_file") from None
        kpis = {k.farm_id: k for k in found}
    ty = target_year(pset)
    by_farm: dict[str, list[Housing]] = {}
    for h in housings:
        by_farm.setdefault(h.farm_id, []).append(h)
    norm_by_farm = {n.farm_id: n for n in norms}
    views = []
    for fe in emissions:
        rows = []
        for h, he in zip(by_farm[fe.farm_id], fe.housings, strict=True):
            system = cat.resolve(h.housing_code).system if h.housing_code else None
            rows.append(
                RowView(
                    farm_id=h.farm_id,
                    housing_code=he.housing_code,
                    category=system.animal_category if system else "",
                    animals=h.animals,
                    factor_used=tidy(he.factor_used),
                    traditional=h.traditional_ef_nh3,
                    additional=";".join(a.label() for a in h.additional),
                    nh3_kg=tidy(he.nh3_kg),
                    catalogue_source=system.source if system else "NH-05",
                )
            )
        fn = norm_by_farm[fe.farm_id]
        path = farm_path(fn, ty, observed is not None)
        views.append(
            FarmView(
                farm_id=fe.farm_id,
                rows=rows,
                total=tidy(fe.nh3_kg),
                emission_trace=trace_view(fe.trace) if fe.trace else TraceView([], [], {}),
                norm=fn,
                norm_trace=trace_view(fn.trace) if fn.trace else None,
                path=path,
                chart=path_chart(fn, path),
                observed=observed is not None,
                kpis=kpis.get(fe.farm_id),
            )
        )
    return FarmResult(inp, views, ty)


def farm_path(fn: FarmNorm, ty: int, observed: bool) -> list[PathRow]:
    """Every year from the reference year to 2035 (and any later monitoring year the domain
    reported): the linear path (``path_value``, NH-14); monitoring years carry the domain's
    verdict."""
    points = {m.year: m for m in fn.monitoring}
    last = max([ty, *points])
    out = []
    for year in range(fn.reference_year, last + 1):
        m = points.get(year)
        if m is not None:
            gap = None if m.gap_kg is None else tidy(m.gap_kg)
            out.append(PathRow(year, tidy(m.path_kg), True, m.observed_kg, m.status, gap))
        else:
            value = path_value(fn.reference_kg, fn.norm_kg, fn.reference_year, ty, year)
            out.append(PathRow(year, tidy(value), False, None, "", None))
    return out


def path_chart(fn: FarmNorm, path: list[PathRow]) -> Any:
    series = [
        Series(_("Path to the norm"), [tidy(p.path_kg) for p in path]),
        Series(_("Norm %(year)s") % {"year": path[-1].year}, [tidy(fn.norm_kg) for _p in path]),
    ]
    if any(p.observed_kg is not None for p in path):
        series.append(Series(_("Observed"), [p.observed_kg for p in path]))
    return line_chart(
        _("Farm %(farm)s: path to the norm") % {"farm": fn.farm_id},
        [str(p.year) for p in path],
        series,
        unit=_("kg NH3 per year"),
    )


def farm_context(**extra: Any) -> dict[str, Any]:
    pset = params(SETS[0])
    cat = catalogue(SETS[0])
    ctx: dict[str, Any] = {
        "subnav": subnav(),
        "sets": set_options(),
        "methods": [
            ("stricter", _("stricter of both (NH-13)")),
            ("proportional", _("proportional: reference × (1 − sector target) (NH-11)")),
            ("benchmark", _("benchmark: best available housing (NH-12)")),
        ],
        "categories": category_options(cat),
        "codes": [s.code for s in cat.systems.values()],
        "systems": housing_systems(cat, EMISSION_YEAR),
        "ladder": read_ladder(),
        "form_rows": FORM_ROWS,
        "obs_years": observation_years(pset),
        "errors": {},
        "values": {"set": SETS[0], "year": str(EMISSION_YEAR), "method": "stricter"},
        "result": None,
    }
    return with_defaults(ctx, extra)


@router.get("/nitrogen", response_class=HTMLResponse)
def farm_page(request: Request) -> HTMLResponse:
    return ui.render(request, "nitrogen/farm.html", farm_context())


async def farm_input(form: FormData, c: Checked) -> FarmInput | None:
    name = _set(form, c)
    if c.errors:
        return None
    pset, cat = params(name), catalogue(name)
    year = _whole_year(form, c, "year", str(EMISSION_YEAR))
    if year is None and "year" not in c.errors:
        c.errors["year"] = _("Enter a year from 2000 to 2100.")
    method = _choice(form, c, "method", METHODS, "stricter")
    reference_year = _whole_year(form, c, "reference_year")
    raw_cost = forms.text(form, "avoided_cost")
    c.values["avoided_cost"] = raw_cost
    cost = None
    if raw_cost:
        cost = _number(raw_cost)
        if cost is None or cost < 0:
            c.errors["avoided_cost"] = _("Enter a number of at least zero, e.g. 10 or 12,5.")
    upload = await forms.upload(form, "housings_file", c, MAX_UPLOAD)
    obs_upload = await forms.upload(form, "observed_file", c, MAX_UPLOAD)
    entered = _form_housings(form, c, cat)
    observed = _form_observed(form, c, pset)
    source = "form"
    housings_csv = entered or ""
    observed_csv = ""
    if upload is not None:
        if entered:
            c.errors["housings_file"] = _("Enter rows or upload a file, not both.")
        else:
            text = _decode(upload[1])
            if text is None:
                c.errors["housings_file"] = _("The file is not UTF-8 text.")
            else:
                housings_csv, source = text, upload[0]
                try:
                    read_named(text, upload[0], lambda p: read_housings(p, cat))
                except InputError as exc:
                    c.errors["housings_file"] = str(exc)
    elif not entered and not c.errors:
        c.errors["_form"] = _("Enter at least one housing row, or upload a housings file.")
    if obs_upload is not None:
        if observed:
            c.errors["observed_file"] = _("Enter observations or upload a file, not both.")
        text = _decode(obs_upload[1])
        if text is None:
            c.errors["observed_file"] = _("The file is not UTF-8 text.")
        elif "observed_file" not in c.errors:
            observed_csv = text
            try:
                read_named(text, obs_upload[0], read_observed_farms)
            except InputError as exc:
                c.errors["observed_file"] = str(exc)
    elif observed:
        if upload is not None:
            c.errors["obs_" + str(observed[0][0])] = _(
                "Observations typed here belong to the farm entered in the form; for an "
                "uploaded file, upload an observations file."
            )
        farm = c.values["farm_id"]
        observed_csv = csv_text(("farm_id", "year", "nh3_kg"), [(farm, y, v) for y, v in observed])
    farms_csv, farms_source = await _farm_areas(form, c, upload is not None)
    ghg_csv, ghg_source = await _ghg_factors(form, c, cat)
    if c.errors or year is None:
        return None
    return FarmInput(
        name,
        year,
        method,
        reference_year,
        cost,
        housings_csv,
        observed_csv,
        source,
        farms_csv,
        farms_source,
        ghg_csv,
        ghg_source,
    )


async def _farm_areas(form: FormData, c: Checked, uploaded_housings: bool) -> tuple[str, str]:
    """The farm areas (CSV ``farm_id,hectares``, NH-49) and their name: the hectares typed for
    the farm of the form, or an uploaded farms file; ("", "") when neither is given."""
    raw = forms.text(form, "hectares")
    c.values["hectares"] = raw
    up = await forms.upload(form, "farms_file", c, MAX_UPLOAD)
    if up is not None:
        text = _decode(up[1])
        if raw:
            c.errors["farms_file"] = _("Enter the hectares or upload a file, not both.")
        elif text is None:
            c.errors["farms_file"] = _("The file is not UTF-8 text.")
        else:
            try:
                read_named(text, up[0], read_farms)
            except InputError as exc:
                c.errors["farms_file"] = str(exc)
            return text, up[0]
        return "", ""
    if not raw:
        return "", ""
    if uploaded_housings:
        c.errors["hectares"] = _(
            "The hectares typed here belong to the farm entered in the form; for an uploaded "
            "file, upload a farms file."
        )
        return "", ""
    farms_csv = csv_text(("farm_id", "hectares"), [(c.values.get("farm_id", "farm"), raw)])
    try:
        read_named(farms_csv, "form", read_farms)
    except InputError as exc:
        c.errors["hectares"] = exc.reason
    return farms_csv, "form"


async def _ghg_factors(form: FormData, c: Checked, cat: Catalogue) -> tuple[str, str]:
    """The uploaded GHG factors (user-supplied, NH-50) and their name; ("", "") without."""
    up = await forms.upload(form, "ghg_file", c, MAX_UPLOAD)
    if up is None:
        return "", ""
    text = _decode(up[1])
    if text is None:
        c.errors["ghg_file"] = _("The file is not UTF-8 text.")
        return "", ""
    try:
        read_named(text, up[0], lambda p: read_ghg_factors(p, cat))
    except InputError as exc:
        c.errors["ghg_file"] = str(exc)
    return text, up[0]


def _farm_error(exc: KetenError, c: Checked, upload_field: str = "housings_file") -> None:
    """Place an error of the computation next to the field it is about."""
    if isinstance(exc, InputError) and exc.field in ("year", "reference_year", "ghg_file"):
        c.errors[exc.field] = exc.reason
    elif isinstance(exc, InputError) and exc.file == "observed.csv":
        c.errors["observed_file"] = str(exc)
    elif isinstance(exc, InputError) and exc.file is not None:
        c.errors[upload_field] = str(exc)
    else:
        c.errors["_form"] = first_line(exc)


@router.post("/nitrogen", response_class=HTMLResponse)
async def farm_calculate(request: Request) -> HTMLResponse:
    form = await request.form()
    c = Checked()
    inp = await farm_input(form, c)
    result = None
    if inp is not None:
        try:
            result = compute_farm(inp)
        except KetenError as exc:
            _farm_error(exc, c)
    return answer(request, "farm", farm_context, c, result=result)


def farm_tables(result: FarmResult) -> dict[str, tuple[list[str], list[list[object]]]]:
    """The result tables of the farm page, as exported (same numbers as shown)."""
    emissions: list[list[object]] = [
        [r.farm_id, r.housing_code, r.animals, r.factor_used, r.traditional, r.additional, r.nh3_kg]
        for f in result.farms
        for r in f.rows
    ]
    norms: list[list[object]] = [
        [
            f.farm_id,
            f.norm.reference_year,
            tidy(f.norm.reference_kg),
            tidy(f.norm.proportional_kg),
            tidy(f.norm.benchmark_kg),
            f.norm.method,
            tidy(f.norm.norm_kg),
        ]
        for f in result.farms
    ]
    path: list[list[object]] = [
        [
            f.farm_id,
            p.year,
            tidy(p.path_kg),
            p.monitoring,
            p.observed_kg,
            p.status,
            None if p.gap_kg is None else tidy(p.gap_kg),
        ]
        for f in result.farms
        for p in f.path
    ]
    history: list[list[object]] = [
        [
            f.farm_id,
            e.year,
            e.step,
            e.trigger,
            e.measure,
            e.reason,
            None if e.fine_eur is None else tidy(e.fine_eur),
        ]
        for f in result.farms
        for e in f.norm.history
    ]
    return {
        "emissions": ([*HOUSING_HEADER, "nh3_kg"], emissions),
        "norms": (
            [
                "farm_id",
                "reference_year",
                "reference_nh3_kg",
                "proportional_kg",
                "benchmark_kg",
                "method",
                "norm_kg",
            ],
            norms,
        ),
        "path": (
            ["farm_id", "year", "path_kg", "monitoring_year", "observed_kg", "status", "gap_kg"],
            path,
        ),
        "history": (
            ["farm_id", "year", "step", "trigger", "measure", "reason", "fine_eur"],
            history,
        ),
    }


def _export_choice(form: FormData, tables: Sequence[str]) -> tuple[str, str]:
    choice = forms.text(form, "export")
    name, _sep, fmt = choice.partition(":")
    if name not in tables or fmt not in ("csv", "xlsx"):
        raise InputError(msg("unknown export"), field="export")
    return name, fmt


@router.post("/nitrogen/export")
async def farm_export(request: Request) -> Response:
    form = await request.form()
    name, fmt = _export_choice(form, ("emissions", "norms", "path", "history"))
    year = forms.text(form, "year")
    ref = forms.text(form, "reference_year")
    cost = forms.text(form, "avoided_cost")
    if not forms.digits(year) or (ref and not forms.digits(ref)):
        raise InputError(msg("bad year in the export form"), field="year")
    inp = FarmInput(
        set=forms.text(form, "set"),
        year=int(year),
        method=forms.text(form, "method"),
        reference_year=int(ref) if ref else None,
        avoided_cost=parse_number(cost) if cost and _number(cost) is not None else None,
        housings_csv=_long(form, "housings_csv", MAX_UPLOAD * 2),
        observed_csv=_long(form, "observed_csv", MAX_UPLOAD * 2),
        source=forms.text(form, "source", limit=100) or "housings.csv",
    )
    columns, rows = farm_tables(compute_farm(inp))[name]
    return ui.export(fmt, f"nitrogen-{name}", columns, rows)


# ============================================================================= Vbr page


@dataclass
class VbrInput:
    set: str
    budget: Decimal | None
    extra_budget: bool
    mode: str
    day: dt.date
    areas_crs: str | None
    example: bool
    applications_csv: str
    applications_name: str
    areas: bytes
    areas_name: str

    def hidden(self) -> dict[str, str]:
        return {
            "set": self.set,
            "budget": "" if self.budget is None else str(self.budget),
            "extra_budget": "1" if self.extra_budget else "",
            "mode": self.mode,
            "date": self.day.isoformat(),
            "areas_crs": self.areas_crs or "",
            "source": "example" if self.example else "upload",
            "applications_csv": "" if self.example else self.applications_csv,
            "applications_name": self.applications_name,
            "areas_b64": "" if self.example else base64.b64encode(self.areas).decode("ascii"),
            "areas_name": self.areas_name,
        }


@dataclass
class VbrResult:
    inp: VbrInput
    allocation: Allocation
    cutoff: str | None  # id of the application where the allocation stopped (mode stop)
    granted_count: int
    map: Any
    trace: TraceView
    priority_m: Decimal


def examples_available() -> bool:
    return all((EXAMPLES / f).is_file() for f in EXAMPLE_FILES)


def compute_vbr(inp: VbrInput) -> VbrResult:
    """``keten nitrogen vbr`` on the input: areas, applications, ranking and cut-off."""
    if inp.set not in SETS:
        raise InputError(msg("unknown parameter set"), field="set")
    if inp.mode not in MODES:
        raise InputError(msg("unknown mode"), field="mode")
    pset = params(inp.set)
    geoms = read_named(
        inp.areas, inp.areas_name, lambda p: read_areas(p, pset, inp.day, inp.areas_crs)
    )
    apps = read_named(
        inp.applications_csv,
        inp.applications_name,
        lambda p: read_applications(p, pset, inp.day),
    )
    index = AreaIndex(geoms)
    allocation = rank_applications(
        apps,
        index,
        pset,
        inp.day,
        inp.budget,
        inp.extra_budget,
        inp.mode,  # type: ignore[arg-type]
    )
    cutoff = None
    if inp.mode == "stop":
        cutoff = next((r.application_id for r in allocation.ranked if not r.granted), None)
    granted = {r.application_id: r for r in allocation.ranked}
    priority = pset.at("nitrogen.vbr.priority_distance", inp.day).value
    points = []
    for a in apps:
        r = granted[a.application_id]
        state = _("granted") if r.granted else _("not granted")
        points.append(
            MapPoint(
                a.x,
                a.y,
                _(
                    "%(id)s: %(state)s; round %(round)s, rank %(rank)s; %(m)s m from an area; "
                    "€%(eur)s"
                )
                % {
                    "id": a.application_id,
                    "state": state,
                    "round": r.round,
                    "rank": r.rank,
                    "m": ui.num(r.distance_m),
                    "eur": ui.num(a.subsidy_eur),
                },
                "application in-budget" if r.granted else "application out-of-budget",
                a.application_id,
            )
        )
    import shapely

    zone = shapely.buffer(shapely.union_all(geoms), float(priority))
    vmap = svg_map(
        _("Vbr applications and overloaded Natura 2000 areas"),
        [
            Layer([zone], "zone", _("within %(m)s m of an area (round 1)") % {"m": priority}),
            Layer(geoms, "area", _("overloaded nitrogen-sensitive Natura 2000 area")),
        ],
        points,
        description=_("RD New (EPSG:28992) coordinates scaled to the picture; north is up."),
    )
    return VbrResult(
        inp,
        allocation,
        cutoff,
        sum(1 for r in allocation.ranked if r.granted),
        vmap,
        trace_view(allocation.trace),
        priority,
    )


def vbr_context(**extra: Any) -> dict[str, Any]:
    ctx: dict[str, Any] = {
        "subnav": subnav(),
        "sets": set_options(),
        "modes": [
            ("stop", _("stop at the first application that does not fit (NH-42)")),
            ("skip", _("skip it and continue")),
        ],
        "examples": examples_available(),
        "errors": {},
        "values": {"set": SETS[0], "mode": "stop", "date": VBR_DATE, "source": "upload"},
        "result": None,
    }
    return with_defaults(ctx, extra)


@router.get("/nitrogen/vbr", response_class=HTMLResponse)
def vbr_page(request: Request) -> HTMLResponse:
    return ui.render(request, "nitrogen/vbr.html", vbr_context())


def _vbr_options(form: FormData, c: Checked) -> tuple[Any, ...]:
    name = _set(form, c)
    mode = _choice(form, c, "mode", MODES, "stop")
    raw_date = forms.text(form, "date") or VBR_DATE
    c.values["date"] = raw_date
    day = dt.date(2026, 3, 1)
    try:
        day = dt.date.fromisoformat(raw_date)
    except ValueError:
        c.errors["date"] = _("Enter a date as YYYY-MM-DD.")
    raw_budget = forms.text(form, "budget")
    c.values["budget"] = raw_budget
    extra = bool(forms.text(form, "extra_budget"))
    c.values["extra_budget"] = "1" if extra else ""
    budget = None
    if raw_budget:
        budget = _number(raw_budget)
        if budget is None:
            c.errors["budget"] = _("Enter an amount in euro, e.g. 6000000.")
        elif budget < 0:
            c.errors["budget"] = _("The budget must not be negative.")
        elif extra:
            c.errors["extra_budget"] = _(
                "The extra budget goes with the budget of the parameters, not with your own amount."
            )
    crs = forms.text(form, "areas_crs", limit=100) or None
    c.values["areas_crs"] = crs or ""
    return name, mode, day, budget, extra, crs


@router.post("/nitrogen/vbr", response_class=HTMLResponse)
async def vbr_calculate(request: Request) -> HTMLResponse:
    form = await request.form()
    c = Checked()
    name, mode, day, budget, extra, crs = _vbr_options(form, c)
    source = _choice(form, c, "source", ("upload", "example"), "upload")
    apps_up = await forms.upload(form, "applications", c, MAX_UPLOAD)
    areas_up = await forms.upload(form, "areas", c, MAX_AREAS)
    example = source == "example"
    apps_text, apps_name, areas, areas_name = "", "", b"", ""
    if example:
        if not examples_available():
            c.errors["source"] = _("The example files are not installed.")
        elif apps_up or areas_up:
            c.errors["source"] = _("Choose the example files or upload your own, not both.")
        else:
            apps_text = (EXAMPLES / EXAMPLE_FILES[0]).read_text(encoding="utf-8")
            areas = (EXAMPLES / EXAMPLE_FILES[1]).read_bytes()
            apps_name, areas_name = EXAMPLE_FILES
    else:
        if apps_up is None and "applications" not in c.errors:
            c.errors["applications"] = _("Upload an applications file.")
        elif apps_up is not None:
            text = _decode(apps_up[1])
            if text is None:
                c.errors["applications"] = _("The file is not UTF-8 text.")
            else:
                apps_text, apps_name = text, apps_up[0]
        if areas_up is None and "areas" not in c.errors:
            c.errors["areas"] = _("Upload the areas file (GeoJSON, GeoParquet or GeoPackage).")
        elif areas_up is not None:
            if Path(areas_up[0]).suffix.lower() not in AREA_SUFFIXES:
                c.errors["areas"] = _(
                    "Use a .geojson, .parquet (GeoParquet) or .gpkg (GeoPackage) file."
                )
            areas, areas_name = areas_up[1], areas_up[0]
    result = None
    if not c.errors:
        inp = VbrInput(
            name, budget, extra, mode, day, crs, example, apps_text, apps_name, areas, areas_name
        )
        try:
            result = compute_vbr(inp)
        except InputError as exc:
            if exc.file == areas_name:
                c.errors["areas_crs" if exc.field == "crs" and crs else "areas"] = str(exc)
            elif exc.file == apps_name:
                c.errors["applications"] = str(exc)
            else:
                c.errors["_form"] = str(exc)
        except UnknownValueError as exc:
            c.errors["_form"] = first_line(exc)
        except ParameterError as exc:  # a parameter with no value on the date of the rules
            c.errors["date"] = first_line(exc)
        except KetenError as exc:
            c.errors["_form"] = first_line(exc)
    return answer(request, "vbr", vbr_context, c, result=result)


VBR_COLUMNS = [
    "application_id",
    "round",
    "rank",
    "distance_m",
    "eur_per_kg",
    "granted",
    "cumulative_eur",
]


def vbr_rows(allocation: Allocation) -> list[list[object]]:
    return [[r.to_dict()[k] for k in VBR_COLUMNS] for r in allocation.ranked]


@router.post("/nitrogen/vbr/export")
async def vbr_export(request: Request) -> Response:
    form = await request.form()
    _name, fmt = _export_choice(form, ("ranking",))
    c = Checked()
    name, mode, day, budget, extra, crs = _vbr_options(form, c)
    if c.errors:
        raise InputError("; ".join(f"{k}: {v}" for k, v in c.errors.items()))
    example = forms.text(form, "source") == "example"
    if example:
        if not examples_available():
            raise InputError(msg("the example files are not installed"))
        apps_text = (EXAMPLES / EXAMPLE_FILES[0]).read_text(encoding="utf-8")
        areas = (EXAMPLES / EXAMPLE_FILES[1]).read_bytes()
        apps_name, areas_name = EXAMPLE_FILES
    else:
        apps_text = _long(form, "applications_csv", MAX_UPLOAD * 2)
        try:
            areas = base64.b64decode(_long(form, "areas_b64", MAX_AREAS * 2), validate=True)
        except (binascii.Error, ValueError):
            raise InputError(msg("the areas sent with the form are not readable")) from None
        apps_name = forms.text(form, "applications_name", limit=100) or "applications.csv"
        areas_name = forms.text(form, "areas_name", limit=100) or "areas.geojson"
        if Path(areas_name).suffix.lower() not in AREA_SUFFIXES:
            raise InputError(msg("unknown area format"), file=areas_name)
    inp = VbrInput(
        name, budget, extra, mode, day, crs, example, apps_text, apps_name, areas, areas_name
    )
    result = compute_vbr(inp)
    return ui.export(fmt, "nitrogen-vbr-ranking", VBR_COLUMNS, vbr_rows(result.allocation))


# ============================================================================= sectors page


SECTOR_KEYS = [f"{s}/{n}" for s, n in SECTOR_TARGETS]
TARGET_COLUMNS = [
    "sector",
    "substance",
    "baseline_2019_kt",
    "target_2035_pct",
    "target_2035_kt",
    "streefwaarde_2030_pct",
]
MONITOR_COLUMNS = [
    "sector",
    "substance",
    "year",
    "monitoring_year",
    "observed_kt",
    "baseline_2019_kt",
    "path_kt",
    "reduction_pct",
    "status",
    "gap_kt",
]


def sectors_result(set_name: str, observed_csv: str) -> dict[str, Any]:
    pset = params(set_name)
    targets, trace = sector_targets(pset)
    statuses: list[SectorStatus] = []
    if observed_csv:
        observations = read_named(observed_csv, "observed.csv", read_observed_sectors)
        statuses, _t = monitor(pset, observations)
    ty = target_year(pset)
    charts = []
    for t in targets:
        if t.baseline_kt is None or t.target_kt is None:
            continue
        mine = [s for s in statuses if (s.sector, s.substance) == (t.sector, t.substance)]
        last = max([ty, *(s.year for s in mine)])
        years = list(range(BASE_YEAR, last + 1))
        observed = {s.year: s.observed_kt for s in mine}
        series = [
            Series(
                _("Path to the 2035 target"),
                [tidy(path_value(t.baseline_kt, t.target_kt, BASE_YEAR, ty, y)) for y in years],
            ),
            Series(_("Target %(year)s") % {"year": ty}, [tidy(t.target_kt) for _y in years]),
        ]
        if observed:
            series.append(Series(_("Observed"), [observed.get(y) for y in years]))
        charts.append(
            {
                "key": f"{t.sector}/{t.substance}",
                "svg": line_chart(
                    _("%(sector)s %(substance)s: target and trajectory")
                    % {"sector": t.sector, "substance": t.substance.upper()},
                    [str(y) for y in years],
                    series,
                    unit=_("kt per year"),
                ),
            }
        )
    return {
        "targets": targets,
        "statuses": statuses,
        "charts": charts,
        "trace": trace_view(trace),
        "set_name": set_name,
        "observed_csv": observed_csv,
        "target_year": ty,
    }


def sector_tables(res: dict[str, Any]) -> dict[str, tuple[list[str], list[list[object]]]]:
    return {
        "targets": (
            TARGET_COLUMNS,
            [[t.to_dict()[k] for k in TARGET_COLUMNS] for t in res["targets"]],
        ),
        "monitoring": (
            MONITOR_COLUMNS,
            [[s.to_dict()[k] for k in MONITOR_COLUMNS] for s in res["statuses"]],
        ),
    }


def sectors_context(**extra: Any) -> dict[str, Any]:
    ctx: dict[str, Any] = {
        "subnav": subnav(),
        "sets": set_options(),
        "sector_options": [("", "—"), *((k, k) for k in SECTOR_KEYS)],
        "obs_rows": OBS_ROWS,
        "errors": {},
        "values": {"set": SETS[0]},
    }
    return with_defaults(ctx, extra)


@router.get("/nitrogen/sectors", response_class=HTMLResponse)
def sectors_page(request: Request, set: str = SETS[0]) -> HTMLResponse:
    c = Checked()
    if set not in SETS:
        c.errors["set"] = _("Choose one of the offered options.")
        set = SETS[0]
    c.values["set"] = set
    return ui.render(
        request,
        "nitrogen/sectors.html",
        sectors_context(values=c.values, errors=c.errors, res=sectors_result(set, "")),
        status=422 if c.errors else 200,
    )


@router.post("/nitrogen/sectors", response_class=HTMLResponse)
async def sectors_calculate(request: Request) -> HTMLResponse:
    form = await request.form()
    c = Checked()
    name = _set(form, c)
    known = name if name in SETS else SETS[0]
    rows = []
    row_fields: list[int] = []  # the form row (1…OBS_ROWS) of each entered observation
    for i in range(1, OBS_ROWS + 1):
        cells = {k: forms.text(form, f"{k}_{i}") for k in ("sector", "year", "kt")}
        c.values.update({f"{k}_{i}": v for k, v in cells.items()})
        if not any(cells.values()):
            continue
        if cells["sector"] not in SECTOR_KEYS:
            c.errors[f"sector_{i}"] = _("Choose a sector.")
            continue
        sector, substance = cells["sector"].split("/")
        line = [sector, substance, cells["year"], cells["kt"]]
        try:
            obs = read_named(
                csv_text(("sector", "substance", "year", "kt"), [line]),
                "form",
                read_observed_sectors,
            )
            monitor(params(known), obs)
        except InputError as exc:
            c.errors[f"{exc.field}_{i}" if exc.field in ("year", "kt") else f"sector_{i}"] = (
                exc.reason
            )
            continue
        except KetenError as exc:
            c.errors[f"year_{i}"] = first_line(exc)
            continue
        rows.append(line)
        row_fields.append(i)
    if rows and not c.errors:
        try:  # the rows together, as the file would be read: one sector and year once
            read_named(
                csv_text(("sector", "substance", "year", "kt"), rows), "form", read_observed_sectors
            )
        except InputError as exc:
            i = row_fields[exc.row - 1] if exc.row else row_fields[0]
            c.errors[f"{exc.field}_{i}" if exc.field in ("year", "kt") else f"sector_{i}"] = (
                exc.reason
            )
    observed_csv = await rows_or_file(
        form,
        c,
        "observed_file",
        csv_text(("sector", "substance", "year", "kt"), rows) if rows else "",
        lambda text, filename: monitor(
            params(known), read_named(text, filename, read_observed_sectors)
        ),
        both=_("Enter observations or upload a file, not both."),
        neither=_("Enter at least one observation, or upload an observations file."),
    )
    if c.errors:
        return answer(request, "sectors", sectors_context, c, res=sectors_result(known, ""))
    return answer(request, "sectors", sectors_context, c, res=sectors_result(name, observed_csv))


@router.get("/nitrogen/sectors/export")
def sectors_export_targets(set: str = SETS[0], fmt: str = "csv") -> Response:
    if set not in SETS:
        raise InputError(msg("unknown parameter set"), field="set")
    columns, rows = sector_tables(sectors_result(set, ""))["targets"]
    return ui.export(fmt, "nitrogen-sector-targets", columns, rows)


@router.post("/nitrogen/sectors/export")
async def sectors_export(request: Request) -> Response:
    form = await request.form()
    name, fmt = _export_choice(form, ("targets", "monitoring"))
    set_name = forms.text(form, "set")
    if set_name not in SETS:
        raise InputError(msg("unknown parameter set"), field="set")
    res = sectors_result(set_name, _long(form, "observed_csv", MAX_UPLOAD * 2))
    columns, rows = sector_tables(res)[name]
    return ui.export(fmt, f"nitrogen-sector-{name}", columns, rows)


# ============================================================================= budget page


COMMIT_COLUMNS = ("kind", "line", "amount_eur_m", "description")
TRACK_COLUMNS = [
    "kind",
    "line",
    "available_eur_m",
    "committed_eur_m",
    "remaining_eur_m",
    "over",
]
CHECK_COLUMNS = ["kind", "check", "formula", "computed", "printed", "ok"]


def budget_result(commitments_csv: str = "") -> dict[str, Any]:
    pset = params(SETS[0])
    rows = table(pset, SEED_DAY)
    checks = check_table(rows)
    sources = {}
    for r in rows:
        name = f"nitrogen.budget.{r.kind}.{r.line}.{TOTAL}"
        pv = pset.at(name, SEED_DAY)
        sources[(r.kind, r.line)] = pv.source.replace(", column totaal", "")
    tracked = []
    if commitments_csv:
        tracked = track(rows, read_named(commitments_csv, "commitments.csv", read_commitments))
    return {
        "rows": rows,
        "checks": checks,
        "sources": sources,
        "tracked": tracked,
        "commitments_csv": commitments_csv,
        "columns": COLUMNS,
        "kinds": KINDS,
    }


def budget_tables(res: dict[str, Any]) -> dict[str, tuple[list[str], list[list[object]]]]:
    table_cols = ["kind", "line", "label", *COLUMNS]
    return {
        "table": (table_cols, [[r.to_dict()[k] for k in table_cols] for r in res["rows"]]),
        "checks": (CHECK_COLUMNS, [[c.to_dict()[k] for k in CHECK_COLUMNS] for c in res["checks"]]),
        "commitments": (
            TRACK_COLUMNS,
            [[s.to_dict()[k] for k in TRACK_COLUMNS] for s in res["tracked"]],
        ),
    }


def line_options() -> list[tuple[str, str]]:
    rows = table(params(SETS[0]), SEED_DAY)
    return [("", "—")] + [
        (f"{r.kind}/{r.line}", f"{r.kind}: {r.label}") for r in rows if r.line != TOTAL
    ]


def budget_context(**extra: Any) -> dict[str, Any]:
    ctx: dict[str, Any] = {
        "subnav": subnav(),
        "line_options": line_options(),
        "obs_rows": OBS_ROWS,
        "errors": {},
        "values": {},
        "res": budget_result(),
    }
    return with_defaults(ctx, extra)


@router.get("/nitrogen/budget", response_class=HTMLResponse)
def budget_page(request: Request) -> HTMLResponse:
    return ui.render(request, "nitrogen/budget.html", budget_context())


@router.post("/nitrogen/budget", response_class=HTMLResponse)
async def budget_calculate(request: Request) -> HTMLResponse:
    form = await request.form()
    c = Checked()
    lines = []
    known = {k for k, _v in line_options() if k}
    for i in range(1, OBS_ROWS + 1):
        cells = {k: forms.text(form, f"{k}_{i}") for k in ("line", "amount", "description")}
        c.values.update({f"{k}_{i}": v for k, v in cells.items()})
        if not any(cells.values()):
            continue
        if cells["line"] not in known:
            c.errors[f"line_{i}"] = _("Choose a line of Tabel 1.")
            continue
        kind, line = cells["line"].split("/")
        row = [kind, line, cells["amount"], cells["description"]]
        try:
            read_named(csv_text(COMMIT_COLUMNS, [row]), "form", read_commitments)
        except InputError as exc:
            c.errors[f"amount_{i}"] = exc.reason
            continue
        lines.append(row)
    commitments_csv = await rows_or_file(
        form,
        c,
        "commitments_file",
        csv_text(COMMIT_COLUMNS, lines) if lines else "",
        lambda text, filename: track(
            table(params(SETS[0]), SEED_DAY), read_named(text, filename, read_commitments)
        ),
        both=_("Enter commitments or upload a file, not both."),
        neither=_("Enter at least one commitment, or upload a commitments file."),
    )
    if c.errors:
        return answer(request, "budget", budget_context, c)
    return answer(request, "budget", budget_context, c, res=budget_result(commitments_csv))


@router.get("/nitrogen/budget/export")
def budget_export_table(table: str = "table", fmt: str = "csv") -> Response:
    if table not in ("table", "checks"):
        raise InputError(msg("unknown table"), field="table")
    columns, rows = budget_tables(budget_result())[table]
    return ui.export(fmt, f"nitrogen-budget-{table}", columns, rows)


@router.post("/nitrogen/budget/export")
async def budget_export(request: Request) -> Response:
    form = await request.form()
    _name, fmt = _export_choice(form, ("commitments",))
    res = budget_result(_long(form, "commitments_csv", MAX_UPLOAD * 2))
    columns, rows = budget_tables(res)["commitments"]
    return ui.export(fmt, "nitrogen-budget-commitments", columns, rows)
