"""Tasks and exceptions: the `tasks` rows from central's documents with this tablet's pending
closes on top, and the tablet's side of `task.done` and `exception.resolve` (the decision is
`fulfillment.tasks`'; this module writes it)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from typing import Any

from fulfillment.outcome import Status
from fulfillment.tasks import OPEN_TASK_STATES, close_task, settle_exception
from sync.protocol import Document

from ._docs import Acting, Pending, doc
from ._records import ActResult, from_iso, to_iso

__all__ = [
    "apply_exception",
    "apply_task",
    "close_open_task",
    "fold_tasks",
    "project_tasks",
    "touched_by_task_op",
]


def _project_task(conn: sqlite3.Connection, id_: str, data: dict[str, Any] | None) -> None:
    conn.execute("DELETE FROM tasks WHERE task_id = ?", (id_,))
    if data is None:
        return
    created = from_iso(data.get("created_at")) if data.get("created_at") else None
    conn.execute(
        """INSERT INTO tasks (task_id, kind, sku, location, qty, order_id, reason, state, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        (
            data.get("task_id") or id_,
            data.get("kind") or "review",
            data.get("sku") or "",
            data.get("location") or "",
            int(data.get("qty") or 0),
            data.get("order_id"),
            data.get("reason") or "",
            data.get("state") or "open",
            to_iso(created) if created else None,
        ),
    )


def project_tasks(conn: sqlite3.Connection, ids: Iterable[str]) -> None:
    """tasks rows = central's documents (a deleted one goes)."""
    for id_ in ids:
        _project_task(conn, id_, doc(conn, "task", id_))


def fold_tasks(conn: sqlite3.Connection, task_ids: Iterable[str], pending: list[Pending]) -> None:
    """tasks rows = central's documents, then the tasks a pending `task.done` closes or a
    pending `count.record` counted shown done."""
    project_tasks(conn, task_ids)
    done = [
        str(p.payload.get("task_id"))
        for p in pending
        if p.type == "task.done" or (p.type == "count.record" and p.payload.get("task_id"))
    ]
    conn.executemany("UPDATE tasks SET state = 'done' WHERE task_id = ?", [(x,) for x in done])


def touched_by_task_op(op_type: str, payload: dict[str, Any]) -> Iterator[tuple[Document, str]]:
    yield Document.TASK, str(payload.get("task_id"))


def close_open_task(conn: sqlite3.Connection, task_id: str) -> None:
    """Show a task done that a person has just done the work of (a count of it)."""
    states = sorted(OPEN_TASK_STATES)
    conn.execute(
        f"""UPDATE tasks SET state = 'done' WHERE task_id = ?
            AND state IN ({", ".join("?" * len(states))})""",
        (task_id, *states),
    )


def apply_task(act: Acting) -> ActResult:
    """`task.done`: the task shown done at once; one already closed is applied
    `ALREADY_DONE` and left as it is; one not on this tablet is refused."""
    task_id = act.payload["task_id"]
    row = act.conn.execute("SELECT state FROM tasks WHERE task_id = ?", (task_id,)).fetchone()
    decision = close_task(task_id, row[0] if row else None)
    if decision.status is Status.REJECTED:
        return ActResult(decision.status.value, False, decision.code, decision.message)
    if decision.changes:
        act.conn.execute("UPDATE tasks SET state = 'done' WHERE task_id = ?", (task_id,))
    return ActResult(decision.status.value, True, decision.code, decision.message)


def apply_exception(act: Acting) -> ActResult:
    """`exception.resolve`: only an open exception central sent; central settles it (the
    `exception` document changes when its answer comes back)."""
    exception_id = act.payload["exception_id"]
    found = doc(act.conn, "exception", exception_id)
    decision = settle_exception(exception_id, None if found is None else found.get("state", "open"))
    if not decision.changes:
        return ActResult(decision.status.value, False, decision.code, decision.message)
    return ActResult("applied", True)
