"""The register's JSON API on SQLite and PostgreSQL: the four-eyes story over HTTP,
authentication, idempotency headers, the authorisation matrix (including other holders' ids)
and clear errors for bad input."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from keten.core.params import load_set
from keten.ledger.service import Ledger
from keten.ledger.verify import verify
from keten.registry.service import Registry
from keten.store.db import make_engine, session_factory, upgrade
from keten.web.api import create_app

PW = "correct horse battery"
BOOKING = {
    "proof_ref": "PoS-1",
    "year": 2026,
    "sector": "land",
    "category": "annex-ixa",
    "fuel": "hvo",
    "quantity": "10000",
    "unit": "l",
    "ghg_intensity": "10",
}
# 10,000 l × 34 MJ/l × (94 − 10) / 1000 = 28,560 EREs (EV-06)


@dataclass
class Api:
    client: TestClient
    reg: Registry
    tokens: dict[str, str]
    n: list[int]

    def call(self, who: str | None, method: str, url: str, **kw: object):  # type: ignore[no-untyped-def]
        headers = dict(kw.pop("headers", {}) or {})  # type: ignore[call-overload]
        if who:
            headers["Authorization"] = f"Bearer {self.tokens[who]}"
        if method != "GET" and "Idempotency-Key" not in headers:
            self.n[0] += 1
            headers["Idempotency-Key"] = f"k{self.n[0]}"
        return self.client.request(method, url, headers=headers, **kw)  # type: ignore[arg-type]


@pytest.fixture
def api(database_url: str) -> Iterator[Api]:
    engine = make_engine(database_url)
    upgrade(engine)
    now = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    reg = Registry(Ledger(session_factory(engine), clock=lambda: now), load_set("ev", "bijlage-1"))
    reg.init()
    reg.create_holder("Brandstof BV", can_book=True, has_obligation=True, actor="t", key="h1")
    reg.create_holder("Handel BV", actor="t", key="h2")
    people = {
        "alice": ("rekeningbevoegde", "Brandstof BV"),
        "bob": ("fiatteur", "Brandstof BV"),
        "carol": ("fiatteur", "Handel BV"),
        "nea": ("toezichthouder", None),
        "vera": ("verificateur", None),
    }
    tokens = {}
    for name, (role, holder) in people.items():
        reg.create_user(name, PW, role, holder, actor="t", key=f"u-{name}")
        tokens[name] = reg.create_token(reg.login(name, PW), "test", key=f"tok-{name}")
    with TestClient(create_app(reg)) as client:
        yield Api(client, reg, tokens, [0])
    engine.dispose()


def booked(api: Api) -> int:
    r = api.call("alice", "POST", "/api/v1/bookings", json=BOOKING)
    assert r.status_code == 201, r.text
    bid = int(r.json()["id"])
    r = api.call("bob", "POST", f"/api/v1/bookings/{bid}/decision", json={"approve": True})
    assert r.status_code == 200, r.text
    return bid


def test_four_eyes_story_over_http(api: Api) -> None:
    bid = booked(api)
    assert api.call("alice", "GET", f"/api/v1/bookings/{bid}").json()["status"] == "approved"
    r = api.call("alice", "GET", "/api/v1/holders/Brandstof BV/balances")
    assert r.json() == [{"unit_type": "land/annex-ixa", "vintage": 2026, "amount": 28_560}]
    t = api.call(
        "alice",
        "POST",
        "/api/v1/transfers",
        json={
            "to_holder": "Handel BV",
            "lines": [{"unit_type": "land/annex-ixa", "vintage": 2026, "amount": 560}],
        },
    )
    assert t.status_code == 201
    tid = t.json()["id"]
    assert (
        api.call("bob", "POST", f"/api/v1/transfers/{tid}/decision", json={"approve": True}).json()[
            "status"
        ]
        == "approved"
    )
    r = api.call("carol", "GET", "/api/v1/holders/Handel BV/balances")
    assert r.json() == [{"unit_type": "land/annex-ixa", "vintage": 2026, "amount": 560}]
    audit = api.call("nea", "GET", "/api/v1/audit").json()
    assert audit["verified"] is True and audit["events"]
    with api.reg.ledger.sessions() as s:
        assert verify(s) == []


def test_authentication_required(api: Api) -> None:
    assert api.call(None, "GET", "/api/v1/bookings").status_code == 401
    r = api.client.get("/api/v1/bookings", headers={"Authorization": "Bearer kt_wrong"})
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer"


def test_writes_need_an_idempotency_key_and_retries_apply_once(api: Api) -> None:
    r = api.client.post(
        "/api/v1/bookings", json=BOOKING, headers={"Authorization": f"Bearer {api.tokens['alice']}"}
    )
    assert r.status_code == 422 and "Idempotency-Key" in r.json()["detail"]
    first = api.call(
        "alice", "POST", "/api/v1/bookings", json=BOOKING, headers={"Idempotency-Key": "same"}
    )
    again = api.call(
        "alice", "POST", "/api/v1/bookings", json=BOOKING, headers={"Idempotency-Key": "same"}
    )
    assert first.json() == again.json()
    assert len(api.call("alice", "GET", "/api/v1/bookings").json()) == 1
    other = dict(BOOKING, proof_ref="PoS-2")
    r = api.call(
        "alice", "POST", "/api/v1/bookings", json=other, headers={"Idempotency-Key": "same"}
    )
    assert r.status_code == 409 and "different request" in r.json()["detail"]


@pytest.mark.parametrize(
    ("who", "method", "url", "body", "expected"),
    [
        # another holder's objects look unknown (no IDOR)
        ("carol", "GET", "/api/v1/bookings/{bid}", None, 404),
        ("carol", "POST", "/api/v1/bookings/{bid}/decision", {"approve": False}, 404),
        ("carol", "POST", "/api/v1/bookings/{bid}/withdraw", None, 404),
        ("carol", "GET", "/api/v1/holders/Brandstof BV/balances", None, 404),
        ("carol", "GET", "/api/v1/holders/Brandstof BV/obligation?year=2026", None, 404),
        # roles
        ("alice", "POST", "/api/v1/bookings/{bid}/hold", {"reason": "x"}, 403),
        (
            "bob",
            "POST",
            "/api/v1/corrections",
            {
                "holder": "Brandstof BV",
                "reason": "x",
                "lines": [{"unit_type": "land/annex-ixa", "vintage": 2026, "amount": 1}],
            },
            403,
        ),
        ("alice", "GET", "/api/v1/closing/2026", None, 403),
        ("bob", "POST", "/api/v1/closing/2026", None, 403),
        ("alice", "GET", "/api/v1/statistics", None, 403),
        ("alice", "GET", "/api/v1/audit", None, 403),
        ("alice", "POST", "/api/v1/holders", {"name": "X BV"}, 403),
        (
            "bob",
            "POST",
            "/api/v1/users",
            {"username": "x", "password": PW, "role": "fiatteur", "holder": "Brandstof BV"},
            403,
        ),
        ("vera", "POST", "/api/v1/bookings", BOOKING | {"proof_ref": "V"}, 403),
        (
            "bob",
            "POST",
            "/api/v1/bookings/{bid}/verification",
            {"verified": True, "note": "x"},
            403,
        ),
        (
            "carol",
            "POST",
            "/api/v1/deliveries",
            {
                "year": 2026,
                "month": 1,
                "sector": "land",
                "fuel": "diesel",
                "quantity": "1",
                "unit": "l",
            },
            403,
        ),
        # allowed
        ("nea", "GET", "/api/v1/bookings/{bid}", None, 200),
        (
            "vera",
            "POST",
            "/api/v1/bookings/{bid}/verification",
            {"verified": True, "note": "ok"},
            200,
        ),
        ("nea", "GET", "/api/v1/holders/Brandstof BV/balances", None, 200),
        ("nea", "GET", "/api/v1/closing/2026", None, 200),
        ("nea", "GET", "/api/v1/statistics", None, 200),
    ],
)
def test_authorisation_matrix(
    api: Api, who: str, method: str, url: str, body: object, expected: int
) -> None:
    bid = booked(api)
    r = api.call(who, method, url.format(bid=bid), json=body)
    assert r.status_code == expected, r.text
    with api.reg.ledger.sessions() as s:
        assert verify(s) == []


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (BOOKING | {"quantity": "-1"}, 422),
        (BOOKING | {"quantity": "1e3"}, 422),
        (BOOKING | {"ghg_intensity": "94"}, 422),
        (BOOKING | {"sector": "spoor"}, 422),
        (BOOKING | {"category": "x"}, 422),
        (BOOKING | {"year": 1999}, 422),
        (BOOKING | {"extra": 1}, 422),
        ({k: v for k, v in BOOKING.items() if k != "fuel"}, 422),
        (BOOKING | {"quantity": "9" * 39}, 422),
    ],
)
def test_bad_bookings_are_refused_and_nothing_changes(
    api: Api, body: object, expected: int
) -> None:
    r = api.call("alice", "POST", "/api/v1/bookings", json=body)
    assert r.status_code == expected, r.text
    assert api.call("alice", "GET", "/api/v1/bookings").json() == []


def test_unknown_ids_and_overspending(api: Api) -> None:
    assert (
        api.call("bob", "POST", "/api/v1/bookings/999/decision", json={"approve": True}).status_code
        == 404
    )
    assert (
        api.call(
            "bob", "POST", "/api/v1/transfers/999/decision", json={"approve": True}
        ).status_code
        == 404
    )
    booked(api)
    t = api.call(
        "alice",
        "POST",
        "/api/v1/transfers",
        json={
            "to_holder": "Handel BV",
            "lines": [{"unit_type": "land/annex-ixa", "vintage": 2026, "amount": 28_561}],
        },
    ).json()["id"]
    r = api.call("bob", "POST", f"/api/v1/transfers/{t}/decision", json={"approve": True})
    assert r.status_code == 409 and "free 28560" in r.json()["detail"]


def test_bulk_upload_reports_every_bad_row(api: Api) -> None:
    api.reg.create_holder("Laad BV", can_book=True, is_service_provider=True, actor="t", key="h3")
    api.reg.create_user("sam", PW, "rekeningbevoegde", "Laad BV", actor="t", key="u-sam")
    api.tokens["sam"] = api.reg.create_token(api.reg.login("sam", PW), "t", key="tok-sam")
    bad = (
        "connection_id,meter_id,period_start,period_end,kwh,own_generation\n"
        "E1,M1,2026-01-01,2026-03-31,100,nee\nE2,M2,2026-01-01,2026-03-31,-1,nee\n"
    )
    r = api.call(
        "sam",
        "POST",
        "/api/v1/bookings/bulk",
        data={"proof_ref": "Q1", "year": "2026"},
        files={"file": ("q1.csv", bad.encode(), "text/csv")},
    )
    assert r.status_code == 422
    assert r.json()["errors"] == [{"row": 2, "field": "kwh", "error": "must be positive"}]
    good = bad.replace("-1", "200")
    r = api.call(
        "sam",
        "POST",
        "/api/v1/bookings/bulk",
        data={"proof_ref": "Q1", "year": "2026"},
        files={"file": ("q1.csv", good.encode(), "text/csv")},
    )
    assert r.status_code == 201, r.text


def test_openapi_lists_the_api(api: Api) -> None:
    spec = api.client.get("/api/v1/openapi.json").json()
    for path in (
        "/api/v1/bookings",
        "/api/v1/transfers",
        "/api/v1/closing/{year}",
        "/api/v1/holders/{name}/balances",
        "/api/v1/audit",
        "/api/v1/bookings/bulk",
    ):
        assert path in spec["paths"]
