"""Traces and receipts (DESIGN.md rule 5): every result can explain itself.

A ``Trace`` collects the formula steps of a computation and every parameter value it used.
Its ``receipt()`` names the keten version, the parameter set and the sha256 of each parameter
file a value came from, so a result can be reproduced and defended later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import keten
from keten.core.messages import Msg
from keten.core.params import ParameterSet, ParamValue


@dataclass(frozen=True)
class Step:
    """One step of a computation. ``label``, ``formula`` and ``result`` may be translatable
    (``msg(...)``):
    they become text when shown — English in the CLI, the JSON and the receipts, the page's
    language on the web pages (``keten.web.traces``)."""

    label: str | Msg
    formula: str | Msg
    result: str | Msg
    ref: str = ""  # interpretation id or article, when the step applies one


@dataclass(frozen=True)
class Receipt:
    keten_version: str
    domain: str
    parameter_set: str
    files: dict[str, str]  # relative path → sha256

    def to_dict(self) -> dict[str, Any]:
        return {
            "keten_version": self.keten_version,
            "domain": self.domain,
            "parameter_set": self.parameter_set,
            "parameter_files": dict(sorted(self.files.items())),
        }


@dataclass
class Trace:
    """Collects steps and parameter uses for one result. Not thread-shared; cheap to create."""

    params: ParameterSet
    steps: list[Step] = field(default_factory=list)
    used: dict[tuple[str, str], ParamValue] = field(default_factory=dict)

    def value(self, name: str, year: int) -> Decimal:
        """Look up ``name`` for ``year`` in the set and record the use."""
        pv = self.params.get(name, year)
        self.used[(name, pv.period)] = pv
        return pv.value

    def record(self, pv: ParamValue) -> Decimal:
        self.used[(pv.name, pv.period)] = pv
        return pv.value

    def step(self, label: str | Msg, formula: str | Msg, result: object, ref: str = "") -> None:
        shown = result if isinstance(result, Msg) else str(result)
        self.steps.append(Step(label=label, formula=formula, result=shown, ref=ref))

    def flagged(self) -> list[ParamValue]:
        """Values used whose status is not 'source' (third-party, unverified, assumption, ...)."""
        return [pv for pv in self.used.values() if pv.flagged]

    def receipt(self) -> Receipt:
        files = {pv.file for pv in self.used.values()}
        return Receipt(
            keten_version=keten.__version__,
            domain=self.params.domain,
            parameter_set=self.params.name,
            files={f: self.params.file_hashes[f] for f in files},
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "steps": [
                {
                    "label": str(s.label),
                    "formula": str(s.formula),
                    "result": str(s.result),
                    "ref": s.ref,
                }
                for s in self.steps
            ],
            "parameters": [
                {
                    "name": pv.name,
                    "period": pv.period,
                    "value": str(pv.value),
                    "unit": pv.unit,
                    "source": pv.source,
                    "status": pv.status,
                    "file": pv.file,
                }
                for pv in sorted(self.used.values(), key=lambda p: (p.name, p.period))
            ],
            "receipt": self.receipt().to_dict(),
        }


def merged(params: ParameterSet, traces: list[Trace]) -> Trace:
    """A new trace holding the steps and parameter uses of ``traces``, in order."""
    out = Trace(params)
    for t in traces:
        out.steps.extend(t.steps)
        out.used.update(t.used)
    return out
