"""The ``site`` fixture: see ``web_site.py``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browser_kit import chromium, live  # noqa: F401  (browser fixtures)
from web_site import Site, make_registry

from keten.web.app import create_web_app


@pytest.fixture
def site(database_url: str) -> Iterator[Site]:
    reg = make_registry(database_url)
    s = Site(create_web_app(reg), reg)
    yield s
    for c in s.clients:
        c.__exit__(None, None, None)
    reg.ledger.sessions.kw["bind"].dispose()
