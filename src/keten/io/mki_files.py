"""MKI input files: profiles, project, bids, batches, ceilings (CSV) and ILCD+EPD XML.

Column contracts (issue #6): profiles ``product_id,unit,data_category,module,indicator,value``;
project ``element_id,product_id,quantity,service_life_years`` plus the optional columns
``unit,material_group,transport_mode,distance_km,tonnes_per_unit`` (MKI-07, MKI-15); bids
``bidder,price_eur,mki_eur``; batches ``batch_id,material,product_group,unit,mki_eur_per_unit``;
ceilings ``material,product_group,unit,ceiling_eur,source``.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from lxml import etree

from keten.core.errors import InputError, KetenError
from keten.core.messages import Msg, msg
from keten.core.quantity import div
from keten.io.csvfile import cell_amount, cell_required, check_amount, read_rows
from keten.mki.award import Bid
from keten.mki.ceilings import Batch, Ceiling, check_material
from keten.mki.model import (
    DATA_CATEGORIES,
    INDICATORS,
    MODULES,
    TRANSPORT_PREFIX,
    Element,
    Profile,
    Transport,
)
from keten.mki.weights import check_indicator

PROFILE_COLUMNS = ("product_id", "unit", "data_category", "module", "indicator", "value")
PROJECT_COLUMNS = ("element_id", "product_id", "quantity", "service_life_years")
PROJECT_OPTIONAL = ("unit", "material_group", "transport_mode", "distance_km", "tonnes_per_unit")
TRANSPORT_COLUMNS = ("transport_mode", "distance_km", "tonnes_per_unit")
BID_COLUMNS = ("bidder", "price_eur", "mki_eur")
BATCH_COLUMNS = ("batch_id", "material", "product_group", "unit", "mki_eur_per_unit")
CEILING_COLUMNS = ("material", "product_group", "unit", "ceiling_eur", "source")


#: Profile values may use exponent notation, as EPDs print them (MKI-15).
_PROFILE_NUMBER = re.compile(r"^[+-]?[0-9]+([.,][0-9]+)?([eE][+-]?[0-9]{1,3})?$", re.ASCII)


def _number(value: str, file: str, row: int, field: str, *, positive: bool = False) -> Decimal:
    n = cell_amount(value, file, row, field)  # below 10^15 (GEN-01)
    if n < 0:
        raise InputError(msg("must not be negative"), file=file, row=row, field=field)
    if positive and n == 0:
        raise InputError(msg("must be positive"), file=file, row=row, field=field)
    return n


def profile_number(text: str) -> Decimal:
    """A profile value: decimal, optionally with an exponent (``1.2E-07``); ``ValueError`` else
    (its one argument a translatable message, see :func:`_reason`)."""
    raw = text.strip()
    if not _PROFILE_NUMBER.match(raw):
        raise ValueError(msg("not a number: %(text)s", text=repr(text)))
    return Decimal(raw.replace(",", "."))


def _reason(exc: Exception) -> str | Msg:
    """The message of ``exc`` as raised: a translatable ``Msg`` stays one (a ``KetenError``'s
    or a ``ValueError`` of :func:`profile_number`), anything else becomes its text."""
    if isinstance(exc, KetenError):
        return exc.translatable
    first = exc.args[0] if len(exc.args) == 1 else None
    return first if isinstance(first, Msg) else str(exc)


def read_profiles(path: Path, weighting_set: str) -> dict[str, Profile]:
    """Profiles per product. A product's rows must agree on unit and data category; each
    (product, module, indicator) appears once; indicators must belong to ``weighting_set``."""
    name = str(path)
    meta: dict[str, tuple[str, str, int]] = {}
    values: dict[str, dict[tuple[str, str], Decimal]] = {}
    for row, r in read_rows(path, PROFILE_COLUMNS):
        pid = cell_required(r["product_id"], name, row, "product_id")
        unit = cell_required(r["unit"], name, row, "unit")
        cat = r["data_category"]
        if cat not in DATA_CATEGORIES:
            raise InputError(
                msg(
                    "unknown data category %(category)s (expected one of %(categories)s)",
                    category=repr(cat),
                    categories=", ".join(DATA_CATEGORIES),
                ),
                file=name,
                row=row,
                field="data_category",
            )
        module = r["module"]
        if module not in MODULES:
            raise InputError(
                msg(
                    "unknown module %(module)s (expected one of %(modules)s)",
                    module=repr(module),
                    modules=", ".join(MODULES),
                ),
                file=name,
                row=row,
                field="module",
            )
        indicator = r["indicator"]
        try:
            check_indicator(indicator, weighting_set)
        except KetenError as exc:
            raise InputError(_reason(exc), file=name, row=row, field="indicator") from None
        try:
            value = profile_number(cell_required(r["value"], name, row, "value"))
        except ValueError as exc:
            raise InputError(_reason(exc), file=name, row=row, field="value") from None
        check_amount(value, name, row, "value")  # 2.5E+99 (MKI-15) is no profile value (GEN-01)
        first = meta.setdefault(pid, (unit, cat, row))
        if first[0] != unit:
            raise InputError(
                msg(
                    "product %(product)s has unit %(unit)s in row %(row)s",
                    product=pid,
                    unit=repr(first[0]),
                    row=first[2],
                ),
                file=name,
                row=row,
                field="unit",
            )
        if first[1] != cat:
            raise InputError(
                msg(
                    "product %(product)s has data category %(category)s in row %(row)s",
                    product=pid,
                    category=first[1],
                    row=first[2],
                ),
                file=name,
                row=row,
                field="data_category",
            )
        vals = values.setdefault(pid, {})
        if (module, indicator) in vals:
            raise InputError(
                msg(
                    "duplicate value for %(product)s %(module)s %(indicator)s",
                    product=pid,
                    module=module,
                    indicator=indicator,
                ),
                file=name,
                row=row,
                field="indicator",
            )
        vals[(module, indicator)] = value
    if not meta:
        raise InputError(msg("no profile rows"), file=name)
    return {pid: Profile(pid, m[0], m[1], values[pid]) for pid, m in meta.items()}


def _project_columns(path: Path) -> tuple[str, ...]:
    """The contract columns plus the optional columns this file's header names."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            header = next(csv.reader(fh), [])
    except (OSError, UnicodeDecodeError, csv.Error, StopIteration):
        return PROJECT_COLUMNS  # read_rows reports the problem with file and row
    names = {h.strip() for h in header}
    optional = tuple(c for c in PROJECT_OPTIONAL if c in names)
    return PROJECT_COLUMNS + optional


