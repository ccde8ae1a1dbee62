"""Fuzzing the register API from its own OpenAPI document: for every write endpoint, bodies and
path ids drawn by hypothesis — well-typed, ill-typed and hostile — never give a 5xx, and the ledger
invariants hold afterwards. (A hypothesis-based stand-in for schemathesis, on SQLite.)"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keten.core.params import load_set
from keten.ledger.service import Ledger
from keten.ledger.verify import verify
from keten.registry.service import BookingInput, Registry
from keten.store.db import make_engine, session_factory, upgrade
from keten.web.api import create_app

PW = "correct horse battery"

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(
        [
            "land",
            "annex-ixa",
            "hvo",
            "l",
            "1e3",
            "NaN",
            "-0",
            "9" * 40,
            "",
            "land/other",
            "Handel BV",
            "Brandstof BV",
            "'; DROP TABLE reg_user; --",
        ]
    ),
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=10,
)


@pytest.fixture(scope="module")
def client(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[TestClient, Registry, dict[str, str]]]:
    db = tmp_path_factory.mktemp("fuzz") / "keten.db"
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    now = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    reg = Registry(Ledger(session_factory(engine), clock=lambda: now), load_set("ev", "bijlage-1"))
    reg.init()
    reg.create_holder("Brandstof BV", can_book=True, has_obligation=True, actor="t", key="h1")
    reg.create_holder("Handel BV", actor="t", key="h2")
    for name, role, holder in (
        ("alice", "rekeningbevoegde", "Brandstof BV"),
        ("bob", "fiatteur", "Brandstof BV"),
        ("nea", "toezichthouder", None),
    ):
        reg.create_user(name, PW, role, holder, actor="t", key=f"u-{name}")
    alice, bob = reg.login("alice", PW), reg.login("bob", PW)
    bid = reg.propose_booking(
        alice,
        BookingInput("P1", 2026, "land", "other", "electricity", "100000", "kWh", None),
        key="p1",
    )
    reg.decide_booking(bob, bid, approve=True, key="a1")
    tokens = {
        n: reg.create_token(reg.login(n, PW), "fuzz", key=f"tok-{n}")
        for n in ("alice", "bob", "nea")
    }
    with TestClient(create_app(reg)) as c:
        yield c, reg, tokens
    engine.dispose()


def _write_endpoints(spec: dict) -> list[str]:  # type: ignore[type-arg]
    return sorted(
        p for p, ops in spec["paths"].items() if "post" in ops and not p.endswith("/bulk")
    )


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_no_5xx_and_invariants_hold(client, data) -> None:  # type: ignore[no-untyped-def]
    c, reg, tokens = client
    paths = _write_endpoints(c.get("/api/v1/openapi.json").json())
    path = data.draw(st.sampled_from(paths))
    for part in ("{booking_id}", "{transfer_id}", "{year}", "{name}"):
        if part in path:
            value = data.draw(
                st.one_of(
                    st.integers(-5, 2**40),
                    st.text(
                        st.characters(
                            min_codepoint=33, max_codepoint=126, exclude_characters="/?#%"
                        ),
                        min_size=1,
                        max_size=8,
                    ),
                )
            )
            path = path.replace(part, str(value))
    who = data.draw(st.sampled_from(["alice", "bob", "nea"]))
    token = tokens[who]
    body = data.draw(json_values)
    key = data.draw(
        st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=20)
    )
    r = c.post(
        path, json=body, headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key}
    )
    assert r.status_code < 500, (path, body, r.text)
    with reg.ledger.sessions() as s:
        assert verify(s) == []
