"""``keten ev …`` — Energie Vervoer: obligations, units, compliance, least-cost plans."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from keten.cli.output import (
    Format,
    console_for,
    emit,
    explain,
    fail,
    guarded,
    parameter_rows,
    warn,
)
from keten.core.errors import InputError, RuleError
from keten.core.params import ParameterSet, available_sets, load_set, params_root
from keten.core.trace import Trace
from keten.ev.compliance import compliance, least_cost_plans
from keten.ev.model import OBLIGATION_ROWS, SECTORS, Booking
from keten.ev.obligation import check_year, obligations
from keten.ev.units import units_for_booking
from keten.io.ev_files import (
    create_units,
    read_deliveries,
    read_holdings,
    read_prices,
    scan_bookings,
)

app = typer.Typer(help="Energie Vervoer (seed 004, Bijlage 1).", no_args_is_help=True)

DEFAULT_SET = "bijlage-1"

Year = Annotated[int, typer.Option("--year", help="Obligation year, e.g. 2026.")]
ParamsOpt = Annotated[
    str, typer.Option("--params", help="Parameter set (bijlage-1, besluit-2025).")
]
FormatOpt = Annotated[Format, typer.Option("--format", help="Output format.")]
ExplainOpt = Annotated[
    bool, typer.Option("--explain", help="Show the arithmetic, parameters, sources and receipt.")
]
FileOpt = Annotated[Path, typer.Option(dir_okay=False, help="CSV file.")]


def _params(name: str, year: int) -> ParameterSet:
    """The parameter set, refusing a ``--year`` it has no obligation tables for (before any file
    is read: the year is wrong, not a row)."""
    pset = load_set("ev", name)
    try:
        check_year(pset, year)
    except RuleError as exc:
        raise fail(f"--year {year}: {str(exc).splitlines()[0]}") from None
    return pset


def _no_csv_explain(fmt: Format, explain_: bool) -> None:
    if explain_ and fmt is Format.csv:
        raise fail("--explain goes with --format table or json, not csv")


@app.command("obligation")
@guarded
def obligation_cmd(
    year: Year,
    deliveries: Annotated[
        Path, typer.Option(help="Deliveries CSV: supplier,sector,fuel,quantity,unit.")
    ],
    params: ParamsOpt = DEFAULT_SET,
    format: FormatOpt = Format.table,
    explain_: ExplainOpt = False,
) -> None:
    """Obligation per supplier and sector, in EREs."""
    _no_csv_explain(format, explain_)
    pset = _params(params, year)
    result = obligations(read_deliveries(deliveries, pset, year), year, pset)
    for o in result:
        for row, why in o.unknown.items():
            warn(f"{o.supplier} {o.sector} {row} is unknown (null in the output, EV-32): {why}")
    emit(
        [o.to_dict() for o in result],
        format,
        title=f"Obligations {year} ({params}), EREs",
        columns=["supplier", "sector", "year", "base_mj", *OBLIGATION_ROWS],
        traces=[o.trace for o in result] if explain_ else None,
    )


@app.command("units")
@guarded
def units_cmd(
    year: Year,
    bookings: Annotated[
        Path,
        typer.Option(
            help="Bookings CSV or .parquet: holder,sector,category,fuel,quantity,unit,ghg_intensity"
        ),
    ],
    params: ParamsOpt = DEFAULT_SET,
    format: FormatOpt = Format.table,
    explain_: ExplainOpt = False,
) -> None:
    """Units (EREs; LREs for luchtvaart) created by each booking row."""
    _no_csv_explain(format, explain_)
    pset = _params(params, year)
    frame = scan_bookings(bookings)
    rows = create_units(frame, pset, year, str(bookings)).to_dicts()
    traces = None
    if explain_:
        traces = [_booking_trace(r, pset, year) for r in frame.collect().to_dicts()]
    emit(rows, format, title=f"Units created {year} ({params})", traces=traces)


def _booking_trace(row: dict[str, Any], pset: ParameterSet, year: int) -> Trace:
    from keten.core.quantity import parse_number

    ci = row["ghg_intensity"]
    booking = Booking(
        row["holder"],
        row["sector"],
        row["category"],
        row["fuel"],
        parse_number(str(row["quantity"])),
        row["unit"],
        None if ci is None or str(ci).strip() == "" else parse_number(str(ci)),
    )
    trace = Trace(pset)
    units_for_booking(booking, year, trace)
    return trace


@app.command("compliance")
@guarded
def compliance_cmd(
    year: Year,
    deliveries: Annotated[Path, typer.Option(help="Deliveries CSV.")],
    units: Annotated[
        Path, typer.Option(help="Units held CSV: holder,origin_sector,category,amount.")
    ],
    params: ParamsOpt = DEFAULT_SET,
    format: FormatOpt = Format.table,
    explain_: ExplainOpt = False,
) -> None:
    """Best allocation of each supplier's units and the shortfall per sector."""
    _no_csv_explain(format, explain_)
    pset = _params(params, year)
    obs = obligations(read_deliveries(deliveries, pset, year), year, pset)
    result = compliance(obs, read_holdings(units), pset, year)
    sectors = [s for s in SECTORS if any(s in r.shortfall_by_sector for r in result)]
    if format is Format.csv:
        emit(
            [
                {
                    "supplier": r.supplier,
                    "compliant": r.compliant,
                    "shortfall_total": r.shortfall_total,
                    **{f"shortfall_{s}": r.shortfall_by_sector.get(s, 0) for s in sectors},
                }
                for r in result
            ],
            format,
            title="",
            columns=[
                "supplier",
                "compliant",
                "shortfall_total",
                *(f"shortfall_{s}" for s in sectors),
            ],
        )
        return
    emit(
        [r.to_dict() for r in result],
        format,
        title=f"Compliance {year} ({params})",
        columns=["supplier", "compliant", "shortfall_total", "shortfall_by_sector", "plan"]
        if format is Format.json
        else ["supplier", "compliant", "shortfall_total", "shortfall_by_sector"],
        traces=[r.trace for r in result] if explain_ else None,
        heading=lambda r: str(r["supplier"]),
    )
    if format is Format.table:
        _print_plans(result)


