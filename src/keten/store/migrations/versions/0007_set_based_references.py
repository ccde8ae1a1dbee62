"""set-based reference checks for the bulk tables (PostgreSQL)

On PostgreSQL a foreign key is checked row by row (one trigger call and one key-share lock per
inserted row): for the postings of a year-end closing (millions of rows) and the sessions of a bulk
import that is most of the time spent. On PostgreSQL this migration replaces those foreign keys —
ledger_posting.movement_id/lot_id/debit_id/credit_id and reg_charging_session.booking_id — by
statement-level constraint triggers with transition tables: one set-based check per statement
that every referenced row exists (error 23503, foreign_key_violation, like a foreign key), and on
the referenced tables one check per DELETE/UPDATE statement that no posting or session is left
pointing at a removed key (EV-29). SQLite keeps its foreign keys (checked in-process, cheap).

Revision ID: 0007
Revises: 0010
"""

from alembic import op

revision = "0007"
down_revision = "0010"  # after 0006 → 0010 (PACT, another engineer); see the report
branch_labels = None
depends_on = None

# child table, column, parent table, foreign key name (as PostgreSQL named it)
REFERENCES = (
    ("ledger_posting", "movement_id", "ledger_movement", "ledger_posting_movement_id_fkey"),
    ("ledger_posting", "lot_id", "ledger_lot", "ledger_posting_lot_id_fkey"),
    ("ledger_posting", "debit_id", "ledger_account", "ledger_posting_debit_id_fkey"),
    ("ledger_posting", "credit_id", "ledger_account", "ledger_posting_credit_id_fkey"),
    (
        "reg_charging_session",
        "booking_id",
        "reg_booking",
        "reg_charging_session_booking_id_fkey",
    ),
)
CHILDREN = ("ledger_posting", "reg_charging_session")
PARENTS = ("ledger_movement", "ledger_lot", "ledger_account", "reg_booking")


def _child_check(child: str) -> str:
    refs = [(col, parent) for c, col, parent, _ in REFERENCES if c == child]
    missing = " OR ".join(
        f"NOT EXISTS (SELECT 1 FROM {parent} p WHERE p.id = n.{col})" for col, parent in refs
    )
    return (
        f"CREATE FUNCTION keten_refs_{child}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF EXISTS (SELECT 1 FROM keten_new n WHERE {missing}) THEN "
        f"RAISE EXCEPTION '{child}: a row refers to a missing "
        f"{', '.join(f'{p}.id' for _, p in refs)}' USING ERRCODE = '23503'; "
        "END IF; RETURN NULL; END $$"
    )


def _parent_check(parent: str) -> str:
    refs = [(child, col) for child, col, p, _ in REFERENCES if p == parent]
    orphans = " OR ".join(
        f"EXISTS (SELECT 1 FROM {child} c WHERE c.{col} = o.id)" for child, col in refs
    )
    return (
        f"CREATE FUNCTION keten_refd_{parent}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF EXISTS (SELECT 1 FROM keten_old o WHERE NOT EXISTS "
        f"(SELECT 1 FROM {parent} k WHERE k.id = o.id) AND ({orphans})) THEN "
        f"RAISE EXCEPTION '{parent}: a removed row is still referred to' "
        "USING ERRCODE = '23503'; END IF; RETURN NULL; END $$"
    )


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for child, _col, _parent, fk in REFERENCES:
        op.execute(f"ALTER TABLE {child} DROP CONSTRAINT {fk}")
    for child in CHILDREN:
        op.execute(_child_check(child))
        for event in ("INSERT", "UPDATE"):
            op.execute(
                f"CREATE TRIGGER keten_refs_{child}_{event.lower()} AFTER {event} ON {child} "
                f"REFERENCING NEW TABLE AS keten_new FOR EACH STATEMENT "
                f"EXECUTE FUNCTION keten_refs_{child}()"
            )
    for parent in PARENTS:
        op.execute(_parent_check(parent))
        for event in ("DELETE", "UPDATE"):
            op.execute(
                f"CREATE TRIGGER keten_refd_{parent}_{event.lower()} AFTER {event} ON {parent} "
                f"REFERENCING OLD TABLE AS keten_old FOR EACH STATEMENT "
                f"EXECUTE FUNCTION keten_refd_{parent}()"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for parent in PARENTS:
        for event in ("delete", "update"):
            op.execute(f"DROP TRIGGER keten_refd_{parent}_{event} ON {parent}")
        op.execute(f"DROP FUNCTION keten_refd_{parent}()")
    for child in CHILDREN:
        for event in ("insert", "update"):
            op.execute(f"DROP TRIGGER keten_refs_{child}_{event} ON {child}")
        op.execute(f"DROP FUNCTION keten_refs_{child}()")
    for child, col, parent, fk in REFERENCES:
        op.execute(
            f"ALTER TABLE {child} ADD CONSTRAINT {fk} FOREIGN KEY ({col}) REFERENCES {parent} (id)"
        )
