"""Correcting a footprint on the SME's PACT pages (/footprint/pact/fp/{id}/correct, issue 7):
the form starts from the original; the correction is a new footprint with precedingPfIds =
[original] (PACT v3 decision 0041), the original becomes Deprecated and every customer it was
shared with gets the correction on GET /3/footprints (FP-44); a deprecated footprint cannot be
corrected (FP-43); another organisation's footprint is 404 (FP-36); other roles 403; the POST
needs the CSRF token; bad input changes nothing. On SQLite and PostgreSQL (the ``site`` fixture)."""

from __future__ import annotations

import html as html_lib
import re
import uuid
from typing import Any

import pytest
from test_web_pact import (
    DE_VRIES,
    ENTRY,
    ID1,
    ID2,
    JANSEN,
    SMIT,
    Pact,
    cells,
    entered,
    error,
    footprint_doc,
    upload,
)
from web_site import Browser, Site

CREATED = "2026-06-15T10:00:00Z"  # the site's clock


@pytest.fixture
def pact(site: Site) -> Pact:
    return Pact(site)


def correct(b: Browser, pf_id: str, csrf: str | None = None, **changes: Any) -> Any:
    data = {**ENTRY, "comment": "wrong allocation", **changes}
    return b.post(
        f"/footprint/pact/fp/{pf_id}/correct",
        {k: v for k, v in data.items() if v is not None},
        csrf=csrf,
    )


def successor_id(original: str) -> str:
    """FP-44: uuid5(URL, company id | product id | reference start | preceding ids)."""
    name = f"urn:kvk:12345678|urn:jansen:product:hea200|2025-01-01T00:00:00Z|{original}"
    return str(uuid.uuid5(uuid.NAMESPACE_URL, name))


def shared_original(pact: Pact) -> tuple[Browser, str]:
    jan = pact.browser("jan")
    pf_id = entered(pact, jan)
    assert jan.post(f"/footprint/pact/fp/{pf_id}/share", {"customer": DE_VRIES}).status_code == 303
    return jan, pf_id


def test_a_correction_replaces_the_original_for_its_customers(pact: Pact) -> None:
    jan, original = shared_original(pact)
    form = jan.get(f"/footprint/pact/fp/{original}/correct")
    assert form.status_code == 200
    for name, value in (
        ("product_id", "urn:jansen:product:hea200"),
        ("pcf_excluding_biogenic", "1850.5"),
        ("reference_start", "2025-01-01"),
        ("dqr_geographical", "1.5"),
        ("country", "NL"),
    ):
        assert re.search(rf'name="{name}" type="\w+" value="{re.escape(value)}"', form.text), name
    assert 'value="PACT-3.0" checked' in form.text and 'value="PEF" checked' not in form.text
    # the correction: 1,800 kg CO2e instead of 1,850.5 for 1,000 kilogram
    r = correct(jan, original, pcf_excluding_biogenic="1800", pcf_including_biogenic="1800")
    assert r.status_code == 303, r.text
    new = r.headers["location"].rsplit("/", 1)[1]
    assert new == successor_id(original) != original
    page = jan.get(f"/footprint/pact/fp/{new}")
    assert "Bouwbedrijf De Vries now see the correction as well." in html_lib.unescape(page.text)
    assert f'href="/footprint/pact/fp/{original}"' in page.text  # "Corrects"
    old_page = jan.get(f"/footprint/pact/fp/{original}").text
    assert f'href="/footprint/pact/fp/{new}"' in old_page  # "Corrected by"
    assert "/correct" not in old_page  # no correction link on a deprecated footprint
    assert pact.owned(JANSEN) == [
        (original, "Deprecated", (DE_VRIES,)),
        (new, "Active", (DE_VRIES,)),
    ]
    # De Vries' software sees both: the original marked Deprecated, the correction Active
    assert pact.ids(DE_VRIES) == [original, new]
    assert pact.ids(SMIT) == [] and pact.api(SMIT, f"/3/footprints/{new}").status_code == 404
    old = pact.api(DE_VRIES, f"/3/footprints/{original}").json()["data"]
    assert old["status"] == "Deprecated"
    assert old["statusComment"] == f"Corrected by footprint {new}: wrong allocation"
    doc = pact.api(DE_VRIES, f"/3/footprints/{new}").json()["data"]
    assert doc["precedingPfIds"] == [original] and doc["status"] == "Active"
    assert doc["pcf"]["pcfExcludingBiogenicUptake"] == "1800" and doc["created"] == CREATED
    active = pact.api(DE_VRIES, "/3/footprints?status=Active").json()["data"]
    assert [d["id"] for d in active] == [new]
    # De Vries' scope 3.1 now uses the correction (FP-33: only Active counts):
    # 5,000 kilogram × 1,800 kg CO2e / 1,000 kilogram = 9,000 kg CO2e (was 9,252.5)
    dirk = pact.browser("dirk")
    row = cells(dirk.get(f"/footprint/pact/received/{new}?quantity=5000").text, "scope31")[0]
    assert row[3] == "9,000" and row[5] == f"PACT footprint {new} (FP-34)"
    r = dirk.get(f"/footprint/pact/received/{original}?quantity=5000")
    assert r.status_code == 422 and "This footprint is deprecated" in error(r.text, "quantity")


