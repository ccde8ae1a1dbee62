"""Generate the small synthetic Vbr test map (NOT real Natura 2000 data).

Writes ``areas.geojson`` (three overloaded 'areas' in RD New, EPSG:28992) and
``applications.csv`` next to this script. Deterministic: run it again, get the same files.

Layout (metres, RD New): area A is the square x 150000–152000, y 450000–452000; area B the
square 160000–161000 × 460000–461000; area C a triangle near 170000, 470000.
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent

AREAS = {
    "A": [[150000, 450000], [152000, 450000], [152000, 452000], [150000, 452000], [150000, 450000]],
    "B": [[160000, 460000], [161000, 460000], [161000, 461000], [160000, 461000], [160000, 460000]],
    "C": [[170000, 470000], [172000, 470000], [171000, 472000], [170000, 470000]],
}

# application_id, submitted_at, x, y, nh3_kg, subsidy_eur
APPLICATIONS = [
    ("V001", "2026-03-02T09:00:00+01:00", 151000, 451000, 5000, 3000000),  # inside A
    ("V002", "2026-03-02T08:30:00+01:00", 153000, 451000, 2000, 1500000),  # exactly 1,000 m from A
    ("V003", "2026-03-02T10:00:00+01:00", 153001, 451000, 4000, 1000000),  # 1,001 m: round 2
    ("V004", "2026-03-03T09:00:00+01:00", 160500, 459200, 1000, 900000),  # 800 m south of B
    ("V005", "2026-03-01T12:00:00+01:00", 120000, 420000, 3000, 1500000),  # far: 500 €/kg
    ("V006", "2026-03-01T11:00:00+01:00", 125000, 425000, 1000, 500000),  # far: 500 €/kg, earlier
    ("V007", "2026-03-04T09:00:00+01:00", 200000, 500000, 500, 100000),  # far: 200 €/kg
]


def main() -> None:
    features = [
        {
            "type": "Feature",
            "properties": {"name": f"synthetic area {k}"},
            "geometry": {"type": "Polygon", "coordinates": [ring]},
        }
        for k, ring in AREAS.items()
    ]
    doc = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::28992"}},
        "features": features,
    }
    (HERE / "areas.geojson").write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    lines = ["application_id,submitted_at,x,y,nh3_kg,subsidy_eur"]
    lines += [",".join(str(v) for v in row) for row in APPLICATIONS]
    (HERE / "applications.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
