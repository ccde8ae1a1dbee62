"""``keten footprint …`` — ketenemissies: MRIO accounts, national footprint, carbon-leakage check,
company scope 3.1 and PACT data exchange (issue 7)."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from keten.cli.output import Format, console_for, emit, explain, fail, guarded, warn
from keten.core import jsonout
from keten.core.errors import InputError
from keten.core.messages import msg
from keten.core.params import load_set
from keten.core.trace import Trace
from keten.footprint.accounts import (
    accounts,
    downstream_multipliers,
    multipliers,
    solver_for,
    upstream_multipliers,
)
from keten.footprint.leakage import leakage
from keten.footprint.mrio import MRIO
from keten.footprint.national import distance_to_targets, national_view
from keten.footprint.pact import build_footprint
from keten.footprint.scope3 import SpendFactors, scope3
from keten.io.footprint_files import (
    load_mrio,
    read_deflators,
    read_pact,
    read_pcf_entries,
    read_purchases,
    read_scenario,
    read_targets,
)

app = typer.Typer(
    help="Ketenemissies: MRIO footprints, leakage check, scope 3.1, PACT (seed 001).",
    no_args_is_help=True,
)
pact_app = typer.Typer(help="PACT v3 ProductFootprint exchange.", no_args_is_help=True)
app.add_typer(pact_app, name="pact")

DEFAULT_SET = "beleidsagenda-2026"
MrioOpt = Annotated[
    str, typer.Option("--mrio", help="pymrio-test, a keten Parquet folder, or EXIOBASE zip/folder.")
]
ExtOpt = Annotated[str, typer.Option("--extension", help="Extension (satellite account) name.")]
FormatOpt = Annotated[Format, typer.Option("--format", help="Output format.")]
MethodOpt = Annotated[
    str, typer.Option("--method", help="Leontief solver: auto, lu (sparse LU) or block.")
]


def _check_method(method: str) -> Any:
    if method not in ("auto", "lu", "block"):
        raise fail(f"--method must be auto, lu or block, not {method!r}")
    return method


def _write_json(obj: Any) -> None:
    sys.stdout.write(jsonout.dumps(obj) + "\n")


@app.command("accounts")
@guarded
def accounts_cmd(
    mrio: MrioOpt,
    extension: ExtOpt,
    format: FormatOpt = Format.table,
    method: MethodOpt = "auto",
) -> None:
    """Production, consumption, import and export accounts per region (pymrio's D_pba_reg,
    D_cba_reg, D_imp_reg, D_exp_reg; production and consumption include F_Y)."""
    system = load_mrio(mrio)
    acc = accounts(system, extension, solver_for(system, _check_method(method)))
    regional = acc.regional()
    if format is Format.json:
        _write_json({"stressors": list(acc.stressors), "regions": regional})
        return
    rows = [
        {"region": region, "account": name, **vals}
        for region, tables in regional.items()
        for name, vals in tables.items()
    ]
    if format is Format.csv:
        flat = [
            {"region": r["region"], "account": r["account"], "stressor": s, "value": r[s]}
            for r in rows
            for s in acc.stressors
        ]
        emit(flat, format, title="", columns=["region", "account", "stressor", "value"])
        return
    emit(
        [{k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()} for r in rows],
        format,
        title=f"Accounts of {extension} ({system.name}); units: "
        + ", ".join(f"{s} {u}" for s, u in zip(acc.stressors, acc.units, strict=True)),
        columns=["region", "account", *acc.stressors],
    )


@app.command("multipliers")
@guarded
def multipliers_cmd(
    mrio: MrioOpt,
    extension: ExtOpt,
    view: Annotated[
        str, typer.Option("--view", help="total (M = S L), upstream (M − S), downstream (Ghosh).")
    ] = "total",
    format: FormatOpt = Format.table,
    method: MethodOpt = "auto",
) -> None:
    """Multipliers per (region, sector): total, upstream or downstream (Ghosh) view."""
    system = load_mrio(mrio)
    ext = system.extension(extension)
    solver = solver_for(system, _check_method(method))
    if view == "total":
        M = multipliers(system, ext, solver)
    elif view == "upstream":
        M = upstream_multipliers(system, ext, multipliers(system, ext, solver))
    elif view == "downstream":
        M = downstream_multipliers(system, ext, solver)
    else:
        raise fail(f"--view must be total, upstream or downstream, not {view!r}")
    rows = [
        {
            "region": r,
            "sector": s,
            **{st: float(M[k, i * len(system.sectors) + j]) for k, st in enumerate(ext.stressors)},
        }
        for i, r in enumerate(system.regions)
        for j, s in enumerate(system.sectors)
    ]
    if format is Format.table:
        rows = [
            {k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()} for r in rows
        ]
    emit(rows, format, title=f"{view} multipliers per {system.unit}")


def _series(mrios: list[str], years: list[int]) -> list[tuple[int | None, MRIO]]:
    if years and len(years) != len(mrios):
        raise fail("give one --year per --mrio (or none)")
    out = []
    for i, m in enumerate(mrios):
        system = load_mrio(m)
        out.append((years[i] if years else system.year, system))
    return out


@app.command("national")
@guarded
def national_cmd(
    mrio: Annotated[list[str], typer.Option("--mrio", help="MRIO (repeat for a time series).")],
    region: Annotated[str, typer.Option("--region", help="Region, e.g. NL.")],
    extension: ExtOpt,
    stressor: Annotated[str, typer.Option("--stressor", help="Stressor, e.g. GHG.")],
    year: Annotated[list[int], typer.Option("--year", help="Year of each --mrio.")] = [],  # noqa: B006
    groups: Annotated[
        Path | None, typer.Option("--groups", help="CSV sector,group (product groups).")
    ] = None,
    targets: Annotated[
        Path | None, typer.Option("--targets", help="CSV year,value,scope (non-binding).")
    ] = None,
    format: FormatOpt = Format.table,
) -> None:
    """Domestic vs. abroad footprint of a region, by product group and source region; targets."""
    mapping = _read_groups(groups) if groups else None
    views = []
    for y, system in _series(mrio, year):
        acc = accounts(system, extension)
        views.append(national_view(acc, region, stressor, year=y, groups=mapping))
    distances = _distances(views, targets) if targets else []
    if format is Format.json:
        _write_json(
            {"years": [v.to_dict() for v in views], "targets": [d.to_dict() for d in distances]}
        )
        return
    rows = [
        {
            "year": v.year,
            "total": v.total,
            "domestic": v.domestic,
            "abroad": v.abroad,
            "abroad_share": v.abroad_share,
            "production": v.production,
            "balance": v.balance,
        }
        for v in views
    ]
    if format is Format.csv:
        emit(rows, format, title="")
        return
    fmt_rows = [
        {k: (f"{x:.6g}" if isinstance(x, float) else x) for k, x in r.items()} for r in rows
    ]
    emit(fmt_rows, format, title=f"Footprint of {region}, {stressor} ({views[0].unit})")
    last = views[-1]
    top = max((abs(g["total"]) for g in last.by_group.values()), default=0.0) or 1.0
    emit(
        [
            {
                "group": g,
                "total": f"{c['total']:.6g}",
                "abroad": f"{c['abroad']:.6g}",
                "chart": "█" * round(30 * abs(c["total"]) / top),
            }
            for g, c in sorted(last.by_group.items(), key=lambda kv: -kv[1]["total"])
        ],
        format,
        title=f"By product group ({last.year})",
    )
    emit(
        [{"source region": q, "emissions": f"{v:.6g}"} for q, v in last.by_source.items()],
        format,
        title=f"By source region ({last.year})",
    )
    if distances:
        emit(
            [
                {k: (f"{x:.6g}" if isinstance(x, float) else x) for k, x in d.to_dict().items()}
                for d in distances
            ],
            format,
            title="Distance to targets (non-binding)",
        )


def _distances(views: list[Any], path: Path) -> list[Any]:
    """``distance_to_targets`` with a target's problem placed at its row of the targets file."""
    targets = read_targets(path)
    distance_to_targets(views, [])  # the series' own problems (years) are not the file's
    out = []
    for row, t in enumerate(targets, start=1):  # read_targets keeps the rows, blank lines skipped
        try:
            out.extend(distance_to_targets(views, [t]))
        except InputError as exc:
            raise InputError(exc.translatable, file=str(path), row=row, field=exc.field) from None
    return out


