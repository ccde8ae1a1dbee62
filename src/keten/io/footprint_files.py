"""Footprint input files: MRIO systems (pymrio, our Parquet layout), scenarios, purchases, targets.

MRIO sources (``--mrio``):

* ``pymrio-test`` — pymrio's bundled 6-region × 8-sector test system (``pymrio.load_test()``);
* a folder holding ``keten-mrio.json`` — our Parquet layout (FP-06, :func:`write_parquet_mrio`);
* a ``.zip`` of EXIOBASE 3 (``pymrio.parse_exiobase3``) or any folder pymrio can load
  (``pymrio.load_all``).

pymrio is an optional dependency: imported only when one of its sources is asked for, with a
clear error when it is missing.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]
import scipy.sparse as sp

from keten.core.errors import InputError, KetenError
from keten.core.messages import Msg, msg
from keten.footprint.mrio import MRIO, STRESSOR_JOIN, Extension
from keten.io.csvfile import check_amount

LAYOUT_FILE = "keten-mrio.json"
LAYOUT_FORMAT = "keten-mrio"
LAYOUT_VERSION = 1
TRIPLET_COLUMNS = ("row", "col", "value")


# ----------------------------------------------------------------------------- pymrio


def _pymrio() -> Any:
    try:
        import pymrio
    except ImportError:  # pragma: no cover - exercised only without the dev extra
        raise KetenError(
            msg("pymrio is not installed; install keten[dev] or use the Parquet layout")
        ) from None
    return pymrio


def _name(label: object) -> str:
    if isinstance(label, tuple):
        return STRESSOR_JOIN.join(str(p) for p in label)
    return str(label)


def from_pymrio(io: Any, name: str = "pymrio") -> MRIO:
    """Convert a pymrio ``IOSystem`` (Z or A, Y, x; extensions with F and F_Y) to an MRIO.

    Stressor names of a multi-level index are joined with ``/`` (``emission_type1/air``, FP-02).
    """
    regions = tuple(str(r) for r in io.get_regions())
    sectors = tuple(str(s) for s in io.get_sectors())
    categories = tuple(str(c) for c in io.get_Y_categories())
    import pandas as pd  # type: ignore[import-untyped]

    rows = pd.MultiIndex.from_product([list(io.get_regions()), list(io.get_sectors())])
    ycols = pd.MultiIndex.from_product([list(io.get_regions()), list(io.get_Y_categories())])
    if io.Y is None:
        raise InputError(msg("the pymrio system has no final demand Y"), file=name, field="Y")
    Y = io.Y.reindex(index=rows, columns=ycols).to_numpy(dtype=float)
    if np.isnan(Y).any():
        raise InputError(msg("Y does not cover every region × sector × category"), file=name)
    unit = "M.EUR"
    if getattr(io, "unit", None) is not None and len(io.unit):
        unit = str(io.unit.iloc[0, 0])
    exts: dict[str, Extension] = {}
    for key in io.get_extensions():
        ext = getattr(io, key)
        if ext.F is None:
            continue
        F = ext.F.reindex(columns=rows).to_numpy(dtype=float)
        F_Y = None
        if ext.F_Y is not None:
            F_Y = ext.F_Y.reindex(columns=ycols).fillna(0.0).to_numpy(dtype=float)
        units = tuple(
            str(ext.unit.loc[idx].iloc[0]) if ext.unit is not None else "" for idx in ext.F.index
        )
        exts[key] = Extension(
            name=key,
            stressors=tuple(_name(i) for i in ext.F.index),
            units=units,
            F=F,
            F_Y=F_Y,
        )
    kw: dict[str, Any] = {"extensions": exts, "unit": unit, "name": name}
    if io.Z is not None:
        Z = io.Z.reindex(index=rows, columns=rows).to_numpy(dtype=float)
        x = None if io.x is None else io.x.reindex(rows).to_numpy(dtype=float).ravel()
        return MRIO.from_flows(regions, sectors, categories, Z, Y, x, **kw)
    if io.A is not None:
        A = io.A.reindex(index=rows, columns=rows).to_numpy(dtype=float)
        x = None if io.x is None else io.x.reindex(rows).to_numpy(dtype=float).ravel()
        return MRIO.from_coefficients(regions, sectors, categories, A, Y, x, **kw)
    raise InputError(msg("the pymrio system has neither Z nor A"), file=name)


def load_mrio(source: str) -> MRIO:
    """Read ``pymrio-test``, our Parquet layout folder, an EXIOBASE zip or a pymrio folder."""
    if source == "pymrio-test":
        return from_pymrio(_pymrio().load_test(), name="pymrio-test")
    path = Path(source)
    if not path.exists():
        raise InputError(msg("not found (give pymrio-test, a folder or a .zip)"), file=source)
    if path.is_dir() and (path / LAYOUT_FILE).exists():
        return read_parquet_mrio(path)
    if not path.is_dir() and path.suffix.lower() != ".zip":
        raise InputError(
            msg("is neither a folder nor a .zip (give pymrio-test, a folder or a .zip)"),
            file=source,
        )
    pymrio = _pymrio()
    try:
        io = pymrio.parse_exiobase3(path) if path.suffix == ".zip" else pymrio.load_all(path)
    except KetenError:
        raise
    except Exception as exc:  # pymrio raises many kinds of errors for unreadable input
        raise InputError(
            msg("pymrio cannot read it: %(reason)s", reason=str(exc).splitlines()[0]), file=source
        ) from None
    return from_pymrio(io, name=path.name)


# ----------------------------------------------------------------------------- Parquet layout


def _write_triplets(path: Path, m: sp.spmatrix | np.ndarray) -> None:
    coo = sp.coo_matrix(m)
    table = pa.table(
        {
            "row": pa.array(coo.row, pa.int32()),
            "col": pa.array(coo.col, pa.int32()),
            "value": pa.array(coo.data, pa.float64()),
        }
    )
    pq.write_table(table, path)


def _read_triplets(path: Path, shape: tuple[int, int], what: str) -> sp.coo_matrix:
    name = str(path)
    if not path.exists():
        raise InputError(msg("file not found"), file=name)
    try:
        table = pq.read_table(path)
    except Exception as exc:
        raise InputError(
            msg("not a Parquet file: %(reason)s", reason=str(exc).splitlines()[0]), file=name
        ) from None
    cols = table.column_names
    if sorted(cols) != sorted(TRIPLET_COLUMNS):
        raise InputError(
            msg(
                "columns %(cols)s; expected %(expected)s",
                cols=",".join(cols),
                expected=",".join(TRIPLET_COLUMNS),
            ),
            file=name,
        )
    arrays = {}
    for c in TRIPLET_COLUMNS:
        col = table.column(c)
        if col.null_count:
            first = int(np.flatnonzero(col.is_null().to_numpy(zero_copy_only=False))[0]) + 1
            raise InputError(msg("is empty"), file=name, row=first, field=c)
        arrays[c] = col.to_numpy()
    row, colv, val = arrays["row"], arrays["col"], arrays["value"]
    if not (np.issubdtype(row.dtype, np.integer) and np.issubdtype(colv.dtype, np.integer)):
        raise InputError(msg("row and col must be integers"), file=name)
    val = val.astype(np.float64)
    for label, idx, limit in (("row", row, shape[0]), ("col", colv, shape[1])):
        bad = np.flatnonzero((idx < 0) | (idx >= limit))
        if bad.size:
            raise InputError(
                msg(
                    "%(idx)s outside 0..%(limit)s (%(what)s is %(rows)s × %(cols)s)",
                    idx=idx[bad[0]],
                    limit=limit - 1,
                    what=what,
                    rows=shape[0],
                    cols=shape[1],
                ),
                file=name,
                row=int(bad[0]) + 1,
                field=label,
            )
    bad = np.flatnonzero(~np.isfinite(val))
    if bad.size:
        raise InputError(msg("not a finite number"), file=name, row=int(bad[0]) + 1, field="value")
    key = row.astype(np.int64) * shape[1] + colv
    if np.unique(key).size != key.size:
        order = np.argsort(key, kind="stable")
        dup = order[1:][np.diff(key[order]) == 0][0]
        raise InputError(
            msg("duplicate (row, col) entry"), file=name, row=int(dup) + 1, field="row"
        )
    return sp.coo_matrix((val, (row, colv)), shape=shape)


def write_parquet_mrio(mrio: MRIO, folder: Path) -> None:
    """Write ``mrio`` in our layout (FP-06): ``keten-mrio.json`` + sparse triplet Parquet files
    ``A.parquet``, ``Y.parquet``, ``x.parquet`` and ``ext/<name>/F.parquet`` (+ ``F_Y.parquet``)."""
    folder.mkdir(parents=True, exist_ok=True)
    meta = {
        "format": LAYOUT_FORMAT,
        "version": LAYOUT_VERSION,
        "name": mrio.name,
        "unit": mrio.unit,
        "year": mrio.year,
        "price_year": mrio.price_year,
        "prices": mrio.prices,
        "regions": list(mrio.regions),
        "sectors": list(mrio.sectors),
        "categories": list(mrio.categories),
        "extensions": {
            e.name: {"stressors": list(e.stressors), "units": list(e.units)}
            for e in mrio.extensions.values()
        },
    }
    _write_triplets(folder / "A.parquet", mrio.A)
    _write_triplets(folder / "Y.parquet", mrio.Y)
    _write_triplets(folder / "x.parquet", mrio.x[:, None])
    for e in mrio.extensions.values():
        d = folder / "ext" / e.name
        d.mkdir(parents=True, exist_ok=True)
        _write_triplets(d / "F.parquet", e.F)
        if e.F_Y is not None:
            _write_triplets(d / "F_Y.parquet", e.F_Y)
    (folder / LAYOUT_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")


def _str_list(meta: dict[str, Any], key: str, file: str) -> tuple[str, ...]:
    v = meta.get(key)
    if not isinstance(v, list) or not v or not all(isinstance(i, str) and i for i in v):
        raise InputError(msg("must be a non-empty list of names"), file=file, field=key)
    return tuple(v)


def read_parquet_mrio(folder: Path) -> MRIO:
    """Read our layout (see :func:`write_parquet_mrio`); every file is checked before use."""
    file = str(folder / LAYOUT_FILE)
    try:
        meta = json.loads((folder / LAYOUT_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(msg("not readable JSON: %(reason)s", reason=str(exc)), file=file) from None
    if not isinstance(meta, dict) or meta.get("format") != LAYOUT_FORMAT:
        raise InputError(
            msg("'format' must be %(format)s", format=repr(LAYOUT_FORMAT)),
            file=file,
            field="format",
        )
    if meta.get("version") != LAYOUT_VERSION:
        raise InputError(
            msg("unsupported version (expected %(version)s)", version=LAYOUT_VERSION),
            file=file,
            field="version",
        )
    known = {
        "format",
        "version",
        "name",
        "unit",
        "year",
        "price_year",
        "prices",
        "regions",
        "sectors",
        "categories",
        "extensions",
    }
    unknown = sorted(set(meta) - known)
    if unknown:
        raise InputError(
            msg("unknown key(s) %(unknown)s", unknown=", ".join(unknown)),
            file=file,
            field=unknown[0],
        )
    regions = _str_list(meta, "regions", file)
    sectors = _str_list(meta, "sectors", file)
    categories = _str_list(meta, "categories", file)
    for key in ("year", "price_year"):
        if meta.get(key) is not None and not isinstance(meta[key], int):
            raise InputError(msg("must be a whole year or null"), file=file, field=key)
    n, R, c = len(regions) * len(sectors), len(regions), len(categories)
    A = _read_triplets(folder / "A.parquet", (n, n), "A").tocsc()
    Y = _read_triplets(folder / "Y.parquet", (n, R * c), "Y").toarray()
    x = _read_triplets(folder / "x.parquet", (n, 1), "x").toarray().ravel()
    exts: dict[str, Extension] = {}
    ext_meta = meta.get("extensions", {})
    if not isinstance(ext_meta, dict):
        raise InputError(msg("must be an object"), file=file, field="extensions")
    for ename, em in ext_meta.items():
        if not isinstance(em, dict):
            raise InputError(msg("must be an object"), file=file, field=f"extensions.{ename}")
        stressors = _str_list(em, "stressors", file)
        units = _str_list(em, "units", file)
        d = folder / "ext" / ename
        F = _read_triplets(d / "F.parquet", (len(stressors), n), "F").toarray()
        F_Y = None
        if (d / "F_Y.parquet").exists():
            F_Y = _read_triplets(d / "F_Y.parquet", (len(stressors), R * c), "F_Y").toarray()
        try:
            exts[ename] = Extension(ename, stressors, units, F, F_Y)
        except InputError as exc:
            raise InputError(exc.translatable, file=file, field=exc.field) from None
    try:
        return MRIO(
            regions,
            sectors,
            categories,
            A,
            x,
            Y,
            extensions=exts,
            unit=str(meta.get("unit") or "M.EUR"),
            year=meta.get("year"),
            price_year=meta.get("price_year"),
            prices=str(meta.get("prices") or "basic"),
            name=str(meta.get("name") or folder.name),
        )
    except InputError as exc:
        raise InputError(exc.translatable, file=str(folder), field=exc.field) from None


# ----------------------------------------------------------------------------- scenario (YAML)

SCENARIO_KEYS = {"name", "region", "stressor", "extension", "threshold", "changes"}
CHANGE_KEYS = {"region", "sector", "kind", "change", "shift", "to"}


def _num(v: object, file: str, field: str) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise InputError(msg("must be a number"), file=file, field=field)
    if not np.isfinite(v):
        raise InputError(msg("must be a finite number"), file=file, field=field)
    return float(v)


def read_scenario(path: Path) -> Any:
    """A leakage scenario (YAML; see docs/footprint.md):

    ``name``, ``region`` (acting region or list), ``stressor``, optional ``extension`` and
    ``threshold`` (fraction), and ``changes``: a list of ``{region, sector, kind: final_demand |
    output, change, shift?, to?}``.
    """
    import yaml

    from keten.footprint.leakage import Change, Scenario

    file = str(path)
    if path.is_dir():
        raise InputError(msg("is a folder, not a file"), file=file)
    if not path.is_file():
        raise InputError(msg("file not found"), file=file)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else msg("invalid YAML")
        raise InputError(msg("not valid YAML: %(first)s", first=first), file=file) from None
    if not isinstance(data, dict):
        raise InputError(msg("must be a mapping with name, region, stressor, changes"), file=file)
    unknown = sorted(set(data) - SCENARIO_KEYS)
    if unknown:
        raise InputError(msg("unknown key"), file=file, field=unknown[0])
    for key in ("region", "stressor", "changes"):
        if key not in data:
            raise InputError(msg("is required"), file=file, field=key)
    acting = data["region"]
    acting_t = (acting,) if isinstance(acting, str) else acting
    if not isinstance(acting_t, list | tuple) or not all(isinstance(a, str) for a in acting_t):
        raise InputError(msg("must be a region or a list of regions"), file=file, field="region")
    changes = data["changes"]
    if not isinstance(changes, list) or not changes:
        raise InputError(msg("must be a non-empty list"), file=file, field="changes")
    out = []
    for i, ch in enumerate(changes):
        where = f"changes[{i}]"
        if not isinstance(ch, dict):
            raise InputError(msg("must be a mapping"), file=file, field=where)
        bad = sorted(set(ch) - CHANGE_KEYS)
        if bad:
            raise InputError(msg("unknown key"), file=file, field=f"{where}.{bad[0]}")
        for key in ("region", "sector", "kind", "change"):
            if key not in ch:
                raise InputError(msg("is required"), file=file, field=f"{where}.{key}")
        to = ch.get("to")
        if to is not None and (not isinstance(to, dict) or not to):
            raise InputError(msg("must map regions to shares"), file=file, field=f"{where}.to")
        out.append(
            Change(
                region=str(ch["region"]),
                sector=str(ch["sector"]),
                kind=str(ch["kind"]),
                change=_num(ch["change"], file, f"{where}.change"),
                shift=_num(ch.get("shift", 0), file, f"{where}.shift"),
                to=None
                if to is None
                else {str(k): _num(v, file, f"{where}.to.{k}") for k, v in to.items()},
            )
        )
    threshold = data.get("threshold")
    return Scenario(
        name=str(data.get("name") or path.stem),
        acting=tuple(acting_t),
        stressor=str(data["stressor"]),
        changes=tuple(out),
        extension=str(data.get("extension") or "emissions"),
        threshold=None if threshold is None else _num(threshold, file, "threshold"),
    )


# ----------------------------------------------------------------------------- purchases (CSV)

PURCHASE_COLUMNS = (
    "supplier",
    "product",
    "method",
    "supplier_region",
    "sector",
    "amount",
    "currency",
    "price_year",
    "quantity",
    "quantity_unit",
    "activity_factor",
    "factor_source",
    "pact_product_id",
    "supplier_scope12_kg",
    "transport_kg",
)


def _reason(exc: ValueError) -> Msg | str:
    """A ``ValueError``'s message, still translatable when it was raised with a ``Msg``."""
    reason = exc.args[0] if len(exc.args) == 1 else None
    return reason if isinstance(reason, Msg) else str(exc)


