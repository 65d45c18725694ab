"""Count plans on central (issue #12): `countplan.create` (manager only) expands a manager's
selection into blind count tasks.

Central expands, not the tablet: the ABC class needs the ledger's units moved over N days,
and "negative or doubtful" needs the stock as central has it now; a tablet offline queues the
plan and shows it as waiting until central has made its tasks. The selection, the ABC class
and how the places are shared among the assignees are `fulfillment.plans` (pure); this
module reads what they need and stages what they decide in the op's scope: the plan (a
`count_plan` document) and its tasks (`recount` tasks with plan, assignee and due time).
An open recount task of a chosen place (a short's, a negative stock's) is adopted by the
plan, not made twice.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, select

from fulfillment import plans as rules
from fulfillment.codes import Code
from fulfillment.outcome import Status, TaskKind
from fulfillment.plans import AbcClass, CountPlan, PlanBy, PlanItem, PlanStock, Target
from sync.protocol import CountPlanCreate

from ..db.engine import reading
from ..db.tables import count_plans, items, ledger, staff, stock, tasks
from .applying import Applying, Said
from .documents import load_document, stage_document
from .feed import StoreTx
from .staging import PLAN, TASK
from .tasks import task_doc

__all__ = ["apply_plan", "plan_scope", "plans_view", "units_moved"]


def plan_scope(p: CountPlanCreate) -> str:
    """The selection in words: 'aisles A-01 to A-03', 'category Shoes', 'class A items'."""
    if p.by is PlanBy.LOCATION_RANGE:
        last = p.location_to or p.location_from
        return (
            f"locations {p.location_from} to {last}"
            if last != p.location_from
            else (f"location {p.location_from}")
        )
    if p.by is PlanBy.CATEGORY:
        return f"category {p.category}"
    if p.by is PlanBy.ABC:
        return f"class {p.abc_class} items (units moved in the last {p.days} days)"
    if p.by is PlanBy.DOUBTFUL:
        return "negative or doubtful stock"
    named = [*p.skus, *p.places]
    more = f" and {len(named) - 5} more" if len(named) > 5 else ""
    return "listed: " + ", ".join(named[:5]) + more


def units_moved(tx: StoreTx, days: int) -> dict[str, int]:
    """Per sku, the units that left to customers (tills, shipments, hand-overs; till returns
    taken off) in the last `days`: the ledger's `on_hand_delta` of those kinds, negated."""
    g = ledger.c
    since = tx.now - timedelta(days=days)
    kinds = sorted(k.value for k in rules.SOLD_KINDS)
    rows = tx.conn.execute(
        select(g.sku, func.sum(g.on_hand_delta))
        .where(
            g.store_id == tx.store_id,
            g.kind.in_(kinds),
            g.occurred_at > since,
            g.occurred_at <= tx.now,
        )
        .group_by(g.sku)
    ).all()
    return {sku: -int(delta or 0) for sku, delta in rows}


def _catalogue(tx: StoreTx) -> tuple[list[PlanItem], list[PlanStock]]:
    c, s = items.c, stock.c
    found = [
        PlanItem(r.sku, r.name, r.location, r.location_seq, r.category)
        for r in tx.conn.execute(
            select(c.sku, c.name, c.location, c.location_seq, c.category).where(
                c.store_id == tx.store_id
            )
        )
    ]
    held = [
        PlanStock(r.sku, r.location, r.on_hand, bool(r.doubtful))
        for r in tx.conn.execute(
            select(s.sku, s.location, s.on_hand, s.doubtful).where(s.store_id == tx.store_id)
        )
    ]
    return found, held


def _open_recounts(tx: StoreTx) -> dict[tuple[str, str], dict[str, Any]]:
    """The store's open recount tasks by (sku, location), written or staged."""
    t = tasks.c
    found = {
        (r["sku"], r["location"]): dict(r)
        for r in tx.conn.execute(
            select(tasks).where(
                t.store_id == tx.store_id, t.kind == TaskKind.RECOUNT.value, t.state == "open"
            )
        ).mappings()
    }
    for row in tx.staged.every(TASK).values():
        key = (row.get("sku"), row.get("location"))
        if row.get("kind") == TaskKind.RECOUNT.value:
            if row.get("state") == "open":
                found[key] = row
            else:
                found.pop(key, None)
    return found


def _active_staff(tx: StoreTx) -> set[str]:
    s = staff.c
    return set(
        tx.conn.execute(
            select(s.employee_id).where(s.store_id == tx.store_id, s.active.is_(True))
        ).scalars()
    )


def _task(
    tx: StoreTx, op: Applying, plan: CountPlan, target: Target, assignee: str | None
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "task_id": f"T-{uuid.uuid4().hex[:10]}",
        "store_id": tx.store_id,
        "kind": TaskKind.RECOUNT.value,
        "sku": target.sku,
        "location": target.location,
        "qty": 0,
        "order_id": None,
        "reason": f"Count plan \u201c{plan.name}\u201d: count {target.name} at {target.location}",
        "state": "open",
        "op_id": op.op_id,
        "created_at": tx.now,
        "plan_id": plan.plan_id,
        "assignee": assignee,
        "due_at": plan.due_at,
    }
    tx.staged.stage_new(TASK, row["task_id"], row)
    tx.publish("task", row["task_id"], task_doc(row))
    return row


