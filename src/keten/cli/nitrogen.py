"""``keten nitrogen …`` — farm emissions, norms, Vbr ranking, sector targets and the budget table
(seed 002_1543ed01d752c586.txt)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer

from keten.cli.output import Format, emit, fail, guarded, warn
from keten.core.errors import InputError, RuleError
from keten.core.messages import msg
from keten.core.params import ParameterSet, load_set
from keten.core.quantity import parse_number, tidy
from keten.core.trace import Trace
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
from keten.nitrogen import DEFAULT_SET, DOMAIN
from keten.nitrogen.budget import check_table, table, track
from keten.nitrogen.catalogue import Catalogue
from keten.nitrogen.emissions import Housing, farm_emissions, housing_emission, plan_key
from keten.nitrogen.kpis import display, farm_kpis
from keten.nitrogen.norms import METHODS, FarmNorm, farm_norms
from keten.nitrogen.sectors import monitor, sector_targets
from keten.nitrogen.vbr import MODES, AreaIndex, rank_applications

app = typer.Typer(
    help="Stikstof (seed 002): emissions, norms, Vbr, sectors, budget.", no_args_is_help=True
)

ParamsOpt = Annotated[
    str, typer.Option("--params", help="Parameter set (vervolgpakket-2025, vervolgpakket-2025-46).")
]
FormatOpt = Annotated[Format, typer.Option("--format", help="Output format.")]
ExplainOpt = Annotated[
    bool, typer.Option("--explain", help="Show the arithmetic, parameters, sources and receipt.")
]
YearOpt = Annotated[int, typer.Option("--year", help="Year of the emission factors.")]
HousingsOpt = Annotated[
    Path,
    typer.Option(
        "--housings",
        dir_okay=False,
        help="CSV: farm_id,housing_code,animals,ef_nh3,traditional_ef_nh3,additional",
    ),
]
EMISSIONS_CSV = ["farm_id", "housing_code", "animals", "ef_nh3", "traditional_ef_nh3", "additional"]


def _params(name: str) -> ParameterSet:
    return load_set(DOMAIN, name)


def _no_csv_explain(fmt: Format, explain_: bool) -> None:
    if explain_ and fmt is Format.csv:
        raise fail("--explain goes with --format table or json, not csv")


@app.command("emissions")
@guarded
def emissions_cmd(
    housings: HousingsOpt,
    year: YearOpt = 2025,
    params: ParamsOpt = DEFAULT_SET,
    format: FormatOpt = Format.table,
    explain_: ExplainOpt = False,
    farms_file: Annotated[
        Path | None,
        typer.Option(
            "--farms",
            dir_okay=False,
            help="CSV farm_id,hectares: adds kg NH3 (and GHG) per hectare (NH-49).",
        ),
    ] = None,
    ghg_file: Annotated[
        Path | None,
        typer.Option(
            "--ghg-factors",
            dir_okay=False,
            help="CSV animal_category,kg_co2e_per_animal,source: user-supplied GHG factors "
            "(no sourced factor exists; NH-50).",
        ),
    ] = None,
) -> None:
    """NH3 emission per farm and housing (Rav method with the air-scrubber floor); with --farms
    and --ghg-factors also kg NH3 per hectare and GHG (kg CO2e, user-supplied factors)."""
    _no_csv_explain(format, explain_)
    pset = _params(params)
    catalogue = load_catalogue(pset)
    rows = read_housings(housings, catalogue)
    areas = read_farms(farms_file) if farms_file is not None else None
    ghg = read_ghg_factors(ghg_file, catalogue) if ghg_file is not None else None
    farms = farm_emissions(rows, catalogue, year, explain=explain_)
    kpis = None
    if areas is not None or ghg is not None:
        kpis = farm_kpis(farms, rows, catalogue, areas, ghg, str(farms_file or "--farms"))
        for k in kpis:
            for note in k.notes:
                warn(note)
        if areas is not None:
            unknown = sorted(set(areas) - {f.farm_id for f in farms})
            if unknown:
                warn(f"{farms_file} lists farms without housings: {', '.join(unknown)}")
        if ghg is not None:
            warn(f"GHG uses user-supplied factors from {ghg.file}, not a keten source (NH-50)")
    flagged = (
        sorted({p.name for f in farms if f.trace for p in f.trace.flagged()})
        if explain_
        else _flagged_plans(rows, catalogue, year)
    )
    if flagged:
        warn("result uses values not read in an authoritative source: " + ", ".join(flagged))
    if format is Format.csv:
        out = []
        by_farm = {f.farm_id: iter(f.housings) for f in farms}
        ghg_rows = {k.farm_id: iter(k.ghg_by_housing) for k in kpis or []}
        for h in rows:
            e = next(by_farm[h.farm_id])
            line: dict[str, object] = {
                "farm_id": h.farm_id,
                "housing_code": e.housing_code,
                "animals": h.animals,
                "ef_nh3": tidy(e.factor_used),
                "traditional_ef_nh3": "" if h.traditional_ef_nh3 is None else h.traditional_ef_nh3,
                "additional": ";".join(a.label() for a in h.additional),
                "nh3_kg": tidy(e.nh3_kg),
            }
            if ghg is not None:
                g = next(ghg_rows[h.farm_id])
                line["ghg_kg_co2e"] = "" if g is None else tidy(g)
                line["ghg_source"] = "user-supplied"
            out.append(line)
        extra = ["ghg_kg_co2e", "ghg_source"] if ghg is not None else []
        emit(out, format, title="", columns=[*EMISSIONS_CSV, "nh3_kg", *extra])
        return
    if format is Format.json:
        emit(
            [{**f.to_dict(), **(kpis[i].to_dict() if kpis else {})} for i, f in enumerate(farms)],
            format,
            title="",
            traces=[f.trace for f in farms if f.trace] if explain_ else None,
        )
        return
    table_rows: list[dict[str, Any]] = []
    for i, f in enumerate(farms):
        r: dict[str, Any] = {
            "farm_id": f.farm_id,
            "housings": len(f.housings),
            "nh3_kg": tidy(f.nh3_kg),
        }
        if kpis:
            k = kpis[i]
            if areas is not None:
                r["hectares"] = "n/a" if k.hectares is None else tidy(k.hectares)
                r["nh3_kg_per_ha"] = _shown(k.nh3_kg_per_ha)
            if ghg is not None:
                r["ghg_kg_co2e*"] = _shown(k.ghg_kg_co2e)
                if areas is not None:
                    r["ghg_kg_co2e_per_ha*"] = _shown(k.ghg_kg_co2e_per_ha)
        table_rows.append(r)
    title = f"Farm NH3 emissions {year} (kg/year, set {params})"
    if ghg is not None:
        title += "; * GHG from user-supplied factors"
    emit(
        table_rows,
        format,
        title=title,
        traces=[f.trace for f in farms if f.trace] if explain_ else None,
    )


def _flagged_plans(rows: list[Housing], catalogue: Catalogue, year: int) -> list[str]:
    """Names of the non-authoritative parameters the housings use (an H alias, NH-02; a keten
    scrubber code, NH-04) without ``--explain``: one traced row per distinct description, the
    same parameters as the per-row traces (NH-48)."""
    trace = Trace(catalogue.params)
    seen: set[object] = set()
    for h in rows:
        key = plan_key(h)
        if key not in seen:
            seen.add(key)
            housing_emission(h, catalogue, year, trace)
    return sorted({p.name for p in trace.flagged()})


def _flagged_norms(
    result: list[FarmNorm],
    rows: list[Housing],
    norms: Callable[[list[Housing], bool], list[FarmNorm]],
) -> list[str]:
    """Names of the non-authoritative parameters the norms use, without ``--explain`` (NH-02):
    one traced run per distinct farm situation — the same housing descriptions (NH-48), the same
    monitoring and case history — which uses the same parameters as every farm it stands for."""
    housings: dict[str, list[Housing]] = {}
    for h in rows:
        housings.setdefault(h.farm_id, []).append(h)
    picked: dict[object, str] = {}
    for r in result:
        situation = (
            tuple(plan_key(h) for h in housings.get(r.farm_id, [])),
            repr([{k: v for k, v in m.to_dict().items() if k != "farm_id"} for m in r.monitoring]),
            repr([{k: v for k, v in e.to_dict().items() if k != "farm_id"} for e in r.history]),
        )
        picked.setdefault(situation, r.farm_id)
    chosen = set(picked.values())
    traced = norms([h for h in rows if h.farm_id in chosen], True)
    return sorted({p.name for r in traced if r.trace for p in r.trace.flagged()})


def _amount(text: str, option: str) -> Decimal:
    """A non-negative amount given as an option (``--budget``, ``--avoided-cost``)."""
    try:
        amount = parse_number(text)
    except ValueError as exc:
        raise InputError(str(exc), field=option) from None
    if amount < 0:
        raise InputError(msg("must not be negative"), field=option)
    return amount


def _shown(value: Decimal | None) -> object:
    """Table display only (NH-49): rounded half up to 2 decimals; ``n/a`` when not computed."""
    return "n/a" if value is None else tidy(display(value))


@app.command("vbr")
@guarded
def vbr_cmd(
    applications: Annotated[
        Path,
        typer.Option(
            "--applications",
            dir_okay=False,
            help="CSV: application_id,submitted_at,x,y,nh3_kg,subsidy_eur (EPSG:28992)",
        ),
    ],
    areas: Annotated[
        Path,
        typer.Option(
            "--areas",
            dir_okay=False,
            help="Overloaded N2000 areas: .geojson, .parquet (GeoParquet) or .gpkg",
        ),
    ],
    budget: Annotated[str | None, typer.Option("--budget", help="Budget in EUR.")] = None,
    extra_budget: Annotated[
        bool, typer.Option("--extra-budget", help="Add the vervolgpakket's extra budget (Tabel 1).")
    ] = False,
    mode: Annotated[
        str,
        typer.Option(
            "--mode", help="stop (default, NH-42) or skip when an application no longer fits."
        ),
    ] = "stop",
    areas_crs: Annotated[
        str | None,
        typer.Option(
            "--areas-crs", help="CRS of the areas when the file does not say (e.g. EPSG:4326)."
        ),
    ] = None,
    date: Annotated[str, typer.Option("--date", help="Date of the rules (ISO).")] = "2026-03-01",
    params: ParamsOpt = DEFAULT_SET,
    format: FormatOpt = Format.table,
    explain_: ExplainOpt = False,
) -> None:
    """Rank Vbr applications (round 1 ≤ 1,000 m by time; round 2 by €/kg) and cut at the budget."""
    _no_csv_explain(format, explain_)
    if mode not in MODES:
        raise fail(f"--mode must be one of {', '.join(MODES)}")
    try:
        day = dt.date.fromisoformat(date)
    except ValueError:
        raise fail(f"--date is not an ISO date: {date!r}") from None
    amount: Decimal | None = None
    if budget is not None:
        amount = _amount(budget, "--budget")
        if extra_budget:
            raise fail("--extra-budget goes with the parameter budget, not with --budget")
    pset = _params(params)
    index = AreaIndex(read_areas(areas, pset, day, areas_crs))
    apps = read_applications(applications, pset, day)
    result = rank_applications(apps, index, pset, day, amount, extra_budget, mode)  # type: ignore[arg-type]
    rows = [r.to_dict() for r in result.ranked]
    emit(
        rows,
        format,
        title=f"Vbr allocation (budget €{result.budget_eur}, granted €{result.granted_eur}, "
        f"mode {mode})",
        columns=[
            "application_id",
            "round",
            "rank",
            "distance_m",
            "eur_per_kg",
            "granted",
            "cumulative_eur",
        ],
    )
    if explain_ and format is Format.table:
        from keten.cli.output import console_for, explain

        explain(console_for(), "Vbr allocation", result.trace)


@app.command("norms")
@guarded
def norms_cmd(
    housings: HousingsOpt,
    method: Annotated[
        str, typer.Option("--method", help="proportional, benchmark or stricter (NH-11..13).")
    ] = "stricter",
    reference_year: Annotated[
        int | None,
        typer.Option("--reference-year", help="Reference year (default: parameter, 2019)."),
    ] = None,
    observed: Annotated[
        Path | None,
        typer.Option(
            "--observed",
            dir_okay=False,
            help="CSV farm_id,year,nh3_kg: monitoring and case history.",
        ),
    ] = None,
    avoided_cost: Annotated[
        str | None,
        typer.Option(
            "--avoided-cost", help="EUR per kg NH3 of avoided reduction, sizes the fine (NH-15)."
        ),
    ] = None,
    params: ParamsOpt = DEFAULT_SET,
    format: FormatOpt = Format.table,
    explain_: ExplainOpt = False,
) -> None:
    """Farm norms for 2035, the path, monitoring (2027, 2029, …) and the enforcement history."""
    _no_csv_explain(format, explain_)
    if method not in METHODS:
        raise fail(f"--method must be one of {', '.join(METHODS)}")
    # a negative cost would size a negative fine (NH-15)
    cost = None if avoided_cost is None else _amount(avoided_cost, "--avoided-cost")
    pset = _params(params)
    catalogue = load_catalogue(pset)
    rows = read_housings(housings, catalogue)
    obs = read_observed_farms(observed) if observed is not None else None
    ladder = read_ladder()

    def norms(farms: list[Housing], explain: bool) -> list[FarmNorm]:
        return farm_norms(
            farms,
            catalogue,
            method,  # type: ignore[arg-type]
            reference_year,
            obs,
            ladder,
            cost,
            explain=explain,
        )

    result = norms(rows, explain_)
    traces = [r.trace for r in result if r.trace] if explain_ else None
    if not explain_:  # with --explain every explanation names them (NH-02)
        flagged = _flagged_norms(result, rows, norms)
        if flagged:
            warn("result uses values not read in an authoritative source: " + ", ".join(flagged))
    if format is Format.table:
        emit(
            [r.to_dict() for r in result],
            format,
            title=f"Farm NH3 norms 2035 ({method}, set {params}), kg/year",
            columns=[
                "farm_id",
                "reference_year",
                "reference_nh3_kg",
                "proportional_kg",
                "benchmark_kg",
                "norm_kg",
            ],
            traces=traces,
        )
        if obs is not None:
            emit(
                [{"farm_id": r.farm_id, **m.to_dict()} for r in result for m in r.monitoring],
                format,
                title="Monitoring against the path",
            )
            emit(
                [{"farm_id": r.farm_id, **e.to_dict()} for r in result for e in r.history],
                format,
                title="Case history (enforcement ladder)",
            )
        return
    if format is Format.csv:
        emit(
            [
                {k: v for k, v in r.to_dict().items() if k not in ("monitoring", "history")}
                for r in result
            ],
            format,
            title="",
        )
        return
    emit([r.to_dict() for r in result], format, title="", traces=traces)


@app.command("sectors")
@guarded
def sectors_cmd(
    params: ParamsOpt = DEFAULT_SET, format: FormatOpt = Format.table, explain_: ExplainOpt = False
) -> None:
    """Sector baselines 2019, targets 2035 and 2030 streefwaarden (null = unknown)."""
    _no_csv_explain(format, explain_)
    targets, trace = sector_targets(_params(params))
    for t in targets:
        for n in t.notes:
            warn(n)
    emit([t.to_dict() for t in targets], format, title=f"Sector targets (set {params})")
    if explain_ and format is Format.table:
        from keten.cli.output import console_for, explain

        explain(console_for(), "sector targets", trace)


@app.command("monitor")
@guarded
def monitor_cmd(
    observed: Annotated[
        Path,
        typer.Option(
            "--observed",
            dir_okay=False,
            help="CSV sector,substance,year,kt (observed national emissions).",
        ),
    ],
    params: ParamsOpt = DEFAULT_SET,
    format: FormatOpt = Format.table,
) -> None:
    """Where each sector stands against the linear path to its 2035 target (NH-31)."""
    observations = read_observed_sectors(observed)
    try:
        result, _ = monitor(_params(params), observations)
    except RuleError as exc:  # e.g. a sector/substance without a target: name the file
        raise InputError(exc.translatable, file=str(observed)) from None
    emit([r.to_dict() for r in result], format, title=f"Sector monitoring (set {params})")


@app.command("budget")
@guarded
def budget_cmd(
    check: Annotated[bool, typer.Option("--check", help="Show every sum of Tabel 1.")] = False,
    commitments: Annotated[
        Path | None,
        typer.Option(
            "--commitments",
            dir_okay=False,
            help="CSV kind,line,amount_eur_m,description: track commitments per line.",
        ),
    ] = None,
    params: ParamsOpt = DEFAULT_SET,
    format: FormatOpt = Format.table,
) -> None:
    """Tabel 1 of seed 002 (EUR million), its sums, and commitments against each line."""
    pset = _params(params)
    rows = table(pset, dt.date(2025, 9, 16))
    checks = check_table(rows)
    bad = [c for c in checks if not c.ok]
    for c in bad:
        warn(
            f"Tabel 1 does not add up: {c.kind} {c.what}: {c.formula} = {c.computed}, "
            f"printed {c.printed}"
        )
    out: list[dict[str, Any]]
    if commitments is not None:
        lines = read_commitments(commitments)
        try:
            tracked = track(rows, lines)
        except RuleError as exc:  # e.g. an unknown budget line: name the file
            raise InputError(exc.translatable, file=str(commitments)) from None
        out = [s.to_dict() for s in tracked]
        emit(out, format, title="Commitments against Tabel 1 (EUR million)")
        return
    if check:
        emit([c.to_dict() for c in checks], format, title="Tabel 1 sums")
        return
    emit([r.to_dict() for r in rows], format, title="Tabel 1 (EUR million; structureel per year)")
