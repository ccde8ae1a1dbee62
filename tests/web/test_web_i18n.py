"""The UI exists in Dutch and English: both catalogues hold the same message ids per area,
Dutch translates every one, every string the templates and page modules mark for translation is
in the catalogues, and formatted values keep their placeholders."""

from __future__ import annotations

import ast
import re
import tempfile
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from keten.web import catalogues, i18n


def _ids(lang: str, area: str) -> dict[str, str]:
    path = i18n.LOCALE_DIR / lang / f"{area}.po"
    with path.open("rb") as fh:
        return {str(m.id): str(m.string or "") for m in read_po(fh, locale=lang) if m.id}


AREAS = sorted(p.stem for p in (i18n.LOCALE_DIR / "nl").glob("*.po"))


def test_both_languages_have_the_same_catalogue_files() -> None:
    assert AREAS, "no catalogues"
    assert sorted(p.stem for p in (i18n.LOCALE_DIR / "en").glob("*.po")) == AREAS


@pytest.mark.parametrize("area", AREAS)
def test_same_message_ids_in_dutch_and_english(area: str) -> None:
    assert set(_ids("nl", area)) == set(_ids("en", area))


@pytest.mark.parametrize("area", AREAS)
def test_dutch_translates_every_message(area: str) -> None:
    missing = [mid for mid, text in _ids("nl", area).items() if not text.strip()]
    assert missing == []


@pytest.mark.parametrize("area", AREAS)
def test_placeholders_survive_translation(area: str) -> None:
    pattern = re.compile(r"%\(\w+\)s")
    for lang in ("nl", "en"):
        for mid, text in _ids(lang, area).items():
            if text:
                assert sorted(pattern.findall(mid)) == sorted(pattern.findall(text)), (lang, mid)


def test_every_marked_string_is_in_the_catalogues() -> None:
    used = catalogues.extract()
    missing = [
        (area, mid)
        for area, ids in used.items()
        for mid in ids
        if mid not in _ids("nl", area) or mid not in _ids("en", area)
    ]
    assert missing == [], "run: python -m keten.web.catalogues"


def test_no_message_is_translated_differently_in_two_areas() -> None:
    assert i18n.conflicts("nl") == () and i18n.conflicts("en") == ()


def test_catalogues_translate() -> None:
    assert i18n.catalogue("nl")["Log in"] == "Inloggen"
    assert i18n.catalogue("en")["Log in"] == "Log in"
    with i18n.using("nl"):
        assert i18n.gettext("Log out") == "Uitloggen"
    with i18n.using("en"):
        assert i18n.gettext("Log out") == "Log out"
    with i18n.using("xx"):  # unknown language: Dutch
        assert i18n.gettext("Log out") == "Uitloggen"


def test_unknown_language_catalogue_is_refused() -> None:
    with pytest.raises(i18n.CatalogueError, match="unknown language 'de'"):
        i18n.catalogue("de")


def test_service_error_messages_have_their_own_area() -> None:
    """The ``msg(...)`` templates of keten/registry, keten/ledger and keten/core/errors.py form
    the area ``messages`` (checked above like every area: same ids, Dutch for each, placeholders
    kept, every template extracted)."""
    assert "messages" in AREAS
    used = catalogues.extract()["messages"]
    places = {p.split(":")[0] for where in used.values() for p in where}
    assert {
        "keten/registry/service.py",
        "keten/ledger/service.py",
        "keten/core/errors.py",
    } <= places
    assert "four-eyes principle: the proposer cannot approve their own proposal" in used
    assert set(used) == set(_ids("nl", "messages"))  # nothing stale either


def test_service_error_messages_follow_the_language() -> None:
    from keten.core.errors import KetenError
    from keten.core.messages import msg

    exc = KetenError(msg("proof %(proof)s is booked already", proof="'PoS-1'"))
    with i18n.using("nl"):
        assert str(exc) == "duurzaamheidsbewijs 'PoS-1' is al ingeboekt"
    with i18n.using("en"):
        assert str(exc) == "proof 'PoS-1' is booked already"
    assert str(exc) == "proof 'PoS-1' is booked already"  # outside a page: English


# ----------------------------------------------------------------------------- raised as text?

#: Errors whose text stays English on purpose: parameter-file schema errors (for whoever edits
#: the YAML; docs/web.md) — every other KetenError must be raised translatable.
ENGLISH_BY_DESIGN = {"ParameterFileError"}


def _error_classes() -> set[str]:
    """Names of every KetenError subclass of the modules of the ``messages*`` areas."""
    import importlib

    from keten.core.errors import KetenError

    for _, path in catalogues.message_sources():
        rel = path.relative_to(catalogues.PACKAGE.parent).with_suffix("")
        importlib.import_module(".".join(rel.parts))
    names, todo = set(), [KetenError]
    while todo:
        cls = todo.pop()
        names.add(cls.__name__)
        todo += cls.__subclasses__()
    # ImportRefused(file, report, year) builds its message from the report's checks.
    return names - ENGLISH_BY_DESIGN - {"ImportRefused"}


def _as_text(node: ast.expr) -> bool:
    """An argument that is already text: a literal, an f-string, ``str(...)``, ``x.reason``,
    or a sum of such — it could not be translated when shown."""
    if isinstance(node, ast.Constant | ast.JoinedStr):
        return isinstance(node, ast.JoinedStr) or isinstance(node.value, str)
    if isinstance(node, ast.Call):
        return isinstance(node.func, ast.Name) and node.func.id == "str"
    if isinstance(node, ast.Attribute):
        return node.attr == "reason"
    if isinstance(node, ast.BinOp):
        return _as_text(node.left) or _as_text(node.right)
    return False


def _text_raises(path: Path, classes: set[str]) -> list[str]:
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        call = node.exc if isinstance(node, ast.Raise) else None
        if not isinstance(call, ast.Call) or not call.args:
            continue
        name = call.func.id if isinstance(call.func, ast.Name) else getattr(call.func, "attr", "")
        if name in classes and _as_text(call.args[0]):
            out.append(f"{path.name}:{node.lineno} {name}")
    return out


def test_no_error_of_an_engine_or_reader_is_raised_as_plain_text() -> None:
    """Every KetenError raised by the modules of the ``messages*`` areas (the register, every
    rules engine and file reader) and by the page modules carries a ``msg(...)`` (or passes on
    a message as raised, ``exc.translatable``), so that pages can show it in their language;
    parse_number's ValueErrors too."""
    classes = _error_classes()
    assert {"InputError", "RuleError", "AuthError", "NotFound", "LedgerError"} <= classes
    paths = [p for _, p in catalogues.message_sources()]
    paths += sorted((catalogues.ROOT / "pages").glob("*.py"))
    assert len(paths) > 40
    bad = [site for p in paths for site in _text_raises(p, classes)]
    bad += _text_raises(catalogues.PACKAGE / "core" / "quantity.py", {"ValueError"})
    assert bad == []
    # the check itself: text is found, messages and passed-on messages are not
    sample = Path(tempfile.mkdtemp()) / "x.py"
    sample.write_text(
        'raise InputError(f"x {y}")\nraise RuleError("a" + b)\nraise InputError(exc.reason)\n'
        'raise RuleError(msg("x"))\nraise InputError(exc.translatable)\nraise InputError(m)\n'
    )
    assert [s.split()[-1] for s in _text_raises(sample, classes)] == [
        "InputError",
        "RuleError",
        "InputError",
    ]
