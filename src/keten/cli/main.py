"""``keten`` — the command-line entry point."""

from __future__ import annotations

import typer

import keten
from keten.cli import ev, footprint, mki, nitrogen, registry

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


@app.command()
def version() -> None:
    """Print the keten version."""
    typer.echo(keten.__version__)


if __name__ == "__main__":  # pragma: no cover
    app()