def _read_groups(path: Path) -> dict[str, str]:
    from keten.io.csvfile import read_rows

    out: dict[str, str] = {}
    for row, r in read_rows(path, ("sector", "group")):
        if not r["sector"] or not r["group"]:
            raise InputError(
                "is empty", file=str(path), row=row, field="sector" if not r["sector"] else "group"
            )
        if r["sector"] in out:
            raise InputError("sector listed twice", file=str(path), row=row, field="sector")
        out[r["sector"]] = r["group"]
    return out


@app.command("leakage")
@guarded
def leakage_cmd(
    mrio: MrioOpt,
    scenario: Annotated[Path, typer.Option("--scenario", help="Scenario YAML.")],
    threshold: Annotated[
        float | None, typer.Option("--threshold", help="Flag above this leakage rate (0.1 = 10 %).")
    ] = None,
    format: FormatOpt = Format.table,
) -> None:
    """Change in domestic, foreign and global emissions; leakage rate and flag."""
    if threshold is not None and not threshold >= 0:  # also NaN
        raise fail(f"--threshold must be a share ≥ 0 (0.1 = 10 %), not {threshold}")
    sc = read_scenario(scenario)
    if threshold is not None:
        from dataclasses import replace

        sc = replace(sc, threshold=threshold)
    system = load_mrio(mrio)
    try:
        res = leakage(system, sc)
    except InputError as exc:
        if exc.file is not None:
            raise
        raise InputError(exc.reason, file=str(scenario), field=exc.field) from None
    if res.note:
        warn(res.note)
    if format is Format.json:
        _write_json(res.to_dict())
        return
    row = res.to_dict()
    row.pop("by_region")
    emit(
        [row],
        format,
        title=f"Leakage check: {res.scenario}",
        columns=[
            "scenario",
            "stressor",
            "unit",
            "delta_domestic",
            "delta_foreign",
            "delta_global",
            "leakage_rate",
            "threshold",
            "flag",
        ],
    )


