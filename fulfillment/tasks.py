"""Closing a task and settling an exception: the same decision on the tablet and at central.

Each end reads the document's state (None: it has no such document) and asks here what the op
does; it then writes the change itself. A task already closed is `applied ALREADY_DONE` (the
person's work is done either way); an exception already settled is refused `NOT_OPEN` (a
manager's decision is not taken twice)."""

from __future__ import annotations

from dataclasses import dataclass

from .codes import Code
from .outcome import Status

__all__ = ["OPEN_TASK_STATES", "Decision", "close_task", "settle_exception"]

# the task states a person still has to act on (central writes `open`; older tablets kept
# `pending` / `in_progress` for tasks they had started)
OPEN_TASK_STATES = frozenset({"open", "pending", "in_progress"})


@dataclass(frozen=True)
class Decision:
    """What an op on a task or an exception does: `changes` is whether the end writes it."""

    status: Status
    code: Code | None = None
    message: str | None = None

    @property
    def changes(self) -> bool:
        return self.status is Status.APPLIED and self.code is None


def close_task(task_id: str, state: str | None) -> Decision:
    """`task.done` on a task in `state`."""
    if state is None:
        return Decision(Status.REJECTED, Code.UNKNOWN_TASK, f"No task {task_id}")
    if state not in OPEN_TASK_STATES:
        return Decision(Status.APPLIED, Code.ALREADY_DONE, "That task was already closed")
    return Decision(Status.APPLIED)


def settle_exception(exception_id: str, state: str | None) -> Decision:
    """`exception.resolve` on an exception in `state`."""
    if state is None:
        return Decision(
            Status.REJECTED, Code.UNKNOWN_EXCEPTION, f"No exception {exception_id} in this store"
        )
    if state != "open":
        return Decision(
            Status.REJECTED, Code.NOT_OPEN, f"Exception {exception_id} was already settled"
        )
    return Decision(Status.APPLIED)
