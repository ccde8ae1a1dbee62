"""Records of the Energie Vervoer domain: sectors, unit categories, deliveries, bookings, units."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

#: Sectors with their own obligation (Bijlage 1, section 1: the four tables).
SECTORS: Final = ("land", "binnenvaart", "zeevaart", "luchtvaart")

#: Unit categories. ``conventional`` = food and feed crops, ``annex-ixa`` = advanced (RED Annex
#: IX part A), ``annex-ixb`` = RED Annex IX part B, ``rfnbo`` = renewable fuels of non-biological
#: origin, ``other`` = everything else (e.g. renewable electricity).
CATEGORIES: Final = ("conventional", "annex-ixa", "annex-ixb", "rfnbo", "other")

#: Categories whose units count towards a sector only up to a limit (Bijlage 1, rows "Limiet").
LIMITED: Final = {"conventional": "conventional_cap", "annex-ixb": "annex_ixb_cap"}

#: Categories with a sub-obligation (Bijlage 1, rows "Verplichting Annex 9A" and "... RFNBO").
SUB_OBLIGATIONS: Final = {"annex-ixa": "annex_ixa_min", "rfnbo": "rfnbo_min"}

#: Scarce categories: the best allocation keeps these unspent where it can (EV-07).
SCARCE: Final = ("annex-ixa", "rfnbo")

#: The obligation rows of a sector, in the order of the JSON contract.
OBLIGATION_ROWS: Final = (
    "total",
    "sector_specific",
    "vrije_ruimte",
    "annex_ixa_min",
    "rfnbo_min",
    "conventional_cap",
    "annex_ixb_cap",
)

#: Quantity units accepted in files.
QUANTITY_UNITS: Final = ("l", "kg", "Nm3", "MJ", "GJ", "kWh")

#: Input sanity bounds (not rules; EV-11): they keep exact integer arithmetic, and the solver's
#: doubles, far from overflow. 10^12 l, kg, Nm3, MJ, GJ or kWh is far beyond any supplier.
MAX_QUANTITY: Final = Decimal(10) ** 12
MIN_INTENSITY: Final = Decimal(-1000)
MAX_UNITS: Final = 10**15
MAX_PRICE: Final = Decimal(10) ** 6

ENERGY_FUEL: Final = "energy"
ELECTRICITY_FUEL: Final = "electricity"


def unit_name(origin_sector: str) -> str:
    """Units from luchtvaart bookings are LREs (luchtvaart-emissiereductie-eenheden), EV-20."""
    return "LRE" if origin_sector == "luchtvaart" else "ERE"


@dataclass(frozen=True)
class Delivery:
    """A delivery of fuel to transport (levering), as registered by a supplier."""

    supplier: str
    sector: str
    fuel: str
    quantity: Decimal
    unit: str


@dataclass(frozen=True)
class Booking:
    """A booking (inboeking) of renewable energy delivered to transport."""

    holder: str
    sector: str
    category: str
    fuel: str
    quantity: Decimal
    unit: str
    ghg_intensity: Decimal | None  # gCO2e/MJ; None for electricity


@dataclass(frozen=True, order=True)
class UnitType:
    """A type of unit: the sector the booking was made in × the category."""

    origin_sector: str
    category: str


@dataclass(frozen=True)
class Holding:
    holder: str
    unit_type: UnitType
    amount: int
