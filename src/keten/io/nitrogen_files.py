"""Nitrogen input files: catalogue, housings, Vbr applications and areas, observations, budget
commitments, the enforcement ladder.

Column contracts (issue #5): housings ``farm_id,housing_code,animals,ef_nh3,traditional_ef_nh3,
additional``; applications ``application_id,submitted_at,x,y,nh3_kg,subsidy_eur`` (EPSG:28992).
Areas: GeoJSON (with a ``crs`` member or ``--areas-crs``, NH-47), GeoParquet or GeoPackage;
reprojected to RD New with pyproj.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import struct
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from keten.core.errors import InputError, KetenError
from keten.core.messages import Msg, msg
from keten.core.params import ParameterSet, params_root
from keten.io.csvfile import cell_amount, read_rows
from keten.nitrogen.budget import Commitment
from keten.nitrogen.catalogue import KINDS, Catalogue, System, normalise
from keten.nitrogen.emissions import Additional, Housing, check_reduction
from keten.nitrogen.kpis import GhgFactor, GhgFactors
from keten.nitrogen.norms import LadderStep
from keten.nitrogen.sectors import Observation
from keten.nitrogen.vbr import Application

HOUSING_COLUMNS = (
    "farm_id",
    "housing_code",
    "animals",
    "ef_nh3",
    "traditional_ef_nh3",
    "additional",
)
APPLICATION_COLUMNS = ("application_id", "submitted_at", "x", "y", "nh3_kg", "subsidy_eur")
SYSTEM_COLUMNS = ("code", "animal_category", "kind", "scrubber", "description", "source")
OBSERVED_SECTOR_COLUMNS = ("sector", "substance", "year", "kt")
OBSERVED_FARM_COLUMNS = ("farm_id", "year", "nh3_kg")
COMMITMENT_COLUMNS = ("kind", "line", "amount_eur_m", "description")
LADDER_COLUMNS = ("step", "trigger", "measure", "source")
FARM_COLUMNS = ("farm_id", "hectares")
GHG_FACTOR_COLUMNS = ("animal_category", "kg_co2e_per_animal", "source")
RD_NEW = CRS.from_epsg(28992)
LOCAL_TZ = ZoneInfo("Europe/Amsterdam")
MAX_ANIMALS = 10_000_000


def nitrogen_dir() -> Path:
    return params_root() / "nitrogen"


def read_systems(path: Path | None = None) -> list[System]:
    path = path or nitrogen_dir() / "housing_systems.csv"
    name = str(path)
    out = []
    for row, r in read_rows(path, SYSTEM_COLUMNS):
        if r["kind"] not in KINDS:
            raise InputError(
                msg("unknown kind %(kind)s", kind=repr(r["kind"])), file=name, row=row, field="kind"
            )
        if r["scrubber"] not in ("true", "false"):
            raise InputError(msg("must be true or false"), file=name, row=row, field="scrubber")
        out.append(
            System(
                code=normalise(r["code"]),
                animal_category=r["animal_category"],
                kind=r["kind"],  # type: ignore[arg-type]
                scrubber=r["scrubber"] == "true",
                description=r["description"],
                source=r["source"],
            )
        )
    return out


def load_catalogue(params: ParameterSet, path: Path | None = None) -> Catalogue:
    return Catalogue(read_systems(path), params)


def _additional(text: str, catalogue: Catalogue, file: str, row: int) -> tuple[Additional, ...]:
    out = []
    for part in (p.strip() for p in text.split(";")):
        if not part:
            raise InputError(
                msg("empty entry in the ';'-separated list"),
                file=file,
                row=row,
                field="additional",
            )
        if part.lower().startswith("custom:"):
            bits = part.split(":")
            if len(bits) not in (2, 3) or (len(bits) == 3 and bits[2].lower() != "scrubber"):
                raise InputError(
                    msg(
                        "%(entry)s: expected custom:<fraction> or custom:<fraction>:scrubber",
                        entry=repr(part),
                    ),
                    file=file,
                    row=row,
                    field="additional",
                )
            r = cell_amount(bits[1], file, row, "additional")
            try:
                check_reduction(r)
            except KetenError as exc:
                raise InputError(exc.translatable, file=file, row=row, field="additional") from None
            out.append(Additional(None, r, len(bits) == 3))
            continue
        try:
            resolved = catalogue.resolve(part)
        except KetenError as exc:
            raise InputError(exc.translatable, file=file, row=row, field="additional") from None
        if resolved.system.kind != "additional":
            raise InputError(
                msg("%(code)s is a housing system, not an additional system", code=part),
                file=file,
                row=row,
                field="additional",
            )
        out.append(Additional(part))
    return tuple(out)


def read_housings(path: Path, catalogue: Catalogue) -> list[Housing]:
    """Housings CSV; every code checked against the catalogue (errors name file, row, field)."""
    name = str(path)
    out = []
    # Parsed 'additional' lists and resolved housing codes by their text: the checks depend on
    # the text alone, so a text that passed once passes again (errors are never cached).
    adds_seen: dict[str, tuple[Additional, ...]] = {}
    codes_seen: set[str] = set()
    for row, r in read_rows(path, HOUSING_COLUMNS):
        farm = r["farm_id"]
        if not farm:
            raise InputError(msg("is empty"), file=name, row=row, field="farm_id")
        a = r["animals"]
        if not a.lstrip("-").isdigit() or not a.isascii():
            raise InputError(
                msg("not a whole number: %(text)s", text=repr(a)),
                file=name,
                row=row,
                field="animals",
            )
        animals = int(a)
        if animals < 0:
            raise InputError(msg("must not be negative"), file=name, row=row, field="animals")
        if animals > MAX_ANIMALS:
            raise InputError(
                msg("more than %(limit)s", limit=MAX_ANIMALS), file=name, row=row, field="animals"
            )
        code = r["housing_code"] or None
        ef = cell_amount(r["ef_nh3"], name, row, "ef_nh3") if r["ef_nh3"] else None
        trad = (
            cell_amount(r["traditional_ef_nh3"], name, row, "traditional_ef_nh3")
            if r["traditional_ef_nh3"]
            else None
        )
        if code is None and ef is None:
            raise InputError(
                msg("give housing_code or ef_nh3"), file=name, row=row, field="housing_code"
            )
        if code is not None and ef is not None:
            raise InputError(
                msg("give housing_code or ef_nh3, not both (NH-05)"),
                file=name,
                row=row,
                field="ef_nh3",
            )
        if code is not None and trad is not None:
            raise InputError(
                msg("only for a custom housing (ef_nh3) (NH-05)"),
                file=name,
                row=row,
                field="traditional_ef_nh3",
            )
        for field_, v in (("ef_nh3", ef), ("traditional_ef_nh3", trad)):
            if v is not None and v < 0:
                raise InputError(msg("must not be negative"), file=name, row=row, field=field_)
        if code is not None and code not in codes_seen:
            try:
                resolved = catalogue.resolve(code)
            except KetenError as exc:
                raise InputError(
                    exc.translatable, file=name, row=row, field="housing_code"
                ) from None
            if resolved.system.kind == "additional":
                raise InputError(
                    msg("%(code)s is an additional system, not a housing", code=code),
                    file=name,
                    row=row,
                    field="housing_code",
                )
            codes_seen.add(code)
        text = r["additional"]
        adds: tuple[Additional, ...] = ()
        if text:
            found = adds_seen.get(text)
            if found is None:
                found = adds_seen[text] = _additional(text, catalogue, name, row)
            adds = found
        if (
            ef is not None
            and trad is None
            and any(
                (x.code is not None and catalogue.resolve(x.code).system.scrubber) or x.scrubber
                for x in adds
            )
        ):
            raise InputError(
                msg("an air scrubber on a custom housing needs traditional_ef_nh3 (NH-05)"),
                file=name,
                row=row,
                field="traditional_ef_nh3",
            )
        out.append(Housing(farm, animals, code, ef, trad, adds))
    if not out:
        raise InputError(msg("no data rows"), file=name)
    return out


def parse_timestamp(text: str, file: str, row: int) -> dt.datetime:
    """ISO 8601; a time without offset is Europe/Amsterdam local time (NH-46)."""
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise InputError(
            msg("not an ISO 8601 date-time: %(text)s", text=repr(text)),
            file=file,
            row=row,
            field="submitted_at",
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=LOCAL_TZ)
    return value


def _bounds(params: ParameterSet, day: dt.date) -> tuple[float, float, float, float]:
    return tuple(  # type: ignore[return-value]
        float(params.at(f"nitrogen.rd.{k}", day).value)
        for k in ("x_min", "y_min", "x_max", "y_max")
    )


def read_applications(path: Path, params: ParameterSet, day: dt.date) -> list[Application]:
    name = str(path)
    x0, y0, x1, y1 = _bounds(params, day)
    out = []
    seen: dict[str, int] = {}
    for row, r in read_rows(path, APPLICATION_COLUMNS):
        aid = r["application_id"]
        if not aid:
            raise InputError(msg("is empty"), file=name, row=row, field="application_id")
        if aid in seen:
            raise InputError(
                msg("duplicate of row %(row)s", row=seen[aid]),
                file=name,
                row=row,
                field="application_id",
            )
        seen[aid] = row
        at = parse_timestamp(r["submitted_at"], name, row)
        x = cell_amount(r["x"], name, row, "x")
        y = cell_amount(r["y"], name, row, "y")
        if not (x0 <= x <= x1):
            raise InputError(
                _outside("x", x, x0, x1),
                file=name,
                row=row,
                field="x",
            )
        if not (y0 <= y <= y1):
            raise InputError(
                _outside("y", y, y0, y1),
                file=name,
                row=row,
                field="y",
            )
        nh3 = cell_amount(r["nh3_kg"], name, row, "nh3_kg")
        if nh3 <= 0:
            raise InputError(msg("must be positive"), file=name, row=row, field="nh3_kg")
        subsidy = cell_amount(r["subsidy_eur"], name, row, "subsidy_eur")
        if subsidy < 0:
            raise InputError(msg("must not be negative"), file=name, row=row, field="subsidy_eur")
        out.append(Application(aid, at, float(x), float(y), nh3, subsidy))
    if not out:
        raise InputError(msg("no data rows"), file=name)
    return out


def _outside(axis: str, value: Decimal, low: float, high: float) -> Msg:
    """``x``/``y`` outside the bounds of the Netherlands in RD New (NH-44), metres as before."""
    low_m, high_m = format(low, ".0f"), format(high, ".0f")
    return msg(
        "%(axis)s %(value)s is outside the Netherlands in RD New (%(low)s–%(high)s m; NH-44)",
        axis=axis,
        value=value,
        low=low_m,
        high=high_m,
    )


# ------------------------------------------------------------------------------------ areas


def _crs(text: str, file: str) -> CRS:
    try:
        return CRS.from_user_input(text)
    except CRSError:
        raise InputError(
            msg("unknown CRS %(crs)s", crs=repr(text)), file=file, field="crs"
        ) from None


def _to_rd(geoms: list[Any], crs: CRS, file: str) -> list[Any]:
    if crs.equals(RD_NEW, ignore_axis_order=True):
        return geoms
    tf = Transformer.from_crs(crs, RD_NEW, always_xy=True)

    def move(coords: Any) -> Any:
        x, y = tf.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    out = [shapely.transform(g, move) for g in geoms]
    if not all(np.isfinite(shapely.get_coordinates(g)).all() for g in out):
        raise InputError(
            msg("coordinates cannot be reprojected from %(crs)s", crs=crs.to_string()), file=file
        )
    return out


def _check_geoms(geoms: list[Any], file: str, params: ParameterSet, day: dt.date) -> list[Any]:
    if not geoms:
        raise InputError(msg("no areas"), file=file)
    x0, y0, x1, y1 = _bounds(params, day)
    for i, g in enumerate(geoms, start=1):
        if g is None or g.is_empty:
            raise InputError(msg("empty geometry"), file=file, row=i, field="geometry")
        if g.geom_type not in ("Polygon", "MultiPolygon"):
            raise InputError(
                msg("%(type)s is not a polygon", type=g.geom_type),
                file=file,
                row=i,
                field="geometry",
            )
        if not shapely.is_valid(g):
            raise InputError(
                msg("invalid polygon: %(reason)s", reason=shapely.is_valid_reason(g)),
                file=file,
                row=i,
                field="geometry",
            )
        bx0, by0, bx1, by1 = g.bounds
        if bx0 < x0 or by0 < y0 or bx1 > x1 or by1 > y1:
            raise InputError(
                msg("lies outside the Netherlands in RD New (NH-44)"),
                file=file,
                row=i,
                field="geometry",
            )
    return geoms


def read_areas(path: Path, params: ParameterSet, day: dt.date, crs: str | None = None) -> list[Any]:
    """Area polygons in RD New from GeoJSON, GeoParquet (.parquet) or GeoPackage (.gpkg)."""
    name = str(path)
    if not path.is_file():
        raise InputError(msg("file not found"), file=name)
    suffix = path.suffix.lower()
    reader: Callable[[Path, str | None], tuple[list[Any], CRS]]
    if suffix in (".geojson", ".json"):
        reader = _read_geojson
    elif suffix in (".parquet", ".geoparquet"):
        reader = _read_geoparquet
    elif suffix == ".gpkg":
        reader = _read_gpkg
    else:
        raise InputError(msg("unknown area format (use .geojson, .parquet or .gpkg)"), file=name)
    geoms, source_crs = reader(path, crs)
    return _check_geoms(_to_rd(geoms, source_crs, name), name, params, day)


def _read_geojson(path: Path, crs: str | None) -> tuple[list[Any], CRS]:
    name = str(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(
            msg("not valid GeoJSON: %(error)s", error=str(exc).splitlines()[0]), file=name
        ) from None
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise InputError(msg("expected a GeoJSON FeatureCollection"), file=name)
    declared = data.get("crs")
    if declared is None and crs is None:
        raise InputError(
            msg(
                "missing CRS: add a 'crs' member (e.g. EPSG:28992) or give the coordinate system "
                "of the areas (NH-47)"
            ),
            file=name,
            field="crs",
        )
    if crs is None:
        props = declared.get("properties", {}) if isinstance(declared, dict) else {}
        text = props.get("name") if isinstance(props, dict) else None
        if not isinstance(text, str):
            raise InputError(msg("the 'crs' member has no properties.name"), file=name, field="crs")
        crs = text
    features = data.get("features")
    if not isinstance(features, list):
        raise InputError(msg("'features' is not a list"), file=name)
    geoms = []
    for i, f in enumerate(features, start=1):
        g = f.get("geometry") if isinstance(f, dict) else None
        if g is None:
            raise InputError(msg("feature without geometry"), file=name, row=i, field="geometry")
        try:
            geoms.append(shapely.from_geojson(json.dumps(g)))
        except Exception as exc:  # shapely raises GEOSException subclasses
            raise InputError(
                msg("unreadable geometry: %(error)s", error=str(exc).splitlines()[0]),
                file=name,
                row=i,
                field="geometry",
            ) from None
    return geoms, _crs(crs, name)


def _read_geoparquet(path: Path, crs: str | None) -> tuple[list[Any], CRS]:
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    name = str(path)
    try:
        table = pq.read_table(path)
    except Exception as exc:
        raise InputError(
            # pyarrow names the path it read: show the file's own name, not where it is stored
            msg(
                "not a Parquet file: %(error)s",
                error=str(exc).splitlines()[0].replace(str(path), path.name),
            ),
            file=name,
        ) from None
    meta = table.schema.metadata or {}
    if b"geo" not in meta:
        raise InputError(msg("no GeoParquet 'geo' metadata"), file=name)
    geo = json.loads(meta[b"geo"])
    column = geo.get("primary_column", "geometry")
    info = geo.get("columns", {}).get(column, {})
    if crs is None:
        # GeoParquet spec: a missing crs means OGC:CRS84 (longitude, latitude).
        found = info.get("crs", "OGC:CRS84")
        crs_obj = CRS.from_user_input(found) if found is not None else None
        if crs_obj is None:
            raise InputError(msg("GeoParquet crs is null (unknown)"), file=name, field="crs")
    else:
        crs_obj = _crs(crs, name)
    if column not in table.column_names:
        raise InputError(msg("no geometry column %(column)s", column=repr(column)), file=name)
    try:
        geoms = list(shapely.from_wkb(table.column(column).to_pylist()))
    except Exception as exc:
        raise InputError(
            msg("unreadable geometry: %(error)s", error=str(exc).splitlines()[0]),
            file=name,
            field=column,
        ) from None
    return geoms, crs_obj


_ENVELOPE = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


def _gpkg_wkb(blob: bytes) -> bytes:
    if blob[:2] != b"GP":
        raise ValueError("not a GeoPackage geometry blob")
    flags = blob[3]
    env = _ENVELOPE.get((flags >> 1) & 0b111)
    if env is None:
        raise ValueError("bad envelope indicator")
    return blob[8 + env :]


def _read_gpkg(path: Path, crs: str | None) -> tuple[list[Any], CRS]:
    name = str(path)
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = con.execute(
                "SELECT table_name, column_name, srs_id FROM gpkg_geometry_columns"
            ).fetchall()
            if len(rows) != 1:
                raise InputError(
                    msg("expected one geometry table, found %(n)s", n=len(rows)), file=name
                )
            table, column, srs_id = rows[0]
            org = con.execute(
                "SELECT organization, organization_coordsys_id FROM gpkg_spatial_ref_sys "
                "WHERE srs_id = ?",
                (srs_id,),
            ).fetchone()
            blobs = [b for (b,) in con.execute(f'SELECT "{column}" FROM "{table}"')]
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise InputError(msg("not a GeoPackage: %(error)s", error=str(exc)), file=name) from None
    if crs is None:
        if org is None or srs_id in (0, -1):
            raise InputError(
                msg("missing CRS in gpkg_spatial_ref_sys (NH-47)"), file=name, field="crs"
            )
        crs = f"{org[0]}:{org[1]}"
    geoms = []
    for i, b in enumerate(blobs, start=1):
        try:
            geoms.append(shapely.from_wkb(_gpkg_wkb(bytes(b))))
        except Exception as exc:
            raise InputError(
                msg("unreadable geometry: %(error)s", error=str(exc).splitlines()[0]),
                file=name,
                row=i,
                field=column,
            ) from None
    return geoms, _crs(crs, name)


def gpkg_blob(wkb: bytes, srs_id: int) -> bytes:
    """A GeoPackage geometry blob without envelope (for writing test maps)."""
    return b"GP" + bytes([0, 1]) + struct.pack("<i", srs_id) + wkb


# ------------------------------------------------------------------------------- other files


def read_observed_sectors(path: Path) -> list[Observation]:
    name = str(path)
    out = []
    seen: set[tuple[str, str, int]] = set()
    for row, r in read_rows(path, OBSERVED_SECTOR_COLUMNS):
        year = r["year"]
        if not (year.isascii() and year.isdigit() and len(year) == 4):
            raise InputError(
                msg("not a year: %(text)s", text=repr(year)), file=name, row=row, field="year"
            )
        kt = cell_amount(r["kt"], name, row, "kt")
        if kt < 0:
            raise InputError(msg("must not be negative"), file=name, row=row, field="kt")
        obs = Observation(r["sector"], r["substance"].lower(), int(year), kt)
        # one national emission per sector, substance and year: two would get two verdicts
        if (obs.sector, obs.substance, obs.year) in seen:
            raise InputError(
                msg("sector, substance and year given twice"), file=name, row=row, field="year"
            )
        seen.add((obs.sector, obs.substance, obs.year))
        out.append(obs)
    if not out:
        raise InputError(msg("no data rows"), file=name)
    return out


def read_observed_farms(path: Path) -> dict[tuple[str, int], Decimal]:
    name = str(path)
    out: dict[tuple[str, int], Decimal] = {}
    for row, r in read_rows(path, OBSERVED_FARM_COLUMNS):
        year = r["year"]
        if not (year.isascii() and year.isdigit() and len(year) == 4):
            raise InputError(
                msg("not a year: %(text)s", text=repr(year)), file=name, row=row, field="year"
            )
        kg = cell_amount(r["nh3_kg"], name, row, "nh3_kg")
        if kg < 0:
            raise InputError(msg("must not be negative"), file=name, row=row, field="nh3_kg")
        key = (r["farm_id"], int(year))
        if key in out:
            raise InputError(msg("farm and year given twice"), file=name, row=row, field="year")
        out[key] = kg
    return out


def read_commitments(path: Path) -> list[Commitment]:
    name = str(path)
    out = []
    for row, r in read_rows(path, COMMITMENT_COLUMNS):
        amount = cell_amount(r["amount_eur_m"], name, row, "amount_eur_m")
        if amount < 0:
            raise InputError(msg("must not be negative"), file=name, row=row, field="amount_eur_m")
        out.append(Commitment(r["kind"], r["line"], amount, r["description"]))
    if not out:
        raise InputError(msg("no data rows"), file=name)
    return out


def read_ladder(path: Path | None = None) -> list[LadderStep]:
    path = path or nitrogen_dir() / "enforcement_ladder.csv"
    name = str(path)
    out = []
    for row, r in read_rows(path, LADDER_COLUMNS):
        if not r["step"].isdigit():
            raise InputError(msg("not a whole number"), file=name, row=row, field="step")
        out.append(LadderStep(int(r["step"]), r["trigger"], r["measure"], r["source"]))
    return out


def read_farms(path: Path) -> dict[str, Decimal]:
    """Farm areas, CSV ``farm_id,hectares`` (NH-49): hectares > 0, each farm once."""
    name = str(path)
    out: dict[str, Decimal] = {}
    for row, r in read_rows(path, FARM_COLUMNS):
        farm = r["farm_id"]
        if not farm:
            raise InputError(msg("is empty"), file=name, row=row, field="farm_id")
        if farm in out:
            raise InputError(
                msg("farm %(farm)s given twice", farm=repr(farm)),
                file=name,
                row=row,
                field="farm_id",
            )
        ha = cell_amount(r["hectares"], name, row, "hectares")
        if ha <= 0:
            raise InputError(
                msg("must be greater than 0, got %(text)s", text=r["hectares"]),
                file=name,
                row=row,
                field="hectares",
            )
        out[farm] = ha
    return out


def read_ghg_factors(path: Path, catalogue: Catalogue) -> GhgFactors:
    """User-supplied GHG factors, CSV ``animal_category,kg_co2e_per_animal,source`` (NH-50):
    a known animal category of the catalogue, each once; a factor ≥ 0; a source text."""
    name = str(path)
    known = set(catalogue.traditional)
    out: dict[str, GhgFactor] = {}
    for row, r in read_rows(path, GHG_FACTOR_COLUMNS):
        category = "".join(r["animal_category"].split()).upper()
        if not category:
            raise InputError(msg("is empty"), file=name, row=row, field="animal_category")
        if category not in known:
            raise InputError(
                msg(
                    "unknown animal category %(category)s (the catalogue has %(known)s)",
                    category=repr(r["animal_category"]),
                    known=", ".join(sorted(known)),
                ),
                file=name,
                row=row,
                field="animal_category",
            )
        if category in out:
            raise InputError(
                msg("animal category %(category)s given twice", category=category),
                file=name,
                row=row,
                field="animal_category",
            )
        factor = cell_amount(r["kg_co2e_per_animal"], name, row, "kg_co2e_per_animal")
        if factor < 0:
            raise InputError(
                msg("must not be negative"), file=name, row=row, field="kg_co2e_per_animal"
            )
        if not r["source"]:
            raise InputError(
                msg("is empty: name where the factor comes from"),
                file=name,
                row=row,
                field="source",
            )
        out[category] = GhgFactor(category, factor, r["source"], row)
    return GhgFactors(out, name)
