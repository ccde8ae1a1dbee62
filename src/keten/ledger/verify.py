"""``keten registry verify``: every invariant of the ledger, checked from the stored data.

1. conservation per lot: created = held on holding accounts + surrendered + cancelled;
2. the issuance account gave out exactly what each lot created;
3. the materialised balances equal the postings, and none is negative;
4. units on hold equal the open holds, and never exceed the balance;
5. every movement has an actor, a reason, a time, a request key and at least one posting;
6. the audit log's hash chain is intact (no event edited, removed or inserted).
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from keten.ledger import audit
from keten.store.models import Account, Balance, Hold, Lot, Movement, Posting


def verify(session: Session) -> list[str]:
    """All problems found; an empty list means every invariant holds."""
    problems: list[str] = []
    kinds = {a.id: a.kind for a in session.execute(select(Account)).scalars()}
    net: dict[tuple[int, int], int] = defaultdict(int)  # (account, lot) → credits − debits
    for lot_id, debit, credit, amount in session.execute(
        select(Posting.lot_id, Posting.debit_id, Posting.credit_id, Posting.amount)
    ):
        net[(debit, lot_id)] -= amount
        net[(credit, lot_id)] += amount
    balances = {(b.account_id, b.lot_id): b for b in session.execute(select(Balance)).scalars()}
    lots = {lot.id: lot for lot in session.execute(select(Lot)).scalars()}
    per_lot: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (acc, lot_id), amount in net.items():
        per_lot[lot_id][kinds.get(acc, "?")] += amount
        if kinds.get(acc) == "holding":
            if amount < 0:
                problems.append(f"account {acc} lot {lot_id}: negative balance {amount}")
            bal = balances.get((acc, lot_id))
            if bal is None and amount != 0:
                problems.append(f"account {acc} lot {lot_id}: postings give {amount}, no balance")
            elif bal is not None and bal.amount != amount:
                problems.append(
                    f"account {acc} lot {lot_id}: balance {bal.amount} but postings give {amount}"
                )
    for (acc, lot_id), bal in balances.items():
        if (acc, lot_id) not in net and bal.amount != 0:
            problems.append(f"account {acc} lot {lot_id}: balance {bal.amount} without postings")
        if bal.amount < 0 or bal.held < 0 or bal.held > bal.amount:
            problems.append(f"account {acc} lot {lot_id}: balance {bal.amount}, held {bal.held}")
    for lot_id, lot in lots.items():
        sums = per_lot.get(lot_id, {})
        if -sums.get("issuance", 0) != lot.created:
            problems.append(
                f"lot {lot_id}: created {lot.created} but issued {-sums.get('issuance', 0)}"
            )
        placed = sums.get("holding", 0) + sums.get("surrender", 0) + sums.get("cancel", 0)
        if placed != lot.created:
            problems.append(
                f"lot {lot_id}: created {lot.created} ≠ held {sums.get('holding', 0)} + "
                f"surrendered {sums.get('surrender', 0)} + cancelled {sums.get('cancel', 0)}"
            )
    for lot_id in per_lot:
        if lot_id not in lots:
            problems.append(f"postings refer to unknown lot {lot_id}")
    held: dict[tuple[int, int], int] = defaultdict(int)
    for h in session.execute(select(Hold).where(Hold.released_at.is_(None))).scalars():
        held[(h.account_id, h.lot_id)] += h.amount
    for key in set(held) | {k for k, b in balances.items() if b.held}:
        have = balances[key].held if key in balances else 0
        if have != held.get(key, 0):
            problems.append(f"account {key[0]} lot {key[1]}: held {have} ≠ open holds {held[key]}")
    posted = dict(
        session.execute(
            select(Posting.movement_id, func.count()).group_by(Posting.movement_id)
        ).all()
    )
    for m in session.execute(select(Movement)).scalars():
        if not (m.actor or "").strip() or not (m.reason or "").strip() or m.at is None:
            problems.append(f"movement {m.id}: missing actor, reason or time")
        if not m.request_key:
            problems.append(f"movement {m.id}: no request key")
        if not posted.get(m.id):
            problems.append(f"movement {m.id}: no postings")
    problems.extend(audit.verify_chain(session))
    return problems
