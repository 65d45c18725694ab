"""/v1/oms: what the e-commerce order system calls, with an integration key."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Response

from sync.protocol import (
    CancelIn,
    EnrollmentCodeOut,
    ErrorBody,
    ItemIn,
    OrderIn,
    StaffIn,
    StockIn,
    StoreIn,
)

from ..service import auth, oms
from .deps import EngineDep, Integration

router = APIRouter(
    prefix="/v1/oms",
    dependencies=[Integration],
    responses={
        401: {"model": ErrorBody, "description": "missing or unknown integration key"},
        403: {"model": ErrorBody, "description": "a device token"},
        404: {"model": ErrorBody, "description": "unknown store or order"},
        422: {
            "model": ErrorBody,
            "description": "INVALID_REQUEST with `errors` per row; nothing written",
        },
    },
)

Sku = Query(default=None, max_length=64)


@router.put("/stores/{store_id}")
def put_store(store_id: str, body: StoreIn, engine: EngineDep) -> dict[str, Any]:
    return oms.upsert_store(engine, store_id, body)


@router.put("/stores/{store_id}/items")
def put_items(store_id: str, body: list[ItemIn], engine: EngineDep) -> dict[str, int]:
    return {"upserted": oms.upsert_items(engine, store_id, body)}


@router.post("/stores/{store_id}/stock")
def post_stock(store_id: str, body: list[StockIn], engine: EngineDep) -> dict[str, int]:
    return {"recorded": oms.add_stock(engine, store_id, body)}


@router.put("/stores/{store_id}/staff")
def put_staff(store_id: str, body: list[StaffIn], engine: EngineDep) -> dict[str, int]:
    return {"upserted": oms.upsert_staff(engine, store_id, body)}


@router.post("/stores/{store_id}/enrollment-codes", response_model=EnrollmentCodeOut)
def post_enrollment_code(store_id: str, engine: EngineDep) -> EnrollmentCodeOut:
    code, expires = auth.create_enrollment_code(engine, store_id)
    return EnrollmentCodeOut(code=code, expires_at=expires)


@router.post("/orders", status_code=201, responses={200: {"description": "already released"}})
def post_order(body: OrderIn, engine: EngineDep, response: Response) -> dict[str, Any]:
    order, created = oms.create_order(engine, body)
    if not created:
        response.status_code = 200
    return oms.order_view(engine, order.order_id)


@router.post("/orders/{order_id}/cancel", responses={409: {"model": ErrorBody}})
def post_cancel(order_id: str, body: CancelIn, engine: EngineDep) -> dict[str, Any]:
    oms.cancel_order(engine, order_id, body.reason)
    return oms.order_view(engine, order_id)


@router.get("/orders/{order_id}")
def get_order(order_id: str, engine: EngineDep) -> dict[str, Any]:
    return oms.order_view(engine, order_id)


@router.get("/stores/{store_id}/stock")
def get_stock(store_id: str, engine: EngineDep, sku: str | None = Sku) -> list[dict[str, Any]]:
    return oms.stock_view(engine, store_id, sku)


@router.get("/stores/{store_id}/ledger")
def get_ledger(store_id: str, engine: EngineDep, sku: str | None = Sku) -> list[dict[str, Any]]:
    return oms.ledger_view(engine, store_id, sku)


@router.get("/stores/{store_id}/returns")
def get_returns(store_id: str, engine: EngineDep) -> list[dict[str, Any]]:
    return []  # returns arrive with the returns issue; the path is part of the contract


@router.get("/stores/{store_id}/exceptions")
def get_exceptions(store_id: str, engine: EngineDep) -> list[dict[str, Any]]:
    return oms.exceptions_view(engine, store_id)


@router.get("/stores/{store_id}/notifications")
def get_notifications(store_id: str, engine: EngineDep) -> list[dict[str, Any]]:
    return oms.notifications_view(engine, store_id)
