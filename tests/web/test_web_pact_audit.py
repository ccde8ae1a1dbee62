"""Fresh-eyes audit of the PACT pages (/footprint/pact, issue 7): what a ketenpartner saw go wrong
on the pages, each pinned by a test that failed before the fix."""

from __future__ import annotations

import html as html_lib
import re
from decimal import Context, Decimal

import pytest
from test_web_pact import DE_VRIES, JANSEN, Pact, cells, enter, entered, error
from web_site import Site


@pytest.fixture
def pact(site: Site) -> Pact:
    return Pact(site)


def form_error(html: str) -> str:
    m = re.search(r'class="error form-error" role="alert">([^<]*)<', html)
    assert m, "no error on the form"
    return html_lib.unescape(m.group(1))


# ----------------------------------------------------------------------------- large numbers


def test_a_footprint_with_a_very_large_pcf_is_shown_exactly_not_a_500(pact: Pact) -> None:
    """A pCF with more digits than Python's default 28-digit Decimal context: the footprint was
    stored, and then the footprint page, the organisation's whole overview and the customer's
    page answered 500 (the number filter and the per-unit division ran in the 28-digit context).
    Now every figure is shown exactly:
    1234567890123456789012345678901234.5 kg CO2e / 1000 kilogram
    = 1234567890123456789012345678901.2345 kg CO2e per kilogram (FP-34)."""
    jan = pact.browser("jan")
    big = "1234567890123456789012345678901234.5"
    r = enter(jan, pcf_excluding_biogenic=big)
    assert r.status_code == 303, r.text
    pf_id = r.headers["location"].rsplit("/", 1)[1]
    per_kg = Context(prec=60).divide(Decimal(big), Decimal(1000))
    assert per_kg == Decimal("1234567890123456789012345678901.2345")  # exact in 60 digits
    shown_pcf = "1,234,567,890,123,456,789,012,345,678,901,234.5"
    shown_per_kg = "1,234,567,890,123,456,789,012,345,678,901.2345"
    page = jan.get(f"/footprint/pact/fp/{pf_id}")
    assert page.status_code == 200
    assert f"{shown_pcf} kg CO2e" in page.text and f"{shown_per_kg} kg CO2e / kilogram" in page.text
    overview = jan.get("/footprint/pact")
    assert overview.status_code == 200
    assert cells(overview.text, "own")[0][2:4] == [shown_pcf, shown_per_kg]
    assert jan.post(f"/footprint/pact/fp/{pf_id}/share", {"customer": DE_VRIES}).status_code == 303
    dirk = pact.browser("dirk")
    assert cells(dirk.get("/footprint/pact").text, "received")[0][3:5] == [shown_pcf, shown_per_kg]
    # 2 kilogram × 1234567890123456789012345678901.2345 = 2469135780246913578024691357802.469
    r = dirk.get(f"/footprint/pact/received/{pf_id}?quantity=2")
    assert r.status_code == 200, r.text
    assert cells(r.text, "scope31")[0][3] == "2,469,135,780,246,913,578,024,691,357,802.469"


def test_a_very_large_quantity_on_the_received_page_is_computed_not_a_500(pact: Pact) -> None:
    """The customer's quantity field takes up to 40 characters; 10^39 kilogram gave a 500.
    10^39 kilogram × 1,850.5 kg CO2e / 1,000 kilogram = 1.8505 × 10^39 kg CO2e (FP-34)."""
    jan = pact.browser("jan")
    pf_id = entered(pact, jan)
    jan.post(f"/footprint/pact/fp/{pf_id}/share", {"customer": DE_VRIES})
    dirk = pact.browser("dirk")
    quantity = "1" + "0" * 39
    r = dirk.get(f"/footprint/pact/received/{pf_id}?quantity={quantity}")
    assert r.status_code == 200, r.text
    kg = Context(prec=60).divide(Decimal(quantity) * Decimal("1850.5"), Decimal(1000))
    assert kg == Decimal("18505") * Decimal(10) ** 35
    assert cells(r.text, "scope31")[0][3] == f"{int(kg):,}"
    assert JANSEN in r.text


