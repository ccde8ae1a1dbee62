"""``keten registry …`` — the Register Energie voor Vervoer from the command line.

The database is ``KETEN_DATABASE_URL`` (default: the SQLite file ``keten.db`` in the current
folder). Every write carries an idempotency key: ``--key`` (default: derived from the command and
its arguments, so repeating the same command applies it once).
"""

from __future__ import annotations

import csv
import getpass
import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from keten.cli.output import Format, emit, guarded
from keten.core.errors import KetenError
from keten.core.params import load_set
from keten.ledger.service import Ledger
from keten.ledger.verify import verify
from keten.registry.service import Registry
from keten.store.db import database_url, make_engine, session_factory, upgrade

app = typer.Typer(help="The Register Energie voor Vervoer (REV).", no_args_is_help=True)

ParamsOpt = Annotated[str, typer.Option("--params", help="Energie Vervoer parameter set.")]
KeyOpt = Annotated[
    str | None, typer.Option("--key", help="Idempotency key (default: from the arguments).")
]


def _actor() -> str:
    return f"cli:{os.environ.get('USER') or getpass.getuser()}"


def _key(command: str, *parts: object) -> str:
    return (
        f"cli:{command}:" + hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:32]
    )


def _registry(params: str = "bijlage-1", *, migrate: bool = False) -> Registry:
    engine = make_engine()
    if migrate:
        upgrade(engine)
    return Registry(Ledger(session_factory(engine)), load_set("ev", params))


@app.command("init")
@guarded
def init_cmd() -> None:
    """Create or upgrade the database schema and the ledger's system accounts (idempotent)."""
    reg = _registry(migrate=True)
    reg.init()
    typer.echo(f"register ready at {database_url()}")


@app.command("create-holder")
@guarded
def create_holder_cmd(
    name: Annotated[str, typer.Argument(help="Company name.")],
    book: Annotated[bool, typer.Option("--book/--no-book", help="Inboekfaciliteit.")] = False,
    obligation: Annotated[bool, typer.Option("--obligation", help="Jaarverplichting.")] = False,
    transfer: Annotated[bool, typer.Option("--transfer/--no-transfer")] = True,
    service_provider: Annotated[bool, typer.Option("--service-provider")] = False,
    key: KeyOpt = None,
) -> None:
    """Create a holder (rekeninghouder) with its facilities and its account."""
    reg = _registry()
    hid = reg.create_holder(
        name,
        can_book=book,
        has_obligation=obligation,
        can_transfer=transfer,
        is_service_provider=service_provider,
        actor=_actor(),
        key=key or _key("create-holder", name, book, obligation, transfer, service_provider),
    )
    typer.echo(f"holder {hid}: {name}")


def _password(env: str, label: str, *, confirm: bool = False) -> str:
    """The password from the environment variable ``env``; else asked on the terminal; else one
    line of standard input (``… | keten registry …``). Without any: a one-line error, exit 2."""
    given = os.environ.get(env)
    if given:
        return given
    if sys.stdin.isatty():
        return str(typer.prompt(label, hide_input=True, confirmation_prompt=confirm))
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise KetenError(f"no password: set {env} or give it on standard input")
    return line


@app.command("create-user")
@guarded
def create_user_cmd(
    username: Annotated[str, typer.Argument()],
    role: Annotated[
        str, typer.Option(help="rekeningbevoegde, fiatteur, verificateur, toezichthouder")
    ],
    holder: Annotated[str | None, typer.Option(help="Holder the user acts for.")] = None,
    password_env: Annotated[
        str, typer.Option(help="Environment variable holding the password (never a flag).")
    ] = "KETEN_PASSWORD",
    key: KeyOpt = None,
) -> None:
    """Create a user. The password is read from an environment variable, or asked for."""
    password = _password(password_env, f"password for {username}", confirm=True)
    reg = _registry()
    uid = reg.create_user(
        username,
        password,
        role,
        holder,
        actor=_actor(),
        key=key or _key("create-user", username, role, holder),
    )
    typer.echo(f"user {uid}: {username} ({role})")


@app.command("verify")
@guarded
def verify_cmd() -> None:
    """Check every ledger invariant and the audit hash chain; exit 1 when anything is wrong."""
    reg = _registry()
    with reg.ledger.sessions() as s:
        problems = verify(s)
    if problems:
        for p in problems:
            typer.echo(f"FAIL {p}", err=True)
        raise typer.Exit(1)
    typer.echo("ok: conservation, balances, holds, movements and the audit chain verified")