def test_the_same_correction_twice_is_stored_once(pact: Pact) -> None:
    jan, original = shared_original(pact)
    first = correct(jan, original, pcf_excluding_biogenic="1800")
    again = correct(jan, original, pcf_excluding_biogenic="1800")
    assert again.status_code == 303
    assert again.headers["location"] == first.headers["location"]
    new = first.headers["location"].rsplit("/", 1)[1]
    assert "stored already, unchanged" in jan.get(f"/footprint/pact/fp/{new}").text
    assert [s for _i, s, _c in pact.owned(JANSEN)] == ["Deprecated", "Active"]


def test_a_deprecated_footprint_cannot_be_corrected(pact: Pact) -> None:
    """FP-43: the original of a correction, or a footprint deprecated by hand."""
    jan, original = shared_original(pact)
    assert correct(jan, original, pcf_excluding_biogenic="1800").status_code == 303
    before = pact.owned(JANSEN)
    r = jan.get(f"/footprint/pact/fp/{original}/correct")
    assert r.status_code == 422 and "(FP-43)" in r.text
    r = correct(jan, original, pcf_excluding_biogenic="1700")
    assert r.status_code == 422 and "is deprecated" in r.text and "(FP-43)" in r.text
    assert pact.owned(JANSEN) == before
    pact.store.add_footprints(JANSEN, [footprint_doc(ID1)])
    jan.post(f"/footprint/pact/fp/{ID1}/deprecate", {"comment": "withdrawn"})
    assert jan.get(f"/footprint/pact/fp/{ID1}/correct").status_code == 422
    assert correct(jan, ID1).status_code == 422
    assert len(pact.owned(JANSEN)) == 3


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"pcf_excluding_biogenic": "-1"}, "pcf_excluding_biogenic", "must not be negative"),
        ({"declared_amount": "veel"}, "declared_amount", "Enter a number"),
        ({"reference_end": "2024-01-01"}, "reference_end", "must be after"),
        ({"product_id": "HEA200"}, "product_id", "is not a URN"),
        ({"comment": "x" * 1001}, "comment", "At most 1000 characters."),
    ],
)
def test_bad_correction_changes_nothing(
    pact: Pact, changes: dict[str, str], field: str, words: str
) -> None:
    jan, original = shared_original(pact)
    r = correct(jan, original, **changes)
    assert r.status_code == 422, r.text
    assert words in error(r.text, field)
    assert pact.owned(JANSEN) == [(original, "Active", (DE_VRIES,))]
    assert pact.ids(DE_VRIES) == [original]


