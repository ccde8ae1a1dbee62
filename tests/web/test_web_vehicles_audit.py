"""Audit of the /vehicles pages as a visitor uses them (manufacturer table per scenario, the 2040
and ESR trajectories): defects found by using the pages, each pinned here.

Numbers: docs/vehicles.md worked example (examples/vehicles/eea_cars_2025.csv, set in-force,
2025): ALPHA MOTORS average 78 − 0.9 eco-innovation = 77.1 g/km, target 93.16584 × 1.05 =
97.824 g/km; the EU 2040 example: 1990 net 4800 → 2040 target 480, credit cap 240.
"""

from __future__ import annotations

import html as htmllib
import re
from decimal import Decimal
from pathlib import Path

from typer.testing import CliRunner
from web_site import Browser, Site

from keten.cli.vehicles import targets_app
from keten.io.csvfile import MAX_AMOUNT
from keten.io.vehicles_files import read_esr_series, read_net_series

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "vehicles"
BOTH = ["in-force", "com-2025-995"]


def visitor(site: Site, lang: str = "en") -> Browser:
    b = site.browser()
    b.client.cookies.set("keten_lang", lang)
    b.get("/vehicles")
    return b


def error(page: str, name: str) -> str:
    m = re.search(rf'<p id="e-{name}" class="error">(.*?)</p>', page, re.S)
    assert m, f"no error next to {name}"
    return htmllib.unescape(m.group(1))


def text(page: str) -> str:
    return re.sub(r"\s+", " ", htmllib.unescape(re.sub(r"<[^>]+>", " ", page)))


def compute(b: Browser, files: object = None, **data: object) -> tuple[int, str]:
    form = {"year": "2025", "category": "cars", "scenario": BOTH} | data
    r = b.post("/vehicles", form, files=files)
    return r.status_code, r.text


# ----------------------------------------------------------------------------- series values


def test_a_huge_series_value_is_refused_next_to_the_field_not_a_server_error(
    site: Site, tmp_path: Path
) -> None:
    """A 60-digit 1990 value crashed the EU 2040 page (500: the number filter cannot quantize
    beyond Decimal's 28 digits) and the CLI printed rounded, inexact accounts (VH-18)."""
    b = visitor(site)
    huge = "9" * 60
    cases = [
        ("eu2040", f"year,net_emissions\n1990,{huge}\n", "net_emissions"),
        ("eu2040", f"year,net_emissions,credits\n1990,4800,\n2040,700,{huge}\n", "credits"),
        ("esr", f"year,emissions,aea\n2021,{huge},100\n", "emissions"),
        ("esr", f"year,emissions,aea\n2021,90,{huge}\n", "aea"),
    ]
    for kind, body, field in cases:
        r = b.post(f"/vehicles/{kind}", {}, files={"series": ("s.csv", body.encode())})
        assert r.status_code == 422, (kind, field)
        shown = error(r.text, "series")
        assert "s.csv, row " in shown and f"field '{field}'" in shown, shown
        assert "too large (limit 1,000,000,000,000,000)" in shown and "<svg" not in r.text
    # the CLI refuses the same file with the same line (exit code 2, nothing printed)
    path = tmp_path / "s.csv"
    path.write_text(f"year,net_emissions\n1990,{huge}\n")
    out = CliRunner().invoke(targets_app, ["eu2040", "--series", str(path)])
    assert out.exit_code == 2 and "too large (limit 1,000,000,000,000,000)" in out.output
    # the bound is a sanity bound far above any emission series in any unit: EU net emissions
    # are about 3.2e9 t CO2e (3.2e15 g would be refused; 3.2e12 kg is accepted)
    assert Decimal(10) ** 15 == MAX_AMOUNT  # GEN-01
    ok = tmp_path / "ok.csv"
    ok.write_text("year,net_emissions,credits\n1990,999999999999999.999999,\n2040,1,0\n")
    assert read_net_series(ok)[0].net_emissions == Decimal("999999999999999.999999")
    ok.write_text("year,emissions,aea\n2021,999999999999999,999999999999999\n")
    assert read_esr_series(ok)[0][0].emissions == Decimal(999999999999999)


# ----------------------------------------------------------------------------- page size


def test_a_file_with_more_fleets_than_the_page_can_show_is_refused_with_a_pointer_to_the_cli(
    site: Site,
) -> None:
    """A 144 KB file of 5,000 one-car manufacturers made a 63 MB page (a table row, a chart bar
    and an explanation per manufacturer and scenario; 12 s): the 100 MB upload limit allowed
    pages of gigabytes. The page now shows at most MAX_FLEETS fleets and sends larger files to
    the command line, which has no such limit."""
    from keten.web.pages.vehicles import MAX_FLEETS

    b = visitor(site)

    def fleet_file(n: int) -> bytes:
        rows = "".join(f"M{i},petrol,1500,130,2,2025\n" for i in range(n))
        return ("Mh,Ft,Mt,Ewltp,R,Year\n" + rows).encode()

    status, page = compute(b, files={"data": ("many.csv", fleet_file(MAX_FLEETS + 1))})
    assert status == 422 and "data-manufacturer" not in page
    shown = error(page, "data")
    assert f"{MAX_FLEETS + 1} manufacturers or pools" in shown
    assert f"at most {MAX_FLEETS} " in shown and "keten vehicles compliance" in shown
    status, page = compute(
        b, files={"data": ("many.csv", fleet_file(MAX_FLEETS))}, scenario=["in-force"]
    )
    assert status == 200 and page.count("<tr data-manufacturer=") == MAX_FLEETS


