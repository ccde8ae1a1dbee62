"""Maps as inline SVG, drawn on the server from the data (no tiles, no script).

Coordinates are projected metres (RD New, EPSG:28992, for the nitrogen pages): they are scaled
uniformly into the viewBox with y flipped (north up). Polygons become ``<path>`` elements
(holes by the even-odd rule), points ``<circle>`` elements with a CSS class and a ``<title>``
(the tooltip and the accessible name). Pages show the same data in a table next to the map.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

import shapely
from markupsafe import Markup


@dataclass(frozen=True)
class MapPoint:
    x: float
    y: float
    title: str
    css_class: str
    key: str = ""  # written as data-key, e.g. an application id


@dataclass(frozen=True)
class Layer:
    """Polygons drawn with one CSS class (e.g. the areas, or a buffer zone around them)."""

    geometries: Sequence[Any]
    css_class: str
    title: str = ""


def _bounds(layers: Sequence[Layer], points: Sequence[MapPoint]) -> tuple[float, ...]:
    xs: list[float] = []
    ys: list[float] = []
    for layer in layers:
        for g in layer.geometries:
            if g is None or g.is_empty:
                continue
            x0, y0, x1, y1 = g.bounds
            xs += [x0, x1]
            ys += [y0, y1]
    xs += [p.x for p in points]
    ys += [p.y for p in points]
    if not xs:
        return (0.0, 0.0, 1.0, 1.0)
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    span = max(x1 - x0, y1 - y0, 1.0)
    pad = span * 0.05
    return (x0 - pad, y0 - pad, x1 + pad, y1 + pad)


def _nice(length: float) -> float:
    """The largest 1, 2 or 5 × 10^k not above ``length``."""
    if length <= 0:
        return 1.0
    mag = 10.0 ** math.floor(math.log10(length))
    return float(max(m * mag for m in (1, 2, 5) if m * mag <= length))


def svg_map(
    title: str,
    layers: Sequence[Layer],
    points: Sequence[MapPoint],
    *,
    width: int = 640,
    max_height: int = 640,
    description: str = "",
    scale_label: str = "{km} km",
) -> Markup:
    """An SVG map of ``layers`` (first drawn first) and ``points`` (drawn on top)."""
    x0, y0, x1, y1 = _bounds(layers, points)
    dx, dy = x1 - x0, y1 - y0
    height = int(min(max(width * dy / dx, 200), max_height))
    scale = min(width / dx, height / dy)
    ox = (width - dx * scale) / 2
    oy = (height - dy * scale) / 2

    def sx(x: float) -> float:
        return ox + (x - x0) * scale

    def sy(y: float) -> float:
        return oy + (y1 - y) * scale

    def ring(coords: Any) -> str:
        pts = [f"{sx(x):.1f} {sy(y):.1f}" for x, y in coords]
        return "M" + " L".join(pts) + " Z"

    parts = [
        f'<svg class="map" role="img" viewBox="0 0 {width} {height}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    if description:
        parts.append(f"<desc>{escape(description)}</desc>")
    parts.append(f'<rect class="map-bg" x="0" y="0" width="{width}" height="{height}"/>')
    tolerance = 0.5 / scale  # half a pixel: display only
    for layer in layers:
        parts.append(f'<g class="{escape(layer.css_class)}">')
        for g in layer.geometries:
            if g is None or g.is_empty:
                continue
            shown = shapely.simplify(g, tolerance, preserve_topology=True)
            d = []
            for poly in shapely.get_parts(shown):
                if poly.geom_type != "Polygon":
                    continue
                d.append(ring(poly.exterior.coords))
                d += [ring(i.coords) for i in poly.interiors]
            if d:
                tip = f"<title>{escape(layer.title)}</title>" if layer.title else ""
                parts.append(f'<path fill-rule="evenodd" d="{" ".join(d)}">{tip}</path>')
        parts.append("</g>")
    for p in points:
        key = f' data-key="{escape(p.key)}"' if p.key else ""
        parts.append(
            f'<circle class="{escape(p.css_class)}"{key} cx="{sx(p.x):.1f}" cy="{sy(p.y):.1f}" '
            f'r="5"><title>{escape(p.title)}</title></circle>'
        )
    bar_m = _nice(dx / 5)
    bar_px = bar_m * scale
    km = f"{bar_m / 1000:g}"
    parts.append(
        f'<g class="scalebar"><line x1="12" x2="{12 + bar_px:.1f}" y1="{height - 14}" '
        f'y2="{height - 14}"/><text x="12" y="{height - 20}">'
        f"{escape(scale_label.format(km=km))}</text></g>"
    )
    parts.append("</svg>")
    return Markup("".join(parts))