@app.command("scope3")
@guarded
def scope3_cmd(
    purchases: Annotated[Path, typer.Option("--purchases", help="Purchases CSV.")],
    mrio: Annotated[
        str | None, typer.Option("--mrio", help="MRIO for spend-based factors.")
    ] = None,
    pact: Annotated[
        list[Path], typer.Option("--pact", help="Supplier PACT JSON (repeatable).")
    ] = [],  # noqa: B006
    extension: Annotated[
        str, typer.Option("--extension", help="Extension (satellite account) name.")
    ] = "emissions",
    stressor: Annotated[str | None, typer.Option("--stressor", help="Default: first.")] = None,
    deflators: Annotated[
        Path | None, typer.Option("--deflators", help="CSV currency,price_year,factor.")
    ] = None,
    price_year: Annotated[
        int | None, typer.Option("--price-year", help="The MRIO's price year if not in its data.")
    ] = None,
    year: Annotated[int, typer.Option("--year", help="Reporting year.")] = 2026,
    params: Annotated[str, typer.Option("--params", help="Parameter set.")] = DEFAULT_SET,
    format: FormatOpt = Format.table,
    explain_: Annotated[
        bool,
        typer.Option("--explain", help="Show the arithmetic, parameters, sources and receipt."),
    ] = False,
) -> None:
    """Company scope 3.1 per supplier, product and method; transport apart as category 4."""
    if explain_ and format is Format.csv:
        raise fail("--explain goes with --format table or json, not csv")
    rows = read_purchases(purchases)
    pacts = [fp for p in pact for fp in read_pact(p)]
    defl = read_deflators(deflators) if deflators else {}
    factors = None
    if mrio is not None:
        system = load_mrio(mrio)
        ext = system.extension(extension)
        k = ext.index(stressor) if stressor else 0
        py = price_year or system.price_year
        if py is None:
            raise fail(f"the price year of {mrio} is unknown; give --price-year")
        M = multipliers(system, ext)
        up = upstream_multipliers(system, ext, M)
        keys = [(r, s) for r in system.regions for s in system.sectors]
        factors = SpendFactors(
            stressor=ext.stressors[k],
            unit=ext.units[k],
            money=system.unit,
            price_year=py,
            total={key: float(M[k, i]) for i, key in enumerate(keys)},
            upstream={key: float(up[k, i]) for i, key in enumerate(keys)},
        )
    trace = Trace(load_set("footprint", params))
    try:
        res = scope3(rows, trace, year, factors, defl, pacts)
    except InputError as exc:
        raise InputError(exc.reason, file=str(purchases), row=exc.row, field=exc.field) from None
    for n in res.notes:
        warn(n)
    if res.trace.flagged():
        warn(
            "data-quality scores are assumptions: "
            + ", ".join(sorted({p.name for p in res.trace.flagged()}))
        )
    if format is Format.json:
        out: dict[str, Any] = {"lines": [ln.to_dict() for ln in res.lines], **res.summary()}
        if explain_:
            out["explain"] = res.trace.to_dict()
        _write_json(out)
        return
    emit(
        [ln.to_dict() for ln in res.lines],
        format,
        title="Scope 3.1 and 4 lines (kg CO2e)",
        traces=None,
    )
    if format is Format.table:
        s = res.summary()
        ratios = ("primary_data_share_pct", "data_quality_score")
        emit(
            [
                {
                    k: (f"{v:.6g}" if k in ratios and v is not None else v)
                    for k, v in s.items()
                    if not isinstance(v, dict | list)
                }
            ],
            format,
            title="Totals",
        )
        if explain_:
            explain(console_for(sys.stdout), "scope 3.1", res.trace)