def read_project(path: Path, profiles: Mapping[str, Profile]) -> list[Element]:
    """Elements of a work, checked against the profiles (product exists, unit matches)."""
    name = str(path)
    columns = _project_columns(path)
    if any(c in columns for c in TRANSPORT_COLUMNS) and not all(
        c in columns for c in TRANSPORT_COLUMNS
    ):
        raise InputError(
            msg("header: transport needs all of %(columns)s", columns=", ".join(TRANSPORT_COLUMNS)),
            file=name,
        )
    out: list[Element] = []
    seen: dict[str, int] = {}
    for row, r in read_rows(path, columns):
        eid = cell_required(r["element_id"], name, row, "element_id")
        if eid in seen:
            raise InputError(
                msg("element %(element)s already in row %(row)s", element=eid, row=seen[eid]),
                file=name,
                row=row,
                field="element_id",
            )
        seen[eid] = row
        pid = cell_required(r["product_id"], name, row, "product_id")
        profile = profiles.get(pid)
        if profile is None or pid.startswith(TRANSPORT_PREFIX):
            raise InputError(
                msg("no profile for product %(product)s in the profiles file", product=repr(pid)),
                file=name,
                row=row,
                field="product_id",
            )
        quantity = _number(r["quantity"], name, row, "quantity")
        life = _number(r["service_life_years"], name, row, "service_life_years", positive=True)
        unit = r.get("unit") or None
        if unit is not None and unit != profile.unit:
            raise InputError(
                msg(
                    "unit %(unit)s does not match the functional unit %(profile_unit)s of "
                    "profile %(product)s",
                    unit=repr(unit),
                    profile_unit=repr(profile.unit),
                    product=pid,
                ),
                file=name,
                row=row,
                field="unit",
            )
        transport = None
        if "transport_mode" in r and any(r[c] for c in TRANSPORT_COLUMNS):
            mode = cell_required(r["transport_mode"], name, row, "transport_mode")
            if TRANSPORT_PREFIX + mode not in profiles:
                raise InputError(
                    msg(
                        "no transport profile %(profile)s in the profiles file",
                        profile=repr(TRANSPORT_PREFIX + mode),
                    ),
                    file=name,
                    row=row,
                    field="transport_mode",
                )
            transport = Transport(
                mode,
                _number(r["distance_km"], name, row, "distance_km"),
                _number(r["tonnes_per_unit"], name, row, "tonnes_per_unit"),
            )
        out.append(
            Element(eid, pid, quantity, life, unit, r.get("material_group") or None, transport)
        )
    if not out:
        raise InputError(msg("no elements"), file=name)
    return out


