"""Energy content of a quantity of fuel in MJ, from the catalogue ``params/ev/common/lhv.yaml``.

A fuel accepts the units it has a factor for: ``l`` (``per_l``), ``kg`` (``per_kg``), ``Nm3``
(``per_nm3``). Fuel ``energy`` is a quantity that is already energy (``MJ`` or ``GJ``); fuel
``electricity`` is measured in ``kWh``.
"""

from __future__ import annotations

from decimal import Decimal

from keten.core.errors import RuleError
from keten.core.messages import msg
from keten.core.params import ParameterSet
from keten.core.quantity import mul, tidy
from keten.core.trace import Trace
from keten.ev.model import ELECTRICITY_FUEL, ENERGY_FUEL

_FACTOR_SUFFIX = {"l": "per_l", "kg": "per_kg", "Nm3": "per_nm3"}


def fuel_catalogue(params: ParameterSet) -> dict[str, list[str]]:
    """Fuel name → the quantity units it accepts."""
    suffix_unit = {v: k for k, v in _FACTOR_SUFFIX.items()}
    catalogue: dict[str, list[str]] = {ENERGY_FUEL: ["MJ", "GJ"], ELECTRICITY_FUEL: ["kWh"]}
    for name in params.names("ev.lhv."):
        _, _, fuel, suffix = name.split(".")
        catalogue.setdefault(fuel, []).append(suffix_unit[suffix])
    return catalogue


def energy_mj(
    fuel: str, quantity: Decimal, unit: str, year: int, trace: Trace, *, label: str = ""
) -> Decimal:
    """Energy in MJ of ``quantity`` ``unit`` of ``fuel`` (exact; no rounding)."""
    where = msg("%(label)s: energy", label=label) if label else msg("energy")
    if fuel == ENERGY_FUEL:
        if unit == "MJ":
            return quantity
        if unit == "GJ":
            factor = trace.value("ev.mj_per_gj", year)
            mj = mul(quantity, factor)
            trace.step(where, f"{quantity} GJ × {factor} MJ/GJ", f"{tidy(mj)} MJ")
            return mj
        raise RuleError(msg("fuel 'energy' takes unit MJ or GJ, not %(unit)s", unit=repr(unit)))
    if fuel == ELECTRICITY_FUEL:
        if unit != "kWh":
            raise RuleError(msg("fuel 'electricity' takes unit kWh, not %(unit)s", unit=repr(unit)))
        factor = trace.value("ev.mj_per_kwh", year)
        mj = mul(quantity, factor)
        trace.step(where, f"{quantity} kWh × {factor} MJ/kWh", f"{tidy(mj)} MJ")
        return mj
    catalogue = fuel_catalogue(trace.params)
    if fuel not in catalogue:
        raise RuleError(
            msg(
                "unknown fuel %(fuel)s (known: %(fuels)s)",
                fuel=repr(fuel),
                fuels=", ".join(sorted(catalogue)),
            )
        )
    if unit not in _FACTOR_SUFFIX or f"ev.lhv.{fuel}.{_FACTOR_SUFFIX[unit]}" not in trace.params:
        raise RuleError(
            msg(
                "fuel %(fuel)s cannot be given in %(unit)s (use %(units)s)",
                fuel=repr(fuel),
                unit=repr(unit),
                units=", ".join(catalogue[fuel]),
            )
        )
    name = f"ev.lhv.{fuel}.{_FACTOR_SUFFIX[unit]}"
    factor = trace.value(name, year)
    mj = mul(quantity, factor)
    trace.step(where, f"{quantity} {unit} × {factor} MJ/{unit} ({name})", f"{tidy(mj)} MJ")
    return mj
