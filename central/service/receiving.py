"""Inbound shipments on central: announced by the OMS (`PUT …/inbound/{shipment_id}`) or by a
transfer another store shipped, received by the store's `inbound.*` ops.

The shipment is the store's `inbound` document (id: the shipment id). It lives in the change
feed only (`sync_docs`, like a shipping label): nothing queries shipments by a column, so it
has no table (and no migration). The rules are `fulfillment.receiving`; closing a receipt
writes its movements and its manager exception through the one effects step, and a
ship-to-store customer order that arrived is staged on the pickup shelf with its
ready-for-pickup notification.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from fulfillment import receiving as rules
from fulfillment.codes import Code
from fulfillment.ledger import Movement
from fulfillment.outcome import Status
from fulfillment.receiving import Carton, CartonLine, Inbound, InboundLine
from sync.protocol import InboundIn

from ..db.tables import items, sync_docs
from .applying import Applying, Said
from .effects import Effects, write_effects
from .errors import Conflict, Invalid, NotFound
from .feed import StoreTx, store_tx
from .orders import apply_outcome, load_order

__all__ = ["INBOUND", "announce", "apply_inbound", "inbound_view", "load_inbound"]

INBOUND = "inbound"


def load_inbound(tx: StoreTx, shipment_id: str) -> Inbound | None:
    """The shipment as this transaction sees it: staged first, else the feed's document."""
    s = tx.staged
    while s is not None:
        found = s.docs.get((INBOUND, shipment_id))
        if found is not None:
            return found if isinstance(found, Inbound) else Inbound.model_validate(found)
        s = s.parent  # type: ignore[assignment]
    data = tx.conn.execute(
        select(sync_docs.c.data).where(
            sync_docs.c.store_id == tx.store_id,
            sync_docs.c.kind == INBOUND,
            sync_docs.c.entity_id == shipment_id,
            sync_docs.c.deleted.is_(False),
        )
    ).scalar()
    return Inbound.model_validate(data) if data is not None else None


def _catalogue(tx: StoreTx, skus: Iterable[str]) -> dict[str, Any]:
    wanted = sorted(set(skus))
    return {
        r.sku: r
        for r in tx.conn.execute(
            select(items.c.sku, items.c.name, items.c.location).where(
                items.c.store_id == tx.store_id, items.c.sku.in_(wanted)
            )
        )
    }


@dataclass(frozen=True)
class _Unknown:
    """A sku another store sends that this store's catalogue does not have (yet)."""

    sku: str
    name: str = ""
    location: str = ""


def stage_announcement(
    tx: StoreTx,
    shipment_id: str,
    *,
    source: str,
    lines: Sequence[tuple[str, int]],
    cartons: Sequence[tuple[str, Sequence[tuple[str, int]]]] = (),
    order_id: str | None = None,
    transfer_id: str | None = None,
    carrier: str | None = None,
    tracking: str | None = None,
    strict: bool = True,
) -> tuple[Inbound, bool]:
    """Stage the shipment as announced (idempotent); (the shipment, whether it changed).
    Raises Invalid for a sku not in the catalogue (`strict=False`, a transfer from another
    store: the line is kept, without a shelf — it is received at RECEIVING), NotFound for
    an unknown order, Conflict once receiving has started."""
    catalogue = _catalogue(tx, [sku for sku, _ in lines] + [s for _, c in cartons for s, _ in c])
    if not strict:
        catalogue = {sku: catalogue.get(sku) or _Unknown(sku) for sku, _ in lines} | catalogue
    errors = [
        {"row": i, "field": "sku", "message": f"{sku} is not in this store's catalogue"}
        for i, (sku, _) in enumerate(lines)
        if sku not in catalogue
    ]
    errors += [
        {"row": i, "field": "cartons", "message": f"{sku} is not in this store's catalogue"}
        for i, (_, c) in enumerate(cartons)
        for sku, _ in c
        if sku not in catalogue
    ]
    if errors:
        raise Invalid(
            f"{len(errors)} problem(s): {errors[0]['message']}; nothing was written",
            code="INVALID_REQUEST",
            errors=errors,
        )
    if order_id is not None and load_order(tx, order_id) is None:
        raise NotFound(f"No order {order_id} in store {tx.store_id}", code="UNKNOWN_ORDER")
    new = Inbound(
        shipment_id=shipment_id,
        store_id=tx.store_id,
        source=source,
        lines=tuple(
            InboundLine(
                sku=sku,
                expected=qty,
                name=catalogue[sku].name,
                location=catalogue[sku].location,
            )
            for sku, qty in lines
        ),
        cartons=tuple(
            Carton(sscc=sscc, lines=tuple(CartonLine(sku=s, qty=q) for s, q in c))
            for sscc, c in cartons
        ),
        order_id=order_id,
        transfer_id=transfer_id,
        carrier=carrier,
        tracking=tracking,
        announced_at=tx.now,
        updated_at=tx.now,
    )
    existing = load_inbound(tx, shipment_id)
    said = rules.announce(existing, new)
    if not isinstance(said, Inbound):
        raise Conflict(said.message, code=said.code)
    if said is existing:
        return said, False
    tx.publish(INBOUND, shipment_id, said)
    return said, True


