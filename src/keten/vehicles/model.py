"""Records of the vehicles domain: vehicle categories, EEA fuel types, fleet aggregates."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final

#: Vehicle categories of Regulation (EU) 2019/631: M1 passenger cars and N1 vans.
CATEGORIES: Final = ("cars", "vans")

#: Fuel types (field ``Ft``) as written in the EEA CO2 monitoring data (lower-cased, VH-09).
#: A row with any other value is skipped and reported ("unknown fuel type").
FUEL_TYPES: Final = (
    "petrol",
    "diesel",
    "electric",
    "petrol/electric",
    "diesel/electric",
    "lpg",
    "ng",
    "ng-biomethane",
    "e85",
    "hydrogen",
)

#: Fuel modes (field ``Fm``): M mono-fuel, B bi-fuel, F flex-fuel, H hybrid, P plug-in hybrid,
#: E electric. Informational; not used by the targets.
FUEL_MODES: Final = ("M", "B", "F", "H", "P", "E")


@dataclass(frozen=True)
class Fleet:
    """Aggregate of one manufacturer or pool in one year, as the rules need it.

    Sums are over vehicles (each data row counts ``R`` registrations). ``sum_mass`` is Σ test mass
    (``Mt``, or mass in running order ``M`` for the 2020 NEDC formula), ``sum_emissions`` Σ specific
    CO2 emissions (``Ewltp``; ``Enedc`` for 2020), ``sum_eco`` Σ eco-innovation savings
    (``Erwltp``). ``zlev_*`` are over vehicles with emissions at or below the ZLEV threshold;
    ``m1e_*`` over small EU-made electric cars (COM(2025) 995, VH-08).
    """

    name: str
    year: int
    registrations: int
    sum_mass: Decimal
    sum_emissions: Decimal
    sum_eco: Decimal = Decimal(0)
    zlev_registrations: int = 0
    zlev_sum_emissions: Decimal = Decimal(0)
    m1e_registrations: int = 0
    m1e_sum_emissions: Decimal = Decimal(0)
    members: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.registrations <= 0:
            raise ValueError(f"{self.name} {self.year}: a fleet needs at least one registration")


@dataclass(frozen=True)
class Credits:
    """Credits a manufacturer claims under COM(2025) 995 (g/km of its average), user input."""

    steel: Decimal = Decimal(0)
    fuels: Decimal = Decimal(0)
