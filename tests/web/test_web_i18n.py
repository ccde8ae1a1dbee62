"""The UI exists in Dutch and English: both catalogues hold the same message ids per area,
Dutch translates every one, every string the templates and page modules mark for translation is
in the catalogues, and formatted values keep their placeholders."""

from __future__ import annotations

import re

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
