"""Defects found by the fresh-eyes audit of the Energie Vervoer engine (each fails unfixed)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from keten.cli.main import app

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "ev"


def test_plan_with_free_unit_types_buys_only_what_is_needed(tmp_path: Path) -> None:
    """A price of 0 is accepted (EV-18: unlimited supply at that price). The plan used to buy
    units it did not need — at zero cost every purchase ties — e.g. 5,697,106 land/annex-ixa for
    Brandstof BV and 1,986,208 for Noordzee Olie, in place of units they hold. Among the
    cheapest plans keten now buys the fewest units.

    Example files, 2026, land/annex-ixa and land/rfnbo free, nothing else priced.
    Brandstof BV, land: Annex IX-A part 1,500,616 − 1,428,000 held = 72,616 (annex-ixa only);
    RFNBO part 24,440 − 2,000 = 22,440 (rfnbo only); general part 5,513,664 − (586,560
    conventional within the cap + 4,000,000 other) = 927,104 (annex-ixa or rfnbo):
    72,616 + 22,440 + 927,104 = 1,022,160 units at least. Binnenvaart stays 11,520 short (no
    binnenvaart price; its vrije ruimte of 27,072 is already full with zeevaart units).
    Noordzee Olie: land Annex IX-A 207,778 − 160,000 = 47,778; RFNBO 3,384; land general
    763,430 + luchtvaart 1,175,000 − 251,600 annex-ixb = 1,686,830 to fill, of which 1,100,000
    with the land/other units held → 586,830; 47,778 + 3,384 + 586,830 = 638,992 at least.
    """
    prices = tmp_path / "prices.csv"
    prices.write_text(
        "origin_sector,category,price_eur\nland,annex-ixa,0\nland,rfnbo,0\n", encoding="utf-8"
    )
    result = CliRunner().invoke(
        app,
        [
            "ev",
            "plan",
            "--year",
            "2026",
            "--deliveries",
            str(EXAMPLES / "deliveries.csv"),
            "--units",
            str(EXAMPLES / "units.csv"),
            "--prices",
            str(prices),
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    plans = {p["supplier"]: p for p in json.loads(result.stdout)}
    bought = {
        s: {f"{x['origin_sector']}/{x['category']}": x["amount"] for x in p["purchases"]}
        for s, p in plans.items()
    }
    brandstof, noordzee = bought["Brandstof BV"], bought["Noordzee Olie"]
    assert sum(brandstof.values()) == 72_616 + 22_440 + 927_104
    assert brandstof["land/annex-ixa"] >= 72_616 and brandstof["land/rfnbo"] >= 22_440
    assert plans["Brandstof BV"]["shortfall_total"] == 11_520
    assert sum(noordzee.values()) == 47_778 + 3_384 + 586_830
    assert noordzee["land/annex-ixa"] >= 47_778 and noordzee["land/rfnbo"] >= 3_384
    assert plans["Noordzee Olie"]["compliant"] is True
    assert all(p["cost_eur"] == 0 for p in plans.values())


def test_a_bookings_row_with_too_few_fields_is_named_by_its_field_count(tmp_path: Path) -> None:
    """Audit: polars reads a short CSV row as empty cells, so row 2 below (6 of 7 fields) was
    refused as "ghg_intensity: … missing" — a value the user never meant to leave out. The
    error now says what is wrong with the row, as the other CSV files do; nothing is printed."""
    bookings = tmp_path / "bookings.csv"
    bookings.write_text(
        "holder,sector,category,fuel,quantity,unit,ghg_intensity\n"
        "A,land,annex-ixa,hvo,500,l,10\n"
        "\n"
        "A,land,annex-ixa,hvo,500,l\n",
        encoding="utf-8",
    )
    r = CliRunner().invoke(app, ["ev", "units", "--year", "2026", "--bookings", str(bookings)])
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr == f"error: {bookings}, row 2: has 6 fields, the header has 7\n"
