"""Records of the MKI domain: life-cycle modules, indicator codes, profiles and elements."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final

#: EN 15804 life-cycle modules, in report order (A1-A3 aggregated as in NMD profiles).
MODULES: Final = (
    "A1-A3",
    "A4",
    "A5",
    "B1",
    "B2",
    "B3",
    "B4",
    "B5",
    "B6",
    "B7",
    "C1",
    "C2",
    "C3",
    "C4",
    "D",
)

#: Modules that recur with every replacement of an element (MKI-04): production, transport,
#: installation, end of life and the end-of-life benefits beyond the system boundary.
REPLACED_MODULES: Final = frozenset({"A1-A3", "A4", "A5", "C1", "C2", "C3", "C4", "D"})

#: Indicator codes per weighting set (issue #6).
SET1_INDICATORS: Final = (
    "ADPE",
    "ADPF",
    "GWP",
    "ODP",
    "POCP",
    "AP",
    "EP",
    "HTP",
    "FAETP",
    "MAETP",
    "TETP",
)
SET2_INDICATORS: Final = (
    "GWP-total",
    "GWP-fossil",
    "GWP-biogenic",
    "GWP-luluc",
    "ODP",
    "AP",
    "EP-freshwater",
    "EP-marine",
    "EP-terrestrial",
    "POCP",
    "ADP-minerals&metals",
    "ADP-fossil",
    "WDP",
    "PM",
    "IRP",
    "ETP-fw",
    "HTP-c",
    "HTP-nc",
    "SQP",
)
#: The parts of GWP-total (EN 15804+A2): never weighted themselves (MKI-02).
GWP_PARTS: Final = ("GWP-fossil", "GWP-biogenic", "GWP-luluc")
GWP_TOTAL: Final = "GWP-total"

INDICATORS: Final = {"1": SET1_INDICATORS, "2": SET2_INDICATORS}

#: Parameter-set folder of each weighting set (params/mki/<folder>).
SET_FOLDERS: Final = {"1": "set-1", "2": "set-2"}

#: NMD data categories (research/mki.md §3.1); 3a from amendment 4 (1 Jul 2024).
DATA_CATEGORIES: Final = ("1", "2", "3", "3a")

#: Functional unit of a transport profile (MKI-07).
TRANSPORT_UNIT: Final = "tkm"
TRANSPORT_PREFIX: Final = "transport:"


def priced_indicators(weighting_set: str) -> tuple[str, ...]:
    """Indicators that carry a price of their own in ``weighting_set`` (MKI-02)."""
    return tuple(i for i in INDICATORS[weighting_set] if i not in GWP_PARTS)


@dataclass(frozen=True)
class Profile:
    """An environmental profile ("milieuprofiel") of one product per functional unit.

    ``values[(module, indicator)]`` is the characterised result per functional unit as given.
    """

    product_id: str
    unit: str
    data_category: str
    values: dict[tuple[str, str], Decimal] = field(hash=False)

    def modules(self) -> set[str]:
        return {m for m, _ in self.values}


@dataclass(frozen=True)
class Transport:
    """Transport to site (A4) from distance × mode, used where the profile lacks A4 (MKI-07)."""

    mode: str
    distance_km: Decimal
    tonnes_per_unit: Decimal


@dataclass(frozen=True)
class Element:
    """One element of a work: a quantity of a product with a service life."""

    element_id: str
    product_id: str
    quantity: Decimal
    service_life_years: Decimal
    unit: str | None = None
    material_group: str | None = None
    transport: Transport | None = None
