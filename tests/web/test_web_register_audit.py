"""Defects found by using the register pages as their users would (audit of the web pages of
the register, the regulator and the verifier), each pinned by a test that failed before its fix.

Numbers (parameter set bijlage-1, clock 2026-06-15, see ``web_site.py``):

* Booking HVO: 100,000 l HVO at 14 gCO2e/MJ, land/annex-ixa: 100,000 l × 34 MJ/l
  (ev.lhv.hvo.per_l) = 3,400,000 MJ; units (EV-06) = 3,400,000 × (94 − 14) / 1000 = 272,000 ERE.
* Delivery: 50,000 l diesel to land: 50,000 l × 36 MJ/l (ev.lhv.diesel.per_l) = 1,800,000 MJ;
  obligation (EV-01, Bijlage 1 table Land 2026, Totaal 14,4 %) = 1,800,000 × 94 × 14.4 % / 1000
  = 24,364.8 → 24,365 ERE (round half up, EV-03).
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from test_web_register import HVO  # the same booking as the page tests
from web_site import PW, Site

from keten.core.errors import KetenError
from keten.registry import closing
from keten.registry.service import BookingInput
from keten.store.models import Booking, Closing, Delivery, Hold, Movement, Transfer

REG = "/register/regulator"
DIESEL = {
    "year": "2026",
    "month": "5",
    "sector": "land",
    "fuel": "diesel",
    "quantity": "50000",
    "unit": "l",
}
DELIVERY_HEADER = "year,month,sector,fuel,quantity,unit\n"
SESSIONS = (
    "connection_id,meter_id,period_start,period_end,kwh,own_generation\n"
    "EAN1,M1,2026-01-01,2026-01-31,1000,no\n"
)


def _count(site: Site, model: type) -> int:
    with site.reg.ledger.sessions() as s:
        return int(s.execute(sa.select(sa.func.count()).select_from(model)).scalar_one())


def _errors(html: str) -> list[str]:
    return [e.strip() for e in re.findall(r'class="error[^"]*"[^>]*>([^<]*)<', html)]


def _booked(site: Site) -> None:
    """alice proposes the HVO booking, bob approves it: 272,000 ERE on Brandstof BV."""
    alice, bob = site.browser("alice"), site.browser("bob")
    r = alice.post("/register/bookings", HVO)
    assert r.status_code == 303, r.text
    assert bob.post(r.headers["location"] + "/decision", {"decision": "approve"}).status_code == 303


# ------------------------------------------------------------------ digits that int() refuses

# "²" (superscript two) is a digit to str.isdigit() but not to int(): every numeric field that
# checked with isdigit() answered 500 with a traceback instead of an error next to the field.
SUPER_TWO = "²"


@pytest.mark.parametrize(
    ("url", "data", "field"),
    [
        ("/register/deliveries", {**DIESEL, "year": SUPER_TWO}, "year"),
        ("/register/deliveries", {**DIESEL, "month": SUPER_TWO}, "month"),
        ("/register/deliveries", {**DIESEL, "year": "２０２６"}, "year"),  # full-width digits
        ("/register/bookings", {**HVO, "year": SUPER_TWO}, "year"),
        (
            "/register/transfers",
            {
                "to_holder": "Handel BV",
                "unit_type": "land/annex-ixa",
                "vintage": SUPER_TWO,
                "amount": "5",
            },
            "line1_vintage",
        ),
        (
            "/register/transfers",
            {
                "to_holder": "Handel BV",
                "unit_type": "land/annex-ixa",
                "vintage": "2026",
                "amount": SUPER_TWO,
            },
            "line1_amount",
        ),
    ],
)
def test_a_digit_that_is_no_ascii_digit_is_refused_next_to_the_field(
    site: Site, url: str, data: dict[str, str], field: str
) -> None:
    _booked(site)
    before = (_count(site, Delivery), _count(site, Booking), _count(site, Transfer))
    r = site.browser("alice").post(url, data)
    assert r.status_code == 422
    assert f'id="e-{field}"' in r.text
    assert (_count(site, Delivery), _count(site, Booking), _count(site, Transfer)) == before


def test_a_deliveries_file_with_a_superscript_digit_is_refused_row_by_row(site: Site) -> None:
    body = DELIVERY_HEADER + "2026,5,land,diesel,1000,l\n" + f"2026,{SUPER_TWO},land,diesel,5,l\n"
    r = site.browser("alice").post(
        "/register/deliveries/upload", files={"file": ("d.csv", body.encode(), "text/csv")}
    )
    assert r.status_code == 422
    assert "1 van 2 regels geweigerd; er is niets geregistreerd." in r.text
    assert '<tr><td class="num">2</td><td>month</td>' in r.text
    assert _count(site, Delivery) == 0


def test_the_upload_and_year_end_forms_refuse_a_superscript_year(site: Site) -> None:
    lars = site.browser("lars")
    r = lars.post(
        "/register/bookings/upload",
        {"proof_ref": "LAAD-1", "year": SUPER_TWO},
        files={"file": ("s.csv", SESSIONS.encode(), "text/csv")},
    )
    assert r.status_code == 422 and 'id="e-year"' in r.text
    r = site.browser("alice").get(f"/register/year-end?year={SUPER_TWO}")
    assert r.status_code == 422 and 'id="e-year"' in r.text
    assert _count(site, Booking) == 0


def test_the_regulator_forms_refuse_a_superscript_number(site: Site) -> None:
    _booked(site)
    nea = site.browser("nea")
    r = nea.get(f"{REG}/closing?year={SUPER_TWO}")
    assert r.status_code == 422
    r = nea.post(f"{REG}/closing", {"year": SUPER_TWO, "confirm": "yes"})
    assert r.status_code == 422 and 'id="e-year"' in r.text
    r = nea.post(
        f"{REG}/corrections",
        {
            "holder": "Brandstof BV",
            "unit_type": "land/annex-ixa",
            "vintage": SUPER_TWO,
            "amount": "1",
            "reason": "audit",
        },
    )
    assert r.status_code == 422 and 'id="e-vintage"' in r.text
    r = nea.post(f"{REG}/holds/release", {"hold_ids": [SUPER_TWO], "reason": "audit"})
    assert r.status_code == 422 and 'id="e-hold_ids"' in r.text
    assert nea.get(f"{REG}/audit?page={SUPER_TWO}").status_code == 200  # the first page
    assert _count(site, Closing) == 0 and _count(site, Hold) == 0
    assert _count(site, Movement) == 1  # only the issue of the booking


# ------------------------------------------------------------------ closing a year not begun


def test_a_year_that_has_not_begun_cannot_be_closed(site: Site) -> None:
    """On 15-06-2026 the closing of 2031 ran: no delivery of 2031 can be registered yet, so every
    holder's obligation was 0 and all its free units above the banking minimum of 2,000
    (ev.register.banking_minimum, EV-24) were cancelled: 272,000 − 2,000 = 270,000 of Brandstof
    BV's units. A closing of a year that has not begun is refused (EV-30)."""
    _booked(site)
    nea = site.browser("nea")
    page = nea.get(f"{REG}/closing?year=2031")
    assert page.status_code == 200
    assert 'name="confirm"' not in page.text  # no run form
    assert "Het jaar 2031 is nog niet begonnen" in page.text
    r = nea.post(f"{REG}/closing", {"year": "2031", "confirm": "yes"})
    assert r.status_code == 422
    assert _errors(r.text) == ["de jaarafsluiting van 2031 kan niet lopen voordat 2031 begonnen is"]
    assert _count(site, Closing) == 0
    assert site.reg.balances(site.reg.login("alice", PW), "Brandstof BV") == {
        ("land/annex-ixa", 2026): 272_000
    }
    with pytest.raises(KetenError, match="cannot run before 2027 has begun"):
        closing.run(site.reg, site.reg.login("nea", PW), 2027, key="close-2027")
    assert _count(site, Closing) == 0
    # The year of the clock can be closed (the worked example of docs/register.md does).
    assert nea.post(f"{REG}/closing", {"year": "2026", "confirm": "yes"}).status_code == 303


