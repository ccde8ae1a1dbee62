"""PACT v3 ProductFootprint validation, building, sharing (authorisation) and filters."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from footprint_pactdocs import VALID, doc

from keten.core.errors import InputError
from keten.footprint.pact import (
    FootprintRegistry,
    PcfEntry,
    build_footprint,
    check_footprints,
    mean_dqr,
    per_unit,
    validate_footprint,
)
from keten.io.footprint_files import read_pact


def test_valid_document() -> None:
    assert validate_footprint(VALID) == []
    assert check_footprints({"data": [VALID]})[0]["id"] == VALID["id"]
    # 1850.5 kg CO2e per 1000 kg → 1.8505 kg CO2e per kg (FP-34)
    assert per_unit(VALID) == Decimal("1.8505")
    assert mean_dqr(VALID) == Decimal("1.5")  # (2 + 1.5 + 1) / 3


def test_unknown_standard_from_later_revision_is_accepted() -> None:
    assert validate_footprint(doc(pcf__crossSectoralStandards=["ISO14067", "NEW-2027"])) == []


@pytest.mark.parametrize(
    ("changes", "path", "message"),
    [
        ({"id": "DELETE"}, "id", "required"),
        ({"companyName": "DELETE"}, "companyName", "required"),
        ({"pcf": "DELETE"}, "pcf", "required"),
        (
            {"pcf__pcfExcludingBiogenicUptake": "DELETE"},
            "pcf.pcfExcludingBiogenicUptake",
            "required",
        ),
        ({"pcf__declaredUnitAmount": 1000}, "pcf.declaredUnitAmount", "decimal string"),
        ({"pcf__fossilGhgEmissions": "1,5"}, "pcf.fossilGhgEmissions", "not a decimal string"),
        ({"pcf__fossilGhgEmissions": "1e3"}, "pcf.fossilGhgEmissions", "not a decimal string"),
        ({"pcf__fossilGhgEmissions": "-1"}, "pcf.fossilGhgEmissions", "negative"),
        ({"pcf__pcfExcludingBiogenicUptake": "-0.5"}, "pcf.pcfExcludingBiogenicUptake", "negative"),
        ({"pcf__declaredUnitAmount": "0"}, "pcf.declaredUnitAmount", "greater than 0"),
        ({"pcf__biogenicCO2Uptake": "3"}, "pcf.biogenicCO2Uptake", "positive"),
        ({"pcf__declaredUnitOfMeasurement": "kg"}, "pcf.declaredUnitOfMeasurement", "not a unit"),
        ({"pcf__declaredUnitOfMeasurement": "ton"}, "pcf.declaredUnitOfMeasurement", "not a unit"),
        ({"pcf__primaryDataShare": "120"}, "pcf.primaryDataShare", "percentage"),
        (
            {"pcf__dqi": {"technologicalDQR": "6", "geographicalDQR": "1", "temporalDQR": "1"}},
            "pcf.dqi.technologicalDQR",
            "1 to 5",
        ),
        ({"pcf__referencePeriodEnd": "2024-01-01T00:00:00Z"}, "pcf.referencePeriodEnd", "after"),
        ({"pcf__referencePeriodStart": "2025-01-01"}, "pcf.referencePeriodStart", "RFC 3339"),
        ({"pcf__geographyRegionOrSubregion": "Europe"}, "pcf.geographyCountry", "at most one"),
        ({"pcf__geographyCountry": "Netherlands"}, "pcf.geographyCountry", "ISO 3166"),
        ({"pcf__ipccCharacterizationFactors": []}, "pcf.ipccCharacterizationFactors", "non-empty"),
        ({"pcf__colour": "red"}, "pcf.colour", "unknown field"),
        ({"id": "not-a-uuid"}, "id", "UUID"),
        ({"specVersion": "2.3.0"}, "specVersion", "not a v3"),
        ({"status": "Draft"}, "status", "Active or Deprecated"),
        ({"companyIds": ["KVK 123"]}, "companyIds[0]", "URN"),
        ({"productIds": []}, "productIds", "non-empty"),
        ({"created": "yesterday"}, "created", "RFC 3339"),
    ],
)
def test_invalid_documents(changes: dict[str, Any], path: str, message: str) -> None:
    problems = validate_footprint(doc(**changes))
    assert any(p == path and message in m for p, m in problems), problems


def test_check_names_item_and_path(tmp_path: Path) -> None:
    bad = doc(pcf__fossilGhgEmissions="-2")
    f = tmp_path / "pcf.json"
    f.write_text(json.dumps({"data": [VALID, bad]}))
    with pytest.raises(InputError) as err:
        read_pact(f)
    assert err.value.field == "data[1].pcf.fossilGhgEmissions"
    assert str(f) in str(err.value)
    f.write_text(json.dumps([VALID, VALID]))
    with pytest.raises(InputError, match="duplicate footprint id"):
        read_pact(f)
    f.write_text("{not json")
    with pytest.raises(InputError, match="not valid JSON"):
        read_pact(f)
    f.write_text(json.dumps({"data": []}))
    with pytest.raises(InputError, match="no footprints"):
        read_pact(f)
    f.write_bytes(b"\xff\xfe")
    with pytest.raises(InputError, match="UTF-8"):
        read_pact(f)
    f.write_text(json.dumps(doc(pcf__fossilGhgEmissions=1.5)))  # a JSON number, not a string
    with pytest.raises(InputError, match="decimal string"):
        read_pact(f)


def entry(**kw: Any) -> PcfEntry:
    base: dict[str, Any] = dict(
        product_id="urn:jansen:product:hea200",
        product_name="HEA 200 beam",
        product_description="beam",
        declared_unit="kilogram",
        declared_amount=Decimal("1"),
        mass_kg=Decimal("1"),
        pcf_excluding_biogenic=Decimal("1.85"),
        pcf_including_biogenic=Decimal("1.85"),
        fossil_ghg=Decimal("1.84"),
        fossil_carbon=Decimal("0"),
        reference_start="2025-01-01T00:00:00Z",
        reference_end="2026-01-01T00:00:00Z",
        standards=("ISO14067",),
    )
    base.update(kw)
    return PcfEntry(**base)


def test_build_is_valid_and_stable() -> None:
    a = build_footprint(entry(), "Jansen", "urn:kvk:12345678", "2026-03-01T09:00:00Z")
    b = build_footprint(entry(), "Jansen", "urn:kvk:12345678", "2026-04-01T09:00:00Z")
    assert validate_footprint(a) == []
    assert a["id"] == b["id"]  # FP-32
    assert a["pcf"]["pcfExcludingBiogenicUptake"] == "1.85"
    assert a["specVersion"] == "3.0.3"


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"declared_unit": "kg"}, "pcf.declaredUnitOfMeasurement"),
        ({"standards": ("ISO9001",)}, "pcf.crossSectoralStandards"),
        ({"product_id": "hea200"}, "productIds[0]"),
        ({"declared_amount": Decimal(0)}, "pcf.declaredUnitAmount"),
        ({"reference_end": "2024-01-01T00:00:00Z"}, "pcf.referencePeriodEnd"),
    ],
)
def test_build_refuses_bad_entries(kw: dict[str, Any], field: str) -> None:
    with pytest.raises(InputError) as err:
        build_footprint(entry(**kw), "Jansen", "urn:kvk:12345678", "2026-03-01T09:00:00Z")
    assert err.value.field == field


def _registry() -> FootprintRegistry:
    reg = FootprintRegistry()
    for i, (pid, country) in enumerate([("a", "NL"), ("b", "DE"), ("c", "NL")]):
        fp = doc(
            id=f"00000000-0000-4000-8000-00000000000{i}",
            productIds=[f"urn:jansen:product:{pid}"],
            created=f"2026-03-0{i + 1}T09:00:00Z",
            pcf__geographyCountry=country,
        )
        reg.add(fp, owner="jansen")
    reg.share("00000000-0000-4000-8000-000000000000", "jansen", "bouwbedrijf")
    reg.share("00000000-0000-4000-8000-000000000002", "jansen", "bouwbedrijf")
    reg.share("00000000-0000-4000-8000-000000000001", "jansen", "andere-klant")
    return reg


def test_customer_sees_only_what_is_shared_with_it() -> None:
    reg = _registry()
    seen, more = reg.list("bouwbedrijf")
    assert [fp["productIds"][0][-1] for fp in seen] == ["a", "c"] and not more
    assert [fp["productIds"][0][-1] for fp in reg.list("andere-klant")[0]] == ["b"]
    assert reg.list("stranger")[0] == []
    assert len(reg.list("jansen")[0]) == 3  # the owner sees its own
    with pytest.raises(InputError, match="no such footprint"):
        reg.get("bouwbedrijf", "00000000-0000-4000-8000-000000000001")
    with pytest.raises(InputError, match="no such footprint"):  # same answer as not shared
        reg.get("bouwbedrijf", "00000000-0000-4000-8000-00000000dead")
    assert reg.get("andere-klant", "00000000-0000-4000-8000-000000000001")["id"].endswith("1")
    reg.revoke("00000000-0000-4000-8000-000000000001", "jansen", "andere-klant")
    assert reg.list("andere-klant")[0] == []


def test_only_the_owner_shares() -> None:
    reg = _registry()
    with pytest.raises(InputError):
        reg.share("00000000-0000-4000-8000-000000000001", "bouwbedrijf", "bouwbedrijf")
    with pytest.raises(InputError, match="another company"):
        reg.add(doc(id="00000000-0000-4000-8000-000000000001"), owner="intruder")
    with pytest.raises(InputError):
        reg.add(doc(status="Draft"), owner="jansen")


def test_filters_and_pagination() -> None:
    reg = _registry()
    hits, _ = reg.list("jansen", {"geography": ["NL"]})
    assert len(hits) == 2
    hits, _ = reg.list("jansen", {"geography": ["NL"], "productId": ["urn:jansen:product:c"]})
    assert len(hits) == 1  # AND across filters
    hits, _ = reg.list("jansen", {"productId": ["urn:jansen:product:a", "urn:jansen:product:b"]})
    assert len(hits) == 2  # OR within a filter
    assert reg.list("jansen", {"status": ["Deprecated"]})[0] == []
    # valid 3 years from referencePeriodEnd (2026-01-01) when no validity period is given
    assert len(reg.list("jansen", {"validOn": ["2027-06-01T00:00:00Z"]})[0]) == 3
    assert reg.list("jansen", {"validOn": ["2030-01-01T00:00:00Z"]})[0] == []
    page, more = reg.list("jansen", limit=2)
    assert len(page) == 2 and more
    page, more = reg.list("jansen", limit=2, offset=2)
    assert len(page) == 1 and not more
    with pytest.raises(InputError, match="unknown filter"):
        reg.list("jansen", {"colour": ["red"]})
    with pytest.raises(InputError, match="limit"):
        reg.list("jansen", limit=0)
