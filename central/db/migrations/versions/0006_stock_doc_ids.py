"""a stock document's id is `sku@location`: up to 64 + 1 + 40 characters

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sync_docs") as batch:
        batch.alter_column(
            "entity_id", type_=sa.String(length=128), existing_type=sa.String(length=64)
        )


def downgrade() -> None:
    with op.batch_alter_table("sync_docs") as batch:
        batch.alter_column(
            "entity_id", type_=sa.String(length=64), existing_type=sa.String(length=128)
        )
