"""Fixtures for the HTML pages: a register with holders and people of every role, served by the
whole web application (pages + API) through Starlette's TestClient over https://testserver
(cookies are Secure), on SQLite and PostgreSQL.

    def test_x(site: Site) -> None:
        alice = site.browser("alice")            # signed in through the login form
        page = alice.get("/register")           # 200, HTML
        r = alice.post("/register/deliveries", {"year": "2026", ...})   # CSRF token added
        r = alice.post(url, data, csrf="wrong")  # to test the CSRF refusal
        anon = site.browser()                   # nobody signed in
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from dataclasses import dataclass, field
from typing import Any

import httpx
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from keten.core.params import load_set
from keten.ledger.service import Ledger
from keten.registry.service import Registry
from keten.store.db import make_engine, session_factory, upgrade

PW = "correct horse battery"
NOW = dt.datetime(2026, 6, 15, 10, 0, tzinfo=dt.UTC)
HOLDERS = {
    "Brandstof BV": {"can_book": True, "has_obligation": True},
    "Noordzee Olie": {"can_book": True, "has_obligation": True},
    "Handel BV": {},
    "Laad BV": {"can_book": True, "is_service_provider": True},
}
PEOPLE = {
    "alice": ("rekeningbevoegde", "Brandstof BV"),
    "bob": ("fiatteur", "Brandstof BV"),
    "olga": ("rekeningbevoegde", "Noordzee Olie"),
    "otto": ("fiatteur", "Noordzee Olie"),
    "carol": ("fiatteur", "Handel BV"),
    "lars": ("rekeningbevoegde", "Laad BV"),
    "lena": ("fiatteur", "Laad BV"),
    "vera": ("verificateur", None),
    "nea": ("toezichthouder", None),
}
# argon2id with small costs, so that the page tests sign in quickly; the production default is
# pinned by test_web_core.py::test_registry_hashes_passwords_with_argon2id_defaults.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
_FORM_KEYS = itertools.count(1)  # unique over all browsers of a test session


@dataclass
class Browser:
    """One person's browser: a cookie jar on the application."""

    client: TestClient
    username: str | None
    csrf: str = ""

    def get(self, url: str, **kw: Any) -> httpx.Response:
        r = self.client.get(url, **kw)
        m = CSRF_RE.search(r.text) if "text/html" in r.headers.get("content-type", "") else None
        if m:
            self.csrf = m.group(1)
        return r

    def post(
        self,
        url: str,
        data: dict[str, Any] | None = None,
        *,
        csrf: str | None = None,
        files: Any = None,
        **kw: Any,
    ) -> httpx.Response:
        if not self.csrf:
            self.get("/")
        form = dict(data or {})
        form.setdefault("csrf_token", self.csrf if csrf is None else csrf)
        if csrf == "":
            form.pop("csrf_token")
        form.setdefault("form_key", f"test-{self.username}-{next(_FORM_KEYS)}")
        return self.client.post(url, data=form, files=files, **kw)


@dataclass
class Site:
    app: Any
    reg: Registry
    clients: list[TestClient] = field(default_factory=list)

    def browser(self, username: str | None = None) -> Browser:
        client = TestClient(self.app, base_url="https://testserver", follow_redirects=False)
        client.__enter__()
        self.clients.append(client)
        b = Browser(client, username)
        b.get("/login")
        if username is not None:
            r = b.post("/login", {"username": username, "password": PW, "next": "/account"})
            assert r.status_code == 303, r.text
            b.get("/account")
        return b


def make_registry(url: str, now: dt.datetime = NOW) -> Registry:
    engine = make_engine(url)
    upgrade(engine)
    reg = Registry(
        Ledger(session_factory(engine), clock=lambda: now),
        load_set("ev", "bijlage-1"),
        hasher=FAST_HASHER,
    )
    reg.init()
    for name, facilities in HOLDERS.items():
        reg.create_holder(name, actor="test", key=f"h-{name}", **facilities)
    for username, (role, holder) in PEOPLE.items():
        reg.create_user(username, PW, role, holder, actor="test", key=f"u-{username}")
    return reg
