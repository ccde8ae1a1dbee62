"""Bulk upload of charging sessions from the register pages (inboekdienstverlener Laad BV):
an accepted file becomes one proposed booking; a refused file imports nothing and its full
per-row error report can be downloaded by the uploader only."""

from __future__ import annotations

import io

import polars as pl
from web_site import Site

from keten.store.models import Booking, ChargingSession

HEADER = "connection_id,meter_id,period_start,period_end,kwh,own_generation\n"
GOOD = HEADER + "EAN1,M1,2026-01-01,2026-01-31,1000,no\nEAN2,M2,2026-01-01,2026-01-31,500,yes\n"


def _count(site: Site, model: type) -> int:
    with site.reg.ledger.sessions() as s:
        return int(s.query(model).count())


def test_upload_page_has_a_progress_bar(site: Site) -> None:
    page = site.browser("lars").get("/register/bookings/upload")
    assert page.status_code == 200
    assert 'data-progress="up"' in page.text and '<progress id="up" hidden' in page.text
    assert 'id="up-status" role="status"' in page.text
    assert 'data-checking="Geüpload; elke regel wordt gecontroleerd…"' in page.text


def test_a_good_file_becomes_one_proposed_booking_with_its_calculation(site: Site) -> None:
    lars, lena = site.browser("lars"), site.browser("lena")
    r = lars.post(
        "/register/bookings/upload",
        {"proof_ref": "LAAD-Q1", "year": "2026"},
        files={"file": ("q1.csv", GOOD.encode(), "text/csv")},
    )
    assert r.status_code == 303, r.text
    url = r.headers["location"]
    # EV-25: (1000 kWh × 50.5% grid share + 500 kWh × 100% own generation) × 3.6 MJ/kWh
    # × 183 g/MJ / 1000 g/ERE = 1005 × 0.6588 = 662.094 → round down = 662 ERE.
    html = lena.get(url).text
    assert "662 ERE" in html and "ev.grid_renewable_share" in html and "EV-25" in html
    assert "2 laadsessies" in html
    assert _count(site, ChargingSession) == 2
    assert lena.post(url + "/decision", {"decision": "approve"}).status_code == 303
    assert "662" in lars.get("/register").text


def test_a_parquet_file_is_accepted_too(site: Site) -> None:
    buf = io.BytesIO()
    pl.read_csv(io.StringIO(GOOD), infer_schema=False).write_parquet(buf)
    r = site.browser("lars").post(
        "/register/bookings/upload",
        {"proof_ref": "LAAD-PQ", "year": "2026"},
        files={"file": ("q1.parquet", buf.getvalue(), "application/octet-stream")},
    )
    assert r.status_code == 303, r.text
    assert _count(site, ChargingSession) == 2


def test_a_bad_file_imports_nothing_and_its_report_is_for_the_uploader_only(site: Site) -> None:
    lars, lena, alice = site.browser("lars"), site.browser("lena"), site.browser("alice")
    rows = [f"EAN{i},M{i},2026-02-01,2026-02-28,{-i if i % 2 else i},no" for i in range(1, 51)]
    bad = HEADER + "\n".join(rows) + "\nEANX,MX,2025-12-01,2026-01-31,5,maybe\n"
    r = lars.post(
        "/register/bookings/upload",
        {"proof_ref": "LAAD-BAD", "year": "2026"},
        files={"file": ("bad.csv", bad.encode(), "text/csv")},
    )
    assert r.status_code == 422
    # rows 1, 3, …, 49 have negative kWh (25 rows) and row 51 a date outside 2026: 26 rows.
    assert "26 regel(s) van bad.csv zijn onjuist" in r.text
    # The page speaks the visitor's language (Dutch by default); the CSV report stays English.
    assert '<td class="num">1</td><td>kwh</td><td>moet positief zijn</td>' in r.text
    assert '<td class="num">3</td><td>kwh</td><td>moet positief zijn</td>' in r.text
    assert "must be positive" not in r.text
    assert "Alleen u kunt dit rapport downloaden" in r.text
    assert _count(site, Booking) == 0 and _count(site, ChargingSession) == 0
    link = r.text.split('href="/register/bookings/upload/report/')[1].split('"')[0]
    report = lars.get(f"/register/bookings/upload/report/{link}")
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/csv")
    lines = report.text.strip().splitlines()
    assert lines[0] == "row,field,error" and len(lines) == 1 + 26
    assert lines[1] == "1,kwh,must be positive"
    assert lines[-1] == "51,period_start,is not in 2026"
    assert lena.get(f"/register/bookings/upload/report/{link}").status_code == 404
    assert alice.get(f"/register/bookings/upload/report/{link}").status_code == 404
    assert lars.get("/register/bookings/upload/report/nonsense").status_code == 404


