"""Inbound shipments and transfers on the tablet.

An inbound shipment is central's `inbound` document as pulled, with this tablet's pending
`inbound.*` ops folded on top by the same rules (`fulfillment.receiving`) when a screen reads
it: the document has no table of its own here, so nothing is re-projected at rebase. Counts
are facts: queued even on a closed receipt (central compensates) — only a count on a
shipment this tablet has never heard of is refused before it is queued, and closing one.

`transfer.create` (a manager's) is listed in the outbox until central's `order` of type
`transfer` comes back by pull and joins the pick queue.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from fulfillment import receiving as rules
from fulfillment.codes import Code
from fulfillment.outcome import Status
from fulfillment.receiving import Inbound, InboundOutcome
from sync.protocol import Document

from ._docs import (
    Acting,
    Pending,
    context_for,
    ops_on,
    parsed_doc,
    pending_ops,
    staff_index,
    store_policy,
    store_timezone,
)
from ._records import ActResult

__all__ = ["apply_inbound", "apply_transfer", "folded_inbound", "folded_inbounds"]


def _rule(inbound: Inbound, op_type: str, payload: dict[str, Any], ctx: Any) -> InboundOutcome:
    if op_type == "inbound.count":
        return rules.count(
            inbound,
            payload["sku"],
            int(payload.get("qty") or 0),
            int(payload.get("damaged") or 0),
            ctx,
        )
    if op_type == "inbound.carton":
        return rules.receive_carton(inbound, payload["sscc"], ctx)
    return rules.close(inbound, ctx)


def _fold(conn: sqlite3.Connection, inbound: Inbound, pending: list[Pending]) -> Inbound:
    mine = ops_on(pending, Document.INBOUND, inbound.shipment_id)
    if not mine:
        return inbound
    policy, staff, zone = store_policy(conn), staff_index(conn), store_timezone(conn)
    for p in mine:
        ctx = context_for(p.actor_id, p.occurred_at, policy, staff, zone)
        inbound = _rule(inbound, p.type, p.payload, ctx).inbound
    return inbound


def folded_inbound(conn: sqlite3.Connection, shipment_id: str) -> Inbound | None:
    """The shipment as central last said, with this tablet's pending counts on top."""
    found = parsed_doc(conn, "inbound", shipment_id, Inbound)
    return _fold(conn, found, pending_ops(conn)) if found is not None else None


def folded_inbounds(conn: sqlite3.Connection) -> list[Inbound]:
    """Every shipment on this tablet, folded, in the order they were announced."""
    ids = [r[0] for r in conn.execute("SELECT id FROM srv_docs WHERE kind = 'inbound'")]
    pending = pending_ops(conn)
    found: list[Inbound] = []
    for id_ in ids:
        doc = parsed_doc(conn, "inbound", id_, Inbound)
        if doc is not None:
            found.append(_fold(conn, doc, pending))
    return sorted(found, key=lambda x: (x.announced_at is None, x.announced_at, x.shipment_id))


def apply_inbound(act: Acting) -> ActResult:
    """`inbound.count`, `inbound.carton`, `inbound.close`: the tablet's answer by the rules on
    the shipment as it shows here; a shipment it does not have is refused, nothing queued."""
    shipment_id = act.payload["shipment_id"]
    inbound = folded_inbound(act.conn, shipment_id)
    if inbound is None:
        return ActResult(
            Status.REJECTED.value,
            False,
            Code.UNKNOWN_SHIPMENT,
            f"Shipment {shipment_id} is not on this tablet: nothing was saved",
        )
    ctx = context_for(
        act.actor_id, act.now, store_policy(act.conn), act.staff, store_timezone(act.conn)
    )
    said = _rule(inbound, act.spec.name, act.payload, ctx)
    return ActResult(said.status.value, True, said.code, said.message)


def apply_transfer(act: Acting) -> ActResult:
    """`transfer.create`: the skus must be items of this store; central checks the rest
    (the destination store) and makes the transfer's order."""
    for line in act.payload["lines"]:
        sku = line["sku"]
        if act.conn.execute("SELECT 1 FROM items WHERE sku = ?", (sku,)).fetchone() is None:
            return ActResult(
                Status.REJECTED.value,
                False,
                Code.UNKNOWN_ITEM,
                f"{sku} is not an item of this store",
            )
    return ActResult(Status.APPLIED.value, True)
