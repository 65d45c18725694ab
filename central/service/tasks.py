"""Follow-up tasks on central (put-back, restock, recount, …): made from an outcome's
follow-ups, found, updated and cancelled in the caller's store transaction, each published as
a `task` change."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from fulfillment.outcome import Followup, TaskKind
from fulfillment.tasks import close_task
from sync.protocol import TaskDone

from ..db.tables import tasks
from .applying import Applying, Said
from .staging import TASK

if TYPE_CHECKING:
    from .feed import StoreTx

__all__ = [
    "apply_task",
    "close_order_tasks",
    "create_tasks",
    "find_task",
    "task_doc",
    "update_task",
]

# units of one order that go back to one place in one push make one task, not one per scan
_GROWING = (TaskKind.PUT_BACK, TaskKind.RESTOCK)


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
        "plan_id": row.get("plan_id"),
        "assignee": row.get("assignee"),
        "due_at": row["due_at"].isoformat() if row.get("due_at") else None,
    }


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
            tx.staged.stage_new(TASK, grown["task_id"], grown)
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
        tx.staged.stage_new(TASK, task_id, row)
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
    tx.staged.stage_change(TASK, row["task_id"], changed)
    tx.publish("task", row["task_id"], task_doc(changed))


def apply_task(tx: StoreTx, op: Applying) -> Said:
    """The apply step of every `task` op (`task.done`: `fulfillment.tasks.close_task`)."""
    payload: TaskDone = op.payload
    row = find_task(tx, payload.task_id)
    decision = close_task(payload.task_id, None if row is None else row["state"])
    if decision.changes:
        assert row is not None
        update_task(tx, row, state="done", done_by=op.actor_id)
    return Said(decision.status.value, decision.code, decision.message)
