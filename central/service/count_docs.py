"""Count documents as a store transaction sees them (what is written plus what is staged),
and staging a changed one: shared by the count ops (`counts`) and the ledger's re-derivation
of counts by late movements (`ledger.late_movement`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select, tuple_

from fulfillment.counts import Count

from ..db.tables import counts
from .clock import as_utc
from .documents import stage_document

if TYPE_CHECKING:
    from .feed import StoreTx

__all__ = ["counts_of", "expect_counted_at", "latest_counted_at", "stage_count"]


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


_LATEST = "latest_count"
_EXPECTED = "latest_count_expected"
_CHUNK = 400  # places per query (two parameters each)


def expect_counted_at(tx: StoreTx, places: Iterable[tuple[str, str]]) -> None:
    """Places whose latest count this transaction may ask for (the lines of a batch's
    orders): the first `latest_counted_at` asked reads them all in one query."""
    tx.memo.setdefault(_EXPECTED, set()).update(places)


def _read_latest(tx: StoreTx, places: set[tuple[str, str]]) -> None:
    """The latest counted_at of each place, written ones, into the memo (None: never)."""
    wanted = [p for p in places if (_LATEST, *p) not in tx.memo]
    c = counts.c
    postgres = tx.conn.dialect.name == "postgresql"
    size = max(1, len(wanted)) if postgres else _CHUNK  # PostgreSQL: arrays of any length
    for start in range(0, len(wanted), size):
        chunk = wanted[start : start + size]
        if postgres:
            # the places as two arrays: one statement text whatever their number (psycopg
            # parses, caches and prepares a text once; an IN list is a new text per size)
            rows = tx.conn.exec_driver_sql(
                "SELECT c.sku, c.location, max(c.counted_at) FROM counts AS c "
                "JOIN unnest(%b::text[], %b::text[]) AS u(sku, location) "
                "ON c.sku = u.sku AND c.location = u.location "
                "WHERE c.store_id = %b GROUP BY c.sku, c.location",
                ([sku for sku, _ in chunk], [loc for _, loc in chunk], tx.store_id),
            )
        else:
            rows = tx.conn.execute(
                select(c.sku, c.location, func.max(c.counted_at))
                .where(c.store_id == tx.store_id, tuple_(c.sku, c.location).in_(chunk))
                .group_by(c.sku, c.location)
            )
        found = {(sku, location): as_utc(latest) for sku, location, latest in rows}
        for place in chunk:
            tx.memo[(_LATEST, *place)] = found.get(place)


def latest_counted_at(tx: StoreTx, sku: str, location: str) -> datetime | None:
    """When sku@location was last counted (written: read once per transaction, with every
    place `expect_counted_at` named; or staged)."""
    key = (_LATEST, sku, location)
    if key not in tx.memo:
        expected: set[tuple[str, str]] = tx.memo.pop(_EXPECTED, set())
        expected.add((sku, location))
        _read_latest(tx, expected)
    latest: datetime | None = tx.memo[key]
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