# ------------------------------------------------------------------ registering in a closed year


def test_a_closed_year_takes_no_more_deliveries_bookings_or_approvals(site: Site) -> None:
    """The closing of 2026 ran on 15-06-2026 (before the registration deadline of 1 March 2027,
    EV-22) with one delivery: obligation 24,365 ERE (arithmetic in the module docstring). A
    second delivery of 50,000 l was then accepted: the holder's year-end page of the closed year
    showed the stored total 24,365 next to a per-sector obligation of 48,730 (2 × 24,365) with
    "met" 24,365 although no unit was surrendered. Registration of a year ends with its closing
    (EV-31): deliveries, bookings and approvals of bookings of that year are refused."""
    alice, bob, nea = site.browser("alice"), site.browser("bob"), site.browser("nea")
    assert alice.post("/register/deliveries", DIESEL).status_code == 303
    r = alice.post("/register/bookings", HVO)  # proposed before the closing
    assert r.status_code == 303
    booking_url = r.headers["location"]
    assert nea.post(f"{REG}/closing", {"year": "2026", "confirm": "yes"}).status_code == 303

    # No year is open any more on 15-06-2026: the pages say so instead of showing the form.
    r = alice.post("/register/deliveries", DIESEL)
    assert r.status_code == 422 and "Registreren is nu voor geen enkel jaar open." in r.text
    r = alice.post("/register/bookings", {**HVO, "proof_ref": "PoS-HVO-2"})
    assert r.status_code == 422 and "Registreren is nu voor geen enkel jaar open." in r.text
    r = bob.post(booking_url + "/decision", {"decision": "approve"})
    assert r.status_code == 422
    assert "registreren voor 2026 is beëindigd door de jaarafsluiting van 2026" in r.text
    assert _count(site, Delivery) == 1 and _count(site, Booking) == 1
    with site.reg.ledger.sessions() as s:
        assert s.execute(sa.select(Booking.status)).scalar_one() == "proposed"
    # A booking proposed before the closing can still be rejected or withdrawn.
    r = bob.post(booking_url + "/decision", {"decision": "reject"})
    assert r.status_code == 303

    # The service refuses too (the API and the command line use it).
    with pytest.raises(KetenError, match="registration for 2026 ended with the year-end closing"):
        site.reg.register_delivery(
            site.reg.login("alice", PW), 2026, 6, "land", "diesel", "1", "l", key="late"
        )
    with pytest.raises(KetenError, match="registration for 2026 ended with the year-end closing"):
        site.reg.propose_booking(
            site.reg.login("alice", PW),
            BookingInput("PoS-late", 2026, "land", "annex-ixa", "hvo", "1000", "l", "10"),
            key="late-b",
        )
    r = site.browser("lars").post(
        "/register/bookings/upload",
        {"proof_ref": "LAAD-LATE", "year": "2026"},
        files={"file": ("s.csv", SESSIONS.encode(), "text/csv")},
    )
    assert r.status_code == 422 and _count(site, Booking) == 1

    # The forms say why instead of offering the closed year.
    page = alice.get("/register/deliveries").text
    assert 'name="quantity"' not in page
    assert "Registreren is nu voor geen enkel jaar open." in page
    # The year-end page of the closed year: stored total = obligation per sector = 24,365.
    page = alice.get("/register/year-end?year=2026").text
    assert page.count("24.365") >= 2 and "48.730" not in page


