"""The end-to-end story of issue #4 in Debian's Chromium: a supplier's rekeningbevoegde
registers a delivery and books, a second user approves as fiatteur, a transfer is proposed and
approved, the regulator puts the booking's units on hold and releases them, runs the year-end
closing, and the supplier's year-end page and dashboard show the result. A screenshot of every
main page is saved under test-artifacts/screenshots/.

Arithmetic pinned at the end (Bijlage 1 table Land, EV-01/03/05/06):
- delivery 1,000,000 l diesel × 36 MJ/l = 36,000,000 MJ; obligation 36,000,000 × 94 g/MJ
  × 14.4 % / 1000 = 487,296 ERE;
- booking 100,000 l HVO × 34 MJ/l × (94 − 14) g/MJ / 1000 = 272,000 ERE (annex IX-A);
- 1,000 transferred to Handel BV → 271,000 units left to surrender; shortfall
  487,296 − 271,000 = 216,296 (what the stored closing says, shown on the year-end page).
"""

from __future__ import annotations

import json
import re
from typing import Any

from browser_kit import Live, Person
from sqlalchemy import select

from keten.store.models import Booking, Closing


def _num(n: int) -> str:
    return f"{n:,}".replace(",", ".")  # Dutch notation


def test_supplier_fiatteur_transfer_hold_closing_story(chromium: Any, live: Live) -> None:
    alice = Person(chromium, live, "alice")  # rekeningbevoegde, Brandstof BV
    bob = Person(chromium, live, "bob")  # fiatteur, Brandstof BV
    carol = Person(chromium, live, "carol")  # fiatteur, Handel BV
    nea = Person(chromium, live, "nea")  # toezichthouder

    # 1. alice registers a delivery and proposes a booking
    page = alice.page
    page.goto("/register/deliveries")
    page.select_option("#f-year", "2026")
    page.select_option("#f-month", "5")
    page.select_option("#f-sector", "land")
    page.select_option("#f-fuel", "diesel")
    page.fill("#f-quantity", "1000000")
    page.select_option("#f-unit", "l")
    alice.shot("deliveries")
    page.locator("form[action='/register/deliveries'] button[type=submit]").click()
    page.wait_for_load_state()
    assert "1000000" in page.content().replace(".", "")

    page.goto("/register/bookings")
    page.fill("#f-proof_ref", "PoS-E2E-0001")
    page.select_option("#f-year", "2026")
    page.select_option("#f-sector", "land")
    page.select_option("#f-category", "annex-ixa")
    page.select_option("#f-fuel", "hvo")
    page.fill("#f-quantity", "100000")
    page.select_option("#f-unit", "l")
    page.fill("#f-ghg_intensity", "14")
    alice.shot("bookings")
    page.locator("form[action='/register/bookings'] button[type=submit]").click()
    page.wait_for_load_state()
    booking_id = int(re.search(r"/register/bookings/(\d+)", page.url + page.content()).group(1))  # type: ignore[union-attr]

    # alice cannot approve her own proposal (four eyes): no approve button for her
    page.goto(f"/register/bookings/{booking_id}")
    assert page.locator("button[value=approve]").count() == 0

    # 2. bob approves as fiatteur
    bob.page.goto(f"/register/bookings/{booking_id}")
    bob.shot("booking-detail")
    bob.page.locator("button[value=approve]").click()
    bob.page.wait_for_load_state()
    with live.reg.ledger.sessions() as s:
        assert s.get(Booking, booking_id).status == "approved"  # type: ignore[union-attr]

    # 3. alice proposes a transfer to Handel BV, bob approves it
    page.goto("/register/transfers")
    page.select_option("#f-to_holder", label="Handel BV")
    page.select_option("#f-line1_unit_type", "land/annex-ixa")
    page.fill("#f-line1_vintage", "2026")
    page.fill("#f-line1_amount", "1000")
    alice.shot("transfers")
    page.locator("form[action='/register/transfers'] button[type=submit]").click()
    page.wait_for_load_state()
    bob.page.goto("/register/transfers")
    bob.page.locator("form[action$='/decision'] button[value=approve]").first.click()
    bob.page.wait_for_load_state()
    carol.page.goto("/register")
    carol.shot("dashboard-receiver")
    assert _num(1000) in carol.page.content()

    # 4. the regulator holds the booking's units and releases them
    r = nea.page
    r.goto(f"/register/regulator/bookings/{booking_id}")
    r.fill("#f-reason", "PoS under review (e2e)")
    r.locator("form[action$='/hold'] button[type=submit]").click()
    r.wait_for_load_state()
    r.goto("/register/regulator/review")
    nea.shot("regulator-review")
    boxes = r.locator("input[name=hold_ids]")
    assert boxes.count() == 2  # the units at Brandstof BV and the 1,000 transferred to Handel BV
    for i in range(boxes.count()):
        boxes.nth(i).check()
    r.fill("#f-reason", "review done (e2e)")
    r.locator("form[action='/register/regulator/holds/release'] button[type=submit]").click()
    r.wait_for_load_state()
    nea.shot("regulator-released")
    assert r.locator("input[name=hold_ids]").count() == 0, r.inner_text("main")

    # 5. the regulator previews and runs the closing of 2026
    r.goto("/register/regulator/closing?year=2026")
    nea.shot("regulator-closing-preview")
    r.check("#f-confirm")
    r.locator("form[method=post][action='/register/regulator/closing'] button.danger").click()
    r.wait_for_load_state()
    nea.shot("regulator-closing-done")
    for path, name in (
        ("/register/regulator", "regulator-holders"),
        ("/register/regulator/statistics", "regulator-statistics"),
        ("/register/regulator/audit", "regulator-audit"),
    ):
        r.goto(path)
        nea.shot(name)
    assert r.locator(".badge.good").count() >= 1  # the audit chain verifies

    with live.reg.ledger.sessions() as s:
        summary = json.loads(s.execute(select(Closing.summary)).scalar_one())
    mine = next(h for h in summary["holders"] if h["holder"] == "Brandstof BV")
    assert mine["obligation_total"] == 487_296
    assert mine["shortfall_total"] == 487_296 - (272_000 - 1_000) == 216_296

    # 6. the supplier sees the result
    page.goto("/register/year-end?year=2026")
    alice.shot("year-end")
    text = page.content()
    assert "2026" in text and _num(216_296) in text and _num(487_296) in text
    page.goto("/register")
    alice.shot("dashboard")
    assert page.locator("svg.chart").count() >= 1
    closings = page.locator("section[aria-labelledby=h-closings]")
    assert _num(216_296) in closings.inner_text() and "2026" in closings.inner_text()
    for p in (alice, bob, carol, nea):
        p.close()
