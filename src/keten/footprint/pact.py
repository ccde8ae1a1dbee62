"""PACT ProductFootprint data model (PACT Technical Specification v3, research/footprint.md §2.1),
written by us from the field list — not a copy of the spec's OpenAPI file (its licence forbids
sharing edited copies).

A footprint is a JSON object; :func:`validate_footprint` returns every problem as
``(json_path, message)``; :func:`check_footprints` raises the first as an ``InputError`` naming
the path. Numbers are **decimal strings** (``"1.25"``; v3 changed them from JSON numbers), dates
RFC 3339 with a time zone. Values are kg CO2e per declared unit.

:class:`FootprintRegistry` keeps footprints with their owner and the customers each is shared
with; a customer sees only what was shared with it (the authorisation rule behind
``GET /3/footprints``), filtered as the ListFootprints filters describe (FP-35).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from keten.core.errors import InputError
from keten.core.messages import Msg, msg
from keten.core.quantity import div

SPEC_VERSION = "3.0.3"
SPEC_VERSION_RE = re.compile(r"^\d+\.\d+\.\d+(-\d{8})?$")
DECIMAL_RE = re.compile(r"^-?(0|[1-9][0-9]*)(\.[0-9]+)?$")
URN_RE = re.compile(r"^urn:[A-Za-z0-9][A-Za-z0-9-]{0,31}:\S+$")
COUNTRY_RE = re.compile(r"^[A-Z]{2}$")
SUBDIVISION_RE = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$")
IPCC_RE = re.compile(r"^AR\d+$")

UNITS = (
    "liter",
    "kilogram",
    "cubic meter",
    "kilowatt hour",
    "megajoule",
    "ton kilometer",
    "square meter",
    "piece",
    "hour",
    "megabit second",
)
STANDARDS = (
    "ISO14067",
    "ISO14083",
    "ISO14040-44",
    "GHGP-Product",
    "PEF",
    "PACT-1.0",
    "PACT-2.0",
    "PACT-3.0",
    "PAS2050",
)
STATUSES = ("Active", "Deprecated")
REGIONS = (
    "Africa",
    "Americas",
    "Asia",
    "Europe",
    "Oceania",
    "Australia and New Zealand",
    "Central Asia",
    "Eastern Asia",
    "Eastern Europe",
    "Latin America and the Caribbean",
    "Melanesia",
    "Micronesia",
    "Northern Africa",
    "Northern America",
    "Northern Europe",
    "Polynesia",
    "South-eastern Asia",
    "Southern Asia",
    "Southern Europe",
    "Sub-Saharan Africa",
    "Western Asia",
    "Western Europe",
)

TOP_REQUIRED = (
    "id",
    "specVersion",
    "created",
    "status",
    "companyName",
    "companyIds",
    "productDescription",
    "productIds",
    "productNameCompany",
    "pcf",
)
TOP_OPTIONAL = (
    "precedingPfIds",
    "validityPeriodStart",
    "validityPeriodEnd",
    "productClassifications",
    "comment",
    "statusComment",
    "extensions",
)
#: pcf fields that are decimal strings, with their sign rule: "+" ≥ 0, "-" ≤ 0, "" any (FP-31).
PCF_DECIMALS_REQUIRED = {
    "declaredUnitAmount": ">",
    "productMassPerDeclaredUnit": "+",  # spec: Decimal; a mass is ≥ 0 (FP-31)
    "pcfExcludingBiogenicUptake": "+",
    "pcfIncludingBiogenicUptake": "",
    "fossilGhgEmissions": "+",
    "fossilCarbonContent": "+",
    "exemptedEmissionsPercent": "%",
}
PCF_DECIMALS_OPTIONAL = {
    "biogenicCarbonContent": "+",
    "recycledCarbonContent": "+",
    "landUseChangeGhgEmissions": "+",
    "landCarbonLeakage": "+",
    "landManagementFossilGhgEmissions": "+",
    "landManagementBiogenicCO2Emissions": "+",
    "landManagementBiogenicCO2Removals": "-",
    "biogenicCO2Uptake": "-",
    "biogenicNonCO2Emissions": "+",
    "landAreaOccupation": "+",
    "aircraftGhgEmissions": "+",
    "packagingGhgEmissions": "+",
    "packagingBiogenicCarbonContent": "+",
    "outboundLogisticsGhgEmissions": "+",
    "ccsTechnologicalCO2Capture": "-",
    "technologicalCO2Removals": "-",
    "ccuCarbonContent": "+",
    "primaryDataShare": "%",
}
PCF_OTHER = (
    "declaredUnitOfMeasurement",
    "referencePeriodStart",
    "referencePeriodEnd",
    "ipccCharacterizationFactors",
    "crossSectoralStandards",
    "geographyRegionOrSubregion",
    "geographyCountry",
    "geographyCountrySubdivision",
    "boundaryProcessesDescription",
    "productOrSectorSpecificRules",
    "exemptedEmissionsDescription",
    "allocationRulesDescription",
    "secondaryEmissionFactorSources",
    "packagingEmissionsIncluded",
    "ccsTechnologicalCO2CaptureIncluded",
    "technologicalCO2CaptureOrigin",
    "ccuCalculationApproach",
    "ccuCreditCertification",
    "dqi",
    "verification",
)
DQI_FIELDS = ("technologicalDQR", "geographicalDQR", "temporalDQR")

Problem = tuple[str, str]
"""``(json_path, message)`` with the message as text (see :func:`validate_footprint`)."""
Issue = tuple[str, Msg | str]
"""``(json_path, message)`` with the message still translatable (see :func:`footprint_issues`)."""


def reason_of(exc: ValueError) -> Msg | str:
    """The translatable reason of a ``ValueError`` from :func:`parse_decimal` or
    :func:`parse_datetime` (another ``ValueError``'s text as it is)."""
    reason = exc.args[0] if len(exc.args) == 1 else None
    return reason if isinstance(reason, Msg) else str(exc)


def parse_decimal(text: object) -> Decimal:
    """A PACT decimal string (``"12.5"``, ``"-0.3"``); anything else raises ``ValueError``."""
    if not isinstance(text, str):
        raise ValueError(
            msg('must be a decimal string like "1.5", got %(name)s', name=type(text).__name__)
        )
    if not DECIMAL_RE.fullmatch(text):
        raise ValueError(
            msg("%(text)s is not a decimal string (digits, optional '-' and '.')", text=repr(text))
        )
    return Decimal(text)


def parse_datetime(text: object) -> dt.datetime:
    """RFC 3339 date-time with a time zone (``2025-01-01T00:00:00Z``)."""
    if not isinstance(text, str) or "T" not in text:
        raise ValueError(msg("must be an RFC 3339 date-time string like 2025-01-01T00:00:00Z"))
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(msg("%(text)s is not an RFC 3339 date-time", text=repr(text))) from None
    if value.tzinfo is None:
        raise ValueError(msg("%(text)s has no time zone", text=repr(text)))
    return value


def _nonempty_str(obj: Mapping[str, Any], key: str, path: str, out: list[Issue]) -> None:
    v = obj.get(key)
    if not isinstance(v, str) or not v.strip():
        out.append((f"{path}{key}", msg("must be a non-empty string")))


def _urn_list(obj: Mapping[str, Any], key: str, path: str, out: list[Issue], req: bool) -> None:
    if key not in obj:
        if req:
            out.append((f"{path}{key}", msg("required field is missing")))
        return
    v = obj[key]
    if not isinstance(v, list) or (req and not v):
        out.append((f"{path}{key}", msg("must be a non-empty list of URNs")))
        return
    for i, item in enumerate(v):
        if not isinstance(item, str) or not URN_RE.fullmatch(item):
            out.append(
                (
                    f"{path}{key}[{i}]",
                    msg("%(item)s is not a URN (urn:<nid>:<id>)", item=repr(item)),
                )
            )
    if len(set(map(str, v))) != len(v):
        out.append((f"{path}{key}", msg("has duplicates")))


def _decimal(value: object, rule: str, where: str, out: list[Issue]) -> None:
    try:
        d = parse_decimal(value)
    except ValueError as exc:
        out.append((where, reason_of(exc)))
        return
    if rule == "+" and d < 0:
        out.append((where, msg("must not be negative, is %(d)s", d=d)))
    elif rule == ">" and d <= 0:
        out.append((where, msg("must be greater than 0, is %(d)s", d=d)))
    elif rule == "-" and d > 0:
        out.append((where, msg("must not be positive, is %(d)s", d=d)))
    elif rule == "%" and not (0 <= d <= 100):
        out.append((where, msg("must be a percentage between 0 and 100, is %(d)s", d=d)))


def _validate_pcf(pcf: object, out: list[Issue]) -> None:
    p = "pcf."
    if not isinstance(pcf, dict):
        out.append(("pcf", msg("must be an object")))
        return
    known = set(PCF_DECIMALS_REQUIRED) | set(PCF_DECIMALS_OPTIONAL) | set(PCF_OTHER)
    for key in pcf:
        if key not in known:
            out.append((f"{p}{key}", msg("unknown field (vendor data goes in 'extensions')")))
    required = (
        *PCF_DECIMALS_REQUIRED,
        "declaredUnitOfMeasurement",
        "referencePeriodStart",
        "referencePeriodEnd",
        "ipccCharacterizationFactors",
        "crossSectoralStandards",
    )
    for key in required:
        if key not in pcf:
            out.append((f"{p}{key}", msg("required field is missing")))
    for key, rule in {**PCF_DECIMALS_REQUIRED, **PCF_DECIMALS_OPTIONAL}.items():
        if key in pcf:
            _decimal(pcf[key], rule, f"{p}{key}", out)
    unit = pcf.get("declaredUnitOfMeasurement")
    if "declaredUnitOfMeasurement" in pcf and unit not in UNITS:
        out.append(
            (
                f"{p}declaredUnitOfMeasurement",
                msg("%(unit)s is not a unit (%(units)s)", unit=repr(unit), units=", ".join(UNITS)),
            )
        )
    start = end = None
    for key in ("referencePeriodStart", "referencePeriodEnd"):
        if key in pcf:
            try:
                val = parse_datetime(pcf[key])
            except ValueError as exc:
                out.append((f"{p}{key}", reason_of(exc)))
                continue
            if key == "referencePeriodStart":
                start = val
            else:
                end = val
    if start and end and end <= start:
        out.append((f"{p}referencePeriodEnd", msg("must be after referencePeriodStart")))
    ipcc = pcf.get("ipccCharacterizationFactors")
    if "ipccCharacterizationFactors" in pcf and (
        not isinstance(ipcc, list)
        or not ipcc
        or not all(isinstance(v, str) and IPCC_RE.fullmatch(v) for v in ipcc)
    ):
        out.append(
            (f"{p}ipccCharacterizationFactors", msg('must be a non-empty list like ["AR6"]'))
        )
    std = pcf.get("crossSectoralStandards")
    if "crossSectoralStandards" in pcf:
        if not isinstance(std, list) or not std:
            out.append((f"{p}crossSectoralStandards", msg("must be a non-empty list")))
        else:
            for i, v in enumerate(std):
                # A host MUST accept standards from later revisions: any non-empty string.
                if not isinstance(v, str) or not v.strip():
                    out.append(
                        (f"{p}crossSectoralStandards[{i}]", msg("must be a non-empty string"))
                    )
            if len(set(map(str, std))) != len(std):
                out.append((f"{p}crossSectoralStandards", msg("has duplicates")))
    geo = [
        k
        for k in ("geographyRegionOrSubregion", "geographyCountry", "geographyCountrySubdivision")
        if k in pcf
    ]
    if len(geo) > 1:
        out.append(
            (f"{p}{geo[1]}", msg("give at most one geography (region, country or subdivision)"))
        )
    if "geographyCountry" in pcf and not (
        isinstance(pcf["geographyCountry"], str) and COUNTRY_RE.fullmatch(pcf["geographyCountry"])
    ):
        out.append((f"{p}geographyCountry", msg("must be an ISO 3166-1 alpha-2 code like NL")))
    if "geographyCountrySubdivision" in pcf and not (
        isinstance(pcf["geographyCountrySubdivision"], str)
        and SUBDIVISION_RE.fullmatch(pcf["geographyCountrySubdivision"])
    ):
        out.append(
            (f"{p}geographyCountrySubdivision", msg("must be an ISO 3166-2 code like NL-UT"))
        )
    if "geographyRegionOrSubregion" in pcf and pcf["geographyRegionOrSubregion"] not in REGIONS:
        out.append((f"{p}geographyRegionOrSubregion", msg("is not a UN M.49 region name")))
    dqi = pcf.get("dqi")
    if "dqi" in pcf:
        if not isinstance(dqi, dict):
            out.append((f"{p}dqi", msg("must be an object")))
        else:
            for key in dqi:
                if key not in DQI_FIELDS:
                    out.append((f"{p}dqi.{key}", msg("unknown field")))
            for key in DQI_FIELDS:
                if key not in dqi:
                    out.append((f"{p}dqi.{key}", msg("required field is missing")))
                    continue
                try:
                    d = parse_decimal(dqi[key])
                except ValueError as exc:
                    out.append((f"{p}dqi.{key}", reason_of(exc)))
                    continue
                if not 1 <= d <= 5:
                    out.append(
                        (f"{p}dqi.{key}", msg("a data-quality rating is 1 to 5, is %(d)s", d=d))
                    )
    if "packagingEmissionsIncluded" in pcf and not isinstance(
        pcf["packagingEmissionsIncluded"], bool
    ):
        out.append((f"{p}packagingEmissionsIncluded", msg("must be true or false")))


def validate_footprint(fp: object) -> list[Problem]:
    """Every problem of one ProductFootprint, as ``(json_path, message)``; empty when valid. The
    messages are text in the current context's language (English unless a translator is set)."""
    return [(path, str(why)) for path, why in footprint_issues(fp)]


def footprint_issues(fp: object) -> list[Issue]:
    """:func:`validate_footprint` with the messages still translatable (``Msg``)."""
    out: list[Issue] = []
    if not isinstance(fp, dict):
        return [("", msg("a ProductFootprint must be a JSON object"))]
    for key in fp:
        if key not in TOP_REQUIRED and key not in TOP_OPTIONAL:
            out.append((key, msg("unknown field (vendor data goes in 'extensions')")))
    for key in TOP_REQUIRED:
        if key not in fp:
            out.append((key, msg("required field is missing")))
    if "id" in fp:
        try:
            uuid.UUID(str(fp["id"]))
            if not isinstance(fp["id"], str):
                raise ValueError
        except ValueError:
            out.append(("id", msg("%(id)s is not a UUID", id=repr(fp["id"]))))
    if "specVersion" in fp and not (
        isinstance(fp["specVersion"], str) and SPEC_VERSION_RE.fullmatch(fp["specVersion"])
    ):
        out.append(("specVersion", msg("must look like 3.0.3")))
    elif isinstance(fp.get("specVersion"), str) and not fp["specVersion"].startswith("3."):
        out.append(
            (
                "specVersion",
                msg("%(spec_version)s is not a v3 footprint", spec_version=fp["specVersion"]),
            )
        )
    for key in ("created", "validityPeriodStart", "validityPeriodEnd"):
        if key in fp:
            try:
                parse_datetime(fp[key])
            except ValueError as exc:
                out.append((key, reason_of(exc)))
    if "status" in fp and fp["status"] not in STATUSES:
        out.append(
            ("status", msg("%(status)s is not Active or Deprecated", status=repr(fp["status"])))
        )
    for key in ("companyName", "productNameCompany"):
        if key in fp:
            _nonempty_str(fp, key, "", out)
    if "productDescription" in fp and not isinstance(fp["productDescription"], str):
        out.append(("productDescription", msg("must be a string")))
    _urn_list(fp, "companyIds", "", out, True)
    _urn_list(fp, "productIds", "", out, True)
    _urn_list(fp, "productClassifications", "", out, False)
    if "precedingPfIds" in fp:
        ids = fp["precedingPfIds"]
        if not isinstance(ids, list) or not ids:
            out.append(("precedingPfIds", msg("must be a non-empty list of UUIDs")))
        else:
            for i, v in enumerate(ids):
                try:
                    uuid.UUID(str(v))
                except ValueError:
                    out.append((f"precedingPfIds[{i}]", msg("%(v)s is not a UUID", v=repr(v))))
    if "extensions" in fp and not isinstance(fp["extensions"], list):
        out.append(("extensions", msg("must be a list")))
    if "pcf" in fp:
        _validate_pcf(fp["pcf"], out)
    return out


def footprints_in(document: object) -> list[object]:
    """The footprints of a JSON document: one object, a list, or ``{"data": [...]}``."""
    if isinstance(document, dict) and set(document) == {"data"}:
        data = document["data"]
        if not isinstance(data, list):
            raise InputError(msg("'data' must be a list of footprints"), field="data")
        return list(data)
    if isinstance(document, list):
        return list(document)
    return [document]


def with_more(why: Msg | str, more: int) -> Msg | str:
    """The first problem's message, with `` (+N more)`` when ``more`` others follow."""
    if not more:
        return why
    return msg("%(problem)s (+%(more)s more)", problem=why, more=more)


def check_footprints(document: object, file: str | None = None) -> list[dict[str, Any]]:
    """The footprints of ``document``, all valid and with distinct ids; else the first problem as
    an ``InputError`` (field = JSON path, ``data[i].`` prefixed when there are several)."""
    items = footprints_in(document)
    if not items:
        raise InputError(msg("no footprints in the document"), file=file)
    seen: set[str] = set()
    many = not (isinstance(document, dict) and set(document) != {"data"})
    for i, fp in enumerate(items):
        problems = footprint_issues(fp)
        prefix = f"data[{i}]" if many else ""
        if problems:
            path, why = problems[0]
            full = f"{prefix}.{path}" if prefix and path else (prefix or path)
            raise InputError(with_more(why, len(problems) - 1), file=file, field=full)
        assert isinstance(fp, dict)
        if fp["id"] in seen:
            raise InputError(msg("duplicate footprint id"), file=file, field=f"{prefix}.id")
        seen.add(fp["id"])
    return [fp for fp in items if isinstance(fp, dict)]


# ----------------------------------------------------------------------------- sharing


@dataclass
class FootprintRegistry:
    """Footprints by id with their owner (the supplier) and the customers they are shared with."""

    footprints: dict[str, dict[str, Any]] = field(default_factory=dict)
    owner: dict[str, str] = field(default_factory=dict)
    shared: dict[str, set[str]] = field(default_factory=dict)

    def add(self, fp: dict[str, Any], owner: str) -> None:
        problems = footprint_issues(fp)
        if problems:
            raise InputError(problems[0][1], field=problems[0][0])
        if fp["id"] in self.footprints and self.owner[fp["id"]] != owner:
            raise InputError(msg("a footprint with this id belongs to another company"), field="id")
        self.footprints[fp["id"]] = fp
        self.owner[fp["id"]] = owner
        self.shared.setdefault(fp["id"], set())

    def share(self, fp_id: str, owner: str, customer: str) -> None:
        if self.owner.get(fp_id) != owner:
            raise InputError(msg("no footprint with this id of yours"), field="id")
        self.shared[fp_id].add(customer)

    def revoke(self, fp_id: str, owner: str, customer: str) -> None:
        if self.owner.get(fp_id) != owner:
            raise InputError(msg("no footprint with this id of yours"), field="id")
        self.shared[fp_id].discard(customer)

    def _visible(self, party: str) -> Iterable[dict[str, Any]]:
        for fid, fp in self.footprints.items():
            if self.owner[fid] == party or party in self.shared[fid]:
                yield fp

    def get(self, party: str, fp_id: str) -> dict[str, Any]:
        """GetFootprint: not shared and not existing look the same (no leak of existence)."""
        fp = self.footprints.get(fp_id)
        if fp is None or not (self.owner[fp_id] == party or party in self.shared[fp_id]):
            raise InputError(msg("no such footprint"), field="id")
        return fp

    def list(
        self,
        party: str,
        filters: Mapping[str, Sequence[str]] | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> tuple[list[dict[str, Any]], bool]:
        """ListFootprints for ``party``: OR within a filter's values, AND across filters; returns
        a page and whether more follow. Filters: productId, companyId, geography, classification,
        status, validOn, validAfter, validBefore (FP-35)."""
        filters = filters or {}
        for key in filters:
            if key not in FILTERS:
                raise InputError(msg("unknown filter %(key)s", key=repr(key)), field=key)
        if limit is not None and limit < 1:
            raise InputError(msg("limit must be at least 1"), field="limit")
        if offset < 0:
            raise InputError(msg("offset must not be negative"), field="offset")
        hits = [
            fp
            for fp in self._visible(party)
            if all(any(FILTERS[k](fp, v) for v in vals) for k, vals in filters.items())
        ]
        hits.sort(key=lambda fp: (fp["created"], fp["id"]))
        end = len(hits) if limit is None else offset + limit
        return hits[offset:end], end < len(hits)


def _geo(fp: Mapping[str, Any]) -> set[str]:
    pcf = fp.get("pcf", {})
    return {
        str(pcf[k])
        for k in ("geographyRegionOrSubregion", "geographyCountry", "geographyCountrySubdivision")
        if k in pcf
    }


def _valid_on(fp: Mapping[str, Any], day: str) -> bool:
    when = parse_datetime(day)
    start = fp.get("validityPeriodStart") or fp["pcf"]["referencePeriodEnd"]
    end = fp.get("validityPeriodEnd")
    if end is None:
        end_dt = parse_datetime(start).replace(year=parse_datetime(start).year + 3)
    else:
        end_dt = parse_datetime(end)
    return parse_datetime(start) <= when < end_dt


FILTERS: dict[str, Any] = {
    "productId": lambda fp, v: v in fp.get("productIds", []),
    "companyId": lambda fp, v: v in fp.get("companyIds", []),
    "classification": lambda fp, v: v in fp.get("productClassifications", []),
    "geography": lambda fp, v: v in _geo(fp),
    "status": lambda fp, v: fp.get("status") == v,
    "validOn": _valid_on,
    "validAfter": lambda fp, v: (
        parse_datetime(fp.get("validityPeriodStart") or fp["pcf"]["referencePeriodEnd"])
        > parse_datetime(v)
    ),
    "validBefore": lambda fp, v: (
        fp.get("validityPeriodEnd") is not None
        and parse_datetime(fp["validityPeriodEnd"]) < parse_datetime(v)
    ),
}


# ----------------------------------------------------------------------------- building


@dataclass(frozen=True)
class PcfEntry:
    """One product footprint as an SME enters it (our CSV row), before it becomes PACT JSON."""

    product_id: str
    product_name: str
    product_description: str
    declared_unit: str
    declared_amount: Decimal
    mass_kg: Decimal
    pcf_excluding_biogenic: Decimal
    pcf_including_biogenic: Decimal
    fossil_ghg: Decimal
    fossil_carbon: Decimal
    reference_start: str
    reference_end: str
    standards: tuple[str, ...]
    country: str | None = None
    primary_data_share: Decimal | None = None
    dqr: tuple[Decimal, Decimal, Decimal] | None = None


def _dec(d: Decimal) -> str:
    text = format(d, "f")
    return "0" if text in ("-0", "") else text


def build_footprint(
    entry: PcfEntry,
    company_name: str,
    company_id: str,
    created: str,
    preceding: Sequence[str] = (),
) -> dict[str, Any]:
    """A ProductFootprint for ``entry``; id = uuid5(company id + product id + period) so the same
    entry exported twice keeps its id (FP-32). Validated before it is returned.

    ``preceding``: the ids of the footprints this one corrects (PACT v3 ``precedingPfIds``); they
    are part of the id's name, ``…|<period>|<id>,<id>``, so a correction never gets the id of the
    footprint it corrects and the same correction submitted twice keeps its id (FP-44)."""
    name = f"{company_id}|{entry.product_id}|{entry.reference_start}"
    if preceding:
        name += "|" + ",".join(preceding)
    fid = uuid.uuid5(uuid.NAMESPACE_URL, name)
    pcf: dict[str, Any] = {
        "declaredUnitOfMeasurement": entry.declared_unit,
        "declaredUnitAmount": _dec(entry.declared_amount),
        "productMassPerDeclaredUnit": _dec(entry.mass_kg),
        "referencePeriodStart": entry.reference_start,
        "referencePeriodEnd": entry.reference_end,
        "pcfExcludingBiogenicUptake": _dec(entry.pcf_excluding_biogenic),
        "pcfIncludingBiogenicUptake": _dec(entry.pcf_including_biogenic),
        "fossilGhgEmissions": _dec(entry.fossil_ghg),
        "fossilCarbonContent": _dec(entry.fossil_carbon),
        "ipccCharacterizationFactors": ["AR6"],
        "crossSectoralStandards": list(entry.standards),
        "exemptedEmissionsPercent": "0",
    }
    if entry.country:
        pcf["geographyCountry"] = entry.country
    if entry.primary_data_share is not None:
        pcf["primaryDataShare"] = _dec(entry.primary_data_share)
    if entry.dqr is not None:
        pcf["dqi"] = dict(zip(DQI_FIELDS, (_dec(d) for d in entry.dqr), strict=True))
    fp: dict[str, Any] = {
        "id": str(fid),
        "specVersion": SPEC_VERSION,
        "created": created,
        "status": "Active",
        "companyName": company_name,
        "companyIds": [company_id],
        "productDescription": entry.product_description,
        "productIds": [entry.product_id],
        "productNameCompany": entry.product_name,
        "pcf": pcf,
    }
    if preceding:
        fp["precedingPfIds"] = list(preceding)
    problems = footprint_issues(fp)
    unknown = [v for v in entry.standards if v not in STANDARDS]
    if unknown:
        problems.append(
            (
                "pcf.crossSectoralStandards",
                msg("%(unknown)s is not a v3 standard", unknown=repr(unknown[0])),
            )
        )
    if problems:
        raise InputError(problems[0][1], field=problems[0][0])
    return fp


def per_unit(fp: Mapping[str, Any]) -> Decimal:
    """kg CO2e per one declared unit, excluding biogenic uptake (FP-34)."""
    pcf = fp["pcf"]
    amount = parse_decimal(pcf["declaredUnitAmount"])
    return div(parse_decimal(pcf["pcfExcludingBiogenicUptake"]), amount)  # 60 digits, not 28


def mean_dqr(fp: Mapping[str, Any]) -> Decimal | None:
    dqi = fp["pcf"].get("dqi")
    if not dqi:
        return None
    return sum((parse_decimal(dqi[k]) for k in DQI_FIELDS), Decimal(0)) / 3
