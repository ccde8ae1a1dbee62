"""The register pages of a holder's people: dashboard, deliveries (form and CSV upload),
bookings (form, four eyes, detail with the calculation, bulk upload of charging sessions),
transfers and the year-end closing — numbers, authorisation, CSRF and bad input.

Numbers used throughout (parameter set bijlage-1, year 2026, clock 2026-06-15):

* Delivery: 1,000,000 l diesel to land. Energy 1,000,000 l × 36 MJ/l (ev.lhv.diesel.per_l) =
  36,000,000 MJ (EV-05). Obligation (EV-01, Bijlage 1 table Land, row Totaal 14,4%):
  36,000,000 MJ × 94 g/MJ × 14.4% / 1000 g/ERE = 487,296 ERE, rounded half up (EV-03).
* Booking: 100,000 l HVO, 14 gCO2e/MJ, land/annex-ixa. Energy 100,000 l × 34 MJ/l
  (ev.lhv.hvo.per_l) = 3,400,000 MJ; units (EV-06) = 3,400,000 × (94 − 14) / 1000 = 272,000 ERE,
  rounded down.
"""

from __future__ import annotations

import datetime as dt

import pytest
from web_site import Site

from keten.registry import closing
from keten.registry.service import Actor
from keten.store.models import Booking, Delivery, Transfer

DIESEL = {
    "year": "2026",
    "month": "5",
    "sector": "land",
    "fuel": "diesel",
    "quantity": "1000000",
    "unit": "l",
}
HVO = {
    "proof_ref": "PoS-HVO-1",
    "year": "2026",
    "sector": "land",
    "category": "annex-ixa",
    "fuel": "hvo",
    "quantity": "100000",
    "unit": "l",
    "ghg_intensity": "14",
}


def _count(site: Site, model: type) -> int:
    with site.reg.ledger.sessions() as s:
        return int(s.query(model).count())


def _booked(site: Site, proof: str = "PoS-HVO-1") -> int:
    """alice proposes the HVO booking, bob approves it: 272,000 ERE on Brandstof BV."""
    alice, bob = site.browser("alice"), site.browser("bob")
    # Own form keys: another browser of the same person numbers its forms from 1 again.
    r = alice.post("/register/bookings", {**HVO, "proof_ref": proof, "form_key": f"b-{proof}"})
    assert r.status_code == 303, r.text
    url = r.headers["location"]
    r = bob.post(url + "/decision", {"decision": "approve", "form_key": f"d-{proof}"})
    assert r.status_code == 303, r.text
    return int(url.rsplit("/", 1)[1])


def test_dashboard_shows_balances_obligation_chart_and_deadlines(site: Site) -> None:
    alice = site.browser("alice")
    assert alice.post("/register/deliveries", DIESEL).status_code == 303
    _booked(site)
    page = alice.get("/register")
    assert page.status_code == 200
    html = page.text
    assert "<h1>Brandstof BV</h1>" in html
    # Balances: 272,000 ERE land/annex-ixa of vintage 2026 (EV-06 arithmetic in the docstring).
    assert "land/annex-ixa (ERE)" in html and "272.000" in html
    # Indicative obligation land 2026: 487,296 ERE (Bijlage 1 Land Totaal 14,4%, EV-01/EV-03);
    # base energy 36,000,000 MJ; units held booked in land: 272,000.
    assert "487.296" in html and "36.000.000" in html
    assert '<svg class="chart"' in html and "<title>" in html
    # Deadlines: 1 March 2027 (ev.register.deadline_month/day), 259 days from 15-06-2026.
    assert "01-03-2027" in html and ">259<" in html
    # Verification by 31 March 2027 (ev.register.verification_deadline_*: before 1 April, 290
    # days); surrender on 1 May 2027 (ev.register.surrender_deadline_*, 320 days).
    assert "01-04-2027" in html and ">290<" in html
    assert "01-05-2027" in html and ">320<" in html
    assert "ev.register.verification_deadline_month" in html
    assert "Noordzee" not in html