# ----------------------------------------------------------------------------- language


def test_the_result_heading_names_the_vehicle_category_in_the_pages_language(site: Site) -> None:
    """The Dutch result heading read "Resultaat voor 2025 · cars": the raw form value."""
    for lang, cars, vans in (
        ("nl", "personenauto's (M1)", "bestelauto's (N1)"),
        ("en", "cars (M1)", "vans (N1)"),
    ):
        b = visitor(site, lang)
        for category, label in (("cars", cars), ("vans", vans)):
            status, page = compute(b, use_example="1", category=category, scenario=["in-force"])
            assert status == 200
            heading = re.search(r"<h2>(.*?)</h2>", page, re.S)
            assert heading and text(heading.group(1)).strip().endswith(f"· {label}"), heading


def test_the_trajectory_tables_have_headers_in_the_pages_language(site: Site) -> None:
    """The EU 2040 and ESR tables were headed by the JSON field names (net_emissions,
    credits_claimed, aea_from, …) in both languages, and the ESR column aea_from showed the raw
    value 'input'. The exports keep the field names (the contract of keten targets … --format
    csv)."""
    expected = {
        ("eu2040", "nl"): ["Jaar", "Netto-uitstoot", "Geclaimde credits", "Meegetelde credits"],
        ("eu2040", "en"): ["Year", "Net emissions", "Credits claimed", "Credits counted"],
        ("esr", "nl"): ["Jaar", "Emissieruimte (AEA)", "Herkomst AEA", "Emissies"],
        ("esr", "en"): ["Year", "Allocation (AEA)", "AEA from", "Emissions"],
    }
    for (kind, lang), first in expected.items():
        b = visitor(site, lang)
        r = b.post(f"/vehicles/{kind}", {"use_example": "1"})
        assert r.status_code == 200
        table = re.search(r'<table class="trajectory">(.*?)</table>', r.text, re.S)
        assert table
        heads = [
            text(h).strip()
            for h in re.findall(r"<th scope=\"col\"[^>]*>(.*?)</th>", table.group(1))
        ]
        assert heads[:4] == first, heads
        assert not any("_" in h for h in heads), heads
        # the cells still carry the contract name of their column
        body = table.group(1)
        assert f'data-col="{"net_emissions" if kind == "eu2040" else "emissions"}"' in body
        if kind == "esr":
            source = re.search(r'<td data-col="aea_from">(.*?)</td>', table.group(1))
            assert source and source.group(1) == {"nl": "reeks", "en": "series"}[lang]
        m = re.search(r'name="result" value="([^"]+)"', r.text)
        assert m
        csv = b.post("/vehicles/export", {"result": m.group(1), "table": kind, "fmt": "csv"})
        first_line = csv.text.splitlines()[0]
        assert first_line.startswith(
            "year,net_emissions" if kind == "eu2040" else "year,aea,aea_from"
        )
        if kind == "esr":
            assert ",input," in csv.text  # the field value of the contract


# ----------------------------------------------------------------------------- field of an error


def test_a_year_without_parameter_values_is_refused_next_to_the_year(site: Site) -> None:
    """For 2027 the parameter sets mark TM0 unknown (research §1.3, VH-02): the refusal was shown
    under the file field although the file was fine; the visitor has to change the year."""
    b = visitor(site)
    body = (EXAMPLES / "eea_cars_2025.csv").read_text().replace(",2025\n", ",2027\n")
    status, page = compute(b, files={"data": ("f.csv", body.encode())}, year="2027")
    assert status == 422 and "data-manufacturer" not in page
    assert "vehicles.cars.tm0 is unknown" in error(page, "year")
    assert 'id="e-data"' not in page


def test_chart_values_are_written_in_the_pages_number_notation(site: Site) -> None:
    """The Dutch chart said "ALPHA MOTORS: 77.100" — in Dutch notation seventy-seven thousand
    one hundred g/km — next to a table saying 77,100. ALPHA MOTORS (docs/vehicles.md): average
    78 − 0.9 = 77.1 g/km, target 93.16584 × 1.05 = 97.824 g/km; EU 2040: 1990 net 4800."""
    b = visitor(site, "nl")
    status, page = compute(b, use_example="1", scenario=["in-force"])
    assert status == 200
    titles = re.findall(r"<title>(.*?)</title>", page)
    assert "gemiddelde (in-force) — ALPHA MOTORS: 77,100" in titles, titles
    assert "doel (in-force) — ALPHA MOTORS: 97,824" in titles
    r = b.post("/vehicles/eu2040", {"use_example": "1"})
    assert "netto-uitstoot — 1990: 4.800" in re.findall(r"<title>(.*?)</title>", r.text)
    b = visitor(site, "en")
    status, page = compute(b, use_example="1", scenario=["in-force"])
    assert "average (in-force) — ALPHA MOTORS: 77.100" in re.findall(r"<title>(.*?)</title>", page)


def test_a_year_of_superscript_digits_is_refused_not_a_500(site: Site) -> None:
    """ "²⁰²⁵" passed ``str.isdigit`` and then broke ``int`` (a 500)."""
    status, page = compute(visitor(site), use_example="1", year="²⁰²⁵")
    assert status == 422
    assert "Enter a year of registration, e.g. 2025." in text(page)
