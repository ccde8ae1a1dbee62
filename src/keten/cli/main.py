"""``keten`` — the command-line entry point."""

from __future__ import annotations

from typing import Annotated

import typer

import keten
from keten.cli import ev, footprint, mki, nitrogen, registry, vehicles

app = typer.Typer(
    name="keten",
    help="Dutch and EU emission-reduction rules as working, auditable software.",
    no_args_is_help=True,
    add_completion=False,
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
) -> None:
    """Run the web service (JSON API under /api/v1) on the database of KETEN_DATABASE_URL."""
    import uvicorn

    from keten.core.params import load_set
    from keten.ledger.service import Ledger
    from keten.registry.service import Registry
    from keten.store.db import database_url, make_engine, session_factory, upgrade
    from keten.web.api import create_app

    engine = make_engine()
    upgrade(engine)
    reg = Registry(Ledger(session_factory(engine)), load_set("ev", params))
    reg.init()
    typer.echo(f"keten serving {database_url()} on http://{host}:{port}/api/v1/docs")
    uvicorn.run(create_app(reg), host=host, port=port, log_level="info")


@app.command()
def version() -> None:
    """Print the keten version."""
    typer.echo(keten.__version__)


if __name__ == "__main__":  # pragma: no cover
    app()
