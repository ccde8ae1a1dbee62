"""Strict CSV reading: exact header, UTF-8, one-line errors naming file, row and field."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path

from keten.core.errors import InputError
from keten.core.messages import Msg, joined, msg
from keten.core.quantity import parse_number

MAX_FIELD = 10_000
#: Amounts in input files stay below 10^15 in absolute value (GEN-01): with at most six decimals
#: a number has at most 21 digits, so the sums and products the rules take of a few of them stay
#: exact, and no page shows a silently rounded or overflowing result.
MAX_AMOUNT = Decimal(10) ** 15
MAX_AMOUNT_TEXT = f"{MAX_AMOUNT:,.0f}"  # as refusals show it: 1,000,000,000,000,000


def read_rows(path: Path, columns: Sequence[str]) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield ``(row_number, row)`` for each data row (row 1 is the first line after the header).

    The header must name exactly ``columns`` (any order). Blank lines are skipped.
    """
    name = str(path)
    if not path.exists():
        raise InputError(msg("file not found"), file=name)
    if path.is_dir():
        raise InputError(msg("is a folder, not a file"), file=name)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(msg("not UTF-8 text (byte %(byte)s)", byte=exc.start), file=name) from None
    reader = csv.reader(text.splitlines())
    try:
        header = next(reader)
    except StopIteration:
        raise InputError(
            msg("empty file; expected header %(header)s", header=",".join(columns)), file=name
        ) from None
    except csv.Error as exc:
        raise InputError(
            msg("malformed CSV header: %(error)s", error=str(exc)), file=name
        ) from None
    header = [h.strip() for h in header]
    check_header(name, header, columns)
    row_no = 0
    try:
        for raw in reader:
            if not raw or all(not c.strip() for c in raw):
                continue
            row_no += 1
            if len(raw) != len(header):
                raise InputError(
                    msg(
                        "has %(fields)s fields, the header has %(columns)s",
                        fields=len(raw),
                        columns=len(header),
                    ),
                    file=name,
                    row=row_no,
                )
            for col, cell in zip(header, raw, strict=True):
                if len(cell) > MAX_FIELD:
                    raise InputError(msg("value too long"), file=name, row=row_no, field=col)
            yield row_no, {col: cell.strip() for col, cell in zip(header, raw, strict=True)}
    except csv.Error as exc:
        raise InputError(
            msg("malformed CSV: %(error)s", error=str(exc)), file=name, row=row_no + 1
        ) from None


def check_header(name: str, header: Sequence[str], columns: Sequence[str]) -> None:
    """Refuse a header that does not name exactly ``columns`` (any order): the missing, unknown
    and duplicate columns, and, when the missing ones are hidden in cells holding semicolons, that
    the file is separated by semicolons (a spreadsheet in Dutch settings saves CSV so)."""
    missing = [c for c in columns if c not in header]
    semicolons = [h for h in header if ";" in h and set(_split(h)) & set(missing)]
    unknown = [c for c in header if c not in columns and c not in semicolons]
    dupes = sorted({c for c in header if list(header).count(c) > 1})
    if missing or unknown or dupes:
        parts: list[Msg] = []
        if missing:
            parts.append(msg("missing column(s) %(columns)s", columns=", ".join(missing)))
        if semicolons:
            parts.append(msg("the columns are separated by semicolons (;), use commas"))
        if unknown:
            parts.append(msg("unknown column(s) %(columns)s", columns=", ".join(unknown)))
        if dupes:
            parts.append(msg("duplicate column(s) %(columns)s", columns=", ".join(dupes)))
        raise InputError(
            msg(
                "header: %(problems)s (expected %(header)s)",
                problems=joined(parts),
                header=",".join(columns),
            ),
            file=name,
            row=None,
        )


def _split(cell: str) -> list[str]:
    """The column names in a header cell read with commas, if it was separated by semicolons."""
    return [c.strip() for c in cell.split(";")]


def cell_required(value: str, file: str, row: int, field: str) -> str:
    """The cell, refused when empty."""
    if not value:
        raise InputError(msg("is empty"), file=file, row=row, field=field)
    return value


def cell_number(value: str, file: str, row: int, field: str) -> Decimal:
    """The cell as an exact number (``parse_number``: at most six decimals, no exponent)."""
    try:
        return parse_number(cell_required(value, file, row, field))
    except ValueError as exc:
        raise InputError(_message(exc), file=file, row=row, field=field) from None


def check_amount(value: Decimal, file: str, row: int, field: str) -> Decimal:
    """``value``, refused when it is 10^15 or more in absolute value (GEN-01)."""
    if abs(value) >= MAX_AMOUNT:
        raise InputError(
            msg("too large (limit %(limit)s)", limit=MAX_AMOUNT_TEXT),
            file=file,
            row=row,
            field=field,
        )
    return value


def cell_amount(value: str, file: str, row: int, field: str) -> Decimal:
    """The cell as an exact number (``cell_number``) below 10^15 in absolute value (GEN-01)."""
    return check_amount(cell_number(value, file, row, field), file, row, field)


def cell_choice(value: str, options: Sequence[str], file: str, row: int, field: str) -> str:
    """The cell, refused unless it is one of ``options``."""
    if value not in options:
        raise InputError(
            msg(
                "unknown value %(value)s (expected one of %(options)s)",
                value=repr(value),
                options=", ".join(options),
            ),
            file=file,
            row=row,
            field=field,
        )
    return value


def _message(exc: Exception) -> str | Msg:
    """The message of a ``ValueError`` as raised: a ``Msg`` stays translatable."""
    first = exc.args[0] if len(exc.args) == 1 else None
    return first if isinstance(first, Msg) else str(exc)
