"""A live keten server and Debian's Chromium for browser tests (Playwright for Python).

The browser is the machine's ``/usr/bin/chromium`` (``KETEN_CHROMIUM`` to override); ``make
test`` installs the Debian package when it is missing; nothing is ever downloaded at test time.
Screenshots go to ``test-artifacts/screenshots/`` (git-ignored).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from web_site import PW, make_registry

from keten.registry.service import Registry
from keten.web.app import create_web_app

CHROMIUM = Path(os.environ.get("KETEN_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@dataclass
class Live:
    url: str
    reg: Registry


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    reg = make_registry(f"sqlite:///{tmp_path / 'live.db'}")
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_web_app(reg), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the keten server did not start")
        time.sleep(0.05)
    try:
        yield Live(f"http://127.0.0.1:{port}", reg)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: run `make test` (installs Debian's chromium)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        try:
            yield browser
        finally:
            browser.close()


class Person:
    """One person's browser context on the live server."""

    def __init__(self, chromium: Any, live: Live, username: str | None = None) -> None:
        self.live = live
        self.context = chromium.new_context(base_url=live.url, locale="nl-NL")
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.username = username
        if username:
            self.login(username)

    def login(self, username: str, password: str = PW) -> None:
        self.page.goto("/login")
        self.page.get_by_label("Gebruikersnaam").fill(username)
        self.page.get_by_label("Wachtwoord").fill(password)
        self.page.get_by_role("button", name="Inloggen").click()
        self.page.wait_for_load_state()

    def shot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def close(self) -> None:
        self.context.close()
