"""``keten vehicles …`` (CO2 standards for new cars and vans) and ``keten targets …`` (2040
Climate Law and ESR accounts) — issue 8, seed 000_b84631d04d0393a6.txt.

Two typer apps: ``app`` (register as ``vehicles``) and ``targets_app`` (register as ``targets``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
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
from keten.core.messages import msg
from keten.core.params import ParameterSet, available_sets, load_set
from keten.core.trace import Trace
from keten.io.vehicles_files import (
    Monitoring,
    no_usable_rows,
    read_credits,
    read_derogations,
    read_esr_series,
    read_m1e,
    read_monitoring,
    read_net_series,
    write_synthetic,
)
from keten.vehicles.accounts import esr, eu2040
from keten.vehicles.model import Credits
from keten.vehicles.standards import (
    Assessment,
    YearInput,
    assess,
    assess_averaged,
    check_year,
)

DOMAIN = "vehicles"
DEFAULT_SET = "in-force"
COMMON_SET_FOR_TARGETS = "in-force"  # the accounts use params/vehicles/common only

app = typer.Typer(
    help="EU CO2 standards for new cars and vans per manufacturer (Regulation (EU) 2019/631).",
    no_args_is_help=True,
)
targets_app = typer.Typer(
    help="EU 2040 Climate-Law account and the Dutch Effort Sharing (ESR) account.",
    no_args_is_help=True,
)

DataOpt = Annotated[
    Path, typer.Option("--data", dir_okay=False, help="EEA CO2 monitoring file (.csv or .parquet).")
]
YearOpt = Annotated[int, typer.Option("--year", help="Calendar year of registration, e.g. 2025.")]
ScenarioOpt = Annotated[
    str, typer.Option("--scenario", help="Parameter set: in-force or com-2025-995.")
]
VansOpt = Annotated[bool, typer.Option("--vans", help="Assess vans (N1) instead of cars (M1).")]
FormatOpt = Annotated[Format, typer.Option("--format", help="Output format.")]
ExplainOpt = Annotated[
    bool, typer.Option("--explain", help="Show the arithmetic, parameters, sources and receipt.")
]
DerogOpt = Annotated[
    Path | None,
    typer.Option(
        "--derogations", dir_okay=False, help="Derogation targets CSV: manufacturer,year,target."
    ),
]
CreditsOpt = Annotated[
    Path | None,
    typer.Option(
        "--credits",
        dir_okay=False,
        help="Credits CSV (COM(2025) 995): manufacturer,year,steel,fuels.",
    ),
]
M1eOpt = Annotated[
    Path | None,
    typer.Option(
        "--m1e", dir_okay=False, help="Small EU-made EVs (M1E) CSV: manufacturer,commercial_name."
    ),
]
AverageOpt = Annotated[
    bool,
    typer.Option(
        "--average", help="Three-year compliance 2025–2027 (Reg. 2025/1214); --year 2027."
    ),
]
SkippedOpt = Annotated[
    Path | None,
    typer.Option(
        "--skipped", dir_okay=False, help="Write every skipped row with its reason (CSV)."
    ),
]
StrictOpt = Annotated[
    bool, typer.Option("--strict", help="Refuse the file (exit 2) if any row cannot be used.")
]

COLUMNS = [
    "manufacturer",
    "registrations",
    "average_emissions",
    "target",
    "zlev_share",
    "zlev_factor",
    "excess",
    "premium_eur",
]


def _no_csv_explain(fmt: Format, explain_: bool) -> None:
    if explain_ and fmt is Format.csv:
        raise fail("--explain goes with --format table or json, not csv")


def _field_of(reason: str) -> str:
    m = re.search(r"\(([A-Za-z]+)\)", reason)
    return m.group(1) if m else ""


def _refuse_strict(mon: Monitoring, data: Path, strict: bool) -> None:
    """Under ``--strict`` the first skipped row refuses the file (VH-09)."""
    if not mon.skipped or not strict:
        return
    first = min(mon.skipped, key=lambda s: int(str(s.examples[0]["row"])))
    ex = first.examples[0]
    raise InputError(
        first.reason, file=str(data), row=int(str(ex["row"])), field=_field_of(first.reason)
    )


def _report_skipped(mon: Monitoring, data: Path, skipped_out: Path | None) -> None:
    """Skipped rows are reported per row (first rows of each reason) and counted (VH-09)."""
    if not mon.skipped:
        return
    warn(
        f"{mon.skipped_count} of {mon.rows_read} rows of {data} were skipped and are not in the"
        " results:"
    )
    for s in mon.skipped:
        rows = ", ".join(str(e["row"]) for e in s.examples)
        more = f" and {s.count - len(s.examples)} more" if s.count > len(s.examples) else ""
        warn(f"  {s.reason}: {s.count} row(s) — rows {rows}{more}")
    if skipped_out is not None:
        warn(f"all skipped rows with their reasons: {skipped_out}")


@contextmanager
def _staged(path: Path | None) -> Iterator[Path | None]:
    """The ``--skipped`` file is written under a temporary name in its folder and moved into
    place only when the command succeeds: a refusal (exit 2) leaves nothing written."""
    if path is None:
        yield None
        return
    if not path.parent.is_dir():
        raise InputError(msg("folder for the skipped rows does not exist"), file=str(path))
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        tmp.open("wb").close()
    except OSError as exc:
        raise InputError(
            msg("cannot write: %(error)s", error=exc.strerror or str(exc)), file=str(path)
        ) from None
    try:
        yield tmp
        if tmp.exists():
            tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def _check_named(mon: Monitoring, given: dict[tuple[str, int], Any], file: Path | None) -> None:
    """Every manufacturer of a derogation or credits file must have vehicles in that year. The
    readers keep one key per data row in file order, so the key's position is its row."""
    for row, (name, y) in enumerate(given, start=1):
        if (name, y) not in mon.fleets:
            raise InputError(
                msg(
                    "manufacturer %(name)s has no vehicles in %(year)s in the data",
                    name=repr(name),
                    year=y,
                ),
                file=None if file is None else str(file),
                row=row,
                field="manufacturer",
            )


