"""ILCD+EPD XML import (MKI-16) with the test file tests/mki/data/epd_concrete.xml (written for
these tests; the reference flow is 2 m3, so every value is divided by 2)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from keten.core.trace import Trace
from keten.io.mki_files import read_epd_xml
from keten.mki.model import Element, Profile
from keten.mki.project import project_mki
from keten.mki.weights import load_weighting_set

XML = Path(__file__).parent / "data" / "epd_concrete.xml"
D = Decimal


def test_epd_rows() -> None:
    rows = read_epd_xml(XML, "2", product_id="c30", unit="m3", data_category="1")
    got = {(r["module"], r["indicator"]): r["value"] for r in rows}
    # A1-A3 500 / 2 = 250; A4 12 / 2 = 6; C3 8 / 2 = 4; D −20 / 2 = −10; GWP-fossil "A1-3" → A1-A3
    # 498 / 2 = 249; AP 1.6E+00 / 2 = 0.8; AP C3 "ND" skipped.
    assert got == {
        ("A1-A3", "GWP-total"): D(250),
        ("A4", "GWP-total"): D(6),
        ("C3", "GWP-total"): D(4),
        ("D", "GWP-total"): D(-10),
        ("A1-A3", "GWP-fossil"): D(249),
        ("A1-A3", "AP"): D("0.8"),
    }
    assert {r["product_id"] for r in rows} == {"c30"}


def test_epd_profile_priced() -> None:
    """1 m3: A1-A3 250 × 0.116 + 0.8 × 0.39 = 29.312; A4 6 × 0.116 = 0.696; C3 4 × 0.116 =
    0.464; D excluded. Total 30.472 € (GWP-fossil not priced, MKI-02)."""
    rows = read_epd_xml(XML, "2", product_id="c30", unit="m3", data_category="1")
    prof = Profile("c30", "m3", "1", {(r["module"], r["indicator"]): r["value"] for r in rows})
    r = project_mki(
        [Element("e", "c30", D(1), D(100))],
        {"c30": prof},
        Trace(load_weighting_set("2")),
        weighting_set="2",
        day=dt.date(2025, 9, 1),
    )
    assert r.mki_eur == D("30.472")
    assert r.d_excluded_eur == D("-1.16")
