"""Inbound shipments and transfers for the OMS:

- `PUT /v1/oms/stores/{store_id}/inbound/{shipment_id}` announces a shipment to the store
  (idempotent; 409 once the store has started receiving it); its tablets pull it as an
  `inbound` document whose id is the shipment id. `GET` reads it back, with what was counted.
- `PUT /v1/oms/stores/{store_id}/transfers/{transfer_id}` asks the store to send stock to
  another store: a `transfer` order in its pick queue (idempotent).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Response
from fastapi.concurrency import run_in_threadpool

from sync.protocol import PLAIN_PATTERN, InboundIn, TransferIn

from ..service import receiving, transfers
from .deps import EngineDep, oms_router

router = oms_router(
    {
        404: "UNKNOWN_STORE, UNKNOWN_ORDER, UNKNOWN_SHIPMENT",
        409: (
            "RECEIPT_DIFFERS / RECEIPT_CLOSED: the store has started receiving "
            "(or closed) the shipment; SAME_STORE, ORDER_EXISTS for a transfer"
        ),
        422: "INVALID_REQUEST: a sku not in the catalogue",
    }
)

StoreId = Annotated[str, Path(min_length=1, max_length=64, pattern=PLAIN_PATTERN)]
DocId = Annotated[str, Path(min_length=1, max_length=64, pattern=PLAIN_PATTERN)]


@router.put("/stores/{store_id}/inbound/{shipment_id}")
async def put_inbound(
    store_id: StoreId, shipment_id: DocId, body: InboundIn, engine: EngineDep, response: Response
) -> dict[str, Any]:
    """Announce (or, before receiving starts, change) a shipment to the store. 201 when new
    or changed, 200 when the same announcement arrives again."""
    doc, changed = await run_in_threadpool(receiving.announce, engine, store_id, shipment_id, body)
    response.status_code = 201 if changed else 200
    return doc


@router.get("/stores/{store_id}/inbound/{shipment_id}")
async def get_inbound(store_id: StoreId, shipment_id: DocId, engine: EngineDep) -> dict[str, Any]:
    """The shipment as the store has received it so far (state, counted, damaged)."""
    return await run_in_threadpool(receiving.read_inbound, engine, store_id, shipment_id)


@router.put("/stores/{store_id}/transfers/{transfer_id}")
async def put_transfer(
    store_id: StoreId, transfer_id: DocId, body: TransferIn, engine: EngineDep
) -> dict[str, Any]:
    """Ask the store to send stock to `destination`: a `transfer` order in its pick queue."""
    return await run_in_threadpool(transfers.put_transfer, engine, store_id, transfer_id, body)