def test_another_organisations_footprint_cannot_be_corrected(pact: Pact) -> None:
    pact.store.add_footprints(SMIT, [footprint_doc(ID1)])
    pact.store.share(SMIT, [ID1], JANSEN)  # even when shared with Jansen (FP-36)
    jan = pact.browser("jan")
    assert jan.get(f"/footprint/pact/fp/{ID1}/correct").status_code == 404
    assert correct(jan, ID1).status_code == 404
    assert jan.get(f"/footprint/pact/fp/{ID2}/correct").status_code == 404  # does not exist
    assert pact.owned(SMIT) == [(ID1, "Active", (JANSEN,))] and pact.owned(JANSEN) == []


@pytest.mark.parametrize("user", ["alice", "vera", "nea"])
def test_other_roles_are_refused(site: Site, pact: Pact, user: str) -> None:
    pact.store.add_footprints(JANSEN, [footprint_doc(ID1)])
    b = site.browser(user)
    assert b.get(f"/footprint/pact/fp/{ID1}/correct").status_code == 403
    assert correct(b, ID1).status_code == 403
    assert pact.owned(JANSEN) == [(ID1, "Active", ())]


def test_anonymous_and_csrf(site: Site, pact: Pact) -> None:
    pact.store.add_footprints(JANSEN, [footprint_doc(ID1)])
    anon = site.browser()
    r = anon.get(f"/footprint/pact/fp/{ID1}/correct")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    jan = pact.browser("jan")
    for token in ("wrong", ""):
        r = correct(jan, ID1, csrf=token)
        assert r.status_code == 403 and "did not come from this site" in r.text
    assert pact.owned(JANSEN) == [(ID1, "Active", ())]


def test_fields_the_form_does_not_carry_are_named(pact: Pact) -> None:
    doc = footprint_doc(ID1)
    doc["productClassifications"] = ["urn:pact:cpc:4121"]
    doc["pcf"]["biogenicCarbonContent"] = "0"
    pact.store.add_footprints(JANSEN, [doc])
    page = pact.browser("jan").get(f"/footprint/pact/fp/{ID1}/correct")
    assert page.status_code == 200
    assert "<code>productClassifications, pcf.biogenicCarbonContent</code>" in page.text
    assert 'name="declared_amount" type="text" value="1"' in page.text


def test_upload_accepts_preceding_ids_without_deprecating(pact: Pact) -> None:
    """The JSON upload already takes precedingPfIds (validated as UUIDs, FP-31); loading a
    successor does not deprecate its predecessor by itself (FP-37)."""
    jan = pact.browser("jan")
    assert upload(jan, {"data": [footprint_doc(ID1)]}).status_code == 303
    successor = {**footprint_doc(ID2), "precedingPfIds": [ID1]}
    assert upload(jan, {"data": [successor]}).status_code == 303
    assert pact.owned(JANSEN) == [(ID1, "Active", ()), (ID2, "Active", ())]
    page = jan.get(f"/footprint/pact/fp/{ID2}").text
    assert f'href="/footprint/pact/fp/{ID1}"' in page
    bad = {**footprint_doc("33333333-3333-4333-8333-333333333333"), "precedingPfIds": ["x"]}
    r = upload(jan, {"data": [bad]})
    assert r.status_code == 422 and "precedingPfIds[0]: 'x' is not a UUID" in error(r.text, "file")
    assert len(pact.owned(JANSEN)) == 2


def test_correction_pages_speak_dutch_and_are_accessible(pact: Pact) -> None:
    from test_web_accessibility import _check

    jan, original = shared_original(pact)
    jan.client.cookies.set("keten_lang", "nl")
    page = jan.get(f"/footprint/pact/fp/{original}/correct")
    assert page.status_code == 200 and "De correctie opslaan" in page.text
    assert "Een correctie invoeren" in jan.get(f"/footprint/pact/fp/{original}").text
    problems = _check("/footprint/pact/fp/…/correct", page.text)
    bad = correct(jan, original, mass_kg="x", standards=None)
    problems += _check("/footprint/pact/fp/…/correct (errors)", bad.text)
    assert correct(jan, original).status_code == 303
    problems += _check(
        "/footprint/pact/fp/… (corrected)", jan.get(f"/footprint/pact/fp/{original}").text
    )
    assert problems == []
    assert [s for _i, s, _c in pact.owned(JANSEN)] == ["Deprecated", "Active"]