def _assess_all(
    mon: Monitoring,
    params: ParameterSet,
    category: str,
    year: int,
    average: bool,
    derogations: dict[tuple[str, int], Decimal],
    credits: dict[tuple[str, int], Credits],
) -> list[Assessment]:
    names = sorted({name for name, _ in mon.fleets})
    out = []
    for name in names:
        if average:
            yis = [
                YearInput(f, derogations.get((name, fy)), credits.get((name, fy)))
                for (n, fy), f in sorted(mon.fleets.items())
                if n == name
            ]
            out.append(assess_averaged(yis, category, params, year))
        else:
            fleet = mon.fleets[(name, year)]
            out.append(
                assess(
                    fleet,
                    category,
                    params,
                    derogation_target=derogations.get((name, year)),
                    credits=credits.get((name, year)),
                )
            )
    return out


def _read(
    data: Path,
    params: ParameterSet,
    category: str,
    year: int,
    average: bool,
    m1e: Path | None,
    skipped_out: Path | None,
    strict: bool,
) -> Monitoring:
    nedc = check_year(params, category, year)
    if m1e is not None and category != "cars":
        raise InputError("--m1e lists small electric cars (M1E); it does not apply to --vans")
    years = [year]
    if average:
        first = int(params.get("vehicles.averaging.first_year", year).value)
        last = int(params.get("vehicles.averaging.last_year", year).value)
        if year != last:
            raise InputError(f"--average assesses the period {first}–{last}: use --year {last}")
        years = list(range(first, last + 1))
        for y in years:
            check_year(params, category, y)
    zlev = None
    if "vehicles.zlev.threshold" in params and params.parameter("vehicles.zlev.threshold").covers(
        year
    ):
        zlev = params.get("vehicles.zlev.threshold", year).value
    mon = read_monitoring(
        data,
        years,
        nedc=nedc,
        zlev_threshold=zlev,
        m1e=read_m1e(m1e) if m1e else None,
        skipped_out=skipped_out,
    )
    if not mon.fleets:
        raise no_usable_rows(mon, year, str(data))
    _refuse_strict(mon, data, strict)
    return mon


def _flag_note(results: list[Assessment]) -> None:
    names = sorted({n for r in results for n in r.unverified})
    if names:
        warn(
            "these results use values not read in an authoritative source (see 'unverified'): "
            + ", ".join(names)
        )