def inbound_view(inbound: Inbound) -> dict[str, Any]:
    return inbound.model_dump(mode="json")


def announce(
    engine: Engine, store_id: str, shipment_id: str, body: InboundIn
) -> tuple[dict[str, Any], bool]:
    """`PUT /v1/oms/stores/{store_id}/inbound/{shipment_id}`: (the shipment, whether it was
    new or changed)."""
    with store_tx(engine, store_id) as tx:
        inbound, changed = stage_announcement(
            tx,
            shipment_id,
            source=body.source,
            lines=[(x.sku, x.qty) for x in body.lines],
            cartons=[(c.sscc, [(x.sku, x.qty) for x in c.lines]) for c in body.cartons],
            order_id=body.order_id,
            carrier=body.carrier,
            tracking=body.tracking,
        )
    return inbound_view(inbound), changed


def read_inbound(engine: Engine, store_id: str, shipment_id: str) -> dict[str, Any]:
    with store_tx(engine, store_id) as tx:
        inbound = load_inbound(tx, shipment_id)
    if inbound is None:
        raise NotFound(f"No shipment {shipment_id} in store {store_id}", code="UNKNOWN_SHIPMENT")
    return inbound_view(inbound)


def write_in_transit(
    tx: StoreTx, movements: Sequence[Movement], occurred_at: datetime, note: str
) -> None:
    """A transfer's units on their way to this store (`in_transit` at IN-TRANSIT)."""
    write_effects(
        tx,
        Effects(op_id=None, actor_id=None, occurred_at=occurred_at, movements=movements, note=note),
    )


def apply_inbound(tx: StoreTx, op: Applying) -> Said:
    """The apply step of `inbound.count`, `inbound.carton` and `inbound.close`."""
    p = op.payload
    inbound = load_inbound(tx, p.shipment_id)
    if inbound is None:
        return Said(
            Status.REJECTED.value,
            Code.UNKNOWN_SHIPMENT,
            f"No shipment {p.shipment_id} in this store",
        )
    if op.op_type == "inbound.count":
        outcome = rules.count(inbound, p.sku, p.qty, p.damaged, op.ctx)
    elif op.op_type == "inbound.carton":
        outcome = rules.receive_carton(inbound, p.sscc, op.ctx)
    else:
        outcome = rules.close(inbound, op.ctx)
    if outcome.inbound is not inbound:
        line_fixes = _with_locations(tx, outcome.inbound)
        tx.publish(INBOUND, inbound.shipment_id, line_fixes)
    made = write_effects(
        tx,
        Effects(
            op_id=op.op_id,
            actor_id=op.actor_id,
            device_id=op.device.device_id,
            occurred_at=op.occurred_at,
            movements=_located(tx, outcome.movements),
            note=f"shipment {inbound.shipment_id}" if outcome.movements else None,
            exceptions=outcome.exceptions,
        ),
    )
    if op.op_type == "inbound.close" and inbound.order_id and outcome.received:
        _order_arrived(tx, op, inbound.order_id, outcome.received)
    return Said(outcome.status.value, outcome.code, outcome.message, tuple(made))


def _with_locations(tx: StoreTx, inbound: Inbound) -> Inbound:
    """A line counted that the shipment did not list gets the item's name and shelf."""
    bare = [x.sku for x in inbound.lines if not x.location]
    if not bare:
        return inbound
    found = _catalogue(tx, bare)
    lines = tuple(
        x.model_copy(update={"name": found[x.sku].name, "location": found[x.sku].location})
        if not x.location and x.sku in found
        else x
        for x in inbound.lines
    )
    return inbound.model_copy(update={"lines": lines})


def _located(tx: StoreTx, movements: Sequence[Movement]) -> tuple[Movement, ...]:
    """A receipt of a sku the catalogue does not know has no shelf: it waits at RECEIVING."""
    return tuple(
        m if m.location else m.model_copy(update={"location": "RECEIVING"}) for m in movements
    )


def _order_arrived(
    tx: StoreTx, op: Applying, order_id: str, received: Sequence[tuple[str, int]]
) -> None:
    order = load_order(tx, order_id)
    if order is None:
        return
    outcome = rules.order_arrived(order, received, op.ctx)
    if outcome is None:
        return
    apply_outcome(
        tx,
        order,
        outcome,
        op_id=op.op_id,
        actor_id=op.actor_id,
        device_id=op.device.device_id,
        occurred_at=op.occurred_at,
    )
