"""Cycle counts and stock adjustments on central: `count.record`, `count.approve`,
`count.recount`, `stock.adjust`, and the re-derivation of counts by late movements.

The rules are `fulfillment.counts`; this module gives them what only central has — the
book as of `counted_at` (the ledger's balance of the movements that occurred up to then,
including those staged earlier in this push), the count just before, whether anything moved
in between — and stages what they decide in the op's scope: the count document (published
as a `count` change), the `count_adjust` movement, recount tasks (the stock becomes
doubtful) and, once a count settles, the stock's doubt cleared.

A movement of on-hand that reaches central after a count dated after it (a tablet was
offline) changed book(counted_at): `ledger.late_movement` (the ledger records the movement,
so it re-derives too) re-derives the latest settled count at or after it — one correction,
so on-hand is again what was counted then plus what happened since — and restates the
waiting counts in between.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import exists, func, select

from fulfillment import counts as rules
from fulfillment.codes import Code
from fulfillment.counts import SETTLED, Count, CountOutcome, CountState
from fulfillment.ledger import Movement, MovementKind
from fulfillment.outcome import Context, Status, TaskKind

from ..db.tables import counts, items, ledger
from . import ledger as ledger_service
from .count_docs import stage_count
from .documents import load_document, number_holder
from .feed import StoreTx
from .tasks import create_tasks, find_task, update_task

__all__ = [
    "CountAnswer",
    "adjust_stock",
    "book_at",
    "decide_count",
    "load_count",
    "record_count",
]


@dataclass(frozen=True)
class CountAnswer:
    """What the op's result says."""

    status: str
    code: str | None = None
    message: str | None = None
    followups: tuple[dict[str, Any], ...] = ()


# --- reads that see what is staged ----------------------------------------------------------


def book_at(tx: StoreTx, sku: str, location: str, at: datetime) -> int:
    """book(t): the ledger's balance of the movements of sku@location that occurred up to
    `at`, written or staged in this transaction."""
    g = ledger.c
    written = tx.conn.execute(
        select(func.coalesce(func.sum(g.on_hand_delta), 0)).where(
            g.store_id == tx.store_id, g.sku == sku, g.location == location, g.occurred_at <= at
        )
    ).scalar_one()
    staged: int = sum(
        r["on_hand_delta"] for r in tx.staged.ledger_rows(sku, location) if r["occurred_at"] <= at
    )
    return int(written) + staged


def _moved_between(tx: StoreTx, sku: str, location: str, after: datetime, upto: datetime) -> bool:
    """Did anything but a count adjustment move on-hand in (after, upto]?"""
    kind = MovementKind.COUNT_ADJUST.value
    for r in tx.staged.ledger_rows(sku, location):
        if r["on_hand_delta"] and r["kind"] != kind and after < r["occurred_at"] <= upto:
            return True
    g = ledger.c
    return bool(
        tx.conn.execute(
            select(
                exists().where(
                    g.store_id == tx.store_id,
                    g.sku == sku,
                    g.location == location,
                    g.on_hand_delta != 0,
                    g.kind != kind,
                    g.occurred_at > after,
                    g.occurred_at <= upto,
                )
            )
        ).scalar()
    )


def load_count(tx: StoreTx, count_id: str) -> Count | None:
    """The count's current document in this store (what is staged first)."""
    staged = tx.staged.count_doc(count_id)
    return load_document(tx, staged, counts, counts.c.count_id, count_id, Count)


# the order of counts of one sku/location: when counted, then when central recorded them
_Order = tuple[datetime, datetime, str]


def _previous(tx: StoreTx, sku: str, location: str, at: datetime) -> Count | None:
    """The latest count of sku@location counted at or before `at`."""
    c = counts.c
    row = tx.conn.execute(
        select(c.data, c.created_at)
        .where(c.store_id == tx.store_id, c.sku == sku, c.location == location, c.counted_at <= at)
        .order_by(c.counted_at.desc(), c.created_at.desc(), c.count_id.desc())
        .limit(1)
    ).first()
    best: tuple[_Order, Count] | None = None
    if row is not None:
        doc = Count.model_validate(row.data)
        doc = tx.staged.count_doc(doc.count_id) or doc
        best = ((doc.counted_at, row.created_at, doc.count_id), doc)
    for count_id, doc in tx.staged.counts_of(sku, location).items():
        if doc.counted_at > at:
            continue
        order = (doc.counted_at, tx.now, count_id)
        if best is None or (best[1].count_id != count_id and order > best[0]):
            best = (order, doc)
    return best[1] if best is not None else None


# --- writes ---------------------------------------------------------------------------------


def _write(
    tx: StoreTx,
    outcome: CountOutcome,
    *,
    op_id: str,
    actor_id: str,
    device_id: str | None,
    new: bool,
) -> list[dict[str, Any]]:
    """Stage what a count rule decided; returns the follow-up tasks made."""
    count = outcome.count
    assert count is not None
    stage_count(tx, count, op_id=op_id if new else None, device_id=device_id)
    ledger_service.record_movements(
        tx,
        outcome.movements,
        occurred_at=count.counted_at,
        op_id=op_id,
        actor_id=actor_id,
        count_id=count.count_id,
    )
    recounts = {(f.sku, f.location) for f in outcome.followups if f.kind is TaskKind.RECOUNT}
    if recounts:
        ledger_service.mark_doubtful(tx, recounts)
    elif count.state in SETTLED:  # the shelf was counted and the books follow it
        ledger_service.mark_doubtful(tx, [(count.sku, count.location)], doubtful=False)
    return create_tasks(tx, outcome.followups, op_id)


