"""The catalogue of housing systems and additional (reductive) systems.

Attributes (animal category, kind, scrubber flag) come from ``params/nitrogen/housing_systems.csv``;
every number (emission factor, reduction fraction) is a parameter in ``params/nitrogen/common``:
``nitrogen.ef_nh3.<code>`` (kg NH3 per animal place per year, Rav bijlage 1) and
``nitrogen.reduction.<code>`` (fraction). Codes are written without spaces (``A1.100`` for Rav
``A 1.100``); the Omgevingsregeling alias with an ``H`` prefix (``HA1.100``) resolves to the same
system and records the unverified parameter ``nitrogen.catalogue.h_alias_same_value`` (NH-02).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from keten.core.errors import RuleError
from keten.core.messages import msg
from keten.core.params import ParameterSet, ParamValue
from keten.core.trace import Trace

Kind = Literal["traditional", "housing", "additional"]
KINDS: tuple[str, ...] = ("traditional", "housing", "additional")
ALIAS_PARAM = "nitrogen.catalogue.h_alias_same_value"
TRADITIONAL_SUFFIX = ".100"


@dataclass(frozen=True)
class System:
    """One catalogue row (Rav code or keten code of an additional system)."""

    code: str
    animal_category: str  # e.g. "A1"; empty for additional systems
    kind: Kind
    scrubber: bool
    description: str
    source: str

    @property
    def parameter(self) -> str:
        prefix = "nitrogen.reduction." if self.kind == "additional" else "nitrogen.ef_nh3."
        return prefix + self.code


def normalise(code: str) -> str:
    """``"A 1.100"`` → ``"A1.100"``; upper case; no spaces."""
    return "".join(code.split()).upper()


@dataclass(frozen=True)
class Resolved:
    system: System
    alias: bool  # given with the Omgevingsregeling 'H' prefix


class Catalogue:
    """Housing and additional systems by code, checked against the parameter set."""

    def __init__(self, systems: Iterable[System], params: ParameterSet) -> None:
        self.params = params
        self.systems: dict[str, System] = {}
        for s in systems:
            if s.code in self.systems:
                raise RuleError(msg("catalogue: code %(code)s appears twice", code=s.code))
            if s.parameter not in params:
                raise RuleError(
                    msg(
                        "catalogue: code %(code)s has no parameter %(parameter)s",
                        code=s.code,
                        parameter=s.parameter,
                    )
                )
            self.systems[s.code] = s
        self._values: dict[tuple[str, int], ParamValue] = {}
        self._best: dict[tuple[str, int], System] = {}
        self.traditional: dict[str, System] = {}
        for s in self.systems.values():
            if s.kind == "traditional":
                if s.animal_category in self.traditional:
                    raise RuleError(
                        msg(
                            "catalogue: animal category %(category)s has two traditional systems",
                            category=s.animal_category,
                        )
                    )
                self.traditional[s.animal_category] = s
        for s in self.systems.values():
            if s.kind == "housing" and s.animal_category not in self.traditional:
                raise RuleError(
                    msg(
                        "catalogue: %(code)s has no traditional system for %(category)s",
                        code=s.code,
                        category=s.animal_category,
                    )
                )

    def resolve(self, code: str) -> Resolved:
        """The system for ``code`` (Rav or H-prefixed alias); ``RuleError`` when unknown."""
        key = normalise(code)
        if key in self.systems:
            return Resolved(self.systems[key], alias=False)
        if key.startswith("H") and key[1:] in self.systems:
            return Resolved(self.systems[key[1:]], alias=True)
        raise RuleError(msg("unknown housing or additional system code %(code)s", code=repr(code)))

    def value(self, name: str, year: int, trace: Trace | None = None) -> Decimal:
        """``params.get(name, year)``, memoised (the set is immutable); recorded in ``trace``."""
        key = (name, year)
        pv = self._values.get(key)
        if pv is None:
            pv = self._values[key] = self.params.get(name, year)
        if trace is not None:
            trace.record(pv)
        return pv.value

    def factor(self, resolved: Resolved, year: int, trace: Trace | None) -> Decimal:
        """The parameter value (emission factor or reduction) of a resolved code for ``year``."""
        value = self.value(resolved.system.parameter, year, trace)
        if resolved.alias:
            self.value(ALIAS_PARAM, year, trace)
        return value

    def traditional_for(self, system: System) -> System:
        return self.traditional[system.animal_category]

    def best_available(self, category: str, year: int) -> System:
        """The housing system of ``category`` with the lowest factor in ``year`` (NH-12)."""
        key = (category, year)
        if key in self._best:
            return self._best[key]
        candidates = []
        for s in self.systems.values():
            if s.animal_category != category or s.kind == "additional":
                continue
            p = self.params.parameter(s.parameter)
            if p.covers(year):
                candidates.append((self.params.get(s.parameter, year).value, s.code, s))
        if not candidates:
            raise RuleError(
                msg(
                    "no housing system of animal category %(category)s is valid in %(year)s",
                    category=category,
                    year=year,
                )
            )
        best = self._best[key] = min(candidates, key=lambda c: (c[0], c[1]))[2]
        return best
