"""The stock ledger and its projection.

Movements are appended to `ledger` and never changed; `stock` (on_hand,
reserved) is a projection kept up to date in the same transaction and
rebuildable from the ledger and the open orders (`rebuild_stock`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, insert, select, update

from fulfillment.ledger import Movement, MovementKind, on_hand_delta
from fulfillment.model import OPEN_STATES, Order
from fulfillment.picking import reservations

from ..db.tables import ledger, orders, stock
from .feed import StoreTx

__all__ = ["adjust_reserved", "mark_doubtful", "record_movements", "stock_doc", "rebuild_stock"]

Key = tuple[str, str]


def stock_doc(row: Any) -> dict[str, Any]:
    return {
        "sku": row.sku,
        "location": row.location,
        "on_hand": row.on_hand,
        "reserved": row.reserved,
        "available": row.on_hand - row.reserved - row.safety,
        "doubtful": bool(row.doubtful),
    }


def _ensure_rows(tx: StoreTx, keys: Iterable[Key]) -> None:
    for sku, location in keys:
        exists = tx.conn.execute(
            select(stock.c.sku).where(
                stock.c.store_id == tx.store_id, stock.c.sku == sku, stock.c.location == location
            )
        ).first()
        if exists is None:
            tx.conn.execute(
                insert(stock).values(
                    store_id=tx.store_id, sku=sku, location=location, on_hand=0, reserved=0,
                    safety=0, doubtful=False,
                )
            )


def _where(tx: StoreTx, key: Key) -> Any:
    return and_(stock.c.store_id == tx.store_id, stock.c.sku == key[0], stock.c.location == key[1])


def _publish(tx: StoreTx, keys: Iterable[Key]) -> None:
    for key in keys:
        row = tx.conn.execute(select(stock).where(_where(tx, key))).one()
        tx.publish("stock", f"{key[0]}@{key[1]}", stock_doc(row))


def record_movements(
    tx: StoreTx,
    movements: Iterable[Movement],
    *,
    occurred_at: datetime,
    op_id: str | None,
    actor_id: str | None,
    publish: bool = True,
) -> set[Key]:
    """Append movements and move on_hand; returns the (sku, location) keys touched."""
    rows = []
    deltas: dict[Key, int] = {}
    for m in movements:
        delta = on_hand_delta(m.kind, m.qty)
        rows.append(
            {
                "store_id": tx.store_id,
                "sku": m.sku,
                "location": m.location,
                "kind": MovementKind(m.kind).value,
                "qty": m.qty,
                "on_hand_delta": delta,
                "occurred_at": occurred_at,
                "recorded_at": tx.now,
                "op_id": op_id,
                "actor_id": actor_id,
                "order_id": m.order_id,
            }
        )
        deltas[(m.sku, m.location)] = deltas.get((m.sku, m.location), 0) + delta
    if not rows:
        return set()
    tx.conn.execute(insert(ledger), rows)
    _ensure_rows(tx, deltas)
    for key, delta in deltas.items():
        if delta:
            tx.conn.execute(
                update(stock).where(_where(tx, key)).values(on_hand=stock.c.on_hand + delta)
            )
    if publish:
        _publish(tx, deltas)
    return set(deltas)


def adjust_reserved(tx: StoreTx, before: Order | None, after: Order, publish: bool = True) -> set[Key]:
    """Move `reserved` by what the order holds back now minus what it held before."""
    old = reservations(before) if before is not None else {}
    new = reservations(after)
    diffs = {k: new.get(k, 0) - old.get(k, 0) for k in set(old) | set(new)}
    diffs = {k: v for k, v in diffs.items() if v}
    if not diffs:
        return set()
    _ensure_rows(tx, diffs)
    for key, diff in diffs.items():
        tx.conn.execute(update(stock).where(_where(tx, key)).values(reserved=stock.c.reserved + diff))
    if publish:
        _publish(tx, diffs)
    return set(diffs)


def mark_doubtful(tx: StoreTx, keys: Iterable[Key], doubtful: bool = True) -> None:
    keys = list(keys)
    _ensure_rows(tx, keys)
    for key in keys:
        tx.conn.execute(update(stock).where(_where(tx, key)).values(doubtful=doubtful))
    _publish(tx, keys)


def publish_stock(tx: StoreTx, keys: Iterable[Key]) -> None:
    _publish(tx, keys)


def rebuild_stock(tx: StoreTx) -> None:
    """Recompute the projection from the ledger and the open orders (repair tool)."""
    sums = tx.conn.execute(
        select(ledger.c.sku, ledger.c.location, func.sum(ledger.c.on_hand_delta))
        .where(ledger.c.store_id == tx.store_id)
        .group_by(ledger.c.sku, ledger.c.location)
    ).all()
    held: dict[Key, int] = {}
    for (data,) in tx.conn.execute(
        select(orders.c.data).where(
            orders.c.store_id == tx.store_id, orders.c.state.in_([s.value for s in OPEN_STATES])
        )
    ):
        for key, qty in reservations(Order.model_validate(data)).items():
            held[key] = held.get(key, 0) + qty
    on_hand: Mapping[Key, int] = {(s, loc): int(q or 0) for s, loc, q in sums}
    keys = set(on_hand) | set(held)
    doubtful = {
        (r.sku, r.location)
        for r in tx.conn.execute(select(stock).where(stock.c.store_id == tx.store_id, stock.c.doubtful))
    }
    tx.conn.execute(delete(stock).where(stock.c.store_id == tx.store_id))
    for sku, location in keys:
        tx.conn.execute(
            insert(stock).values(
                store_id=tx.store_id, sku=sku, location=location,
                on_hand=on_hand.get((sku, location), 0), reserved=held.get((sku, location), 0),
                safety=0, doubtful=(sku, location) in doubtful,
            )
        )
    _publish(tx, keys)
