"""Accessibility checks over every page the application has (crawled, not listed by hand):
every form control has a label, a page has one <h1> and a language, tables have header cells,
charts have a title; and the stylesheet's colour pairs meet WCAG AA contrast (4.5:1)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from web_site import Site

STYLE = Path(__file__).resolve().parents[2] / "src/keten/web/static/style.css"


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.h1 = 0
        self.lang: str | None = None
        self.controls: list[dict[str, str | None]] = []
        self.label_for: set[str] = set()
        self.label_depth = 0
        self.wrapped: int = 0
        self.tables = 0
        self.th = 0
        self.svgs = 0
        self.svg_titles = 0
        self._in_svg = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        elif tag == "h1":
            self.h1 += 1
        elif tag == "label":
            self.label_depth += 1
            if a.get("for"):
                self.label_for.add(str(a["for"]))
        elif tag in ("input", "select", "textarea"):
            kind = (a.get("type") or "text").lower()
            if kind not in ("hidden", "submit", "button", "reset", "image"):
                self.controls.append({**a, "_wrapped": "1" if self.label_depth else None})
        elif tag == "table":
            self.tables += 1
        elif tag == "th":
            self.th += 1
        elif tag == "svg":
            self.svgs += 1
            self._in_svg += 1
        elif tag == "title" and self._in_svg:
            self.svg_titles += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.label_depth -= 1
        elif tag == "svg":
            self._in_svg -= 1


def _get_pages(site: Site) -> list[str]:
    return sorted(
        r.path
        for r in site.app.state.page_routes
        if isinstance(r, APIRoute) and "GET" in r.methods and "{" not in r.path
    )


def _check(url: str, html: str) -> list[str]:
    p = _Page()
    p.feed(html)
    problems = []
    if p.lang not in ("nl", "en"):
        problems.append("no lang on <html>")
    if p.h1 != 1:
        problems.append(f"{p.h1} <h1> elements")
    for c in p.controls:
        labelled = (
            c.get("_wrapped")
            or (c.get("id") and c["id"] in p.label_for)
            or c.get("aria-label")
            or c.get("aria-labelledby")
        )
        if not labelled:
            problems.append(f"control without a label: {c.get('name')!r}")
    if p.tables and not p.th:
        problems.append("tables without header cells")
    if p.svgs and p.svg_titles < 1:
        problems.append("a chart without a title")
    return [f"{url}: {x}" for x in problems]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("who", [None, "alice", "bob", "carol", "lars", "vera", "nea"])
def test_every_page_is_labelled_and_structured(site: Site, who: str | None) -> None:
    b = site.browser(who)
    problems = []
    pages = _get_pages(site)
    assert "/" in pages and "/login" in pages
    for url in pages:
        r = b.get(url)
        if r.status_code in (303, 403, 404):
            continue
        assert r.status_code == 200, f"{url}: {r.status_code}"
        if "text/html" in r.headers.get("content-type", ""):
            problems += _check(url, r.text)
    assert problems == []


def _luminance(hex_colour: str) -> float:
    h = hex_colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    rgb = [int(h[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_contrast_ratio_formula() -> None:
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0
    assert round(contrast("#767676", "#ffffff"), 2) == 4.54  # the classic AA boundary grey


def test_text_colours_meet_wcag_aa() -> None:
    css = STYLE.read_text()
    var = dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{3,6})", css))
    pairs = {
        "body text": (var["ink"], var["bg"]),
        "muted text": (var["muted"], var["bg"]),
        "links": (var["link"], var["bg"]),
        "errors": (var["bad"], var["bg"]),
        "header links": ("#ffffff", var["accent"]),
        "table headers": (var["ink"], var["band"]),
        "demo banner": ("#5c3c00", "#fff3cd"),
        "buttons": ("#ffffff", var["accent"]),
        "danger buttons": ("#ffffff", var["bad"]),
        "good badge": (var["good"], var["bg"]),
        "warning badge": (var["warn"], var["bg"]),
    }
    low = {k: round(contrast(*v), 2) for k, v in pairs.items() if contrast(*v) < 4.5}
    assert low == {}