@app.command("compliance")
@guarded
def compliance_cmd(
    data: DataOpt,
    year: YearOpt,
    scenario: ScenarioOpt = DEFAULT_SET,
    vans: VansOpt = False,
    format: FormatOpt = Format.table,
    explain_: ExplainOpt = False,
    derogations: DerogOpt = None,
    credits: CreditsOpt = None,
    m1e: M1eOpt = None,
    average: AverageOpt = False,
    skipped: SkippedOpt = None,
    strict: StrictOpt = False,
) -> None:
    """Target, average emissions, excess and premium per manufacturer or pool."""
    _no_csv_explain(format, explain_)
    category = "vans" if vans else "cars"
    params = load_set(DOMAIN, scenario)
    derog = read_derogations(derogations) if derogations else {}
    creds = read_credits(credits) if credits else {}
    with _staged(skipped) as skipped_tmp:
        mon = _read(data, params, category, year, average, m1e, skipped_tmp, strict)
        _check_named(mon, derog, derogations)
        _check_named(mon, creds, credits)
        results = _assess_all(mon, params, category, year, average, derog, creds)
    _report_skipped(mon, data, skipped)
    _flag_note(results)
    emit(
        [r.to_dict() for r in results],
        format,
        title=f"CO2 standards {category} {year} ({scenario})"
        + (" — averaged 2025–2027" if average else ""),
        columns=COLUMNS if format is not Format.json else None,
        traces=[r.trace for r in results] if explain_ else None,
    )


@app.command("scenarios")
@guarded
def scenarios_cmd(
    data: DataOpt,
    year: YearOpt,
    vans: VansOpt = False,
    format: FormatOpt = Format.table,
    derogations: DerogOpt = None,
    credits: CreditsOpt = None,
    m1e: M1eOpt = None,
    skipped: SkippedOpt = None,
    strict: StrictOpt = False,
) -> None:
    """The compliance of every manufacturer under each scenario set, side by side."""
    category = "vans" if vans else "cars"
    sets = [s for s in (DEFAULT_SET, *available_sets(DOMAIN)) if s in available_sets(DOMAIN)]
    sets = list(dict.fromkeys(sets))
    loaded = [load_set(DOMAIN, s) for s in sets]
    derog = read_derogations(derogations) if derogations else {}
    creds = read_credits(credits) if credits else {}
    for p in loaded:
        check_year(p, category, year)
    per_set = {}
    with _staged(skipped) as skipped_tmp:
        mon = _read(data, loaded[0], category, year, False, m1e, skipped_tmp, strict)
        _check_named(mon, derog, derogations)
        _check_named(mon, creds, credits)
        for p in loaded:
            usable = {k: v for k, v in creds.items()} if "vehicles.credits.steel_cap" in p else {}
            per_set[p.name] = {
                r.manufacturer: r for r in _assess_all(mon, p, category, year, False, derog, usable)
            }
    _report_skipped(mon, data, skipped)
    if creds:
        warn(
            "credits count only in sets that have them: "
            + ", ".join(p.name for p in loaded if "vehicles.credits.steel_cap" in p)
        )
    _flag_note([r for d in per_set.values() for r in d.values()])
    names = sorted(per_set[sets[0]])
    if format is Format.json:
        rows: list[dict[str, Any]] = [
            {
                "manufacturer": n,
                "registrations": per_set[sets[0]][n].registrations,
                "scenarios": {s: per_set[s][n].to_dict() for s in sets},
            }
            for n in names
        ]
        emit(rows, format, title="")
        return
    flat = []
    for n in names:
        row: dict[str, Any] = {
            "manufacturer": n,
            "registrations": per_set[sets[0]][n].registrations,
        }
        for s in sets:
            r = per_set[s][n]
            row[f"{s} target"] = r.target
            row[f"{s} average"] = r.average_emissions
            row[f"{s} excess"] = r.excess
            row[f"{s} premium_eur"] = r.premium_eur
        flat.append(row)
    emit(flat, format, title=f"CO2 standards {category} {year}: scenarios side by side")


@app.command("params")
@guarded
def params_cmd(
    scenario: ScenarioOpt = DEFAULT_SET,
    year: Annotated[int | None, typer.Option("--year", help="Show values for this year.")] = None,
    format: FormatOpt = Format.table,
) -> None:
    """List the parameters of a scenario set with unit, status and source."""
    pset = load_set(DOMAIN, scenario)
    rows = parameter_rows(pset, year)
    emit(
        rows, format, title=f"Parameter set {scenario} (sets: {', '.join(available_sets(DOMAIN))})"
    )


