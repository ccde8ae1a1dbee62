"""Audit of the MKI pages as a user meets them (2026 web audit): very large numbers, a date the
prices do not cover, and the notes of a variant comparison.

Prices used (``params/mki/set-2/weights.yaml``, valid from 2024-07-01): GWP-total 0.116 EUR/kg
CO2 eq; data category 1 adds no surcharge (``mki.surcharge.category_1`` = 0 %).
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from web_site import Browser, make_registry

from keten.web.app import create_web_app

DAY = "2025-09-01"
PROFILES = "product_id,unit,data_category,module,indicator,value\n"
PROJECT_HEAD = "element_id,product_id,quantity,service_life_years\n"
BIDS = "bidder,price_eur,mki_eur\nA,1000000,150000\nB,1050000,100000\n"
TENDER = {
    "source": "upload",
    "method": "both",
    "factor": "2",
    "upper": "200000",
    "lower": "100000",
    "max_discount": "80000",
}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    db = tmp_path_factory.mktemp("mki-audit") / "k.db"
    app = create_web_app(make_registry(f"sqlite:///{db}"))
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as c:
        yield c


def browser(client: TestClient, lang: str = "en") -> Browser:
    client.cookies.clear()
    client.cookies.set("keten_lang", lang)
    b = Browser(client, None)
    b.get("/mki")
    return b


def files(**texts: str) -> dict[str, tuple[str, bytes, str]]:
    return {k: (f"{k}.csv", v.encode(), "text/csv") for k, v in texts.items()}


def error(page: str, name: str) -> str:
    m = re.search(rf'id="e-{name}" class="error[^"]*">([^<]*)<', page)
    assert m, f"no error next to {name}"
    return html_lib.unescape(m.group(1))


# ----------------------------------------------------------------------------- large numbers


def test_a_huge_reference_period_is_refused_next_to_its_field(client: TestClient) -> None:
    """A 26-digit period used to end in "Internal Server Error" (500)."""
    b = browser(client)
    r = b.post(
        "/mki",
        {"source": "example", "weighting_set": "2", "date": DAY, "period": "9" * 26},
    )
    assert r.status_code == 422
    assert error(r.text, "period") == "too large (limit 1,000,000,000,000,000)"
    assert "data-total" not in r.text


@pytest.mark.parametrize("field", ["factor", "upper", "max_discount"])
def test_huge_tender_parameters_are_refused_next_to_their_field(
    client: TestClient, field: str
) -> None:
    """A 32-digit factor, bound or discount used to end in a 500."""
    b = browser(client)
    r = b.post("/mki/tender", {**TENDER, field: "9" * 32}, files=files(bids=BIDS))
    assert r.status_code == 422
    assert error(r.text, field) == "too large (limit 1,000,000,000,000,000)"
    assert 'data-table="award-' not in r.text


def test_a_huge_tender_parameter_is_refused_in_dutch(client: TestClient) -> None:
    b = browser(client, "nl")
    r = b.post("/mki/tender", {**TENDER, "factor": "9" * 32}, files=files(bids=BIDS))
    assert r.status_code == 422
    assert error(r.text, "factor") == "te groot (grens 1,000,000,000,000,000)"


def test_the_largest_amounts_the_files_allow_are_computed_and_shown(client: TestClient) -> None:
    """Quantity and profile value each just under the readers' bound of 10^15 (MAX_AMOUNT):
    MKI = (10^15 − 1)² kg CO2 eq × 0.116 EUR/kg × (1 + 0 %) × r 1
        = 999999999999998000000000000001 × 0.116 = 115999999999999768000000000000.116 EUR.
    A result of more than 28 digits used to end in a 500 (display rounding in the default
    28-digit decimal context)."""
    b = browser(client)
    big = "999999999999999"
    r = b.post(
        "/mki",
        {"source": "upload", "weighting_set": "2", "date": DAY},
        files=files(
            project=PROJECT_HEAD + f"e,p,{big},100\n",
            profiles=PROFILES + f"p,m3,1,A1-A3,GWP-total,{big}\n",
        ),
    )
    assert r.status_code == 200, r.text[:300]
    assert 'data-total="mki">115,999,999,999,999,768,000,000,000,000.116 EUR' in r.text


def test_a_profile_value_with_a_huge_exponent_is_refused(client: TestClient) -> None:
    """EPD notation allows exponents (MKI-15); 2.5E+99 kg CO2 eq per m3 is no profile value and
    used to end in a 500. The reader's sanity bound of amounts applies to profile values too."""
    b = browser(client)
    r = b.post(
        "/mki",
        {"source": "upload", "weighting_set": "2", "date": DAY},
        files=files(
            project=PROJECT_HEAD + "e,p,10,100\n",
            profiles=PROFILES + "p,m3,1,A1-A3,GWP-total,2.5E+99\n",
        ),
    )
    assert r.status_code == 422
    assert error(r.text, "profiles") == (
        "profiles.csv, row 1, field 'value': too large (limit 1,000,000,000,000,000)"
    )