def _print_plans(result: list[Any]) -> None:
    console = console_for()
    for r in result:
        lines = ", ".join(f"{p.amount} {p.origin_sector}/{p.category} → {p.sector}" for p in r.plan)
        console.print(f"surrender plan {r.supplier}: {lines or 'nothing'}")


def _print_purchases(plans: list[Any]) -> None:
    console = console_for()
    for p in plans:
        lines = ", ".join(
            f"{b.amount} {b.origin_sector}/{b.category} at €{b.price_eur}" for b in p.purchases
        )
        console.print(f"purchases {p.supplier}: {lines or 'nothing'}")


@app.command("plan")
@guarded
def plan_cmd(
    year: Year,
    deliveries: Annotated[Path, typer.Option(help="Deliveries CSV.")],
    units: Annotated[Path, typer.Option(help="Units held CSV.")],
    prices: Annotated[Path, typer.Option(help="Prices CSV: origin_sector,category,price_eur.")],
    params: ParamsOpt = DEFAULT_SET,
    format: FormatOpt = Format.table,
    explain_: ExplainOpt = False,
) -> None:
    """Least-cost purchase that makes each supplier compliant."""
    _no_csv_explain(format, explain_)
    pset = _params(params, year)
    obs = obligations(read_deliveries(deliveries, pset, year), year, pset)
    plans = least_cost_plans(obs, read_holdings(units), read_prices(prices), pset, year)
    rows = [p.to_dict() for p in plans]
    if format is Format.csv:
        emit(
            rows,
            format,
            title="",
            columns=["supplier", "cost_eur", "compliant", "origin_sector", "category", "amount"],
            csv_rows=lambda r: (
                [
                    {**{k: r[k] for k in ("supplier", "cost_eur", "compliant")}, **p}
                    for p in r["purchases"]
                ]
                or [{k: r[k] for k in ("supplier", "cost_eur", "compliant")}]
            ),
        )
        return
    emit(
        rows,
        format,
        title=f"Least-cost plans {year} ({params})",
        traces=[p.compliance.trace for p in plans] if explain_ else None,
        heading=lambda r: str(r["supplier"]),
    )
    if format is Format.table:
        _print_purchases(plans)


