"""Tender award on MKI (gunnen op MKI) and the penalty after award (research/mki.md §2.1).

Two named methods:

* ``mki-w`` (MKI-Waardering, RWS standard since 27 May 2024):
  ``fictitious price = price + factor × MKI``;
* ``bounded`` (boven-/ondergrens): a fictitious discount, linear between the upper and the lower
  MKI bound up to the maximum discount (MKI-12):
  ``discount = max_discount × min(1, max(0, (upper − MKI) / (upper − lower)))``,
  ``fictitious price = price − discount``.

Ranking: lowest fictitious price first; equal fictitious prices share a rank (MKI-14).
Penalty after award: ``factor × advantage``, where the advantage is the fictitious price with the
delivered MKI minus the one with the offered MKI, when positive (MKI-12; default factor 1.5).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from keten.core.errors import RuleError
from keten.core.messages import msg
from keten.core.quantity import LEGAL_CONTEXT, ZERO, div, tidy
from keten.core.trace import Trace

METHODS: Final = ("mki-w", "bounded")


@dataclass(frozen=True)
class Bid:
    bidder: str
    price_eur: Decimal
    mki_eur: Decimal


@dataclass(frozen=True)
class Method:
    """The award rule of one tender with its parameters (set by the tender, not by law)."""

    name: str
    factor: Decimal | None = None
    upper: Decimal | None = None
    lower: Decimal | None = None
    max_discount: Decimal | None = None

    def __post_init__(self) -> None:
        if self.name == "mki-w":
            if self.factor is None:
                raise RuleError(msg("method mki-w needs --factor"))
            if self.factor < 0:
                raise RuleError(msg("the MKI-W factor must not be negative"))
        elif self.name == "bounded":
            if self.upper is None or self.lower is None or self.max_discount is None:
                raise RuleError(msg("method bounded needs --upper, --lower and --max-discount"))
            if self.lower < 0:
                raise RuleError(msg("the lower MKI bound must not be negative"))
            if self.upper <= self.lower:
                raise RuleError(msg("the upper MKI bound must be above the lower bound"))
            if self.max_discount < 0:
                raise RuleError(msg("the maximum discount must not be negative"))
        else:
            raise RuleError(
                msg(
                    "unknown method %(method)s (expected %(methods)s)",
                    method=repr(self.name),
                    methods=", ".join(METHODS),
                )
            )

    def discount(self, mki: Decimal) -> Decimal:
        """The MKI's effect on the fictitious price, as an amount added (mki-w) or subtracted."""
        if self.name == "mki-w":
            assert self.factor is not None
            return LEGAL_CONTEXT.multiply(self.factor, mki)
        assert self.upper is not None and self.lower is not None and self.max_discount is not None
        share = div(self.upper - mki, self.upper - self.lower)
        share = min(Decimal(1), max(ZERO, share))
        return LEGAL_CONTEXT.multiply(self.max_discount, share)

    def fictitious(self, price: Decimal, mki: Decimal) -> Decimal:
        if self.name == "mki-w":
            return LEGAL_CONTEXT.add(price, self.discount(mki))
        return LEGAL_CONTEXT.subtract(price, self.discount(mki))

    def formula(self, price: Decimal, mki: Decimal) -> str:
        if self.name == "mki-w":
            return f"{tidy(price)} + {tidy(self.factor or ZERO)} × {tidy(mki)}"
        assert self.upper is not None and self.lower is not None and self.max_discount is not None
        return (
            f"{tidy(price)} − {tidy(self.max_discount)} × clamp(({tidy(self.upper)} − {tidy(mki)})"
            f" / ({tidy(self.upper)} − {tidy(self.lower)}), 0, 1)"
        )


def rank_bids(bids: list[Bid], method: Method, trace: Trace) -> list[dict[str, Any]]:
    """Ranked bids with the full calculation in ``trace`` (MKI-12, MKI-14)."""
    seen: set[str] = set()
    for b in bids:
        if b.bidder in seen:
            raise RuleError(msg("bidder %(bidder)s appears twice", bidder=b.bidder))
        seen.add(b.bidder)
        if b.price_eur < 0:
            raise RuleError(msg("bidder %(bidder)s: price must not be negative", bidder=b.bidder))
        if b.mki_eur < 0:
            raise RuleError(
                msg("bidder %(bidder)s: MKI must not be negative (MKI-14)", bidder=b.bidder)
            )
    if not bids:
        raise RuleError(msg("no bids"))
    scored = [(method.fictitious(b.price_eur, b.mki_eur), b) for b in bids]
    scored.sort(key=lambda s: (s[0], s[1].bidder))
    rows: list[dict[str, Any]] = []
    rank = 0
    previous: Decimal | None = None
    for position, (fict, b) in enumerate(scored, start=1):
        if fict != previous:
            rank = position
            previous = fict
        tied = sum(1 for f, _ in scored if f == fict) > 1
        trace.step(
            f"bid {b.bidder}",
            method.formula(b.price_eur, b.mki_eur),
            f"{tidy(fict)} EUR, rank {rank}{' (tie)' if tied else ''}",
            "MKI-12" if method.name == "bounded" else "MKI-W",
        )
        rows.append(
            {
                "bidder": b.bidder,
                "price_eur": tidy(b.price_eur),
                "mki_eur": tidy(b.mki_eur),
                "fictitious_price_eur": tidy(fict),
                "rank": rank,
                "tie": tied,
            }
        )
    return rows


def penalty(
    method: Method,
    offered_mki: Decimal,
    delivered_mki: Decimal,
    trace: Trace,
    day: dt.date,
    factor: Decimal | None = None,
) -> dict[str, Any]:
    """Penalty when the delivered MKI is worse than offered: factor × advantage (MKI-12)."""
    if offered_mki < 0 or delivered_mki < 0:
        raise RuleError(msg("MKI must not be negative (MKI-14)"))
    if factor is None:
        factor = trace.record(trace.params.at("mki.award.penalty_factor", day))
    elif factor < 0:
        raise RuleError(msg("the penalty factor must not be negative"))
    advantage = LEGAL_CONTEXT.subtract(
        method.fictitious(ZERO, delivered_mki), method.fictitious(ZERO, offered_mki)
    )
    advantage = max(ZERO, advantage)
    amount = LEGAL_CONTEXT.multiply(factor, advantage)
    trace.step(
        "advantage gained",
        f"fictitious price with delivered MKI {tidy(delivered_mki)} − with offered MKI "
        f"{tidy(offered_mki)} (not below 0)",
        f"{tidy(advantage)} EUR",
        "MKI-12",
    )
    trace.step("penalty", f"{tidy(factor)} × {tidy(advantage)}", f"{tidy(amount)} EUR", "MKI-12")
    return {
        "method": method.name,
        "offered_mki_eur": tidy(offered_mki),
        "delivered_mki_eur": tidy(delivered_mki),
        "advantage_eur": tidy(advantage),
        "penalty_factor": tidy(factor),
        "penalty_eur": tidy(amount),
    }
