"""Energie Vervoer input files: deliveries, bookings, units, prices (CSV; bookings also Parquet).

Column contracts (issue #2): deliveries ``supplier,sector,fuel,quantity,unit``; bookings
``holder,sector,category,fuel,quantity,unit,ghg_intensity``; units
``holder,origin_sector,category,amount``; prices ``origin_sector,category,price_eur``.
"""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import polars as pl

from keten.core.errors import InputError, KetenError
from keten.core.messages import Msg, msg
from keten.core.params import ParameterSet
from keten.core.quantity import MAX_DECIMALS
from keten.ev.energy import fuel_catalogue
from keten.ev.model import (
    CATEGORIES,
    MAX_PRICE,
    MAX_QUANTITY,
    MAX_UNITS,
    SECTORS,
    Delivery,
    Holding,
    UnitType,
)
from keten.ev.obligation import check_sector
from keten.ev.units import BOOKING_COLUMNS, row_codes, row_error, row_message, units_frame
from keten.io.csvfile import cell_choice, cell_number, cell_required, check_header, read_rows

DELIVERY_COLUMNS = ("supplier", "sector", "fuel", "quantity", "unit")
UNIT_COLUMNS = ("holder", "origin_sector", "category", "amount")
PRICE_COLUMNS = ("origin_sector", "category", "price_eur")


def read_deliveries(path: Path, params: ParameterSet, year: int) -> list[Delivery]:
    name = str(path)
    catalogue = fuel_catalogue(params)
    out = []
    for row, r in read_rows(path, DELIVERY_COLUMNS):
        supplier = cell_required(r["supplier"], name, row, "supplier")
        sector = cell_choice(r["sector"], SECTORS, name, row, "sector")
        try:
            check_sector(params, sector, year)
        except KetenError as exc:
            raise InputError(exc.translatable, file=name, row=row, field="sector") from None
        fuel = cell_required(r["fuel"], name, row, "fuel")
        if fuel not in catalogue:
            raise InputError(
                msg(
                    "unknown fuel %(fuel)s (known: %(known)s)",
                    fuel=repr(fuel),
                    known=", ".join(sorted(catalogue)),
                ),
                file=name,
                row=row,
                field="fuel",
            )
        unit = r["unit"]
        if unit not in catalogue[fuel]:
            raise InputError(
                msg(
                    "fuel %(fuel)s cannot be given in %(unit)s (use %(units)s)",
                    fuel=repr(fuel),
                    unit=repr(unit),
                    units=", ".join(catalogue[fuel]),
                ),
                file=name,
                row=row,
                field="unit",
            )
        quantity = cell_number(r["quantity"], name, row, "quantity")
        if quantity <= 0:
            raise InputError(msg("must be positive"), file=name, row=row, field="quantity")
        if quantity >= MAX_QUANTITY:
            raise InputError(_too_large(MAX_QUANTITY), file=name, row=row, field="quantity")
        out.append(Delivery(supplier, sector, fuel, quantity, unit))
    return out


def read_holdings(path: Path) -> list[Holding]:
    name = str(path)
    out = []
    for row, r in read_rows(path, UNIT_COLUMNS):
        holder = cell_required(r["holder"], name, row, "holder")
        origin = cell_choice(r["origin_sector"], SECTORS, name, row, "origin_sector")
        category = cell_choice(r["category"], CATEGORIES, name, row, "category")
        amount = cell_number(r["amount"], name, row, "amount")
        if amount != amount.to_integral_value() or amount < 0:
            raise InputError(
                msg("must be a whole number of units, 0 or more"),
                file=name,
                row=row,
                field="amount",
            )
        if amount > MAX_UNITS:
            raise InputError(_too_large(MAX_UNITS), file=name, row=row, field="amount")
        out.append(Holding(holder, UnitType(origin, category), int(amount)))
    return out


def read_prices(path: Path) -> dict[UnitType, Decimal]:
    name = str(path)
    out: dict[UnitType, Decimal] = {}
    for row, r in read_rows(path, PRICE_COLUMNS):
        origin = cell_choice(r["origin_sector"], SECTORS, name, row, "origin_sector")
        category = cell_choice(r["category"], CATEGORIES, name, row, "category")
        price = cell_number(r["price_eur"], name, row, "price_eur")
        if price < 0:
            raise InputError(msg("must not be negative"), file=name, row=row, field="price_eur")
        if price > MAX_PRICE:
            raise InputError(_too_large(MAX_PRICE), file=name, row=row, field="price_eur")
        t = UnitType(origin, category)
        if t in out:
            raise InputError(
                msg("second price for %(type)s", type=origin + "/" + category),
                file=name,
                row=row,
                field="category",
            )
        out[t] = price
    return out


_TEXT_COLUMNS = ("holder", "sector", "category", "fuel", "unit")


def _too_large(limit: object) -> Msg:
    return msg("is implausibly large (limit %(limit)s)", limit=limit)


