"""Browser tests in Debian's Chromium (Playwright): sign-in by keyboard, the language switch,
the account page; screenshots of the pages as test artifacts."""

from __future__ import annotations

from typing import Any

from browser_kit import Live, Person, chromium, live  # noqa: F401  (fixtures)


def test_keyboard_only_login_and_logout(chromium: Any, live: Live) -> None:  # noqa: F811
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


def test_language_switch_and_skip_link(chromium: Any, live: Live) -> None:  # noqa: F811
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


def test_wrong_password_error_is_announced(chromium: Any, live: Live) -> None:  # noqa: F811
    p = Person(chromium, live)
    p.login("alice", "definitely wrong")
    alert = p.page.get_by_role("alert")
    assert alert.inner_text() == "Onbekende gebruikersnaam of onjuist wachtwoord."
    p.close()
