"""/v1/oms/stores/{store_id}/orders/{order_id}/label: the OMS attaches a carrier's shipping
label (PDF or ZPL) to a ship-from-store order; the store prints it at pack, offline too."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import Path
from pydantic import Field

from sync.protocol import PLAIN_PATTERN, Plain, Request, Response

from ..service import labels
from .deps import EngineDep, oms_router

router = oms_router(
    {
        404: "UNKNOWN_STORE, or UNKNOWN_ORDER in this store",
        409: "WRONG_ORDER_TYPE: a pickup order",
        413: "BODY_TOO_LARGE: over 1 MiB",
        422: "INVALID_REQUEST: not base64, not the format",
    }
)

StoreId = Annotated[str, Path(min_length=1, max_length=64, pattern=PLAIN_PATTERN)]
OrderId = Annotated[str, Path(min_length=1, max_length=64, pattern=PLAIN_PATTERN)]

# base64 of MAX_LABEL_BYTES, rounded up: the decoded size is checked again
_MAX_BASE64 = (labels.MAX_LABEL_BYTES + 2) // 3 * 4


class LabelIn(Request):
    format: Literal["pdf", "zpl"]
    content_base64: Annotated[str, Field(min_length=1, max_length=_MAX_BASE64)]
    carrier: Annotated[Plain, Field(min_length=1, max_length=40)] | None = None
    tracking: Annotated[Plain, Field(min_length=4, max_length=64)] | None = None


class LabelOut(Response):
    order_id: str
    store_id: str
    format: Literal["pdf", "zpl"]
    carrier: str | None
    tracking: str | None
    bytes: int
    attached_at: datetime


@router.put("/stores/{store_id}/orders/{order_id}/label", response_model=LabelOut)
def put_label(store_id: StoreId, order_id: OrderId, body: LabelIn, engine: EngineDep) -> LabelOut:
    """Attach (or replace) the order's shipping label; it reaches the store's tablets by
    their next pull (a `label` document) and prints from there, offline too."""
    return LabelOut.model_validate(
        labels.attach_label(
            engine,
            store_id,
            order_id,
            fmt=body.format,
            content_base64=body.content_base64,
            carrier=body.carrier,
            tracking=body.tracking,
        )
    )