# ----------------------------------------------------------------------------- dates


def test_a_date_before_the_prices_is_refused_next_to_the_date(client: TestClient) -> None:
    """Set 2 prices start on 2024-07-01: the refusal belongs to the date field, not to the
    top of the form."""
    b = browser(client)
    r = b.post("/mki", {"source": "example", "weighting_set": "2", "date": "2024-06-30"})
    assert r.status_code == 422
    assert "has no value on 2024-06-30" in error(r.text, "date")
    assert 'class="error form-error"' not in r.text


def test_an_unknown_price_stays_a_form_error(client: TestClient) -> None:
    """The six set-2 prices not found (PM, …) are unknown on every date: not the date's fault."""
    b = browser(client)
    r = b.post(
        "/mki",
        {"source": "upload", "weighting_set": "2", "date": DAY},
        files=files(
            project=PROJECT_HEAD + "e,p,10,100\n", profiles=PROFILES + "p,m3,1,A1-A3,PM,1\n"
        ),
    )
    assert r.status_code == 422
    assert 'id="e-date"' not in r.text
    assert "mki.weight.PM" in r.text


# ----------------------------------------------------------------------------- compare


def test_compare_notes_say_which_variant_they_are_about(client: TestClient) -> None:
    """Variant A (examples/mki/project.csv) leaves out module D of fundering: −10 kg × 0.116 ×
    100 m3 = −116 EUR; variant B (variant.csv, CEM III without module D) leaves out 0 EUR. The
    page showed both notes without saying which variant each was about."""
    b = browser(client)
    r = b.post(
        "/mki/compare", {"source": "example", "weighting_set": "2", "date": DAY, "period": "100"}
    )
    assert r.status_code == 200
    block = re.search(r'<ul class="notes">(.*?)</ul>', r.text, re.S)
    assert block
    notes = [html_lib.unescape(n) for n in re.findall(r"<li>([^<]*)</li>", block.group(1))]
    assert "Variant A: module D excluded (default, MKI-08): -116 EUR not counted" in notes
    assert "Variant B: module D excluded (default, MKI-08): 0 EUR not counted" in notes
    assert all(n.startswith(("Variant A: ", "Variant B: ", "Variants A and B: ")) for n in notes)


def test_the_comparison_of_large_variants_is_exact(client: TestClient) -> None:
    """Prices: set 2, GWP-total 0.116 EUR/kg CO2 eq, category 1 (+0 %), r = 1.
    A: 999999999999999 m3 × 999999999999999 kg × 0.116 = 115999999999999768000000000000.116
    B: 999999999999998 m3 × 999999999999999 kg × 0.116 = 115999999999999652000000000000.232
    B − A = −999999999999999 × 0.116 = −115999999999999.884 EUR. The total and the difference
    were rounded to 28 digits (the default context), so B − A read −116000000000000."""
    b = browser(client)
    big = "999999999999999"
    r = b.post(
        "/mki/compare",
        {"source": "upload", "weighting_set": "2", "date": DAY},
        files=files(
            project=PROJECT_HEAD + f"e,p,{big},100\n",
            variant=PROJECT_HEAD + "e,p,999999999999998,100\n",
            profiles=PROFILES + f"p,m3,1,A1-A3,GWP-total,{big}\n",
        ),
    )
    assert r.status_code == 200, r.text[:300]
    assert 'data-total="a">115,999,999,999,999,768,000,000,000,000.116 EUR' in r.text
    assert 'data-total="b">115,999,999,999,999,652,000,000,000,000.232 EUR' in r.text
    assert 'data-total="difference">-115,999,999,999,999.884 EUR' in r.text


def test_compare_notes_name_the_variant_in_dutch(client: TestClient) -> None:
    """The note itself stays English (docs/web.md: notes of results); its variant is Dutch."""
    b = browser(client, "nl")
    r = b.post(
        "/mki/compare", {"source": "example", "weighting_set": "2", "date": DAY, "period": "100"}
    )
    assert r.status_code == 200
    assert "<li>Variant A: module D excluded (default, MKI-08): -116 EUR not counted</li>" in r.text
    assert "<li>Varianten A en B: uses values not read in an authoritative source: " in r.text
