"""Pruning the change log and op results past `retention_days` (PROTOCOL.md, Pull and Push).

A change row carries no time, so each run first *marks* every store's change-seq with the
time it saw it (`change_marks`); a change at or below a mark older than the retention is
older than the retention. Then, per store, under the store's lock:

- tombstones (deleted documents) older than the retention are deleted;
- documents of orders that ended (handed over, shipped, rejected, cancelled, expired) and
  whose last change is older than the retention leave the feed: their rows stay in `orders`
  (the OMS and the console read them there), a tablet that has them keeps its final copy,
  and a new tablet's snapshot leaves them out already (`feed.snapshot_stream`, horizon);
- the store's horizon (`change_horizons.pruned_seq`) rises to the newest change removed: a
  pull cursor below it may have missed that change, so it gets `reset` (`feed.pull`) and the
  tablet downloads the snapshot again, keeping its outbox;
- op results applied before the retention are deleted, except each device's newest
  `KEEP_RESULTS`: the ops a device may still send again after a lost answer (two batches
  in flight at most) must find their stored result, or they would look like a reused seq.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Engine, and_, delete, func, insert, or_, select, update

from fulfillment.model import OPEN_STATES, OrderState
from sync.protocol import MAX_PUSH_OPS

from ..db.tables import (
    change_horizons,
    change_marks,
    devices,
    op_results,
    orders,
    stores,
    sync_docs,
)
from . import digests
from .clock import utcnow
from .events import prune_events
from .feed import store_tx

__all__ = ["ENDED_STATES", "KEEP_RESULTS", "Pruned", "prune"]

log = logging.getLogger(__name__)

KEEP_RESULTS = 2 * MAX_PUSH_OPS
ENDED_STATES = tuple(sorted(s.value for s in OrderState if s not in OPEN_STATES))


@dataclass(frozen=True)
class Pruned:
    changes: int = 0  # change-log rows removed (tombstones and ended orders' documents)
    results: int = 0  # op results removed

    def __add__(self, other: Pruned) -> Pruned:
        return Pruned(self.changes + other.changes, self.results + other.results)


def prune(
    engine: Engine,
    retention_days: int,
    now: datetime | None = None,
    *,
    store_ids: Iterable[str] | None = None,
) -> Pruned:
    """One pruning run over every store (or those named); what it removed."""
    now = now or utcnow()
    every_store = store_ids is None
    if store_ids is None:
        with engine.connect() as conn:
            store_ids = list(conn.execute(select(stores.c.store_id)).scalars())
    total = Pruned()
    for store_id in store_ids:
        total += _prune_store(engine, store_id, now, now - timedelta(days=retention_days))
    if every_store:  # the event feed is one for every store (central/service/events.py)
        gone = prune_events(engine, now - timedelta(days=retention_days))
        if gone:
            log.info("pruned events=%d", gone)
    if total.changes or total.results:
        log.info("pruned changes=%d results=%d", total.changes, total.results)
    return total


def _prune_store(engine: Engine, store_id: str, now: datetime, cutoff: datetime) -> Pruned:
    with store_tx(engine, store_id, now) as tx:
        conn = tx.conn
        marked = conn.execute(
            select(change_marks.c.change_seq).where(
                change_marks.c.store_id == store_id, change_marks.c.change_seq == tx.change_seq
            )
        ).first()
        if marked is None:
            conn.execute(
                insert(change_marks).values(
                    store_id=store_id, change_seq=tx.change_seq, marked_at=now
                )
            )
        old_seq = conn.execute(
            select(func.max(change_marks.c.change_seq)).where(
                change_marks.c.store_id == store_id, change_marks.c.marked_at <= cutoff
            )
        ).scalar_one_or_none()
        removed = 0
        if old_seq is not None:
            ended = select(orders.c.order_id).where(
                orders.c.store_id == store_id,
                orders.c.state.in_(ENDED_STATES),
                orders.c.updated_at <= cutoff,
            )
            gone = and_(
                sync_docs.c.store_id == store_id,
                sync_docs.c.version <= old_seq,
                or_(
                    sync_docs.c.deleted.is_(True),
                    and_(sync_docs.c.kind == "order", sync_docs.c.entity_id.in_(ended)),
                ),
            )
            newest = conn.execute(select(func.max(sync_docs.c.version)).where(gone)).scalar()
            if newest is not None:
                digests.withdraw(  # the ended orders leave the replica checksums with them
                    conn,
                    store_id,
                    [
                        (kind, bucket, digest)
                        for kind, bucket, digest in conn.execute(
                            select(sync_docs.c.kind, sync_docs.c.bucket, sync_docs.c.digest).where(
                                gone, sync_docs.c.digest.is_not(None)
                            )
                        )
                    ],
                )
                removed = conn.execute(delete(sync_docs).where(gone)).rowcount
                _raise_horizon(conn, store_id, int(newest))
            conn.execute(
                delete(change_marks).where(
                    change_marks.c.store_id == store_id, change_marks.c.change_seq < old_seq
                )
            )
        last_applied = (
            select(devices.c.last_applied_seq)
            .where(devices.c.device_id == op_results.c.device_id)
            .scalar_subquery()
        )
        results = conn.execute(
            delete(op_results).where(
                op_results.c.store_id == store_id,
                op_results.c.applied_at < cutoff,
                op_results.c.seq <= last_applied - KEEP_RESULTS,
            )
        ).rowcount
    return Pruned(removed, results)


def _raise_horizon(conn: Connection, store_id: str, seq: int) -> None:
    current = conn.execute(
        select(change_horizons.c.pruned_seq).where(change_horizons.c.store_id == store_id)
    ).scalar_one_or_none()
    if current is None:
        conn.execute(insert(change_horizons).values(store_id=store_id, pruned_seq=seq))
    elif seq > current:
        conn.execute(
            update(change_horizons)
            .where(change_horizons.c.store_id == store_id)
            .values(pruned_seq=seq)
        )