def _item_name(tx: StoreTx, sku: str) -> str | None:
    return tx.conn.execute(
        select(items.c.name).where(items.c.store_id == tx.store_id, items.c.sku == sku)
    ).scalar()


def _duplicate(tx: StoreTx, count_id: str, ctx: Context) -> CountAnswer | None:
    """A count number already used by another op: refused, so one count never posts twice."""
    staged = tx.staged.count_doc(count_id)
    holder = number_holder(tx, staged, counts, counts.c.count_id, count_id, Count)
    if holder is None:
        return None
    store_id, earlier = holder
    if store_id != tx.store_id:  # another store's count: say nothing about it
        message = f"Count number {count_id} is already used: this count was not recorded"
    else:
        message = (
            f"Count {count_id} was already recorded by {earlier.counted_by_name or earlier.counted_by}"
            f" at {ctx.clock_time(earlier.counted_at)}: this one was not recorded again"
        )
    return CountAnswer(Status.REJECTED.value, Code.DUPLICATE_COUNT, message)


def _said(outcome: CountOutcome) -> str | None:
    """The op result's sentence. A waiting count's never names the book: whoever counted
    may be sent to count that shelf again, blind."""
    count = outcome.count
    if count is None:
        return outcome.message
    if count.state is CountState.AWAITING_APPROVAL:
        return f"{count.counted} counted: the difference waits for a manager"
    return outcome.message or count.message or None


def record_count(
    tx: StoreTx,
    payload: Any,
    ctx: Context,
    *,
    op_id: str,
    device_id: str | None,
) -> CountAnswer:
    """`count.record`: a blind count against book(counted_at)."""
    duplicate = _duplicate(tx, payload.count_id, ctx)
    if duplicate is not None:
        return duplicate
    name = _item_name(tx, payload.sku)
    if name is None:
        return CountAnswer(
            Status.REJECTED.value, Code.UNKNOWN_ITEM, f"No item {payload.sku} in this store"
        )
    counted_at: datetime = min(payload.counted_at.astimezone(UTC), tx.now)
    sku, location = payload.sku, payload.location
    previous = _previous(tx, sku, location, counted_at)
    moved = previous is None or _moved_between(tx, sku, location, previous.counted_at, counted_at)
    outcome = rules.record(
        count_id=payload.count_id,
        task_id=payload.task_id,
        sku=sku,
        location=location,
        counted=payload.qty,
        counted_at=counted_at,
        book=book_at(tx, sku, location, counted_at),
        ctx=ctx,
        name=name,
        previous=previous,
        moved_since_previous=moved,
    )
    made = _write(tx, outcome, op_id=op_id, actor_id=ctx.actor_id, device_id=device_id, new=True)
    if payload.task_id:
        task = find_task(tx, payload.task_id)
        if task is not None and task["state"] == "open":
            update_task(tx, task, state="done", done_by=ctx.actor_id)
    return CountAnswer(outcome.status.value, outcome.code, _said(outcome), tuple(made))


def decide_count(
    tx: StoreTx,
    op_type: str,
    payload: Any,
    ctx: Context,
    *,
    op_id: str,
    device_id: str | None,
) -> CountAnswer:
    """`count.approve` (the adjustment against book(counted_at) as the ledger has it now) or
    `count.recount` (a new blind count)."""
    count = load_count(tx, payload.count_id)
    if count is None:
        return CountAnswer(
            Status.REJECTED.value, Code.UNKNOWN_COUNT, f"No count {payload.count_id} in this store"
        )
    if op_type == "count.approve":
        book = book_at(tx, count.sku, count.location, count.counted_at)
        outcome = rules.approve(count, book, ctx)
    else:
        outcome = rules.send_back(count, ctx)
    if outcome.count is None:
        return CountAnswer(outcome.status.value, outcome.code, outcome.message)
    made = _write(tx, outcome, op_id=op_id, actor_id=ctx.actor_id, device_id=device_id, new=False)
    return CountAnswer(
        outcome.status.value, outcome.code, outcome.message or outcome.count.message, tuple(made)
    )


def adjust_stock(
    tx: StoreTx, payload: Any, ctx: Context, *, op_id: str, occurred_at: datetime
) -> CountAnswer:
    """`stock.adjust` (a manager): an `adjust` movement; its reason is the ledger row's note."""
    name = _item_name(tx, payload.sku)
    if name is None:
        return CountAnswer(
            Status.REJECTED.value, Code.UNKNOWN_ITEM, f"No item {payload.sku} in this store"
        )
    move = Movement(
        kind=MovementKind.ADJUST, sku=payload.sku, location=payload.location, qty=payload.delta
    )
    ledger_service.record_movements(
        tx,
        [move],
        occurred_at=occurred_at,
        op_id=op_id,
        actor_id=ctx.actor_id,
        note=payload.reason,
    )
    return CountAnswer(
        Status.APPLIED.value,
        message=f"{payload.delta:+d} × {name} at {payload.location}: {payload.reason}",
    )


# --- late movements -------------------------------------------------------------------------
