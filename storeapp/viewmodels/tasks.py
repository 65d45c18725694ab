"""Tasks: put-backs, restocks, recounts and reviews from shorts and conflicts; mark one done."""

from __future__ import annotations

from dataclasses import dataclass

from storeapp.local import Task

from .acting import ActingVM
from .screen import Tone

__all__ = ["TaskRow", "TasksScreen", "TasksVM"]

_BY_SCAN = ("put_back", "restock")  # a recount needs a count, a review a decision


@dataclass(frozen=True)
class TaskRow:
    task_id: str
    kind: str  # put_back | restock | recount | review
    title: str  # "Put back 1 × Dog Food 2 kg at A-12"
    sku: str
    name: str
    location: str
    qty: int
    order_id: str | None
    reason: str

    @property
    def opens_count(self) -> bool:
        """A recount is done by counting (the count screen), not by a "done" tap."""
        return self.kind == "recount"


@dataclass(frozen=True)
class TasksScreen:
    rows: tuple[TaskRow, ...]
    message: str = ""
    tone: Tone = "info"


def _title(task: Task, name: str) -> str:
    where = f" at {task.location}" if task.location else ""
    match task.kind:
        case "put_back":
            return f"Put back {task.qty} × {name}{where}"
        case "restock":
            return f"Restock {task.qty} × {name}{where}"
        case "recount":
            return f"Recount {name}{where}"
        case _:
            about = f" order {task.order_id}" if task.order_id else ""
            return f"Review{about}: {task.reason or name}"


class TasksVM(ActingVM[TasksScreen]):
    def screen(self, message: str = "", tone: Tone = "info") -> TasksScreen:
        rows = []
        for task in self._store.tasks():
            item = self._store.item(task.sku) if task.sku else None
            name = item.name if item else (task.sku or "item")
            rows.append(
                TaskRow(
                    task.task_id,
                    task.kind,
                    _title(task, name),
                    task.sku,
                    name,
                    task.location,
                    task.qty,
                    task.order_id,
                    task.reason,
                )
            )
        return TasksScreen(tuple(rows), message, tone)

    def done(self, task_id: str, note: str = "") -> TasksScreen:
        row = next((r for r in self.screen().rows if r.task_id == task_id), None)
        if row is not None and row.opens_count:
            return self.screen(f"{row.title}: count it to finish this task.", "error")
        return self._act("task.done", {"task_id": task_id, "note": note}, "Task done.")

    def scan(self, code: str) -> TasksScreen:
        """Scan the item you put back on its shelf: its oldest open put-back or restock is done."""
        item = self._scanned_item(code)
        if isinstance(item, str):
            return self.screen(item, "error")
        rows = [r for r in self.screen().rows if r.sku == item.sku and r.kind in _BY_SCAN]
        if not rows:
            return self.screen(f"No item to put back is waiting for {item.name}.", "error")
        first = rows[0]
        done = self.done(first.task_id)
        if done.tone == "error":
            return done
        return self.screen(f"{first.title}: done.", "ok")
