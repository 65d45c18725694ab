"""Orders on central: load, save, the `order` ops' apply step, and writing an `Outcome`.

`apply_outcome` is where a rule's result becomes rows: the order document and its
reservations here, then its effects (ledger movements, follow-up tasks, manager exceptions,
customer notifications) through `effects.write_effects` — all in the caller's store
transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fulfillment.codes import Code
from fulfillment.model import Order
from fulfillment.outcome import Outcome, Status
from fulfillment.picking import apply_order_op

from ..db.tables import orders
from . import events, ledger
from .applying import Applying, Said
from .documents import load_document
from .effects import Effects, write_effects
from .feed import StoreTx
from .staging import ORDER

__all__ = [
    "apply_order",
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
    tx.staged.stage_new(ORDER, order.order_id, order)
    ledger.adjust_reserved(tx, None, order)
    events.order_changed(tx, None, order)
    tx.publish("order", order.order_id, order)  # dumped once, at flush


def save_order(tx: StoreTx, before: Order, after: Order) -> None:
    if after.updated_at is None:
        after = after.model_copy(update={"updated_at": tx.now})
    tx.staged.stage_change(ORDER, after.order_id, after)
    ledger.adjust_reserved(tx, before, after)
    events.order_changed(tx, before, after)
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
    """Write what the outcome says: the order, then its effects (`write_effects`); returns
    the follow-up tasks made (for the op result)."""
    if not outcome.changed:
        return []
    if outcome.order is not before:  # rules hand back the very same order when nothing changed
        save_order(tx, before, outcome.order)
    if not (
        outcome.followups
        or outcome.exceptions
        or outcome.notifications
        or outcome.closes_order_tasks
    ):
        # a scan's outcome: movements only, what `write_effects` would do with them alone
        if outcome.movements:
            ledger.record_movements(
                tx, outcome.movements, occurred_at=occurred_at, op_id=op_id, actor_id=actor_id
            )
        return []
    return write_effects(
        tx,
        Effects(
            op_id=op_id,
            actor_id=actor_id,
            device_id=device_id,
            occurred_at=occurred_at,
            movements=outcome.movements,
            closes_tasks_of=before.order_id if outcome.closes_order_tasks else None,
            followups=outcome.followups,
            exceptions=outcome.exceptions,
            notifications=outcome.notifications,
        ),
    )


def apply_order(tx: StoreTx, op: Applying) -> Said:
    """The apply step of every `order` op (`fulfillment.picking.apply_order_op`)."""
    order = load_order(tx, op.payload.order_id)
    if order is None:
        return Said(
            Status.REJECTED.value,
            Code.UNKNOWN_ORDER,
            f"No order {op.payload.order_id} in this store",
        )
    outcome = apply_order_op(order, op.op_type, op.payload, op.ctx)
    made = apply_outcome(
        tx,
        order,
        outcome,
        op_id=op.op_id,
        actor_id=op.actor_id,
        device_id=op.device.device_id,
        occurred_at=op.occurred_at,
    )
    return Said(outcome.status.value, outcome.code, outcome.message, tuple(made))
