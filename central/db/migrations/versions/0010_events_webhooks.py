"""the event feed and webhooks (issue #11): events, their sequencer, subscriptions and the
delivery queue

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("pos", sa.BigInteger, unique=True),
        sa.Column("store_id", sa.String(64), nullable=False),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
    )
    op.create_index("ix_events_store_pos", "events", ["store_id", "pos"])
    op.create_index(
        "ix_events_unsequenced",
        "events",
        ["id"],
        sqlite_where=sa.text("pos IS NULL"),
        postgresql_where=sa.text("pos IS NULL"),
    )
    op.create_table(
        "event_positions",
        sa.Column("name", sa.String(20), primary_key=True),
        sa.Column("last_pos", sa.BigInteger, nullable=False),
        sa.Column("pruned_pos", sa.BigInteger, nullable=False),
    )
    op.execute("INSERT INTO event_positions (name, last_pos, pruned_pos) VALUES ('events', 0, 0)")
    op.create_table(
        "webhooks",
        sa.Column("webhook_id", sa.String(64), primary_key=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("events", sa.JSON, nullable=False),
        sa.Column("store_ids", sa.JSON),
        sa.Column("secret", sa.String(100), nullable=False),
        sa.Column("scanned_pos", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("webhook_id", sa.String(64), primary_key=True),
        sa.Column("pos", sa.BigInteger, primary_key=True),
        sa.Column("store_id", sa.String(64), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_tried_at", sa.DateTime(timezone=True)),
        sa.Column("done_at", sa.DateTime(timezone=True)),
        sa.Column("last_status", sa.Integer),
        sa.Column("last_error", sa.String(200)),
    )
    op.create_index(
        "ix_webhook_deliveries_stream",
        "webhook_deliveries",
        ["webhook_id", "store_id", "state", "pos"],
    )
    op.create_index("ix_webhook_deliveries_state", "webhook_deliveries", ["state", "next_at"])


def downgrade() -> None:
    op.drop_table("webhook_deliveries")
    op.drop_table("webhooks")
    op.drop_table("event_positions")
    op.drop_table("events")
