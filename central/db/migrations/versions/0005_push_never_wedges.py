"""a push never wedges: an op_id is unique only among the results that used it; exceptions
about stock name their sku and location

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# results that applied nothing under their op_id: a refused reuse of it, a quarantined op
USED = "code IS NULL OR code NOT IN ('OP_ID_REUSED', 'QUARANTINED')"


def upgrade() -> None:
    with op.batch_alter_table("op_results") as batch:
        batch.drop_constraint("uq_op_results_op_id", type_="unique")
    op.create_index(
        "uq_op_results_used_op_id",
        "op_results",
        ["op_id"],
        unique=True,
        sqlite_where=sa.text(USED),
        postgresql_where=sa.text(USED),
    )
    with op.batch_alter_table("exceptions") as batch:
        batch.add_column(sa.Column("sku", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("location", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("exceptions") as batch:
        batch.drop_column("location")
        batch.drop_column("sku")
    op.drop_index("uq_op_results_used_op_id", table_name="op_results")
    with op.batch_alter_table("op_results") as batch:
        batch.create_unique_constraint("uq_op_results_op_id", ["op_id"])
