"""Orders on central: load, save, and write everything an `Outcome` asks for.

`apply_outcome` is where a rule's result becomes rows: the order document,
reservations, ledger movements, follow-up tasks, manager exceptions and
customer notifications — all in the caller's store transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fulfillment.model import Order
from fulfillment.outcome import Outcome, TaskKind

from ..db.tables import orders
from . import ledger
from .documents import load_document
from .exceptions import open_exceptions
from .feed import StoreTx
from .tasks import close_order_tasks, create_tasks

__all__ = [
    "apply_outcome",
    "insert_order",
    "load_order",
    "save_order",
]


def load_order(tx: StoreTx, order_id: str) -> Order | None:
    staged = tx.staged.order(order_id)
    return load_document(tx, staged, orders, orders.c.order_id, order_id, Order)


def _doc(order: Order) -> dict[str, Any]:
    return order.model_dump(mode="json")


def insert_order(tx: StoreTx, order: Order) -> None:
    if order.updated_at is None:
        order = order.model_copy(update={"updated_at": tx.now})
    tx.staged.new_orders[order.order_id] = order
    ledger.adjust_reserved(tx, None, order)
    tx.publish("order", order.order_id, order)  # dumped once, at flush


def save_order(tx: StoreTx, before: Order, after: Order) -> None:
    if after.updated_at is None:
        after = after.model_copy(update={"updated_at": tx.now})
    tx.staged.orders[after.order_id] = after
    ledger.adjust_reserved(tx, before, after)
    tx.publish("order", after.order_id, after)


def apply_outcome(
    tx: StoreTx,
    before: Order,
    outcome: Outcome,
    *,
    op_id: str | None,
    actor_id: str | None,
    device_id: str | None = None,
    occurred_at: datetime,
) -> list[dict[str, Any]]:
    """Write what the outcome says; returns the follow-up tasks made (for the op result)."""
    if not outcome.changed:
        return []
    if outcome.order is not before:  # rules hand back the very same order when nothing changed
        save_order(tx, before, outcome.order)
    ledger.record_movements(
        tx, outcome.movements, occurred_at=occurred_at, op_id=op_id, actor_id=actor_id
    )
    recounts = {(f.sku, f.location) for f in outcome.followups if f.kind is TaskKind.RECOUNT}
    if recounts:
        ledger.mark_doubtful(tx, recounts)
    if outcome.closes_order_tasks:
        close_order_tasks(tx, before.order_id)
    made = create_tasks(tx, outcome.followups, op_id)
    open_exceptions(tx, outcome.exceptions, op_id=op_id, device_id=device_id, actor_id=actor_id)
    for n in outcome.notifications:
        tx.staged.notifications.append(
            {
                "store_id": tx.store_id,
                "order_id": n.order_id,
                "kind": n.kind,
                "data": dict(n.data),
                "op_id": op_id,
                "created_at": tx.now,
            }
        )
    return made
