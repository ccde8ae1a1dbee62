"""Best allocation of a supplier's units to its sector obligations, and the least-cost plan.

The model (interpretations EV-12..EV-16 in docs/interpretations.md). For each sector ``s`` of a
supplier the total obligation ``T`` is split into *parts*:

* ``annex-ixa`` part of size ``A`` (sub-obligation Annex IX-A): only annex-ixa units fill it;
* ``rfnbo`` part of size ``R`` (sub-obligation RFNBO): only rfnbo units fill it;
* ``general`` part of size ``T − A − R``: any unit fills it.

``x[s, t, p]`` is the number of units of type ``t`` (origin sector × category) surrendered to part
``p`` of sector ``s``. Constraints (all exact integers):

1. a type is surrendered at most as often as it is held (plus purchased, for the plan);
2. a part receives at most its size (EV-12: units beyond the obligation are not surrendered);
3. units from other sectors than ``s`` together at most the vrije ruimte of ``s`` (EV-13);
4. a limited category (conventional, annex-ixb) at most its cap in ``s`` (EV-14);

and a sub-obligation counts towards the total as well, because its part is a part of the total
(EV-15). The shortfall of a sector is ``T − Σ x[s, ·, ·]``.

Best allocation: a lexicographic integer programme — first minimise the total shortfall over all
sectors, then, among those plans, minimise the scarce units (annex-ixa, rfnbo) surrendered
(EV-07). Least-cost plan: first minimise the shortfall when every priced unit type may be bought
in any amount, then minimise the cost of the purchases.

Suppliers are solved together, up to ``CHUNK`` at a time, as one block-diagonal programme with
HiGHS (the objectives separate per supplier, so the joint optimum is each supplier's optimum).
The LP relaxation is solved first; a supplier whose relaxed solution is not integral is solved
again as a MILP. Every plan is then checked against the constraints in exact integer arithmetic.
"""

from __future__ import annotations

import os
import sys
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

import highspy
import numpy as np

from keten.core.errors import KetenError, RuleError
from keten.core.messages import msg
from keten.ev.model import LIMITED, SCARCE, SECTORS, SUB_OBLIGATIONS, UnitType
from keten.ev.obligation import Obligation

GENERAL = "general"
_INF = highspy.kHighsInf
_INT_TOL = 1e-6
#: Suppliers per joint programme: simplex time grows faster than linearly with size, so very
#: large joint models are slower than a few medium ones (measured by benchmarks/ev_compliance.py).
CHUNK = 200


class Col(NamedTuple):
    kind: str  # "x" (surrender) or "p" (purchase)
    unit_type: UnitType
    sector: str = ""
    part: str = ""


@dataclass
class Row:
    label: str
    lower: float
    upper: float
    cols: list[int] = field(default_factory=list)


@dataclass
class Block:
    """One supplier's programme."""

    supplier: str
    obligations: dict[str, Obligation]
    holdings: dict[UnitType, int]
    cols: list[Col] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    cost2: list[float] = field(default_factory=list)
    part_sizes: dict[tuple[str, str], int] = field(default_factory=dict)


def _parts(ob: Obligation) -> dict[str, int]:
    subs = {cat: ob.row(row) for cat, row in SUB_OBLIGATIONS.items()}
    parts = {cat: size for cat, size in subs.items() if size > 0}
    general = ob.row("total") - sum(parts.values())
    if general < 0:
        raise RuleError(
            msg(
                "%(supplier)s %(sector)s: sub-obligations (%(subs)s) exceed the "
                "total obligation (%(total)s)",
                supplier=ob.supplier,
                sector=ob.sector,
                subs=sum(parts.values()),
                total=ob.row("total"),
            )
        )
    if general > 0:
        parts[GENERAL] = general
    return parts


def _eligible(ob: Obligation, t: UnitType, part: str) -> bool:
    if part != GENERAL and t.category != part:
        return False
    if t.origin_sector != ob.sector and ob.row("vrije_ruimte") == 0:
        return False
    return not (t.category in LIMITED and ob.row(LIMITED[t.category]) == 0)


