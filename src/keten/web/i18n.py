"""UI languages: Dutch (default) and English, from gettext catalogues read with Babel.

Message ids are English. Each area of the application has its own catalogue file per language,
``locale/<lang>/<area>.po``; all files of a language are merged when first needed. Compiled
``.mo`` files are not needed: the ``.po`` files are read directly.
``tests/web/test_web_i18n.py`` checks that both languages have the same message ids, that Dutch
translates every one, that no id is translated differently in two files, and that every string
the templates and page modules mark for translation is in the catalogues.

Error messages of the services (``keten.core.messages.Msg``, area ``messages``) are translated
through the same catalogues: :func:`using` sets the translator hook of ``keten.core.messages`` for
its block, so ``str(exc)`` on a page is in the page's language. Outside ``using`` (CLI, JSON API)
they stay English.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

from keten.core import messages

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"

_current: ContextVar[str] = ContextVar("keten_language", default=DEFAULT_LANGUAGE)


class CatalogueError(Exception):
    """A catalogue that cannot be used (conflicting translations, unreadable file)."""


def _files(lang: str) -> list[Path]:
    """``core.po`` first, then the areas in name order."""
    files = sorted((LOCALE_DIR / lang).glob("*.po"))
    return sorted(files, key=lambda p: (p.stem != "core", p.stem))


@cache
def _load(lang: str) -> tuple[dict[str, str], tuple[str, ...]]:
    if lang not in LANGUAGES:
        raise CatalogueError(f"unknown language {lang!r} (languages: {', '.join(LANGUAGES)})")
    merged: dict[str, str] = {}
    origin: dict[str, str] = {}
    conflicts: list[str] = []
    for path in _files(lang):
        with path.open("rb") as fh:
            cat = read_po(fh, locale=lang)
        for message in cat:
            if not message.id or not isinstance(message.id, str):
                continue
            text = message.string if isinstance(message.string, str) else ""
            if not text:
                continue  # not translated yet: another file's translation or the id is used
            if message.id in merged:
                if merged[message.id] != text:
                    conflicts.append(
                        f"{lang}/{path.name}: {message.id!r} is translated differently in "
                        f"{origin[message.id]} (that one is used)"
                    )
                continue
            merged[message.id] = text
            origin[message.id] = path.name
    return merged, tuple(conflicts)


def catalogue(lang: str) -> dict[str, str]:
    """Message id → translation for ``lang``, merged from every ``locale/<lang>/*.po`` (the
    first file in :func:`_files` order wins when two disagree; :func:`conflicts` lists those)."""
    return _load(lang)[0]


def conflicts(lang: str) -> tuple[str, ...]:
    """Message ids translated differently in two catalogue files of ``lang``."""
    return _load(lang)[1]


def language() -> str:
    return _current.get()


def translator(lang: str) -> messages.Translator:
    """The hook for :mod:`keten.core.messages`: template → its translation in ``lang`` (the
    template itself when the catalogues lack it)."""

    def translate(template: str) -> str:
        return catalogue(lang).get(template, template)

    return translate


@contextmanager
def using(lang: str) -> Iterator[None]:
    """UI strings and service error messages in ``lang`` inside the block (unknown: Dutch)."""
    chosen = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
    token = _current.set(chosen)
    try:
        with messages.translating(translator(chosen)):
            yield
    finally:
        _current.reset(token)


def gettext(message: str, **variables: object) -> str:
    """The translation of ``message`` in the current language (the id itself when missing),
    with ``%(name)s`` placeholders filled from ``variables`` when given."""
    text = catalogue(language()).get(message, message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: object) -> str:
    return gettext(singular if n == 1 else plural, **variables)


_ = gettext


def pick(cookie: str | None) -> str:
    """The language for a request: the ``keten_lang`` cookie set by the language switch, else
    Dutch (the register is Dutch by default, whatever the browser prefers)."""
    return str(cookie) if cookie in LANGUAGES else DEFAULT_LANGUAGE
