"""Translatable error messages.

A service raises ``KetenError(msg("holder %(name)s exists already", name=repr(name)))``: the
message keeps its English template and its parameters apart, and becomes text only when the
error is shown (``str(exc)``). The text is rendered through the *translator* of the current
context: by default none, which gives the English template with the parameters filled in —
exactly the text the services always produced (CLI, JSON API, logs, tests). The web pages set a
translator per request (``keten.web.i18n.using``) that looks the template up in the gettext
catalogues *before* the parameters are substituted; a template without a translation (or with a
translation whose placeholders do not match) falls back to English.

Templates use ``%(name)s`` placeholders only (newstyle gettext, like the rest of the UI); a
parameter may itself be a :class:`Msg` (rendered in the same language). ``keten.core`` never
imports ``keten.web``: the translator is a plain function ``template → translated template``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

Translator = Callable[[str], str]
"""Template (English message id) → translated template; return the id itself when unknown."""

_translator: ContextVar[Translator | None] = ContextVar("keten_translator", default=None)


@dataclass(frozen=True)
class Msg:
    """A message template with its parameters, rendered when shown."""

    template: str
    items: tuple[tuple[str, object], ...] = ()  # the parameters, in the order given

    @property
    def params(self) -> dict[str, object]:
        return dict(self.items)

    def render(self, translate: Translator | None = None) -> str:
        """The text through ``translate`` (default: the current context's translator)."""
        tr = translate if translate is not None else _translator.get()
        values = {k: v.render(tr) if isinstance(v, Msg) else v for k, v in self.items}
        english = self.template % values if values else self.template
        if tr is None:
            return english
        try:
            translated = tr(self.template)
            return translated % values if values else translated
        except (KeyError, ValueError, TypeError):
            return english  # a translation that does not fit its parameters: English

    def english(self) -> str:
        """The English text, whatever the context."""
        return self.render(_english)

    def __str__(self) -> str:
        return self.render()


def _english(template: str) -> str:
    return template


def msg(template: str, /, **params: object) -> Msg:
    """A translatable message: ``msg("%(n)s units", n=3)``; the template is the message id
    extracted into the catalogues (``python -m keten.web.catalogues``, area ``messages``)."""
    return Msg(template, tuple(params.items()))


def joined(parts: Sequence[str | Msg], sep: str = "; ") -> Msg:
    """``a; b; c`` as one message whose parts are rendered (and translated) when it is shown.

    The joining template holds no words, only placeholders, so it needs no catalogue entry (an
    unknown template translates to itself)."""
    template = sep.replace("%", "%%").join(f"%(p{i})s" for i in range(len(parts)))
    return Msg(template, tuple((f"p{i}", p) for i, p in enumerate(parts)))


def render(message: str | Msg) -> str:
    """Text of a message in the current context (plain strings are returned as they are)."""
    return message.render() if isinstance(message, Msg) else message


def translator() -> Translator | None:
    """The translator of the current context (``None``: English)."""
    return _translator.get()


@contextmanager
def translating(translate: Translator | None) -> Iterator[None]:
    """Render messages through ``translate`` inside the block (``None``: English)."""
    token = _translator.set(translate)
    try:
        yield
    finally:
        _translator.reset(token)


@contextmanager
def english() -> Iterator[None]:
    """Render messages in English inside the block (the JSON APIs, whatever the page language)."""
    with translating(None):
        yield