def build_block(
    supplier: str,
    obligations: Sequence[Obligation],
    holdings: Mapping[UnitType, int],
    prices: Mapping[UnitType, Decimal] | None = None,
) -> Block:
    """The integer programme of one supplier (``prices`` given: the least-cost plan)."""
    block = Block(supplier, {o.sector: o for o in obligations}, dict(holdings))
    types = sorted(set(holdings) | set(prices or {}))
    plan = prices is not None
    held_rows: dict[UnitType, list[int]] = defaultdict(list)
    side_rows: dict[tuple[str, str], list[int]] = defaultdict(list)  # vrije ruimte and caps
    for ob in sorted(obligations, key=lambda o: SECTORS.index(o.sector)):
        s = ob.sector
        for part, size in _parts(ob).items():
            block.part_sizes[(s, part)] = size
            members = []
            for t in types:
                if not _eligible(ob, t, part):
                    continue
                i = len(block.cols)
                block.cols.append(Col("x", t, s, part))
                block.cost2.append(0.0 if plan else float(t.category in SCARCE))
                members.append(i)
                held_rows[t].append(i)
                if t.origin_sector != s:
                    side_rows[(s, "vrije_ruimte")].append(i)
                if t.category in LIMITED:
                    side_rows[(s, LIMITED[t.category])].append(i)
            block.rows.append(Row(f"{s} part {part}", -_INF, float(size), members))
    if plan:
        assert prices is not None
        for t in types:
            if t in prices:
                # Σ x[·, t, ·] − p[t] ≤ held[t]: the purchase column has coefficient −1 (_coef).
                held_rows[t].append(len(block.cols))
                block.cols.append(Col("p", t))
                block.cost2.append(float(prices[t]))
    for t, members in held_rows.items():
        label = f"held {t.origin_sector}/{t.category}"
        block.rows.append(Row(label, -_INF, float(holdings.get(t, 0)), members))
    for (s, row), members in side_rows.items():
        label = f"{s} vrije ruimte" if row == "vrije_ruimte" else f"{s} {row}"
        block.rows.append(Row(label, -_INF, float(block.obligations[s].row(row)), members))
    return block


_banner_shown = False


def _new_highs() -> highspy.Highs:
    """A silent HiGHS instance. HiGHS prints a banner to the C-level stdout when the first
    instance of a process is created; it is sent to /dev/null so that CLI output stays clean."""
    global _banner_shown
    if not _banner_shown:
        sys.stdout.flush()
        saved = os.dup(1)
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, 1)
            h = highspy.Highs()  # type: ignore[no-untyped-call]
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            os.close(devnull)
        _banner_shown = True
    else:
        h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    # Exact optimum for the MILP fallback: the default 0.01 % relative gap would accept a plan a
    # few units worse at 10^8 units.
    h.setOptionValue("mip_rel_gap", 0.0)
    h.setOptionValue("mip_abs_gap", 1e-9)
    return h


def _coef(block: Block, col: int) -> float:
    return -1.0 if block.cols[col].kind == "p" else 1.0


def _integral(values: np.ndarray) -> bool:
    return bool(np.all(np.abs(values - np.round(values)) <= _INT_TOL))


