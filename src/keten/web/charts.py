"""Charts as inline SVG, drawn on the server (no script, no external library, readable by
screen readers through <title> and a data table the pages show next to each chart)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape

from markupsafe import Markup

PALETTE = ("#1f4e79", "#c55a11", "#548235", "#7030a0", "#bf9000", "#2e75b6", "#833c0b")
Number = int | float | Decimal


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[Number | None]  # one per category; None = no value


def _f(x: Number) -> float:
    return float(x)


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / n
    mag = 10 ** len(str(int(abs(raw)))) / 10 if raw >= 1 else 1.0
    while mag > raw:
        mag /= 10
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = (lo // step) * step
    out, t = [], start
    while t <= hi + step * 0.5:
        out.append(round(t, 10))
        t += step
    return out


def _label(v: float) -> str:
    if abs(v) >= 1e6:
        return f"{v / 1e6:g}M"
    if abs(v) >= 1e3:
        return f"{v / 1e3:g}k"
    return f"{v:g}"


_LEFT, _RIGHT, _TOP, _BOTTOM = 56, 12, 28, 46  # margins around the plot area (px)


def _frame(
    title: str, series: Sequence[Series], width: int, height: int, unit: str
) -> tuple[list[str], Callable[[float], float], float]:
    """The opening of a chart's SVG (title, value axis with grid lines and labels), the
    value → y coordinate function, and the plot width."""
    values = [_f(v) for s in series for v in s.values if v is not None]
    lo, hi = min([0.0, *values]), max([0.0, *values])
    ticks = _ticks(lo, hi)
    lo, hi = min(lo, ticks[0]), max(hi, ticks[-1])
    plot_w, plot_h = width - _LEFT - _RIGHT, height - _TOP - _BOTTOM

    def y(v: float) -> float:
        return _TOP + plot_h - (v - lo) / (hi - lo or 1) * plot_h

    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
        f'<text x="{_LEFT}" y="16" class="chart-title">{escape(title)}'
        f"{' (' + escape(unit) + ')' if unit else ''}</text>",
    ]
    for t in ticks:
        parts.append(
            f'<line x1="{_LEFT}" x2="{width - _RIGHT}" y1="{y(t):.1f}" y2="{y(t):.1f}" '
            f'class="grid"/><text x="{_LEFT - 6}" y="{y(t) + 4:.1f}" text-anchor="end">'
            f"{_label(t)}</text>"
        )
    return parts, y, plot_w


def bar_chart(
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    width: int = 640,
    height: int = 260,
    unit: str = "",
    value_text: Callable[[Number], str] = str,
) -> Markup:
    """Grouped bars: one group per category, one bar per series. ``value_text`` writes a value
    in a bar's tooltip (e.g. ``ui.num``: the page's number notation)."""
    parts, y, plot_w = _frame(title, series, width, height, unit)
    n_cat = max(len(categories), 1)
    group = plot_w / n_cat
    bar = group * 0.8 / max(len(series), 1)
    for i, cat in enumerate(categories):
        x0 = _LEFT + i * group + group * 0.1
        for j, s in enumerate(series):
            v = s.values[i] if i < len(s.values) else None
            if v is None:
                continue
            fv = _f(v)
            y0, y1 = sorted((y(0.0), y(fv)))
            parts.append(
                f'<rect x="{x0 + j * bar:.1f}" y="{y0:.1f}" width="{bar * 0.95:.1f}" '
                f'height="{max(y1 - y0, 0.5):.1f}" fill="{PALETTE[j % len(PALETTE)]}">'
                f"<title>{escape(s.name)} — {escape(cat)}: {escape(value_text(v))}</title></rect>"
            )
        parts.append(
            f'<text x="{x0 + group * 0.4:.1f}" y="{height - _BOTTOM + 16}" '
            f'text-anchor="middle">{escape(cat)}</text>'
        )
    parts.append(_legend(series, _LEFT, height - 10))
    parts.append("</svg>")
    return Markup("".join(parts))


def line_chart(
    title: str,
    xs: Sequence[str],
    series: Sequence[Series],
    *,
    width: int = 640,
    height: int = 260,
    unit: str = "",
    value_text: Callable[[Number], str] = str,
) -> Markup:
    """Lines over ordered x labels (years, periods); None breaks a line. ``value_text`` as in
    :func:`bar_chart`."""
    parts, y, plot_w = _frame(title, series, width, height, unit)
    step = plot_w / max(len(xs) - 1, 1)
    every = max(1, len(xs) // 10)
    for i, x in enumerate(xs):
        if i % every == 0:
            parts.append(
                f'<text x="{_LEFT + i * step:.1f}" y="{height - _BOTTOM + 16}" '
                f'text-anchor="middle">{escape(x)}</text>'
            )
    for j, s in enumerate(series):
        colour = PALETTE[j % len(PALETTE)]
        path: list[str] = []
        for i, v in enumerate(s.values):
            if v is None:
                if path:
                    parts.append(_polyline(path, colour))
                path = []
                continue
            path.append(f"{_LEFT + i * step:.1f},{y(_f(v)):.1f}")
            parts.append(
                f'<circle cx="{_LEFT + i * step:.1f}" cy="{y(_f(v)):.1f}" r="2.5" '
                f'fill="{colour}"><title>{escape(s.name)} — {escape(xs[i])}: '
                f"{escape(value_text(v))}</title></circle>"
            )
        if path:
            parts.append(_polyline(path, colour))
    parts.append(_legend(series, _LEFT, height - 10))
    parts.append("</svg>")
    return Markup("".join(parts))


def _polyline(points: list[str], colour: str) -> str:
    return f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{" ".join(points)}"/>'


def _legend(series: Sequence[Series], x: float, y: float) -> str:
    """One swatch and name per series, spaced by the length of the names (≈6.5 px per
    character at the chart's 11 px font) so that long names never overlap."""
    out = []
    xx = x
    for j, s in enumerate(series):
        if j:
            xx += 14 + 6.5 * len(series[j - 1].name) + 18
        out.append(
            f'<rect x="{xx}" y="{y - 9}" width="10" height="10" '
            f'fill="{PALETTE[j % len(PALETTE)]}"/>'
            f'<text x="{xx + 14}" y="{y}">{escape(s.name)}</text>'
        )
    return "".join(out)