@app.command("stats")
@guarded
def stats_cmd(
    period: Annotated[str, typer.Option(help="year, quarter or month")] = "year",
    format: Annotated[Format, typer.Option("--format")] = Format.table,
) -> None:
    """Published statistics: units created, transferred, surrendered, cancelled and banked per
    period and unit type (CSV and JSON with --format)."""
    from keten.registry.service import Reads

    rows = Reads(_registry()).statistics(period)
    emit(
        rows,
        format,
        title=f"Register statistics per {period}",
        columns=[
            "period",
            "unit_type",
            "vintage",
            "created",
            "transferred",
            "surrendered",
            "cancelled",
            "banked",
        ],
    )


@app.command("close-year")
@guarded
def close_year_cmd(
    year: Annotated[int, typer.Option("--year")],
    run: Annotated[bool, typer.Option("--run", help="Apply it (default: preview only).")] = False,
    user: Annotated[
        str, typer.Option(help="The toezichthouder running it (password in KETEN_PASSWORD).")
    ] = "",
    params: ParamsOpt = "bijlage-1",
    format: Annotated[Format, typer.Option("--format")] = Format.table,
    key: KeyOpt = None,
) -> None:
    """Year-end closing: surrender per the best allocation, shortfall and penalty, banking."""
    from keten.registry import closing

    reg = _registry(params)
    if run:
        if not user:
            raise KetenError("--run needs --user (a toezichthouder)")
        password = _password("KETEN_PASSWORD", "password")
        summary = closing.run(
            reg, reg.login(user, password), year, key=key or _key("close-year", year)
        )
    else:
        summary = closing.plan(reg, year).to_dict()
    rows = [
        {
            "holder": h["holder"],
            "obligation": h["obligation_total"],
            "surrendered": sum(a for _, _, a in h["surrender"]),
            "shortfall": h["shortfall_total"],
            "penalty_eur": h["penalty_eur"],
            "banked": sum(a for _, _, a in h["banked"]),
            "cancelled": sum(a for _, _, a in h["cancel"]),
        }
        for h in summary["holders"]
    ]
    if format is Format.json:
        from keten.core import jsonout

        typer.echo(jsonout.dumps(summary))
        return
    emit(rows, format, title=f"Jaarafsluiting {year} ({'run' if run else 'preview'})")


@app.command("create-token")
@guarded
def create_token_cmd(
    username: Annotated[str, typer.Argument()],
    label: Annotated[str, typer.Option(help="What the token is for.")] = "cli",
) -> None:
    """Create an API token for a user (password in KETEN_PASSWORD, or asked). Shown once."""
    password = _password("KETEN_PASSWORD", "password")
    reg = _registry()
    actor = reg.login(username, password)
    token = reg.create_token(actor, label, key=_key("create-token", username, label, os.urandom(8)))
    typer.echo(token)


def _file_digest(path: Path) -> str:
    """sha256 of a file's bytes for the default idempotency key ("" when it cannot be read: the
    import then names the problem), so another file under the same proof is a new request."""
    try:
        h = hashlib.sha256()
        with path.open("rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
        return h.hexdigest()
    except OSError:
        return ""


@app.command("import-bookings")
@guarded
def import_bookings_cmd(
    file: Annotated[Path, typer.Argument(help="Charging sessions: CSV or .parquet.")],
    user: Annotated[str, typer.Option(help="The proposing user (password in KETEN_PASSWORD).")],
    proof_ref: Annotated[str, typer.Option("--proof-ref", help="Reference of this booking.")],
    year: Annotated[int, typer.Option("--year")],
    errors: Annotated[
        Path | None, typer.Option(help="Write the per-row error report here (CSV) if refused.")
    ] = None,
    key: KeyOpt = None,
) -> None:
    """Bulk booking of charging sessions (inboekdienstverlener): all rows or none."""
    from keten.registry.sessions import ImportRefused, import_sessions

    password = _password("KETEN_PASSWORD", "password")
    reg = _registry()
    actor = reg.login(user, password)
    try:
        bid = import_sessions(
            reg,
            actor,
            file,
            proof_ref=proof_ref,
            year=year,
            key=key or _key("import-bookings", proof_ref, year, _file_digest(file)),
        )
    except ImportRefused as exc:
        if errors is not None:
            with errors.open("w", newline="", encoding="utf-8") as out:
                writer = csv.DictWriter(out, fieldnames=["row", "field", "error"])
                writer.writeheader()
                writer.writerows(exc.report)
        raise
    typer.echo(f"booking {bid} proposed; a fiatteur of the holder approves it to create the units")
