"""Orders on central: load, save, and write everything an `Outcome` asks for.

`apply_outcome` is where a rule's result becomes rows: the order document,
reservations, ledger movements, follow-up tasks, manager exceptions and
customer notifications — all in the caller's store transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select

from fulfillment.model import Order
from fulfillment.outcome import ExceptionNote, Followup, Outcome, TaskKind

from ..db.tables import orders, tasks
from . import ledger
from .documents import load_document
from .exceptions import exception_doc
from .feed import StoreTx

__all__ = [
    "apply_outcome",
    "insert_order",
    "load_order",
    "open_exception",
    "open_exceptions",
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


def task_doc(row: Any) -> dict[str, Any]:
    return {
        "task_id": row["task_id"],
        "kind": row["kind"],
        "sku": row["sku"],
        "location": row["location"],
        "qty": row["qty"],
        "order_id": row["order_id"],
        "reason": row["reason"],
        "state": row["state"],
        "created_at": row["created_at"].isoformat() if row["created_at"] else None,
        "done_by": row.get("done_by"),
    }


# units of one order that go back to one place in one push make one task, not one per scan
_GROWING = (TaskKind.PUT_BACK, TaskKind.RESTOCK)


def create_tasks(
    tx: StoreTx, followups: tuple[Followup, ...], op_id: str | None
) -> list[dict[str, Any]]:
    """The follow-up tasks; returns, per follow-up, its task with this op's share of units.

    A put-back or restock joins an open one of the same order, item and place made earlier
    in this transaction (not yet seen by any tablet, so marking it done covers them all).
    """
    made = []
    for f in followups:
        kind = TaskKind(f.kind)
        same = (
            tx.staged.unwritten_task(kind.value, f.order_id, f.sku, f.location)
            if kind in _GROWING and f.sku
            else None
        )
        if same is not None:
            grown = {**same, "qty": same["qty"] + f.qty}
            tx.staged.task_updates.pop(grown["task_id"], None)
            tx.staged.new_tasks[grown["task_id"]] = grown
            tx.publish("task", grown["task_id"], task_doc(grown))
            made.append({**task_doc(grown), "qty": f.qty})
            continue
        task_id = f"T-{uuid.uuid4().hex[:10]}"
        row: dict[str, Any] = {
            "task_id": task_id,
            "store_id": tx.store_id,
            "kind": TaskKind(f.kind).value,
            "sku": f.sku,
            "location": f.location,
            "qty": f.qty,
            "order_id": f.order_id,
            "reason": f.reason,
            "state": "open",
            "op_id": op_id,
            "created_at": tx.now,
        }
        tx.staged.new_tasks[task_id] = row
        doc = task_doc(row)
        tx.publish("task", task_id, doc)
        made.append(doc)
    return made


def close_order_tasks(tx: StoreTx, order_id: str, kinds: tuple[str, ...] = ("restock",)) -> None:
    """Open restock tasks of an order whose goods left the store are moot."""
    stored = (
        tx.conn.execute(
            select(tasks).where(tasks.c.store_id == tx.store_id, tasks.c.order_id == order_id)
        )
        .mappings()
        .all()
    )
    current = {r["task_id"]: dict(r) for r in stored}
    current.update({r["task_id"]: r for r in tx.staged.tasks_of_order(order_id)})
    for row in current.values():
        if row["state"] == "open" and row["kind"] in kinds:
            update_task(tx, row, state="cancelled")


def find_task(tx: StoreTx, task_id: str) -> dict[str, Any] | None:
    staged = tx.staged.task(task_id)
    if staged is not None:
        return staged
    row = (
        tx.conn.execute(
            select(tasks).where(tasks.c.task_id == task_id, tasks.c.store_id == tx.store_id)
        )
        .mappings()
        .first()
    )
    return dict(row) if row is not None else None


def update_task(
    tx: StoreTx, row: dict[str, Any], *, state: str, done_by: str | None = None
) -> None:
    changed = {**row, "state": state, "done_by": done_by, "done_at": tx.now}
    if row["task_id"] in tx.staged.new_tasks:
        tx.staged.new_tasks[row["task_id"]] = changed
    else:
        tx.staged.task_updates[row["task_id"]] = changed
    tx.publish("task", row["task_id"], task_doc(changed))


def open_exception(
    tx: StoreTx,
    code: str,
    message: str,
    *,
    order_id: str | None = None,
    op_id: str | None = None,
    device_id: str | None = None,
    actor_id: str | None = None,
    sku: str | None = None,
    location: str | None = None,
) -> dict[str, Any]:
    exception_id = f"X-{uuid.uuid4().hex[:10]}"
    row: dict[str, Any] = {
        "exception_id": exception_id,
        "store_id": tx.store_id,
        "code": code,
        "message": message,
        "order_id": order_id,
        "op_id": op_id,
        "device_id": device_id,
        "actor_id": actor_id,
        "state": "open",
        "created_at": tx.now,
        "sku": sku,
        "location": location,
    }
    tx.staged.exceptions.append(row)
    doc = exception_doc(row)
    tx.publish("exception", exception_id, doc)
    return doc


def open_exceptions(
    tx: StoreTx,
    notes: Iterable[ExceptionNote],
    *,
    op_id: str | None,
    device_id: str | None,
    actor_id: str | None,
) -> None:
    """Open a manager exception for each note a rule made."""
    for note in notes:
        open_exception(
            tx,
            note.code,
            note.message,
            order_id=note.order_id,
            op_id=op_id,
            device_id=device_id,
            actor_id=actor_id,
        )


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