def read_bids(path: Path) -> list[Bid]:
    name = str(path)
    out: list[Bid] = []
    seen: dict[str, int] = {}
    for row, r in read_rows(path, BID_COLUMNS):
        bidder = cell_required(r["bidder"], name, row, "bidder")
        if bidder in seen:
            raise InputError(
                msg("bidder %(bidder)s already in row %(row)s", bidder=bidder, row=seen[bidder]),
                file=name,
                row=row,
                field="bidder",
            )
        seen[bidder] = row
        out.append(
            Bid(
                bidder,
                _number(r["price_eur"], name, row, "price_eur"),
                _number(r["mki_eur"], name, row, "mki_eur"),
            )
        )
    if not out:
        raise InputError(msg("no bids"), file=name)
    return out


def _material(r: dict[str, str], name: str, row: int) -> tuple[str, str, str]:
    material = cell_required(r["material"], name, row, "material")
    group = cell_required(r["product_group"], name, row, "product_group")
    unit = cell_required(r["unit"], name, row, "unit")
    try:
        check_material(material, unit)
    except KetenError as exc:
        field = "unit" if "per" in exc.english() else "material"
        raise InputError(exc.translatable, file=name, row=row, field=field) from None
    return material, group, unit


def read_batches(path: Path) -> list[Batch]:
    name = str(path)
    out: list[Batch] = []
    seen: dict[str, int] = {}
    for row, r in read_rows(path, BATCH_COLUMNS):
        bid = cell_required(r["batch_id"], name, row, "batch_id")
        if bid in seen:
            raise InputError(
                msg("batch %(batch)s already in row %(row)s", batch=bid, row=seen[bid]),
                file=name,
                row=row,
                field="batch_id",
            )
        seen[bid] = row
        material, group, unit = _material(r, name, row)
        mki = _number(r["mki_eur_per_unit"], name, row, "mki_eur_per_unit")
        out.append(Batch(bid, material, group, unit, mki))
    if not out:
        raise InputError(msg("no batches"), file=name)
    return out


def read_ceilings(path: Path) -> dict[tuple[str, str], Ceiling]:
    name = str(path)
    out: dict[tuple[str, str], Ceiling] = {}
    for row, r in read_rows(path, CEILING_COLUMNS):
        material, group, unit = _material(r, name, row)
        value = _number(r["ceiling_eur"], name, row, "ceiling_eur", positive=True)
        source = cell_required(r["source"], name, row, "source")
        if (material, group) in out:
            raise InputError(
                msg("second ceiling for %(material)s %(group)s", material=material, group=group),
                file=name,
                row=row,
                field="product_group",
            )
        out[(material, group)] = Ceiling(material, group, unit, value, source)
    if not out:
        raise InputError(msg("no ceilings"), file=name)
    return out


# --- ILCD+EPD XML (as published by ÖKOBAUDAT / soda4LCA) ------------------------------------

NS = {
    "p": "http://lca.jrc.it/ILCD/Process",
    "common": "http://lca.jrc.it/ILCD/Common",
    "epd": "http://www.iai.kit.edu/EPD/2013",
}

#: EPD module labels mapped to keten modules ("A1-A3" also printed as "A1-3").
_EPD_MODULES = {m: m for m in MODULES} | {"A1-3": "A1-A3", "A1–A3": "A1-A3"}

#: Indicator codes as they appear in parentheses in the LCIA method's short description
#: (EN 15804+A2 abbreviations and common ÖKOBAUDAT variants) → keten code (MKI-16).
_EPD_ALIASES: dict[str, str] = {
    "ADP-minerals&metals": "ADP-minerals&metals",
    "ADPE": "ADPE",
    "ADPF": "ADPF",
    "ADP-fossil": "ADP-fossil",
    "ETP-fw": "ETP-fw",
    "HTP-c": "HTP-c",
    "HTP-nc": "HTP-nc",
    "EP-freshwater": "EP-freshwater",
    "EP-marine": "EP-marine",
    "EP-terrestrial": "EP-terrestrial",
    "WDP": "WDP",
    "PM": "PM",
    "IRP": "IRP",
    "SQP": "SQP",
    "GWP-total": "GWP-total",
    "GWP-fossil": "GWP-fossil",
    "GWP-biogenic": "GWP-biogenic",
    "GWP-luluc": "GWP-luluc",
    "GWP": "GWP",
    "ODP": "ODP",
    "AP": "AP",
    "EP": "EP",
    "POCP": "POCP",
}
_ABBREV = re.compile(r"\(([^()]+)\)\s*$")


