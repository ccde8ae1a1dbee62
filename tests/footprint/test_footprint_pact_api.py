"""PACT v3 over HTTP (issue 7) on SQLite and PostgreSQL: the token grant, ListFootprints with
filters and pagination, GetFootprint, events, token errors and authorisation. The host and its
footprints are described in footprint_pactapi.py."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from footprint_pactapi import (
    DE_VRIES,
    HOST,
    JANSEN,
    SMIT,
    A,
    B,
    C,
    D,
    E,
    Host,
    footprints,
    make_host,
)
from sqlalchemy import func, select

from keten.footprint.pact import FootprintRegistry
from keten.footprint.pact_store import (
    EVENT_PUBLISHED,
    EVENT_REQUEST_CREATED,
    EVENT_REQUEST_FULFILLED,
    EVENT_REQUEST_REJECTED,
)
from keten.store.pact_models import PactEvent, PactToken


@pytest.fixture
def host(database_url: str) -> Iterator[Host]:
    yield from make_host(database_url)


# ----------------------------------------------------------------------------- /auth/token


def token_count(h: Host) -> int:
    with h.store.sessions() as s:
        return int(s.execute(select(func.count()).select_from(PactToken)).scalar_one())


def test_token_grant_basic_and_form(host: Host) -> None:
    cid, secret = host.creds[DE_VRIES]
    r = host.client.post(
        "/auth/token", data={"grant_type": "client_credentials"}, auth=(cid, secret)
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert r.headers["cache-control"] == "no-store" and r.headers["pragma"] == "no-cache"
    # the token works, and only the hash is stored
    ok = host.client.get(
        "/3/footprints", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert ok.status_code == 200
    with host.store.sessions() as s:
        hashes = list(s.execute(select(PactToken.token_hash)).scalars())
    assert body["access_token"] not in hashes and len(hashes) == 1
    # client credentials in the form body (RFC 6749 §2.3.1) work too
    r2 = host.client.post(
        "/auth/token",
        data={"grant_type": "client_credentials", "client_id": cid, "client_secret": secret},
    )
    assert r2.status_code == 200 and r2.json()["access_token"] != body["access_token"]
    # a scope parameter is accepted and ignored (FP-42)
    r3 = host.client.post(
        "/auth/token", data={"grant_type": "client_credentials", "scope": "x"}, auth=(cid, secret)
    )
    assert r3.status_code == 200
    # Basic plus the same client_id in the form is one method (RFC 6749 §2.3.1 allows it)
    r4 = host.client.post(
        "/auth/token",
        data={"grant_type": "client_credentials", "client_id": cid},
        auth=(cid, secret),
    )
    assert r4.status_code == 200
    assert token_count(host) == 4


def _basic(text: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(text.encode()).decode()}


def test_token_grant_refusals(host: Host) -> None:
    cid, secret = host.creds[DE_VRIES]
    other_cid, other_secret = host.creds[SMIT]
    grant = {"grant_type": "client_credentials"}
    cases = [
        # (what, kwargs, status, error, WWW-Authenticate: Basic)
        ("wrong secret", {"data": grant, "auth": (cid, other_secret)}, 401, "invalid_client", True),
        (
            "unknown client",
            {"data": grant, "auth": ("pc_nobody", secret)},
            401,
            "invalid_client",
            True,
        ),
        (
            "secret of another client",
            {"data": grant, "auth": (other_cid, secret)},
            401,
            "invalid_client",
            True,
        ),
        ("empty secret", {"data": grant, "auth": (cid, "")}, 401, "invalid_client", True),
        ("missing client authentication", {"data": grant}, 401, "invalid_client", True),
        (
            "malformed Basic",
            {"data": grant, "headers": {"Authorization": "Basic !!!"}},
            401,
            "invalid_client",
            True,
        ),
        (
            "Basic without colon",
            {"data": grant, "headers": _basic(cid)},
            401,
            "invalid_client",
            True,
        ),
        (
            "Bearer instead of Basic",
            {"data": grant, "headers": {"Authorization": "Bearer x"}},
            401,
            "invalid_client",
            True,
        ),
        (
            "wrong secret in form",
            {"data": {**grant, "client_id": cid, "client_secret": "no"}},
            400,
            "invalid_client",
            False,
        ),
        (
            "client_id without secret in form",
            {"data": {**grant, "client_id": cid}},
            400,
            "invalid_client",
            False,
        ),
        (
            "wrong grant type",
            {"data": {"grant_type": "password"}, "auth": (cid, secret)},
            400,
            "unsupported_grant_type",
            False,
        ),
        ("missing grant type", {"data": {}, "auth": (cid, secret)}, 400, "invalid_request", False),
        (
            "another client_id in the form than in Basic",
            {"data": {**grant, "client_id": other_cid}, "auth": (cid, secret)},
            400,
            "invalid_request",
            False,
        ),
        (
            "two authentication methods",
            {"data": {**grant, "client_id": cid, "client_secret": secret}, "auth": (cid, secret)},
            400,
            "invalid_request",
            False,
        ),
        ("JSON body", {"json": grant, "auth": (cid, secret)}, 400, "invalid_request", False),
        (
            "repeated parameter",
            {
                "content": "grant_type=client_credentials&grant_type=client_credentials",
                "headers": {
                    "Content-Type": "application/x-www-form-urlencoded",
                    **_basic(f"{cid}:{secret}"),
                },
            },
            400,
            "invalid_request",
            False,
        ),
    ]
    for what, kw, status, error, basic in cases:
        r = host.client.post("/auth/token", **kw)  # type: ignore[arg-type]
        assert r.status_code == status, (what, r.text)
        body = r.json()
        assert body["error"] == error, what
        assert body["error_description"], what
        assert ("www-authenticate" in r.headers) is basic, what
        if basic:
            assert r.headers["www-authenticate"].startswith("Basic"), what
        assert "access_token" not in body
    assert token_count(host) == 0  # nothing issued


def test_revoked_client(host: Host) -> None:
    token = host.token(DE_VRIES)
    host.store.revoke_client(host.creds[DE_VRIES][0])
    r = host.client.post(
        "/auth/token", data={"grant_type": "client_credentials"}, auth=host.creds[DE_VRIES]
    )
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    r = host.client.get("/3/footprints", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 400 and r.json()["code"] == "BadRequest"


# ----------------------------------------------------------------------------- access tokens


def test_token_errors_on_every_action(host: Host) -> None:
    event = {"specversion": "1.0", "id": "e1", "source": "//x", "type": EVENT_PUBLISHED}
    event["data"] = {"pfIds": [A]}  # type: ignore[assignment]
    calls: list[Callable[[dict[str, str]], Any]] = [
        lambda hdr: host.client.get("/3/footprints", headers=hdr),
        lambda hdr: host.client.get(f"/3/footprints/{A}", headers=hdr),
        lambda hdr: host.client.post(
            "/3/events",
            content=json.dumps(event),
            headers={**hdr, "Content-Type": "application/cloudevents+json"},
        ),
    ]
    for call in calls:
        # no token: PACT BadRequest (400) with a Bearer challenge (FP-42)
        r = call({})
        assert r.status_code == 400 and r.json()["code"] == "BadRequest"
        assert r.headers["www-authenticate"].startswith("Bearer")
        assert "data" not in r.json()
        # an unknown token: 400 BadRequest as the PACT conformance tests #6, #7, #16 expect
        r = call({"Authorization": "Bearer invalid-access-token"})
        assert r.status_code == 400 and r.json() == {
            "code": "BadRequest",
            "message": "Invalid access token",
        }
        assert 'error="invalid_token"' in r.headers["www-authenticate"]
        r = call({"Authorization": "Basic abc"})
        assert r.status_code == 400
    # expiry: issued at START, valid 3600 s (FP-42)
    token = host.token(DE_VRIES)
    hdr = {"Authorization": f"Bearer {token}"}
    host.now[0] += dt.timedelta(seconds=3599)
    assert calls[0](hdr).status_code == 200
    host.now[0] += dt.timedelta(seconds=1)
    for call in calls:
        r = call(hdr)
        assert r.status_code == 401, r.text
        assert r.json()["code"] == "TokenExpired"
        assert r.headers["www-authenticate"].startswith("Bearer")
        assert 'error="invalid_token"' in r.headers["www-authenticate"]
    with host.store.sessions() as s:
        assert s.execute(select(func.count()).select_from(PactEvent)).scalar_one() == 0
    # a new token works again
    host.tokens.clear()
    assert host.ids(DE_VRIES) == [A, B, C]


# ----------------------------------------------------------------------------- authorisation


def test_each_customer_sees_only_what_is_shared_with_it(host: Host) -> None:
    assert host.ids(DE_VRIES) == [A, B, C]
    assert host.ids(SMIT) == [D]
    assert host.ids(JANSEN) == [A, B, C, E]  # its own, shared or not
    host.store.share(JANSEN, [E], SMIT)
    assert host.ids(SMIT) == [E, D]
    assert host.store.unshare(JANSEN, [A], DE_VRIES) == 1
    assert host.ids(DE_VRIES) == [B, C]


def test_get_footprint_shared_and_not_shared(host: Host) -> None:
    fps = footprints()
    r = host.get(DE_VRIES, f"/3/footprints/{A}")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert r.json() == {"data": fps[A]}
    assert host.get(JANSEN, f"/3/footprints/{E}").json() == {"data": fps[E]}
    # not shared, another supplier's, unknown, not even a UUID: one and the same answer (FP-36)
    answers = [
        host.get(DE_VRIES, f"/3/footprints/{x}")
        for x in (E, D, "00000000-0000-4000-8000-000000000000", "non-existent-id")
    ]
    for r in answers:
        assert r.status_code == 404
        assert r.json() == {
            "code": "NoSuchFootprint",
            "message": "The specified footprint does not exist.",
        }
    assert len({r.content for r in answers}) == 1
    assert host.get(SMIT, f"/3/footprints/{A}").status_code == 404


# ----------------------------------------------------------------------------- filters

FILTER_CASES = [
    # (query, what De Vries gets); FP-35 for the validity criteria
    ("", [A, B, C]),
    ("?productId=urn:jansen:product:hea200", [A]),
    ("?productId=urn:jansen:product:hea200&productId=urn:jansen:product:ipe300", [A, B]),
    ("?productId=urn:jansen:product:hea120", []),  # E exists, but is not shared
    ("?productId=urn:nobody:1", []),
    ("?companyId=urn:kvk:12345678", [A, B, C]),
    ("?companyId=urn:kvk:87654321", []),
    ("?geography=NL", [A]),
    ("?geography=Western%20Europe", [B]),
    ("?geography=NL-UT&geography=NL", [A, C]),
    ("?classification=urn:cpc:41251", [B]),
    ("?status=Active", [A, B]),
    ("?status=Deprecated", [C]),
    # A, C valid 2026-01-01 – 2029-01-01 (reference end + 3 years); B 2026-02-01 – 2027-02-01
    ("?validOn=2026-06-01T00:00:00Z", [A, B, C]),
    ("?validOn=2027-06-01T00:00:00Z", [A, C]),
    ("?validOn=2027-02-01T00:00:00Z", [A, C]),  # the end is excluded
    ("?validOn=2026-01-01T00:00:00Z", [A, C]),  # the start is included
    ("?validOn=2025-06-01T00:00:00Z", []),
    ("?validAfter=2026-01-15T00:00:00Z", [B]),
    ("?validAfter=2026-01-01T00:00:00Z", [B]),  # strictly after
    ("?validBefore=2028-01-01T00:00:00Z", [B]),  # only a declared end counts
    ("?validBefore=2027-02-01T00:00:00Z", []),
    ("?status=Active&geography=NL", [A]),
    ("?status=Deprecated&geography=NL", []),
    ("?$productId=urn:jansen:product:ipe300&$status=Active", [B]),  # conformance tool (FP-41)
    ("?validOn=2026-06-01T02:00:00%2B02:00", [A, B, C]),  # any offset, compared in UTC
]


def test_list_filters(host: Host) -> None:
    for query, expected in FILTER_CASES:
        r = host.get(DE_VRIES, "/3/footprints" + query)
        assert r.status_code == 200, (query, r.text)
        assert [fp["id"] for fp in r.json()["data"]] == expected, query
        assert "link" not in r.headers
    assert host.get(DE_VRIES, "/3/footprints?productId=urn:nobody:1").json() == {"data": []}


def test_filters_agree_with_the_in_memory_registry(host: Host) -> None:
    """The SQL filters give what FootprintRegistry.list (pact.py, FP-35) gives."""
    reg = FootprintRegistry()
    fps = footprints()
    for fid in (A, B, C, E):
        reg.add(fps[fid], JANSEN)
    reg.add(fps[D], "Gieterij Li")
    for fid in (A, B, C):
        reg.share(fid, JANSEN, DE_VRIES)
    for query, _ in FILTER_CASES:
        params = parse_qs(urlsplit(query).query)
        filters = {k.lstrip("$"): v for k, v in params.items()}
        expected, _more = reg.list(DE_VRIES, filters)
        assert host.ids(DE_VRIES, query) == [fp["id"] for fp in expected], query


def test_list_bad_input(host: Host) -> None:
    cases = [
        ("?limit=0", "BadRequest", "limit"),
        ("?limit=-1", "BadRequest", "limit"),
        ("?limit=abc", "BadRequest", "limit"),
        ("?limit=1&limit=2", "BadRequest", "limit"),
        ("?status=active", "BadRequest", "status"),
        ("?validOn=2026-06-01", "BadRequest", "validOn"),
        ("?validAfter=yesterday", "BadRequest", "validAfter"),
        ("?validBefore=2026-06-01T00:00:00", "BadRequest", "validBefore"),  # no time zone
        ("?productId=", "BadRequest", "productId"),
        ("?offset=10", "BadRequest", "offset"),
        ("?filter=x", "BadRequest", "filter"),
        ("?cursor=abc", "BadRequest", "cursor"),
        ("?cursor=5.2", "BadRequest", "cursor"),
        ("?cursor=%C2%B2.3", "BadRequest", "cursor"),  # a superscript two is no digit
        ("?limit=%C2%B2", "BadRequest", "limit"),
        ("?limit=1000000000", "BadRequest", "limit"),
        ("?x-atq-invoice-id=12345", "NotImplemented", "x-atq-invoice-id"),
    ]
    for query, code, name in cases:
        r = host.get(DE_VRIES, "/3/footprints" + query)
        assert r.status_code == 400, (query, r.text)
        body = r.json()
        assert set(body) == {"code", "message"} and body["code"] == code, query
        assert body["message"].startswith(name), (query, body)
        assert len(body["message"].splitlines()) == 1


# ----------------------------------------------------------------------------- pagination


def _next_link(r: object) -> str | None:
    link = r.headers.get("link")  # type: ignore[attr-defined]
    if link is None:
        return None
    url, rel = link.split(";")
    assert rel.strip() == 'rel="next"' and url.startswith("<") and url.endswith(">")
    return str(url[1:-1])


def test_pagination_link_header(host: Host) -> None:
    r = host.get(JANSEN, "/3/footprints?limit=1&status=Active&status=Deprecated")
    assert [fp["id"] for fp in r.json()["data"]] == [A]
    link = _next_link(r)
    assert link is not None
    parts = urlsplit(link)
    assert parts.scheme == "https" and parts.netloc == "pact.example"  # absolute, same host
    q = parse_qs(parts.query)
    assert q["status"] == ["Active", "Deprecated"] and q["limit"] == ["1"]  # criteria kept
    pages = [[A]]
    seen_links = [link]
    while link is not None:
        r = host.get(JANSEN, link.removeprefix(HOST))
        assert r.status_code == 200
        pages.append([fp["id"] for fp in r.json()["data"]])
        link = _next_link(r)
        if link:
            seen_links.append(link)
    assert pages == [[A], [B], [C], [E]]
    # a pagination link gives the same set when called again, also after new footprints came
    extra = footprints()[A] | {"id": "0f1e2d3c-4b5a-4697-8877-665544332211"}
    host.store.add_footprints(JANSEN, [extra])
    again = host.get(JANSEN, seen_links[1].removeprefix(HOST))
    assert [fp["id"] for fp in again.json()["data"]] == [C]
    last = host.get(JANSEN, seen_links[2].removeprefix(HOST))
    assert [fp["id"] for fp in last.json()["data"]] == [E] and "link" not in last.headers
    # a new listing sees the new footprint
    assert host.ids(JANSEN)[-1] == extra["id"]


def test_pagination_limits(host: Host) -> None:
    r = host.get(DE_VRIES, "/3/footprints?limit=3")
    assert len(r.json()["data"]) == 3 and "link" not in r.headers
    r = host.get(DE_VRIES, "/3/footprints?limit=2&host=x")  # unknown parameter: no listing
    assert r.status_code == 400
    r = host.get(DE_VRIES, "/3/footprints?limit=100000")
    assert r.status_code == 200 and len(r.json()["data"]) == 3
    # the Link host is the request's Host header
    r = host.get(DE_VRIES, "/3/footprints?limit=2", headers={"Host": "other.example"})
    link = _next_link(r)
    assert link is not None and urlsplit(link).netloc == "other.example"
    # a cursor only narrows what the caller may see: Smit following De Vries' link gets only
    # its own share D (seq 5 of the snapshot 1–5), never De Vries' C
    r = host.get(SMIT, link.removeprefix("https://other.example"))
    assert r.status_code == 200 and [fp["id"] for fp in r.json()["data"]] == [D]


# ----------------------------------------------------------------------------- events


def event(kind: str, data: dict[str, object], eid: str = "ev-1") -> dict[str, object]:
    return {
        "type": kind,
        "specversion": "1.0",
        "id": eid,
        "source": "//buyer.example/3/events",
        "time": "2026-06-01T12:00:00Z",
        "data": data,
    }


def stored_events(h: Host) -> list[tuple[str, str]]:
    with h.store.sessions() as s:
        return [(e.type, e.event_id) for e in s.execute(select(PactEvent)).scalars()]


def test_events_accepted(host: Host) -> None:
    good = [
        event(
            EVENT_REQUEST_CREATED,
            {
                "productId": ["urn:jansen:product:hea200"],
                "geography": ["NL"],
                "validAfter": "2025-01-01T00:00:00Z",
                "status": "Active",
                "comment": "Please send the 2025 PCF.",
            },
            "r1",
        ),
        event(
            EVENT_REQUEST_CREATED,
            {"pf": {"productIds": ["urn:gtin:1234567890123"]}, "comment": "conformance tool form"},
            "r2",
        ),
        event(EVENT_PUBLISHED, {"pfIds": [A, B]}, "p1"),
        event(EVENT_REQUEST_FULFILLED, {"requestEventId": "r1", "pfs": [footprints()[A]]}, "f1"),
        event(EVENT_REQUEST_FULFILLED, {"requestEventId": "r2", "pfs": []}, "f2"),
        event(
            EVENT_REQUEST_REJECTED,
            {"requestEventId": "r2", "error": {"code": "NoSuchFootprint", "message": "not found"}},
            "j1",
        ),
    ]
    for ev in good:
        r = host.post_event(DE_VRIES, ev)
        assert r.status_code == 200, r.text
        assert r.content == b""
    # plain application/json is accepted too (FP-40); no "time" is fine
    ev = event(EVENT_PUBLISHED, {"pfIds": [C]}, "p2")
    del ev["time"]
    r = host.post_event(DE_VRIES, ev, headers={"Content-Type": "application/json"})
    assert r.status_code == 200
    assert len(stored_events(host)) == 7
    # the same event again: accepted, stored once (CloudEvents: source + id identify it)
    assert host.post_event(DE_VRIES, good[2]).status_code == 200
    assert len(stored_events(host)) == 7
    # the same id from another organisation is another event
    assert host.post_event(SMIT, good[2]).status_code == 200
    assert len(stored_events(host)) == 8
    received = host.store.events(DE_VRIES)
    assert [e["type"] for e in received][:3] == [
        "RequestCreatedEvent.3",
        "RequestCreatedEvent.3",
        "PublishedEvent.3",
    ]
    assert received[0]["data"]["comment"] == "Please send the 2025 PCF."


def test_events_refused(host: Host) -> None:
    ok = event(EVENT_PUBLISHED, {"pfIds": [A]})
    assert host.post_event(DE_VRIES, ok).status_code == 200

    def without(key: str) -> dict[str, object]:
        return {k: v for k, v in ok.items() if k != key}

    bad_fp = footprints()[A] | {"pcf": {**footprints()[A]["pcf"], "declaredUnitAmount": 1}}
    cases: list[tuple[object, str]] = [
        ([ok], ""),
        ("null", ""),
        (without("specversion"), "specversion"),
        (ok | {"specversion": "0.3"}, "specversion"),
        (without("id"), "id"),
        (ok | {"id": ""}, "id"),
        (ok | {"id": 7}, "id"),
        (without("source"), "source"),
        (without("type"), "type"),
        (ok | {"type": "org.wbcsd.pathfinder.ProductFootprint.Published.v1"}, "type"),
        (ok | {"type": "com.example.Other"}, "type"),
        (ok | {"time": "yesterday"}, "time"),
        (without("data"), "data"),
        (ok | {"data": [A]}, "data"),
        (event(EVENT_PUBLISHED, {}), "data.pfIds"),
        (event(EVENT_PUBLISHED, {"pfIds": []}), "data.pfIds"),
        (event(EVENT_PUBLISHED, {"pfIds": [""]}), "data.pfIds[0]"),
        (event(EVENT_REQUEST_CREATED, {"productIds": ["urn:x:1"]}), "data.productIds"),
        (event(EVENT_REQUEST_CREATED, {"productId": "urn:x:1"}), "data.productId"),
        (event(EVENT_REQUEST_CREATED, {"validOn": "2026"}), "data.validOn"),
        (event(EVENT_REQUEST_CREATED, {"status": "Gone"}), "data.status"),
        (event(EVENT_REQUEST_CREATED, {"comment": 5}), "data.comment"),
        (event(EVENT_REQUEST_CREATED, {"pf": {"productId": ["x"]}}), "data.pf"),
        (event(EVENT_REQUEST_FULFILLED, {"pfs": []}), "data.requestEventId"),
        (event(EVENT_REQUEST_FULFILLED, {"requestEventId": "r1"}), "data.pfs"),
        (
            event(EVENT_REQUEST_FULFILLED, {"requestEventId": "r1", "pfs": [bad_fp]}),
            "data.pfs[0].pcf.declaredUnitAmount",
        ),
        (event(EVENT_REQUEST_REJECTED, {"requestEventId": "r1", "error": "no"}), "data.error"),
        (
            event(EVENT_REQUEST_REJECTED, {"requestEventId": "r1", "error": {"code": "X"}}),
            "data.error",
        ),
        # the same source + id with another body
        (event(EVENT_PUBLISHED, {"pfIds": [B]}), "id"),
    ]
    for body, field in cases:
        r = host.post_event(DE_VRIES, body)
        assert r.status_code == 400, (body, r.text)
        out = r.json()
        assert out["code"] == "BadRequest", body
        if field:
            assert out["message"].startswith(f"{field}: "), (field, out)
    raw = [
        ("{not json", "application/cloudevents+json", "not JSON"),
        (b"\xff\xfe", "application/cloudevents+json", "UTF-8"),
        ("[" * 100000 + "]" * 100000, "application/cloudevents+json", "not JSON"),
        (json.dumps(ok), "text/plain", "cloudevents+json"),
    ]
    for content, ctype, words in raw:
        r = host.post_event(DE_VRIES, content, headers={"Content-Type": ctype})
        assert r.status_code == 400 and words in r.json()["message"], r.text
    assert stored_events(host) == [(EVENT_PUBLISHED, "ev-1")]  # nothing else stored
