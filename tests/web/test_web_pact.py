"""An SME's PACT pages (/footprint/pact, issue 7): a ketenpartner of Staalbouw Jansen enters a
footprint through the form, shares it with Bouwbedrijf De Vries only, and De Vries' software
gets it from GET /3/footprints (Aannemer Smit's does not); uploads are all or nothing; another
organisation's footprint id is 404; other roles 403; every POST needs the CSRF token; a shared
footprint feeds the customer's scope 3.1 (FP-33, FP-34, FP-36, FP-37)."""

from __future__ import annotations

import html as html_lib
import json
import re
from decimal import Decimal
from typing import Any

import pytest
from web_site import PW, Browser, Site

from keten.footprint.pact_store import PactStore

JANSEN = "Staalbouw Jansen BV"
DE_VRIES = "Bouwbedrijf De Vries"
SMIT = "Aannemer Smit"
PEOPLE = {"jan": JANSEN, "dirk": DE_VRIES, "sam": SMIT}

#: the example footprint of docs/footprint.md (examples/footprint/pcf.csv) as form fields
ENTRY = {
    "product_id": "urn:jansen:product:hea200",
    "product_name": "HEA 200 beam",
    "product_description": "Hot-rolled steel beam HEA 200",
    "company_id": "urn:kvk:12345678",
    "declared_unit": "kilogram",
    "declared_amount": "1000",
    "mass_kg": "1000",
    "pcf_excluding_biogenic": "1850,5",  # Dutch notation is accepted
    "pcf_including_biogenic": "1850.5",
    "fossil_ghg": "1840",
    "fossil_carbon": "2.1",
    "reference_start": "2025-01-01",
    "reference_end": "2026-01-01",
    "standards": ["ISO14067", "PACT-3.0"],
    "country": "NL",
    "primary_data_share": "62.5",
    "dqr_technological": "2",
    "dqr_geographical": "1.5",
    "dqr_temporal": "1",
}


