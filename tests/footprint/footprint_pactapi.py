"""A PACT host for the API tests: a real database (SQLite or PostgreSQL), a supplier with four
footprints, a second supplier, two customers, and a FastAPI app with only the PACT router.

Who sees what (FP-36):

- Staalbouw Jansen BV (supplier, urn:kvk:12345678) owns A, B, C, E; shares A, B, C with
  Bouwbedrijf De Vries; E with nobody.
- Gieterij Li (supplier, urn:kvk:87654321) owns D; shares it with Aannemer Smit.

Footprints (validity per FP-35: start = validityPeriodStart or referencePeriodEnd, end =
validityPeriodEnd or start + 3 years):

- A: HEA 200, NL, reference period 2025, valid 2026-01-01 – 2029-01-01, Active.
- B: IPE 300, Western Europe, classification urn:cpc:41251, valid 2026-02-01 – 2027-02-01
  (declared), Active.
- C: HEA 100, NL-UT, valid 2026-01-01 – 2029-01-01, Deprecated.
- D: castings of Gieterij Li, CN, Active.
- E: HEA 120 of Jansen, NL, not shared.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from footprint_pactdocs import VALID, doc
from sqlalchemy import Engine

from keten.footprint.pact_store import PactStore
from keten.store.db import make_engine, session_factory, upgrade
from keten.web.pact_api import create_pact_router

JANSEN, LI, DE_VRIES, SMIT = (
    "Staalbouw Jansen BV",
    "Gieterij Li",
    "Bouwbedrijf De Vries",
    "Aannemer Smit",
)
A = VALID["id"]
B = "5b0c2a47-8d3e-4f61-9c2a-7e1d4b6f8a20"
C = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
D = "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
E = "7e6d5c4b-3a29-4817-a6f5-e4d3c2b1a098"
HOST = "https://pact.example"
# argon2 with low cost for speed; the production default (PasswordHasher()) is checked in
# test_footprint_pact_api_store.py
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
START = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


def footprints() -> dict[str, dict[str, Any]]:
    return {
        A: doc(),
        B: doc(
            id=B,
            productIds=["urn:jansen:product:ipe300"],
            productNameCompany="IPE 300 beam",
            productClassifications=["urn:cpc:41251"],
            validityPeriodStart="2026-02-01T00:00:00Z",
            validityPeriodEnd="2027-02-01T00:00:00Z",
            pcf__geographyCountry="DELETE",
            pcf__geographyRegionOrSubregion="Western Europe",
        ),
        C: doc(
            id=C,
            status="Deprecated",
            productIds=["urn:jansen:product:hea100"],
            productNameCompany="HEA 100 beam",
            pcf__geographyCountry="DELETE",
            pcf__geographyCountrySubdivision="NL-UT",
        ),
        E: doc(id=E, productIds=["urn:jansen:product:hea120"], productNameCompany="HEA 120"),
        D: doc(
            id=D,
            companyName="Gieterij Li",
            companyIds=["urn:kvk:87654321"],
            productIds=["urn:li:product:casting"],
            productNameCompany="Casting",
            pcf__geographyCountry="CN",
        ),
    }


@dataclass
class Host:
    client: TestClient
    store: PactStore
    engine: Engine
    now: list[dt.datetime]
    creds: dict[str, tuple[str, str]] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def token(self, org: str) -> str:
        if org not in self.tokens:
            cid, secret = self.creds[org]
            r = self.client.post(
                "/auth/token", data={"grant_type": "client_credentials"}, auth=(cid, secret)
            )
            assert r.status_code == 200, r.text
            self.tokens[org] = r.json()["access_token"]
        return self.tokens[org]

    def get(self, org: str | None, url: str, **kw: Any) -> Any:
        headers = dict(kw.pop("headers", {}))
        if org is not None:
            headers["Authorization"] = f"Bearer {self.token(org)}"
        return self.client.get(url, headers=headers, **kw)

    def post_event(self, org: str | None, body: Any, **kw: Any) -> Any:
        headers = {"Content-Type": "application/cloudevents+json; charset=UTF-8"}
        headers.update(kw.pop("headers", {}))
        if org is not None:
            headers["Authorization"] = f"Bearer {self.token(org)}"
        content = body if isinstance(body, str | bytes) else _dumps(body)
        return self.client.post("/3/events", content=content, headers=headers, **kw)

    def ids(self, org: str, query: str = "") -> list[str]:
        r = self.get(org, "/3/footprints" + query)
        assert r.status_code == 200, r.text
        return [fp["id"] for fp in r.json()["data"]]


def _dumps(obj: Any) -> str:
    import json

    return json.dumps(obj)


def make_host(database_url: str) -> Iterator[Host]:
    engine = make_engine(database_url)
    upgrade(engine, "heads")  # other branches may be pending a merge of revisions
    now = [START]
    store = PactStore(session_factory(engine), clock=lambda: now[0], hasher=FAST_HASHER)
    for org in (JANSEN, LI, DE_VRIES, SMIT):
        store.create_org(org)
    fps = footprints()
    store.add_footprints(JANSEN, [fps[A], fps[B], fps[C], fps[E]])
    store.add_footprints(LI, [fps[D]])
    store.share(JANSEN, [A, B, C], DE_VRIES)
    store.share(LI, [D], SMIT)
    app = FastAPI()
    app.include_router(create_pact_router(store))
    host = Host(TestClient(app, base_url=HOST), store, engine, now)
    for org in (JANSEN, DE_VRIES, SMIT):
        cred = store.create_client(org, "test")
        host.creds[org] = (cred.client_id, cred.client_secret)
    with host.client:
        yield host
    engine.dispose()
