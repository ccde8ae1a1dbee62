"""Synthetic EEA CO2 monitoring rows with the schema of the real files (tests and benchmarks).

Not data: random vehicles drawn from a fixed seed, with the EEA column names (``ID, MS, Mp, Mh,
Man, Mk, Cn, Ct, M, Mt, Enedc, Ewltp, Ft, Fm, Ec, Ep, Z, IT, Erwltp, R, Year, Status``).
Mass and emissions are whole numbers (as in the EEA files); eco-innovation savings have at most
two decimals.
"""

from __future__ import annotations

import numpy as np
import polars as pl

#: Column order of the generated files (EEA field codes; a subset of the full EEA table).
COLUMNS = (
    "ID", "MS", "Mp", "Mh", "Man", "Mk", "Cn", "Ct", "M", "Mt", "Enedc", "Ewltp", "Ft", "Fm",
    "Ec", "Ep", "Z", "IT", "Erwltp", "R", "Year", "Status",
)  # fmt: skip

MANUFACTURERS = (
    ("VOLKSWAGEN AG", "VW Group PC"),
    ("AUDI AG", "VW Group PC"),
    ("SKODA AUTO AS", "VW Group PC"),
    ("STELLANTIS EUROPE", ""),
    ("RENAULT SAS", "Renault"),
    ("DACIA", "Renault"),
    ("TOYOTA MOTOR EUROPE", ""),
    ("BMW AG", ""),
    ("MERCEDES-BENZ AG", "Mercedes-Benz AG"),
    ("TESLA", "Tesla-Honda-JLR-Ford"),
    ("HONDA MOTOR EUROPE", "Tesla-Honda-JLR-Ford"),
    ("HYUNDAI ASSAN", ""),
    ("KIA SLOVAKIA", ""),
    ("VOLVO CAR CORPORATION", ""),
    ("SMALL SPORTS CARS LTD", ""),
)
FUELS = ("petrol", "diesel", "electric", "petrol/electric", "diesel/electric", "lpg", "hydrogen")
FUEL_P = (0.42, 0.14, 0.17, 0.20, 0.03, 0.035, 0.005)
FUEL_MODE = {"petrol": "M", "diesel": "M", "electric": "E", "petrol/electric": "P",
             "diesel/electric": "H", "lpg": "B", "hydrogen": "M"}  # fmt: skip


def generate(rows: int, year: int = 2025, seed: int = 1, start_id: int = 1) -> pl.DataFrame:
    """``rows`` synthetic vehicles of ``year``; one registration per row (``R`` = 1)."""
    rng = np.random.default_rng(seed)
    man = rng.integers(0, len(MANUFACTURERS), rows)
    fuel = rng.choice(len(FUELS), rows, p=FUEL_P)
    fuels = np.array(FUELS, dtype=object)[fuel]
    mass = rng.normal(1650, 250, rows).clip(900, 3200).round().astype(np.int64)
    is_bev = fuel == FUELS.index("electric")
    is_h2 = fuel == FUELS.index("hydrogen")
    is_phev = np.isin(fuel, [FUELS.index("petrol/electric"), FUELS.index("diesel/electric")])
    co2 = (60 + mass * 0.045 + rng.normal(0, 12, rows)).clip(85, 320)
    co2 = np.where(is_phev, rng.uniform(20, 60, rows), co2)
    co2 = np.where(is_bev | is_h2, 0, co2).round().astype(np.int64)
    eco = np.where(~is_bev & (rng.random(rows) < 0.3), rng.integers(0, 250, rows) / 100, 0.0)
    names = np.array([m[0] for m in MANUFACTURERS], dtype=object)[man]
    pools = np.array([m[1] for m in MANUFACTURERS], dtype=object)[man]
    return pl.DataFrame(
        {
            "ID": np.arange(start_id, start_id + rows, dtype=np.int64),
            "MS": np.array(["NL", "DE", "FR", "IT", "ES", "PL"], dtype=object)[
                rng.integers(0, 6, rows)
            ],
            "Mp": pools,
            "Mh": names,
            "Man": names,
            "Mk": np.array([n.split()[0] for n in names], dtype=object),
            "Cn": np.array([f"MODEL {i}" for i in range(8)], dtype=object)[
                rng.integers(0, 8, rows)
            ],
            "Ct": np.full(rows, "M1", dtype=object),
            "M": mass - 100,
            "Mt": mass,
            "Enedc": np.where(co2 > 0, (co2 * 0.82).round(), 0).astype(np.int64),
            "Ewltp": co2,
            "Ft": fuels,
            "Fm": np.array([FUEL_MODE[f] for f in FUELS], dtype=object)[fuel],
            "Ec": np.where(is_bev, 0, rng.integers(998, 2999, rows)),
            "Ep": rng.integers(50, 300, rows),
            "Z": np.where(is_bev | is_phev, rng.integers(140, 220, rows), 0),
            "IT": np.where(eco > 0, "e13 29", ""),
            "Erwltp": eco,
            "R": np.ones(rows, dtype=np.int64),
            "Year": np.full(rows, year, dtype=np.int64),
            "Status": np.full(rows, "P", dtype=object),
        }
    ).select(COLUMNS)
