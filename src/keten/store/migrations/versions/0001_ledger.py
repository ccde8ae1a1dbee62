"""Unit ledger and audit log.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "ledger_account",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("owner", sa.String(200), nullable=True, index=True),
        sa.CheckConstraint(
            "kind IN ('holding', 'issuance', 'surrender', 'cancel')", name="ck_account_kind"
        ),
    )
    op.create_table(
        "ledger_lot",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("unit_type", sa.String(100), nullable=False, index=True),
        sa.Column("vintage", sa.Integer, nullable=False, index=True),
        sa.Column("origin", sa.String(200), nullable=False, unique=True),
        sa.Column("created", sa.BigInteger, nullable=False),
        sa.CheckConstraint("created > 0", name="ck_lot_created_positive"),
    )
    op.create_table(
        "ledger_balance",
        sa.Column("account_id", sa.Integer, sa.ForeignKey("ledger_account.id"), primary_key=True),
        sa.Column("lot_id", sa.Integer, sa.ForeignKey("ledger_lot.id"), primary_key=True),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("held", sa.BigInteger, nullable=False),
        sa.CheckConstraint("amount >= 0", name="ck_balance_not_negative"),
        sa.CheckConstraint("held >= 0 AND held <= amount", name="ck_balance_held_within"),
    )
    op.create_index("ix_balance_lot", "ledger_balance", ["lot_id"])
    op.create_table(
        "ledger_movement",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("at", TZ, nullable=False, index=True),
        sa.Column("request_key", sa.String(200), nullable=False, unique=True),
        sa.CheckConstraint("length(actor) > 0", name="ck_movement_actor"),
        sa.CheckConstraint("length(reason) > 0", name="ck_movement_reason"),
    )
    op.create_table(
        "ledger_posting",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "movement_id",
            sa.Integer,
            sa.ForeignKey("ledger_movement.id"),
            nullable=False,
            index=True,
        ),
        sa.Column("lot_id", sa.Integer, sa.ForeignKey("ledger_lot.id"), nullable=False, index=True),
        sa.Column(
            "debit_id", sa.Integer, sa.ForeignKey("ledger_account.id"), nullable=False, index=True
        ),
        sa.Column(
            "credit_id", sa.Integer, sa.ForeignKey("ledger_account.id"), nullable=False, index=True
        ),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.CheckConstraint("amount > 0", name="ck_posting_positive"),
        sa.CheckConstraint("debit_id <> credit_id", name="ck_posting_two_places"),
    )
    op.create_table(
        "ledger_hold",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "account_id", sa.Integer, sa.ForeignKey("ledger_account.id"), nullable=False, index=True
        ),
        sa.Column("lot_id", sa.Integer, sa.ForeignKey("ledger_lot.id"), nullable=False, index=True),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("placed_by", sa.String(200), nullable=False),
        sa.Column("placed_at", TZ, nullable=False),
        sa.Column("released_by", sa.String(200), nullable=True),
        sa.Column("released_at", TZ, nullable=True),
        sa.CheckConstraint("amount > 0", name="ck_hold_positive"),
    )
    op.create_table(
        "ledger_idempotency",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("result", sa.Text, nullable=False),
        sa.Column("at", TZ, nullable=False),
    )
    op.create_table(
        "audit_event",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False, unique=True),
        sa.UniqueConstraint("prev_hash", name="uq_audit_prev"),
    )
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.execute("INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '" + "0" * 64 + "')")
    # Append-only audit log: the database refuses updates and deletes.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_event_append_only() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION 'audit_event is append-only'; END; $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER audit_event_no_change BEFORE UPDATE OR DELETE ON audit_event "
            "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()"
        )
    else:
        for what in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_event_no_{what.lower()} BEFORE {what} ON audit_event "
                "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_change ON audit_event")
        op.execute("DROP FUNCTION IF EXISTS audit_event_append_only()")
    for table in (
        "audit_head",
        "audit_event",
        "ledger_idempotency",
        "ledger_hold",
        "ledger_posting",
        "ledger_movement",
        "ledger_balance",
        "ledger_lot",
        "ledger_account",
    ):
        op.drop_table(table)
