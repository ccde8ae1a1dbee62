"""Audit of the public Energie Vervoer calculators at /calculators as a visitor uses them:
defects found by using the page, each pinned here.

Numbers: Bijlage 1 (seed 004_502c408745ad4f95.txt), table Land 2026, Totaal 14,4 %; EV-01 (row
EREs = MJ × 94 g/MJ × % / 100 / 1000), EV-03 (rounded half up), EV-09 (diesel 36 MJ/l).
"""

from __future__ import annotations

import html as htmllib
import re

from web_site import Browser, Site

from keten.web.pages.calculators import MAX_GROUPS

HEADER = "supplier,sector,fuel,quantity,unit\n"


def visitor(site: Site, lang: str = "en") -> Browser:
    b = site.browser()
    b.client.cookies.set("keten_lang", lang)
    b.get("/calculators")
    return b


def error(page: str, name: str) -> str:
    m = re.search(rf'<p id="e-{name}" class="error">(.*?)</p>', page, re.S)
    assert m, f"no error next to {name}"
    return htmllib.unescape(m.group(1))


def upload(b: Browser, name: str, body: bytes, **data: str) -> tuple[int, str]:
    form = {"year": "2026", "scenario": "both"} | data
    r = b.post("/calculators/obligation", form, files={"deliveries": (name, body)})
    return r.status_code, r.text


def test_a_file_with_more_results_than_the_page_can_show_is_refused_with_a_pointer_to_the_cli(
    site: Site,
) -> None:
    """A 109 KB deliveries file of 5,000 suppliers made a 66 MB page (12 s; a table and an
    explanation per supplier, sector and parameter set): the 2 MB upload limit allowed pages of
    a gigabyte on a page without an account. The page now shows at most MAX_GROUPS supplier and
    sector results and sends larger files to the command line."""
    b = visitor(site)

    def deliveries(n: int) -> bytes:
        return (HEADER + "".join(f"S{i},land,diesel,1000,l\n" for i in range(n))).encode()

    status, page = upload(b, "all.csv", deliveries(MAX_GROUPS + 1))
    assert status == 422 and 'class="obligation"' not in page
    shown = error(page, "deliveries")
    assert shown.startswith("all.csv: ")
    assert f"{MAX_GROUPS + 1} supplier and sector combinations" in shown
    assert f"at most {MAX_GROUPS} " in shown and "keten ev obligation" in shown
    # many rows of few suppliers are fine: the limit counts results, not rows
    # 3 × MAX_GROUPS rows of 1,000 l diesel for one supplier: 3 × MAX_GROUPS × 36,000 MJ
    many_rows = (HEADER + "A,land,diesel,1000,l\n" * (3 * MAX_GROUPS)).encode()
    status, page = upload(b, "rows.csv", many_rows, scenario="bijlage-1")
    assert status == 200 and page.count('<table class="obligation"') == 1
    status, page = upload(b, "all.csv", deliveries(MAX_GROUPS), scenario="bijlage-1")
    assert status == 200 and page.count('<table class="obligation"') == MAX_GROUPS


def test_a_year_of_superscript_digits_is_refused_not_a_500(site: Site) -> None:
    """ "²⁰²⁶" passed ``str.isdigit`` and then broke ``int`` (a 500)."""
    status, page = upload(
        visitor(site), "d.csv", b"supplier,sector,fuel,quantity,unit\n", year="²⁰²⁶"
    )
    assert status == 422 and "Internal Server Error" not in page