def test_a_session_booked_before_is_refused_and_nothing_is_imported(site: Site) -> None:
    lars = site.browser("lars")
    files = {"file": ("q1.csv", GOOD.encode(), "text/csv")}
    ok = lars.post("/register/bookings/upload", {"proof_ref": "A", "year": "2026"}, files=files)
    assert ok.status_code == 303
    again = lars.post("/register/bookings/upload", {"proof_ref": "B", "year": "2026"}, files=files)
    assert again.status_code == 422
    assert "laadsessie is al ingeboekt met een eerder bestand" in again.text
    assert _count(site, Booking) == 1 and _count(site, ChargingSession) == 2


def test_wrong_header_and_missing_fields_are_shown_next_to_the_field(site: Site) -> None:
    lars = site.browser("lars")
    r = lars.post(
        "/register/bookings/upload",
        {"proof_ref": "X", "year": "2026"},
        files={"file": ("x.csv", b"a,b\n1,2\n", "text/csv")},
    )
    assert r.status_code == 422 and 'id="e-file"' in r.text and "/tmp" not in r.text
    r = lars.post("/register/bookings/upload", {"proof_ref": "", "year": "1999"})
    assert r.status_code == 422
    for f in ("proof_ref", "year", "file"):
        assert f'id="e-{f}"' in r.text
    assert _count(site, Booking) == 0


def test_upload_needs_a_booking_facility_and_a_csrf_token(site: Site) -> None:
    files = {"file": ("q1.csv", GOOD.encode(), "text/csv")}
    carol = site.browser("carol")  # Handel BV: transfer only
    r = carol.post("/register/bookings/upload", {"proof_ref": "C", "year": "2026"}, files=files)
    assert r.status_code == 403
    lars = site.browser("lars")
    r = lars.post(
        "/register/bookings/upload", {"proof_ref": "C", "year": "2026"}, files=files, csrf="no"
    )
    assert r.status_code == 403
    assert _count(site, Booking) == 0


def test_a_proof_used_before_is_refused_next_to_its_field_in_dutch(site: Site) -> None:
    lars = site.browser("lars")
    files = {"file": ("q1.csv", GOOD.encode(), "text/csv")}
    ok = lars.post("/register/bookings/upload", {"proof_ref": "A", "year": "2026"}, files=files)
    assert ok.status_code == 303
    other = HEADER + "EAN3,M3,2026-02-01,2026-02-28,700,no\n"
    files = {"file": ("q2.csv", other.encode(), "text/csv")}
    again = lars.post("/register/bookings/upload", {"proof_ref": "A", "year": "2026"}, files=files)
    assert again.status_code == 422
    # The field is chosen on the English text (exc.english()); the page shows the Dutch one.
    assert '<p id="e-proof_ref" class="error">duurzaamheidsbewijs' in again.text
    assert "is al ingeboekt" in again.text
    assert _count(site, Booking) == 1 and _count(site, ChargingSession) == 2


def test_refused_rows_follow_the_language_switch(site: Site) -> None:
    lars = site.browser("lars")
    bad = HEADER + "EAN1,M1,2026-02-31,2026-02-28,12x,perhaps\n"
    page = {}
    for lang in ("nl", "en"):
        lars.client.cookies.set("keten_lang", lang)
        page[lang] = lars.post(
            "/register/bookings/upload",
            {"proof_ref": "LANG", "year": "2026"},
            files={"file": ("bad.csv", bad.encode(), "text/csv")},
        ).text
    # Row 1: period_start 2026-02-31 is no date (the first check that fails for the row).
    assert "<td>period_start</td><td>is geen datum JJJJ-MM-DD</td>" in page["nl"]
    assert "<td>period_start</td><td>is not a date YYYY-MM-DD</td>" in page["en"]
    assert _count(site, Booking) == 0 and _count(site, ChargingSession) == 0