def _opt_dec(v: str, file: str, row: int, field: str, negative: bool = False) -> Decimal | None:
    from keten.core.quantity import parse_number

    if not v:
        return None
    try:
        d = parse_number(v)
    except ValueError as exc:
        raise InputError(_reason(exc), file=file, row=row, field=field) from None
    if d < 0 and not negative:
        raise InputError(msg("must not be negative"), file=file, row=row, field=field)
    check_amount(d, file, row, field)  # below 10^15 (GEN-01)
    return d


def read_purchases(path: Path) -> list[Any]:
    """Purchases CSV with the columns ``PURCHASE_COLUMNS`` (cells not used by a method empty)."""
    from keten.footprint.scope3 import METHODS, Purchase
    from keten.io.csvfile import read_rows

    file = str(path)
    out = []
    for row, r in read_rows(path, PURCHASE_COLUMNS):
        for key in ("supplier", "product", "method"):
            if not r[key]:
                raise InputError(msg("is empty"), file=file, row=row, field=key)
        if r["method"] not in METHODS:
            raise InputError(
                msg(
                    "unknown method %(method)s (expected %(methods)s)",
                    method=repr(r["method"]),
                    methods=", ".join(METHODS),
                ),
                file=file,
                row=row,
                field="method",
            )
        year = None
        if r["price_year"]:
            if not r["price_year"].isdigit() or not 1900 <= int(r["price_year"]) <= 2100:
                raise InputError(
                    msg("must be a year like 2022"), file=file, row=row, field="price_year"
                )
            year = int(r["price_year"])
        if r["currency"] and not re.fullmatch(r"[A-Za-z]{3}", r["currency"]):
            raise InputError(
                msg("must be a 3-letter currency code"), file=file, row=row, field="currency"
            )
        out.append(
            Purchase(
                row=row,
                supplier=r["supplier"],
                product=r["product"],
                method=r["method"],
                supplier_region=r["supplier_region"],
                sector=r["sector"],
                amount=_opt_dec(r["amount"], file, row, "amount"),
                currency=r["currency"],
                price_year=year,
                quantity=_opt_dec(r["quantity"], file, row, "quantity"),
                quantity_unit=r["quantity_unit"],
                activity_factor=_opt_dec(r["activity_factor"], file, row, "activity_factor"),
                factor_source=r["factor_source"],
                pact_product_id=r["pact_product_id"],
                supplier_scope12_kg=_opt_dec(
                    r["supplier_scope12_kg"], file, row, "supplier_scope12_kg"
                ),
                transport_kg=_opt_dec(r["transport_kg"], file, row, "transport_kg"),
            )
        )
    if not out:
        raise InputError(msg("no purchases"), file=file)
    return out


