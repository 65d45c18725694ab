"""The flows added beside the event feed reach it too (issues #11 and #12): a line rejected as
damaged, a notice sent again, the pickup reminder, and till sales are events the OMS reads
from `GET /v1/oms/events`, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from central.db.engine import make_engine
from central.service.pickups import remind_pickups
from tests.central.test_events_feed import read_all
from tests.central.test_reject_lookup_pickup import staged_pickup
from tests.support.central import Central, TestStore, ok
from tests.support.device import RawDevice


def test_a_line_rejected_as_damaged_is_a_short_and_a_stock_change_in_the_feed(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    sku = store.skus[0]
    order_id = any_central.order(store, [(sku, 2), (store.skus[1], 1)])["order_id"]
    assert device.push_one("order.claim", {"order_id": order_id})["status"] == "applied"
    rejected = device.push_one(
        "line.reject",
        {"order_id": order_id, "line_id": "1", "qty": 1, "code": "damaged", "note": "crushed"},
    )
    assert rejected["status"] == "applied", rejected
    events, _ = read_all(any_central, store_id=store.store_id)
    shorts = [
        e for e in events if e["type"] == "order.short" and e["data"].get("order_id") == order_id
    ]
    assert shorts and shorts[-1]["data"].get("line_id") == "1"
    moved = [e for e in events if e["type"] == "stock.changed" and e["data"].get("sku") == sku]
    assert moved, "the damaged unit left the shelf: a stock change for the OMS"


def test_a_notice_sent_again_and_the_pickup_reminder_are_notices_in_the_feed(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    order_id = staged_pickup(any_central, store, device)
    assert device.push_one("order.notify", {"order_id": order_id})["status"] == "applied"
    engine = make_engine(any_central.server.database_url)
    try:
        later = datetime.now(UTC) + timedelta(days=5) - timedelta(hours=3)
        assert remind_pickups(engine, later) >= 1
    finally:
        engine.dispose()
    events, _ = read_all(any_central, store_id=store.store_id, types="notice.sent")
    kinds = [e["data"].get("kind") for e in events if e["data"].get("order_id") == order_id]
    assert "pickup_reminder" in kinds and "ready_for_pickup" in kinds, kinds


def test_till_sales_are_stock_changes_in_the_feed(any_central: Central, store: TestStore) -> None:
    sku = store.skus[2]
    sold_at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    line = {"sale_id": "R-9", "line": 1, "sku": sku, "qty": 2, "till_id": "T1"}
    answer = any_central.oms.post(
        f"/v1/oms/stores/{store.store_id}/sales", json=[{**line, "sold_at": sold_at.isoformat()}]
    )
    assert ok(answer)["accepted"] == 1
    events, _ = read_all(any_central, store_id=store.store_id, types="stock.changed")
    mine = [e for e in events if e["data"].get("sku") == sku]
    assert mine and mine[-1]["data"]["on_hand"] == any_central.stock(store, sku)["on_hand"]