def _solve(blocks: Sequence[Block], integer: bool) -> list[np.ndarray | None]:
    """Two-stage lexicographic solve of independent blocks together; returns each block's x.

    Stage 1 maximises the units surrendered (minimises the shortfall); stage 2 fixes each block's
    coverage at exactly its stage-1 optimum and minimises the second objective. A block whose
    relaxed stage-1 optimum is not a whole number gets ``None`` (the caller solves it as a MILP).
    """
    h = _new_highs()
    offsets, n = [], 0
    for b in blocks:
        offsets.append(n)
        n += len(b.cols)
    if n == 0:
        return [np.zeros(0) for _ in blocks]
    cost1 = np.zeros(n)
    for b, off in zip(blocks, offsets, strict=True):
        for i, c in enumerate(b.cols):
            if c.kind == "x":
                cost1[off + i] = -1.0
    h.addVars(n, np.zeros(n), np.full(n, _INF))
    h.changeColsCost(n, np.arange(n, dtype=np.int32), cost1)
    if integer:
        h.changeColsIntegrality(
            n, np.arange(n, dtype=np.int32), np.full(n, highspy.HighsVarType.kInteger)
        )
    lower: list[float] = []
    upper: list[float] = []
    starts: list[int] = []
    index: list[int] = []
    value: list[float] = []
    for b, off in zip(blocks, offsets, strict=True):
        for r in b.rows:
            lower.append(r.lower)
            upper.append(r.upper)
            starts.append(len(index))
            index.extend(off + c for c in r.cols)
            value.extend(_coef(b, c) for c in r.cols)
    h.addRows(
        len(lower),
        np.array(lower),
        np.array(upper),
        len(index),
        np.array(starts, dtype=np.int32),
        np.array(index, dtype=np.int32),
        np.array(value),
    )
    _run(h)
    x1 = np.array(h.getSolution().col_value)
    # Stage 2: keep each block's coverage at its optimum, minimise the second objective.
    lower, upper, starts, index, value = [], [], [], [], []
    fractional: set[int] = set()
    for k, (b, off) in enumerate(zip(blocks, offsets, strict=True)):
        xs = [off + i for i, c in enumerate(b.cols) if c.kind == "x"]
        if not xs:
            continue
        total = float(x1[xs].sum())
        if abs(total - round(total)) > _INT_TOL:
            fractional.add(k)
            continue
        lower.append(float(round(total)))
        upper.append(_INF)
        starts.append(len(index))
        index.extend(xs)
        value.extend([1.0] * len(xs))
    if lower:
        h.addRows(
            len(lower),
            np.array(lower),
            np.array(upper),
            len(index),
            np.array(starts, dtype=np.int32),
            np.array(index, dtype=np.int32),
            np.array(value),
        )
    cost2 = np.concatenate([np.array(b.cost2, dtype=float) for b in blocks])
    h.changeColsCost(n, np.arange(n, dtype=np.int32), cost2)
    _run(h)
    x2 = np.array(h.getSolution().col_value)
    return [
        None if k in fractional else x2[off : off + len(b.cols)]
        for k, (b, off) in enumerate(zip(blocks, offsets, strict=True))
    ]


def _run(h: highspy.Highs) -> None:
    h.run()
    status = h.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:
        raise KetenError(
            msg(
                "the allocation solver did not find an optimum (%(status)s)",
                status=h.modelStatusToString(status),
            )
        )


def solve(blocks: Sequence[Block]) -> list[dict[int, int]]:
    """Integer solution of each block: column index → value (zeros left out)."""
    relaxed: list[np.ndarray | None] = []
    for start in range(0, len(blocks), CHUNK):
        relaxed.extend(_solve(blocks[start : start + CHUNK], integer=False))
    out: list[dict[int, int] | None] = []
    retry: list[int] = []
    for k, x in enumerate(relaxed):
        if x is not None and _integral(x):
            out.append({i: int(v) for i, v in enumerate(np.round(x)) if v != 0})
        else:
            out.append(None)
            retry.append(k)
    for k in retry:
        (x,) = _solve([blocks[k]], integer=True)
        if x is None:  # cannot happen for a MILP: its optimum is integral
            raise KetenError(
                msg(
                    "%(supplier)s: the solver returned a fractional optimum",
                    supplier=blocks[k].supplier,
                )
            )
        out[k] = {i: int(v) for i, v in enumerate(np.round(x)) if v != 0}
    for k, (b, o) in enumerate(zip(blocks, out, strict=True)):
        if o is not None and any(b.cols[i].kind == "p" and b.cost2[i] == 0.0 for i in o):
            out[k] = _fewest_free(b, o)
    result = [_canonical(b, o) if o is not None else {} for b, o in zip(blocks, out, strict=True)]
    for b, sol in zip(blocks, result, strict=True):
        verify(b, sol)
    return result


