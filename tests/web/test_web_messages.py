"""Error messages of the register services: Dutch on the pages (the register's default), English
with the language switch, and unchanged English in the JSON API and the CLI.

The services raise ``KetenError(msg(template, **params))`` (``keten.core.messages``); the web
pages render it through the ``messages`` catalogue (``keten.web.i18n.using``); ``api.
error_response`` and the CLI render it in English, byte for byte the text they always sent.

Numbers: the HVO booking of 100,000 l at 14 gCO2e/MJ gives 100,000 × 34 MJ/l × (94 − 14) / 1000 =
272,000 ERE land/annex-ixa 2026 (EV-06); two transfers of 200,000 each fit when proposed, but
after the first is approved 272,000 − 200,000 = 72,000 are free for the second.
"""

from __future__ import annotations

import html
import pickle
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_web_register import HVO
from typer.testing import CliRunner
from web_site import Browser, Site

from keten.cli.registry import app as registry_cli
from keten.core.errors import InputError, KetenError
from keten.core.messages import Msg, english, msg, render, translating
from keten.core.quantity import parse_number
from keten.registry.service import Actor, AuthError, BookingInput, Registry, _number
from keten.web import i18n
from keten.web.api import error_response

FOUR_EYES_EN = "four-eyes principle: the proposer cannot approve their own proposal"
FOUR_EYES_NL = "vier-ogenprincipe: wie een voorstel doet, kan het niet zelf fiatteren"


def _text(r: httpx.Response) -> str:
    return html.unescape(r.text)


def _english(b: Browser) -> None:
    assert b.post("/language", {"lang": "en", "next": "/register"}).status_code == 303


def _own_booking(bob: Browser, proof: str = "PoS-BOB") -> str:
    r = bob.post("/register/bookings", {**HVO, "proof_ref": proof})
    assert r.status_code == 303, r.text
    return str(r.headers["location"])


def _booked(site: Site) -> None:
    """alice proposes the HVO booking, bob approves it: 272,000 ERE on Brandstof BV."""
    alice, bob = site.browser("alice"), site.browser("bob")
    r = alice.post("/register/bookings", HVO)
    assert r.status_code == 303, r.text
    assert bob.post(r.headers["location"] + "/decision", {"decision": "approve"}).status_code == 303


# ----------------------------------------------------------------------------- pages


def test_four_eyes_refusal_is_dutch_on_the_page_and_english_with_the_switch(site: Site) -> None:
    bob = site.browser("bob")
    own = _own_booking(bob)
    r = bob.post(own + "/decision", {"decision": "approve"})
    assert r.status_code == 403
    assert FOUR_EYES_NL in _text(r) and FOUR_EYES_EN not in _text(r)
    _english(bob)
    r = bob.post(own + "/decision", {"decision": "approve"})
    assert r.status_code == 403
    assert FOUR_EYES_EN in _text(r) and FOUR_EYES_NL not in _text(r)


def test_role_refusal_of_the_service_is_dutch(site: Site) -> None:
    """alice (rekeningbevoegde) cannot approve: the service's role check answers."""
    alice = site.browser("alice")
    r = alice.post("/register/bookings", HVO)
    r = alice.post(r.headers["location"] + "/decision", {"decision": "approve"})
    assert r.status_code == 403
    assert "alice (rekeningbevoegde) mag dit niet doen (nodig: fiatteur)" in _text(r)


def test_duplicate_proof_is_dutch(site: Site) -> None:
    alice = site.browser("alice")
    assert alice.post("/register/bookings", HVO).status_code == 303
    r = alice.post("/register/bookings", HVO)
    assert r.status_code == 422
    assert "duurzaamheidsbewijs 'PoS-HVO-1' is al ingeboekt" in _text(r)
    assert "booked already" not in _text(r)
    _english(alice)
    r = alice.post("/register/bookings", HVO)
    assert r.status_code == 422 and "proof 'PoS-HVO-1' is booked already" in _text(r)


def test_transferring_more_than_is_free_is_dutch(site: Site) -> None:
    _booked(site)
    alice, bob = site.browser("alice"), site.browser("bob")
    line = {"unit_type": ["land/annex-ixa"], "vintage": ["2026"], "amount": ["200000"]}
    for _ in range(2):
        r = alice.post("/register/transfers", {"to_holder": "Handel BV", **line})
        assert r.status_code == 303, r.text
    first, second = sorted(int(t["id"]) for t in _transfers(site.reg))
    r = bob.post(f"/register/transfers/{first}/decision", {"decision": "approve"})
    assert r.status_code == 303
    r = bob.post(f"/register/transfers/{second}/decision", {"decision": "approve"})
    assert r.status_code == 409
    dutch = "niet genoeg eenheden land/annex-ixa 2026 beschikbaar: gevraagd 200000, vrij 72000"
    assert dutch in _text(r)
    _english(bob)
    r = bob.post(f"/register/transfers/{second}/decision", {"decision": "approve"})
    english_text = "not enough land/annex-ixa 2026 units available: asked 200000, free 72000"
    assert english_text in _text(r)


