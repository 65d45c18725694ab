"""PROTOCOL.md principle 3 on central, SQLite and PostgreSQL: a hand-over or a shipment is
never refused, even when another tablet already recorded one; a manager is told, and the
goods leave the ledger once per real movement."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from central.service.clock import utcnow
from tests.support.central import Central, TestStore, ok
from tests.support.device import RawDevice


def staged(tablet: RawDevice, store: TestStore, sku: str, oid: str, place: str = "P-1") -> None:
    """Claim, pick one unit of line 1 and stage the order at `place`, all applied."""
    results = tablet.push(
        tablet.op("order.claim", {"order_id": oid}),
        tablet.op(
            "pick.scan",
            {"order_id": oid, "line_id": "1", "gtin": store.gtins[sku], "qty": 1},
        ),
        tablet.op("order.stage", {"order_id": oid, "staging_location": place}),
    )
    assert [r["status"] for r in results] == ["applied"] * 3, results


def handoff(oid: str, qty: int = 1) -> dict[str, Any]:
    return {"order_id": oid, "verified_by": "pickup_code", "lines": [{"line_id": "1", "qty": qty}]}


def open_exceptions(central: Central, store: TestStore) -> list[dict[str, Any]]:
    return list(ok(central.oms.get(f"/v1/oms/stores/{store.store_id}/exceptions")))


def moved(central: Central, store: TestStore, sku: str, kind: str) -> int:
    return sum(m["qty"] for m in central.ledger(store, sku) if m["kind"] == kind)


def test_a_second_tablet_s_hand_over_stands_tells_a_manager_and_takes_stock_once(
    any_central: Central, store: TestStore, tablets: tuple[RawDevice, RawDevice]
) -> None:
    a, b = tablets
    sku = store.skus[0]
    oid = any_central.order(store, [(sku, 1)])["order_id"]
    staged(a, store, sku, oid)
    at = utcnow()
    first = a.push_one("order.handoff", handoff(oid), actor="E1", occurred_at=at)
    assert first["status"] == "applied"
    late = b.op("order.handoff", handoff(oid), actor="E2", occurred_at=at + timedelta(minutes=12))
    [second] = b.push(late)

    assert (second["status"], second["code"]) == ("compensated", "ALREADY_HANDED_OVER")
    assert re.fullmatch(
        rf"Order {oid} was already handed over by Ana at \d\d:\d\d: a manager will check the"
        r" pickup shelf and call the customer",
        second["message"],
    )
    [told] = open_exceptions(any_central, store)
    assert (told["code"], told["order_id"], told["op_id"], told["actor_id"]) == (
        "ALREADY_HANDED_OVER",
        oid,
        late["op_id"],
        "E2",
    )
    assert told["device_id"] == b.device_id
    assert re.fullmatch(
        rf"Order {oid} handed over twice: Ben at \d\d:\d\d after Ana at \d\d:\d\d — stock left"
        r" the store once; check the pickup shelf and call the customer",
        told["message"],
    )
    # one bag left the store: the ledger takes it off once
    assert moved(any_central, store, sku, "handoff") == 1
    assert any_central.stock(store, sku)["on_hand"] == 19
    order = any_central.get_order(oid)
    assert (order["state"], order["lines"][0]["handed_over"]) == ("handed_over", 1)
    # the tablet that handed over second pulls the exception its op opened
    pulled = [c["data"] for c in b.pull_all() if c["kind"] == "exception"]
    assert [(x["code"], x["op_id"]) for x in pulled] == [("ALREADY_HANDED_OVER", late["op_id"])]


def test_a_second_tablet_s_shipment_stands_tells_a_manager_and_takes_stock_once(
    any_central: Central, store: TestStore, tablets: tuple[RawDevice, RawDevice]
) -> None:
    a, b = tablets
    sku = store.skus[1]
    oid = any_central.order(store, [(sku, 1)], type="ship_from_store")["order_id"]
    staged(a, store, sku, oid, "PACK")
    ship = {"order_id": oid, "carrier": "DPD", "tracking": "TRK-1", "packages": 1}
    assert a.push_one("order.ship", ship, actor="E1")["status"] == "applied"
    again = b.push_one("order.ship", {**ship, "carrier": "DHL", "tracking": "TRK-2"}, actor="E2")

    assert (again["status"], again["code"]) == ("compensated", "ALREADY_SHIPPED")
    assert re.fullmatch(
        rf"Order {oid} had already shipped, Ana at \d\d:\d\d \(DPD TRK-1\): this parcel"
        r" \(DHL TRK-2\) goes to a manager to check; stock was not taken off twice",
        again["message"],
    )
    [told] = open_exceptions(any_central, store)
    assert (told["code"], told["order_id"], told["actor_id"]) == ("ALREADY_SHIPPED", oid, "E2")
    assert "ask the carrier to stop the parcel that should not go" in told["message"]
    assert moved(any_central, store, sku, "ship") == 1
    assert any_central.stock(store, sku)["on_hand"] == 19
    order = any_central.get_order(oid)
    assert (order["state"], order["tracking"]) == ("shipped", "TRK-1")


def test_handing_over_more_than_was_picked_tells_a_manager_and_asks_a_recount(
    any_central: Central, store: TestStore, tablets: tuple[RawDevice, RawDevice]
) -> None:
    a, _ = tablets
    sku = store.skus[2]
    oid = any_central.order(store, [(sku, 1)])["order_id"]
    staged(a, store, sku, oid, "P-2")
    assert any_central.stock(store, sku)["doubtful"] is False
    over = a.op("order.handoff", handoff(oid, qty=2), actor="E1")
    [result] = a.push(over)

    assert (result["status"], result["code"]) == ("compensated", "OVER_HANDOFF")
    assert result["message"] == "1 unit(s) more than were picked: check the bag with the customer"
    assert [(f["kind"], f["sku"], f["location"]) for f in result["followups"]] == [
        ("recount", sku, "A-03-1")
    ]
    told = [x for x in open_exceptions(any_central, store) if x["op_id"] == over["op_id"]]
    assert [(x["code"], x["order_id"]) for x in told] == [("OVER_HANDOFF", oid)]
    assert re.fullmatch(
        rf"Order {oid}: Ana at \d\d:\d\d handed over 1 unit\(s\) more than were picked \(line 1"
        r" Item 3: 1 more\) — recount those items on their shelves and check with the"
        r" customer what was in the bag",
        told[0]["message"],
    )
    recounts = [t for t in any_central.tasks(store, "recount") if t["op_id"] == over["op_id"]]
    assert [(t["sku"], t["location"], t["state"]) for t in recounts] == [(sku, "A-03-1", "open")]
    # only the picked unit is known to have left; the recount finds out about the other
    assert moved(any_central, store, sku, "handoff") == 1
    stock = any_central.stock(store, sku)
    assert (stock["on_hand"], stock["doubtful"]) == (19, True)