def _fewest_free(block: Block, sol: dict[int, int]) -> dict[int, int]:
    """A least-cost plan that buys no more free units (price 0) than it needs (EV-18).

    At price 0 every purchase ties, so the cost stage may buy free units the supplier does not
    need, or in place of units it holds. Third stage, exact: the same units surrendered, every
    priced purchase fixed at its amount (so the cost is the same), the fewest free units bought.
    """
    h = _new_highs()
    n = len(block.cols)
    lower = np.zeros(n)
    upper = np.full(n, _INF)
    cost = np.zeros(n)
    for i, c in enumerate(block.cols):
        if c.kind == "p" and block.cost2[i] != 0.0:
            lower[i] = upper[i] = float(sol.get(i, 0))
        elif c.kind == "p":
            cost[i] = 1.0
    h.addVars(n, lower, upper)
    h.changeColsCost(n, np.arange(n, dtype=np.int32), cost)
    h.changeColsIntegrality(
        n, np.arange(n, dtype=np.int32), np.full(n, highspy.HighsVarType.kInteger)
    )
    rows = [(r.lower, r.upper, r.cols, [_coef(block, c) for c in r.cols]) for r in block.rows]
    xs = [i for i, c in enumerate(block.cols) if c.kind == "x"]
    covered = float(sum(v for i, v in sol.items() if block.cols[i].kind == "x"))
    rows.append((covered, _INF, xs, [1.0] * len(xs)))
    for lo, up, cols, coefs in rows:
        h.addRow(lo, up, len(cols), np.array(cols, dtype=np.int32), np.array(coefs))
    _run(h)
    x = np.round(np.array(h.getSolution().col_value))
    return {i: int(v) for i, v in enumerate(x) if v != 0}


def _canonical(block: Block, sol: dict[int, int]) -> dict[int, int]:
    """The same plan with every sub-obligation filled first from the units of its category.

    A unit of a sub-obligation's category may sit in the sub-obligation's part or in the general
    part; the solver's choice is arbitrary. Moving it into its own part, while there is room,
    changes no total (holdings, vrije ruimte and caps sum over parts), so the parts report the
    sub-obligations truly met (EV-15).
    """
    index = {(c.sector, c.unit_type, c.part): i for i, c in enumerate(block.cols) if c.kind == "x"}
    filled: dict[tuple[str, str], int] = defaultdict(int)
    for i, v in sol.items():
        c = block.cols[i]
        if c.kind == "x":
            filled[(c.sector, c.part)] += v
    out = dict(sol)
    for (sector, part), size in block.part_sizes.items():
        if part == GENERAL:
            continue
        for i in sorted(out):
            c = block.cols[i]
            room = size - filled[(sector, part)]
            if room <= 0:
                break
            if c.kind != "x" or c.sector != sector or c.part != GENERAL:
                continue
            if c.unit_type.category != part:
                continue
            move = min(room, out[i])
            target = index[(sector, c.unit_type, part)]
            out[i] -= move
            out[target] = out.get(target, 0) + move
            filled[(sector, part)] += move
    return {i: v for i, v in out.items() if v != 0}


def verify(block: Block, sol: Mapping[int, int]) -> None:
    """Check a plan against every constraint in exact integers; raise if one is broken."""
    for i, v in sol.items():
        if v < 0:
            raise KetenError(
                msg(
                    "%(supplier)s: negative amount in plan (%(column)s)",
                    supplier=block.supplier,
                    column=block.cols[i],
                )
            )
    for r in block.rows:
        total = sum(int(_coef(block, c)) * sol.get(c, 0) for c in r.cols)
        if total > r.upper or total < r.lower:
            raise KetenError(
                msg(
                    "%(supplier)s: plan breaks '%(row)s' (%(total)s)",
                    supplier=block.supplier,
                    row=r.label,
                    total=total,
                )
            )
