"""The writes an op causes besides its document, in one declared order.

Every document's apply step (orders, returns, counts, stock) stages its document first and
then hands the rest to `write_effects`:

    1. ledger movements (on-hand moves; a movement dated at or before a count of its
       sku/location re-derives that count: `ledger.late_movement`)
    2. doubt: the places a recount is asked for become doubtful; a settled count clears it
    3. tasks: an order's moot restock tasks cancelled, follow-up tasks made, tasks finished
    4. manager exceptions
    5. the feed out: customer notifications, refund requests

All of it is staged in the op's scope (`StoreTx.op_scope`) and flushed with the op.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from fulfillment.ledger import Movement
from fulfillment.outcome import ExceptionNote, Followup, Notification, TaskKind

from . import ledger
from .exceptions import open_exceptions
from .staging import Key
from .tasks import close_order_tasks, create_tasks, find_task, update_task

if TYPE_CHECKING:
    from .feed import StoreTx

__all__ = ["Effects", "write_effects"]


@dataclass(frozen=True)
class Effects:
    """What one op causes besides its document. `op_id`, `actor_id`, `device_id`: who caused
    it (None for central's own); `occurred_at`: when its movements happened."""

    op_id: str | None
    actor_id: str | None
    occurred_at: datetime
    device_id: str | None = None
    movements: Sequence[Movement] = ()
    note: str | None = None  # the movements' ledger note
    count_id: str | None = None  # the movements are that count's own adjustment
    settles: Key | None = None  # a settled count: the place is no longer doubtful
    closes_tasks_of: str | None = None  # an order whose open restock tasks are moot
    followups: Sequence[Followup] = ()
    finishes_task: str | None = None  # a task the op did (left alone unless open)
    exceptions: Sequence[ExceptionNote] = ()
    notifications: Sequence[Notification] = ()
    refunds: Sequence[dict[str, Any]] = ()  # refund request rows


def write_effects(tx: StoreTx, e: Effects) -> list[dict[str, Any]]:
    """Stage the effects in their order; returns the follow-up tasks made (for the result)."""
    if e.movements:
        ledger.record_movements(
            tx,
            e.movements,
            occurred_at=e.occurred_at,
            op_id=e.op_id,
            actor_id=e.actor_id,
            note=e.note,
            count_id=e.count_id,
        )
    recounts = {(f.sku, f.location) for f in e.followups if f.kind is TaskKind.RECOUNT}
    if recounts:
        ledger.mark_doubtful(tx, recounts)
    elif e.settles is not None:  # the shelf was counted and the books follow it
        ledger.mark_doubtful(tx, [e.settles], doubtful=False)
    if e.closes_tasks_of is not None:
        close_order_tasks(tx, e.closes_tasks_of)
    made = create_tasks(tx, tuple(e.followups), e.op_id) if e.followups else []
    if e.finishes_task:
        task = find_task(tx, e.finishes_task)
        if task is not None and task["state"] == "open":
            update_task(tx, task, state="done", done_by=e.actor_id)
    if e.exceptions:
        open_exceptions(tx, e.exceptions, op_id=e.op_id, device_id=e.device_id, actor_id=e.actor_id)
    for n in e.notifications:
        tx.staged.notifications.append(
            {
                "store_id": tx.store_id,
                "order_id": n.order_id,
                "kind": n.kind,
                "data": dict(n.data),
                "op_id": e.op_id,
                "created_at": tx.now,
            }
        )
    if e.refunds:
        tx.staged.refunds += e.refunds
    return made
