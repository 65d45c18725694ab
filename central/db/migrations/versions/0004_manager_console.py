"""the manager's console: each tablet's outbox as it last said; who settled an exception, how

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.add_column(sa.Column("pending_ops", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("oldest_pending_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("exceptions") as batch:
        batch.add_column(sa.Column("resolved_by", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("resolution", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("exceptions") as batch:
        batch.drop_column("resolution")
        batch.drop_column("resolved_by")
    with op.batch_alter_table("devices") as batch:
        batch.drop_column("oldest_pending_at")
        batch.drop_column("pending_ops")
