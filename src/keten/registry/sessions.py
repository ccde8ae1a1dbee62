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

import codecs
import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from keten.core.errors import InputError, KetenError
from keten.core.messages import Msg, msg
from keten.core.quantity import NUMBER_PATTERN, div, mul, percent, round_down
from keten.core.trace import Trace
from keten.io.csvfile import check_header
from keten.ledger import audit
from keten.registry.service import Actor, AuthError, Registry
from keten.store.models import Booking, Holder

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
COPY_ROWS = 200_000  # rows per COPY write (PostgreSQL)
SQLITE_CACHE_KIB = 262_144  # page cache while importing (SQLite): the unique index fits


class ImportRefused(KetenError):
    """The file was refused; ``report`` lists every bad row as {row, field, error} (English,
    as the API, the CLI and the CSV report give it); ``messages`` the same errors translatable,
    in report order (for pages)."""

    def __init__(self, file: str, report: list[dict[str, Any]], year: int) -> None:
        self.report = report
        known = row_messages(year)
        self.messages: list[Msg | str] = [known.get(r["error"], r["error"]) for r in report]
        first = report[0]
        super().__init__(
            msg(
                "%(file)s: %(n)s row(s) refused, nothing imported; first: row %(row)s, "
                "field '%(field)s': %(error)s",
                file=file,
                n=len(report),
                row=first["row"],
                field=first["field"],
                error=self.messages[0],
            )
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
        raise InputError(msg("file not found"), file=name)
    if path.is_dir():
        raise InputError(msg("is a folder, not a file"), file=name)
    csv_file = path.suffix.lower() != ".parquet"
    if csv_file and path.stat().st_size == 0:
        raise InputError(
            msg("empty file; expected header %(header)s", header=",".join(SESSION_COLUMNS)),
            file=name,
        )
    try:
        if not csv_file:
            frame = pl.read_parquet(path)
        else:
            frame = pl.read_csv(path, infer_schema=False, encoding="utf8")
    except (pl.exceptions.PolarsError, OSError) as exc:
        bad = _not_utf8_at(path) if csv_file else None
        if bad is not None:
            raise InputError(msg("not UTF-8 text (byte %(byte)s)", byte=bad), file=name) from None
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(msg("cannot read: %(reason)s", reason=first), file=name) from None
    check_header(name, [c.strip() for c in frame.columns], SESSION_COLUMNS)
    frame = frame.rename({c: c.strip() for c in frame.columns}).select(
        pl.col(c).cast(pl.Utf8).str.strip_chars() for c in SESSION_COLUMNS
    )
    blank = pl.all_horizontal(pl.col(c).fill_null("") == "" for c in SESSION_COLUMNS)
    return frame.filter(~blank)


def _not_utf8_at(path: Path) -> int | None:
    """The offset of the first byte of ``path`` that is not UTF-8 text, None when it all is
    (read in chunks: only a file the CSV reader refused is scanned)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            pending = len(decoder.getstate()[0])  # bytes of a character cut at the last chunk
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                return offset - pending + exc.start
            offset += len(chunk)
    pending = len(decoder.getstate()[0])
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        return offset - pending + exc.start
    return None


def _row_checks(year: int) -> dict[str, Msg]:
    """The per-row errors of a sessions file, by check."""
    return {
        "empty": msg("is empty"),
        "long": msg("is longer than 100"),
        "date": msg("is not a date YYYY-MM-DD"),
        "order": msg("is before period_start"),
        "year": msg("is not in %(year)s", year=year),
        "number": msg("is not a number with at most 6 decimals"),
        "positive": msg("must be positive"),
        "large": msg("is implausibly large (limit %(limit)s)", limit=MAX_SESSION_KWH),
        "flag": msg("is not yes/no (1/0, true/false)"),
        "twice": msg("same session (connection, meter, period) appears earlier in the file"),
        "earlier": msg("session was booked in an earlier file"),
        "duplicate": msg("duplicate session"),
    }


def row_messages(year: int) -> dict[str, Msg]:
    """English text of each per-row error of a sessions file → the translatable message (the
    report keeps the English text; pages show ``ImportRefused.messages``)."""
    return {m.english(): m for m in _row_checks(year).values()}


def session_errors(frame: pl.DataFrame, year: int) -> list[dict[str, Any]]:
    """Every bad row: {row, field, error}; rows are numbered from 1 (first data row)."""
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    start = pl.col("period_start").str.to_date("%Y-%m-%d", strict=False)
    end = pl.col("period_end").str.to_date("%Y-%m-%d", strict=False)
    kwh_ok = pl.col("kwh").fill_null("").str.contains(NUMBER_PATTERN)
    kwh = pl.col("kwh").str.replace(",", ".", literal=True).cast(pl.Decimal(38, 6), strict=False)
    flag = pl.col("own_generation").fill_null("").str.to_lowercase()
    key = ["connection_id", "meter_id", "period_start", "period_end"]
    m = _row_checks(year)
    checks: list[tuple[str, pl.Expr, Msg]] = [
        ("connection_id", pl.col("connection_id").fill_null("") == "", m["empty"]),
        ("connection_id", pl.col("connection_id").str.len_chars() > 100, m["long"]),
        ("meter_id", pl.col("meter_id").fill_null("") == "", m["empty"]),
        ("meter_id", pl.col("meter_id").str.len_chars() > 100, m["long"]),
        ("period_start", start.is_null(), m["date"]),
        ("period_end", end.is_null(), m["date"]),
        ("period_end", end < start, m["order"]),
        ("period_start", (start < first) | (start > last), m["year"]),
        ("period_end", (end < first) | (end > last), m["year"]),
        ("kwh", ~kwh_ok, m["number"]),
        ("kwh", kwh <= 0, m["positive"]),
        ("kwh", kwh >= MAX_SESSION_KWH, m["large"]),
        ("own_generation", ~flag.is_in([*TRUE, *FALSE]), m["flag"]),
        (
            "connection_id",
            pl.struct(key).is_duplicated() & ~pl.struct(key).is_first_distinct(),
            m["twice"],
        ),
    ]
    field: pl.Expr = pl.lit(None, dtype=pl.Utf8)
    error: pl.Expr = pl.lit(None, dtype=pl.Utf8)
    for name, cond, message in reversed(checks):
        hit = cond.fill_null(False)
        field = pl.when(hit).then(pl.lit(name)).otherwise(field)
        error = pl.when(hit).then(pl.lit(message.english())).otherwise(error)
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


def sessions_digest(frame: pl.DataFrame) -> str:
    """sha256 of the checked sessions (cells as read, trimmed; blank lines dropped): part of the
    import's idempotency fingerprint, so a retry with the same key replays only the same
    sessions — another file with the same totals is a different request, not a replay."""
    return hashlib.sha256(frame.write_csv(include_header=False).encode()).hexdigest()


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
        msg("units of the file"),
        msg(
            "%(formula)s → round down",
            formula=f"({t.grid_kwh} kWh × {grid_share}% + {t.own_kwh} kWh × {own_share}%) × "
            f"{mj} MJ/kWh × {comparator} g/MJ / {grams} g/ERE = {exact}",
        ),
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
        raise InputError(msg("no sessions in the file"), file=str(path))
    report = session_errors(frame, year)
    if report:
        raise ImportRefused(str(path), report, year)
    t = totals(frame)
    units = session_units(t, year, Trace(reg.params))
    if units <= 0:
        raise KetenError(msg("%(file)s: the sessions create no units", file=str(path)))
    request = {
        "op": "import_sessions",
        "proof": proof_ref,
        "year": year,
        "rows": t.rows,
        "grid_kwh": str(t.grid_kwh),
        "own_kwh": str(t.own_kwh),
        "sessions": sessions_digest(frame),
        "user": actor.user_id,
    }

    def apply(s: Session) -> dict[str, Any]:
        assert actor.holder_id is not None
        holder = s.get(Holder, actor.holder_id)
        if holder is None or not holder.can_book:
            raise AuthError(msg("this holder has no booking facility"))
        if not holder.is_service_provider:
            raise AuthError(msg("charging sessions are imported only by an inboekdienstverlener"))
        if s.execute(select(Booking.id).where(Booking.proof_ref == proof_ref)).first():
            raise KetenError(msg("proof %(proof)s is booked already", proof=repr(proof_ref)))
        reg._open_for(year, s)
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
            dupes = _already_booked(s, frame)
            raise ImportRefused(
                str(path),
                [
                    {
                        "row": i + 1,
                        "field": "connection_id",
                        "error": _row_checks(year)["earlier"].english(),
                    }
                    for i in dupes
                ]
                or [
                    {
                        "row": 1,
                        "field": "connection_id",
                        "error": _row_checks(year)["duplicate"].english(),
                    }
                ],
                year,
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
    """Insert every session of a checked frame in the caller's transaction: COPY (CSV, written by
    polars) on PostgreSQL; one prepared ``executemany`` with a large page cache on SQLite."""
    table = frame.select(
        pl.lit(booking_id).alias("booking_id"),
        "connection_id",
        "meter_id",
        "period_start",
        "period_end",
        "kwh",
        pl.col("own_generation").str.to_lowercase().is_in(TRUE).alias("own_generation"),
    )
    _bulk_insert(s, "reg_charging_session", _COLUMNS, table)


def _bulk_insert(s: Session, name: str, columns: Sequence[str], table: pl.DataFrame) -> None:
    conn = s.connection()
    dbapi = conn.dialect.dbapi
    assert dbapi is not None
    try:
        _bulk_insert_raw(conn, name, columns, table)
    except dbapi.IntegrityError as exc:  # the driver's own error: as SQLAlchemy's
        raise IntegrityError(f"bulk insert into {name}", None, exc) from exc


def _bulk_insert_raw(
    conn: Connection, name: str, columns: Sequence[str], table: pl.DataFrame
) -> None:
    if conn.dialect.name == "postgresql":
        raw = conn.connection.driver_connection
        assert raw is not None
        sql = f"COPY {name} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)"
        with raw.cursor() as cur, cur.copy(sql) as copy:
            for start in range(0, table.height, COPY_ROWS):
                copy.write(table.slice(start, COPY_ROWS).write_csv(include_header=False))
        return
    raw = conn.connection.driver_connection
    assert raw is not None
    cur = raw.cursor()
    try:
        cur.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")  # this connection only
        placeholders = ", ".join("?" for _ in columns)
        cur.executemany(
            f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({placeholders})",
            table.iter_rows(),
        )
    finally:
        cur.close()


def _already_booked(s: Session, frame: pl.DataFrame) -> list[int]:
    """Indexes (0-based) of the frame's sessions already in the register: the keys go into a
    temporary table joined with the register's sessions (the report of a refused file)."""
    keys = frame.select(
        pl.int_range(pl.len(), dtype=pl.Int64).alias("i"),
        "connection_id",
        "meter_id",
        "period_start",
        "period_end",
    )
    conn = s.connection()
    create = (
        "CREATE TEMPORARY TABLE keten_import_keys (i BIGINT, connection_id TEXT, "
        "meter_id TEXT, period_start DATE, period_end DATE)"
    )
    if conn.dialect.name == "postgresql":
        create += " ON COMMIT DROP"
    conn.exec_driver_sql(create)
    try:
        _bulk_insert(s, "keten_import_keys", keys.columns, keys)
        found = conn.exec_driver_sql(
            "SELECT k.i FROM keten_import_keys k JOIN reg_charging_session c "
            "ON c.connection_id = k.connection_id AND c.meter_id = k.meter_id "
            "AND c.period_start = k.period_start AND c.period_end = k.period_end ORDER BY k.i"
        ).all()
    finally:
        if conn.dialect.name != "postgresql":
            conn.exec_driver_sql("DROP TABLE keten_import_keys")
    return [int(i) for (i,) in found]