def test_dashboard_sends_verifier_and_regulator_to_their_pages_and_anonymous_to_login(
    site: Site,
) -> None:
    r = site.browser("vera").get("/register")
    assert r.status_code == 303 and r.headers["location"] == "/register/verifier"
    r = site.browser("nea").get("/register")
    assert r.status_code == 303 and r.headers["location"] == "/register/regulator"
    anon = site.browser()
    for url in ("/register", "/register/deliveries", "/register/bookings/1", "/register/year-end"):
        r = anon.get(url)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")


@pytest.mark.parametrize(
    "url",
    [
        "/register/deliveries",
        "/register/bookings",
        "/register/bookings/upload",
        "/register/transfers",
        "/register/year-end",
    ],
)
def test_holder_pages_refuse_people_without_a_holder(site: Site, url: str) -> None:
    assert site.browser("vera").get(url).status_code == 403
    assert site.browser("nea").get(url).status_code == 403


def test_delivery_form_registers_and_lists_the_delivery(site: Site) -> None:
    alice = site.browser("alice")
    r = alice.post("/register/deliveries", DIESEL)
    assert r.status_code == 303
    page = alice.get("/register/deliveries")
    assert "1.000.000" in page.text and "diesel" in page.text and "alice" in page.text
    assert _count(site, Delivery) == 1
    assert "1.000.000" not in site.browser("olga").get("/register/deliveries").text


@pytest.mark.parametrize(
    ("field", "value"),
    [("quantity", "abc"), ("quantity", "-5"), ("month", "13"), ("year", "2025"), ("fuel", "x")],
)
def test_bad_delivery_input_is_shown_next_to_the_field(site: Site, field: str, value: str) -> None:
    alice = site.browser("alice")
    r = alice.post("/register/deliveries", {**DIESEL, field: value})
    assert r.status_code == 422
    assert f'id="e-{field}"' in r.text and 'aria-invalid="true"' in r.text
    assert _count(site, Delivery) == 0


def test_delivery_unit_that_the_fuel_does_not_have_is_refused_at_the_unit(site: Site) -> None:
    r = site.browser("alice").post("/register/deliveries", {**DIESEL, "unit": "kWh"})
    assert r.status_code == 422 and 'id="e-unit"' in r.text
    assert _count(site, Delivery) == 0


def test_holder_without_obligation_cannot_register_deliveries(site: Site) -> None:
    carol = site.browser("carol")
    page = carol.get("/register/deliveries")
    assert page.status_code == 200 and 'action="/register/deliveries"' not in page.text
    assert carol.post("/register/deliveries", DIESEL).status_code == 403
    assert _count(site, Delivery) == 0


GOOD_CSV = (
    "year,month,sector,fuel,quantity,unit\n"
    "2026,1,land,diesel,1000000,l\n"
    "2026,2,land,petrol,500000,l\n"
    "\n"
)


def test_delivery_csv_registers_every_row_once(site: Site) -> None:
    alice = site.browser("alice")
    files = {"file": ("d.csv", GOOD_CSV.encode(), "text/csv")}
    r = alice.post("/register/deliveries/upload", {"form_key": "up-1"}, files=files)
    assert r.status_code == 303, r.text
    assert _count(site, Delivery) == 2
    # The same upload sent again (same form key): each row has its own idempotency key.
    r = alice.post("/register/deliveries/upload", {"form_key": "up-1"}, files=files)
    assert r.status_code == 303
    assert _count(site, Delivery) == 2
    page = alice.get("/register/deliveries")
    assert "500.000" in page.text and "petrol" in page.text


