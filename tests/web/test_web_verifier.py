"""The verifier's (verificateur) pages under /register/verifier: the bookings assigned to this
verifier or unassigned, each with its details, and marking one verified or rejected with a note.

Units of the bookings (EV-06, set bijlage-1): 10,000 l HVO (annex-ixa) at 10 gCO2e/MJ:
10,000 × 34 × (94 − 10) / 1000 = 28,560; 100,000 kWh electricity: 100,000 × 3.6 × 50.5 % × 183 /
1000 = 33,269.4 → 33,269.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from web_site import PW, Site

from keten.registry.service import Actor, BookingInput
from keten.store.models import AuditEvent, Booking

BASE = "/register/verifier"
HVO = BookingInput("PoS-HVO", 2026, "land", "annex-ixa", "hvo", "10000", "l", "10")
ELECTRICITY = BookingInput("PoS-EL", 2026, "land", "other", "electricity", "100000", "kWh", None)
OTHER = BookingInput("PoS-OTHER", 2026, "land", "annex-ixa", "hvo", "500", "l", "10")


def who(site: Site, name: str) -> Actor:
    return site.reg.login(name, PW)


def setup(site: Site) -> tuple[int, int, int]:
    """Three approved bookings; the third is assigned to another verificateur, vic."""
    reg = site.reg
    reg.create_user("vic", PW, "verificateur", None, actor="test", key="u-vic")
    ids = []
    for i, (b, proposer, fiatteur) in enumerate(
        [(HVO, "alice", "bob"), (ELECTRICITY, "olga", "otto"), (OTHER, "alice", "bob")]
    ):
        bid = reg.propose_booking(who(site, proposer), b, key=f"p{i}")
        reg.decide_booking(who(site, fiatteur), bid, approve=True, key=f"a{i}")
        ids.append(bid)
    reg.verify_booking(who(site, "vic"), ids[2], verified=False, note="mass balance", key="vic")
    return ids[0], ids[1], ids[2]


def verification(site: Site, booking_id: int) -> tuple[str, int | None]:
    with site.reg.ledger.sessions() as s:
        row = s.execute(
            sa.select(Booking.verification, Booking.verifier_id).where(Booking.id == booking_id)
        ).one()
        return str(row[0]), row[1]


def events(site: Site) -> int:
    with site.reg.ledger.sessions() as s:
        return int(s.execute(sa.select(sa.func.count()).select_from(AuditEvent)).scalar_one())


def test_list_shows_unassigned_and_own_bookings_with_their_details(site: Site) -> None:
    hvo, el, other = setup(site)
    vera = site.browser("vera")
    page = vera.get(BASE)
    assert page.status_code == 200
    assert "PoS-HVO" in page.text and "PoS-EL" in page.text
    assert "28.560" in page.text and "33.269" in page.text and "Brandstof BV" in page.text
    assert "PoS-OTHER" not in page.text  # assigned to vic
    assert f"{BASE}/bookings/{hvo}" in page.text
    detail = vera.get(f"{BASE}/bookings/{el}")
    assert detail.status_code == 200
    assert "Noordzee Olie" in detail.text and "100.000 kWh" in detail.text
    assert vera.get(f"{BASE}/bookings/{other}").status_code == 404  # another verifier's
    assert vera.get(f"{BASE}/bookings/99999").status_code == 404
    vic = site.browser("vic")
    page = vic.get(f"{BASE}?show=all")
    assert "PoS-OTHER" in page.text and "mass balance" in vic.get(f"{BASE}/bookings/{other}").text


def test_mark_verified_and_rejected_with_a_note(site: Site) -> None:
    hvo, el, _other = setup(site)
    vera = site.browser("vera")
    r = vera.post(f"{BASE}/bookings/{hvo}", {"decision": "verified", "note": "PoS matches UDB"})
    assert r.status_code == 303 and r.headers["location"] == BASE
    assert verification(site, hvo) == ("verified", who(site, "vera").user_id)
    r = vera.post(f"{BASE}/bookings/{el}", {"decision": "rejected", "note": "meter data missing"})
    assert r.status_code == 303
    assert verification(site, el)[0] == "rejected"
    page = vera.get(BASE)  # assessed bookings leave the open list
    assert "PoS-HVO" not in page.text and "PoS-EL" not in page.text
    page = vera.get(f"{BASE}?show=all")
    assert "PoS-HVO" in page.text and "PoS-EL" in page.text
    detail = vera.get(f"{BASE}/bookings/{el}")
    assert "meter data missing" in detail.text
    # the regulator sees the verification in the booking page and the audit log
    nea = site.browser("nea")
    assert "meter data missing" in nea.get(f"/register/regulator/bookings/{el}").text
    assert "PoS matches UDB" in nea.get("/register/regulator/audit").text
    # now assigned to vera: vic cannot see it any more
    assert site.browser("vic").get(f"{BASE}/bookings/{hvo}").status_code == 404


BAD_FORMS = [
    ({"decision": "verified", "note": ""}, "note"),
    ({"decision": "verified", "note": "   "}, "note"),
    ({"decision": "verified", "note": "x" * 2001}, "note"),
    ({"decision": "", "note": "checked"}, "decision"),
    ({"decision": "maybe", "note": "checked"}, "decision"),
]


def test_bad_input_is_shown_next_to_the_field_and_changes_nothing(site: Site) -> None:
    hvo, _el, _other = setup(site)
    vera = site.browser("vera")
    before = events(site)
    for form, field in BAD_FORMS:
        r = vera.post(f"{BASE}/bookings/{hvo}", form)
        assert r.status_code == 422 and f'id="e-{field}"' in r.text, form
        assert 'aria-invalid="true"' in r.text
    assert verification(site, hvo) == ("unverified", None)
    assert events(site) == before


def test_post_without_or_with_a_wrong_csrf_token_is_refused(site: Site) -> None:
    hvo, _el, _other = setup(site)
    vera = site.browser("vera")
    before = events(site)
    for token in ("", "forged", site.browser("vera").csrf):
        r = vera.post(f"{BASE}/bookings/{hvo}", {"decision": "verified", "note": "x"}, csrf=token)
        assert r.status_code == 403
    assert verification(site, hvo) == ("unverified", None)
    assert events(site) == before


def test_another_verifiers_booking_cannot_be_decided(site: Site) -> None:
    _hvo, _el, other = setup(site)
    r = site.browser("vera").post(f"{BASE}/bookings/{other}", {"decision": "verified", "note": "x"})
    assert r.status_code == 404
    assert verification(site, other)[0] == "rejected"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_verifier_pages_are_for_verifiers_only_and_regulator_pages_not_for_them(
    site: Site,
) -> None:
    hvo, _el, _other = setup(site)
    pages = [BASE, f"{BASE}?show=all", f"{BASE}/bookings/{hvo}"]
    for name in ("alice", "bob", "olga", "carol", "lars", "nea"):
        b = site.browser(name)
        for url in pages:
            r = b.get(url)
            assert r.status_code == 403, (name, url)
            assert "PoS-HVO" not in r.text
        r = b.post(f"{BASE}/bookings/{hvo}", {"decision": "verified", "note": "x"})
        assert r.status_code == 403
    anon = site.browser()
    for url in pages:
        r = anon.get(url)
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
    assert (
        anon.post(f"{BASE}/bookings/{hvo}", {"decision": "verified", "note": "x"}).status_code
        == 303
    )
    assert verification(site, hvo) == ("unverified", None)
    vera = site.browser("vera")
    for url in ("/register/regulator", "/register/regulator/review", "/register/regulator/audit"):
        assert vera.get(url).status_code == 403


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_verifier_pages_in_dutch_and_english(site: Site) -> None:
    setup(site)
    vera = site.browser("vera")
    page = vera.get(BASE)
    assert "Te verifiëren inboekingen" in page.text and "niet toegewezen" in page.text
    vera.post("/language", {"lang": "en", "next": BASE})
    page = vera.get(BASE)
    assert "Bookings to verify" in page.text and "28,560" in page.text
    assert re.search(r"not assigned", page.text)