def apply_plan(tx: StoreTx, op: Applying) -> Said:
    """`countplan.create`: the plan's places (`fulfillment.plans.select_targets`), one blind
    count task each (an open recount of the place adopted instead), shared among the
    assignees in walking order; the plan published with its task ids."""
    p: CountPlanCreate = op.payload
    ctx = op.ctx
    staged = tx.staged.latest(PLAN, p.plan_id)
    existing = load_document(
        tx,
        None if staged is None else staged["data"],
        count_plans,
        count_plans.c.plan_id,
        p.plan_id,
        CountPlan,
    )
    if existing is not None or _plan_elsewhere(tx, p.plan_id):
        return Said(
            Status.REJECTED.value,
            Code.DUPLICATE_PLAN,
            f"Count plan {p.plan_id} was already made: it was not made again",
        )
    people = _active_staff(tx)
    unknown = [a for a in p.assignees if a not in people]
    if unknown:
        return Said(
            Status.REJECTED.value,
            Code.UNKNOWN_ASSOCIATE,
            f"{', '.join(unknown)} is not on this store's staff: the plan was not made",
        )
    found, held = _catalogue(tx)
    classes: dict[str, AbcClass] | None = None
    if p.by is PlanBy.ABC:
        classes = rules.abc_classes(units_moved(tx, p.days), (i.sku for i in found))
    targets = rules.select_targets(
        p.by,
        found,
        held,
        location_from=p.location_from,
        location_to=p.location_to,
        category=p.category,
        abc_class=p.abc_class,
        classes=classes,
        skus=p.skus,
        places=p.places,
    )
    scope = plan_scope(p)
    if not targets:
        return Said(
            Status.REJECTED.value,
            Code.EMPTY_PLAN,
            f"Nothing to count in {scope}: the plan was not made",
        )
    plan = CountPlan(
        plan_id=p.plan_id,
        name=p.name,
        by=p.by,
        scope=scope,
        due_at=p.due_at,
        assignees=tuple(p.assignees),
        created_by=op.actor_id,
        created_by_name=ctx.name_of(op.actor_id),
        created_at=tx.now,
    )
    open_ones = _open_recounts(tx)
    task_ids: list[str] = []
    adopted = 0
    for target, who in zip(targets, rules.share_out(targets, p.assignees), strict=True):
        same = open_ones.get((target.sku, target.location))
        if same is not None and not same.get("plan_id"):
            changed = {**same, "plan_id": plan.plan_id, "assignee": who, "due_at": plan.due_at}
            tx.staged.stage_change(TASK, same["task_id"], changed)
            tx.publish("task", same["task_id"], task_doc(changed))
            task_ids.append(same["task_id"])
            adopted += 1
            continue
        if same is not None:  # already in another plan: counted there
            task_ids.append(same["task_id"])
            continue
        task_ids.append(_task(tx, op, plan, target, who)["task_id"])
    words = f"{len(task_ids)} place(s) to count by {ctx.clock_time(plan.due_at)}"
    if adopted:
        words += f" ({adopted} already asked for a recount)"
    plan = plan.model_copy(update={"task_ids": tuple(task_ids), "message": words})
    stage_document(
        tx,
        "count_plan",
        plan.plan_id,
        plan,
        new=True,
        op_id=op.op_id,
        device_id=op.device.device_id,
    )
    return Said(Status.APPLIED.value, None, f"Count plan \u201c{plan.name}\u201d: {words}")


def _plan_elsewhere(tx: StoreTx, plan_id: str) -> bool:
    """A plan number used in another store (say nothing more about it)."""
    return (
        tx.conn.execute(
            select(count_plans.c.plan_id).where(count_plans.c.plan_id == plan_id)
        ).first()
        is not None
    )


def plans_view(engine: Engine, store_id: str, now: datetime) -> list[dict[str, Any]]:
    """The store's count plans, by due time, each with its progress (counted / total,
    overdue) and the places not counted yet (`fulfillment.plans.progress`)."""
    p, t = count_plans.c, tasks.c
    with reading(engine) as conn:
        found = [
            CountPlan.model_validate(data)
            for (data,) in conn.execute(
                select(p.data).where(p.store_id == store_id).order_by(p.due_at, p.plan_id)
            )
        ]
        places = {
            r.task_id: r
            for r in conn.execute(
                select(t.task_id, t.sku, t.location, t.state, t.assignee, t.done_by).where(
                    t.store_id == store_id, t.plan_id.is_not(None)
                )
            )
        }
    out: list[dict[str, Any]] = []
    for plan in found:
        states = {task_id: row.state for task_id, row in places.items()}
        got = rules.progress(plan, states, now)
        out.append(
            {
                **plan.model_dump(mode="json"),
                "counted": got.counted,
                "total": got.total,
                "overdue": got.overdue,
                "not_counted": [
                    {
                        "task_id": task_id,
                        "sku": places[task_id].sku if task_id in places else None,
                        "location": places[task_id].location if task_id in places else None,
                        "assignee": places[task_id].assignee if task_id in places else None,
                    }
                    for task_id in got.not_counted
                ],
            }
        )
    return out
