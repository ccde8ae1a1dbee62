"""Writing results: table (rich), JSON (exact decimals) or CSV; explanations; one-line errors."""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Callable, Sequence
from enum import StrEnum
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from keten.core import jsonout
from keten.core.errors import KetenError, ParameterError, UnknownValueError
from keten.core.params import ParameterSet
from keten.core.trace import Trace

P = ParamSpec("P")
R = TypeVar("R")

EXIT_INPUT = 2


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def fail(message: str) -> typer.Exit:
    """Print a one-line error to stderr; return the Exit to raise (code 2)."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(EXIT_INPUT)


def guarded(func: Callable[P, R]) -> Callable[P, R]:
    """Turn keten errors into one line on stderr and exit code 2; stdout stays empty."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except KetenError as exc:
            raise fail(str(exc).splitlines()[0]) from None

    return wrapper


def emit(
    rows: Sequence[dict[str, Any]],
    fmt: Format,
    *,
    title: str,
    columns: Sequence[str] | None = None,
    traces: Sequence[Trace] | None = None,
    csv_rows: Callable[[dict[str, Any]], list[dict[str, Any]]] | None = None,
    heading: Callable[[dict[str, Any]], str] | None = None,
) -> None:
    """Write ``rows`` in ``fmt``; with ``traces`` add the explanation of each row (titled by
    ``heading``, by default the row's first two values)."""
    out = sys.stdout
    if fmt is Format.json:
        if traces is not None:
            rows = [{**r, "explain": t.to_dict()} for r, t in zip(rows, traces, strict=True)]
        out.write(jsonout.dumps(list(rows)) + "\n")
        return
    if fmt is Format.csv:
        flat = [f for r in rows for f in (csv_rows(r) if csv_rows else [r])]
        cols = list(columns or (flat[0].keys() if flat else []))
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n", extrasaction="ignore")
        writer.writeheader()
        for r in flat:
            writer.writerow({k: "" if v is None else _cell(v) for k, v in r.items()})
        out.write(buf.getvalue())
        return
    console = console_for(out)
    table = Table(title=title)
    cols = list(columns or (rows[0].keys() if rows else []))
    for c in cols:
        table.add_column(c, justify="right" if _numeric(rows, c) else "left")
    for r in rows:
        table.add_row(*(_cell(r.get(c, "")) for c in cols))
    console.print(table)
    if traces is not None:
        for r, t in zip(rows, traces, strict=True):
            explain(console, heading(r) if heading else " ".join(str(r[c]) for c in cols[:2]), t)


def console_for(file: Any = None) -> Console:
    """A rich console; when the output is not a terminal, wide enough not to fold the tables."""
    console = Console(file=file)
    return console if console.is_terminal else Console(file=file, width=160)


def warn(message: str) -> None:
    """A note on stderr (stdout stays machine-readable)."""
    typer.echo(f"note: {message}", err=True)


def explain(console: Console, heading: str, trace: Trace) -> None:
    console.print(f"\n[bold]Explanation — {heading}[/bold]")
    steps = Table(show_header=True, header_style="bold")
    for c in ("step", "formula", "result", "ref"):
        steps.add_column(c)
    for s in trace.steps:
        steps.add_row(str(s.label), str(s.formula), str(s.result), s.ref)
    console.print(steps)
    d = trace.to_dict()
    params = Table(show_header=True, header_style="bold", title="parameters used")
    for c in ("name", "period", "value", "unit", "status", "source"):
        params.add_column(c)
    for p in d["parameters"]:
        status = p["status"] if p["status"] == "source" else f"[yellow]{p['status']}[/yellow]"
        params.add_row(p["name"], p["period"], p["value"], p["unit"], status, p["source"])
    console.print(params)
    receipt = d["receipt"]
    console.print(
        f"receipt: keten {receipt['keten_version']}, set {receipt['parameter_set']}; "
        + "; ".join(f"{f} sha256:{h}" for f, h in receipt["parameter_files"].items())
    )
    flagged = trace.flagged()
    if flagged:
        console.print(
            "[yellow]note: this result uses values not read in an authoritative source: "
            + ", ".join(sorted({p.name for p in flagged}))
            + "[/yellow]"
        )


def parameter_rows(pset: ParameterSet, year: int | None) -> list[dict[str, Any]]:
    """One row per parameter of a set: unit, coverage, status, source (and the value in
    ``year``, or why there is none)."""
    rows = []
    for name in pset.names():
        p = pset.parameter(name)
        row: dict[str, Any] = {"name": name, "unit": p.spec.unit, "coverage": p.coverage()}
        if year is not None:
            try:
                pv = pset.get(name, year)
                row["value"], row["status"] = pv.value, pv.status
            except UnknownValueError:
                row["value"], row["status"] = "—", "unknown in this set"
            except ParameterError:
                row["value"], row["status"] = "—", f"no value for {year}"
        else:
            row["status"] = p.spec.status
        row["source"] = p.spec.source
        rows.append(row)
    return rows


def _numeric(rows: Sequence[dict[str, Any]], col: str) -> bool:
    return bool(rows) and all(
        (isinstance(r.get(col), int | float) and not isinstance(r.get(col), bool))
        or type(r.get(col)).__name__ == "Decimal"
        for r in rows
    )


def _cell(v: Any) -> str:
    if v is None:
        return "unknown"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dict):
        return "; ".join(f"{k}={_cell(x)}" for k, x in v.items())
    if isinstance(v, list):
        return f"{len(v)} items"
    return str(v)
