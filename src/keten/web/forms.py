"""Reading a page's form: text fields and uploaded files with size limits, and the errors and
values shown again next to the fields (:class:`Checked`).

Note: :mod:`keten.web.catalogues` extracts UI strings from ``pages/`` and the core modules
only; the two messages below are also marked in the page areas' catalogues.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.datastructures import FormData, UploadFile

from keten.core.errors import InputError, KetenError
from keten.web import i18n

_ = i18n.gettext


@dataclass
class Checked:
    """Errors (field → message), the values to show again, and the uploaded files' names."""

    errors: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    names: dict[str, tuple[str, str]] = field(default_factory=dict)  # path → (field, shown name)

    def refuse(self, exc: KetenError, default: str = "_form") -> None:
        """Put a reader's or rule's refusal next to the field of the file it is about."""
        if isinstance(exc, InputError) and exc.file in self.names:
            name, shown = self.names[exc.file]
            message = str(InputError(exc.translatable, file=shown, row=exc.row, field=exc.field))
            self.errors.setdefault(name, message)
            return
        self.errors.setdefault(default, str(exc).splitlines()[0])


def text(form: FormData, name: str, c: Checked | None = None, limit: int = 200) -> str:
    """The text field ``name``, stripped and cut to ``limit`` characters ("" when absent);
    kept in ``c.values`` to show again when ``c`` is given."""
    value = form.get(name)
    out = value.strip()[:limit] if isinstance(value, str) else ""
    if c is not None:
        c.values[name] = out
    return out


def digits(text: str) -> bool:
    """``text`` is a whole number written in the digits 0-9 only: ``str.isdigit`` also takes
    "²" (which ``int`` refuses) and full-width digits."""
    return text.isascii() and text.isdigit()


def chosen(item: object) -> UploadFile | None:
    """``item`` when it is a file the visitor chose, else None."""
    return item if isinstance(item, UploadFile) and item.filename else None


async def read_file(
    item: UploadFile, name: str, c: Checked, limit: int, fallback: str
) -> tuple[str, bytes] | None:
    """The file's shown name (``fallback`` when it has none) and bytes; None with an error next
    to field ``name`` when it is larger than ``limit`` bytes."""
    data = await item.read(limit + 1)
    if len(data) > limit:
        c.errors[name] = _("The file is too large (at most %(n)s bytes).", n=limit)
        return None
    return Path(item.filename or "").name[:100] or fallback, data


async def upload(
    form: FormData, name: str, c: Checked, limit: int, *, fallback: str = "upload"
) -> tuple[str, bytes] | None:
    """The uploaded file ``name`` as (shown name, bytes); None when no file was chosen or it is
    too large (then with an error next to the field)."""
    item = chosen(form.get(name))
    return None if item is None else await read_file(item, name, c, limit, fallback)


async def save(
    form: FormData, name: str, c: Checked, folder: Path, *, limit: int, required: bool = True
) -> Path | None:
    """The uploaded file ``name`` saved in ``folder`` (its shown name in ``c.names`` for
    :meth:`Checked.refuse` and in ``c.values[name + "_name"]``); None with an error next to
    the field when it is missing (and ``required``) or too large."""
    item = chosen(form.get(name))
    if item is None:
        if required:
            c.errors[name] = _("Choose a file.")
        return None
    got = await read_file(item, name, c, limit, name)
    if got is None:
        return None
    shown, data = got
    path = folder / f"{name}.upload"
    path.write_bytes(data)
    c.names[str(path)] = (name, shown)
    c.values[f"{name}_name"] = shown
    return path