@app.command("params")
@guarded
def params_cmd(
    params: ParamsOpt = DEFAULT_SET,
    year: Annotated[int | None, typer.Option("--year", help="Show values for this year.")] = None,
    format: FormatOpt = Format.table,
) -> None:
    """List the parameters of a set with unit, status and source (and the value for --year)."""
    pset = load_set("ev", params)
    rows = parameter_rows(pset, year)
    emit(rows, format, title=f"Parameter set {params} (sets: {', '.join(available_sets('ev'))})")


def example_dir() -> Path:
    return params_root().parent / "examples" / "ev"


@app.command("example")
@guarded
def example_cmd(
    year: Annotated[int, typer.Option("--year")] = 2026,
    params: ParamsOpt = DEFAULT_SET,
    folder: Annotated[
        Path | None, typer.Option("--dir", help="Folder with the example files.")
    ] = None,
) -> None:
    """The worked example: obligations, units, compliance and a least-cost plan, explained."""
    base = folder or example_dir()
    if not base.is_dir():
        raise InputError("example folder not found", file=str(base))
    pset = _params(params, year)
    console = console_for()
    console.rule(f"[bold]keten — Energie Vervoer worked example, {year}, set {params}")
    console.print(f"Files: {base}")
    obs = obligations(read_deliveries(base / "deliveries.csv", pset, year), year, pset)
    console.rule("1. Obligations (keten ev obligation)")
    emit(
        [o.to_dict() for o in obs],
        Format.table,
        title="Obligations, EREs",
        columns=["supplier", "sector", "base_mj", *OBLIGATION_ROWS],
    )
    explain(console, f"{obs[0].supplier} {obs[0].sector}", obs[0].trace)
    console.rule("2. Units from bookings (keten ev units)")
    frame = scan_bookings(base / "bookings.csv")
    created = create_units(frame, pset, year, str(base / "bookings.csv"))
    emit(created.to_dicts(), Format.table, title="Units created")
    console.rule("3. Compliance with the units held (keten ev compliance)")
    holdings = read_holdings(base / "units.csv")
    result = compliance(obs, holdings, pset, year)
    emit(
        [r.to_dict() for r in result],
        Format.table,
        title="Compliance",
        columns=["supplier", "compliant", "shortfall_total", "shortfall_by_sector"],
    )
    _print_plans(result)
    short = next((r for r in result if not r.compliant), result[0])
    explain(console, f"compliance {short.supplier}", short.trace)
    console.rule("4. Least-cost plan (keten ev plan)")
    plans = least_cost_plans(obs, holdings, read_prices(base / "prices.csv"), pset, year)
    emit(
        [p.to_dict() for p in plans],
        Format.table,
        title="Least-cost purchases",
        columns=["supplier", "cost_eur", "purchases", "compliant"],
    )
    for p in plans:
        buys = ", ".join(
            f"{b.amount} {b.origin_sector}/{b.category} at €{b.price_eur}" for b in p.purchases
        )
        console.print(f"{p.supplier}: {buys or 'nothing to buy'} — total €{p.cost_eur}")
    console.print(
        "\nEvery number above comes from params/ev (see `keten ev params`) and the"
        " interpretations in docs/interpretations.md."
    )