def _polars_message(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _cannot_read(exc: Exception) -> Msg:
    return msg("cannot read: %(error)s", error=_polars_message(exc))


def scan_bookings(path: Path) -> pl.LazyFrame:
    """Bookings as a lazy frame: text columns as strings; numbers as strings (CSV) or as the
    Parquet file's decimal or integer columns.

    CSV cells are trimmed and blank lines skipped, as in the other CSV files; Parquet values are
    taken as they are (a value with surrounding spaces is refused by the row checks).
    """
    name = str(path)
    if not path.exists():
        raise InputError(msg("file not found"), file=name)
    if path.is_dir():
        raise InputError(msg("is a folder, not a file"), file=name)
    parquet = path.suffix.lower() == ".parquet"
    try:
        if parquet:
            frame = pl.scan_parquet(path)
            header = frame.collect_schema().names()
        else:
            header = _csv_header(path)
            frame = pl.scan_csv(path, infer_schema=False, encoding="utf8")
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise InputError(_cannot_read(exc), file=name) from None
    check_header(name, [c.strip() for c in header], BOOKING_COLUMNS)
    if not parquet:
        frame = frame.rename({c: c.strip() for c in header})
        cells = [pl.col(c).str.strip_chars() for c in BOOKING_COLUMNS]
        blank = pl.all_horizontal(c.fill_null("") == "" for c in cells)
        return frame.with_columns(cells).filter(~blank)
    schema = frame.collect_schema()
    for col in ("quantity", "ghg_intensity"):
        dtype = schema[col]
        if dtype.is_float():
            raise InputError(
                msg("is a floating-point column; store decimals or integers so amounts stay exact"),
                file=name,
                field=col,
            )
        if isinstance(dtype, pl.Decimal) and (dtype.scale or 0) > MAX_DECIMALS:
            raise InputError(
                msg(
                    "has %(scale)s decimals; at most %(max)s are accepted",
                    scale=dtype.scale,
                    max=MAX_DECIMALS,
                ),
                file=name,
                field=col,
            )
        if not (dtype == pl.Utf8 or dtype.is_integer() or isinstance(dtype, pl.Decimal)):
            raise InputError(
                msg("has type %(dtype)s; expected text or numbers", dtype=str(dtype)),
                file=name,
                field=col,
            )
    return frame.with_columns(pl.col(c).cast(pl.Utf8) for c in _TEXT_COLUMNS)


def _csv_header(path: Path) -> list[str]:
    """The header line of a CSV file as written (polars would rename duplicate names)."""
    with path.open("rb") as f:
        first = f.readline()
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            msg("not UTF-8 text (byte %(byte)s)", byte=exc.start), file=str(path)
        ) from None
    if not text.strip():
        raise InputError(
            msg("empty file; expected header %(header)s", header=",".join(BOOKING_COLUMNS)),
            file=str(path),
        )
    return next(csv.reader([text.rstrip("\r\n")]))


def create_units(frame: pl.LazyFrame, params: ParameterSet, year: int, name: str) -> pl.DataFrame:
    """Validate and compute units in one pass; raise an ``InputError`` for the first bad row.

    Atomic: either every row is valid and the units of every row are returned, or nothing is.
    Output columns: ``holder, origin_sector, category, year, units`` in input order.
    """
    try:
        table = units_frame(frame, params, year).collect()
    except (pl.exceptions.PolarsError, OSError) as exc:
        path = Path(name)
        if path.suffix.lower() != ".parquet" and path.is_file():
            # polars does not say where; the strict reader names the row (and raises).
            for _ in read_rows(path, BOOKING_COLUMNS):
                pass
        raise InputError(_cannot_read(exc), file=name) from None
    bad = table.get_column("_bad").arg_true()
    if bad.len():
        index = int(bad[0])
        path = Path(name)
        if path.suffix.lower() != ".parquet" and path.is_file():
            # polars reads a CSV row with too few fields as empty cells; the strict reader names
            # such a row by its field count (and raises) before the checks blame an empty cell.
            for number, _ in read_rows(path, BOOKING_COLUMNS):
                if number > index:
                    break
        row = row_codes(frame.slice(index, 1), params, year).collect().row(0, named=True)
        field, message = row_message(row, params, year)
        raise InputError(message, file=name, row=index + 1, field=field)
    return table.drop("_bad")


def booking_error_report(frame: pl.LazyFrame, params: ParameterSet, year: int) -> pl.DataFrame:
    """Every invalid row as ``row, field, error`` (for per-row error reports)."""
    bad = (
        row_codes(frame.with_row_index("_row", offset=1), params, year)
        .filter(pl.col("_code") != 0)
        .collect()
    )
    rows = []
    for r in bad.iter_rows(named=True):
        field, message = row_error(r, params, year)
        rows.append({"row": r["_row"], "field": field, "error": message})
    return pl.DataFrame(rows, schema={"row": pl.UInt32, "field": pl.Utf8, "error": pl.Utf8})
