"""Audit of what every page shares (the error handler of ``keten.web.app``, ``ui.export``,
``ui.roles``/``ui.holder_person`` and the CSV header check of ``keten.io.csvfile``): defects
found by the page audits, each pinned here by a test that failed before its fix.

No legal numbers: these are refusals only; every refused request changes nothing.
"""

from __future__ import annotations

import html as htmllib
import re

import sqlalchemy as sa
from web_site import PW, Browser, Site

from keten.store.models import Delivery


def signed_in(site: Site, username: str, lang: str) -> Browser:
    b = site.browser(username)
    b.client.cookies.set("keten_lang", lang)
    return b


def alert(page: str) -> str:
    """The one error of an error page (``error.html``)."""
    found = re.findall(r'<p class="error" role="alert">(.*?)</p>', page, re.S)
    assert len(found) == 1, page
    return htmllib.unescape(found[0])


def errors(page: str) -> list[str]:
    return [
        htmllib.unescape(e.strip()) for e in re.findall(r'class="error[^"]*"[^>]*>([^<]*)<', page)
    ]


def _deliveries(site: Site) -> int:
    with site.reg.ledger.sessions() as s:
        return int(s.execute(sa.select(sa.func.count()).select_from(Delivery)).scalar_one())


# ------------------------------------------------ 1. form and address validation in the language


def test_a_form_field_longer_than_allowed_is_refused_in_dutch(site: Site) -> None:
    """The page showed FastAPI's English 'year: String should have at most 10 characters'."""
    alice = signed_in(site, "alice", "nl")
    r = alice.post("/register/deliveries", {"year": "2026" * 5, "month": "5"})
    assert r.status_code == 422
    assert alert(r.text) == "veld 'year': ten hoogste 10 tekens"
    assert _deliveries(site) == 0


def test_a_form_field_longer_than_allowed_is_refused_in_english(site: Site) -> None:
    alice = signed_in(site, "alice", "en")
    r = alice.post("/register/deliveries", {"year": "2026", "quantity": "9" * 41})
    assert r.status_code == 422
    assert alert(r.text) == "field 'quantity': at most 40 characters"
    assert _deliveries(site) == 0


def test_an_address_part_that_is_not_a_number_is_refused_in_dutch(site: Site) -> None:
    """'path.holder_id: Input should be a valid integer, unable to parse string as an integer'."""
    nea = signed_in(site, "nea", "nl")
    r = nea.get("/register/regulator/holders/abc")
    assert r.status_code == 422
    assert alert(r.text) == "webadres, deel 'holder_id': geen geheel getal"


def test_an_address_part_that_is_not_a_number_is_refused_in_english(site: Site) -> None:
    alice = signed_in(site, "alice", "en")
    r = alice.post("/account/tokens/abc/revoke", {})
    assert r.status_code == 422
    assert alert(r.text) == "web address, part 'token_id': not a whole number"


def test_a_missing_form_field_is_named_in_dutch(site: Site) -> None:
    """The language switch posted without its field: 'lang: Field required'."""
    b = site.browser()
    r = b.post("/language", {})
    assert r.status_code == 422
    assert alert(r.text) == "veld 'lang': niet ingevuld"


