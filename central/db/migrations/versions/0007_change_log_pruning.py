"""change-log pruning: when the pruning job saw each store's change-seq, and the oldest
change a store still keeps (a cursor older than it gets `reset`)

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "change_marks",
        sa.Column("store_id", sa.String(64), primary_key=True),
        sa.Column("change_seq", sa.BigInteger, primary_key=True),
        sa.Column("marked_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "change_horizons",
        sa.Column("store_id", sa.String(64), primary_key=True),
        sa.Column("pruned_seq", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("change_horizons")
    op.drop_table("change_marks")
