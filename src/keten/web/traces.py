"""The explanation of one result as the pages show it (templates ``*/_trace.html`` and
``nitrogen/_parts.html``): the trace's steps, its parameters (those not read in an
authoritative source flagged), the values the parameter set marks unknown, and the receipt."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from keten.core.trace import Trace


@dataclass
class TraceView:
    #: label, formula, result, ref; label and formula may be a ``Msg``, rendered in the page's
    #: language when the template shows it (the page renders inside ``i18n.using``)
    steps: list[dict[str, Any]]
    parameters: list[dict[str, Any]]
    receipt: dict[str, Any]
    unknown: list[dict[str, str]] = field(default_factory=list)  # name, why

    @property
    def flagged(self) -> list[str]:
        return sorted({p["name"] for p in self.parameters if p["flagged"]})


def trace_view(trace: Trace, unknown: dict[str, str] | None = None) -> TraceView:
    """``trace`` for a template; ``unknown`` maps a value the set marks unknown to why."""
    d = trace.to_dict()
    parameters = [{**p, "flagged": p["status"] != "source"} for p in d["parameters"]]
    return TraceView(
        steps=[
            {"label": s.label, "formula": s.formula, "result": s.result, "ref": s.ref}
            for s in trace.steps
        ],
        parameters=parameters,
        receipt=d["receipt"],
        unknown=[{"name": k, "why": v} for k, v in sorted((unknown or {}).items())],
    )
