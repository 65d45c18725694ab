"""Orders: the `orders` row (central's document, its lines filled from the catalogue, with
this device's pending ops folded on top), and the tablet's side of an order op.

Rebase (PROTOCOL.md, "The tablet's side"): `orders.data` is the fold of `apply_order_op`
over the outbox ops with `seq > last_applied_seq` (those the server has not applied yet),
in seq order, starting from the server document. A pending op the rules now refuse
(someone else claimed the order) simply does not change the fold; central will answer it.
A pending `return.receive` of the order is part of its fold (the lines' `returned` counts
move on): `_returns` folds it, handed in as `receive`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

from fulfillment.codes import Code
from fulfillment.model import Order, Policy
from fulfillment.outcome import Context, Status
from fulfillment.picking import apply_order_op
from sync.protocol import Document

from ._docs import Acting, Pending, Staff, acts_on, context_for, parsed_doc
from ._records import ActResult, row, rows, to_iso

__all__ = [
    "UPSERT_ORDER",
    "ReceiveInOrder",
    "apply_order",
    "fold_order",
    "order_row",
    "touched_by_order_op",
]

UPSERT_ORDER = """INSERT OR REPLACE INTO orders
    (order_id, type, state, priority, due_at, assignee, pickup_code, search, pending, data)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"""

# a pending `return.receive` folded into its order: the order after it (None: unchanged)
ReceiveInOrder = Callable[[Order, Pending, Context], "Order | None"]


def _search_text(order: Order) -> str:
    c = order.customer
    phone_digits = "".join(ch for ch in c.phone if ch.isdigit())
    return " ".join(
        x for x in (order.order_id, c.name, c.email, c.phone, phone_digits) if x
    ).lower()


def order_row(order: Order, pending: int) -> tuple[Any, ...]:
    return (
        order.order_id,
        order.type.value,
        order.state.value,
        order.priority,
        to_iso(order.due_at),
        order.assignee,
        order.pickup_code.strip().upper() if order.pickup_code else None,
        _search_text(order),
        pending,
        order.model_dump_json(),
    )


def _enrich(conn: sqlite3.Connection, order: Order) -> Order:
    """Fill a line's name, GTINs and location from the catalogue when central left them out."""
    if all(line.gtins and line.name and line.location for line in order.lines):
        return order
    lines = []
    for line in order.lines:
        if line.gtins and line.name and line.location:
            lines.append(line)
            continue
        item = row(
            conn, "SELECT name, location, location_seq FROM items WHERE sku = ?", (line.sku,)
        )
        codes = tuple(
            r["gtin"]
            for r in rows(conn, "SELECT gtin FROM gtins WHERE sku = ? ORDER BY gtin", (line.sku,))
        )
        update: dict[str, Any] = {}
        if not line.gtins and codes:
            update["gtins"] = codes
        if item and not line.name:
            update["name"] = item["name"]
        if item and not line.location:
            update["location"], update["location_seq"] = item["location"], item["location_seq"]
        lines.append(line.model_copy(update=update) if update else line)
    return order.model_copy(update={"lines": tuple(lines)})


def fold_order(
    conn: sqlite3.Connection,
    order_id: str,
    pending: list[Pending],
    policy: Policy,
    staff: Staff,
    timezone: str,
    receive: ReceiveInOrder,
) -> None:
    """orders row = the fold of this order's pending ops (order ops and received returns)
    over central's document; gone when central has none (or it does not parse)."""
    parsed = parsed_doc(conn, "order", order_id, Order)
    if parsed is None:
        conn.execute("DELETE FROM orders WHERE order_id = ?", (order_id,))
        return
    order = _enrich(conn, parsed)
    count = 0
    for p in pending:
        if p.payload.get("order_id") != order_id:
            continue
        if acts_on(p.type, Document.ORDER):
            count += 1
            outcome = apply_order_op(
                order, p.type, p.payload, context_for(p.actor_id, p.occurred_at, policy, staff)
            )
            if outcome.status is not Status.REJECTED:
                order = outcome.order
        elif p.type == "return.receive":
            count += 1
            ctx = context_for(p.actor_id, p.occurred_at, policy, staff, timezone)
            after = receive(order, p, ctx)
            if after is not None:
                order = after
    conn.execute(UPSERT_ORDER, order_row(order, count))


def touched_by_order_op(op_type: str, payload: dict[str, Any]) -> Iterator[tuple[Document, str]]:
    yield Document.ORDER, str(payload.get("order_id"))


def apply_order(act: Acting) -> ActResult:
    """An order op on the order as this tablet holds it (`fulfillment.picking`). A refused
    intent, or one on an order not here, writes nothing; a fact (`spec.fact`: a scan, a
    put-back, a short) is queued all the same, for central to check."""
    order_id = act.payload["order_id"]
    found = row(act.conn, "SELECT data, pending FROM orders WHERE order_id = ?", (order_id,))
    if found is None:
        if not act.spec.fact:
            return ActResult(
                "rejected", False, Code.UNKNOWN_ORDER, f"Order {order_id} is not on this tablet"
            )
        return ActResult(
            Status.COMPENSATED.value,
            True,
            Code.UNKNOWN_ORDER,
            f"Order {order_id} is not on this tablet yet: saved for central to check",
        )
    order = act.parse_order(order_id, found["data"])
    outcome = apply_order_op(order, act.spec.name, act.payload, act.context())
    status = outcome.status.value
    if outcome.status is Status.REJECTED and not act.spec.fact:
        return ActResult(status, False, outcome.code, outcome.message, order=outcome.order)
    act.conn.execute(UPSERT_ORDER, order_row(outcome.order, found["pending"] + 1))
    return ActResult(
        status,
        True,
        outcome.code,
        outcome.message,
        order=outcome.order,
        followups=outcome.followups,
    )
