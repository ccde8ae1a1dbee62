"""Year-end closing (jaarafsluiting) of year Y.

1. Obligations of every holder from its registered deliveries of Y (``keten.ev.obligation``).
2. The units a holder can use: free units (not on hold) of vintage Y or earlier (EV-23).
3. Surrender per the engine's best allocation (``keten.ev.compliance``); within a unit type the
   oldest vintage goes first (EV-23).
4. Shortfall per holder and sector, and a penalty = shortfall × ``ev.register.penalty_per_unit``
   (an assumption, flagged).
5. Banking: of the free units of vintage ≤ Y left, a holder keeps up to its banking limit —
   max(``banking_share`` × total obligation, ``banking_minimum``) for a holder with an
   obligation, ``banking_minimum`` for others — filled in the order annex-ixa, rfnbo, other,
   annex-ixb, conventional (newest vintage first); the rest is cancelled (EV-24).

``plan`` computes all of it without writing. ``run`` applies it in one transaction, once per year:
a second run for the same year changes nothing and returns the first run's summary.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from keten.core.errors import KetenError
from keten.core.quantity import mul, percent, round_down
from keten.ev.compliance import compliance
from keten.ev.model import Delivery as DeliveryRecord
from keten.ev.model import Holding, UnitType
from keten.ev.obligation import obligations
from keten.ledger import audit
from keten.ledger.service import Line
from keten.registry.service import Actor, AuthError, Registry
from keten.store.models import Account, Balance, Closing, Delivery, Holder, Lot

BANKING_ORDER = ("annex-ixa", "rfnbo", "other", "annex-ixb", "conventional")


@dataclass
class HolderClosing:
    holder: str
    obligation_total: int
    shortfall_by_sector: dict[str, int]
    shortfall_total: int
    penalty_eur: str
    surrender: list[tuple[str, int, int]] = field(default_factory=list)  # type, vintage, amount
    banking_limit: int = 0
    banked: list[tuple[str, int, int]] = field(default_factory=list)
    cancel: list[tuple[str, int, int]] = field(default_factory=list)


@dataclass
class ClosingPlan:
    year: int
    parameter_set: str
    holders: list[HolderClosing]

    def to_dict(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "parameter_set": self.parameter_set,
            "holders": [asdict(h) for h in self.holders],
        }


def _free_units(s: Session, account: str, year: int) -> dict[tuple[str, int], int]:
    rows = s.execute(
        select(Lot.unit_type, Lot.vintage, Balance.amount - Balance.held)
        .join(Lot, Lot.id == Balance.lot_id)
        .join(Account, Account.id == Balance.account_id)
        .where(Account.name == account, Lot.vintage <= year)
    ).all()
    out: dict[tuple[str, int], int] = defaultdict(int)
    for unit_type, vintage, free in rows:
        if free > 0:
            out[(str(unit_type), int(vintage))] += int(free)
    return dict(out)


def plan(reg: Registry, year: int) -> ClosingPlan:
    """The closing of ``year`` as it would run now (nothing is written)."""
    with reg.ledger.sessions() as s:
        return plan_in(reg, s, year)


def plan_in(reg: Registry, s: Session, year: int) -> ClosingPlan:
    """``plan`` inside the caller's session (the closing run uses its write transaction)."""
    params = reg.params
    penalty = params.get("ev.register.penalty_per_unit", year).value
    share = params.get("ev.register.banking_share", year).value
    minimum = int(params.get("ev.register.banking_minimum", year).value)
    holders = s.execute(select(Holder).order_by(Holder.name)).scalars().all()
    free = {h.name: _free_units(s, h.account, year) for h in holders}
    deliveries = [
        DeliveryRecord(h.name, d.sector, d.fuel, Decimal(d.quantity), d.unit)
        for h in holders
        for d in s.execute(
            select(Delivery).where(Delivery.holder_id == h.id, Delivery.year == year)
        ).scalars()
    ]
    obs = obligations(deliveries, year, params)
    holdings = [
        Holding(name, UnitType(*unit_type.split("/", 1)), amount)
        for name, units in free.items()
        for (unit_type, _vintage), amount in units.items()
    ]
    results = {r.supplier: r for r in compliance(obs, holdings, params, year)}
    out = []
    for h in holders:
        units = dict(free[h.name])
        total = sum(o.row("total") for o in obs if o.supplier == h.name)
        result = results.get(h.name)
        closing = HolderClosing(
            holder=h.name,
            obligation_total=total,
            shortfall_by_sector=result.shortfall_by_sector if result else {},
            shortfall_total=result.shortfall_total if result else 0,
            penalty_eur=str(mul(Decimal(result.shortfall_total if result else 0), penalty)),
        )
        if result:
            need: dict[str, int] = defaultdict(int)
            for p in result.plan:
                need[f"{p.origin_sector}/{p.category}"] += p.amount
            for unit_type, amount in sorted(need.items()):
                for t, vintage in sorted(k for k in units if k[0] == unit_type):
                    if amount == 0:
                        break
                    use = min(amount, units[(t, vintage)])
                    if use:
                        closing.surrender.append((t, vintage, use))
                        units[(t, vintage)] -= use
                        amount -= use
                if amount:
                    raise KetenError(f"closing {h.name}: plan needs units the holder lacks")
        limit = max(round_down(mul(Decimal(total), percent(share))), minimum) if total else minimum
        closing.banking_limit = limit
        room = limit
        order = sorted(
            (k for k, v in units.items() if v > 0),
            key=lambda k: (BANKING_ORDER.index(k[0].split("/", 1)[1]), -k[1], k[0]),
        )
        for key in order:
            keep = min(room, units[key])
            if keep:
                closing.banked.append((key[0], key[1], keep))
                room -= keep
            if units[key] - keep:
                closing.cancel.append((key[0], key[1], units[key] - keep))
        out.append(closing)
    return ClosingPlan(year, params.name, out)


def run(reg: Registry, actor: Actor, year: int, *, key: str) -> dict[str, Any]:
    """Apply the closing of ``year`` (toezichthouder only); once per year."""
    if actor.role != "toezichthouder":
        raise AuthError(f"{actor.label} may not run the year-end closing")
    request = {"op": "close_year", "year": year}

    def apply(s: Session) -> dict[str, Any]:
        done = s.get(Closing, year)
        if done is not None:
            stored: dict[str, Any] = json.loads(done.summary)
            return stored
        closing = plan_in(reg, s, year)
        for h in closing.holders:
            account = s.execute(select(Holder.account).where(Holder.name == h.holder)).scalar_one()
            for kind, lines in (("surrender", h.surrender), ("cancel", h.cancel)):
                if lines:
                    reg.ledger.move_in(
                        s,
                        kind,
                        account,
                        None,
                        [Line(t, v, a) for t, v, a in lines],
                        actor=actor.label,
                        reason=f"jaarafsluiting {year}",
                        key=f"{key}:{kind}:{h.holder}",
                    )
        summary = closing.to_dict()
        s.add(
            Closing(year=year, run_at=reg.clock(), actor=actor.label, summary=json.dumps(summary))
        )
        audit.append(
            s,
            at=reg.clock(),
            actor=actor.label,
            action="closing.run",
            subject=str(year),
            payload={"holders": len(closing.holders)},
        )
        return summary

    return reg.ledger.run(key, request, apply)