def test_delivery_csv_with_bad_rows_registers_nothing_and_lists_each_bad_row(site: Site) -> None:
    alice = site.browser("alice")
    bad = (
        "year,month,sector,fuel,quantity,unit\n"
        "2026,1,land,diesel,1000000,l\n"
        "2026,14,land,diesel,1000,l\n"
        "2026,3,moon,diesel,1000,l\n"
        "2026,4,land,diesel,lots,l\n"
        "2026,5,land\n"
    )
    r = alice.post(
        "/register/deliveries/upload", files={"file": ("d.csv", bad.encode(), "text/csv")}
    )
    assert r.status_code == 422
    assert 'id="e-file"' in r.text
    for row, field in ((2, "month"), (3, "sector"), (4, "quantity")):
        assert f'<td class="num">{row}</td><td>{field}</td>' in r.text
    assert '<td class="num">5</td>' in r.text
    assert "niets geregistreerd" in r.text  # Dutch: nothing was registered
    assert _count(site, Delivery) == 0


def test_delivery_csv_with_a_wrong_header_is_refused_at_the_file_field(site: Site) -> None:
    r = site.browser("alice").post(
        "/register/deliveries/upload",
        files={"file": ("d.csv", b"jaar,maand\n2026,1\n", "text/csv")},
    )
    assert r.status_code == 422 and 'id="e-file"' in r.text
    assert _count(site, Delivery) == 0


def test_booking_detail_shows_units_and_their_calculation(site: Site) -> None:
    alice = site.browser("alice")
    r = alice.post("/register/bookings", HVO)
    assert r.status_code == 303
    page = alice.get(r.headers["location"])
    assert page.status_code == 200
    html = page.text
    # 100,000 l × 34 MJ/l = 3,400,000 MJ; × (94 − 14) g/MJ / 1000 g/ERE = 272,000 ERE (EV-06).
    assert "272.000 ERE" in html
    assert "3400000 MJ × (94 − 14) g/MJ / 1000 g/ERE = 272000" in html
    assert "ev.lhv.hvo.per_l" in html and "ev.fossil_comparator" in html
    assert "Directive (EU) 2018/2001" in html and "EV-06" in html
    assert "voorgesteld" in html  # status proposed, in Dutch


def test_four_eyes_alice_proposes_bob_approves_alice_cannot(site: Site) -> None:
    alice, bob = site.browser("alice"), site.browser("bob")
    url = alice.post("/register/bookings", HVO).headers["location"]
    assert 'value="approve"' not in alice.get(url).text  # a rekeningbevoegde has no buttons
    r = alice.post(url + "/decision", {"decision": "approve"})
    assert r.status_code == 403 and "fiatteur" in r.text
    assert site.reg.balances(Actor(1, "x", "toezichthouder", None), "Brandstof BV") == {}
    # bob proposes his own booking and cannot approve it: the service's message is shown.
    own = bob.post("/register/bookings", {**HVO, "proof_ref": "PoS-BOB"}).headers["location"]
    r = bob.post(own + "/decision", {"decision": "approve"})
    assert r.status_code == 403 and "vier-ogenprincipe" in r.text  # Dutch: test_web_messages.py
    # bob approves alice's booking: the units exist.
    r = bob.post(url + "/decision", {"decision": "approve", "note": "ok"})
    assert r.status_code == 303
    assert "gefiatteerd" in bob.get(url).text
    assert site.reg.balances(Actor(1, "x", "toezichthouder", None), "Brandstof BV") == {
        ("land/annex-ixa", 2026): 272000
    }


def test_withdraw_is_for_the_proposer_and_reject_for_a_fiatteur(site: Site) -> None:
    alice, bob = site.browser("alice"), site.browser("bob")
    one = alice.post("/register/bookings", HVO).headers["location"]
    two = alice.post("/register/bookings", {**HVO, "proof_ref": "PoS-2"}).headers["location"]
    assert bob.post(one + "/withdraw").status_code == 403
    assert alice.post(one + "/withdraw").status_code == 303
    assert bob.post(two + "/decision", {"decision": "reject"}).status_code == 303
    with site.reg.ledger.sessions() as s:
        assert sorted(b.status for b in s.query(Booking)) == ["rejected", "withdrawn"]
    r = bob.post(one + "/decision", {"decision": "approve"})
    assert r.status_code == 422 and "ingetrokken, niet voorgesteld" in r.text