def read_epd_xml(
    path: Path, weighting_set: str, *, product_id: str, unit: str, data_category: str
) -> list[dict[str, Any]]:
    """Profile rows (``PROFILE_COLUMNS``) from one ILCD+EPD process data set.

    Each ``LCIAResult`` names its indicator in the short description of the LCIA method
    reference, ending with the abbreviation in parentheses; its values per module are the
    ``epd:amount module="…"`` elements. Indicators outside ``weighting_set`` are refused;
    amounts given as empty or "ND" (not declared) are skipped (MKI-16). Values are divided by the
    reference flow's mean amount when it is not 1.
    """
    name = str(path)
    if not path.is_file():
        raise InputError(msg("file not found"), file=name)
    if data_category not in DATA_CATEGORIES:
        raise InputError(
            msg("unknown data category %(category)s", category=repr(data_category)), file=name
        )
    if not product_id or not unit:
        raise InputError(msg("product id and unit are required"), file=name)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.parse(str(path), parser).getroot()
    except etree.XMLSyntaxError as exc:
        raise InputError(
            msg("not well-formed XML: %(error)s", error=exc.msg), file=name, row=exc.lineno
        ) from None
    if etree.QName(root).localname != "processDataSet" or etree.QName(root).namespace != NS["p"]:
        raise InputError(msg("not an ILCD process data set (processDataSet)"), file=name)
    ref = root.findtext(
        "p:processInformation/p:quantitativeReference/p:referenceToReferenceFlow", namespaces=NS
    )
    scale = Decimal(1)
    if ref is not None:
        for ex in root.iterfind("p:exchanges/p:exchange", NS):
            if ex.get("dataSetInternalID") == ref.strip():
                amount = ex.findtext("p:meanAmount", namespaces=NS)
                if amount:
                    try:
                        scale = profile_number(amount)
                    except ValueError:
                        raise InputError(
                            msg(
                                "reference flow amount %(amount)s is not a number",
                                amount=repr(amount),
                            ),
                            file=name,
                            row=ex.sourceline,
                            field="meanAmount",
                        ) from None
                if scale <= 0:
                    raise InputError(
                        msg("reference flow amount must be positive"),
                        file=name,
                        row=ex.sourceline,
                        field="meanAmount",
                    )
    rows: list[dict[str, Any]] = []
    results = root.findall("p:LCIAResults/p:LCIAResult", NS)
    if not results:
        raise InputError(msg("no LCIAResults in the data set"), file=name)
    seen: set[tuple[str, str]] = set()
    for res in results:
        desc = (
            res.findtext("p:referenceToLCIAMethodDataSet/common:shortDescription", namespaces=NS)
            or ""
        )
        m = _ABBREV.search(desc.strip())
        code = _EPD_ALIASES.get(m.group(1).strip()) if m else None
        if code is None:
            raise InputError(
                msg(
                    "cannot tell the indicator of LCIA method %(method)s (MKI-16)",
                    method=repr(desc),
                ),
                file=name,
                row=res.sourceline,
                field="referenceToLCIAMethodDataSet",
            )
        if code not in INDICATORS[weighting_set]:
            raise InputError(
                msg(
                    "indicator %(indicator)s is not in weighting set %(set)s",
                    indicator=code,
                    set=weighting_set,
                ),
                file=name,
                row=res.sourceline,
                field="referenceToLCIAMethodDataSet",
            )
        for amount in res.iterfind("common:other/epd:amount", NS):
            label = (amount.get("module") or "").strip()
            module = _EPD_MODULES.get(label)
            if module is None:
                raise InputError(
                    msg("unknown module %(module)s", module=repr(label)),
                    file=name,
                    row=amount.sourceline,
                    field="module",
                )
            text = (amount.text or "").strip()
            if text in ("", "ND"):
                continue
            try:
                value = profile_number(text)
            except ValueError as exc:
                raise InputError(
                    _reason(exc), file=name, row=amount.sourceline, field="epd:amount"
                ) from None
            if (module, code) in seen:
                raise InputError(
                    msg(
                        "duplicate %(indicator)s for module %(module)s",
                        indicator=code,
                        module=module,
                    ),
                    file=name,
                    row=amount.sourceline,
                    field="epd:amount",
                )
            seen.add((module, code))
            rows.append(
                {
                    "product_id": product_id,
                    "unit": unit,
                    "data_category": data_category,
                    "module": module,
                    "indicator": code,
                    "value": div(value, scale),
                }
            )
    if not rows:
        raise InputError(msg("no declared module values"), file=name)
    return rows
