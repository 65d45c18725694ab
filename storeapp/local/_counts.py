"""Counts: the `counts` rows (central's `count` documents, else the count of this device's
pending `count.record` — state `submitted`, no book: `fulfillment.counts.submitted` — with
the pending `count.approve` / `count.recount` decisions on top), and the tablet's side of
the count ops. A pending `count.record` naming a task shows that task done (`_tasks`)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from fulfillment.codes import Code
from fulfillment.counts import Count, CountOutcome, CountState, approve, send_back, submitted
from fulfillment.model import Policy
from fulfillment.outcome import Context, Status
from sync.protocol import Document

from ._docs import Acting, Pending, Staff, context_for, dumps, ops_on, parsed_doc
from ._records import ActResult, CountRecord, from_iso, row, to_iso
from ._tasks import close_open_task

__all__ = [
    "UPSERT_COUNT",
    "apply_count",
    "count_record",
    "count_row",
    "decide_count",
    "fold_count",
    "submitted_count",
    "touched_by_count_op",
]

UPSERT_COUNT = """INSERT OR REPLACE INTO counts
    (count_id, task_id, sku, location, state, counted_at, counted_by, pending, data)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"""


def count_row(data: Mapping[str, Any], pending: int) -> tuple[Any, ...]:
    counted_at = from_iso(str(data["counted_at"]))
    assert counted_at is not None
    return (
        data["count_id"],
        data.get("task_id"),
        data["sku"],
        data["location"],
        data["state"],
        to_iso(counted_at),
        data["counted_by"],
        pending,
        dumps(data),
    )


def count_record(data: Mapping[str, Any], pending: bool) -> CountRecord:
    """A counts row's document as the screens read it."""
    counted_at = from_iso(str(data["counted_at"]))
    assert counted_at is not None
    return CountRecord(
        count_id=str(data["count_id"]),
        task_id=data.get("task_id"),
        sku=str(data["sku"]),
        location=str(data["location"]),
        name=str(data.get("name") or data["sku"]),
        counted=int(data["counted"]),
        counted_at=counted_at,
        counted_by=str(data["counted_by"]),
        counted_by_name=str(data.get("counted_by_name") or data["counted_by"]),
        state=str(data["state"]),
        book=None if data.get("book") is None else int(data["book"]),
        variance=None if data.get("variance") is None else int(data["variance"]),
        adjustment=int(data.get("adjustment") or 0),
        message=str(data.get("message") or ""),
        decided_by=data.get("decided_by"),
        decided_by_name=data.get("decided_by_name"),
        pending=pending,
        value=_money(data.get("value")),
    )


def _money(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def submitted_count(
    conn: sqlite3.Connection, payload: Mapping[str, Any], actor_id: str, staff: Staff
) -> dict[str, Any]:
    """The count of a `count.record` as this tablet knows it before central answers, with
    the item's name from the catalogue and the counter's from the staff list."""
    sku = str(payload["sku"])
    name = row(conn, "SELECT name FROM items WHERE sku = ?", (sku,))
    counted_at = datetime.fromisoformat(str(payload["counted_at"]).replace("Z", "+00:00"))
    return submitted(
        count_id=str(payload["count_id"]),
        task_id=payload.get("task_id"),
        sku=sku,
        location=str(payload["location"]),
        counted=int(payload["qty"]),
        counted_at=counted_at,
        counted_by=actor_id,
        name=name["name"] if name else "",
        counted_by_name=staff.get(actor_id, (actor_id, ""))[0],
    ).model_dump(mode="json")


def decide_count(data: Mapping[str, Any], op_type: str, ctx: Context) -> CountOutcome:
    """`count.approve` / `count.recount` on the count as this tablet holds it (the rules of
    `fulfillment.counts`: only a waiting count, never by the person who counted)."""
    if data.get("state") == CountState.SUBMITTED:
        return CountOutcome(
            Status.REJECTED,
            None,
            code="NOT_WAITING",
            message="Central has not answered this count yet: decide once it has synced",
        )
    count = Count.model_validate(dict(data))
    if op_type == "count.approve":
        return approve(count, count.book, ctx)
    return send_back(count, ctx)


def fold_count(
    conn: sqlite3.Connection,
    count_id: str,
    pending: list[Pending],
    policy: Policy,
    staff: Staff,
    timezone: str,
) -> None:
    """counts row = central's document, else the count of a pending `count.record`; then the
    pending decisions on top."""
    count = parsed_doc(conn, "count", count_id, Count)
    data = count.model_dump(mode="json") if count is not None else None
    mine = ops_on(pending, Document.COUNT, count_id)
    for p in mine:
        if p.type == "count.record":
            if data is None:
                data = submitted_count(conn, p.payload, p.actor_id, staff)
        elif data is not None:
            ctx = context_for(p.actor_id, p.occurred_at, policy, staff, timezone)
            got = decide_count(data, p.type, ctx)
            if got.count is not None:
                data = got.count.model_dump(mode="json")
    conn.execute("DELETE FROM counts WHERE count_id = ?", (count_id,))
    if data is not None:
        conn.execute(UPSERT_COUNT, count_row(data, len(mine)))


def touched_by_count_op(op_type: str, payload: dict[str, Any]) -> Iterator[tuple[Document, str]]:
    yield Document.COUNT, str(payload.get("count_id"))
    if op_type == "count.record" and payload.get("task_id"):
        yield Document.TASK, str(payload["task_id"])


def apply_count(act: Acting) -> ActResult:
    """`count.record` is a fact: a pending count (no book) and its task shown done. A
    decision is an intent: refused (nothing queued) when the count is not waiting or was
    made by the same person."""
    conn, payload = act.conn, act.payload
    count_id = payload["count_id"]
    found = row(conn, "SELECT data, pending FROM counts WHERE count_id = ?", (count_id,))
    if act.spec.name == "count.record":
        if found is not None:
            return ActResult(
                "rejected", False, Code.DUPLICATE_COUNT, f"Count {count_id} is already recorded"
            )
        data = submitted_count(conn, payload, act.actor_id, act.staff)
        conn.execute(UPSERT_COUNT, count_row(data, 1))
        if payload.get("task_id"):
            close_open_task(conn, payload["task_id"])
        return ActResult("applied", True, count=count_record(data, True))
    if found is None:
        return ActResult(
            "rejected", False, Code.UNKNOWN_COUNT, f"Count {count_id} is not on this tablet"
        )
    outcome = decide_count(json.loads(found["data"]), act.spec.name, act.context())
    if outcome.count is None:
        return ActResult(outcome.status.value, False, outcome.code, outcome.message)
    data = outcome.count.model_dump(mode="json")
    conn.execute(UPSERT_COUNT, count_row(data, found["pending"] + 1))
    return ActResult(
        outcome.status.value,
        True,
        outcome.code,
        outcome.message,
        count=count_record(data, True),
    )
