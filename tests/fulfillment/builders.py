"""Plain-data builders for rule tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fulfillment.barcodes import check_digit
from fulfillment.model import Line, Order, OrderType, Policy, Role
from fulfillment.outcome import Context

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
NAMES = {"E1": "Ana", "E2": "Ben", "M1": "Maria"}


def gtin(n: int) -> str:
    payload = f"400{n:09d}"
    return payload + check_digit(payload)


def line(n: int, qty: int = 2, **kw: Any) -> Line:
    return Line(
        line_id=str(n),
        sku=f"SKU-{n}",
        qty=qty,
        name=f"Item {n}",
        gtins=(gtin(n).zfill(14),),
        location=f"A-{n:02d}-1",
        location_seq=n * 10,
        **kw,
    )


def order(
    *lines: Line, type: OrderType = OrderType.PICKUP, order_id: str = "W-1", **kw: Any
) -> Order:
    return Order(
        order_id=order_id,
        store_id="S1",
        type=type,
        due_at=NOW + timedelta(hours=2),
        lines=lines or (line(1),),
        pickup_code="PK1",
        **kw,
    )


def ctx(
    actor: str = "E1", *, role: Role = Role.ASSOCIATE, now: datetime = NOW, **policy: Any
) -> Context:
    return Context(actor_id=actor, now=now, role=role, policy=Policy(**policy), staff_names=NAMES)
