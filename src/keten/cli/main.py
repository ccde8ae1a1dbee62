"""``keten`` — the command-line entry point."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

try:  # typer ≥ 0.2x carries its own copy of click
    from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError
except ImportError:  # pragma: no cover - older typer uses the click package
    from click.exceptions import (  # type: ignore[assignment]
        ClickException,
        NoArgsIsHelpError,
        UsageError,
    )

import keten
from keten.cli import ev, footprint, mki, nitrogen, registry, vehicles
from keten.cli.output import EXIT_INPUT


class OneLineErrors(TyperGroup):
    """A bad or missing option, or an unknown command, as one line on stderr with exit code 2 —
    the form of every other keten error (``error: …``), instead of click's usage box."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except NoArgsIsHelpError as exc:  # ``keten`` or ``keten ev`` alone
            exc.show()
            sys.exit(exc.exit_code)
        except UsageError as exc:
            where = f" (see {exc.ctx.command_path} --help)" if exc.ctx is not None else ""
            message = " ".join(exc.format_message().split())
            typer.echo(f"error: {message}{where}", err=True)
            sys.exit(EXIT_INPUT)
        except ClickException as exc:
            typer.echo(f"error: {' '.join(exc.format_message().split())}", err=True)
            sys.exit(exc.exit_code)
        except typer.Abort:
            typer.echo("Aborted.", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(
    name="keten",
    help="Dutch and EU emission-reduction rules as working, auditable software.",
    no_args_is_help=True,
    add_completion=False,
    cls=OneLineErrors,
)
app.add_typer(ev.app, name="ev")
app.add_typer(registry.app, name="registry")
app.add_typer(nitrogen.app, name="nitrogen")
app.add_typer(mki.app, name="mki")
app.add_typer(footprint.app, name="footprint")
app.add_typer(vehicles.app, name="vehicles")
app.add_typer(vehicles.targets_app, name="targets")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    params: Annotated[str, typer.Option("--params", help="Energie Vervoer set.")] = "bijlage-1",
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="On an empty register, first fill it with generated demo data (marked as demo).",
        ),
    ] = False,
    demo_folder: Annotated[
        Path, typer.Option("--demo-folder", help="Where the demo's charging-session files go.")
    ] = Path("demo-data"),
) -> None:
    """Run the web application (pages and the JSON API under /api/v1) on the database of
    KETEN_DATABASE_URL (default: the SQLite file keten.db)."""
    import uvicorn
    from sqlalchemy import func, select

    from keten.core.params import load_set
    from keten.ledger.service import Ledger
    from keten.registry.service import Registry
    from keten.store.db import database_url, make_engine, session_factory, upgrade
    from keten.store.models import Holder
    from keten.web.app import create_web_app, is_demo

    engine = make_engine()
    upgrade(engine)
    reg = Registry(Ledger(session_factory(engine)), load_set("ev", params))
    reg.init()
    url = f"http://{host}:{port}"
    if demo:
        from keten.web import demo as demo_data

        with reg.ledger.sessions() as s:
            holders = s.execute(select(func.count()).select_from(Holder)).scalar_one()
        if holders and not is_demo(reg):
            typer.echo(
                "the register already holds real data; --demo fills only an empty register",
                err=True,
            )
            raise typer.Exit(2)
        if not holders:
            typer.echo("creating demo data …")
            info = demo_data.seed(reg, demo_folder)
            typer.echo(f"demo charging-session file to upload: {info['upload_file']}")
        typer.echo(f"demo logins (password {demo_data.PASSWORD}):")
        for u in demo_data.logins(reg):
            typer.echo(f"  {u['username']:<28} {u['role']:<16} {u['holder'] or ''}")
    typer.echo(f"keten serving {database_url()} on {url}/  (API: {url}/api/v1/docs)")
    uvicorn.run(create_web_app(reg), host=host, port=port, log_level="info")


@app.command()
def version() -> None:
    """Print the keten version."""
    typer.echo(keten.__version__)


if __name__ == "__main__":  # pragma: no cover
    app()
