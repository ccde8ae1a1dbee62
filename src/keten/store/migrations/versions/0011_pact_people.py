"""pact people: the role ketenpartner and reg_user.pact_org_id (a person's PACT organisation)

A ketenpartner is a company's person who enters and shares its PACT product footprints in the
web application (issue 7); ``reg_user.pact_org_id`` links them to their ``pact_org``. The role
check ``ck_user_role`` gains 'ketenpartner'.

PostgreSQL alters the table in place. SQLite can change a CHECK constraint only by rebuilding
the table, and other tables refer to ``reg_user`` while ``PRAGMA foreign_keys`` is on (it cannot
be switched off inside the migration's transaction). So, with ``PRAGMA defer_foreign_keys``
(foreign keys checked at commit; the pragma ends with the transaction): copy the rows aside,
drop ``reg_user`` (its referring rows count as violations for now), create it anew under the
same name and copy the rows back — inserting a parent row clears the violations of the rows that
refer to it, so the commit finds none. (Alembic's batch mode builds the new table under a
temporary name and renames it, which does not clear them.)

Revision ID: 0011
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0007"
branch_labels = None
depends_on = None

OLD_ROLES = "role IN ('rekeningbevoegde', 'fiatteur', 'verificateur', 'toezichthouder')"
NEW_ROLES = (
    "role IN ('rekeningbevoegde', 'fiatteur', 'verificateur', 'toezichthouder', 'ketenpartner')"
)
COLUMNS = "id, username, password_hash, role, holder_id, active, created_at"


def _user_table(roles: str, with_org: bool) -> sa.Table:
    cols: list[sa.Column[object] | sa.Constraint] = [
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(100), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("role", sa.String(30), nullable=False),
        sa.Column("holder_id", sa.Integer(), sa.ForeignKey("reg_holder.id"), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    ]
    if with_org:
        cols.append(
            sa.Column(
                "pact_org_id",
                sa.Integer(),
                sa.ForeignKey("pact_org.id", name="fk_reg_user_pact_org_id"),
                nullable=True,
            )
        )
    cols.append(sa.CheckConstraint(roles, name="ck_user_role"))
    meta = sa.MetaData()
    sa.Table("reg_holder", meta, sa.Column("id", sa.Integer(), primary_key=True))
    sa.Table("pact_org", meta, sa.Column("id", sa.Integer(), primary_key=True))
    return sa.Table("reg_user", meta, *cols)


def _rebuild_sqlite(roles: str, with_org: bool) -> None:
    bind = op.get_bind()
    columns = COLUMNS + (", pact_org_id" if with_org else "")
    kept = COLUMNS + (", NULL" if with_org else "")
    op.execute("PRAGMA defer_foreign_keys = ON")
    op.execute(f"CREATE TEMPORARY TABLE keten_reg_user_copy AS SELECT {kept} FROM reg_user")
    op.execute("DROP TABLE reg_user")
    table = _user_table(roles, with_org)
    table.create(bind)
    op.execute(f"INSERT INTO reg_user ({columns}) SELECT * FROM keten_reg_user_copy")
    op.execute("DROP TABLE keten_reg_user_copy")
    op.create_index("ix_reg_user_holder_id", "reg_user", ["holder_id"])
    if with_org:
        op.create_index("ix_reg_user_pact_org_id", "reg_user", ["pact_org_id"])


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite(NEW_ROLES, with_org=True)
        return
    op.add_column("reg_user", sa.Column("pact_org_id", sa.Integer(), nullable=True))
    op.create_foreign_key(
        "fk_reg_user_pact_org_id", "reg_user", "pact_org", ["pact_org_id"], ["id"]
    )
    op.create_index("ix_reg_user_pact_org_id", "reg_user", ["pact_org_id"])
    op.drop_constraint("ck_user_role", "reg_user", type_="check")
    op.create_check_constraint("ck_user_role", "reg_user", NEW_ROLES)


def downgrade() -> None:
    bind = op.get_bind()
    left = bind.execute(sa.text("SELECT count(*) FROM reg_user WHERE role = 'ketenpartner'"))
    if left.scalar_one():
        raise RuntimeError("reg_user holds ketenpartners; remove them before this downgrade")
    if bind.dialect.name == "sqlite":
        _rebuild_sqlite(OLD_ROLES, with_org=False)
        return
    op.drop_constraint("ck_user_role", "reg_user", type_="check")
    op.create_check_constraint("ck_user_role", "reg_user", OLD_ROLES)
    op.drop_index("ix_reg_user_pact_org_id", table_name="reg_user")
    op.drop_constraint("fk_reg_user_pact_org_id", "reg_user", type_="foreignkey")
    op.drop_column("reg_user", "pact_org_id")