class Pact:
    """The organisations, their people and API clients on the site's database."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.store = PactStore(site.reg.ledger.sessions, clock=site.reg.clock)
        for org in (JANSEN, DE_VRIES, SMIT):
            self.store.create_org(org)
        for user, org in PEOPLE.items():
            site.reg.create_user(user, PW, "ketenpartner", None, actor="test", key=f"u-{user}")
            self.store.add_member(org, user)
        site.reg.create_user("kees", PW, "ketenpartner", None, actor="test", key="u-kees")
        self._api = site.browser()
        self.tokens: dict[str, str] = {}

    def browser(self, user: str) -> Browser:
        b = self.site.browser(user)
        b.client.cookies.set("keten_lang", "en")
        b.get("/footprint/pact")
        return b

    def token(self, org: str) -> str:
        if org not in self.tokens:
            cred = self.store.create_client(org, "erp")
            r = self._api.client.post(
                "/auth/token",
                data={"grant_type": "client_credentials"},
                auth=(cred.client_id, cred.client_secret),
            )
            assert r.status_code == 200, r.text
            self.tokens[org] = r.json()["access_token"]
        return self.tokens[org]

    def api(self, org: str, url: str) -> Any:
        r = self._api.client.get(url, headers={"Authorization": f"Bearer {self.token(org)}"})
        return r

    def ids(self, org: str) -> list[str]:
        r = self.api(org, "/3/footprints")
        assert r.status_code == 200, r.text
        return [fp["id"] for fp in r.json()["data"]]

    def owned(self, org: str) -> list[tuple[str, str, tuple[str, ...]]]:
        return [(f.pf_id, f.status, f.shared_with) for f in self.store.footprints_of(org)]


@pytest.fixture
def pact(site: Site) -> Pact:
    return Pact(site)


def cells(html: str, table: str) -> list[list[str]]:
    m = re.search(rf'<table data-table="{table}">.*?<tbody>(.*?)</tbody>', html, re.S)
    assert m, f"no table {table}"
    rows = re.findall(r"<tr>(.*?)</tr>", m.group(1), re.S)
    return [
        [
            " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", c)).split())
            for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)
        ]
        for r in rows
    ]


def error(html: str, name: str) -> str:
    m = re.search(rf'id="e-{name}" class="error">([^<]*)<', html)
    assert m, f"no error next to {name}"
    return html_lib.unescape(m.group(1))


def enter(b: Browser, **changes: Any) -> Any:
    data = {**ENTRY, **changes}
    return b.post("/footprint/pact/new", {k: v for k, v in data.items() if v is not None})


def entered(pact: Pact, b: Browser) -> str:
    r = enter(b)
    assert r.status_code == 303, r.text
    pf_id = r.headers["location"].rsplit("/", 1)[1]
    return pf_id


def footprint_doc(pf_id: str, product: str = "urn:jansen:product:ipe300", **pcf: str) -> Any:
    return {
        "id": pf_id,
        "specVersion": "3.0.3",
        "created": "2026-03-01T09:00:00Z",
        "status": "Active",
        "companyName": JANSEN,
        "companyIds": ["urn:kvk:12345678"],
        "productDescription": "",
        "productIds": [product],
        "productNameCompany": "IPE 300 beam",
        "pcf": {
            "declaredUnitOfMeasurement": "kilogram",
            "declaredUnitAmount": "1",
            "productMassPerDeclaredUnit": "1",
            "referencePeriodStart": "2025-01-01T00:00:00Z",
            "referencePeriodEnd": "2026-01-01T00:00:00Z",
            "pcfExcludingBiogenicUptake": "2.1",
            "pcfIncludingBiogenicUptake": "2.1",
            "fossilGhgEmissions": "2.1",
            "fossilCarbonContent": "0",
            "ipccCharacterizationFactors": ["AR6"],
            "crossSectoralStandards": ["ISO14067"],
            "exemptedEmissionsPercent": "0",
            **pcf,
        },
    }


ID1 = "11111111-1111-4111-8111-111111111111"
ID2 = "22222222-2222-4222-8222-222222222222"


# ----------------------------------------------------------------------------- enter and share


def test_entered_footprint_reaches_only_the_customer_it_is_shared_with(pact: Pact) -> None:
    jan = pact.browser("jan")
    pf_id = entered(pact, jan)
    page = jan.get(f"/footprint/pact/fp/{pf_id}")
    assert page.status_code == 200 and "The footprint is stored." in page.text
    # 1,850.5 kg CO2e for 1,000 kilogram = 1.8505 kg CO2e per kilogram (FP-34)
    overview = jan.get("/footprint/pact")
    assert cells(overview.text, "own") == [
        [
            "HEA 200 beam urn:jansen:product:hea200",
            "1,000 kilogram",
            "1,850.5",
            "1.8505",
            "Active",
            # validity: from referencePeriodEnd, 3 years when validityPeriodEnd is absent (FP-35)
            "2026-01-01 – 2029-01-01",
            "—",
        ]
    ]
    assert pact.ids(DE_VRIES) == [] and pact.ids(SMIT) == []
    r = jan.post(f"/footprint/pact/fp/{pf_id}/share", {"customer": DE_VRIES})
    assert r.status_code == 303
    assert pact.ids(DE_VRIES) == [pf_id]  # GET /3/footprints with De Vries' client token
    assert pact.ids(SMIT) == []  # not shared with Smit (FP-36)
    assert pact.api(SMIT, f"/3/footprints/{pf_id}").status_code == 404
    doc = pact.api(DE_VRIES, f"/3/footprints/{pf_id}").json()["data"]
    assert doc["companyName"] == JANSEN and doc["productIds"] == [ENTRY["product_id"]]
    assert doc["pcf"]["pcfExcludingBiogenicUptake"] == "1850.5"
    assert doc["pcf"]["dqi"] == {
        "technologicalDQR": "2",
        "geographicalDQR": "1.5",
        "temporalDQR": "1",
    }
    assert doc["pcf"]["crossSectoralStandards"] == ["ISO14067", "PACT-3.0"]
    assert doc["created"] == "2026-06-15T10:00:00Z"  # the site's clock
    assert cells(jan.get(f"/footprint/pact/fp/{pf_id}").text, "shares")[0][0] == DE_VRIES
    # De Vries' person sees it under "shared with us"; Smit's does not
    dirk = pact.browser("dirk")
    received = cells(dirk.get("/footprint/pact").text, "received")
    assert [row[:5] for row in received] == [
        [JANSEN, "HEA 200 beam urn:jansen:product:hea200", "1,000 kilogram", "1,850.5", "1.8505"]
    ]
    assert "No organisation has shared" in pact.browser("sam").get("/footprint/pact").text
    # stop sharing: gone from the API at once
    r = jan.post(f"/footprint/pact/fp/{pf_id}/unshare", {"customer": DE_VRIES})
    assert r.status_code == 303 and pact.ids(DE_VRIES) == []
    assert pact.owned(JANSEN) == [(pf_id, "Active", ())]


def test_the_same_entry_twice_is_stored_once(pact: Pact) -> None:
    jan = pact.browser("jan")
    first = entered(pact, jan)
    assert entered(pact, jan) == first  # id = uuid5(company, product, period) (FP-32)
    assert "stored already" in jan.get(f"/footprint/pact/fp/{first}").text
    assert len(pact.owned(JANSEN)) == 1


def test_entry_form_prefills_the_company_id(pact: Pact) -> None:
    jan = pact.browser("jan")
    page = jan.get("/footprint/pact/new")
    assert page.status_code == 200 and 'name="company_id" type="text" value=""' in page.text
    entered(pact, jan)
    page = jan.get("/footprint/pact/new")
    assert 'name="company_id" type="text" value="urn:kvk:12345678"' in page.text


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"product_id": "HEA200"}, "product_id", "is not a URN"),
        ({"company_id": "12345678"}, "company_id", "is not a URN"),
        ({"product_name": ""}, "product_name", "Fill in this field."),
        ({"declared_unit": "ton"}, "declared_unit", "Choose a declared unit"),
        ({"declared_amount": "0"}, "declared_amount", "must be greater than 0"),
        ({"declared_amount": "1.000,5"}, "declared_amount", "Enter a number"),
        ({"pcf_excluding_biogenic": "-1"}, "pcf_excluding_biogenic", "must not be negative"),
        ({"fossil_ghg": ""}, "fossil_ghg", "Fill in this field."),
        ({"reference_start": "2025-13-01"}, "reference_start", "Enter a date"),
        ({"reference_end": "2024-12-31"}, "reference_end", "must be after referencePeriodStart"),
        ({"standards": None}, "standards", "Choose at least one standard."),
        ({"standards": ["ISO9001"]}, "standards", "Choose standards from the list."),
        ({"country": "NLD"}, "country", "At most 2 characters."),
        ({"country": "N1"}, "country", "ISO 3166-1"),
        ({"primary_data_share": "101"}, "primary_data_share", "between 0 and 100"),
        ({"dqr_temporal": "6"}, "dqr_temporal", "1 to 5"),
        ({"dqr_temporal": ""}, "dqr_temporal", "all three data-quality ratings"),
    ],
)
def test_bad_entry_is_refused_next_to_the_field(
    pact: Pact, changes: dict[str, Any], field: str, words: str
) -> None:
    jan = pact.browser("jan")
    r = enter(jan, **changes)
    assert r.status_code == 422, r.text
    assert words in error(r.text, field)
    assert pact.owned(JANSEN) == []


def test_several_field_errors_at_once_keep_the_values(pact: Pact) -> None:
    jan = pact.browser("jan")
    r = enter(jan, mass_kg="abc", reference_end="", product_name="Balk X")
    assert r.status_code == 422
    assert "Enter a number" in error(r.text, "mass_kg")
    assert "Fill in this field." in error(r.text, "reference_end")
    assert 'value="Balk X"' in r.text and 'value="PACT-3.0" checked' in r.text


# ----------------------------------------------------------------------------- upload


def upload(b: Browser, payload: object | bytes, csrf: str | None = None) -> Any:
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return b.post(
        "/footprint/pact/upload",
        {},
        files={"file": ("jansen.json", data, "application/json")},
        csrf=csrf,
    )


def test_upload_stores_all_footprints_of_a_good_file(pact: Pact) -> None:
    jan = pact.browser("jan")
    doc = {"data": [footprint_doc(ID1), footprint_doc(ID2, "urn:jansen:product:ipe400")]}
    r = upload(jan, doc)
    assert r.status_code == 303, r.text
    assert (
        "2 footprint(s) read: 2 added, 0 unchanged, 0 deprecated."
        in jan.get("/footprint/pact").text
    )
    assert [i for i, _s, _c in pact.owned(JANSEN)] == [ID1, ID2]
    # the same file again changes nothing
    upload(jan, doc)
    assert "0 added, 2 unchanged" in jan.get("/footprint/pact").text


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe", "not UTF-8"),
        ({"data": []}, "no footprints"),
        # the second footprint is wrong: the first is not stored either (all or nothing)
        (
            {"data": [footprint_doc(ID1), footprint_doc(ID2, pcfExcludingBiogenicUptake="-2")]},
            "data[1].pcf.pcfExcludingBiogenicUptake: must not be negative",
        ),
        (
            {"data": [footprint_doc(ID1, declaredUnitAmount=1)]},  # a JSON number, not a string
            "data[0].pcf.declaredUnitAmount",
        ),
        ({"data": [footprint_doc(ID1, declaredUnitOfMeasurement="kg")]}, "is not a unit"),
        ({"data": [footprint_doc(ID1), footprint_doc(ID1)]}, "duplicate footprint id"),
    ],
)
def test_bad_upload_stores_nothing(pact: Pact, payload: object, words: str) -> None:
    jan = pact.browser("jan")
    r = upload(jan, payload)
    assert r.status_code == 422, r.text
    message = error(r.text, "file")
    assert message.startswith("Nothing was stored.") and words in message, message
    assert pact.owned(JANSEN) == []


def test_upload_cannot_take_over_another_organisations_footprint(pact: Pact) -> None:
    pact.store.add_footprints(SMIT, [footprint_doc(ID1)])
    jan = pact.browser("jan")
    r = upload(jan, {"data": [footprint_doc(ID2), footprint_doc(ID1)]})
    assert r.status_code == 422
    assert "belongs to another organisation" in error(r.text, "file")
    assert pact.owned(JANSEN) == [] and pact.owned(SMIT) == [(ID1, "Active", ())]


def test_upload_without_a_file(pact: Pact) -> None:
    jan = pact.browser("jan")
    r = jan.post("/footprint/pact/upload", {})
    assert r.status_code == 422 and "Choose a PACT JSON file." in error(r.text, "file")


# ----------------------------------------------------------------------------- share, deprecate


def test_share_only_with_existing_other_organisations(pact: Pact) -> None:
    pact.store.add_footprints(JANSEN, [footprint_doc(ID1)])
    jan = pact.browser("jan")
    page = jan.get(f"/footprint/pact/fp/{ID1}")
    options = re.findall(r'<option value="([^"]*)"', page.text)
    assert options == ["", SMIT, DE_VRIES]  # the known organisations except Jansen itself
    for customer, words in (
        ("Nobody BV", "is not a known organisation"),
        (JANSEN, "always sees its own"),
        ("", "Choose a customer."),
    ):
        r = jan.post(f"/footprint/pact/fp/{ID1}/share", {"customer": customer})
        assert r.status_code == 422 and words in error(r.text, "customer"), customer
    r = jan.post(f"/footprint/pact/fp/{ID1}/unshare", {"customer": SMIT})
    assert r.status_code == 422 and "not shared with" in r.text
    assert pact.owned(JANSEN) == [(ID1, "Active", ())]
    assert jan.post(f"/footprint/pact/fp/{ID1}/share", {"customer": SMIT}).status_code == 303
    assert jan.post(f"/footprint/pact/fp/{ID1}/share", {"customer": SMIT}).status_code == 303
    assert "shared with Aannemer Smit already" in jan.get(f"/footprint/pact/fp/{ID1}").text
    assert pact.owned(JANSEN) == [(ID1, "Active", (SMIT,))]


def test_deprecate_keeps_the_footprint_for_customers_marked_deprecated(pact: Pact) -> None:
    pact.store.add_footprints(JANSEN, [footprint_doc(ID1)])
    pact.store.share(JANSEN, [ID1], DE_VRIES)
    jan = pact.browser("jan")
    r = jan.post(f"/footprint/pact/fp/{ID1}/deprecate", {"comment": "new process"})
    assert r.status_code == 303
    doc = pact.api(DE_VRIES, f"/3/footprints/{ID1}").json()["data"]
    assert doc["status"] == "Deprecated" and doc["statusComment"] == "new process"  # FP-37
    assert pact.ids(DE_VRIES) == [ID1]
    r = jan.post(f"/footprint/pact/fp/{ID1}/deprecate", {"comment": ""})
    assert (
        r.status_code == 303 and "deprecated already" in jan.get(f"/footprint/pact/fp/{ID1}").text
    )
    assert cells(jan.get("/footprint/pact").text, "own")[0][4] == "Deprecated"


def test_export_is_the_pact_document(pact: Pact) -> None:
    pact.store.add_footprints(JANSEN, [footprint_doc(ID1)])
    pact.store.share(JANSEN, [ID1], DE_VRIES)
    for user in ("jan", "dirk"):  # the owner and the customer it is shared with
        r = pact.browser(user).get(f"/footprint/pact/fp/{ID1}/export.json")
        assert r.status_code == 200 and r.headers["content-type"] == "application/json"
        assert "attachment" in r.headers["content-disposition"]
        assert r.json() == footprint_doc(ID1)
    assert pact.browser("sam").get(f"/footprint/pact/fp/{ID1}/export.json").status_code == 404


# ----------------------------------------------------------------------------- authorisation


def test_another_organisations_footprint_is_404_on_every_action(pact: Pact) -> None:
    pact.store.add_footprints(SMIT, [footprint_doc(ID1)])
    pact.store.share(SMIT, [ID1], DE_VRIES)
    jan = pact.browser("jan")
    for url in (f"/footprint/pact/fp/{ID1}", f"/footprint/pact/fp/{ID1}/export.json"):
        assert jan.get(url).status_code == 404, url
    assert jan.get(f"/footprint/pact/received/{ID1}").status_code == 404  # not shared with Jansen
    for action, data in (
        ("share", {"customer": JANSEN}),
        ("unshare", {"customer": DE_VRIES}),
        ("deprecate", {"comment": "x"}),
    ):
        r = jan.post(f"/footprint/pact/fp/{ID1}/{action}", data)
        assert r.status_code == 404, action
    # De Vries received it but does not own it: it cannot change it either
    dirk = pact.browser("dirk")
    assert dirk.get(f"/footprint/pact/received/{ID1}").status_code == 200
    assert dirk.post(f"/footprint/pact/fp/{ID1}/deprecate", {}).status_code == 404
    assert dirk.post(f"/footprint/pact/fp/{ID1}/unshare", {"customer": DE_VRIES}).status_code == 404
    assert jan.get("/footprint/pact/fp/not-an-id").status_code == 404
    assert pact.owned(SMIT) == [(ID1, "Active", (DE_VRIES,))]


@pytest.mark.parametrize("user", ["alice", "vera", "nea"])
def test_other_roles_are_refused(site: Site, pact: Pact, user: str) -> None:
    b = site.browser(user)
    assert b.get("/footprint/pact").status_code == 403
    assert b.get("/footprint/pact/new").status_code == 403
    assert enter(b).status_code == 403
    assert pact.owned(JANSEN) == []


def test_a_ketenpartner_without_an_organisation_is_refused(pact: Pact) -> None:
    kees = pact.browser("kees")
    r = kees.get("/footprint/pact")
    assert r.status_code == 403 and "not a member of a PACT organisation" in r.text
    assert enter(kees).status_code == 403


def test_anonymous_visitors_are_sent_to_login(site: Site, pact: Pact) -> None:
    anon = site.browser()
    for url in ("/footprint/pact", "/footprint/pact/new", f"/footprint/pact/fp/{ID1}"):
        r = anon.get(url)
        assert r.status_code == 303 and r.headers["location"].startswith("/login"), url
    assert enter(anon).status_code == 303
    assert pact.owned(JANSEN) == []


def test_every_post_needs_the_csrf_token(pact: Pact) -> None:
    pact.store.add_footprints(JANSEN, [footprint_doc(ID1)])
    pact.store.share(JANSEN, [ID1], SMIT)
    jan = pact.browser("jan")
    posts = [
        ("/footprint/pact/new", ENTRY),
        (f"/footprint/pact/fp/{ID1}/share", {"customer": DE_VRIES}),
        (f"/footprint/pact/fp/{ID1}/unshare", {"customer": SMIT}),
        (f"/footprint/pact/fp/{ID1}/deprecate", {"comment": "x"}),
    ]
    for csrf in ("wrong", ""):
        for url, data in posts:
            r = jan.post(url, data, csrf=csrf)
            assert r.status_code == 403 and "did not come from this site" in r.text, url
        r = upload(jan, {"data": [footprint_doc(ID2)]}, csrf=csrf)
        assert r.status_code == 403
    assert pact.owned(JANSEN) == [(ID1, "Active", (SMIT,))]


# ----------------------------------------------------------------------------- scope 3.1


def test_a_shared_footprint_feeds_the_customers_scope_3_1(pact: Pact) -> None:
    jan = pact.browser("jan")
    pf_id = entered(pact, jan)
    jan.post(f"/footprint/pact/fp/{pf_id}/share", {"customer": DE_VRIES})
    dirk = pact.browser("dirk")
    page = dirk.get(f"/footprint/pact/received/{pf_id}")
    assert page.status_code == 200 and 'data-table="scope31"' not in page.text
    # supplier-specific (FP-34): 5,000 kg × 1,850.5 kg CO2e / 1,000 kg = 9,252.5 kg CO2e,
    # the figure of docs/footprint.md and of keten footprint scope3 with this footprint
    r = dirk.get(f"/footprint/pact/received/{pf_id}?quantity=5000")
    assert r.status_code == 200
    assert "5000 kilogram × 1850.5 kg CO2e / 1000 kilogram =" in html_lib.unescape(r.text)
    assert cells(r.text, "scope31") == [
        [
            JANSEN,
            "HEA 200 beam",
            "5,000 kilogram",
            "9,252.5",
            "100",  # all primary (supplier) data (FP-23)
            f"PACT footprint {pf_id} (FP-34)",
        ]
    ]
    # Dutch notation: 2,5 kg × 1,8505 = 4,62625 kg CO2e
    r = dirk.get(f"/footprint/pact/received/{pf_id}?quantity=2,5")
    assert cells(r.text, "scope31")[0][3] == "4.62625"
    assert Decimal("2.5") * Decimal("1850.5") / Decimal("1000") == Decimal("4.62625")
    for bad in ("-1", "veel", "1.0000001"):
        r = dirk.get(f"/footprint/pact/received/{pf_id}?quantity={bad}")
        assert r.status_code == 422 and "Enter a quantity" in error(r.text, "quantity"), bad
    # deprecated: no longer counts in scope 3.1 (FP-33)
    jan.post(f"/footprint/pact/fp/{pf_id}/deprecate", {"comment": ""})
    r = dirk.get(f"/footprint/pact/received/{pf_id}?quantity=5000")
    assert r.status_code == 422 and "This footprint is deprecated" in error(r.text, "quantity")
    # the owner's own footprint is not a received one
    assert jan.get(f"/footprint/pact/received/{pf_id}").status_code == 404


def test_pages_speak_dutch(pact: Pact) -> None:
    jan = pact.browser("jan")
    jan.client.cookies.set("keten_lang", "nl")
    page = jan.get("/footprint/pact")
    assert page.status_code == 200 and 'lang="nl"' in page.text
    assert "PACT-footprints van Staalbouw Jansen BV" in page.text
    pf_id = entered(pact, jan)
    assert "1,8505" in jan.get("/footprint/pact").text  # Dutch number notation
    assert "Delen" in jan.get(f"/footprint/pact/fp/{pf_id}").text


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_pages_are_labelled_and_structured(pact: Pact) -> None:
    from test_web_accessibility import _check

    jan = pact.browser("jan")
    pf_id = entered(pact, jan)
    jan.post(f"/footprint/pact/fp/{pf_id}/share", {"customer": DE_VRIES})
    dirk = pact.browser("dirk")
    pages = [
        (jan, "/footprint/pact"),
        (jan, "/footprint/pact/new"),
        (jan, f"/footprint/pact/fp/{pf_id}"),
        (dirk, "/footprint/pact"),
        (dirk, f"/footprint/pact/received/{pf_id}?quantity=5000"),
    ]
    problems = []
    for b, url in pages:
        r = b.get(url)
        assert r.status_code == 200, url
        problems += _check(url, r.text)
    r = enter(jan, mass_kg="x", standards=None)
    problems += _check("/footprint/pact/new (errors)", r.text)
    assert problems == []
