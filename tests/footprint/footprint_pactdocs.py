"""A valid PACT v3 ProductFootprint for tests (our own example, not from the spec)."""

from __future__ import annotations

import copy
from typing import Any

VALID: dict[str, Any] = {
    "id": "3f9d5d0a-6b1e-4c4e-9a57-2b1f0d7c9e11",
    "specVersion": "3.0.3",
    "created": "2026-03-01T09:00:00Z",
    "status": "Active",
    "companyName": "Staalbouw Jansen BV",
    "companyIds": ["urn:kvk:12345678"],
    "productDescription": "Hot-rolled steel beam HEA 200",
    "productIds": ["urn:jansen:product:hea200"],
    "productNameCompany": "HEA 200 beam",
    "pcf": {
        "declaredUnitOfMeasurement": "kilogram",
        "declaredUnitAmount": "1000",
        "productMassPerDeclaredUnit": "1000",
        "referencePeriodStart": "2025-01-01T00:00:00Z",
        "referencePeriodEnd": "2026-01-01T00:00:00Z",
        "pcfExcludingBiogenicUptake": "1850.5",
        "pcfIncludingBiogenicUptake": "1850.5",
        "fossilGhgEmissions": "1840",
        "fossilCarbonContent": "2.1",
        "ipccCharacterizationFactors": ["AR6"],
        "crossSectoralStandards": ["ISO14067", "PACT-3.0"],
        "exemptedEmissionsPercent": "0",
        "geographyCountry": "NL",
        "primaryDataShare": "62.5",
        "dqi": {"technologicalDQR": "2", "geographicalDQR": "1.5", "temporalDQR": "1"},
    },
}


def doc(**changes: Any) -> dict[str, Any]:
    """A copy of VALID with top-level (``key=value``) or pcf (``pcf__key=value``) changes; the
    value ``DELETE`` removes the field."""
    d = copy.deepcopy(VALID)
    for key, value in changes.items():
        target, name = (d["pcf"], key[5:]) if key.startswith("pcf__") else (d, key)
        if value == "DELETE":
            del target[name]
        else:
            target[name] = value
    return d
