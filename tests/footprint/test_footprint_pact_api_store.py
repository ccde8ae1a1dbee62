"""PACT exchange in the database (issue 7) on SQLite and PostgreSQL: the load rules for
footprints (FP-37), credentials kept as hashes, the CLI (org-create, client-create, load, share),
the migration, and footprints fetched over HTTP feeding the scope 3.1 calculation."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from footprint_pactapi import (
    DE_VRIES,
    HOST,
    JANSEN,
    SMIT,
    A,
    B,
    C,
    E,
    Host,
    footprints,
    make_host,
)
from footprint_pactdocs import doc
from sqlalchemy import func, select
from typer.testing import CliRunner

from keten.cli.footprint import app
from keten.core.errors import InputError
from keten.core.params import load_set
from keten.core.trace import Trace
from keten.footprint.pact_store import PactStore, plus_years
from keten.footprint.scope3 import scope3
from keten.io.footprint_files import PURCHASE_COLUMNS, read_purchases
from keten.store.db import make_engine, session_factory, upgrade
from keten.store.pact_models import PactClient, PactFootprint, PactFootprintKey, PactOrg
from keten.web.pact_api import create_pact_router


@pytest.fixture
def host(database_url: str) -> Iterator[Host]:
    yield from make_host(database_url)


# ----------------------------------------------------------------------------- load rules (FP-37)


def footprint_rows(h: Host) -> list[tuple[str, str, str]]:
    with h.store.sessions() as s:
        return [
            (r.pf_id, r.status, r.content_hash)
            for r in s.execute(select(PactFootprint).order_by(PactFootprint.seq)).scalars()
        ]


def test_loading_the_same_footprint_again(host: Host) -> None:
    before = footprint_rows(host)
    fps = footprints()
    # identical content: nothing changes
    assert host.store.add_footprints(JANSEN, [fps[A]]).actions == [(A, "unchanged")]
    assert footprint_rows(host) == before
    # Active → Deprecated (with a statusComment) under the same id is accepted
    dep = fps[A] | {"status": "Deprecated", "statusComment": "replaced by a new calculation"}
    assert host.store.add_footprints(JANSEN, [dep]).actions == [(A, "deprecated")]
    assert host.get(DE_VRIES, f"/3/footprints/{A}").json()["data"] == dep
    assert host.ids(DE_VRIES, "?status=Deprecated") == [A, C]
    # the successor gets a new id and lists A in precedingPfIds; it is shared like any other
    new_id = "2b3c4d5e-6f70-4182-9a3b-4c5d6e7f8091"
    succ = doc(id=new_id, precedingPfIds=[A], pcf__pcfExcludingBiogenicUptake="1700")
    assert host.store.add_footprints(JANSEN, [succ]).actions == [(new_id, "added")]
    host.store.share(JANSEN, [new_id], DE_VRIES)
    assert host.ids(DE_VRIES, "?status=Active&productId=urn:jansen:product:hea200") == [new_id]


def test_load_refusals_change_nothing(host: Host) -> None:
    fps = footprints()
    before = footprint_rows(host)
    with host.store.sessions() as s:
        keys_before = s.execute(select(func.count()).select_from(PactFootprintKey)).scalar_one()
    new = doc(id="3c4d5e6f-7081-4293-a4b5-c6d7e8f90a1b")
    cases: list[tuple[str, list[object], str, str]] = [
        # another value under the same id: PACT v3 wants a new id (FP-37)
        (JANSEN, [new, fps[A] | {"comment": "typo fixed"}], "data[1].id", "precedingPfIds"),
        # Deprecated → Active is not a deprecation
        (JANSEN, [new, fps[C] | {"status": "Active"}], "data[1].id", "precedingPfIds"),
        # an id of another organisation
        (SMIT, [fps[A]], "data[0].id", "another organisation"),
        # invalid footprints, with the JSON path
        (
            JANSEN,
            [new, doc(pcf__declaredUnitOfMeasurement="tonne")],
            "data[1].pcf.declaredUnitOfMeasurement",
            "not a unit",
        ),
        (
            JANSEN,
            [doc(pcf__pcfExcludingBiogenicUptake="-1")],
            "data[0].pcf.pcfExcludingBiogenicUptake",
            "negative",
        ),
        (
            JANSEN,
            [doc(pcf__fossilGhgEmissions=12.5)],
            "data[0].pcf.fossilGhgEmissions",
            "decimal string",
        ),
        (JANSEN, [doc(productIds="DELETE")], "data[0].productIds", "missing"),
        (JANSEN, ["not an object"], "data[0]", "JSON object"),
        (JANSEN, [new, new], "data[1].id", "duplicate"),
        (JANSEN, [doc(id=A.upper())], "data[0].id", "lower case"),
        (JANSEN, [doc(productIds=["urn:x:" + "y" * 2000])], "data[0]", "longer than"),
        ("Nobody BV", [new], "owner", "unknown owner"),
    ]
    for owner, items, field, words in cases:
        with pytest.raises(InputError) as err:
            host.store.add_footprints(owner, items)
        assert err.value.field == field, (field, str(err.value))
        assert words in err.value.reason, (words, str(err.value))
    with pytest.raises(InputError, match="no footprints"):
        host.store.add_footprints(JANSEN, [])
    assert footprint_rows(host) == before  # all or nothing: `new` was not stored either
    with host.store.sessions() as s:
        assert s.execute(select(func.count()).select_from(PactFootprintKey)).scalar_one() == (
            keys_before
        )


def test_share_refusals(host: Host) -> None:
    cases: list[tuple[Callable[[], object], str]] = [
        (lambda: host.store.share(JANSEN, [A], "Nobody BV"), "customer"),
        (lambda: host.store.share("Nobody BV", [A], DE_VRIES), "owner"),
        (lambda: host.store.share(SMIT, [A], DE_VRIES), "id"),  # not Smit's footprint
        (lambda: host.store.share(JANSEN, ["0000"], DE_VRIES), "id"),
        (lambda: host.store.share(JANSEN, [], DE_VRIES), "id"),
        (lambda: host.store.share(JANSEN, [A], JANSEN), "customer"),
        (lambda: host.store.unshare(SMIT, [A], DE_VRIES), "id"),
        (lambda: host.store.create_org(JANSEN), "name"),
        (lambda: host.store.create_org("  "), "name"),
        (lambda: host.store.create_client("Nobody BV"), "organisation"),
        (lambda: host.store.revoke_client("pc_nobody"), "client_id"),
    ]
    for call, field in cases:
        with pytest.raises(InputError) as err:
            call()
        assert err.value.field == field, str(err.value)
    assert host.ids(DE_VRIES) == [A, B, C] and host.ids(SMIT) != [A]
    assert host.store.share(JANSEN, [A, E], DE_VRIES) == 1  # A was shared already


def test_plus_years_on_29_february() -> None:
    import datetime as dt

    leap = dt.datetime(2024, 2, 29, tzinfo=dt.UTC)
    assert plus_years(leap, 3) == dt.datetime(2027, 2, 28, tzinfo=dt.UTC)  # FP-39
    assert plus_years(leap, 4) == dt.datetime(2028, 2, 29, tzinfo=dt.UTC)


# ----------------------------------------------------------------------------- credentials


def test_client_secret_is_kept_as_an_argon2_hash(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine, "heads")
    store = PactStore(session_factory(engine))  # the production hasher
    store.create_org(DE_VRIES)
    cred = store.create_client(DE_VRIES, "erp")
    with store.sessions() as s:
        row = s.execute(select(PactClient)).scalar_one()
    assert row.secret_hash.startswith("$argon2id$") and cred.client_secret not in row.secret_hash
    assert PasswordHasher().verify(row.secret_hash, cred.client_secret)
    assert store.issue_token(cred.client_id, cred.client_secret).expires_in == 3600
    engine.dispose()


# ----------------------------------------------------------------------------- CLI


def cli(database_url: str, *args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(app, ["pact", *args], env={"KETEN_DATABASE_URL": database_url})
    return r.exit_code, r.stdout, r.stderr


def test_cli_org_client_load_share(database_url: str, tmp_path: Path) -> None:
    fps = footprints()
    f = tmp_path / "jansen.json"
    f.write_text(json.dumps({"data": [fps[A], fps[B], fps[E]]}), encoding="utf-8")
    for org in (JANSEN, DE_VRIES):
        assert cli(database_url, "org-create", org)[0] == 0
    code, out, err = cli(database_url, "client-create", "--org", DE_VRIES, "--label", "ERP")
    assert code == 0 and "shown" not in out and "hash" in err
    lines = dict(line.split(": ", 1) for line in out.strip().splitlines())
    cid, secret = lines["client_id"], lines["client_secret"]
    code, out, _ = cli(database_url, "load", "--owner", JANSEN, str(f), "--format", "json")
    assert code == 0
    assert [r["action"] for r in json.loads(out)] == ["added", "added", "added"]
    assert (
        cli(database_url, "share", "--owner", JANSEN, "--customer", DE_VRIES, "--id", A, "--id", B)[
            0
        ]
        == 0
    )
    code, out, _ = cli(database_url, "list", "--owner", JANSEN, "--format", "json")
    assert [(r["id"], r["shared_with"]) for r in json.loads(out)] == [
        (A, DE_VRIES),
        (B, DE_VRIES),
        (E, ""),
    ]
    # the printed credentials work against the API on the same database
    engine = make_engine(database_url)
    api = FastAPI()
    api.include_router(create_pact_router(PactStore(session_factory(engine))))
    with TestClient(api, base_url=HOST) as client:
        r = client.post(
            "/auth/token", data={"grant_type": "client_credentials"}, auth=(cid, secret)
        )
        token = r.json()["access_token"]
        r = client.get("/3/footprints", headers={"Authorization": f"Bearer {token}"})
        assert [fp["id"] for fp in r.json()["data"]] == [A, B]
    engine.dispose()
    # the same file again: unchanged
    code, out, _ = cli(database_url, "load", "--owner", JANSEN, str(f), "--format", "json")
    assert {r["action"] for r in json.loads(out)} == {"unchanged"}


def test_cli_refusals(database_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"data": [doc(pcf__declaredUnitAmount="0")]}), encoding="utf-8")
    good = tmp_path / "good.json"
    good.write_text(json.dumps(doc()), encoding="utf-8")
    assert cli(database_url, "org-create", JANSEN)[0] == 0
    cases = [
        (("org-create", JANSEN), "exists already"),
        (("client-create", "--org", "Nobody BV"), "unknown organisation"),
        (("load", "--owner", JANSEN, str(bad)), "bad.json, field 'data[0].pcf.declaredUnitAmount'"),
        (("load", "--owner", "Nobody BV", str(good)), "good.json, field 'owner'"),
        (("load", "--owner", JANSEN, str(tmp_path / "missing.json")), "file not found"),
        (("share", "--owner", JANSEN, "--customer", JANSEN, "--id", A), "its own"),
        (("share", "--owner", JANSEN, "--customer", JANSEN, "--all"), "has no footprints"),
        (("share", "--owner", JANSEN, "--customer", "X"), "--id"),
        (("client-revoke", "pc_x"), "unknown client"),
    ]
    for args, words in cases:
        code, out, err = cli(database_url, *args)
        assert code == 2 and out == "", (args, out, err)
        assert len(err.strip().splitlines()) == 1 and words in err, (args, err)
    engine = make_engine(database_url)
    with session_factory(engine)() as s:
        assert s.execute(select(func.count()).select_from(PactFootprint)).scalar_one() == 0
        assert s.execute(select(func.count()).select_from(PactOrg)).scalar_one() == 1
    engine.dispose()


# ----------------------------------------------------------------------------- migration


def test_migration_matches_the_models_and_downgrades(database_url: str) -> None:
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from keten.store.db import alembic_config
    from keten.store.models import Base

    engine = make_engine(database_url)
    upgrade(engine, "heads")
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert [d for d in diff if "pact" in str(d)] == []
    command.downgrade(alembic_config(engine), "0010-1")  # just below this migration
    with engine.connect() as conn:
        names = set(engine.dialect.get_table_names(conn))
    assert not any(n.startswith("pact_") for n in names) and "reg_holder" in names
    upgrade(engine, "heads")
    engine.dispose()


# ----------------------------------------------------------------------------- scope 3.1


def purchases(tmp_path: Path, rows: list[str]) -> Path:
    f = tmp_path / "purchases.csv"
    f.write_text(",".join(PURCHASE_COLUMNS) + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return f


def test_footprints_from_the_api_feed_scope_3_1(host: Host, tmp_path: Path) -> None:
    data = host.get(DE_VRIES, "/3/footprints?status=Active").json()["data"]
    assert [fp["id"] for fp in data] == [A, B]
    rows = ["Jansen,HEA 200,supplier,,,,,,5000,kilogram,,,urn:jansen:product:hea200,,300"]
    trace = Trace(load_set("footprint", "beleidsagenda-2026"))
    res = scope3(read_purchases(purchases(tmp_path, rows)), trace, 2026, pacts=data)
    # supplier-specific: 5,000 kg × 1,850.5 kg CO2e / 1,000 kg = 9,252.5 kg (FP-34)
    assert res.total("3.1") == Decimal("9252.5")
    assert res.lines[0].basis == f"PACT footprint {A}"
    assert res.primary_share == Decimal(100)  # all supplier data
    # the same through the CLI: the API response saved as a file is a --pact file
    saved = tmp_path / "from-api.json"
    saved.write_text(host.get(DE_VRIES, "/3/footprints").text, encoding="utf-8")
    r = CliRunner().invoke(
        app,
        [
            *("scope3", "--purchases", str(purchases(tmp_path, rows))),
            *("--pact", str(saved), "--format", "json"),
        ],
    )
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["category_3_1_kg_co2e"] == 9252.5
    # a footprint that is not shared (E) or deprecated (C) cannot feed the calculation
    for product in ("urn:jansen:product:hea120", "urn:jansen:product:hea100"):
        row = f"Jansen,HEA,supplier,,,,,,10,kilogram,,,{product},,"
        with pytest.raises(InputError, match="no active PACT footprint"):
            scope3(read_purchases(purchases(tmp_path, [row])), trace, 2026, pacts=data)


# ----------------------------------------------------------------------------- docs example

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "footprint"


def test_docs_worked_example(tmp_path: Path) -> None:
    """docs/footprint.md "PACT over HTTP": the commands, ids and answers shown there."""
    url = f"sqlite:///{tmp_path / 'keten.db'}"
    jansen = tmp_path / "jansen.json"
    steps = [
        ("org-create", "Staalbouw Jansen BV"),
        ("org-create", "Bouwbedrijf De Vries"),
        (
            *("export", "--footprints", str(EXAMPLES / "pcf.csv")),
            *("--company-name", "Staalbouw Jansen BV", "--company-id", "urn:kvk:12345678"),
            *("--created", "2026-03-01T09:00:00Z", "--out", str(jansen)),
        ),
        ("load", "--owner", "Staalbouw Jansen BV", str(jansen)),
        ("share", "--owner", "Staalbouw Jansen BV", "--customer", "Bouwbedrijf De Vries", "--all"),
    ]
    for step in steps:
        code, _, err = cli(url, *step)
        assert code == 0, (step, err)
    code, out, _ = cli(url, "client-create", "--org", "Bouwbedrijf De Vries", "--label", "ERP")
    creds = dict(line.split(": ", 1) for line in out.strip().splitlines())
    engine = make_engine(url)
    store = PactStore(session_factory(engine))
    api = FastAPI()
    api.include_router(create_pact_router(store))
    hea200 = "ac586e03-0011-5590-be6a-44cdea7cb5b6"
    with TestClient(api, base_url="https://keten.example") as client:
        r = client.post(
            "/auth/token",
            content="grant_type=client_credentials",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            auth=(creds["client_id"], creds["client_secret"]),
        )
        assert r.json()["token_type"] == "bearer" and r.json()["expires_in"] == 3600
        auth = {"Authorization": f"Bearer {r.json()['access_token']}"}
        r = client.get("/3/footprints", headers=auth)
        (fp,) = r.json()["data"]
        assert r.text.startswith('{"data":[{"companyIds":["urn:kvk:12345678"],')
        assert fp["id"] == hea200 and fp["created"] == "2026-03-01T09:00:00Z"
        assert fp["pcf"]["declaredUnitAmount"] == "1000"
        assert fp["pcf"]["pcfExcludingBiogenicUptake"] == "1850.5"
        q = "?productId=urn:jansen:product:hea200&status=Active"
        assert [f["id"] for f in client.get("/3/footprints" + q, headers=auth).json()["data"]] == [
            hea200
        ]
        # "with a second footprint loaded and shared"
        store.add_footprints("Staalbouw Jansen BV", [footprints()[B]])
        store.share("Staalbouw Jansen BV", [B], "Bouwbedrijf De Vries")
        r = client.get("/3/footprints?limit=1", headers=auth)
        assert r.headers["link"] == (
            '<https://keten.example/3/footprints?limit=1&cursor=1.2>; rel="next"'
        )
        assert [f["id"] for f in r.json()["data"]] == [hea200]
        r = client.get("/3/footprints?limit=1&cursor=1.2", headers=auth)
        assert [f["id"] for f in r.json()["data"]] == [B] and "link" not in r.headers
        r = client.get("/3/footprints/00000000-0000-4000-8000-000000000000", headers=auth)
        assert r.status_code == 404
        assert r.text == (
            '{"code":"NoSuchFootprint","message":"The specified footprint does not exist."}'
        )
        ev = {
            "type": "org.wbcsd.pact.ProductFootprint.RequestCreatedEvent.3",
            "specversion": "1.0",
            "id": "req-2026-001",
            "source": "//erp.devries.example/pact",
            "time": "2026-06-01T12:00:00Z",
            "data": {"productId": ["urn:jansen:product:hea200"], "comment": "2026 please"},
        }
        r = client.post(
            "/3/events",
            content=json.dumps(ev),
            headers={**auth, "Content-Type": "application/cloudevents+json"},
        )
        assert r.status_code == 200 and r.content == b""
    code, out, _ = cli(url, "events", "--org", "Bouwbedrijf De Vries")
    assert json.loads(out)[0]["id"] == "req-2026-001"
    engine.dispose()
