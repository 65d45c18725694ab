"""Inbound shipments and transfers on central (SQLite and PostgreSQL): the OMS announces a
shipment, the store's tablets pull it, count it and close it; the stock posts, over, short
and damaged units reach a manager; a transfer shipped by one store arrives at another."""

from __future__ import annotations

from typing import Any

from tests.support.central import Central, TestStore, ok
from tests.support.device import RawDevice

SSCC = "376123450000000016"


def _put(central: Central, store_id: str, shipment_id: str, body: Any) -> Any:
    return central.oms.put(f"/v1/oms/stores/{store_id}/inbound/{shipment_id}", json=body)


def _stock(central: Central, store: TestStore, sku: str) -> dict[str, int]:
    rows = ok(central.oms.get(f"/v1/oms/stores/{store.store_id}/stock", params={"sku": sku}))
    return {r["location"]: r["on_hand"] for r in rows}


def _exceptions(central: Central, store: TestStore) -> list[dict[str, Any]]:
    return list(ok(central.oms.get(f"/v1/oms/stores/{store.store_id}/exceptions")))


def _inbound(changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [c for c in changes if c["kind"] == "inbound"]


def test_a_shipment_is_pulled_counted_and_closed_and_its_differences_reach_a_manager(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    dog, cat = store.skus[0], store.skus[1]
    body = {
        "source": "dc",
        "lines": [{"sku": dog, "qty": 4}, {"sku": cat, "qty": 2}],
        "cartons": [{"sscc": "00" + SSCC, "lines": [{"sku": dog, "qty": 4}]}],
    }
    device.pull_all()
    first = _put(any_central, store.store_id, "S-1", body)
    assert first.status_code == 201 and first.json()["cartons"][0]["sscc"] == SSCC
    assert _put(any_central, store.store_id, "S-1", body).status_code == 200  # idempotent
    [change] = _inbound(device.pull_all())
    assert change["id"] == "S-1" and change["data"]["lines"][0]["location"] == store.locations[dog]
    results = device.push(
        device.op("inbound.carton", {"shipment_id": "S-1", "sscc": SSCC}),
        device.op("inbound.count", {"shipment_id": "S-1", "sku": dog, "qty": 1, "damaged": 1}),
        device.op("inbound.count", {"shipment_id": "S-1", "sku": cat, "qty": 1}),
    )
    assert [r["status"] for r in results] == ["applied"] * 3
    changed = _put(any_central, store.store_id, "S-1", {**body, "source": "dc-2"})
    assert (changed.status_code, changed.json()["code"]) == (409, "RECEIPT_DIFFERS")
    closed = device.push_one("inbound.close", {"shipment_id": "S-1"}, actor="E2")
    assert (closed["status"], closed["code"]) == ("applied", "RECEIPT_DIFFERS")
    assert _stock(any_central, store, dog)[store.locations[dog]] == 20 + 4
    assert _stock(any_central, store, cat)[store.locations[cat]] == 20 + 1
    kinds = [r["kind"] for r in any_central.ledger(store, dog)]
    assert kinds.count("receipt_damaged") == 1
    [exc] = [x for x in _exceptions(any_central, store) if x["code"] == "RECEIPT_DIFFERS"]
    assert "1 over" in exc["message"] and "1 short" in exc["message"]
    assert "1 damaged" in exc["message"] and "claim" in exc["message"]
    [after] = _inbound(device.pull_all())
    assert after["data"]["state"] == "closed" and after["data"]["closed_by"] == "E2"
    late = device.push_one("inbound.count", {"shipment_id": "S-1", "sku": cat, "qty": 1})
    assert (late["status"], late["code"]) == ("compensated", "RECEIPT_CLOSED")
    assert _stock(any_central, store, cat)[store.locations[cat]] == 21  # posted once
    read = ok(any_central.oms.get(f"/v1/oms/stores/{store.store_id}/inbound/S-1"))
    assert read["state"] == "closed"


def test_a_bad_announcement_is_refused_in_words_and_nothing_reaches_the_tablets(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    sku = store.skus[0]
    good = {"source": "dc", "lines": [{"sku": sku, "qty": 1}]}
    device.pull_all()
    s = store.store_id
    cases = [
        (s, {"source": "dc", "lines": [{"sku": "NOPE", "qty": 1}]}, 422, "INVALID_REQUEST"),
        (s, {"source": "dc", "lines": []}, 422, "INVALID_REQUEST"),
        (s, {**good, "lines": [{"sku": sku, "qty": 1}] * 2}, 422, "INVALID_REQUEST"),
        (s, {**good, "cartons": [{"sscc": SSCC[:-1] + "7"}]}, 422, "INVALID_REQUEST"),
        (s, {**good, "order_id": "W-NONE"}, 404, "UNKNOWN_ORDER"),
        ("S-NONE", good, 404, "UNKNOWN_STORE"),
    ]
    for store_id, body, status, code in cases:
        answer = _put(any_central, store_id, "S-BAD", body)
        assert (answer.status_code, answer.json()["code"]) == (status, code), body
        assert answer.json()["message"]
    assert _inbound(device.pull_all()) == []
    missing = any_central.oms.get(f"/v1/oms/stores/{s}/inbound/S-BAD")
    assert (missing.status_code, missing.json()["code"]) == (404, "UNKNOWN_SHIPMENT")


def test_a_ship_to_store_order_that_arrives_is_ready_for_pickup(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    sku = store.skus[2]
    order = any_central.order(store, [(sku, 2)])
    body = {"source": "dc", "lines": [{"sku": sku, "qty": 2}], "order_id": order["order_id"]}
    ok(_put(any_central, store.store_id, "S-STS", body))
    device.push_one("inbound.count", {"shipment_id": "S-STS", "sku": sku, "qty": 2})
    assert device.push_one("inbound.close", {"shipment_id": "S-STS"})["status"] == "applied"
    got = any_central.get_order(order["order_id"])
    assert got["state"] == "staged" and got["staging_location"] == "PICKUP-SHELF"
    notes = ok(any_central.oms.get(f"/v1/oms/stores/{store.store_id}/notifications"))
    assert [n["kind"] for n in notes if n["order_id"] == order["order_id"]] == ["ready_for_pickup"]


def _pick_and_ship(device: RawDevice, store: TestStore, order_id: str, sku: str, qty: int) -> None:
    line = {"order_id": order_id, "line_id": "1"}
    results = device.push(
        device.op("order.claim", {"order_id": order_id}),
        device.op("pick.scan", {**line, "gtin": store.gtins[sku], "qty": qty}),
        device.op("order.stage", {"order_id": order_id, "staging_location": "BENCH"}),
        device.op("order.ship", {"order_id": order_id, "carrier": "DHL", "tracking": "JD0001"}),
    )
    assert [r["status"] for r in results] == ["applied"] * 4, results


def test_a_transfer_is_picked_shipped_in_transit_and_received_at_the_other_store(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    other = any_central.new_store()
    there = RawDevice(any_central, other, "tablet B")
    try:
        sku, tid = store.skus[0], f"TR-{store.store_id}"
        transfer: dict[str, Any] = {
            "transfer_id": tid,
            "destination": other.store_id,
            "lines": [{"sku": sku, "qty": 3}],
        }
        refused = device.push_one("transfer.create", transfer)  # an associate may not
        assert (refused["status"], refused["code"]) == ("rejected", "FORBIDDEN")
        same = {**transfer, "transfer_id": "TR-SAME", "destination": store.store_id}
        assert device.push_one("transfer.create", same, actor="M1")["code"] == "SAME_STORE"
        made = device.push_one("transfer.create", transfer, actor="M1")
        assert made["status"] == "applied", made
        order = any_central.get_order(tid)
        assert (order["type"], order["destination"]) == ("transfer", other.store_id)
        _pick_and_ship(device, store, tid, sku, 3)
        assert _stock(any_central, store, sku)[store.locations[sku]] == 20 - 3
        assert _stock(any_central, other, sku) == {other.locations[sku]: 20, "IN-TRANSIT": 3}
        [arrived] = _inbound(there.pull_all())
        data = arrived["data"]
        assert (arrived["id"], data["source"]) == (
            transfer["transfer_id"],
            f"store:{store.store_id}",
        )
        assert (data["tracking"], data["lines"][0]["expected"]) == ("JD0001", 3)
        shipment = {"shipment_id": tid}
        there.push_one("inbound.count", {**shipment, "sku": sku, "qty": 3})
        assert there.push_one("inbound.close", shipment)["code"] is None
        assert _stock(any_central, other, sku) == {other.locations[sku]: 23, "IN-TRANSIT": 0}
    finally:
        there.close()


def test_the_oms_asks_a_store_for_a_transfer_once(any_central: Central, store: TestStore) -> None:
    other = any_central.new_store()
    url = f"/v1/oms/stores/{store.store_id}/transfers/TR-OMS-{store.store_id}"
    body = {"destination": other.store_id, "lines": [{"sku": store.skus[1], "qty": 2}]}
    first = ok(any_central.oms.put(url, json=body))
    assert (first["type"], first["state"]) == ("transfer", "released")
    assert ok(any_central.oms.put(url, json=body)) == first
    bad = any_central.oms.put(url.replace("TR-OMS", "TR-X"), json={**body, "destination": "NOPE"})
    assert (bad.status_code, bad.json()["code"]) == (404, "UNKNOWN_STORE")
    same = any_central.oms.put(
        url.replace("TR-OMS", "TR-Y"), json={**body, "destination": store.store_id}
    )
    assert (same.status_code, same.json()["code"]) == (409, "SAME_STORE")
    released = any_central.oms.post(
        "/v1/oms/orders",
        json={
            "order_id": "W-TR",
            "store_id": store.store_id,
            "type": "transfer",
            "due_at": "2030-01-01T00:00:00Z",
            "lines": [{"line_id": "1", "sku": store.skus[1], "qty": 1}],
        },
    )
    assert (released.status_code, released.json()["code"]) == (422, "INVALID_REQUEST")
    assert "transfers" in released.text


def test_a_transferred_item_the_destination_lacks_is_received_at_receiving(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    small = any_central.new_store(items=2)
    there = RawDevice(any_central, small, "tablet B")
    try:
        sku, tid = store.skus[5], f"TR-NEW-{store.store_id}"
        transfer = {
            "transfer_id": tid,
            "destination": small.store_id,
            "lines": [{"sku": sku, "qty": 1}],
        }
        assert device.push_one("transfer.create", transfer, actor="M1")["status"] == "applied"
        _pick_and_ship(device, store, tid, sku, 1)
        [arrived] = _inbound(there.pull_all())
        assert arrived["data"]["lines"] == [
            {"sku": sku, "expected": 1, "received": 0, "damaged": 0, "name": "", "location": ""}
        ]
        there.push_one("inbound.count", {"shipment_id": tid, "sku": sku, "qty": 1})
        assert there.push_one("inbound.close", {"shipment_id": tid})["status"] == "applied"
        assert _stock(any_central, small, sku) == {"RECEIVING": 1, "IN-TRANSIT": 0}
    finally:
        there.close()