def test_the_json_apis_keep_their_validation_answers_whatever_the_page_language(
    site: Site,
) -> None:
    token = site.reg.create_token(site.reg.login("alice", PW), "test", key="tok-alice")
    b = site.browser()
    b.client.cookies.set("keten_lang", "nl")
    r = b.get("/api/v1/bookings/abc", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 422
    assert r.json() == {
        "detail": [
            {
                "type": "int_parsing",
                "loc": ["path", "booking_id"],
                "msg": "Input should be a valid integer, unable to parse string as an integer",
                "input": "abc",
            }
        ]
    }


# ------------------------------------------------------------ 2. ui.export and ui.roles in Dutch


def test_an_unknown_export_format_is_refused_in_dutch(site: Site) -> None:
    """'unknown export format 'pdf' (csv or xlsx)' stayed English on the Dutch pages."""
    nea = signed_in(site, "nea", "nl")
    r = nea.get("/register/regulator/export/holders/pdf")
    assert r.status_code == 404
    assert alert(r.text) == "onbekend exportformaat 'pdf' (csv of xlsx)"
    anon = site.browser()
    r = anon.get("/nitrogen/sectors/export?fmt=pdf")
    assert r.status_code == 404
    assert alert(r.text) == "onbekend exportformaat 'pdf' (csv of xlsx)"


def test_a_page_of_another_role_is_refused_in_dutch(site: Site) -> None:
    """'alice (rekeningbevoegde) may not open this page' stayed English too."""
    alice = signed_in(site, "alice", "nl")
    r = alice.get("/register/regulator")
    assert r.status_code == 403
    assert alert(r.text) == "alice (rekeningbevoegde) mag deze pagina niet openen"
    nea = signed_in(site, "nea", "nl")
    r = nea.get("/register/deliveries")
    assert r.status_code == 403
    assert alert(r.text) == "nea (toezichthouder) handelt niet namens een rekeninghouder"


# ----------------------------------------------------- 3. files separated by semicolons: the reason


def test_a_calculator_file_separated_by_semicolons_says_so_in_dutch(site: Site) -> None:
    b = site.browser()
    b.client.cookies.set("keten_lang", "nl")
    b.get("/calculators")
    body = b"supplier;sector;fuel;quantity;unit\nA;land;diesel;1000;l\n"
    r = b.post(
        "/calculators/obligation",
        {"year": "2026", "scenario": "both"},
        files={"deliveries": ("mine.csv", body)},
    )
    assert r.status_code == 422
    assert (
        "mine.csv: kopregel: ontbrekende kolom(men) supplier, sector, fuel, quantity, unit; "
        "de kolommen zijn gescheiden door puntkomma's (;), gebruik komma's "
        "(verwacht supplier,sector,fuel,quantity,unit)"
    ) in errors(r.text)


def test_the_register_deliveries_file_uses_the_shared_header_check(site: Site) -> None:
    """The deliveries upload had its own copy of the semicolon check, with its own wording."""
    alice = signed_in(site, "alice", "en")

    def upload(body: str) -> list[str]:
        r = alice.post(
            "/register/deliveries/upload", files={"file": ("d.csv", body.encode(), "text/csv")}
        )
        assert r.status_code == 422
        return errors(r.text)

    assert upload("year;month;sector;fuel;quantity;unit\n2026;5;land;diesel;1000;l\n") == [
        "header: missing column(s) year, month, sector, fuel, quantity, unit; the columns are "
        "separated by semicolons (;), use commas (expected year,month,sector,fuel,quantity,unit)"
    ]
    assert upload("year,month,sector,fuel,qty,unit\n2026,5,land,diesel,1000,l\n") == [
        "header: missing column(s) quantity; unknown column(s) qty "
        "(expected year,month,sector,fuel,quantity,unit)"
    ]
    assert upload("month,year,sector,fuel,quantity,unit\n5,2026,land,diesel,1000,l\n") == [
        "The first line must be exactly: year,month,sector,fuel,quantity,unit."
    ]
    assert _deliveries(site) == 0


# ------------------------------------------------ 4. row ids beyond the database's INTEGER


HUGE = "99999999999999999999"  # > 2^63 − 1: SQLite raised OverflowError (a 500)


def test_a_row_id_too_large_for_the_database_is_refused_on_every_page(site: Site) -> None:
    """Found by the shared audit: /register/bookings/99999999999999999999 was a 500
    ('Python int too large to convert to SQLite INTEGER'); now a 422 naming the part."""
    alice = signed_in(site, "alice", "en")
    nea = signed_in(site, "nea", "nl")
    before = _deliveries(site)
    for b, method, url, part in [
        (alice, "get", f"/register/bookings/{HUGE}", "booking_id"),
        (alice, "post", f"/register/bookings/{HUGE}/decision", "item_id"),
        (alice, "post", f"/register/transfers/{HUGE}/decision", "item_id"),
        (alice, "post", f"/account/tokens/{HUGE}/revoke", "token_id"),
        (nea, "get", f"/register/regulator/holders/{HUGE}", "holder_id"),
        (nea, "get", f"/register/regulator/bookings/{HUGE}", "booking_id"),
    ]:
        r = b.get(url) if method == "get" else b.post(url, {})
        assert r.status_code == 422, (url, r.status_code)
        expected = (
            f"webadres, deel '{part}': buiten het bereik"
            if b is nea
            else f"web address, part '{part}': out of range"
        )
        assert alert(r.text) == expected, url
    assert _deliveries(site) == before


def test_a_row_id_too_large_for_the_database_is_a_422_in_the_json_api(site: Site) -> None:
    token = site.reg.create_token(site.reg.login("alice", PW), "test", key="tok-huge")
    b = site.browser()
    for i, (method, url) in enumerate(
        [
            ("get", f"/api/v1/bookings/{HUGE}"),
            ("post", f"/api/v1/bookings/{HUGE}/withdraw"),
            ("post", f"/api/v1/transfers/{HUGE}/withdraw"),
        ]
    ):
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": f"huge-{i}"}
        r = b.client.request(method.upper(), url, headers=headers)
        assert r.status_code == 422, (url, r.status_code, r.text)
        assert r.json()["detail"][0]["type"] == "less_than_equal"
