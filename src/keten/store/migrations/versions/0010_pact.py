"""pact data exchange: organisations, oauth clients, tokens, footprints, shares, events

Revision ID: 0010
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0006"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "pact_org",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "pact_client",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("secret_hash", sa.String(length=200), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("revoked_at", TZ, nullable=True),
        sa.ForeignKeyConstraint(["org_id"], ["pact_org.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("client_id"),
    )
    op.create_index("ix_pact_client_org_id", "pact_client", ["org_id"])
    op.create_table(
        "pact_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("client_pk", sa.Integer(), nullable=False),
        sa.Column("issued_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(["client_pk"], ["pact_client.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_pact_token_client_pk", "pact_token", ["client_pk"])
    op.create_table(
        "pact_footprint",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("pf_id", sa.String(length=36), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created", TZ, nullable=False),
        sa.Column("valid_start", TZ, nullable=False),
        sa.Column("valid_end", TZ, nullable=False),
        sa.Column("valid_end_declared", TZ, nullable=True),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("stored_at", TZ, nullable=False),
        sa.CheckConstraint("status IN ('Active', 'Deprecated')", name="ck_pact_footprint_status"),
        sa.ForeignKeyConstraint(["owner_id"], ["pact_org.id"]),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("pf_id"),
    )
    op.create_index("ix_pact_footprint_owner_id", "pact_footprint", ["owner_id"])
    op.create_index("ix_pact_footprint_status", "pact_footprint", ["status"])
    op.create_index("ix_pact_footprint_valid_start", "pact_footprint", ["valid_start"])
    op.create_table(
        "pact_footprint_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("footprint_seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("value", sa.String(length=2000), nullable=False),
        sa.CheckConstraint(
            "kind IN ('product', 'company', 'classification', 'geography')",
            name="ck_pact_footprint_key_kind",
        ),
        sa.ForeignKeyConstraint(["footprint_seq"], ["pact_footprint.seq"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("footprint_seq", "kind", "value", name="uq_pact_footprint_key"),
    )
    op.create_index("ix_pact_footprint_key_footprint_seq", "pact_footprint_key", ["footprint_seq"])
    op.create_index("ix_pact_footprint_key_kind_value", "pact_footprint_key", ["kind", "value"])
    op.create_table(
        "pact_share",
        sa.Column("footprint_seq", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("shared_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(["footprint_seq"], ["pact_footprint.seq"]),
        sa.ForeignKeyConstraint(["org_id"], ["pact_org.id"]),
        sa.PrimaryKeyConstraint("footprint_seq", "org_id"),
    )
    op.create_index("ix_pact_share_org", "pact_share", ["org_id"])
    op.create_table(
        "pact_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("client_pk", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=500), nullable=False),
        sa.Column("source", sa.String(length=2000), nullable=False),
        sa.Column("type", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_hash", sa.String(length=64), nullable=False),
        sa.Column("received_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(["client_pk"], ["pact_client.id"]),
        sa.ForeignKeyConstraint(["org_id"], ["pact_org.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("org_id", "source", "event_id", name="uq_pact_event_source_id"),
    )
    op.create_index("ix_pact_event_org_id", "pact_event", ["org_id"])


def downgrade() -> None:
    op.drop_index("ix_pact_event_org_id", table_name="pact_event")
    op.drop_table("pact_event")
    op.drop_index("ix_pact_share_org", table_name="pact_share")
    op.drop_table("pact_share")
    op.drop_index("ix_pact_footprint_key_kind_value", table_name="pact_footprint_key")
    op.drop_index("ix_pact_footprint_key_footprint_seq", table_name="pact_footprint_key")
    op.drop_table("pact_footprint_key")
    op.drop_index("ix_pact_footprint_valid_start", table_name="pact_footprint")
    op.drop_index("ix_pact_footprint_status", table_name="pact_footprint")
    op.drop_index("ix_pact_footprint_owner_id", table_name="pact_footprint")
    op.drop_table("pact_footprint")
    op.drop_index("ix_pact_token_client_pk", table_name="pact_token")
    op.drop_table("pact_token")
    op.drop_index("ix_pact_client_org_id", table_name="pact_client")
    op.drop_table("pact_client")
    op.drop_table("pact_org")