@pytest.mark.parametrize(
    ("field", "value", "where"),
    [
        ("ghg_intensity", "94", "ghg_intensity"),  # at the fossil comparator: no reduction
        ("ghg_intensity", "", "ghg_intensity"),
        ("quantity", "0", "quantity"),
        ("category", "magic", "category"),
        ("proof_ref", "", "proof_ref"),
    ],
)
def test_bad_booking_input_is_shown_next_to_the_field(
    site: Site, field: str, value: str, where: str
) -> None:
    r = site.browser("alice").post("/register/bookings", {**HVO, field: value})
    assert r.status_code == 422 and f'id="e-{where}"' in r.text
    assert _count(site, Booking) == 0


def test_a_proof_can_be_booked_once(site: Site) -> None:
    alice = site.browser("alice")
    assert alice.post("/register/bookings", HVO).status_code == 303
    r = alice.post("/register/bookings", HVO)
    assert r.status_code == 422 and 'id="e-proof_ref"' in r.text and "al ingeboekt" in r.text
    assert _count(site, Booking) == 1


def test_transfer_story_propose_approve_history_on_both_sides(site: Site) -> None:
    _booked(site)
    alice, bob, carol = site.browser("alice"), site.browser("bob"), site.browser("carol")
    r = alice.post(
        "/register/transfers",
        {
            "to_holder": "Handel BV",
            "unit_type": ["land/annex-ixa", "", ""],
            "vintage": ["2026", "", ""],
            "amount": ["1000", "", ""],
        },
    )
    assert r.status_code == 303, r.text
    with site.reg.ledger.sessions() as s:
        tid = s.query(Transfer).one().id
    assert alice.post(
        f"/register/transfers/{tid}/decision", {"decision": "approve"}
    ).status_code == (403)
    page = bob.get("/register/transfers")
    assert f'action="/register/transfers/{tid}/decision"' in page.text
    r = bob.post(f"/register/transfers/{tid}/decision", {"decision": "approve"})
    assert r.status_code == 303
    nea = Actor(1, "x", "toezichthouder", None)
    assert site.reg.balances(nea, "Brandstof BV") == {("land/annex-ixa", 2026): 271000}
    assert site.reg.balances(nea, "Handel BV") == {("land/annex-ixa", 2026): 1000}
    mine = alice.get("/register/transfers").text
    assert "Handel BV" in mine and "gefiatteerd" in mine
    theirs = carol.get("/register/transfers").text
    assert "Brandstof BV" in theirs and "1.000 ERE land/annex-ixa 2026" in theirs
    assert "alice" not in theirs  # the other holder's people are not shown
    assert "1.000" in carol.get("/register").text


def test_transfer_withdraw_and_reject(site: Site) -> None:
    _booked(site)
    alice, bob = site.browser("alice"), site.browser("bob")
    line = {"unit_type": ["land/annex-ixa"], "vintage": ["2026"], "amount": ["5"]}
    for _ in range(2):
        assert alice.post(
            "/register/transfers", {"to_holder": "Handel BV", **line}
        ).status_code == (303)
    with site.reg.ledger.sessions() as s:
        first, second = sorted(t.id for t in s.query(Transfer))
    assert bob.post(f"/register/transfers/{first}/withdraw").status_code == 403
    assert alice.post(f"/register/transfers/{first}/withdraw").status_code == 303
    assert bob.post(
        f"/register/transfers/{second}/decision", {"decision": "reject"}
    ).status_code == (303)
    with site.reg.ledger.sessions() as s:
        assert sorted(t.status for t in s.query(Transfer)) == ["rejected", "withdrawn"]


