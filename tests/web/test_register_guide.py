"""The worked example of docs/register.md, step by step, on SQLite and PostgreSQL: every number
the guide quotes is pinned here (if this test changes, the guide must change with it).

Arithmetic (Bijlage 1, table Land 2026; diesel 36 MJ/l, HVO 34 MJ/l from RED Annex III):
  base energy   50,000 l × 36 MJ/l = 1,800,000 MJ
  obligation    1,800,000 × 94 × 14.4 % / 1000 = 24,364.8 → 24,365 (half up, EV-03)
  Annex IX-A    1,800,000 × 94 × 3.07 % / 1000 = 5,194.44 → 5,194
  RFNBO         1,800,000 × 94 × 0.05 % / 1000 = 84.6 → 85
  booking       10,000 l × 34 MJ/l × (94 − 10) / 1000 = 28,560 EREs (down, EV-06)
  closing       28,000 held; RFNBO 85 short (rule d); 24,365 − 85 = 24,280 surrendered;
                penalty 85 × € 0.60 = € 51.00; banking limit max(6,091.25 → 6,091, 2,000) = 6,091
                ≥ 3,720 left → banked (EV-24); Handel BV banks its 560 (limit 2,000).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from keten.cli.main import app as cli
from keten.core.params import load_set
from keten.ledger.service import Ledger
from keten.registry.service import Registry
from keten.store.db import make_engine, session_factory, upgrade
from keten.web.api import create_app

PW = "een lang wachtwoord 2026"
JSON = {"Content-Type": "application/json"}


@dataclass
class Guide:
    client: TestClient
    url: str
    tokens: dict[str, str]

    def call(self, who: str, method: str, path: str, key: str | None = None, **kw: object):  # type: ignore[no-untyped-def]
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        if key:
            headers["Idempotency-Key"] = key
        return self.client.request(method, "/api/v1" + path, headers=headers, **kw)  # type: ignore[arg-type]

    def cli(self, *args: str) -> str:
        r = CliRunner().invoke(
            cli, list(args), env={"KETEN_DATABASE_URL": self.url, "KETEN_PASSWORD": PW}
        )
        assert r.exit_code == 0, r.output
        return r.output


@pytest.fixture
def guide(database_url: str) -> Iterator[Guide]:
    engine = make_engine(database_url)
    upgrade(engine)
    now = dt.datetime(2026, 6, 15, tzinfo=dt.UTC)
    reg = Registry(Ledger(session_factory(engine), clock=lambda: now), load_set("ev", "bijlage-1"))
    g = Guide(TestClient(create_app(reg)), database_url, {})
    # Step 1 of the guide: the regulator's set-up commands.
    g.cli("registry", "init")
    g.cli("registry", "create-holder", "Brandstof BV", "--book", "--obligation")
    g.cli("registry", "create-holder", "Handel BV")
    for name, role, holder in (
        ("alice", "rekeningbevoegde", "Brandstof BV"),
        ("bob", "fiatteur", "Brandstof BV"),
        ("carol", "fiatteur", "Handel BV"),
        ("nea", "toezichthouder", None),
    ):
        g.cli(
            "registry",
            "create-user",
            name,
            "--role",
            role,
            *(["--holder", holder] if holder else []),
        )
        token = g.cli("registry", "create-token", name, "--label", "guide").strip()
        assert token.startswith("kt_")
        g.tokens[name] = token
    with g.client:
        yield g
    engine.dispose()


def test_the_worked_example_of_the_register_guide(guide: Guide) -> None:
    g = guide
    # Step 2: a delivery and the indicative obligation.
    delivery = {"year": 2026, "month": 1, "sector": "land", "fuel": "diesel"}
    delivery |= {"quantity": "50000", "unit": "l"}
    r = g.call("alice", "POST", "/deliveries", "lev-2026-01", json=delivery)
    assert r.status_code == 201 and r.json() == {"id": 1}
    [ob] = g.call("alice", "GET", "/holders/Brandstof BV/obligation?year=2026").json()
    assert (ob["base_mj"], ob["total"], ob["annex_ixa_min"], ob["rfnbo_min"]) == (
        "1800000",
        24_365,
        5_194,
        85,
    )
    # Step 3: a booking; the proposer may not approve it herself; a fiatteur does.
    booking = {
        "proof_ref": "PoS-NL-2026-0001",
        "year": 2026,
        "sector": "land",
        "category": "annex-ixa",
        "fuel": "hvo",
        "quantity": "10000",
        "unit": "l",
        "ghg_intensity": "10",
    }
    r = g.call("alice", "POST", "/bookings", "inb-1", json=booking)
    assert r.status_code == 201 and r.json() == {"id": 1}
    r = g.call("alice", "POST", "/bookings/1/decision", "f-1a", json={"approve": True})
    assert r.status_code == 403
    assert r.json() == {"detail": "alice (rekeningbevoegde) may not do this (needs: fiatteur)"}
    r = g.call("bob", "POST", "/bookings/1/decision", "f-1", json={"approve": True})
    assert r.status_code == 200
    assert (r.json()["units"], r.json()["status"]) == (28_560, "approved")
    again = g.call("alice", "POST", "/bookings", "inb-2", json=booking)
    assert again.status_code == 422 and "PoS-NL-2026-0001" in again.json()["detail"]
    # Step 4: a transfer, sent twice with the same key, applied once.
    transfer = {
        "to_holder": "Handel BV",
        "lines": [{"unit_type": "land/annex-ixa", "vintage": 2026, "amount": 560}],
    }
    assert g.call("alice", "POST", "/transfers", "ovb-1", json=transfer).json() == {"id": 1}
    assert g.call("alice", "POST", "/transfers", "ovb-1", json=transfer).json() == {"id": 1}
    r = g.call("bob", "POST", "/transfers/1/decision", "f-ovb-1", json={"approve": True})
    assert r.json()["status"] == "approved"
    assert g.call("carol", "GET", "/holders/Handel BV/balances").json() == [
        {"unit_type": "land/annex-ixa", "vintage": 2026, "amount": 560}
    ]
    hidden = g.call("carol", "GET", "/holders/Brandstof BV/balances")
    assert hidden.status_code == 404 and hidden.json() == {
        "detail": "unknown holder 'Brandstof BV'"
    }
    # Step 5: the closing — preview, then run (twice: the second run changes nothing).
    preview = g.call("nea", "GET", "/closing/2026").json()
    rows = {h["holder"]: h for h in preview["holders"]}
    b, h = rows["Brandstof BV"], rows["Handel BV"]
    assert (b["obligation_total"], b["shortfall_by_sector"], b["penalty_eur"]) == (
        24_365,
        {"land": 85},
        "51.00",
    )
    assert b["surrender"] == [["land/annex-ixa", 2026, 24_280]]
    assert (b["banking_limit"], b["banked"], b["cancel"]) == (
        6_091,
        [["land/annex-ixa", 2026, 3_720]],
        [],
    )
    assert (h["banking_limit"], h["banked"], h["cancel"]) == (
        2_000,
        [["land/annex-ixa", 2026, 560]],
        [],
    )
    first = g.call("nea", "POST", "/closing/2026", "close-2026").json()
    assert first == preview
    assert g.call("nea", "POST", "/closing/2026", "close-2026-again").json() == first
    assert g.call("alice", "GET", "/holders/Brandstof BV/balances").json() == [
        {"unit_type": "land/annex-ixa", "vintage": 2026, "amount": 3_720}
    ]
    # Step 6: statistics, verification, audit.
    assert json.loads(g.cli("registry", "stats", "--format", "json")) == [
        {
            "period": "2026",
            "unit_type": "land/annex-ixa",
            "vintage": 2026,
            "created": 28_560,
            "transferred": 560,
            "surrendered": 24_280,
            "cancelled": 0,
            "banked": 4_280,
        }
    ]
    assert "ok: conservation, balances, holds, movements and the audit chain verified" in g.cli(
        "registry", "verify"
    )
    audit = g.call("nea", "GET", "/audit?limit=1000").json()
    assert audit["verified"] is True
    actions = [e["action"] for e in audit["events"]]
    assert actions.count("closing.run") == 1
