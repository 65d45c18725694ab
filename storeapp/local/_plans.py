"""Count plans on the tablet (issue #12): the local step of `countplan.create` and the plan
review's reads.

The tablet does not expand a plan: central makes its tasks (the ABC class needs central's
ledger, "doubtful" its stock now). A plan made offline is queued and shown as waiting; once
central's `count_plan` document comes back (kept in `srv_docs`, no table of its own), its
progress is its tasks' states in the `tasks` rows — which already show a task done that a
pending `count.record` of this tablet counted, so progress is right offline and after sync.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from fulfillment.codes import Code
from fulfillment.counts import Count, SubmittedCount, _Counted
from fulfillment.plans import CountPlan, PlanProgress, progress
from sync.protocol import CountPlanCreate, Document, op_error

from ._docs import Acting, doc
from ._records import ActResult, from_iso, rows

__all__ = ["PlanReads", "PlanRecord", "apply_plan", "touched_by_plan_op"]


@dataclass(frozen=True)
class PlanRecord:
    """A count plan as the review shows it: central's (with progress), or this tablet's plan
    central has not answered (`waiting`), or one central refused (`refused`: its sentence)."""

    plan_id: str
    name: str
    scope: str
    due_at: datetime
    assignees: tuple[str, ...]
    created_by_name: str
    progress: PlanProgress | None  # None: central has not made its tasks yet (or refused)
    state: str  # open | waiting | refused
    message: str
    places: tuple[tuple[str, str, str, str], ...] = ()  # (task_id, sku, location, state)


def touched_by_plan_op(op_type: str, payload: dict[str, Any]) -> Iterator[tuple[Document, str]]:
    """No rows of its own to fold: a waiting plan is read from the outbox."""
    return iter(())


def apply_plan(act: Acting) -> ActResult:
    """`countplan.create`: checked here (a payload central would refuse is not queued, and a
    plan number this tablet already holds), then queued; central makes its tasks."""
    try:
        CountPlanCreate.model_validate(act.payload)
    except ValidationError as exc:
        return ActResult("rejected", False, Code.INVALID_INPUT, op_error(exc))
    plan_id = str(act.payload["plan_id"])
    if doc(act.conn, "count_plan", plan_id) is not None:
        return ActResult(
            "rejected", False, Code.DUPLICATE_PLAN, f"Count plan {plan_id} was already made"
        )
    return ActResult("applied", True, message="Plan saved: its count tasks are made at sync")


def _task_states(conn: sqlite3.Connection) -> dict[str, tuple[str, str, str]]:
    return {
        r["task_id"]: (r["sku"], r["location"], r["state"])
        for r in rows(conn, "SELECT task_id, sku, location, state FROM tasks")
    }


def _waiting(payload: dict[str, Any], state: str, message: str) -> PlanRecord | None:
    try:
        p = CountPlanCreate.model_validate(payload)
    except ValidationError:
        return None
    return PlanRecord(
        plan_id=p.plan_id,
        name=p.name,
        scope=str(p.by.value).replace("_", " "),
        due_at=p.due_at,
        assignees=tuple(p.assignees),
        created_by_name="",
        progress=None,
        state=state,
        message=message,
    )


class PlanReads:
    """The plan review's reads (a mixin of `LocalStore`)."""

    _conn: sqlite3.Connection

    def count_plans(self, now: datetime) -> list[PlanRecord]:
        """Every plan: waiting ones first, then central's by due time; refused ones of the
        last day last."""
        conn = self._conn
        tasks = _task_states(conn)
        states = {t: s for t, (_, _, s) in tasks.items()}
        made: list[PlanRecord] = []
        known: set[str] = set()
        for r in rows(conn, "SELECT id, data FROM srv_docs WHERE kind = 'count_plan'"):
            try:
                plan = CountPlan.model_validate_json(r["data"])
            except ValidationError:
                continue
            known.add(plan.plan_id)
            made.append(
                PlanRecord(
                    plan_id=plan.plan_id,
                    name=plan.name,
                    scope=plan.scope,
                    due_at=plan.due_at,
                    assignees=plan.assignees,
                    created_by_name=plan.created_by_name or plan.created_by,
                    progress=progress(plan, states, now),
                    state="open",
                    message=plan.message,
                    places=tuple((t, *tasks.get(t, ("", "", "open"))) for t in plan.task_ids),
                )
            )
        made.sort(key=lambda p: (p.due_at, p.plan_id))
        waiting = [
            w
            for r in rows(
                conn,
                """SELECT payload FROM outbox WHERE type = 'countplan.create'
                   AND seq > (SELECT last_applied_seq FROM sync_state WHERE id = 1)
                   ORDER BY seq""",
            )
            if (
                w := _waiting(
                    json.loads(r["payload"]),
                    "waiting",
                    "Waiting for central: its count tasks are made at the next sync",
                )
            )
            is not None
            and w.plan_id not in known
        ]
        refused = [
            w
            for r in rows(
                conn,
                """SELECT payload, message, acked_at FROM op_log
                   WHERE type = 'countplan.create' AND status = 'rejected'
                   ORDER BY seq DESC LIMIT 10""",
            )
            if (w := _waiting(json.loads(r["payload"]), "refused", r["message"] or "Refused"))
            is not None
            and w.plan_id not in known
            and _recent(r["acked_at"], now)
        ]
        return [*waiting, *made, *refused]

    def planned_tasks(self) -> dict[str, tuple[str | None, datetime | None]]:
        """The tasks of count plans: task id → (assignee, due time)."""
        out: dict[str, tuple[str | None, datetime | None]] = {}
        for task_id, assignee, due in self._conn.execute(
            """SELECT id, json_extract(data, '$.assignee'), json_extract(data, '$.due_at')
               FROM srv_docs WHERE kind = 'task' AND json_extract(data, '$.plan_id') IS NOT NULL"""
        ):
            out[task_id] = (
                assignee if isinstance(assignee, str) else None,
                from_iso(due) if isinstance(due, str) else None,
            )
        return out

    def active_staff(self) -> dict[str, str]:
        """Active staff: employee id → name (a plan's assignees)."""
        return {
            r[0]: r[1]
            for r in self._conn.execute("SELECT employee_id, name FROM staff WHERE active = 1")
        }

    def item_names(self) -> dict[str, str]:
        """The catalogue: sku → name."""
        return {r[0]: r[1] for r in self._conn.execute("SELECT sku, name FROM items")}

    def count_documents(self) -> list[_Counted]:
        """Every count on this tablet (central's, or this tablet's not answered yet:
        `submitted`, no book), oldest first — what the counts CSV holds."""
        out: list[_Counted] = []
        for (data,) in self._conn.execute("SELECT data FROM counts ORDER BY counted_at, count_id"):
            raw = json.loads(data)
            model: type[_Counted] = SubmittedCount if raw.get("book") is None else Count
            try:
                out.append(model.model_validate(raw))
            except ValidationError:
                continue
        return out

    def unplanned_counts(self) -> list[tuple[str, str, str, str]]:
        """Open recount tasks in no plan (a short's, a negative stock's, a count sent back):
        (task_id, sku, location, reason)."""
        planned: set[str] = set()
        for (data,) in self._conn.execute("SELECT data FROM srv_docs WHERE kind = 'count_plan'"):
            planned |= set(json.loads(data).get("task_ids") or ())
        return [
            (r["task_id"], r["sku"], r["location"], r["reason"])
            for r in rows(
                self._conn,
                """SELECT task_id, sku, location, reason FROM tasks
                   WHERE kind = 'recount' AND state IN ('open', 'pending', 'in_progress')
                   ORDER BY created_at, task_id""",
            )
            if r["task_id"] not in planned
        ]


def _recent(acked_at: str | None, now: datetime) -> bool:
    at = from_iso(acked_at) if acked_at else None
    return at is None or (now - at).total_seconds() < 86400
