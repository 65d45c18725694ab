"""replica checksums (issue #12): each document's hash and bucket in `sync_docs`, the
store's sums per kind and bucket in `replica_digests`, and each tablet's last replica report

Revision ID: 0009
Revises: 0008
"""

from collections import defaultdict

import sqlalchemy as sa
from alembic import op

from sync.checksums import bucket_of, canonical, doc_hash, signed

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

BATCH = 2000


def upgrade() -> None:
    with op.batch_alter_table("sync_docs") as batch:
        batch.add_column(sa.Column("digest", sa.BigInteger))
        batch.add_column(sa.Column("bucket", sa.String(10)))
    op.create_table(
        "replica_digests",
        sa.Column("store_id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(20), primary_key=True),
        sa.Column("bucket", sa.String(10), primary_key=True),
        sa.Column("digest", sa.BigInteger, nullable=False),
        sa.Column("docs", sa.BigInteger, nullable=False),
    )
    with op.batch_alter_table("devices") as batch:
        batch.add_column(sa.Column("replica_mismatch_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("replica_kinds", sa.String(200)))
        batch.add_column(sa.Column("replica_healed", sa.Boolean))
    _backfill(op.get_bind())


def _backfill(conn: sa.Connection) -> None:
    """Hash every live document there is (the sums start from what is published)."""
    docs = sa.table(
        "sync_docs",
        sa.column("store_id"),
        sa.column("kind"),
        sa.column("entity_id"),
        sa.column("version"),
        sa.column("deleted"),
        sa.column("data", sa.JSON),
        sa.column("digest"),
        sa.column("bucket"),
    )
    sums: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    updates = []
    rows = conn.execute(
        sa.select(
            docs.c.store_id, docs.c.kind, docs.c.entity_id, docs.c.version, docs.c.data
        ).where(docs.c.deleted.is_(False))
    ).all()
    for store_id, kind, entity_id, version, data in rows:
        h = doc_hash(kind, entity_id, version, canonical(data))
        bucket = bucket_of(kind, data.get("state"), data.get("updated_at"))
        cell = sums[(store_id, kind, bucket)]
        cell[0] += h
        cell[1] += 1
        updates.append(
            {"s": store_id, "k": kind, "e": entity_id, "digest": signed(h), "bucket": bucket}
        )
    stmt = (
        sa.update(docs)
        .where(
            docs.c.store_id == sa.bindparam("s"),
            docs.c.kind == sa.bindparam("k"),
            docs.c.entity_id == sa.bindparam("e"),
        )
        .values(digest=sa.bindparam("digest"), bucket=sa.bindparam("bucket"))
    )
    for i in range(0, len(updates), BATCH):
        conn.execute(stmt, updates[i : i + BATCH])
    if sums:
        conn.execute(
            sa.table(
                "replica_digests",
                sa.column("store_id"),
                sa.column("kind"),
                sa.column("bucket"),
                sa.column("digest"),
                sa.column("docs"),
            ).insert(),
            [
                {"store_id": s, "kind": k, "bucket": b, "digest": signed(h), "docs": n}
                for (s, k, b), (h, n) in sums.items()
            ],
        )


def downgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.drop_column("replica_healed")
        batch.drop_column("replica_kinds")
        batch.drop_column("replica_mismatch_at")
    op.drop_table("replica_digests")
    with op.batch_alter_table("sync_docs") as batch:
        batch.drop_column("bucket")
        batch.drop_column("digest")