DEFLATOR_COLUMNS = ("currency", "price_year", "factor")


def read_deflators(path: Path) -> dict[tuple[str, int], Decimal]:
    """``currency,price_year,factor``: 1 unit of ``currency`` in ``price_year`` = ``factor`` units
    of the MRIO's currency at the MRIO's price year (FP-20)."""
    from keten.io.csvfile import read_rows

    file = str(path)
    out: dict[tuple[str, int], Decimal] = {}
    for row, r in read_rows(path, DEFLATOR_COLUMNS):
        if not re.fullmatch(r"[A-Za-z]{3}", r["currency"]):
            raise InputError(
                msg("must be a 3-letter currency code"), file=file, row=row, field="currency"
            )
        if not r["price_year"].isdigit():
            raise InputError(msg("must be a year"), file=file, row=row, field="price_year")
        f = _opt_dec(r["factor"], file, row, "factor")
        if f is None or f == 0:
            raise InputError(msg("must be a positive number"), file=file, row=row, field="factor")
        key = (r["currency"].upper(), int(r["price_year"]))
        if key in out:
            raise InputError(
                msg("duplicate currency and year"), file=file, row=row, field="price_year"
            )
        out[key] = f
    return out


# ----------------------------------------------------------------------------- PACT JSON


def read_pact(path: Path) -> list[dict[str, Any]]:
    """Valid PACT ProductFootprints of a JSON file (one object, a list or ``{"data": [...]}``)."""
    from keten.footprint.pact import check_footprints

    file = str(path)
    if path.is_dir():
        raise InputError(msg("is a folder, not a file"), file=file)
    if not path.is_file():
        raise InputError(msg("file not found"), file=file)
    try:
        doc = json.loads(path.read_bytes().decode("utf-8"), parse_float=Decimal)
    except UnicodeDecodeError as exc:
        raise InputError(
            msg("not UTF-8 text (byte %(start)s)", start=exc.start), file=file
        ) from None
    except json.JSONDecodeError as exc:
        raise InputError(
            msg("not valid JSON: %(reason)s (line %(lineno)s)", reason=exc.msg, lineno=exc.lineno),
            file=file,
        ) from None
    try:
        return check_footprints(doc, file=file)
    except InputError as exc:
        raise InputError(exc.translatable, file=file, field=exc.field) from None


