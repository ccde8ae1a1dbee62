"""The regulator's (toezichthouder) pages under /register/regulator: holders, review queue, holds,
ex-officio corrections, the year-end closing, statistics with exports, the audit log.

Bookings, deliveries and transfers are set up through the Registry service (as the holders'
people would through their own pages); the regulator acts through the pages.

Units of the two bookings used throughout (EV-06, set bijlage-1):
  PoS-HVO  Brandstof BV: 10,000 l HVO (annex-ixa) at 10 gCO2e/MJ:
           10,000 l × 34 MJ/l × (94 − 10) / 1000 = 28,560 units
  PoS-EL   Noordzee Olie: 100,000 kWh electricity (other):
           100,000 × 3.6 × 50.5 % × 183 / 1000 = 33,269.4 → round down 33,269 units
"""

from __future__ import annotations

import csv
import io
import re
import zipfile

import pytest
import sqlalchemy as sa
from web_site import PW, Site

from keten.ledger.service import LedgerError, Line
from keten.registry.service import Actor, BookingInput
from keten.store.models import AuditEvent, Closing, Hold, Movement

BASE = "/register/regulator"
HVO = BookingInput("PoS-HVO", 2026, "land", "annex-ixa", "hvo", "10000", "l", "10")
HVO_UNITS = 28_560
ELECTRICITY = BookingInput("PoS-EL", 2026, "land", "other", "electricity", "100000", "kWh", None)
EL_UNITS = 33_269


def who(site: Site, name: str) -> Actor:
    return site.reg.login(name, PW)


def book(site: Site, b: BookingInput, proposer: str, fiatteur: str | None, key: str) -> int:
    bid = site.reg.propose_booking(who(site, proposer), b, key=f"{key}-p")
    if fiatteur:
        site.reg.decide_booking(who(site, fiatteur), bid, approve=True, key=f"{key}-a")
    return bid


def two_bookings(site: Site) -> tuple[int, int]:
    return (
        book(site, HVO, "alice", "bob", "hvo"),
        book(site, ELECTRICITY, "olga", "otto", "el"),
    )


def row_cells(html: str, marker: str) -> list[str]:
    """The number cells of the table row that carries ``marker`` (an attribute)."""
    m = re.search(marker + r"[^>]*>(.*?)</tr>", html, re.S)
    assert m, marker
    return re.findall(r'<td class="num"[^>]*>([^<]*)</td>', m.group(1))


def count(site: Site, model: type) -> int:
    with site.reg.ledger.sessions() as s:
        return int(s.execute(sa.select(sa.func.count()).select_from(model)).scalar_one())


# --------------------------------------------------------------------------- holders


def test_holders_page_shows_every_holder_with_its_unit_totals(site: Site) -> None:
    two_bookings(site)
    nea = site.browser("nea")
    page = nea.get(BASE)
    assert page.status_code == 200
    for name in ("Brandstof BV", "Noordzee Olie", "Handel BV", "Laad BV"):
        assert name in page.text
    # Dutch notation
    assert 'data-holder-units="Brandstof BV">28.560<' in page.text
    assert 'data-holder-units="Noordzee Olie">33.269<' in page.text
    assert 'data-holder-units="Handel BV">0<' in page.text
    # total 28,560 + 33,269 = 61,829
    assert ">61.829<" in page.text
    holder_id = re.search(r'/register/regulator/holders/(\d+)">Brandstof BV', page.text)
    assert holder_id
    detail = nea.get(f"{BASE}/holders/{holder_id.group(1)}")
    assert detail.status_code == 200
    assert "land/annex-ixa" in detail.text and "28.560" in detail.text and "PoS-HVO" in detail.text
    assert "PoS-EL" not in detail.text  # only this holder's bookings
    assert nea.get(f"{BASE}/holders/99999").status_code == 404


