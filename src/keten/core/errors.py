"""Errors. Every error message is one line that says what is wrong and where.

A message may be a plain string or a translatable :class:`keten.core.messages.Msg`
(``msg("unknown holder %(name)s", name=...)``); ``str(exc)`` renders it in the current context's
language — English unless a translator is set (the web pages set one per request).
"""

from __future__ import annotations

from keten.core.messages import Msg, english, msg, render


class KetenError(Exception):
    """Base class for all errors keten raises on purpose."""

    @property
    def translatable(self) -> str | Msg:
        """The message as raised: a :class:`Msg` (still translatable), else its text."""
        if len(self.args) == 1 and isinstance(self.args[0], Msg):
            return self.args[0]
        return super().__str__()

    def __str__(self) -> str:
        return render(self.translatable)

    def english(self) -> str:
        """The message in English, whatever the current language (for code that looks at the
        words, e.g. to pick the form field an error is about, and for the JSON APIs)."""
        with english():
            return str(self)


class ParameterFileError(KetenError):
    """A parameter file breaks the schema (unknown key, missing unit or source, overlap, ...)."""


class ParameterError(KetenError):
    """A parameter lookup failed: unknown name, outside coverage, or a value marked unknown."""


class UnknownValueError(ParameterError):
    """The parameter set marks the value asked for as unknown (no source gives it)."""


class RuleError(KetenError):
    """Input that the rules refuse (e.g. a booking whose intensity is at the comparator)."""


class InputError(KetenError):
    """Bad input in a file: names the file, the row (1-based data row) and the field.

    With a translatable message the place ("row 3, field 'kwh'") is translated too; a plain
    string message keeps the whole line English."""

    def __init__(
        self,
        message: str | Msg,
        *,
        file: str | None = None,
        row: int | None = None,
        field: str = "",
    ) -> None:
        self.file = file
        self.row = row
        self.field = field
        self._reason = message
        super().__init__(message)

    @property
    def reason(self) -> str:
        """The message without the place, in the current context's language."""
        return render(self._reason)

    def __str__(self) -> str:
        where: list[str | Msg] = []
        if self.file is not None:
            where.append(self.file)
        translatable = isinstance(self._reason, Msg)
        if self.row is not None:
            where.append(msg("row %(row)s", row=self.row) if translatable else f"row {self.row}")
        if self.field:
            where.append(
                msg("field '%(field)s'", field=self.field)
                if translatable
                else f"field '{self.field}'"
            )
        prefix = ", ".join(render(w) for w in where)
        return f"{prefix}: {self.reason}" if prefix else self.reason