PCF_COLUMNS = (
    "product_id",
    "product_name",
    "product_description",
    "declared_unit",
    "declared_amount",
    "mass_kg",
    "pcf_excluding_biogenic",
    "pcf_including_biogenic",
    "fossil_ghg",
    "fossil_carbon",
    "reference_start",
    "reference_end",
    "standards",
    "country",
    "primary_data_share",
    "dqr_technological",
    "dqr_geographical",
    "dqr_temporal",
)


def read_pcf_entries(path: Path) -> list[Any]:
    """An SME's product footprints (CSV, ``PCF_COLUMNS``; standards separated by ``;``)."""
    from keten.footprint.pact import PcfEntry
    from keten.io.csvfile import read_rows

    file = str(path)
    out = []
    first_row: dict[tuple[str, str], int] = {}
    for row, r in read_rows(path, PCF_COLUMNS):

        def need(key: str, row: int = row, r: dict[str, str] = r) -> str:
            if not r[key]:
                raise InputError(msg("is empty"), file=file, row=row, field=key)
            return r[key]

        def dec(key: str, negative: bool = False, row: int = row) -> Decimal:
            d = _opt_dec(need(key), file, row, key, negative)
            assert d is not None
            return d

        dqr_cells = [r["dqr_technological"], r["dqr_geographical"], r["dqr_temporal"]]
        dqr = None
        if any(dqr_cells):
            dqr = (dec("dqr_technological"), dec("dqr_geographical"), dec("dqr_temporal"))
        entry = PcfEntry(
            product_id=need("product_id"),
            product_name=need("product_name"),
            product_description=r["product_description"],
            declared_unit=need("declared_unit"),
            declared_amount=dec("declared_amount"),
            mass_kg=dec("mass_kg"),
            pcf_excluding_biogenic=dec("pcf_excluding_biogenic"),
            pcf_including_biogenic=dec("pcf_including_biogenic", negative=True),
            fossil_ghg=dec("fossil_ghg"),
            fossil_carbon=dec("fossil_carbon"),
            reference_start=need("reference_start"),
            reference_end=need("reference_end"),
            standards=tuple(s.strip() for s in need("standards").split(";") if s.strip()),
            country=r["country"] or None,
            primary_data_share=_opt_dec(r["primary_data_share"], file, row, "primary_data_share"),
            dqr=dqr,
        )
        # FP-32: the id is made of company, product and reference start; two rows with the same
        # product and start would give two footprints with one id in one file.
        key = (entry.product_id, entry.reference_start)
        if key in first_row:
            raise InputError(
                msg(
                    "same product_id and reference_start as row %(row)s: the footprint id would "
                    "repeat (FP-32)",
                    row=first_row[key],
                ),
                file=file,
                row=row,
                field="product_id",
            )
        first_row[key] = row
        out.append((row, entry))
    if not out:
        raise InputError(msg("no footprints"), file=file)
    return out


TARGET_COLUMNS = ("year", "value", "scope")


def read_targets(path: Path) -> list[Any]:
    """User-set non-binding footprint targets: ``year,value,scope`` (total|domestic|abroad)."""
    from keten.footprint.national import Target
    from keten.io.csvfile import read_rows

    file = str(path)
    out = []
    seen: set[tuple[int, str]] = set()
    for row, r in read_rows(path, TARGET_COLUMNS):
        if not r["year"].isdigit():
            raise InputError(msg("must be a year"), file=file, row=row, field="year")
        v = _opt_dec(r["value"], file, row, "value")
        if v is None:
            raise InputError(msg("is empty"), file=file, row=row, field="value")
        try:
            target = Target(int(r["year"]), float(v), r["scope"] or "total")
        except InputError as exc:
            raise InputError(exc.translatable, file=file, row=row, field=exc.field) from None
        if (target.year, target.scope) in seen:
            raise InputError(
                msg(
                    "two targets for %(year)s (%(scope)s): give one per year and scope (FP-45)",
                    year=target.year,
                    scope=target.scope,
                ),
                file=file,
                row=row,
                field="year",
            )
        seen.add((target.year, target.scope))
        out.append(target)
    return out
