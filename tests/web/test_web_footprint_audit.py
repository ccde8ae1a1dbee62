"""Fresh-eyes audit of the chain-emission pages (/footprint, /footprint/national,
/footprint/leakage, /footprint/scope3): what a visitor saw go wrong, each pinned by a test that
failed before the fix. The pages store nothing, so one engine (SQLite) is enough."""

from __future__ import annotations

import html as html_lib
import re

import pytest
from web_site import Browser, Site

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

EXAMPLE = {"source": "example", "mrio_source": "example", "extension": "emissions"}


def visitor(site: Site, lang: str = "en") -> Browser:
    b = site.browser()
    b.client.cookies.set("keten_lang", lang)
    b.get("/footprint")
    return b


def errors(html: str) -> dict[str, str]:
    """Every error shown next to a field: field name → text."""
    return {
        name: html_lib.unescape(text)
        for name, text in re.findall(r'id="e-([^"]+)" class="error">([^<]*)<', html)
    }


# ----------------------------------------------------------------------------- scope 3.1


@pytest.mark.parametrize(
    ("year", "words"),
    [
        ("0", "Enter a year, e.g. 2026."),  # was "year 0 is not a calendar year" at Purchases
        ("99999", "Enter a year, e.g. 2026."),
        # the data-quality ratings of params/footprint/beleidsagenda-2026 start in 2020
        ("1900", "has no value for 1900"),
    ],
)
def test_scope3_reporting_year_errors_stand_next_to_the_year(
    site: Site, year: str, words: str
) -> None:
    """A wrong reporting year was reported next to the purchases file (which was fine)."""
    r = visitor(site).post("/footprint/scope3", {**EXAMPLE, "year": year})
    assert r.status_code == 422
    shown = errors(r.text)
    assert list(shown) == ["year"], shown
    assert words in shown["year"]


def test_scope3_price_year_zero_is_refused_not_ignored(site: Site) -> None:
    """Price year 0 was silently replaced by the MRIO's own price year (2020) and a result
    shown; it is refused next to its field like any other non-year."""
    r = visitor(site).post("/footprint/scope3", {**EXAMPLE, "price_year": "0"})
    assert r.status_code == 422
    assert errors(r.text) == {"price_year": "Enter a year, e.g. 2020."}


# ----------------------------------------------------------------------------- leakage


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_leakage_negative_threshold_is_refused_next_to_the_threshold(site: Site, lang: str) -> None:
    """A negative threshold typed in the field was blamed on the scenario file
    ("examples/footprint/scenario.yaml, field 'threshold': …") next to the file field."""
    r = visitor(site, lang).post("/footprint/leakage", {**EXAMPLE, "threshold": "-0,1"})
    assert r.status_code == 422
    shown = errors(r.text)
    assert list(shown) == ["threshold"], shown
    words = {"en": "the threshold is a share ≥ 0", "nl": "de drempel is een aandeel ≥ 0"}
    assert shown["threshold"] == words[lang]


@pytest.mark.parametrize("field", ["year", "price_year"])
def test_scope3_a_year_of_superscript_digits_is_refused_not_a_500(site: Site, field: str) -> None:
    """ "²⁰²⁴" passed ``str.isdigit`` and then broke ``int`` (a 500)."""
    r = visitor(site).post("/footprint/scope3", {**EXAMPLE, field: "²⁰²⁴"})
    assert r.status_code == 422
    assert list(errors(r.text)) == [field]