# ------------------------------------------------------------------ upload for service providers


def test_the_charging_session_upload_is_offered_to_service_providers_only(site: Site) -> None:
    """Brandstof BV books fuels but is no inboekdienstverlener: its people were offered the
    upload form (link on the bookings page, up to 512 MB), and only after the upload got an
    error page saying charging sessions are imported only by an inboekdienstverlener."""
    alice, lars = site.browser("alice"), site.browser("lars")
    assert 'href="/register/bookings/upload"' not in alice.get("/register/bookings").text
    assert 'href="/register/bookings/upload"' in lars.get("/register/bookings").text
    page = alice.get("/register/bookings/upload")
    assert page.status_code == 200
    assert 'name="file"' not in page.text
    assert "Uw rekeninghouder is geen inboekdienstverlener" in page.text
    assert 'name="file"' in lars.get("/register/bookings/upload").text
    r = alice.post(
        "/register/bookings/upload",
        {"proof_ref": "PoS-EL", "year": "2026"},
        files={"file": ("s.csv", SESSIONS.encode(), "text/csv")},
    )
    assert r.status_code == 403
    assert _count(site, Booking) == 0


# ------------------------------------------------------------------ files as spreadsheets save them


def test_a_deliveries_file_separated_by_semicolons_is_refused_with_the_reason(site: Site) -> None:
    """A spreadsheet in Dutch settings saves CSV with ';': the page said only that the first
    line must be exactly the header, which it looked like."""
    body = "year;month;sector;fuel;quantity;unit\n2026;5;land;diesel;1000;l\n"
    r = site.browser("alice").post(
        "/register/deliveries/upload", files={"file": ("d.csv", body.encode(), "text/csv")}
    )
    assert r.status_code == 422
    assert _errors(r.text) == [  # the shared header check's text (test_web_shared_audit.py)
        "kopregel: ontbrekende kolom(men) year, month, sector, fuel, quantity, unit; "
        "de kolommen zijn gescheiden door puntkomma&#39;s (;), gebruik komma&#39;s "
        "(verwacht year,month,sector,fuel,quantity,unit)"
    ]
    assert _count(site, Delivery) == 0


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (
            b"",
            "s.csv: leeg bestand; verwachte kopregel "
            "connection_id,meter_id,period_start,period_end,kwh,own_generation",
        ),
        (
            SESSIONS.encode() + "EAN2,M2,2026-01-01,2026-01-31,5,nee é\n".encode("latin-1"),
            "s.csv: geen UTF-8-tekst (byte 140)",
        ),
    ],
)
def test_an_empty_or_non_utf8_sessions_file_is_refused_in_the_pages_language(
    site: Site, body: bytes, error: str
) -> None:
    """The refusal quoted the CSV library in English inside the Dutch sentence ("s.csv:
    onleesbaar: empty CSV", "… invalid utf-8 sequence")."""
    r = site.browser("lars").post(
        "/register/bookings/upload",
        {"proof_ref": "LAAD-1", "year": "2026"},
        files={"file": ("s.csv", body, "text/csv")},
    )
    assert r.status_code == 422
    assert _errors(r.text) == [error]
    assert _count(site, Booking) == 0
