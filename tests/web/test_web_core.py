"""The web application's foundation: login/logout, sessions, CSRF, rate limiting, password
change, API tokens from the account page, security headers, language switch, error pages."""

from __future__ import annotations

from web_site import PW, Site

from keten.store.models import WebSession


def test_start_page_is_dutch_by_default_and_english_by_the_switch(site: Site) -> None:
    anon = site.browser()
    r = anon.get("/")
    assert r.status_code == 200 and '<html lang="nl">' in r.text
    assert "Inloggen" in r.text
    r = anon.post("/language", {"lang": "en", "next": "/login"})
    assert r.status_code == 303 and r.headers["location"] == "/login"
    r = anon.get("/login")
    assert '<html lang="en">' in r.text and "Log in" in r.text and "Inloggen" not in r.text


def test_language_switch_never_redirects_to_another_site(site: Site) -> None:
    anon = site.browser()
    for target in ("//evil.example/", "https://evil.example/", "\\\\evil"):
        r = anon.post("/language", {"lang": "en", "next": target})
        assert r.status_code == 303 and r.headers["location"] == "/register"


def test_login_sets_a_secure_httponly_strict_session_cookie(site: Site) -> None:
    b = site.browser()
    r = b.post("/login", {"username": "alice", "password": PW, "next": "/account"})
    assert r.status_code == 303 and r.headers["location"] == "/account"
    cookie = r.headers["set-cookie"].lower()
    assert "keten_session=" in cookie and "httponly" in cookie and "secure" in cookie
    assert "samesite=strict" in cookie
    page = b.get("/account")
    assert page.status_code == 200 and "alice" in page.text
    assert page.headers["cache-control"] == "no-store"


def test_wrong_password_is_refused_with_one_message_and_no_session(site: Site) -> None:
    b = site.browser()
    r = b.post("/login", {"username": "alice", "password": "wrong wrong wrong"})
    assert r.status_code == 401 and "Onbekende gebruikersnaam of onjuist wachtwoord." in r.text
    r = b.post("/login", {"username": "nobody", "password": PW})
    assert r.status_code == 401 and "Onbekende gebruikersnaam of onjuist wachtwoord." in r.text
    assert "keten_session" not in b.client.cookies
    assert b.get("/account").status_code == 303


def test_empty_login_fields_are_shown_next_to_the_field(site: Site) -> None:
    b = site.browser()
    r = b.post("/login", {"username": "", "password": ""})
    assert r.status_code == 422
    assert 'id="e-username"' in r.text and 'id="e-password"' in r.text
    assert 'aria-invalid="true"' in r.text


def test_login_is_rate_limited_per_user_name(site: Site) -> None:
    b = site.browser()
    for _ in range(5):
        assert (
            b.post("/login", {"username": "bob", "password": "not the password"}).status_code == 401
        )
    r = b.post("/login", {"username": "bob", "password": PW})  # even the right password waits
    assert r.status_code == 429 and "Te veel mislukte pogingen" in r.text
    assert site.browser("alice").get("/account").status_code == 200  # others are not blocked


def test_pages_need_a_login_and_send_anonymous_visitors_to_it(site: Site) -> None:
    anon = site.browser()
    r = anon.get("/account")
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/account"


def test_login_form_without_or_with_a_wrong_csrf_token_is_refused(site: Site) -> None:
    b = site.browser()
    for token in ("", "forged"):
        r = b.post("/login", {"username": "alice", "password": PW}, csrf=token)
        assert r.status_code == 403 and "formulier is verlopen" in r.text
        assert "keten_session" not in b.client.cookies


def test_a_session_csrf_token_is_bound_to_the_session(site: Site) -> None:
    alice, bob = site.browser("alice"), site.browser("bob")
    r = alice.post("/account/tokens", {"label": "x"}, csrf=bob.csrf)
    assert r.status_code == 403
    r = alice.post("/account/tokens", {"label": "x"}, csrf="")
    assert r.status_code == 403
    assert "kt_" not in alice.get("/account").text


def test_logout_ends_the_session_on_the_server(site: Site) -> None:
    b = site.browser("alice")
    token = b.client.cookies["keten_session"]
    r = b.post("/logout")
    assert r.status_code == 303
    with site.reg.ledger.sessions() as s:
        assert s.query(WebSession).count() == 0
    b.client.cookies.set("keten_session", token, domain="testserver")
    assert b.get("/account").status_code == 303  # a stolen cookie no longer works


def test_logout_needs_the_csrf_token(site: Site) -> None:
    b = site.browser("alice")
    assert b.post("/logout", csrf="nope").status_code == 403
    assert b.get("/account").status_code == 200