@pact_app.command("validate")
@guarded
def pact_validate(
    files: Annotated[list[Path], typer.Argument(help="PACT JSON files.")],
    format: FormatOpt = Format.table,
) -> None:
    """Check PACT v3 ProductFootprint JSON files; the first problem names file and JSON path."""
    rows = []
    for f in files:
        for fp in read_pact(f):
            rows.append(
                {
                    "file": str(f),
                    "id": fp["id"],
                    "product": fp["productNameCompany"],
                    "status": fp["status"],
                    "valid": True,
                }
            )
    emit(rows, format, title="Valid PACT footprints")


@pact_app.command("export")
@guarded
def pact_export(
    footprints: Annotated[Path, typer.Option("--footprints", help="CSV of product footprints.")],
    company_name: Annotated[str, typer.Option("--company-name")],
    company_id: Annotated[str, typer.Option("--company-id", help="URN, e.g. urn:kvk:12345678")],
    created: Annotated[
        str | None, typer.Option("--created", help="RFC 3339 time; default now (UTC).")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Write here instead of stdout.")] = None,
) -> None:
    """Turn an SME's footprints CSV into PACT v3 JSON ({"data": [...]}), validated."""
    when = created or dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace(
        "+00:00", "Z"
    )
    data = []
    for row, entry in read_pcf_entries(footprints):
        try:
            data.append(build_footprint(entry, company_name, company_id, when))
        except InputError as exc:
            if created is not None and exc.field == "created":
                raise InputError(exc.reason, field="--created") from None
            raise InputError(exc.reason, file=str(footprints), row=row, field=exc.field) from None
    text = json.dumps({"data": data}, indent=2, ensure_ascii=False) + "\n"
    if out is None:
        sys.stdout.write(text)
    else:
        try:
            out.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise InputError(
                msg("cannot write: %(error)s", error=exc.strerror or str(exc)), file=str(out)
            ) from None
        warn(f"wrote {len(data)} footprint(s) to {out}")


@pact_app.command("import")
@guarded
def pact_import(
    files: Annotated[list[Path], typer.Argument(help="PACT JSON files.")],
    format: FormatOpt = Format.table,
) -> None:
    """Read PACT footprints: per product the kg CO2e per declared unit, for scope 3.1."""
    from keten.core.quantity import tidy
    from keten.footprint.pact import mean_dqr, per_unit

    rows = []
    for f in files:
        for fp in read_pact(f):
            dqr = mean_dqr(fp)
            rows.append(
                {
                    "id": fp["id"],
                    "company": fp["companyName"],
                    "product_ids": ";".join(fp["productIds"]),
                    "product": fp["productNameCompany"],
                    "status": fp["status"],
                    "declared_unit": fp["pcf"]["declaredUnitOfMeasurement"],
                    "kg_co2e_per_unit": tidy(per_unit(fp)),
                    "mean_dqr": None if dqr is None else tidy(dqr),
                    "reference_end": fp["pcf"]["referencePeriodEnd"],
                }
            )
    emit(rows, format, title="PACT footprints")


# ----------------------------------------------------------------------------- PACT over HTTP
# The database is KETEN_DATABASE_URL (default: the SQLite file keten.db); each command brings
# the schema up to date first (idempotent), as `keten registry init` does.


def _pact_store() -> Any:
    from keten.footprint.pact_store import PactStore
    from keten.store.db import make_engine, session_factory, upgrade

    engine = make_engine()
    upgrade(engine, "heads")
    return PactStore(session_factory(engine))


@pact_app.command("org-create")
@guarded
def pact_org_create(
    name: Annotated[str, typer.Argument(help="Company name (supplier or customer).")],
) -> None:
    """Create an organisation that exchanges PACT footprints."""
    _pact_store().create_org(name)
    typer.echo(f"organisation {name!r} created")


@pact_app.command("member-add")
@guarded
def pact_member_add(
    org: Annotated[str, typer.Option("--org", help="The organisation (supplier or customer).")],
    user: Annotated[
        str,
        typer.Option(
            "--user",
            help="A person with the role ketenpartner "
            "(keten registry create-user NAME --role ketenpartner).",
        ),
    ],
) -> None:
    """Make USER a member of ORG: in the web application (/footprint/pact) they enter ORG's
    footprints, share them with named customers and see what others shared with ORG."""
    _pact_store().add_member(org, user)
    typer.echo(f"{user} is a member of {org!r}")


@pact_app.command("client-create")
@guarded
def pact_client_create(
    org: Annotated[str, typer.Option("--org", help="The organisation the client acts for.")],
    label: Annotated[str, typer.Option("--label", help="What the client is for.")] = "",
) -> None:
    """New OAuth2 client credentials for ORG; the secret is shown this once only."""
    cred = _pact_store().create_client(org, label)
    typer.echo(f"client_id: {cred.client_id}")
    typer.echo(f"client_secret: {cred.client_secret}")
    warn("store the client secret now: keten keeps only a hash of it")


@pact_app.command("client-revoke")
@guarded
def pact_client_revoke(
    client_id: Annotated[str, typer.Argument(help="The client_id to revoke.")],
) -> None:
    """Revoke a client: it gets no new tokens and its tokens stop working."""
    _pact_store().revoke_client(client_id)
    typer.echo(f"client {client_id} revoked")


@pact_app.command("load")
@guarded
def pact_load(
    owner: Annotated[str, typer.Option("--owner", help="The supplier that owns the footprints.")],
    files: Annotated[list[Path], typer.Argument(help="PACT JSON files.")],
    format: FormatOpt = Format.table,
) -> None:
    """Store validated footprints of OWNER (each file all or nothing). A footprint loaded again
    unchanged is kept; Active → Deprecated is accepted; other changes need a new id (FP-37)."""
    store = _pact_store()
    rows = []
    for f in files:
        fps = read_pact(f)
        try:
            result = store.add_footprints(owner, fps)
        except InputError as exc:
            raise InputError(exc.reason, file=str(f), field=exc.field) from None
        rows += [{"file": str(f), "id": i, "action": a} for i, a in result.actions]
    emit(rows, format, title=f"PACT footprints of {owner}")


def _share_ids(store: Any, owner: str, ids: list[str], all_: bool) -> list[str]:
    if all_ == bool(ids):
        raise fail("give --id (repeatable) or --all")
    if not all_:
        return ids
    owned = [str(r["id"]) for r in store.owned(owner)]
    if not owned:
        raise fail(f"{owner} has no footprints (load them with `pact load`)")
    return owned


@pact_app.command("share")
@guarded
def pact_share(
    owner: Annotated[str, typer.Option("--owner", help="The supplier that owns the footprints.")],
    customer: Annotated[str, typer.Option("--customer", help="The customer to share with.")],
    ids: Annotated[list[str], typer.Option("--id", help="Footprint id (repeatable).")] = [],  # noqa: B006
    all_: Annotated[bool, typer.Option("--all", help="Every footprint of OWNER.")] = False,
) -> None:
    """Share footprints of OWNER with CUSTOMER (only shared footprints are served to it)."""
    store = _pact_store()
    chosen = _share_ids(store, owner, ids, all_)
    new = store.share(owner, chosen, customer)
    typer.echo(f"{len(chosen)} footprint(s) shared with {customer} ({new} new)")


@pact_app.command("unshare")
@guarded
def pact_unshare(
    owner: Annotated[str, typer.Option("--owner", help="The supplier that owns the footprints.")],
    customer: Annotated[str, typer.Option("--customer", help="The customer to stop sharing with.")],
    ids: Annotated[list[str], typer.Option("--id", help="Footprint id (repeatable).")] = [],  # noqa: B006
    all_: Annotated[bool, typer.Option("--all", help="Every footprint of OWNER.")] = False,
) -> None:
    """Stop sharing footprints of OWNER with CUSTOMER."""
    store = _pact_store()
    gone = store.unshare(owner, _share_ids(store, owner, ids, all_), customer)
    typer.echo(f"{gone} share(s) with {customer} removed")


@pact_app.command("list")
@guarded
def pact_list(
    owner: Annotated[str, typer.Option("--owner", help="The supplier that owns the footprints.")],
    format: FormatOpt = Format.table,
) -> None:
    """Footprints of OWNER in the database and whom each is shared with."""
    emit(_pact_store().owned(owner), format, title=f"PACT footprints of {owner}")


@pact_app.command("events")
@guarded
def pact_events(
    org: Annotated[str, typer.Option("--org", help="The organisation whose clients sent them.")],
    format: FormatOpt = Format.json,
) -> None:
    """Events (CloudEvents) received on POST /3/events from ORG's clients."""
    rows = _pact_store().events(org)
    if format is Format.json:
        _write_json(rows)
        return
    emit(
        [{k: v for k, v in r.items() if k != "data"} for r in rows],
        format,
        title=f"PACT events from {org}",
    )