# ----------------------------------------------------------------------------- form errors


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("lang", ["en", "nl"])
def test_a_too_long_deprecation_reason_is_refused_next_to_the_field(pact: Pact, lang: str) -> None:
    """A reason over 1,000 characters gave the bare "Request refused — comment: String should
    have at most 1000 characters" page (in English on the Dutch site) and lost what was typed;
    it is refused next to the field, in the page's language, the text kept, nothing changed."""
    jan = pact.browser("jan")
    pf_id = entered(pact, jan)
    jan.client.cookies.set("keten_lang", lang)
    reason = "x" * 1001
    r = jan.post(f"/footprint/pact/fp/{pf_id}/deprecate", {"comment": reason})
    assert r.status_code == 422
    words = {"en": "At most 1000 characters.", "nl": "Hoogstens 1000 tekens."}
    assert error(r.text, "comment") == words[lang]
    assert f'value="{reason}"' in r.text and 'maxlength="1000"' in r.text
    assert pact.owned(JANSEN) == [(pf_id, "Active", ())]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("lang", ["en", "nl"])
def test_a_deprecated_received_footprint_says_so_without_cli_words(pact: Pact, lang: str) -> None:
    """The customer's scope 3.1 of a deprecated footprint said "no active PACT footprint for
    product … (give it with --pact)": a CLI option the page has no field for. It says the
    footprint is deprecated and only an Active one counts (FP-33)."""
    jan = pact.browser("jan")
    pf_id = entered(pact, jan)
    jan.post(f"/footprint/pact/fp/{pf_id}/share", {"customer": DE_VRIES})
    jan.post(f"/footprint/pact/fp/{pf_id}/deprecate", {"comment": ""})
    dirk = pact.browser("dirk")
    dirk.client.cookies.set("keten_lang", lang)
    r = dirk.get(f"/footprint/pact/received/{pf_id}?quantity=5000")
    assert r.status_code == 422
    words = {
        "en": "This footprint is deprecated: only an Active footprint counts in scope 3.1 (FP-33).",
        "nl": "Deze footprint is vervallen: alleen een actieve footprint telt mee in scope 3.1 "
        "(FP-33).",
    }
    assert error(r.text, "quantity") == words[lang]
    assert "--pact" not in r.text.split("<form", 1)[1].split("</section>", 1)[0]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_entering_a_stored_product_and_period_again_points_to_the_correction(pact: Pact) -> None:
    """The same product and reference period with other figures has the stored footprint's id
    (FP-32). The form answered with the store's words for JSON uploads ("… publishing a new id
    that lists this one in precedingPfIds …"), which a person at the form cannot act on; it
    names the stored footprint, links to it and says to enter a correction there (FP-44)."""
    jan = pact.browser("jan")
    pf_id = entered(pact, jan)
    r = enter(jan, pcf_excluding_biogenic="1800")
    assert r.status_code == 422
    shown = form_error(r.text)
    assert "precedingPfIds" not in shown
    assert shown == (
        "HEA 200 beam already has a footprint for the reference period from 2025-01-01, with "
        "other figures. A stored footprint is not changed: open it and enter a correction."
    )
    assert f'href="/footprint/pact/fp/{pf_id}"' in r.text
    assert 'value="1800"' in r.text  # what was typed is kept
    assert [(i, s) for i, s, _shared in pact.owned(JANSEN)] == [(pf_id, "Active")]
    # deprecated by hand: no correction (FP-43); the form says how to go on
    jan.post(f"/footprint/pact/fp/{pf_id}/deprecate", {"comment": ""})
    jan.client.cookies.set("keten_lang", "nl")
    r = enter(jan, pcf_excluding_biogenic="1800")
    assert r.status_code == 422
    assert form_error(r.text) == (
        "HEA 200 beam heeft al een footprint voor de referentieperiode vanaf 01-01-2025; die is "
        "vervallen. Een nieuwe invoer met hetzelfde product en dezelfde periode zou dezelfde id "
        "krijgen (FP-32): kies een andere begindatum van de referentieperiode of upload een "
        "PACT-document met een nieuwe id."
    )
