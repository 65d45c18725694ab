"""Returns: the `returns` rows (central's `return` documents, plus the returns of this
device's pending `return.receive` ops with the pending overrides on top, until central's
document arrives), and the tablet's side of `return.receive` / `return.override`."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping
from typing import Any

from fulfillment.codes import Code
from fulfillment.model import Order, Policy
from fulfillment.outcome import Context
from fulfillment.returns import Return, ReturnOutcome, override, receive
from sync.protocol import Document

from ._catalogue import device_name, item_facts
from ._docs import Acting, Pending, Staff, context_for, ops_on, parsed_doc
from ._orders import UPSERT_ORDER, ReceiveInOrder, order_row
from ._records import ActResult, row, rows, to_iso

__all__ = [
    "UPSERT_RETURN",
    "apply_return",
    "fold_return",
    "receive_in_order",
    "receive_return",
    "return_row",
    "touched_by_return_op",
]

UPSERT_RETURN = """INSERT OR REPLACE INTO returns
    (return_id, order_id, state, received_at, pending, data) VALUES (?, ?, ?, ?, ?, ?)"""


def return_row(ret: Return, pending: int) -> tuple[Any, ...]:
    return (
        ret.return_id,
        ret.order_id,
        ret.state.value,
        to_iso(ret.received_at),
        pending,
        ret.model_dump_json(),
    )


def _earlier_returns(conn: sqlite3.Connection, order_id: str | None, but: str) -> list[Return]:
    if not order_id:
        return []
    found = rows(
        conn, "SELECT data FROM returns WHERE order_id = ? AND return_id != ?", (order_id, but)
    )
    return [Return.model_validate_json(r["data"]) for r in found]


def receive_return(
    conn: sqlite3.Connection, order: Order | None, payload: Mapping[str, Any], ctx: Context
) -> ReturnOutcome:
    """`fulfillment.returns.receive` with what this tablet knows: the order (None when it is
    not here: the lines are by sku and the receipt is the evidence), the catalogue's facts,
    the order's earlier returns and this device's name."""
    lines = list(payload["lines"])
    skus = {str(w["sku"]) for w in lines if w.get("sku")}
    if order is not None:
        skus |= {x.sku for x in order.lines}
    receipt = payload.get("receipt") or (payload.get("order_id") if order is None else None)
    return receive(
        order,
        lines,
        ctx,
        return_id=str(payload["return_id"]),
        items=item_facts(conn, skus),
        receipt=receipt,
        earlier=_earlier_returns(
            conn, order.order_id if order else receipt, str(payload["return_id"])
        ),
        device_name=device_name(conn),
    )


def receive_in_order(conn: sqlite3.Connection, folded: dict[str, Return | None]) -> ReceiveInOrder:
    """The fold of a pending `return.receive` inside its order's fold; the return it made
    goes into `folded` (return_id -> return) for `fold_return`."""

    def fold(order: Order, p: Pending, ctx: Context) -> Order | None:
        got = receive_return(conn, order, p.payload, ctx)
        folded[str(p.payload["return_id"])] = got.ret
        return got.order

    return fold


def fold_return(
    conn: sqlite3.Connection,
    return_id: str,
    pending: list[Pending],
    policy: Policy,
    staff: Staff,
    timezone: str,
    folded: dict[str, Return | None],
) -> None:
    """returns row = central's document, or the return of a pending receive (from its
    order's fold, or on the receipt alone when the order is not here), then the pending
    overrides on top."""
    ret = parsed_doc(conn, "return", return_id, Return)
    mine = ops_on(pending, Document.RETURN, return_id)
    for p in mine:
        ctx = context_for(p.actor_id, p.occurred_at, policy, staff, timezone)
        if p.type == "return.receive":
            if ret is not None:
                continue  # central has it already
            if return_id in folded:
                ret = folded[return_id]
            else:  # its order is not on this tablet
                ret = receive_return(conn, None, p.payload, ctx).ret
        elif ret is not None:
            got = override(ret, str(p.payload.get("reason") or ""), ctx)
            if got.ret is not None:
                ret = got.ret
    conn.execute("DELETE FROM returns WHERE return_id = ?", (return_id,))
    if ret is not None:
        conn.execute(UPSERT_RETURN, return_row(ret, len(mine)))


def touched_by_return_op(op_type: str, payload: dict[str, Any]) -> Iterator[tuple[Document, str]]:
    yield Document.RETURN, str(payload.get("return_id"))
    if op_type == "return.receive" and payload.get("order_id"):
        yield Document.ORDER, str(payload["order_id"])


def _receive(act: Acting) -> ActResult:
    """`return.receive`: the order's lines count the returned units and the return is
    listed. A fact: only a return with nothing returnable in it (every unit refused) is
    not queued."""
    conn, payload = act.conn, act.payload
    return_id = payload["return_id"]
    if row(conn, "SELECT 1 FROM returns WHERE return_id = ?", (return_id,)) is not None:
        return ActResult(
            "rejected", False, Code.DUPLICATE_RETURN, f"Return {return_id} is already recorded"
        )
    order: Order | None = None
    pending = 0
    order_id = payload.get("order_id")
    if order_id:
        found = row(conn, "SELECT data, pending FROM orders WHERE order_id = ?", (order_id,))
        if found is not None:
            order, pending = act.parse_order(order_id, found["data"]), found["pending"]
    if order is None and not all(w.get("sku") for w in payload["lines"]):
        return ActResult(
            "rejected",
            False,
            Code.UNKNOWN_ORDER,
            f"Order {order_id} is not on this tablet: scan each item to return it",
        )
    outcome = receive_return(conn, order, payload, act.context())
    if outcome.ret is None:
        return ActResult(
            outcome.status.value, False, outcome.code, outcome.message or "Nothing to return"
        )
    if outcome.order is not None:
        conn.execute(UPSERT_ORDER, order_row(outcome.order, pending + 1))
    conn.execute(UPSERT_RETURN, return_row(outcome.ret, 1))
    return ActResult(
        outcome.status.value,
        True,
        outcome.code,
        outcome.message,
        order=outcome.order,
        ret=outcome.ret,
    )


def _override(act: Acting) -> ActResult:
    """A manager's override of a return outside policy; refused: nothing queued."""
    return_id = act.payload["return_id"]
    found = row(act.conn, "SELECT data, pending FROM returns WHERE return_id = ?", (return_id,))
    if found is None:
        return ActResult(
            "rejected", False, Code.UNKNOWN_RETURN, f"Return {return_id} is not on this tablet"
        )
    outcome = override(
        Return.model_validate_json(found["data"]), act.payload["reason"], act.context()
    )
    if outcome.ret is None:
        return ActResult(outcome.status.value, False, outcome.code, outcome.message)
    act.conn.execute(UPSERT_RETURN, return_row(outcome.ret, found["pending"] + 1))
    return ActResult(outcome.status.value, True, outcome.code, outcome.message, ret=outcome.ret)


def apply_return(act: Acting) -> ActResult:
    """A return op on the return (and its order) as this tablet holds them."""
    return _receive(act) if act.spec.name == "return.receive" else _override(act)