def test_a_decided_booking_names_its_status_in_dutch(site: Site) -> None:
    alice, bob = site.browser("alice"), site.browser("bob")
    url = alice.post("/register/bookings", HVO).headers["location"]
    assert alice.post(url + "/withdraw").status_code == 303
    r = bob.post(url + "/decision", {"decision": "approve"})
    booking_id = url.rsplit("/", 1)[1]
    assert r.status_code == 422
    assert f"inboeking {booking_id} is ingetrokken, niet voorgesteld" in _text(r)


def _transfers(reg: Registry) -> list[dict[str, Any]]:
    from keten.registry.service import Reads

    return Reads(reg).transfers(Actor(0, "x", "toezichthouder", None))


# ----------------------------------------------------------------------------- JSON API


def test_api_error_text_is_unchanged_english_while_the_page_is_dutch(site: Site) -> None:
    """The same four-eyes refusal: Dutch on the page, the exact English text in the API — sent
    from the same (Dutch) browser."""
    bob = site.browser("bob")
    own = _own_booking(bob)
    booking_id = own.rsplit("/", 1)[1]
    page = bob.post(own + "/decision", {"decision": "approve"})
    assert FOUR_EYES_NL in _text(page)
    token = site.reg.create_token(site.reg.login("bob", "correct horse battery"), "t", key="tk")
    r = bob.client.post(
        f"/api/v1/bookings/{booking_id}/decision",
        json={"approve": True},
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "api-1"},
    )
    assert r.status_code == 403
    assert r.json() == {"detail": FOUR_EYES_EN}


def test_api_regulator_only_action_by_a_holder_stays_english(site: Site) -> None:
    _booked(site)
    token = site.reg.create_token(site.reg.login("alice", "correct horse battery"), "t", key="tk")
    r = site.browser().client.post(
        "/api/v1/bookings/1/hold",
        json={"reason": "check"},
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "api-2"},
    )
    assert r.status_code == 403
    assert r.json() == {
        "detail": "alice (rekeningbevoegde) may not do this (needs: toezichthouder)"
    }


def test_error_response_is_english_inside_a_dutch_request() -> None:
    exc = AuthError(msg("four-eyes principle: the proposer cannot approve their own proposal"))
    with i18n.using("nl"):
        assert str(exc) == FOUR_EYES_NL
        body = error_response(exc).body
    assert body == b'{"detail":"' + FOUR_EYES_EN.encode() + b'"}'


def test_regulator_only_action_by_a_holder_in_the_service(site: Site) -> None:
    """The service refuses a holder's hold; the message follows the language of the context."""
    alice = site.reg.login("alice", "correct horse battery")
    with pytest.raises(AuthError) as caught:
        site.reg.hold_booking(alice, 1, reason="x", key="h1")
    assert str(caught.value) == "alice (rekeningbevoegde) may not do this (needs: toezichthouder)"
    with i18n.using("nl"):
        assert (
            str(caught.value)
            == "alice (rekeningbevoegde) mag dit niet doen (nodig: toezichthouder)"
        )
    with i18n.using("en"):
        assert (
            str(caught.value) == "alice (rekeningbevoegde) may not do this (needs: toezichthouder)"
        )


# ----------------------------------------------------------------------------- CLI


