"""Browser tests in Debian's Chromium (Playwright): sign-in by keyboard, the language switch,
the account page; screenshots of the pages as test artifacts."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from browser_kit import Live, Person

from keten.store.models import Booking


def test_keyboard_only_login_and_logout(chromium: Any, live: Live) -> None:
    p = Person(chromium, live)
    page = p.page
    page.goto("/login")
    p.shot("login")
    page.get_by_label("Gebruikersnaam").focus()
    page.keyboard.type("alice")
    page.keyboard.press("Tab")
    page.keyboard.type("correct horse battery")
    page.keyboard.press("Enter")
    page.wait_for_url("**/register**")
    page.goto("/account")
    assert page.locator("h1").inner_text() == "Account"
    p.shot("account")
    page.get_by_role("button", name="Uitloggen").click()
    page.wait_for_url(live.url + "/")
    assert page.get_by_role("status").inner_text() == "U bent uitgelogd."
    p.close()


def test_language_switch_and_skip_link(chromium: Any, live: Live) -> None:
    p = Person(chromium, live)
    page = p.page
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "nl"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.get_by_role("button", name="EN").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("link", name="Log in").is_visible()
    p.shot("start-en")
    p.close()


def test_wrong_password_error_is_announced(chromium: Any, live: Live) -> None:
    p = Person(chromium, live)
    p.login("alice", "definitely wrong")
    alert = p.page.get_by_role("alert")
    assert alert.inner_text() == "Onbekende gebruikersnaam of onjuist wachtwoord."
    p.close()


def test_session_upload_shows_progress_and_lands_on_the_booking(
    chromium: Any,
    live: Live,
    tmp_path: Path,
) -> None:
    """The bulk upload form posts by script (static/app.js) with a progress bar; a good file
    becomes one proposed booking, a bad one shows the refused rows and the report link."""
    from keten.web.demo import session_file

    good = session_file(tmp_path / "q1.csv", 2026, range(1, 4), seed=1, households=200)
    p = Person(chromium, live, "lars")  # rekeningbevoegde of the service provider Laad BV
    page = p.page
    page.goto("/register/bookings/upload")
    assert page.locator("progress#up").is_hidden()
    page.fill("#f-proof_ref", "LAAD-E2E-Q1")
    page.select_option("#f-year", "2026")
    page.set_input_files("#f-file", str(good))
    p.shot("upload")
    page.get_by_role("button", name="Uploaden en controleren").click()
    page.wait_for_url(re.compile(r".*/register/bookings/\d+$"))  # the new booking, not the form
    p.shot("upload-done")
    with live.reg.ledger.sessions() as s:
        b = s.query(Booking).filter_by(proof_ref="LAAD-E2E-Q1").one()
        assert b.status == "proposed" and b.units > 0
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "connection_id,meter_id,period_start,period_end,kwh,own_generation\n"
        "EAN1,M1,2026-01-01,2026-01-31,-5,0\n"
    )
    page.goto("/register/bookings/upload")
    page.fill("#f-proof_ref", "LAAD-E2E-BAD")
    page.set_input_files("#f-file", str(bad))
    page.get_by_role("button", name="Uploaden en controleren").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "1" in alert.inner_text()
    assert page.locator("a[href^='/register/bookings/upload/report/']").count() == 1
    p.shot("upload-refused")
    with live.reg.ledger.sessions() as s:
        assert s.query(Booking).filter_by(proof_ref="LAAD-E2E-BAD").count() == 0
    p.close()