@app.command("generate")
@guarded
def generate_cmd(
    out: Annotated[
        Path, typer.Option("--out", dir_okay=False, help="File to write (.csv/.parquet).")
    ],
    rows: Annotated[int, typer.Option("--rows", min=1, max=50_000_000, help="Number of rows.")],
    year: Annotated[int, typer.Option("--year", min=2020, max=2100)] = 2025,
    seed: Annotated[int, typer.Option("--seed", min=0)] = 1,
) -> None:
    """Write a synthetic EEA monitoring file (same schema; random, not data) for tests."""
    if out.exists():
        raise InputError("exists already; refusing to overwrite", file=str(out))
    write_synthetic(out, rows, year, seed)
    typer.echo(f"wrote {rows} synthetic rows to {out}", err=True)


# ----------------------------------------------------------------------------- targets


def _explain_one(fmt: Format, heading: str, trace: Trace) -> None:
    if fmt is Format.table:
        explain(console_for(), heading, trace)


@targets_app.command("eu2040")
@guarded
def eu2040_cmd(
    series: Annotated[
        Path, typer.Option("--series", dir_okay=False, help="CSV: year,net_emissions[,credits].")
    ],
    format: FormatOpt = Format.table,
    explain_: ExplainOpt = False,
) -> None:
    """2040 net −90 % account: credit cap (5 % of 1990 from 2036), domestic reduction, path."""
    _no_csv_explain(format, explain_)
    params = load_set(DOMAIN, COMMON_SET_FOR_TARGETS)
    net = read_net_series(series)
    try:
        result = eu2040(net, params)
    except RuleError as exc:  # a refusal of the series' values: name the file it came from
        raise InputError(exc.translatable, file=str(series)) from None
    years = [y.to_dict() for y in result.years]
    if format is Format.json:
        doc: dict[str, Any] = {"summary": result.summary(), "years": years}
        if explain_:
            doc["explain"] = result.trace.to_dict()
        from keten.core import jsonout

        typer.echo(jsonout.dumps(doc))
        return
    if format is Format.csv:
        emit(years, format, title="")
        return
    summary = result.summary()
    summary["unverified"] = ", ".join(summary["unverified"]) or "—"
    emit([summary], format, title="EU 2040 climate target (Reg. 2021/1119 as amended)")
    emit(years, format, title="Trajectory check per year")
    if explain_:
        _explain_one(format, "EU 2040", result.trace)


@targets_app.command("esr")
@guarded
def esr_cmd(
    series: Annotated[
        Path,
        typer.Option(
            "--series",
            dir_okay=False,
            help="CSV: year,emissions[,aea,transfer_in,transfer_out,ets_flex,lulucf_flex], t CO2e.",
        ),
    ],
    format: FormatOpt = Format.table,
    explain_: ExplainOpt = False,
) -> None:
    """ESR compliance table for the Netherlands per year (Reg. 2018/842 as amended)."""
    _no_csv_explain(format, explain_)
    params = load_set(DOMAIN, COMMON_SET_FOR_TARGETS)
    rows_in, base = read_esr_series(series)
    try:
        result = esr(rows_in, params, base)
    except RuleError as exc:  # a refusal of the series' values: name the file it came from
        raise InputError(exc.translatable, file=str(series)) from None
    rows = [r.to_dict() for r in result.rows]
    flagged = sorted({p.name for p in result.trace.flagged()})
    if format is Format.json:
        doc: dict[str, Any] = {
            "target_2030_pct": result.target_2030_pct,
            "limit_2030": result.limit_2030,
            "unverified": flagged,
            "years": rows,
        }
        if explain_:
            doc["explain"] = result.trace.to_dict()
        from keten.core import jsonout

        typer.echo(jsonout.dumps(doc))
        return
    emit(rows, format, title=f"ESR Netherlands (−{result.target_2030_pct} % in 2030 vs 2005)")
    if flagged:
        warn("uses values not read in an authoritative source: " + ", ".join(flagged))
    if explain_:
        _explain_one(format, "ESR Netherlands", result.trace)
