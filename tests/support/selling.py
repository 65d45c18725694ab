"""Orders sold the way a store sells them, for tests that need something to return."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from .central import Central, TestStore
from .device import RawDevice


def sell(
    central: Central,
    store: TestStore,
    lines: list[tuple[str, int]],
    *,
    type: str = "pickup",
    days_ago: int = 0,
    at: datetime | None = None,
) -> str:
    """An order sold by a tablet of its own: every unit picked, then handed over (pickup) or
    shipped. `days_ago`: the tablet did it offline that long ago and syncs only now (its
    first push, so its clock is believed). `at`: exactly when (instead of `days_ago`)."""
    oid: str = central.order(store, lines, type=type)["order_id"]
    seller = RawDevice(central, store, "till")
    at = at or datetime.now(UTC) - timedelta(days=days_ago)
    try:
        ops = [seller.op("order.claim", {"order_id": oid}, occurred_at=at)]
        for n, (sku, qty) in enumerate(lines, start=1):
            scan = {"order_id": oid, "line_id": str(n), "gtin": store.gtins[sku], "qty": qty}
            ops.append(seller.op("pick.scan", scan, occurred_at=at))
        ops.append(
            seller.op("order.stage", {"order_id": oid, "staging_location": "P-1"}, occurred_at=at)
        )
        if type == "pickup":
            done = [{"line_id": str(n), "qty": q} for n, (_, q) in enumerate(lines, start=1)]
            last = {"order_id": oid, "verified_by": "pickup_code", "lines": done}
            ops.append(seller.op("order.handoff", last, occurred_at=at))
        else:
            ship = {"order_id": oid, "carrier": "DPD", "tracking": "TRACK-1234"}
            ops.append(seller.op("order.ship", ship, occurred_at=at))
        results = seller.push(*ops)
    finally:
        seller.close()
    assert [r["status"] for r in results] == ["applied"] * len(ops), results
    return oid
