"""Errors. Every error message is one line that says what is wrong and where."""

from __future__ import annotations


class KetenError(Exception):
    """Base class for all errors keten raises on purpose."""


class ParameterFileError(KetenError):
    """A parameter file breaks the schema (unknown key, missing unit or source, overlap, ...)."""


class ParameterError(KetenError):
    """A parameter lookup failed: unknown name, outside coverage, or a value marked unknown."""


class UnknownValueError(ParameterError):
    """The parameter set marks the value asked for as unknown (no source gives it)."""


class RuleError(KetenError):
    """Input that the rules refuse (e.g. a booking whose intensity is at the comparator)."""


class InputError(KetenError):
    """Bad input in a file: names the file, the row (1-based data row) and the field."""

    def __init__(
        self, message: str, *, file: str | None = None, row: int | None = None, field: str = ""
    ) -> None:
        self.file = file
        self.row = row
        self.field = field
        self.reason = message
        where = []
        if file is not None:
            where.append(file)
        if row is not None:
            where.append(f"row {row}")
        if field:
            where.append(f"field '{field}'")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)
