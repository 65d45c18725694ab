"""The stock ledger and its projection.

Movements are appended to `ledger` and never changed; `stock` (on_hand,
reserved) is a projection kept up to date in the same transaction and
rebuildable from the ledger and the open orders (`rebuild_stock`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, insert, select

from fulfillment import counts as rules
from fulfillment.counts import SETTLED, CountState
from fulfillment.ledger import Movement, MovementKind, on_hand_delta
from fulfillment.model import OPEN_STATES, Order
from fulfillment.outcome import Followup, TaskKind
from fulfillment.picking import reservation_change, reservations

from ..db.tables import exceptions, ledger, orders, stock, tasks
from .count_docs import counts_of, latest_counted_at, stage_count
from .exceptions import open_exception
from .staging import Key, stock_doc
from .tasks import create_tasks

if TYPE_CHECKING:
    from .feed import StoreTx

__all__ = [
    "adjust_reserved",
    "flag_negative_stock",
    "late_movement",
    "mark_doubtful",
    "rebuild_stock",
    "record_movements",
    "stock_doc",
]


# Goods in the damaged bin are not stock: their movement moves no on-hand
# (fulfillment.ledger) and makes no `stock` row, which would say "0 in the damaged bin"
# and be offered to tablets as a place to pick from.
_NOT_STOCK = frozenset({MovementKind.RETURN_DAMAGED})


def record_movements(
    tx: StoreTx,
    movements: Iterable[Movement],
    *,
    occurred_at: datetime,
    op_id: str | None,
    actor_id: str | None,
    note: str | None = None,
    count_id: str | None = None,
    rederive: bool = True,
) -> None:
    """Append movements to the ledger and move on_hand (staged until the transaction flushes).

    A movement of on-hand dated at or before a count of its sku/location re-derives that count
    (`late_movement`). `count_id`: these are that count's own adjustment
    (it re-derives only a later count, never itself); `rederive=False`: these are a
    re-derivation's correction, which re-derives nothing."""
    staged = tx.staged
    late: list[dict[str, Any]] | None = None
    for m in movements:
        delta = on_hand_delta(m.kind, m.qty)
        key = (m.sku, m.location)
        row: dict[str, Any] = {
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
            "note": note,
        }
        staged.ledger.append(row)
        if m.kind in _NOT_STOCK:
            continue  # the movement is the record; no stock row for the damaged bin
        staged.on_hand[key] += delta
        staged.touched.add(key)
        # picks and put-backs (delta 0) never reach this: the push's hot path costs nothing
        if delta and rederive and (m.kind != MovementKind.COUNT_ADJUST or count_id is not None):
            if late is None:
                late = []
            late.append(row)
    if late:
        for row in late:
            late_movement(tx, row, count_id=count_id)


def adjust_reserved(tx: StoreTx, before: Order | None, after: Order) -> None:
    """Move `reserved` by what the order holds back now minus what it held before."""
    for key, diff in reservation_change(before, after).items():
        tx.staged.reserved[key] += diff
        tx.staged.touched.add(key)


def mark_doubtful(tx: StoreTx, keys: Iterable[Key], doubtful: bool = True) -> None:
    for key in keys:
        tx.staged.doubtful[key] = doubtful
        tx.staged.touched.add(key)


