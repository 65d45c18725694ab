"""Count documents as a store transaction sees them (what is written plus what is staged),
and staging a changed one: shared by the count ops (`counts`) and the ledger's re-derivation
of counts by late movements (`ledger.late_movement`)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from fulfillment.counts import Count

from ..db.tables import counts
from .documents import stage_document

if TYPE_CHECKING:
    from .feed import StoreTx

__all__ = ["counts_of", "latest_counted_at", "stage_count"]


# the order of counts of one sku/location: when counted, then when central recorded them
_Order = tuple[datetime, datetime, str]


def counts_of(
    tx: StoreTx, sku: str, location: str, *, since: datetime | None = None
) -> list[Count]:
    """The counts of sku@location counted at or after `since` (all when None), oldest first."""
    c = counts.c
    query = select(c.data, c.created_at).where(
        c.store_id == tx.store_id, c.sku == sku, c.location == location
    )
    if since is not None:
        query = query.where(c.counted_at >= since)
    found: dict[str, tuple[_Order, Count]] = {}
    for data, created_at in tx.conn.execute(query):
        doc = Count.model_validate(data)
        found[doc.count_id] = ((doc.counted_at, created_at, doc.count_id), doc)
    for count_id, doc in tx.staged.counts_of(sku, location).items():
        if since is not None and doc.counted_at < since:
            continue
        order = found[count_id][0] if count_id in found else (doc.counted_at, tx.now, count_id)
        found[count_id] = (order, doc)
    return [doc for _, doc in sorted(found.values(), key=lambda x: x[0])]


def latest_counted_at(tx: StoreTx, sku: str, location: str) -> datetime | None:
    """When sku@location was last counted (written: read once per transaction; or staged)."""
    key = ("latest_count", sku, location)
    if key in tx.memo:
        latest: datetime | None = tx.memo[key]
    else:
        c = counts.c
        latest = tx.conn.execute(
            select(func.max(c.counted_at)).where(
                c.store_id == tx.store_id, c.sku == sku, c.location == location
            )
        ).scalar()
        tx.memo[key] = latest
    for doc in tx.staged.counts_of(sku, location).values():
        if latest is None or doc.counted_at > latest:
            latest = doc.counted_at
    return latest


def stage_count(tx: StoreTx, count: Count, *, op_id: str | None, device_id: str | None) -> None:
    """A new count (op_id given) or a changed one; published as a `count` change."""
    staged = tx.staged
    stage_document(
        tx,
        "count",
        count.count_id,
        count,
        new=staged.count_doc(count.count_id) is None and op_id is not None,
        op_id=op_id,
        device_id=device_id,
    )
