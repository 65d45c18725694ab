"""Store-to-store transfers on central.

A transfer is an order of type `transfer` in the sending store (id: the transfer id, lines
from the catalogue, `destination` the receiving store): it is claimed, picked with the same
pick list, staged and shipped with a carrier and tracking like a ship-from-store parcel, by
the same rules (`fulfillment.picking`). Made by a manager's `transfer.create` op or the OMS's
`PUT /v1/oms/stores/{store_id}/transfers/{transfer_id}`.

When it ships, central announces it at the destination as an inbound shipment of the same id
(source `store:<id>`, the units shipped) and books them there as `in_transit` at IN-TRANSIT;
the destination's receipt takes them out of IN-TRANSIT onto its shelves. That second write
is in the destination store's own transaction, after the push that shipped it committed
(`deliver_shipped`): two stores' locks are never held at once. It is idempotent (announcing
the same shipment again changes nothing), so running it again is harmless.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from fulfillment.codes import Code
from fulfillment.model import Line, Order, OrderState, OrderType
from fulfillment.outcome import Status
from fulfillment.receiving import shipped_in_transit
from sync.protocol import TransferIn

from ..db.tables import items, orders, stores
from .applying import Applying, Said
from .errors import Conflict, Invalid, NotFound
from .feed import StoreTx, store_tx
from .orders import insert_order, load_order
from .receiving import stage_announcement, write_in_transit

__all__ = ["apply_transfer", "create_transfer", "deliver_shipped", "put_transfer"]


def _refusal(tx: StoreTx, transfer_id: str, destination: str) -> tuple[str, str] | None:
    if destination == tx.store_id:
        return Code.SAME_STORE, "A transfer goes to another store, not this one"
    known = tx.conn.execute(select(stores.c.store_id).where(stores.c.store_id == destination))
    if known.first() is None:
        return Code.UNKNOWN_STORE, f"There is no store {destination} to send stock to"
    return None


def create_transfer(
    tx: StoreTx,
    transfer_id: str,
    destination: str,
    lines: Sequence[tuple[str, int]],
    due_at: datetime | None,
) -> tuple[Order | None, str | None, str | None]:
    """Stage the transfer's order; (the order, or None with a code and a sentence)."""
    refused = _refusal(tx, transfer_id, destination)
    if refused is not None:
        return None, *refused
    existing = load_order(tx, transfer_id)
    if existing is not None:
        if existing.type is OrderType.TRANSFER and existing.destination == destination:
            return existing, None, None  # the same transfer asked again
        return None, "ORDER_EXISTS", f"The number {transfer_id} is already used by an order"
    other = tx.conn.execute(select(orders.c.store_id).where(orders.c.order_id == transfer_id))
    if other.first() is not None:
        return None, "ORDER_EXISTS", f"The number {transfer_id} is already used by an order"
    catalogue = {
        r.sku: r
        for r in tx.conn.execute(
            select(items).where(
                items.c.store_id == tx.store_id, items.c.sku.in_([s for s, _ in lines])
            )
        )
    }
    unknown = [s for s, _ in lines if s not in catalogue]
    if unknown:
        return None, Code.UNKNOWN_ITEM, f"{unknown[0]} is not an item of this store"
    merged: dict[str, int] = {}
    for sku, qty in lines:
        merged[sku] = merged.get(sku, 0) + qty
    order = Order(
        order_id=transfer_id,
        store_id=tx.store_id,
        type=OrderType.TRANSFER,
        destination=destination,
        due_at=due_at or tx.now,
        created_at=tx.now,
        updated_at=tx.now,
        lines=tuple(
            Line(
                line_id=str(i),
                sku=sku,
                qty=qty,
                name=catalogue[sku].name,
                gtins=tuple(catalogue[sku].gtins),
                location=catalogue[sku].location,
                location_seq=catalogue[sku].location_seq,
            )
            for i, (sku, qty) in enumerate(merged.items(), start=1)
        ),
    )
    insert_order(tx, order)
    return order, None, None


def apply_transfer(tx: StoreTx, op: Applying) -> Said:
    """The apply step of `transfer.create` (manager only)."""
    p = op.payload
    order, code, message = create_transfer(
        tx, p.transfer_id, p.destination, [(x.sku, x.qty) for x in p.lines], p.due_at
    )
    if order is None:
        return Said(Status.REJECTED.value, code, message)
    return Said(
        Status.APPLIED.value,
        None,
        f"Transfer {p.transfer_id} to store {p.destination} is in the pick queue",
    )


def put_transfer(
    engine: Engine, store_id: str, transfer_id: str, body: TransferIn
) -> dict[str, Any]:
    """The OMS asks the store to send stock to another store (idempotent)."""
    with store_tx(engine, store_id) as tx:
        order, code, message = create_transfer(
            tx, transfer_id, body.destination, [(x.sku, x.qty) for x in body.lines], body.due_at
        )
        if order is None:
            assert code is not None and message is not None
            if code == Code.UNKNOWN_ITEM:
                raise Invalid(message, code="INVALID_REQUEST")
            if code == Code.UNKNOWN_STORE:
                raise NotFound(message, code=code)
            raise Conflict(message, code=code)
    return order.model_dump(mode="json")


def deliver_shipped(engine: Engine, store_id: str, order_ids: Iterable[str]) -> int:
    """Announce at their destinations the transfers among `order_ids` that have shipped
    (committed), with their units in transit there; returns how many were new there."""
    shipped: list[Order] = []
    wanted = sorted(set(order_ids))
    if not wanted:
        return 0
    with engine.connect() as conn:
        for (data,) in conn.execute(
            select(orders.c.data).where(
                orders.c.store_id == store_id,
                orders.c.order_id.in_(wanted),
                orders.c.type == OrderType.TRANSFER.value,
            )
        ):
            order = Order.model_validate(data)
            if order.state is OrderState.SHIPPED and order.destination:
                shipped.append(order)
    made = 0
    for order in shipped:
        units: dict[str, int] = {}
        for x in order.lines:
            if x.fulfilled:
                units[x.sku] = units.get(x.sku, 0) + x.fulfilled
        if not units:
            continue
        assert order.destination is not None
        with store_tx(engine, order.destination) as tx:
            try:
                _, changed = stage_announcement(
                    tx,
                    order.order_id,
                    source=f"store:{store_id}",
                    lines=sorted(units.items()),
                    transfer_id=order.order_id,
                    carrier=order.carrier,
                    tracking=order.tracking,
                    strict=False,
                )
            except Conflict:
                changed = False  # the destination has started receiving it: it stands
            if changed:
                write_in_transit(
                    tx,
                    shipped_in_transit(units.items()),
                    order.fulfilled_at or tx.now,
                    f"transfer {order.order_id} from store {store_id}",
                )
                made += 1
    return made