def test_cli_stays_english(site: Site, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KETEN_DATABASE_URL", database_url)
    runner = CliRunner()
    r = runner.invoke(registry_cli, ["create-holder", "Brandstof BV", "--key", "again"])
    assert r.exit_code == 2
    assert r.stderr == "error: holder 'Brandstof BV' exists already\n"
    assert r.stdout == ""
    monkeypatch.setenv("KETEN_PASSWORD", "short")
    r = runner.invoke(registry_cli, ["create-user", "zoe", "--role", "fiatteur"])
    assert r.exit_code == 2
    assert r.stderr == "error: a password has at least 12 characters\n"


# ----------------------------------------------------------------------------- core


def test_msg_renders_english_by_default_with_its_params() -> None:
    m = msg("unknown holder %(name)s", name=repr("X BV"))
    assert isinstance(m, Msg) and m.template == "unknown holder %(name)s"
    assert dict(m.params) == {"name": "'X BV'"}
    assert str(m) == render(m) == m.english() == "unknown holder 'X BV'"
    assert str(KetenError(m)) == "unknown holder 'X BV'"
    assert render("plain") == "plain" and str(KetenError("plain")) == "plain"
    assert str(msg("nothing to move")) == "nothing to move"  # no params: the template as is


def test_translator_translates_the_template_before_the_params() -> None:
    table = {"unknown holder %(name)s": "onbekende rekeninghouder %(name)s"}
    m = msg("unknown holder %(name)s", name="%(name)s")  # a param is never re-interpreted
    with translating(lambda t: table.get(t, t)):
        assert str(m) == "onbekende rekeninghouder %(name)s"
        assert str(KetenError(m)) == "onbekende rekeninghouder %(name)s"
        assert m.english() == "unknown holder %(name)s"
        with english():
            assert str(KetenError(m)) == "unknown holder %(name)s"
    assert str(m) == "unknown holder %(name)s"  # outside the block: English again


def test_missing_or_broken_translation_falls_back_to_english() -> None:
    m = msg("cannot hold %(amount)s units of lot %(lot)s: %(free)s free", amount=5, lot=1, free=2)
    with translating(lambda t: t):  # no translation: the id
        assert str(m) == "cannot hold 5 units of lot 1: 2 free"
    with translating(lambda t: "kan %(aantal)s niet blokkeren"):  # wrong placeholder
        assert str(m) == "cannot hold 5 units of lot 1: 2 free"
    with i18n.using("nl"):
        assert str(msg("a message no catalogue has, %(n)s", n=1)) == "a message no catalogue has, 1"
        assert str(m) == "kan geen 5 eenheden van partij 1 blokkeren: 2 vrij"


def test_nested_message_params_are_translated_too() -> None:
    m = msg("booking %(id)s is %(status)s, not proposed", id=7, status=msg("withdrawn"))
    assert str(m) == "booking 7 is withdrawn, not proposed"
    with i18n.using("nl"):
        assert str(m) == "inboeking 7 is ingetrokken, niet voorgesteld"


def test_input_error_translates_its_place_only_with_a_translatable_message() -> None:
    exc = InputError(msg("file not found"), file="s.csv", row=3, field="kwh")
    plain = InputError("is empty", file="s.csv", row=3, field="kwh")
    assert str(exc) == "s.csv, row 3, field 'kwh': file not found"
    assert exc.reason == "file not found" and (exc.file, exc.row, exc.field) == ("s.csv", 3, "kwh")
    with i18n.using("nl"):
        assert str(exc) == "s.csv, rij 3, veld 'kwh': bestand niet gevonden"
        assert exc.reason == "bestand niet gevonden"
        assert str(plain) == "s.csv, row 3, field 'kwh': is empty"  # not translatable: English
    assert str(InputError(msg("file not found"))) == "file not found"
    assert str(InputError("no place")) == "no place"


def test_messages_pickle_and_keep_rendering() -> None:
    m = pickle.loads(pickle.dumps(msg("unknown hold %(id)s", id=4)))
    assert str(m) == "unknown hold 4"


def test_number_refusal_keeps_the_text_of_parse_number() -> None:
    """The register's own template for a bad number is the text parse_number gives."""
    with pytest.raises(ValueError) as original:
        parse_number("1x")
    with pytest.raises(KetenError) as ours:
        _number("1x", "quantity")
    assert str(ours.value) == f"quantity: {original.value}"
    with i18n.using("nl"):
        assert str(ours.value) == "quantity: geen getal met hoogstens 6 decimalen: '1x'"


def test_booking_refusal_in_the_service_is_dutch_in_a_dutch_context(site: Site) -> None:
    alice = site.reg.login("alice", "correct horse battery")
    b = BookingInput("", 2026, "land", "annex-ixa", "hvo", "100000", "l", "14")
    with pytest.raises(KetenError) as caught:
        site.reg.propose_booking(alice, b, key="p1")
    with i18n.using("nl"):
        assert str(caught.value) == (
            "een inboeking heeft een referentie van het duurzaamheidsbewijs nodig (PoS/UDB-id)"
        )
    assert str(caught.value) == "a booking needs a sustainability-proof reference (PoS/UDB id)"


def test_no_register_error_is_raised_with_an_untranslatable_f_string() -> None:
    """Every error the register services raise goes through msg(...) (area ``messages``)."""
    root = Path(i18n.__file__).parent.parent
    raised = re.compile(
        r"(KetenError|LedgerError|AuthError|NotFound|InputError|ImportRefused)\(\s*f?[\"']"
        r"|msg\(\s*f[\"']"
    )
    bad = []
    for folder in ("registry", "ledger"):
        for path in sorted((root / folder).glob("*.py")):
            bad += [f"{path.name}: {m.group(0)}" for m in raised.finditer(path.read_text())]
    assert bad == []
    # the pattern finds what it is meant to find, and lets msg("...") pass
    assert raised.search('raise KetenError(f"x {y}")') and raised.search("raise NotFound(\n 'x')")
    assert raised.search('msg(f"x")') and not raised.search('KetenError(msg("x"))')
