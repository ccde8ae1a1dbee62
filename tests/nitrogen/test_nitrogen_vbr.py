"""Vbr ranking (seed 002 §1a; NH-40..NH-47) on small synthetic maps in RD New."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import shapely
from shapely.geometry import Polygon, box

from keten.core.errors import InputError, RuleError
from keten.core.params import ParameterSet, load_set
from keten.io.nitrogen_files import gpkg_blob, read_applications, read_areas
from keten.nitrogen.vbr import Application, AreaIndex, rank_applications

D = Decimal
DAY = dt.date(2026, 3, 1)
TZ = dt.timezone(dt.timedelta(hours=1))
AREA = box(150000, 450000, 152000, 452000)


@pytest.fixture(scope="module")
def params() -> ParameterSet:
    return load_set("nitrogen", "vervolgpakket-2025")


def app(aid: str, hour: int, x: float, y: float, kg: int, eur: int) -> Application:
    return Application(aid, dt.datetime(2026, 3, 2, hour, tzinfo=TZ), x, y, D(kg), D(eur))


def rank(params: ParameterSet, apps: list[Application], budget: int, mode: str = "stop"):  # type: ignore[no-untyped-def]
    return rank_applications(apps, AreaIndex([AREA]), params, DAY, D(budget), mode=mode)  # type: ignore[arg-type]


def test_point_exactly_1000_m_is_round_1(params: ParameterSet) -> None:
    """x = 153000 is exactly 1,000 m east of the area edge (152000): inclusive (NH-41)."""
    r = rank(
        params, [app("edge", 9, 153000, 451000, 1, 1), app("out", 8, 153001, 451000, 1, 1)], 10
    )
    by = {x.application_id: x for x in r.ranked}
    assert by["edge"].round == 1 and by["edge"].distance_m == D("1000.00")
    assert by["out"].round == 2 and by["out"].distance_m == D("1001.00")


def test_round_1_by_time_round_2_by_eur_per_kg(params: ParameterSet) -> None:
    apps = [
        app("in-late", 11, 151000, 451000, 10, 100),
        app("in-early", 9, 151500, 452500, 10, 900),  # 500 m north: round 1
        app("far-cheap", 12, 120000, 420000, 100, 1000),  # 10 €/kg
        app("far-dear", 8, 125000, 425000, 10, 1000),  # 100 €/kg
    ]
    r = rank(params, apps, 10**9)
    assert [x.application_id for x in r.ranked] == ["in-early", "in-late", "far-cheap", "far-dear"]
    assert [x.rank for x in r.ranked] == [1, 2, 3, 4]
    assert [x.eur_per_kg for x in r.ranked] == [D("90.00"), D("10.00"), D("10.00"), D("100.00")]


def test_round_2_tie_on_ratio_broken_by_submission(params: ParameterSet) -> None:
    # 1500/3 = 500 = 500/1: equal ratio; earlier submission first, then id (NH-43, NH-40)
    apps = [
        app("b", 12, 120000, 420000, 3, 1500),
        app("a", 11, 125000, 425000, 1, 500),
        app("c", 11, 126000, 425000, 1, 500),
    ]
    assert [x.application_id for x in rank(params, apps, 10**6).ranked] == ["a", "c", "b"]


def test_round_2_exact_ratio_not_display_rounding(params: ParameterSet) -> None:
    # 100/3 = 33.333… < 33.34 = 3334/100: both show 33.33/33.34 but the order uses exact values
    apps = [app("x", 8, 120000, 420000, 100, 3334), app("y", 9, 125000, 425000, 3, 100)]
    r = rank(params, apps, 10**6)
    assert [a.application_id for a in r.ranked] == ["y", "x"]
    assert r.ranked[0].eur_per_kg == D("33.33")


def test_budget_stop_at_first_that_does_not_fit(params: ParameterSet) -> None:
    """NH-42: 300 + 500 = 800 ≤ 1000; next 400 → 1200 > 1000: stop; the 100 after is not granted."""
    apps = [
        app("a", 8, 151000, 451000, 1, 300),
        app("b", 9, 151000, 451000, 1, 500),
        app("c", 10, 151000, 451000, 1, 400),
        app("d", 11, 151000, 451000, 1, 100),
    ]
    r = rank(params, apps, 1000)
    assert [x.granted for x in r.ranked] == [True, True, False, False]
    assert [x.cumulative_eur for x in r.ranked] == [300, 800, 800, 800]
    assert r.granted_eur == 800


def test_budget_skip_and_continue(params: ParameterSet) -> None:
    """'skip': c (400) does not fit, d (100) does: 300 + 500 + 100 = 900."""
    apps = [
        app("a", 8, 151000, 451000, 1, 300),
        app("b", 9, 151000, 451000, 1, 500),
        app("c", 10, 151000, 451000, 1, 400),
        app("d", 11, 151000, 451000, 1, 100),
    ]
    r = rank(params, apps, 1000, "skip")
    assert [x.granted for x in r.ranked] == [True, True, False, True]
    assert r.granted_eur == 900


def test_exact_fit_is_granted(params: ParameterSet) -> None:
    r = rank(params, [app("a", 8, 151000, 451000, 1, 1000)], 1000)
    assert r.ranked[0].granted


def test_default_budget_is_750_million_plus_optional_375(params: ParameterSet) -> None:
    apps = [app("a", 8, 151000, 451000, 1, 750_000_000), app("b", 9, 151000, 451000, 1, 1)]
    r = rank_applications(apps, AreaIndex([AREA]), params, DAY)
    assert r.budget_eur == D(750_000_000) and [x.granted for x in r.ranked] == [True, False]
    r2 = rank_applications(apps, AreaIndex([AREA]), params, DAY, extra_budget=True)
    assert r2.budget_eur == D(1_125_000_000) and r2.ranked[1].granted


def test_duplicate_ids_refused(params: ParameterSet) -> None:
    with pytest.raises(RuleError, match="more than once"):
        rank(params, [app("a", 8, 151000, 451000, 1, 1), app("a", 9, 151000, 451000, 1, 1)], 9)


def test_within_equals_distance_rule() -> None:
    import numpy as np

    idx = AreaIndex([AREA, box(160000, 460000, 161000, 461000)])
    xs = np.array([153000.0, 153000.5, 159000.0, 140000.0])
    ys = np.array([451000.0, 451000.0, 460500.0, 451000.0])
    assert list(idx.within(xs, ys, 1000.0)) == list(idx.distances(xs, ys) <= 1000.0)
    assert list(idx.within(xs, ys, 1000.0)) == [True, False, True, False]


# ----------------------------------------------------------------------------- files


def write_geojson(path: Path, polys: list[Polygon], crs: str | None = "EPSG:28992") -> Path:
    doc: dict[str, object] = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {}, "geometry": json.loads(shapely.to_geojson(p))}
            for p in polys
        ],
    }
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    path.write_text(json.dumps(doc))
    return path


def test_geojson_rd(tmp_path: Path, params: ParameterSet) -> None:
    g = read_areas(write_geojson(tmp_path / "a.geojson", [AREA]), params, DAY)
    assert g[0].equals(AREA)


def test_geojson_wgs84_is_reprojected(tmp_path: Path, params: ParameterSet) -> None:
    from pyproj import Transformer

    t = Transformer.from_crs(28992, 4326, always_xy=True)
    ring = [t.transform(x, y) for x, y in AREA.exterior.coords]
    g = read_areas(write_geojson(tmp_path / "w.geojson", [Polygon(ring)], "EPSG:4326"), params, DAY)
    assert abs(g[0].area - AREA.area) / AREA.area < 1e-6  # tolerance: reprojection round trip


def test_missing_crs(tmp_path: Path, params: ParameterSet) -> None:
    with pytest.raises(InputError, match="missing CRS"):
        read_areas(write_geojson(tmp_path / "n.geojson", [AREA], None), params, DAY)
    g = read_areas(tmp_path / "n.geojson", params, DAY, crs="EPSG:28992")
    assert len(g) == 1


def test_invalid_polygon(tmp_path: Path, params: ParameterSet) -> None:
    bow = Polygon([(150000, 450000), (152000, 452000), (152000, 450000), (150000, 452000)])
    with pytest.raises(InputError, match=r"row 2, field 'geometry': invalid polygon"):
        read_areas(write_geojson(tmp_path / "b.geojson", [AREA, bow]), params, DAY)


def test_area_outside_netherlands(tmp_path: Path, params: ParameterSet) -> None:
    with pytest.raises(InputError, match="outside the Netherlands"):
        read_areas(write_geojson(tmp_path / "o.geojson", [box(-50000, 0, -40000, 10)]), params, DAY)


def test_unknown_crs_and_bad_json(tmp_path: Path, params: ParameterSet) -> None:
    with pytest.raises(InputError, match="unknown CRS"):
        read_areas(write_geojson(tmp_path / "c.geojson", [AREA], "EPSG:999999"), params, DAY)
    (tmp_path / "j.geojson").write_text("{not json")
    with pytest.raises(InputError, match="not valid GeoJSON"):
        read_areas(tmp_path / "j.geojson", params, DAY)


def test_geoparquet(tmp_path: Path, params: ParameterSet) -> None:
    from pyproj import CRS

    tbl = pa.table({"geometry": [shapely.to_wkb(AREA)]})
    geo = {
        "version": "1.0.0",
        "primary_column": "geometry",
        "columns": {"geometry": {"encoding": "WKB", "crs": CRS.from_epsg(28992).to_json_dict()}},
    }
    tbl = tbl.replace_schema_metadata({b"geo": json.dumps(geo).encode()})
    pq.write_table(tbl, tmp_path / "a.parquet")
    assert read_areas(tmp_path / "a.parquet", params, DAY)[0].equals(AREA)


def test_geopackage(tmp_path: Path, params: ParameterSet) -> None:
    path = tmp_path / "a.gpkg"
    con = sqlite3.connect(path)
    con.executescript(
        "CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT, srs_id INTEGER, organization TEXT,"
        " organization_coordsys_id INTEGER, definition TEXT);"
        "INSERT INTO gpkg_spatial_ref_sys VALUES ('RD New', 28992, 'EPSG', 28992, '');"
        "CREATE TABLE gpkg_geometry_columns (table_name TEXT, column_name TEXT,"
        " geometry_type_name TEXT, srs_id INTEGER, z INTEGER, m INTEGER);"
        "INSERT INTO gpkg_geometry_columns VALUES ('areas', 'geom', 'POLYGON', 28992, 0, 0);"
        "CREATE TABLE areas (fid INTEGER PRIMARY KEY, geom BLOB);"
    )
    con.execute("INSERT INTO areas (geom) VALUES (?)", (gpkg_blob(shapely.to_wkb(AREA), 28992),))
    con.commit()
    con.close()
    assert read_areas(path, params, DAY)[0].equals(AREA)


APP_HEADER = "application_id,submitted_at,x,y,nh3_kg,subsidy_eur"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("a,2026-03-01T09:00,999999,451000,1,1", "row 1, field 'x': .*outside the Netherlands"),
        ("a,2026-03-01T09:00,151000,10,1,1", "field 'y': .*outside the Netherlands"),
        ("a,yesterday,151000,451000,1,1", "field 'submitted_at'"),
        ("a,2026-03-01T09:00,151000,451000,0,1", "field 'nh3_kg': must be positive"),
        ("a,2026-03-01T09:00,151000,451000,1,-5", "field 'subsidy_eur'"),
        ("a,2026-03-01T09:00,15e4,451000,1,1", "field 'x'"),
        (",2026-03-01T09:00,151000,451000,1,1", "field 'application_id'"),
    ],
)
def test_bad_applications(tmp_path: Path, params: ParameterSet, row: str, message: str) -> None:
    p = tmp_path / "apps.csv"
    p.write_text(f"{APP_HEADER}\n{row}\n")
    with pytest.raises(InputError, match=message):
        read_applications(p, params, DAY)


def test_naive_time_is_amsterdam(tmp_path: Path, params: ParameterSet) -> None:
    p = tmp_path / "apps.csv"
    p.write_text(
        f"{APP_HEADER}\na,2026-03-01T09:00,151000,451000,1,1\n"
        f"b,2026-03-01T08:30:00Z,151000,451000,1,1\n"
    )
    a, b = read_applications(p, params, DAY)
    # NH-46: 09:00 without offset is Amsterdam time (CET, UTC+1) = 08:00 UTC, before 08:30 UTC
    assert a.submitted_at < b.submitted_at
    assert a.submitted_at.utcoffset() == dt.timedelta(hours=1)