def test_holders_and_bookings_export(site: Site) -> None:
    two_bookings(site)
    nea = site.browser("nea")
    r = nea.get(f"{BASE}/export/holders/csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = {row["name"]: row for row in csv.DictReader(io.StringIO(r.text))}
    assert rows["Brandstof BV"]["units"] == str(HVO_UNITS)
    assert rows["Noordzee Olie"]["free"] == str(EL_UNITS)
    r = nea.get(f"{BASE}/export/bookings/csv")
    bookings = list(csv.DictReader(io.StringIO(r.text)))
    assert [(b["proof_ref"], b["units"]) for b in bookings] == [
        ("PoS-HVO", str(HVO_UNITS)),
        ("PoS-EL", str(EL_UNITS)),
    ]
    assert nea.get(f"{BASE}/export/bookings/pdf").status_code == 404
    assert nea.get(f"{BASE}/export/users/csv").status_code == 404


# --------------------------------------------------------------------------- review and holds


def test_review_queue_lists_proposed_and_unverified_bookings(site: Site) -> None:
    hvo, el = two_bookings(site)
    proposed = book(
        site,
        BookingInput("PoS-NEW", 2026, "land", "annex-ixa", "hvo", "1000", "l", "10"),
        "alice",
        None,
        "new",
    )
    site.reg.verify_booking(who(site, "vera"), el, verified=True, note="checked", key="v1")
    page = site.browser("nea").get(f"{BASE}/review")
    assert page.status_code == 200
    assert "PoS-HVO" in page.text and "PoS-NEW" in page.text
    assert "PoS-EL" not in page.text  # approved and verified: nothing to review
    booking = site.browser("nea").get(f"{BASE}/bookings/{proposed}")
    assert booking.status_code == 200 and "/hold" not in booking.text  # no units to hold yet
    assert (
        f'action="{BASE}/bookings/{hvo}/hold"'
        in site.browser("nea").get(f"{BASE}/bookings/{hvo}").text
    )


def test_hold_and_release_through_the_pages_freeze_the_units_meanwhile(site: Site) -> None:
    hvo, _el = two_bookings(site)
    alice, bob = who(site, "alice"), who(site, "bob")
    nea = site.browser("nea")
    r = nea.post(f"{BASE}/bookings/{hvo}/hold", {"reason": "PoS under investigation"})
    assert r.status_code == 303 and r.headers["location"] == f"{BASE}/bookings/{hvo}"
    page = nea.get(r.headers["location"])
    assert "PoS under investigation" in page.text
    review = nea.get(f"{BASE}/review")
    assert "PoS under investigation" in review.text
    hold_ids = re.findall(r'name="hold_ids" value="(\d+)"', review.text)
    assert len(hold_ids) == 1
    # the holder cannot move the held units: the fiatteur's approval of a transfer is refused
    t = site.reg.propose_transfer(alice, "Handel BV", [Line("land/annex-ixa", 2026, 1)], key="t1")
    with pytest.raises(LedgerError, match="not enough"):
        site.reg.decide_transfer(bob, t, approve=True, key="t1a")
    assert site.reg.balances(alice, "Brandstof BV") == {("land/annex-ixa", 2026): HVO_UNITS}
    # release through the page
    r = nea.post(f"{BASE}/holds/release", {"hold_ids": hold_ids, "reason": "PoS confirmed"})
    assert r.status_code == 303
    assert re.findall(r'name="hold_ids"', nea.get(f"{BASE}/review").text) == []
    site.reg.decide_transfer(bob, t, approve=True, key="t1b")
    assert site.reg.balances(alice, "Brandstof BV") == {("land/annex-ixa", 2026): HVO_UNITS - 1}
    audit = nea.get(f"{BASE}/audit").text
    assert "units.hold" in audit and "units.release" in audit


def test_hold_and_release_need_a_reason_and_change_nothing_without(site: Site) -> None:
    hvo, _el = two_bookings(site)
    nea = site.browser("nea")
    r = nea.post(f"{BASE}/bookings/{hvo}/hold", {"reason": "   "})
    assert r.status_code == 422 and 'id="e-reason"' in r.text and 'aria-invalid="true"' in r.text
    assert count(site, Hold) == 0
    nea.post(f"{BASE}/bookings/{hvo}/hold", {"reason": "check"})
    (hold_id,) = re.findall(r'name="hold_ids" value="(\d+)"', nea.get(f"{BASE}/review").text)
    r = nea.post(f"{BASE}/holds/release", {"hold_ids": [hold_id], "reason": ""})
    assert r.status_code == 422 and 'id="e-reason"' in r.text
    r = nea.post(f"{BASE}/holds/release", {"reason": "no hold chosen"})
    assert r.status_code == 422 and 'id="e-hold_ids"' in r.text
    r = nea.post(f"{BASE}/holds/release", {"hold_ids": ["x1"], "reason": "bad id"})
    assert r.status_code == 422 and 'id="e-hold_ids"' in r.text
    r = nea.post(f"{BASE}/holds/release", {"hold_ids": ["99999"], "reason": "unknown"})
    assert r.status_code == 422 and 'id="e-hold_ids"' in r.text
    with site.reg.ledger.sessions() as s:
        assert s.execute(sa.select(Hold.released_at)).scalar_one() is None
    assert nea.post(f"{BASE}/bookings/99999/hold", {"reason": "x"}).status_code == 404


# --------------------------------------------------------------------------- corrections


def test_correction_cancels_units_with_a_reason_and_is_in_the_audit_log(site: Site) -> None:
    two_bookings(site)
    alice = who(site, "alice")
    nea = site.browser("nea")
    page = nea.get(f"{BASE}/corrections")
    assert page.status_code == 200 and '<option value="land/annex-ixa"' in page.text
    form = {
        "holder": "Brandstof BV",
        "unit_type": "land/annex-ixa",
        "vintage": "2026",
        "amount": "560",
        "reason": "double counted proof",
    }
    r = nea.post(f"{BASE}/corrections", form)
    assert r.status_code == 303
    # 28,560 − 560 = 28,000
    assert site.reg.balances(alice, "Brandstof BV") == {("land/annex-ixa", 2026): 28_000}
    page = nea.get(f"{BASE}/corrections")
    assert "double counted proof" in page.text and "land/annex-ixa 2026: 560" in page.text
    audit = nea.get(f"{BASE}/audit").text
    assert "correction" in audit and "double counted proof" in audit


BAD_CORRECTIONS = [
    ({"reason": ""}, "reason"),
    ({"reason": "x" * 2001}, "reason"),
    ({"holder": "Nobody BV"}, "holder"),
    ({"unit_type": "land/unknown"}, "unit_type"),
    ({"vintage": "26"}, "vintage"),
    ({"amount": "0"}, "amount"),
    ({"amount": "-5"}, "amount"),
    ({"amount": "1.5"}, "amount"),
    ({"amount": "28561"}, "amount"),  # one more than the holder has
    ({"holder": "Handel BV"}, "amount"),  # holds none of these units
]


def test_correction_with_bad_input_is_refused_next_to_the_field(site: Site) -> None:
    two_bookings(site)
    nea = site.browser("nea")
    before = count(site, Movement), count(site, AuditEvent)
    for change, field in BAD_CORRECTIONS:
        form = {
            "holder": "Brandstof BV",
            "unit_type": "land/annex-ixa",
            "vintage": "2026",
            "amount": "10",
            "reason": "reason",
            **change,
        }
        r = nea.post(f"{BASE}/corrections", form)
        assert r.status_code == 422 and f'id="e-{field}"' in r.text, change
        assert 'aria-invalid="true"' in r.text
    assert (count(site, Movement), count(site, AuditEvent)) == before
    assert site.reg.balances(who(site, "alice"), "Brandstof BV") == {
        ("land/annex-ixa", 2026): HVO_UNITS
    }


# --------------------------------------------------------------------------- closing


def test_closing_preview_then_run_then_an_idempotent_second_run(site: Site) -> None:
    """Closing of 2026 (set bijlage-1).

    Brandstof BV delivers 1,000,000 l diesel to land: base 1,000,000 × 36 MJ/l = 36,000,000 MJ
    (EV-05); total obligation 36,000,000 × 94 × 14.4 % / 1000 = 487,296 EREs (EV-01, EV-03).
    It holds 28,560 annex-ixa units (PoS-HVO); the best allocation surrenders all of them (they
    fill the Annex IX-A part, EV-15) — surrender 28,560; shortfall 487,296 − 28,560 = 458,736
    (EV-16); penalty 458,736 × €0.60 = €275,241.60 (EV-24); banking limit max(25 % × 487,296 =
    121,824, 2,000) = 121,824, nothing left to bank or cancel.
    Noordzee Olie has no deliveries: obligation 0 (EV-19); of its 33,269 free units of vintage
    2026 (EV-23) it banks the minimum 2,000 and 33,269 − 2,000 = 31,269 are cancelled (EV-24).
    """
    two_bookings(site)
    site.reg.register_delivery(
        who(site, "alice"), 2026, 3, "land", "diesel", "1000000", "l", key="d1"
    )
    nea = site.browser("nea")
    movements = count(site, Movement)
    page = nea.get(f"{BASE}/closing?year=2026")
    assert page.status_code == 200
    assert count(site, Movement) == movements  # the preview writes nothing
    # obligation, surrender, shortfall, penalty, banking limit, banked, cancelled
    assert row_cells(page.text, 'data-holder="Brandstof BV"') == [
        "487.296",
        "28.560",
        "458.736",
        "275.241,60",
        "121.824",
        "0",
        "0",
    ]
    assert row_cells(page.text, 'data-holder="Noordzee Olie"') == [
        "0",
        "0",
        "0",
        "0,00",
        "2.000",
        "2.000",
        "31.269",
    ]
    assert row_cells(page.text, 'data-holder="total"') == [
        "487.296",
        "28.560",
        "458.736",
        "275.241,60",
        "",
        "2.000",
        "31.269",
    ]
    assert 'action="/register/regulator/closing"' in page.text
    r = nea.post(f"{BASE}/closing", {"year": "2026", "confirm": "yes"})
    assert r.status_code == 303 and r.headers["location"] == f"{BASE}/closing?year=2026"
    done = nea.get(r.headers["location"])
    assert 'id="closed"' in done.text and "15-06-2026 10:00" in done.text
    assert "nea (toezichthouder)" in done.text
    assert 'name="confirm"' not in done.text  # no run button any more
    assert row_cells(done.text, 'data-holder="Noordzee Olie"')[-2:] == ["2.000", "31.269"]
    assert site.reg.balances(who(site, "olga"), "Noordzee Olie") == {("land/other", 2026): 2_000}
    assert site.reg.balances(who(site, "alice"), "Brandstof BV") == {}
    after = count(site, Movement)
    r = nea.post(f"{BASE}/closing", {"year": "2026", "confirm": "yes"})  # a second run
    assert r.status_code == 303
    assert count(site, Movement) == after and count(site, Closing) == 1
    assert site.reg.balances(who(site, "olga"), "Noordzee Olie") == {("land/other", 2026): 2_000}


def test_closing_run_needs_confirmation_and_a_valid_year(site: Site) -> None:
    two_bookings(site)
    nea = site.browser("nea")
    r = nea.post(f"{BASE}/closing", {"year": "2026"})
    assert r.status_code == 422 and 'id="e-confirm"' in r.text
    r = nea.post(f"{BASE}/closing", {"year": "twenty", "confirm": "yes"})
    assert r.status_code == 422 and 'id="e-year"' in r.text
    assert count(site, Closing) == 0
    assert nea.get(f"{BASE}/closing?year=abc").status_code == 422
    # bijlage-1 has no penalty value for 2025: the preview says so, the run is refused
    page = nea.get(f"{BASE}/closing?year=2025")
    assert page.status_code == 200 and 'id="closing-problem"' in page.text
    assert "ev.register.penalty_per_unit" in page.text and 'name="confirm"' not in page.text
    assert nea.post(f"{BASE}/closing", {"year": "2025", "confirm": "yes"}).status_code == 422
    assert count(site, Closing) == 0
    assert nea.get(f"{BASE}/closing").status_code == 200  # a default year


# --------------------------------------------------------------------------- statistics


def test_statistics_page_chart_and_downloads(site: Site) -> None:
    two_bookings(site)
    olga, otto = who(site, "olga"), who(site, "otto")
    t = site.reg.propose_transfer(olga, "Handel BV", [Line("land/other", 2026, 1_000)], key="t")
    site.reg.decide_transfer(otto, t, approve=True, key="ta")
    nea = site.browser("nea")
    page = nea.get(f"{BASE}/statistics?period=quarter")
    assert page.status_code == 200 and "<svg" in page.text and "2026-Q2" in page.text
    # per period: created 28,560 + 33,269 = 61,829; transferred 1,000
    assert "61.829" in page.text and "1.000" in page.text
    r = nea.get(f"{BASE}/export/statistics/csv?period=month")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [(x["period"], x["unit_type"], x["created"], x["transferred"]) for x in rows] == [
        ("2026-06", "land/annex-ixa", "28560", "0"),
        ("2026-06", "land/other", "33269", "1000"),
    ]
    r = nea.get(f"{BASE}/export/statistics/xlsx?period=year")
    assert r.status_code == 200 and "spreadsheetml" in r.headers["content-type"]
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
        strings = z.read("xl/sharedStrings.xml").decode()
    # row 2 is 2026 / land/annex-ixa / 2026: column D (created) = 28,560
    assert re.search(r'<c r="D2"[^>]*><v>28560</v>', sheet), sheet[:500]
    # row 3 is land/other: column E (transferred) = 1,000
    assert re.search(r'<c r="E3"[^>]*><v>1000</v>', sheet)
    assert "land/annex-ixa" in strings and "transferred" in strings
    assert nea.get(f"{BASE}/statistics?period=decade").status_code == 200  # falls back to year


# --------------------------------------------------------------------------- audit log


def _drop_audit_protection(site: Site) -> None:
    with site.reg.ledger.transaction() as s:
        if s.bind.dialect.name == "postgresql":
            s.execute(sa.text("DROP TRIGGER audit_event_no_change ON audit_event"))
        else:
            s.execute(sa.text("DROP TRIGGER audit_event_no_update"))
            s.execute(sa.text("DROP TRIGGER audit_event_no_delete"))


def test_audit_badge_turns_to_problems_when_an_event_is_tampered_with(site: Site) -> None:
    two_bookings(site)
    nea = site.browser("nea")
    page = nea.get(f"{BASE}/audit")
    assert page.status_code == 200
    assert re.search(r'id="audit-badge">(verified|geverifieerd)<', page.text)
    _drop_audit_protection(site)
    with site.reg.ledger.transaction() as s:
        s.execute(sa.text("UPDATE audit_event SET actor = 'mallory' WHERE seq = 2"))
    page = nea.get(f"{BASE}/audit")
    badge = re.search(r'id="audit-badge">([^<]*)<', page.text)
    assert badge and badge.group(1).startswith("1 ")  # "1 problemen" / "1 problems"
    assert "audit event 2: content was changed (hash mismatch)" in page.text
    assert 'class="badge bad"' in page.text


def test_audit_log_pages_of_fifty_newest_first_or_by_sequence(site: Site) -> None:
    two_bookings(site)
    alice = who(site, "alice")
    for i in range(50):
        site.reg.register_delivery(
            alice, 2026, 1 + i % 12, "land", "diesel", "10", "l", key=f"d{i}"
        )
    nea = site.browser("nea")
    with site.reg.ledger.sessions() as s:
        total = int(s.execute(sa.select(sa.func.count()).select_from(AuditEvent)).scalar_one())
    first = nea.get(f"{BASE}/audit")
    seqs = [int(x) for x in re.findall(r'<tr>\s*<td class="num">(\d+)</td>', first.text)]
    assert len(seqs) == 50 and seqs == sorted(seqs, reverse=True) and seqs[0] >= total
    by_seq = nea.get(f"{BASE}/audit?order=seq&page=2")
    seqs = [int(x) for x in re.findall(r'<tr>\s*<td class="num">(\d+)</td>', by_seq.text)]
    assert seqs[:3] == [51, 52, 53]
    assert nea.get(f"{BASE}/audit?page=9999").status_code == 200  # the last page
    assert nea.get(f"{BASE}/audit?page=x").status_code == 200  # the first page


# --------------------------------------------------------------------------- authorisation, CSRF

PAGES = [
    BASE,
    f"{BASE}/holders/1",
    f"{BASE}/review",
    f"{BASE}/bookings/1",
    f"{BASE}/corrections",
    f"{BASE}/closing?year=2026",
    f"{BASE}/statistics",
    f"{BASE}/export/statistics/csv",
    f"{BASE}/export/holders/xlsx",
    f"{BASE}/export/bookings/csv",
    f"{BASE}/audit",
]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_regulator_page_is_for_the_regulator_only(site: Site) -> None:
    two_bookings(site)
    for name in ("alice", "bob", "olga", "carol", "lena", "vera"):
        b = site.browser(name)
        for url in PAGES:
            r = b.get(url)
            assert r.status_code == 403, (name, url)
            assert "PoS-HVO" not in r.text and "28.560" not in r.text
    anon = site.browser()
    for url in PAGES:
        r = anon.get(url)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    nea = site.browser("nea")
    for url in PAGES:
        assert nea.get(url).status_code == 200, url


def test_regulator_writes_are_refused_for_everyone_else(site: Site) -> None:
    hvo, _el = two_bookings(site)
    posts = [
        (f"{BASE}/bookings/{hvo}/hold", {"reason": "x"}),
        (f"{BASE}/holds/release", {"hold_ids": ["1"], "reason": "x"}),
        (
            f"{BASE}/corrections",
            {
                "holder": "Brandstof BV",
                "unit_type": "land/annex-ixa",
                "vintage": "2026",
                "amount": "1",
                "reason": "x",
            },
        ),
        (f"{BASE}/closing", {"year": "2026", "confirm": "yes"}),
    ]
    before = (count(site, Movement), count(site, Hold), count(site, Closing))
    for name in ("bob", "vera"):
        b = site.browser(name)
        for url, data in posts:
            assert b.post(url, data).status_code == 403, (name, url)
    anon = site.browser()
    for url, data in posts:
        assert anon.post(url, data).status_code == 303
    assert (count(site, Movement), count(site, Hold), count(site, Closing)) == before


def test_every_regulator_post_refuses_a_missing_or_wrong_csrf_token(site: Site) -> None:
    hvo, _el = two_bookings(site)
    nea = site.browser("nea")
    nea.post(f"{BASE}/bookings/{hvo}/hold", {"reason": "first"})
    (hold_id,) = re.findall(r'name="hold_ids" value="(\d+)"', nea.get(f"{BASE}/review").text)
    posts = [
        (f"{BASE}/bookings/{hvo}/hold", {"reason": "x"}),
        (f"{BASE}/holds/release", {"hold_ids": [hold_id], "reason": "x"}),
        (
            f"{BASE}/corrections",
            {
                "holder": "Noordzee Olie",
                "unit_type": "land/other",
                "vintage": "2026",
                "amount": "1",
                "reason": "x",
            },
        ),
        (f"{BASE}/closing", {"year": "2026", "confirm": "yes"}),
    ]
    before = (
        count(site, Movement),
        count(site, Hold),
        count(site, Closing),
        count(site, AuditEvent),
    )
    other = site.browser("nea")  # another session of the same person: another token
    for url, data in posts:
        for token in ("", "forged", other.csrf):
            r = nea.post(url, data, csrf=token)
            assert r.status_code == 403, (url, token)
    after = (
        count(site, Movement),
        count(site, Hold),
        count(site, Closing),
        count(site, AuditEvent),
    )
    assert after == before
    with site.reg.ledger.sessions() as s:
        assert s.execute(sa.select(Hold.released_at)).scalar_one() is None


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_regulator_pages_in_english(site: Site) -> None:
    two_bookings(site)
    nea = site.browser("nea")
    nea.post("/language", {"lang": "en", "next": BASE})
    page = nea.get(BASE)
    assert "All holders" in page.text and 'data-holder-units="Brandstof BV">28,560<' in page.text
    page = nea.get(f"{BASE}/audit")
    assert 'id="audit-badge">verified<' in page.text
    nea.post("/language", {"lang": "nl", "next": BASE})
    page = nea.get(BASE)
    assert "Alle rekeninghouders" in page.text
    assert 'id="audit-badge">geverifieerd<' in nea.get(f"{BASE}/audit").text
