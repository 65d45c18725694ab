"""Cycle counts on central: `count.record`, `count.approve`, `count.recount` (their apply
step), and the re-derivation of counts by late movements.

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

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import exists, func, select

from fulfillment import counts as rules
from fulfillment.codes import Code
from fulfillment.counts import SETTLED, Count, CountOutcome, CountState
from fulfillment.ledger import MovementKind
from fulfillment.outcome import Context, Status
from sync.protocol import CountDecision, CountRecord

from ..db.tables import counts, items, ledger
from .applying import Applying, ApplyStep, Said, clamp
from .count_docs import stage_count
from .documents import load_document, number_holder
from .effects import Effects, write_effects
from .feed import StoreTx

__all__ = [
    "apply_count",
    "book_at",
    "decide_count",
    "item_name",
    "load_count",
    "record_count",
]


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
    tx: StoreTx, outcome: CountOutcome, op: Applying, *, new: bool, task_id: str | None = None
) -> list[dict[str, Any]]:
    """Stage what a count rule decided: the count, then its effects; returns the follow-up
    tasks made. `task_id`: the task the count was asked by, done now."""
    count = outcome.count
    assert count is not None
    device_id = op.device.device_id
    stage_count(tx, count, op_id=op.op_id if new else None, device_id=device_id)
    return write_effects(
        tx,
        Effects(
            op_id=op.op_id,
            actor_id=op.actor_id,
            device_id=device_id,
            occurred_at=count.counted_at,
            movements=outcome.movements,
            count_id=count.count_id,
            settles=(count.sku, count.location) if count.state in SETTLED else None,
            followups=outcome.followups,
            finishes_task=task_id,
        ),
    )


def item_name(tx: StoreTx, sku: str) -> str | None:
    return tx.conn.execute(
        select(items.c.name).where(items.c.store_id == tx.store_id, items.c.sku == sku)
    ).scalar()


def _item(tx: StoreTx, sku: str) -> tuple[str, Decimal | None] | None:
    """The item's name and what a unit is worth for a count (its cost, else its price)."""
    found = tx.conn.execute(
        select(items.c.name, items.c.unit_cost, items.c.price).where(
            items.c.store_id == tx.store_id, items.c.sku == sku
        )
    ).first()
    if found is None:
        return None
    worth = found.unit_cost if found.unit_cost is not None else found.price
    return found.name, None if worth is None else Decimal(worth)


def _duplicate(tx: StoreTx, count_id: str, ctx: Context) -> Said | None:
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
    return Said(Status.REJECTED.value, Code.DUPLICATE_COUNT, message)


def _said(outcome: CountOutcome) -> str | None:
    """The op result's sentence. A waiting count's never names the book: whoever counted
    may be sent to count that shelf again, blind."""
    count = outcome.count
    if count is None:
        return outcome.message
    if count.state is CountState.AWAITING_APPROVAL:
        return f"{count.counted} counted: the difference waits for a manager"
    return outcome.message or count.message or None


def record_count(tx: StoreTx, op: Applying) -> Said:
    """`count.record`: a blind count against book(counted_at). A count is a physical fact:
    a wrong clock moves when it counts (into the window `occurred_at` is accepted in, told
    as CLOCK_SKEW), never refuses it."""
    payload: CountRecord = op.payload
    ctx = op.ctx
    clamped, skewed = clamp(payload.counted_at, op.device, tx.now)
    duplicate = _duplicate(tx, payload.count_id, ctx)
    if duplicate is not None:
        return replace(duplicate, skewed=skewed)
    item = _item(tx, payload.sku)
    if item is None:
        return Said(
            Status.REJECTED.value,
            Code.UNKNOWN_ITEM,
            f"No item {payload.sku} in this store",
            skewed=skewed,
        )
    name, unit_cost = item
    counted_at: datetime = min(clamped.astimezone(UTC), tx.now)
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
        unit_cost=unit_cost,
    )
    made = _write(tx, outcome, op, new=True, task_id=payload.task_id)
    return Said(outcome.status.value, outcome.code, _said(outcome), tuple(made), skewed)


def decide_count(tx: StoreTx, op: Applying) -> Said:
    """`count.approve` (the adjustment against book(counted_at) as the ledger has it now) or
    `count.recount` (a new blind count)."""
    payload: CountDecision = op.payload
    ctx = op.ctx
    count = load_count(tx, payload.count_id)
    if count is None:
        return Said(
            Status.REJECTED.value, Code.UNKNOWN_COUNT, f"No count {payload.count_id} in this store"
        )
    if op.op_type == "count.approve":
        book = book_at(tx, count.sku, count.location, count.counted_at)
        outcome = rules.approve(count, book, ctx)
    else:
        outcome = rules.send_back(count, ctx)
    if outcome.count is None:
        return Said(outcome.status.value, outcome.code, outcome.message)
    made = _write(tx, outcome, op, new=False)
    return Said(
        outcome.status.value, outcome.code, outcome.message or outcome.count.message, tuple(made)
    )


_STEPS: dict[str, ApplyStep] = {
    "count.record": record_count,
    "count.approve": decide_count,
    "count.recount": decide_count,
}


def apply_count(tx: StoreTx, op: Applying) -> Said:
    """The apply step of every `count` op."""
    return _STEPS[op.op_type](tx, op)
