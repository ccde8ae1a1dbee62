"""People of a PACT organisation: the role ketenpartner (no register holder), `keten footprint
pact member-add --org --user`, and migration 0011 (reg_user.pact_org_id, the role check)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from typer.testing import CliRunner

from keten.cli.footprint import app
from keten.core.errors import KetenError
from keten.core.params import load_set
from keten.footprint.pact_store import PactStore
from keten.ledger.service import Ledger
from keten.registry.service import Registry
from keten.store.db import alembic_config, make_engine, session_factory, upgrade

PW = "correct horse battery"


def registry(url: str) -> Registry:
    engine = make_engine(url)
    upgrade(engine)
    clock = lambda: dt.datetime(2026, 6, 15, tzinfo=dt.UTC)  # noqa: E731
    reg = Registry(Ledger(session_factory(engine), clock=clock), load_set("ev", "bijlage-1"))
    reg.init()
    return reg


def cli(url: str, *args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(app, ["pact", *args], env={"KETEN_DATABASE_URL": url})
    return r.exit_code, r.stdout, r.stderr


def test_member_add(database_url: str) -> None:
    reg = registry(database_url)
    reg.create_holder("Handel BV", actor="t", key="h")
    reg.create_user("jan", PW, "ketenpartner", None, actor="t", key="u1")
    reg.create_user("carol", PW, "fiatteur", "Handel BV", actor="t", key="u2")
    with pytest.raises(KetenError, match="ketenpartner does not belong to a holder"):
        reg.create_user("piet", PW, "ketenpartner", "Handel BV", actor="t", key="u3")
    assert reg.login("jan", PW).role == "ketenpartner"
    assert cli(database_url, "org-create", "Staalbouw Jansen BV")[0] == 0
    code, out, _ = cli(database_url, "member-add", "--org", "Staalbouw Jansen BV", "--user", "jan")
    assert code == 0 and "jan is a member of 'Staalbouw Jansen BV'" in out
    for args, words in (
        (("--org", "Staalbouw Jansen BV", "--user", "carol"), "only a ketenpartner"),
        (("--org", "Staalbouw Jansen BV", "--user", "nobody"), "unknown user"),
        (("--org", "Nobody BV", "--user", "jan"), "unknown organisation"),
    ):
        code, out, err = cli(database_url, "member-add", *args)
        assert code == 2 and out == "" and words in err, (args, err)
    store = PactStore(reg.ledger.sessions)
    jan = reg.login("jan", PW)
    assert store.member_org(jan.user_id) == "Staalbouw Jansen BV"
    assert store.member_org(reg.login("carol", PW).user_id) is None
    assert store.members("Staalbouw Jansen BV") == ["jan"]
    reg.ledger.sessions.kw["bind"].dispose()


def test_migration_0011_keeps_users_and_their_references(database_url: str) -> None:
    """Upgrading from 0007 rebuilds reg_user on SQLite while other tables refer to it; every row
    and reference stays, the role check admits ketenpartner; downgrading refuses while a
    ketenpartner exists."""
    from alembic import command

    engine = make_engine(database_url)
    upgrade(engine, "0007")
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO reg_holder (id, name, can_book, has_obligation, can_transfer, "
                "is_service_provider, account, created_at) "
                "VALUES (1, 'H', true, true, true, false, 'acc', '2026-01-01 00:00:00+00')"
            )
        )
        c.execute(
            text(
                "INSERT INTO reg_user (id, username, password_hash, role, holder_id, active, "
                "created_at) VALUES (1, 'u', 'x', 'fiatteur', 1, true, '2026-01-01 00:00:00+00')"
            )
        )
        c.execute(
            text(
                "INSERT INTO reg_api_token (id, user_id, label, token_hash, created_at) "
                "VALUES (1, 1, 'l', 'h', '2026-01-01 00:00:00+00')"
            )
        )
    upgrade(engine, "0011")
    with engine.begin() as c:
        assert c.execute(text("SELECT username, pact_org_id FROM reg_user")).all() == [("u", None)]
        assert c.execute(text("SELECT user_id FROM reg_api_token")).scalar_one() == 1
        c.execute(
            text(
                "INSERT INTO reg_user (id, username, password_hash, role, active, created_at) "
                "VALUES (2, 'k', 'x', 'ketenpartner', true, '2026-01-01 00:00:00+00')"
            )
        )
    with pytest.raises(IntegrityError, match=r"(?i)foreign key"), engine.begin() as c:
        c.execute(text("UPDATE reg_user SET pact_org_id = 99 WHERE id = 2"))
    with pytest.raises(IntegrityError, match=r"ck_user_role|CHECK"), engine.begin() as c:
        c.execute(text("UPDATE reg_user SET role = 'koning' WHERE id = 2"))
    with pytest.raises(RuntimeError, match="ketenpartners"):
        command.downgrade(alembic_config(engine), "0007")
    with engine.begin() as c:
        c.execute(text("DELETE FROM reg_user WHERE id = 2"))
    command.downgrade(alembic_config(engine), "0007")
    with engine.begin() as c:
        assert c.execute(text("SELECT count(*) FROM reg_api_token")).scalar_one() == 1
    with pytest.raises(IntegrityError, match=r"ck_user_role|CHECK"), engine.begin() as c:
        c.execute(text("UPDATE reg_user SET role = 'ketenpartner' WHERE id = 1"))
    upgrade(engine, "heads")
    engine.dispose()
