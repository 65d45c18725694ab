"""Returns of online purchases on central: `return.receive` and `return.override`.

The rules are `fulfillment.returns` (the tablet runs the same ones); this module gathers
what they need from central's data — the order, its earlier returns, the catalogue facts
of the skus, the device's name — and stages what they decide in the op's scope: the order
with its lines' `returned`, the ledger movements, the return document (published as a
`return` change), a refund request when the refund goes out now, and manager exceptions.
Nothing is written here directly: the push flushes it all (or nothing) with the op.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from fulfillment import returns as rules
from fulfillment.codes import Code
from fulfillment.outcome import Context, Status
from fulfillment.returns import ItemFacts, Return
from sync.protocol import ReturnOverride, ReturnReceive

from ..db.tables import exceptions, items, returns
from .applying import Applying, ApplyStep, Said
from .documents import load_document, number_holder, stage_document
from .effects import Effects, write_effects
from .exceptions import resolve_exception
from .feed import StoreTx
from .orders import load_order, save_order
from .staging import EXCEPTION, RETURN

__all__ = ["apply_return", "item_facts", "load_return", "override_return", "receive_return"]


def load_return(tx: StoreTx, return_id: str) -> Return | None:
    """The return's current document in this store (what is staged first)."""
    staged = tx.staged.return_doc(return_id)
    return load_document(tx, staged, returns, returns.c.return_id, return_id, Return)


def _earlier_returns(tx: StoreTx, order_id: str) -> list[Return]:
    rows = tx.conn.execute(
        select(returns.c.data).where(
            returns.c.store_id == tx.store_id, returns.c.order_id == order_id
        )
    )
    found: dict[str, Return] = {}
    for (data,) in rows:
        ret = Return.model_validate(data)
        found[ret.return_id] = ret
    found.update((r.return_id, r) for r in tx.staged.returns_of_order(order_id))
    return list(found.values())


def item_facts(tx: StoreTx, skus: Iterable[str]) -> dict[str, ItemFacts]:
    wanted = sorted(set(skus))
    if not wanted:
        return {}
    c = items.c
    rows = tx.conn.execute(
        select(c.sku, c.name, c.price, c.location, c.final_sale).where(
            c.store_id == tx.store_id, c.sku.in_(wanted)
        )
    )
    return {
        r.sku: ItemFacts(
            name=r.name,
            price=Decimal(r.price),
            location=r.location,
            final_sale=bool(r.final_sale),
        )
        for r in rows
    }


def _duplicate(tx: StoreTx, return_id: str, ctx: Context) -> Said | None:
    """A return number already used by another op: refused, so its goods never count twice."""
    staged = tx.staged.return_doc(return_id)
    holder = number_holder(tx, staged, returns, returns.c.return_id, return_id, Return)
    if holder is None:
        return None
    store_id, earlier = holder
    if store_id != tx.store_id:  # another store's return: say nothing about it
        message = f"Return number {return_id} is already used: this return was not recorded"
    else:
        where = f" on {earlier.device_name}" if earlier.device_name else ""
        message = (
            f"Return {return_id} was already received{where} at "
            f"{ctx.clock_time(earlier.received_at)}: this one was not recorded again"
        )
    return Said(Status.REJECTED.value, Code.DUPLICATE_RETURN, message)


def _stage_return(
    tx: StoreTx, ret: Return, *, op_id: str, device_id: str | None, new: bool
) -> None:
    stage_document(
        tx,
        "return",
        ret.return_id,
        ret,
        new=new,
        op_id=op_id,
        device_id=device_id,
    )


def _refund(tx: StoreTx, ret: Return, amount: Decimal | None, op_id: str) -> list[dict[str, Any]]:
    """One refund request per op (op_id is unique): the payment system executes it."""
    if amount is None:
        return []
    return [
        {
            "refund_id": f"RF-{uuid.uuid4().hex[:12]}",
            "store_id": tx.store_id,
            "return_id": ret.return_id,
            "order_id": ret.order_id,
            "amount": amount,
            "tender": ret.tender,
            "state": "requested",
            "op_id": op_id,
            "created_at": tx.now,
        }
    ]


def receive_return(tx: StoreTx, op: Applying) -> Said:
    """`return.receive`: the goods are back in the store (a fact: refused only when its
    return number is already used)."""
    payload: ReturnReceive = op.payload
    ctx = op.ctx
    duplicate = _duplicate(tx, payload.return_id, ctx)
    if duplicate is not None:
        return duplicate
    wanted_id = payload.order_id or payload.receipt
    assert wanted_id is not None  # the payload names one of them (ReturnReceive checks)
    order = load_order(tx, wanted_id)
    skus = {x.sku for x in payload.lines if x.sku}
    if order is not None:
        skus |= {x.sku for x in order.lines}
    outcome = rules.receive(
        order,
        payload.lines,
        ctx,
        return_id=payload.return_id,
        items=item_facts(tx, skus),
        # an order central does not have keeps the number the associate typed, either way
        receipt=payload.receipt if order is not None else wanted_id,
        earlier=_earlier_returns(tx, order.order_id) if order is not None else (),
        device_name=op.device.name,
        at_central=True,
    )
    ret = outcome.ret
    if ret is not None:
        if order is not None and outcome.order is not None:
            save_order(tx, order, outcome.order)
        _stage_return(tx, ret, op_id=op.op_id, device_id=op.device.device_id, new=True)
    # a refused excess still goes to manager review: exceptions are written whatever the status
    write_effects(
        tx,
        Effects(
            op_id=op.op_id,
            actor_id=ctx.actor_id,
            device_id=op.device.device_id,
            occurred_at=op.occurred_at,
            movements=outcome.movements if ret is not None else (),
            exceptions=outcome.exceptions,
            refunds=_refund(tx, ret, outcome.refund, op.op_id) if ret is not None else (),
        ),
    )
    return Said(outcome.status.value, outcome.code, outcome.message)


