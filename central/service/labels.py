"""Shipping labels the OMS attaches to a ship-from-store order (PDF or ZPL), published to
the store's tablets as their own `label` document (id: the order id).

Its own kind, not a field of the order: an order's document is published again at every
scan, short and stage, and a 100 KB label inside it would travel with each of those
changes; as its own document it travels once per label the OMS sends.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Engine

from fulfillment.model import OrderType

from .errors import Conflict, Invalid, NotFound
from .feed import store_tx
from .orders import load_order

__all__ = ["LABEL", "MAX_LABEL_BYTES", "attach_label", "decode_label"]

LABEL = "label"
MAX_LABEL_BYTES = 512 * 1024  # one label, decoded: a 4×6 in carrier PDF is 20–150 KB


def decode_label(fmt: Literal["pdf", "zpl"], content_base64: str) -> bytes:
    """The label's bytes, checked to be what `fmt` says; Invalid (422) with a sentence if not."""
    try:
        content = base64.b64decode(content_base64, validate=True)
    except (binascii.Error, ValueError):
        raise Invalid("content_base64 is not base64 (RFC 4648, no line breaks)") from None
    if not content:
        raise Invalid("content_base64 is empty: send the label's bytes")
    if len(content) > MAX_LABEL_BYTES:
        raise Invalid(
            f"A label may be at most {MAX_LABEL_BYTES // 1024} KiB; this one is {len(content) // 1024} KiB"
        )
    if fmt == "pdf" and not content.startswith(b"%PDF-"):
        raise Invalid("A pdf label must be a PDF file (it starts with %PDF-)")
    if fmt == "zpl" and not (b"^XA" in content and b"^XZ" in content):
        raise Invalid("A zpl label must hold a ZPL format (^XA … ^XZ)")
    return content


def attach_label(
    engine: Engine,
    store_id: str,
    order_id: str,
    *,
    fmt: Literal["pdf", "zpl"],
    content_base64: str,
    carrier: str | None,
    tracking: str | None,
) -> dict[str, Any]:
    """Attach (or replace) the order's label; the store's tablets get it by their next pull."""
    content = decode_label(fmt, content_base64)
    with store_tx(engine, store_id) as tx:
        order = load_order(tx, order_id)
        if order is None:
            raise NotFound(f"No order {order_id} in store {store_id}", code="UNKNOWN_ORDER")
        if order.type is not OrderType.SHIP_FROM_STORE:
            raise Conflict(
                f"Order {order_id} is a pickup order: only shipped orders have a label",
                code="WRONG_ORDER_TYPE",
            )
        attached_at: datetime = tx.now
        doc = {
            "order_id": order_id,
            "format": fmt,
            "content_base64": base64.b64encode(content).decode(),
            "carrier": carrier,
            "tracking": tracking,
            "bytes": len(content),
            "attached_at": attached_at.isoformat(),
        }
        tx.publish(LABEL, order_id, doc)
    return {k: v for k, v in doc.items() if k != "content_base64"} | {"store_id": store_id}
