"""``keten mki …`` — MilieuKostenIndicator for civil works (seed 003, part II.a; issue #6)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import sys
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from keten.cli.output import Format, console_for, emit, explain, fail, guarded
from keten.core import jsonout
from keten.core.errors import InputError, RuleError
from keten.core.params import ParameterSet
from keten.core.quantity import parse_number, tidy
from keten.core.trace import Trace
from keten.io.mki_files import (
    PROFILE_COLUMNS,
    read_batches,
    read_bids,
    read_ceilings,
    read_epd_xml,
    read_profiles,
    read_project,
)
from keten.mki.award import Method, penalty, rank_bids
from keten.mki.ceilings import check_batches, param_ceilings
from keten.mki.compare import compare
from keten.mki.project import ProjectResult, project_mki
from keten.mki.weights import load_weighting_set

app = typer.Typer(
    help="MilieuKostenIndicator (MKI) for civil works: projects, ceilings, tender award.",
    no_args_is_help=True,
)

SetOpt = Annotated[str, typer.Option("--set", help="Weighting set: 1 (EN 15804+A1) or 2 (+A2).")]
DateOpt = Annotated[
    str | None,
    typer.Option("--date", help="Calculation date YYYY-MM-DD (picks dated prices; default today)."),
]
FormatOpt = Annotated[Format, typer.Option("--format", help="Output format.")]
ExplainOpt = Annotated[
    bool, typer.Option("--explain", help="Show the arithmetic, parameters, sources and receipt.")
]
PeriodOpt = Annotated[
    str | None,
    typer.Option("--period", help="Reference period in years (replacements, MKI-04)."),
]
IncludeDOpt = Annotated[
    bool, typer.Option("--include-d", help="Count module D (default: excluded, MKI-08).")
]


def _day(text: str | None) -> dt.date:
    if text is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"--date: not a date YYYY-MM-DD: {text!r}") from None


def _option_number(text: str | None, option: str) -> Decimal | None:
    if text is None:
        return None
    try:
        return parse_number(text)
    except ValueError as exc:
        raise InputError(f"{option}: {exc}") from None


def _no_csv_explain(fmt: Format, explain_: bool) -> None:
    if explain_ and fmt is Format.csv:
        raise fail("--explain goes with --format table or json, not csv")


def _compute(
    project: Path,
    profiles: Path,
    weighting_set: str,
    day: dt.date,
    period: Decimal | None,
    include_d: bool,
    explain_: bool,
) -> ProjectResult:
    pset = load_weighting_set(weighting_set)
    profs = read_profiles(profiles, weighting_set)
    elements = read_project(project, profs)
    return project_mki(
        elements,
        profs,
        Trace(pset),
        weighting_set=weighting_set,
        day=day,
        period=period,
        include_d=include_d,
        explain=explain_,
    )


def _breakdown_rows(result: ProjectResult) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [
        {"breakdown": "total", "key": "mki_eur", "eur": tidy(result.mki_eur)}
    ]
    for name, part in (
        ("module", result.by_module),
        ("element", result.by_element),
        ("material_group", result.by_material_group),
        ("indicator", result.by_indicator),
    ):
        rows += [{"breakdown": name, "key": k, "eur": tidy(v)} for k, v in part.items()]
    return rows


def _print_notes(notes: list[str]) -> None:
    for n in notes:
        typer.echo(f"note: {n}", err=True)


@app.command("project")
@guarded
def project_cmd(
    project: Annotated[
        Path,
        typer.Option(
            dir_okay=False,
            help="Project CSV: element_id,product_id,quantity,service_life_years "
            "[,unit,material_group,transport_mode,distance_km,tonnes_per_unit].",
        ),
    ],
    profiles: Annotated[
        Path,
        typer.Option(
            dir_okay=False,
            help="Profiles CSV: product_id,unit,data_category,module,indicator,value.",
        ),
    ],
    weighting_set: SetOpt = "2",
    period: PeriodOpt = None,
    include_d: IncludeDOpt = False,
    date: DateOpt = None,
    format: FormatOpt = Format.table,
    explain_: ExplainOpt = False,
) -> None:
    """MKI of a work in euros: total, per module, element, material group and indicator."""
    _no_csv_explain(format, explain_)
    result = _compute(
        project,
        profiles,
        weighting_set,
        _day(date),
        _option_number(period, "--period"),
        include_d,
        explain_,
    )
    _print_notes(result.notes)
    if format is Format.json:
        data = result.to_dict()
        if explain_:
            data["explain"] = result.trace.to_dict()
        sys.stdout.write(jsonout.dumps(data) + "\n")
        return
    emit(
        _breakdown_rows(result),
        format,
        title=f"MKI (set {weighting_set}, {result.date}), EUR",
        columns=["breakdown", "key", "eur"],
    )
    if explain_:
        explain(console_for(), "MKI of the work", result.trace)


@app.command("compare")
@guarded
def compare_cmd(
    project: Annotated[Path, typer.Option(dir_okay=False, help="Project CSV of variant A.")],
    variant: Annotated[Path, typer.Option(dir_okay=False, help="Project CSV of variant B.")],
    profiles: Annotated[Path, typer.Option(dir_okay=False, help="Profiles CSV (both).")],
    weighting_set: SetOpt = "2",
    period: PeriodOpt = None,
    include_d: IncludeDOpt = False,
    date: DateOpt = None,
    format: FormatOpt = Format.table,
) -> None:
    """Two designs side by side: difference (B − A) and its largest causes (MKI-10)."""
    day, per = _day(date), _option_number(period, "--period")
    a = _compute(project, profiles, weighting_set, day, per, include_d, False)
    b = _compute(variant, profiles, weighting_set, day, per, include_d, False)
    _print_notes(sorted(set(a.notes) | set(b.notes)))
    data = compare(a, b)
    if format is Format.json:
        sys.stdout.write(jsonout.dumps(data) + "\n")
        return
    emit(
        data["lines"],
        format,
        title=f"Variant A {project.name} vs B {variant.name} (set {weighting_set}), EUR",
        columns=["breakdown", "key", "a_eur", "b_eur", "difference_eur"],
    )
    if format is Format.table:
        console = console_for()
        for kind in ("element", "indicator", "module"):
            causes = ", ".join(
                f"{c['key']} {c['difference_eur']:+}" for c in data[f"causes_by_{kind}"]
            )
            console.print(f"largest causes by {kind}: {causes or 'none'}")


def _method(
    method: str,
    factor: str | None,
    upper: str | None,
    lower: str | None,
    max_discount: str | None,
) -> Method:
    return Method(
        method,
        factor=_option_number(factor, "--factor"),
        upper=_option_number(upper, "--upper"),
        lower=_option_number(lower, "--lower"),
        max_discount=_option_number(max_discount, "--max-discount"),
    )


MethodOpt = Annotated[str, typer.Option("--method", help="mki-w or bounded.")]
FactorOpt = Annotated[
    str | None, typer.Option("--factor", help="MKI-W weighting factor (tender parameter).")
]
UpperOpt = Annotated[str | None, typer.Option("--upper", help="Upper MKI bound, EUR (bounded).")]
LowerOpt = Annotated[str | None, typer.Option("--lower", help="Lower MKI bound, EUR (bounded).")]
MaxDiscOpt = Annotated[
    str | None, typer.Option("--max-discount", help="Maximum fictitious discount, EUR (bounded).")
]


@app.command("award")
@guarded
def award_cmd(
    bids: Annotated[Path, typer.Option(dir_okay=False, help="Bids CSV: bidder,price_eur,mki_eur.")],
    method: MethodOpt,
    factor: FactorOpt = None,
    upper: UpperOpt = None,
    lower: LowerOpt = None,
    max_discount: MaxDiscOpt = None,
    weighting_set: SetOpt = "2",
    format: FormatOpt = Format.table,
    explain_: ExplainOpt = False,
) -> None:
    """Rank bids by fictitious price (MKI-W or bounded fictitious discount)."""
    _no_csv_explain(format, explain_)
    rule = _method(method, factor, upper, lower, max_discount)
    pset = load_weighting_set(weighting_set)
    trace = Trace(pset)
    rows = rank_bids(read_bids(bids), rule, trace)
    traces = None
    if explain_:
        traces = []
        for r in rows:
            t = Trace(pset)
            t.steps = [s for s in trace.steps if s.label == f"bid {r['bidder']}"]
            traces.append(t)
    emit(
        rows,
        format,
        title=f"Award ranking ({method})",
        columns=["bidder", "price_eur", "mki_eur", "fictitious_price_eur", "rank", "tie"],
        traces=traces,
    )


@app.command("penalty")
@guarded
def penalty_cmd(
    offered: Annotated[str, typer.Option("--offered", help="MKI offered in the bid, EUR.")],
    delivered: Annotated[str, typer.Option("--delivered", help="MKI delivered, EUR.")],
    method: MethodOpt,
    factor: FactorOpt = None,
    upper: UpperOpt = None,
    lower: LowerOpt = None,
    max_discount: MaxDiscOpt = None,
    penalty_factor: Annotated[
        str | None,
        typer.Option("--penalty-factor", help="Multiple of the advantage (default: parameter)."),
    ] = None,
    weighting_set: SetOpt = "2",
    date: DateOpt = None,
    format: FormatOpt = Format.table,
    explain_: ExplainOpt = False,
) -> None:
    """Penalty after award: factor × advantage gained with the offered MKI (MKI-12)."""
    _no_csv_explain(format, explain_)
    rule = _method(method, factor, upper, lower, max_discount)
    pset = load_weighting_set(weighting_set)
    trace = Trace(pset)
    off, dlv = _option_number(offered, "--offered"), _option_number(delivered, "--delivered")
    assert off is not None and dlv is not None
    row = penalty(
        rule, off, dlv, trace, _day(date), _option_number(penalty_factor, "--penalty-factor")
    )
    emit([row], format, title="Penalty after award", traces=[trace] if explain_ else None)


@app.command("check")
@guarded
def check_cmd(
    batches: Annotated[
        Path,
        typer.Option(
            dir_okay=False,
            help="Batches CSV: batch_id,material,product_group,unit,mki_eur_per_unit.",
        ),
    ],
    ceilings: Annotated[
        Path | None,
        typer.Option(
            dir_okay=False,
            help="Ceilings CSV: material,product_group,unit,ceiling_eur,source "
            "(default: the published ceilings of the weighting set valid on --date).",
        ),
    ] = None,
    weighting_set: SetOpt = "2",
    date: DateOpt = None,
    format: FormatOpt = Format.table,
    explain_: ExplainOpt = False,
) -> None:
    """Delivered batches against material ceilings: pass/fail with margin (MKI-11)."""
    _no_csv_explain(format, explain_)
    pset = load_weighting_set(weighting_set)
    trace = Trace(pset)
    day = _day(date)
    table = read_ceilings(ceilings) if ceilings else param_ceilings(trace, day)
    if not table:
        raise RuleError(
            f"weighting set {weighting_set} has no published ceilings valid on {day}; "
            "give --ceilings FILE"
        )
    rows = check_batches(read_batches(batches), table, trace)
    emit(
        rows,
        format,
        title=f"Material ceilings (set {weighting_set})",
        columns=[
            "batch_id",
            "material",
            "product_group",
            "unit",
            "mki_eur_per_unit",
            "ceiling_eur_per_unit",
            "margin_eur_per_unit",
            "margin_percent",
            "result",
        ],
    )
    if explain_ and format is Format.table:
        explain(console_for(), "ceiling check", trace)


@app.command("import-epd")
@guarded
def import_epd_cmd(
    xml: Annotated[Path, typer.Option("--xml", dir_okay=False, help="ILCD+EPD process XML.")],
    product_id: Annotated[str, typer.Option("--product-id", help="Product id for the rows.")],
    unit: Annotated[str, typer.Option("--unit", help="Functional unit, e.g. m3 or t.")],
    data_category: Annotated[str, typer.Option("--data-category", help="1, 2, 3 or 3a.")] = "1",
    weighting_set: SetOpt = "2",
) -> None:
    """Convert an ILCD+EPD XML data set into profile CSV rows (stdout)."""
    rows = read_epd_xml(
        xml, weighting_set, product_id=product_id, unit=unit, data_category=data_category
    )
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(PROFILE_COLUMNS), lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({**r, "value": str(tidy(r["value"]))})
    sys.stdout.write(buf.getvalue())


@app.command("params")
@guarded
def params_cmd(
    weighting_set: SetOpt = "2",
    date: DateOpt = None,
    format: FormatOpt = Format.table,
) -> None:
    """Prices, surcharges and ceilings of a weighting set on a date, with status and source."""
    pset: ParameterSet = load_weighting_set(weighting_set)
    day = _day(date)
    rows = []
    for name in pset.names():
        p = pset.parameter(name)
        row: dict[str, Any] = {"name": name, "unit": p.spec.unit}
        try:
            pv = pset.at(name, day)
            row["value"], row["status"] = pv.value, pv.status
        except Exception as exc:
            row["value"], row["status"] = "—", str(exc).split(":")[0][:60]
        row["source"] = p.spec.source
        rows.append(row)
    if format is Format.table:
        console = console_for()
        table = Table(title=f"MKI weighting set {weighting_set} on {day}")
        for c in ("name", "unit", "value", "status", "source"):
            table.add_column(c)
        for r in rows:
            table.add_row(*(str(r[c]) for c in ("name", "unit", "value", "status", "source")))
        console.print(table)
        return
    emit(rows, format, title="")