def flag_negative_stock(
    tx: StoreTx, below: Iterable[Mapping[str, Any]], movements: list[dict[str, Any]]
) -> None:
    """Stock documents whose on-hand a flush just moved below zero: tell a manager and ask for
    a count, once (PROTOCOL.md: physical facts are never refused, so offline sales and picks
    can take a place below zero; that must never be silent).

    One `NEGATIVE_STOCK` exception per sku/location while one is open, and one blind recount
    task while one is open (the stock is marked doubtful until it is counted). `movements`:
    the ledger rows just written, so the exception names the op that took it below zero."""
    for doc in below:
        sku, location, on_hand = doc["sku"], doc["location"], doc["on_hand"]
        last: Mapping[str, Any] = next(
            (m for m in reversed(movements) if (m["sku"], m["location"]) == (sku, location)), {}
        )
        x, t = exceptions.c, tasks.c
        told = tx.conn.execute(
            select(x.exception_id).where(
                x.store_id == tx.store_id,
                x.state == "open",
                x.code == "NEGATIVE_STOCK",
                x.sku == sku,
                x.location == location,
            )
        ).first()
        if told is None:
            open_exception(
                tx,
                "NEGATIVE_STOCK",
                f"{sku} at {location} shows {on_hand} on hand: more units left that place than "
                "the ledger says were there. Have it counted (a blind recount task is open), "
                "look for units put somewhere else, then settle this with what you found.",
                op_id=last.get("op_id"),
                actor_id=last.get("actor_id"),
                sku=sku,
                location=location,
            )
        asked = tx.conn.execute(
            select(t.task_id).where(
                t.store_id == tx.store_id,
                t.state == "open",
                t.kind == TaskKind.RECOUNT.value,
                t.sku == sku,
                t.location == location,
            )
        ).first()
        if asked is None:
            reason = f"On hand went below zero ({on_hand}): count what is on the shelf"
            recount = Followup(TaskKind.RECOUNT, sku, location, 0, None, reason)
            create_tasks(tx, (recount,), last.get("op_id"))
            mark_doubtful(tx, [(sku, location)])


def rebuild_stock(tx: StoreTx) -> None:
    """Recompute the projection from the ledger and the open orders (repair tool)."""
    tx.flush()
    sums = tx.conn.execute(
        select(ledger.c.sku, ledger.c.location, func.sum(ledger.c.on_hand_delta))
        .where(
            ledger.c.store_id == tx.store_id,
            ledger.c.kind.not_in([k.value for k in _NOT_STOCK]),
        )
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
        for r in tx.conn.execute(
            select(stock).where(stock.c.store_id == tx.store_id, stock.c.doubtful)
        )
    }
    tx.conn.execute(delete(stock).where(stock.c.store_id == tx.store_id))
    for sku, location in keys:
        tx.conn.execute(
            insert(stock).values(
                store_id=tx.store_id,
                sku=sku,
                location=location,
                on_hand=on_hand.get((sku, location), 0),
                reserved=held.get((sku, location), 0),
                safety=0,
                doubtful=(sku, location) in doubtful,
            )
        )
    tx.staged.touched |= keys


def late_movement(tx: StoreTx, row: dict[str, Any], *, count_id: str | None = None) -> None:
    """A movement of on-hand (a staged ledger row) dated at or before a count of its
    sku/location: re-derive the latest settled count at or after it (one correction at that
    count's counted_at) and restate the waiting counts between the movement and that count.

    Only the latest settled count is re-derived: it is the newest observation of the shelf,
    and its correction alone puts on-hand back to what was counted then plus what happened
    since; correcting earlier counts too would post corrections that the latest one's
    re-derivation cancels again. `count_id`: the movement is that count's own adjustment."""
    sku, location, at = row["sku"], row["location"], row["occurred_at"]
    latest = latest_counted_at(tx, sku, location)
    if latest is None or latest < at:
        return  # nothing counted at or after it: the common case, one cached read
    delta = int(row["on_hand_delta"])
    found = [c for c in counts_of(tx, sku, location, since=at) if c.count_id != count_id]
    settled = [c for c in found if c.state in SETTLED]
    anchor = settled[-1] if settled else None
    if anchor is not None:
        changed, moves = rules.rederive(anchor, delta)
        stage_count(tx, changed, op_id=None, device_id=None)
        record_movements(
            tx,
            moves,
            occurred_at=anchor.counted_at,
            op_id=row["op_id"],
            actor_id="system",
            note=f"count {anchor.count_id} re-derived: a {row['kind']} of {delta:+d} dated before "
            "it arrived later",
            rederive=False,
        )
    for c in found:
        # a waiting count after the anchor sees the movement and its correction: no change
        if c.state is CountState.AWAITING_APPROVAL and (
            anchor is None or c.counted_at < anchor.counted_at
        ):
            changed, _ = rules.rederive(c, delta)
            stage_count(tx, changed, op_id=None, device_id=None)