def override_return(tx: StoreTx, op: Applying) -> Said:
    """`return.override` (a manager): the return is accepted past the policy's limits."""
    payload: ReturnOverride = op.payload
    ctx = op.ctx
    ret = load_return(tx, payload.return_id)
    if ret is None:
        return Said(
            Status.REJECTED.value,
            Code.UNKNOWN_RETURN,
            f"No return {payload.return_id} in this store",
        )
    outcome = rules.override(ret, payload.reason, ctx)
    if outcome.ret is not None:
        _stage_return(tx, outcome.ret, op_id=op.op_id, device_id=op.device.device_id, new=False)
    write_effects(
        tx,
        Effects(
            op_id=op.op_id,
            actor_id=ctx.actor_id,
            device_id=op.device.device_id,
            occurred_at=op.occurred_at,
            exceptions=outcome.exceptions,
            refunds=(
                _refund(tx, outcome.ret, outcome.refund, op.op_id)
                if outcome.ret is not None
                else ()
            ),
        ),
    )
    if outcome.ret is not None:
        note = f"Return {ret.return_id} approved by {ctx.name_of(ctx.actor_id)}: {payload.reason}"
        _settle_exceptions_of(tx, ret.return_id, note, ctx.actor_id)
    return Said(outcome.status.value, outcome.code, outcome.message)


_STEPS: dict[str, ApplyStep] = {
    "return.receive": receive_return,
    "return.override": override_return,
}


def apply_return(tx: StoreTx, op: Applying) -> Said:
    """The apply step of every `return` op."""
    return _STEPS[op.op_type](tx, op)


def _settle_exceptions_of(tx: StoreTx, return_id: str, note: str, actor_id: str) -> None:
    """The override is the manager's decision on what the return's receipt raised (an order
    central could not find): those exceptions are settled with it, not left open."""
    made = tx.staged.made(RETURN).get(return_id)
    receive_op: str | None = made["op_id"] if made is not None else None
    if receive_op is None:
        receive_op = tx.conn.execute(
            select(returns.c.op_id).where(returns.c.return_id == return_id)
        ).scalar()
    if receive_op is None:
        return
    ids = {x for x, row in tx.staged.made(EXCEPTION).items() if row["op_id"] == receive_op}
    ids |= set(
        tx.conn.execute(
            select(exceptions.c.exception_id).where(
                exceptions.c.store_id == tx.store_id,
                exceptions.c.op_id == receive_op,
                exceptions.c.state == "open",
            )
        ).scalars()
    )
    for exception_id in sorted(ids):
        resolve_exception(tx, exception_id, note, actor_id)


def return_view(ret: Return, refunds: Iterable[Any]) -> dict[str, Any]:
    """A return as the OMS API lists it: money as strings, no customer data."""
    return {
        "return_id": ret.return_id,
        "order_id": ret.order_id,
        "receipt": ret.receipt,
        "state": ret.state.value,
        "verified": ret.verified,
        "refund_amount": _money(ret.refund_amount),
        "tender": ret.tender,
        "refund_requested": ret.refund_requested,
        "breaches": list(ret.breaches),
        "received_by": ret.received_by,
        "received_by_name": ret.received_by_name,
        "received_at": ret.received_at,
        "device_name": ret.device_name,
        "override_by": ret.override_by,
        "override_by_name": ret.override_by_name,
        "override_reason": ret.override_reason,
        "override_at": ret.override_at,
        "lines": [
            {
                "line_id": x.line_id,
                "sku": x.sku,
                "name": x.name,
                "qty": x.qty,
                "accepted": x.accepted,
                "refused": x.refused,
                "restocked": x.restocked,
                "price": _money(x.price),
                "reason": x.reason.value,
                "note": x.note,
                "condition": x.condition.value,
                "disposition": x.disposition.value,
                "location": x.location,
            }
            for x in ret.lines
        ],
        "refunds": [
            {
                "refund_id": r.refund_id,
                "amount": _money(Decimal(r.amount)),
                "tender": r.tender,
                "state": r.state,
                "op_id": r.op_id,
                "created_at": r.created_at,
            }
            for r in refunds
        ],
    }


def _money(value: Decimal) -> str:
    return f"{value:.2f}"