def test_password_change_checks_and_ends_other_sessions(site: Site) -> None:
    a1, a2 = site.browser("alice"), site.browser("alice")
    r = a1.post(
        "/account/password", {"old": "wrong password!", "new": "x" * 12, "repeat": "x" * 12}
    )
    assert r.status_code == 422 and 'id="e-old"' in r.text
    r = a1.post("/account/password", {"old": PW, "new": "short", "repeat": "short"})
    assert r.status_code == 422 and 'id="e-new"' in r.text
    r = a1.post(
        "/account/password", {"old": PW, "new": "a new long pass", "repeat": "different one!"}
    )
    assert r.status_code == 422 and 'id="e-repeat"' in r.text
    site.reg.login("alice", PW)  # nothing changed yet
    r = a1.post(
        "/account/password", {"old": PW, "new": "a new long pass", "repeat": "a new long pass"}
    )
    assert r.status_code == 303
    assert a1.get("/account").status_code == 200
    assert a2.get("/account").status_code == 303  # the other session is logged out
    site.reg.login("alice", "a new long pass")


def test_api_token_from_the_account_page_works_on_the_api_and_can_be_revoked(site: Site) -> None:
    b = site.browser("alice")
    r = b.post("/account/tokens", {"label": "script"})
    assert r.status_code == 200
    token = r.text.split('<code class="token">')[1].split("<")[0]
    api = b.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert api.json()["username"] == "alice"
    page = b.get("/account")
    token_id = page.text.split("/account/tokens/")[1].split("/")[0]
    assert b.post(f"/account/tokens/{token_id}/revoke").status_code == 303
    api = b.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 401


def test_another_users_token_cannot_be_revoked(site: Site) -> None:
    alice, bob = site.browser("alice"), site.browser("bob")
    alice.post("/account/tokens", {"label": "mine"})
    token_id = alice.get("/account").text.split("/account/tokens/")[1].split("/")[0]
    r = bob.post(f"/account/tokens/{token_id}/revoke")
    assert r.status_code == 404
    assert "ingetrokken" not in alice.get("/account").text


def test_security_headers_on_pages(site: Site) -> None:
    r = site.browser().get("/")
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"


def test_unknown_page_is_a_404_page_and_api_errors_stay_json(site: Site) -> None:
    b = site.browser()
    r = b.get("/no-such-page")
    assert r.status_code == 404 and "Deze pagina bestaat niet." in r.text
    r = b.client.get("/api/v1/me")
    assert r.status_code == 401 and r.json()["detail"].startswith("authentication required")


def test_every_page_post_route_checks_csrf(site: Site) -> None:
    """Every POST route outside /api is a PageRoute (CSRF checked before the handler runs)."""
    from fastapi.routing import APIRoute

    from keten.web.ui import PageRoute

    posts = [
        r for r in site.app.state.page_routes if isinstance(r, APIRoute) and "POST" in r.methods
    ]
    assert posts
    assert [r.path for r in posts if not isinstance(r, PageRoute)] == []


def test_the_api_accepts_a_web_session_and_needs_its_csrf_header_for_writes(site: Site) -> None:
    b = site.browser("alice")
    assert b.client.get("/api/v1/me").json()["username"] == "alice"
    body = {"label": "from the browser"}
    r = b.client.post("/api/v1/tokens", json=body, headers={"Idempotency-Key": "k1"})
    assert r.status_code == 403 and "X-CSRF-Token" in r.json()["detail"]
    r = b.client.post(
        "/api/v1/tokens", json=body, headers={"Idempotency-Key": "k1", "X-CSRF-Token": "forged"}
    )
    assert r.status_code == 403
    r = b.client.post(
        "/api/v1/tokens", json=body, headers={"Idempotency-Key": "k1", "X-CSRF-Token": b.csrf}
    )
    assert r.status_code == 200 and r.json()["token"].startswith("kt_")


def test_api_tokens_are_never_stored_in_plain_text_and_a_retry_does_not_show_one_again(
    site: Site,
) -> None:
    from keten.store.models import IdempotencyRecord

    b = site.browser("alice")
    r = b.post("/account/tokens", {"label": "once", "form_key": "same"})
    token = r.text.split('<code class="token">')[1].split("<")[0]
    again = b.post("/account/tokens", {"label": "once", "form_key": "same"})
    assert again.status_code == 422 and "maar één keer getoond" in again.text
    assert token not in again.text
    with site.reg.ledger.sessions() as s:
        stored = [rec.result for rec in s.query(IdempotencyRecord).all()]
    assert stored and not any(token in text or "kt_" in text for text in stored)


def test_registry_hashes_passwords_with_argon2id_defaults(tmp_path: object) -> None:
    """Production hashing: argon2id with the library's default costs (m=65536 KiB, t=3, p=4);
    the page tests use a cheaper hasher only to sign in quickly."""
    from pathlib import Path

    from keten.core.params import load_set
    from keten.ledger.service import Ledger
    from keten.registry.service import Registry
    from keten.store.db import make_engine, session_factory, upgrade
    from keten.store.models import User

    assert isinstance(tmp_path, Path)
    engine = make_engine(f"sqlite:///{tmp_path / 'h.db'}")
    upgrade(engine)
    reg = Registry(Ledger(session_factory(engine)), load_set("ev", "bijlage-1"))
    reg.init()
    reg.create_user("nea", PW, "toezichthouder", None, actor="t", key="u")
    with reg.ledger.sessions() as s:
        stored = s.query(User).one().password_hash
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert PW not in stored
    assert reg.login("nea", PW).username == "nea"
    engine.dispose()
