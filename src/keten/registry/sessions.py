"""Bulk booking of charging sessions by an inboekdienstverlener.

A file (CSV or Parquet) with the columns ``connection_id, meter_id, period_start, period_end,
kwh, own_generation`` becomes one proposed booking of electricity delivered to land transport;
units are created when a fiatteur approves it (four eyes, like any booking).

* Atomic: every row is checked first; one bad row refuses the whole file, with a per-row error
  report of *all* bad rows; nothing is written.
* A session — (connection, meter, period) — can be booked once in the whole register: duplicates
  inside the file and against earlier files are refused.
* Units (EV-25): the kWh are summed exactly, grid electricity at the grid renewable share of the
  year and own generation at ``ev.own_generation_share``, and rounded down once for the file:
  ``round_down((grid kWh × grid share + own kWh × own share) × 3.6 × 183 / 1000)``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from keten.core.errors import InputError, KetenError
from keten.core.quantity import NUMBER_PATTERN, div, mul, percent, round_down
from keten.core.trace import Trace
from keten.io.csvfile import check_header
from keten.ledger import audit
from keten.registry.service import Actor, AuthError, Registry
from keten.store.models import Booking, ChargingSession, Holder

SESSION_COLUMNS = (
    "connection_id",
    "meter_id",
    "period_start",
    "period_end",
    "kwh",
    "own_generation",
)
TRUE = ("1", "true", "yes", "ja", "j", "y")
FALSE = ("0", "false", "no", "nee", "n")
MAX_SESSION_KWH = 10**7  # input sanity bound per row (EV-11)
CHUNK = 500


class ImportRefused(KetenError):
    """The file was refused; ``report`` lists every bad row as {row, field, error}."""

    def __init__(self, file: str, report: list[dict[str, Any]]) -> None:
        self.report = report
        first = report[0]
        super().__init__(
            f"{file}: {len(report)} row(s) refused, nothing imported; first: row {first['row']}, "
            f"field '{first['field']}': {first['error']}"
        )


@dataclass(frozen=True)
class SessionTotals:
    rows: int
    grid_kwh: Decimal
    own_kwh: Decimal


def read_sessions(path: Path) -> pl.DataFrame:
    """The file as a frame of string columns, cells trimmed, blank lines dropped."""
    name = str(path)
    if not path.exists():
        raise InputError("file not found", file=name)
    if path.is_dir():
        raise InputError("is a folder, not a file", file=name)
    try:
        if path.suffix.lower() == ".parquet":
            frame = pl.read_parquet(path)
        else:
            frame = pl.read_csv(path, infer_schema=False, encoding="utf8")
    except (pl.exceptions.PolarsError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"cannot read: {first}", file=name) from None
    check_header(name, [c.strip() for c in frame.columns], SESSION_COLUMNS)
    frame = frame.rename({c: c.strip() for c in frame.columns}).select(
        pl.col(c).cast(pl.Utf8).str.strip_chars() for c in SESSION_COLUMNS
    )
    blank = pl.all_horizontal(pl.col(c).fill_null("") == "" for c in SESSION_COLUMNS)
    return frame.filter(~blank)


def session_errors(frame: pl.DataFrame, year: int) -> list[dict[str, Any]]:
    """Every bad row: {row, field, error}; rows are numbered from 1 (first data row)."""
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    start = pl.col("period_start").str.to_date("%Y-%m-%d", strict=False)
    end = pl.col("period_end").str.to_date("%Y-%m-%d", strict=False)
    kwh_ok = pl.col("kwh").fill_null("").str.contains(NUMBER_PATTERN)
    kwh = pl.col("kwh").str.replace(",", ".", literal=True).cast(pl.Decimal(38, 6), strict=False)
    flag = pl.col("own_generation").fill_null("").str.to_lowercase()
    key = ["connection_id", "meter_id", "period_start", "period_end"]
    checks: list[tuple[str, pl.Expr, str]] = [
        ("connection_id", pl.col("connection_id").fill_null("") == "", "is empty"),
        ("connection_id", pl.col("connection_id").str.len_chars() > 100, "is longer than 100"),
        ("meter_id", pl.col("meter_id").fill_null("") == "", "is empty"),
        ("meter_id", pl.col("meter_id").str.len_chars() > 100, "is longer than 100"),
        ("period_start", start.is_null(), "is not a date YYYY-MM-DD"),
        ("period_end", end.is_null(), "is not a date YYYY-MM-DD"),
        ("period_end", end < start, "is before period_start"),
        ("period_start", (start < first) | (start > last), f"is not in {year}"),
        ("period_end", (end < first) | (end > last), f"is not in {year}"),
        ("kwh", ~kwh_ok, "is not a number with at most 6 decimals"),
        ("kwh", kwh <= 0, "must be positive"),
        ("kwh", kwh >= MAX_SESSION_KWH, f"is implausibly large (limit {MAX_SESSION_KWH})"),
        ("own_generation", ~flag.is_in([*TRUE, *FALSE]), "is not yes/no (1/0, true/false)"),
        (
            "connection_id",
            pl.struct(key).is_duplicated() & ~pl.struct(key).is_first_distinct(),
            "same session (connection, meter, period) appears earlier in the file",
        ),
    ]
    field: pl.Expr = pl.lit(None, dtype=pl.Utf8)
    error: pl.Expr = pl.lit(None, dtype=pl.Utf8)
    for name, cond, message in reversed(checks):
        hit = cond.fill_null(False)
        field = pl.when(hit).then(pl.lit(name)).otherwise(field)
        error = pl.when(hit).then(pl.lit(message)).otherwise(error)
    bad = (
        frame.with_row_index("row", offset=1)
        .with_columns(field=field, error=error)
        .filter(pl.col("error").is_not_null())
        .select("row", "field", "error")
    )
    return bad.to_dicts()


def totals(frame: pl.DataFrame) -> SessionTotals:
    """Exact kWh sums of a valid frame, split by own generation."""
    own = pl.col("own_generation").str.to_lowercase().is_in(TRUE)
    kwh = pl.col("kwh").str.replace(",", ".", literal=True).cast(pl.Decimal(38, 6))
    sums = frame.select(grid=kwh.filter(~own).sum(), own=kwh.filter(own).sum(), rows=pl.len()).row(
        0, named=True
    )
    return SessionTotals(int(sums["rows"]), Decimal(sums["grid"] or 0), Decimal(sums["own"] or 0))


def session_units(t: SessionTotals, year: int, trace: Trace) -> int:
    """Units of a file of sessions (EV-25), with the arithmetic in ``trace``."""
    grid_share = trace.value("ev.grid_renewable_share", year)
    own_share = trace.value("ev.own_generation_share", year)
    mj = trace.value("ev.mj_per_kwh", year)
    comparator = trace.value("ev.electricity_comparator", year)
    grams = trace.value("ev.grams_per_unit", year)
    renewable_kwh = mul(t.grid_kwh, percent(grid_share)) + mul(t.own_kwh, percent(own_share))
    exact = div(mul(renewable_kwh, mj, comparator), grams)
    units = round_down(exact)
    trace.step(
        "units of the file",
        f"({t.grid_kwh} kWh × {grid_share}% + {t.own_kwh} kWh × {own_share}%) × {mj} MJ/kWh × "
        f"{comparator} g/MJ / {grams} g/ERE = {exact} → round down",
        units,
        "EV-25",
    )
    return units


def import_sessions(
    reg: Registry, actor: Actor, path: Path, *, proof_ref: str, year: int, key: str
) -> int:
    """Check the whole file, then propose one booking with all its sessions; returns its id."""
    reg._require(actor, "rekeningbevoegde", "fiatteur")
    frame = read_sessions(path)
    if frame.height == 0:
        raise InputError("no sessions in the file", file=str(path))
    report = session_errors(frame, year)
    if report:
        raise ImportRefused(str(path), report)
    t = totals(frame)
    units = session_units(t, year, Trace(reg.params))
    if units <= 0:
        raise KetenError(f"{path}: the sessions create no units")
    keys = frame.select("connection_id", "meter_id", "period_start", "period_end").rows()
    request = {
        "op": "import_sessions",
        "proof": proof_ref,
        "year": year,
        "rows": t.rows,
        "grid_kwh": str(t.grid_kwh),
        "own_kwh": str(t.own_kwh),
        "user": actor.user_id,
    }

    def apply(s: Session) -> dict[str, Any]:
        assert actor.holder_id is not None
        holder = s.get(Holder, actor.holder_id)
        if holder is None or not holder.can_book:
            raise AuthError("this holder has no booking facility")
        if s.execute(select(Booking.id).where(Booking.proof_ref == proof_ref)).first():
            raise KetenError(f"proof {proof_ref!r} is booked already")
        reg._open_for(year)
        dupes = _already_booked(s, keys)
        if dupes:
            raise ImportRefused(
                str(path),
                [
                    {
                        "row": i + 1,
                        "field": "connection_id",
                        "error": "session was booked in an earlier file",
                    }
                    for i in dupes
                ],
            )
        booking = Booking(
            holder_id=holder.id,
            proof_ref=proof_ref,
            year=year,
            sector="land",
            category="other",
            fuel="electricity",
            quantity=str(t.grid_kwh + t.own_kwh),
            unit="kWh",
            ghg_intensity=None,
            units=units,
            status="proposed",
            proposed_by=actor.user_id,
            proposed_at=reg.clock(),
            verification="unverified",
        )
        s.add(booking)
        s.flush()
        try:
            with s.begin_nested():  # a savepoint: a duplicate session rolls back only this
                _insert_sessions(s, booking.id, frame)
        except IntegrityError:
            dupes = _already_booked(s, keys)
            raise ImportRefused(
                str(path),
                [
                    {
                        "row": i + 1,
                        "field": "connection_id",
                        "error": "session was booked in an earlier file",
                    }
                    for i in dupes
                ]
                or [{"row": 1, "field": "connection_id", "error": "duplicate session"}],
            ) from None
        audit.append(
            s,
            at=reg.clock(),
            actor=actor.label,
            action="booking.import",
            subject=holder.name,
            payload={**request, "units": units, "id": booking.id},
        )
        return {"booking_id": booking.id}

    return int(reg.ledger.run(key, request, apply)["booking_id"])


_COLUMNS = (
    "booking_id",
    "connection_id",
    "meter_id",
    "period_start",
    "period_end",
    "kwh",
    "own_generation",
)


def _insert_sessions(s: Session, booking_id: int, frame: pl.DataFrame) -> None:
    """Insert every session of a checked frame: COPY on PostgreSQL, executemany elsewhere."""
    table = frame.select(
        pl.lit(booking_id).alias("booking_id"),
        "connection_id",
        "meter_id",
        "period_start",
        "period_end",
        "kwh",
        pl.col("own_generation").str.to_lowercase().is_in(TRUE).alias("own_generation"),
    )
    conn = s.connection()
    if conn.dialect.name == "postgresql":
        raw = conn.connection.driver_connection
        assert raw is not None
        with (
            raw.cursor() as cur,
            cur.copy(f"COPY reg_charging_session ({', '.join(_COLUMNS)}) FROM STDIN") as copy,
        ):
            for row in table.iter_rows():
                copy.write_row(row)
        return
    placeholders = ", ".join("?" for _ in _COLUMNS)
    conn.exec_driver_sql(
        f"INSERT INTO reg_charging_session ({', '.join(_COLUMNS)}) VALUES ({placeholders})",
        table.rows(),
    )


def _already_booked(s: Session, keys: list[tuple[Any, ...]]) -> list[int]:
    """Indexes of ``keys`` (connection, meter, start, end as text) already in the register."""
    found: set[tuple[str, str, str, str]] = set()
    cols = (
        ChargingSession.connection_id,
        ChargingSession.meter_id,
        ChargingSession.period_start,
        ChargingSession.period_end,
    )
    for i in range(0, len(keys), CHUNK):
        chunk = [
            (c, m, dt.date.fromisoformat(a), dt.date.fromisoformat(b))
            for c, m, a, b in keys[i : i + CHUNK]
        ]
        for c, m, a, b in s.execute(select(*cols).where(tuple_(*cols).in_(chunk))):
            found.add((c, m, a.isoformat(), b.isoformat()))
    return [i for i, k in enumerate(keys) if tuple(k) in found]