@pytest.mark.parametrize(
    ("form", "where"),
    [
        ({"to_holder": "Nobody BV"}, "to_holder"),
        ({"amount": ["272001"]}, "line1_amount"),  # more than the 272,000 free units
        ({"amount": ["0"]}, "line1_amount"),
        ({"vintage": ["20x6"]}, "line1_vintage"),
        ({"unit_type": ["zeevaart/rfnbo"]}, "line1_unit_type"),
    ],
)
def test_bad_transfer_input_is_shown_next_to_the_field(
    site: Site, form: dict[str, object], where: str
) -> None:
    _booked(site)
    base = {
        "to_holder": "Handel BV",
        "unit_type": ["land/annex-ixa"],
        "vintage": ["2026"],
        "amount": ["10"],
    }
    r = site.browser("alice").post("/register/transfers", {**base, **form})
    assert r.status_code == 422 and f'id="e-{where}"' in r.text
    assert _count(site, Transfer) == 0


def test_another_holders_bookings_and_transfers_answer_404(site: Site) -> None:
    olga, otto, alice = site.browser("olga"), site.browser("otto"), site.browser("alice")
    url = olga.post("/register/bookings", {**HVO, "proof_ref": "NZ-1"}).headers["location"]
    assert otto.post(url + "/decision", {"decision": "approve"}).status_code == 303
    assert (
        olga.post(
            "/register/transfers",
            {
                "to_holder": "Handel BV",
                "unit_type": ["land/annex-ixa"],
                "vintage": ["2026"],
                "amount": ["7"],
            },
        ).status_code
        == 303
    )
    with site.reg.ledger.sessions() as s:
        tid = s.query(Transfer).one().id
    bob = site.browser("bob")
    assert alice.get(url).status_code == 404
    assert bob.post(url + "/decision", {"decision": "approve"}).status_code == 404
    assert alice.post(url + "/withdraw").status_code == 404
    assert bob.post(f"/register/transfers/{tid}/decision", {"decision": "approve"}).status_code == (
        404
    )
    assert alice.post(f"/register/transfers/{tid}/withdraw").status_code == 404
    assert alice.get("/register/bookings/99999").status_code == 404
    for page in ("/register", "/register/bookings", "/register/transfers", "/register/year-end"):
        assert "NZ-1" not in alice.get(page).text
    # Noordzee Olie appears only as a destination to choose on the transfers page.
    for page in ("/register", "/register/bookings", "/register/year-end"):
        assert "Noordzee" not in alice.get(page).text
    # The receiving holder sees the transfer but cannot decide it.
    carol = site.browser("carol")
    assert "Noordzee Olie" in carol.get("/register/transfers").text
    assert carol.post(
        f"/register/transfers/{tid}/decision", {"decision": "approve"}
    ).status_code == (403)
    with site.reg.ledger.sessions() as s:
        assert s.query(Transfer).one().status == "proposed"


def test_year_end_shows_this_holders_plan_with_its_explanation(site: Site) -> None:
    alice, olga = site.browser("alice"), site.browser("olga")
    assert alice.post("/register/deliveries", DIESEL).status_code == 303
    assert olga.post("/register/deliveries", {**DIESEL, "quantity": "1"}).status_code == 303
    _booked(site)
    page = alice.get("/register/year-end")
    assert page.status_code == 200
    html = page.text
    # Obligation 487,296 (see the docstring); the 272,000 annex-ixa units are surrendered;
    # shortfall 487,296 − 272,000 = 215,296; penalty 215,296 × €0.60 = €129,177.60
    # (ev.register.penalty_per_unit, assumption); banking limit max(round_down(487,296 × 25%),
    # 2,000) = max(121,824, 2,000) = 121,824 (EV-24); nothing left to bank or cancel.
    plan = next(h for h in closing.plan(site.reg, 2026).holders if h.holder == "Brandstof BV")
    assert (plan.obligation_total, plan.shortfall_total, plan.banking_limit) == (
        487296,
        215296,
        121824,
    )
    assert plan.surrender == [("land/annex-ixa", 2026, 272000)]
    for text in ("487.296", "215.296", "€ 129.177,60", "121.824", "272.000"):
        assert text in html, text
    assert (
        "max(naar beneden afgerond(487.296 × 25%), 2.000)" in html and "= 121.824 (EV-24)" in html
    )
    assert "ev.land.total" in html and "Bijlage 1, table Land, row Totaal" in html
    assert "ev.register.penalty_per_unit" in html and "ev.register.banking_share" in html
    assert "36000000 MJ × 94 g/MJ × 14.4% / 1000 g/ERE = 487296" in html
    assert "Noordzee" not in html


