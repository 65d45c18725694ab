"""count plans (issue #12): plans, their tasks' plan, assignee and due time, an item's unit
cost and category

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "count_plans",
        sa.Column("plan_id", sa.String(64), primary_key=True),
        sa.Column("store_id", sa.String(64), sa.ForeignKey("stores.store_id"), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("op_id", sa.String(36)),
        sa.Column("device_id", sa.String(64)),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_count_plans_store", "count_plans", ["store_id", "due_at"])
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("plan_id", sa.String(64)))
        batch.add_column(sa.Column("assignee", sa.String(64)))
        batch.add_column(sa.Column("due_at", sa.DateTime(timezone=True)))
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("unit_cost", sa.Numeric(12, 2)))
        batch.add_column(sa.Column("category", sa.String(60)))


def downgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.drop_column("category")
        batch.drop_column("unit_cost")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("due_at")
        batch.drop_column("assignee")
        batch.drop_column("plan_id")
    op.drop_index("ix_count_plans_store", "count_plans")
    op.drop_table("count_plans")