def test_year_end_of_a_closed_year_shows_the_stored_result(site: Site) -> None:
    alice = site.browser("alice")
    assert alice.post("/register/deliveries", DIESEL).status_code == 303
    _booked(site)
    nea = site.reg.login("nea", "correct horse battery")
    closing.run(site.reg, nea, 2026, key="close-2026")
    html = alice.get("/register/year-end?year=2026").text
    assert "is afgesloten" in html  # Dutch: the year is closed
    assert "215.296" in html and "€ 129.177,60" in html and "nea" in html


def test_year_end_refuses_a_year_outside_the_tables_next_to_the_field(site: Site) -> None:
    r = site.browser("alice").get("/register/year-end?year=1999")
    assert r.status_code == 422 and 'id="e-year"' in r.text


POSTS = [
    ("/register/deliveries", DIESEL),
    ("/register/deliveries/upload", {}),
    ("/register/bookings", HVO),
    ("/register/bookings/upload", {"proof_ref": "X", "year": "2026"}),
    ("/register/bookings/{b}/decision", {"decision": "approve"}),
    ("/register/bookings/{b}/withdraw", {}),
    ("/register/transfers", {"to_holder": "Handel BV"}),
    ("/register/transfers/{t}/decision", {"decision": "approve"}),
    ("/register/transfers/{t}/withdraw", {}),
]


def test_every_register_post_is_refused_without_a_valid_csrf_token(site: Site) -> None:
    alice, bob = site.browser("alice"), site.browser("bob")
    b = int(
        alice.post("/register/bookings", {**HVO, "proof_ref": "P-c"})
        .headers["location"]
        .rsplit("/")[-1]
    )
    with site.reg.ledger.sessions() as s:
        before = (s.query(Booking).one().status, s.query(Delivery).count())
    for url, data in POSTS:
        for token in ("", "forged", alice.csrf):
            who = bob if token == alice.csrf else alice  # another session's token
            r = who.post(url.format(b=b, t=1), data, csrf=token)
            assert r.status_code == 403 and "formulier is verlopen" in r.text, url
    with site.reg.ledger.sessions() as s:
        assert (s.query(Booking).one().status, s.query(Delivery).count()) == before
        assert s.query(Transfer).count() == 0


def test_register_routes_answer_in_english_too(site: Site) -> None:
    alice = site.browser("alice")
    alice.post("/language", {"lang": "en", "next": "/register"})
    html = alice.get("/register").text
    assert "Balances by unit type and vintage" in html and "Year-end" in html
    alice.post("/language", {"lang": "nl", "next": "/register"})
    assert "Saldi per eenheidstype en jaargang" in alice.get("/register").text


def test_deadline_days_left_follow_the_clock(site: Site) -> None:
    from keten.registry import holder_views as hv

    d = {x.kind: x for x in hv.deadlines(site.reg, 2026)}
    assert d["deliveries"].at == dt.datetime(2027, 3, 1, tzinfo=dt.UTC)
    assert d["deliveries"].days_left == (dt.date(2027, 3, 1) - dt.date(2026, 6, 15)).days == 259
    # verification by 31 March (before 1 April) and surrender on 1 May have parameters of their
    # own (ev.register.verification_deadline_*, ev.register.surrender_deadline_*).
    assert d["verification"].own_parameter and d["deliveries"].own_parameter
    assert d["verification"].at == dt.datetime(2027, 4, 1, tzinfo=dt.UTC)
    assert d["surrender"].at == dt.datetime(2027, 5, 1, tzinfo=dt.UTC)
    assert d["surrender"].days_left == (dt.date(2027, 5, 1) - dt.date(2026, 6, 15)).days == 320
