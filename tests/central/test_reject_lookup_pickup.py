"""Issue #11 at central, on SQLite and PostgreSQL: reject reasons set by the OMS, a line
rejected as damaged or not found, the stock lookup with the chain's other stores, proof of
pickup, curbside check-in, the notice resent, the contact corrected, the reminder."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from central.db.engine import make_engine
from central.service.pickups import remind_pickups
from tests.support.central import Central, TestStore, ok
from tests.support.device import RawDevice


def notifications(central: Central, store: TestStore) -> list[dict[str, Any]]:
    return list(ok(central.oms.get(f"/v1/oms/stores/{store.store_id}/notifications")))


def staged_pickup(central: Central, store: TestStore, device: RawDevice, **kw: Any) -> str:
    sku = store.skus[0]
    order_id = str(central.order(store, [(sku, 1)], **kw)["order_id"])
    for type_, payload in (
        ("order.claim", {"order_id": order_id}),
        ("pick.scan", {"order_id": order_id, "line_id": "1", "gtin": store.gtins[sku]}),
        ("order.stage", {"order_id": order_id, "staging_location": "P-1"}),
    ):
        assert device.push_one(type_, payload)["status"] == "applied"
    return order_id


def test_the_oms_sets_a_store_s_reasons_and_tablets_pull_them_in_the_store_document(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    reasons = [
        {"code": "crushed", "label": "Crushed in the aisle", "effect": "damaged"},
        {
            "code": "gone",
            "label": "Not on the shelf",
            "effect": "doubtful",
            "lowers_available": True,
        },
    ]
    put = any_central.oms.put(f"/v1/oms/stores/{store.store_id}/reject-reasons", json=reasons)
    assert [r["code"] for r in ok(put)] == ["crushed", "gone"]
    [store_doc] = [c for c in device.pull_all() if c["kind"] == "store"]
    assert [r["label"] for r in store_doc["data"]["policy"]["reject_reasons"]] == [
        "Crushed in the aisle",
        "Not on the shelf",
    ]
    # the store's own call keeps them
    ok(any_central.oms.put(f"/v1/oms/stores/{store.store_id}", json={"name": "Renamed"}))
    [store_doc] = [c for c in device.pull_all() if c["kind"] == "store"]
    assert len(store_doc["data"]["policy"]["reject_reasons"]) == 2
    twice = any_central.oms.put(
        f"/v1/oms/stores/{store.store_id}/reject-reasons", json=[reasons[0], reasons[0]]
    )
    assert twice.status_code == 422 and twice.json()["code"] == "INVALID_REQUEST"
    bad = any_central.oms.put(
        f"/v1/oms/stores/{store.store_id}/reject-reasons",
        json=[{"code": "x", "label": "X", "effect": "lost"}],
    )
    assert bad.status_code == 422


def test_a_line_rejected_as_damaged_moves_the_unit_to_the_damaged_bin_and_keeps_the_order(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    sku, other = store.skus[0], store.skus[1]
    order_id = any_central.order(store, [(sku, 2), (other, 1)])["order_id"]
    device.push_one("order.claim", {"order_id": order_id})
    result = device.push_one(
        "line.reject", {"order_id": order_id, "line_id": "1", "qty": 1, "code": "damaged"}
    )
    assert result["status"] == "applied"
    assert any_central.stock(store, sku)["on_hand"] == 19
    assert any_central.ledger(store, sku)[-1]["kind"] == "damaged"
    seen = any_central.get_order(order_id)
    assert seen["state"] == "picking"
    assert (seen["lines"][0]["rejected"], seen["lines"][0]["reject_code"]) == (1, "damaged")
    assert [(r["line_id"], r["label"], r["by"]) for r in seen["rejections"]] == [
        ("1", "Damaged", "E1")
    ]


def test_a_line_not_found_makes_the_place_doubtful_with_a_recount_and_rejects_an_empty_order(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    sku = store.skus[0]
    order_id = any_central.order(store, [(sku, 2)])["order_id"]
    device.push_one("order.claim", {"order_id": order_id})
    device.push_one(
        "line.reject", {"order_id": order_id, "line_id": "1", "qty": 2, "code": "not_found"}
    )
    assert any_central.stock(store, sku)["doubtful"] is True
    assert any_central.stock(store, sku)["on_hand"] == 20  # not_found does not lower it
    assert [t["sku"] for t in any_central.tasks(store, "recount")] == [sku]
    assert any_central.get_order(order_id)["state"] == "rejected"
    again = device.push_one(
        "line.reject", {"order_id": order_id, "line_id": "1", "qty": 1, "code": "damaged"}
    )
    assert (again["status"], again["code"]) == ("rejected", "ORDER_REJECTED")


def test_an_older_tablet_s_reject_without_a_code_is_still_applied(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    order_id = any_central.order(store, [(store.skus[0], 1)])["order_id"]
    result = device.push_one("order.reject", {"order_id": order_id, "reason": "Shelf empty"})
    assert result["status"] == "applied"
    assert any_central.get_order(order_id)["rejections"] == []


def test_the_stock_lookup_names_the_chain_s_other_stores_and_the_last_movements(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    sku = store.skus[0]
    # the same skus, more of each than any other test's store (PostgreSQL's database is shared
    # by the whole run, and the answer lists the 20 stores holding the most)
    other = any_central.new_store(stock=90_000)
    empty = any_central.new_store(stock=1)
    ok(
        any_central.oms.post(
            f"/v1/oms/stores/{empty.store_id}/stock",
            json=[{"sku": sku, "location": empty.locations[sku], "qty": 0, "kind": "set"}],
        )
    )
    device.push_one(
        "stock.adjust",
        {"sku": sku, "location": store.locations[sku], "delta": -2, "reason": "Broken jar"},
        actor="M1",
    )
    found = ok(device.http.get(f"/v1/sync/stock/{sku}/nearby"))
    names = [s["store_id"] for s in found["stores"]]
    assert other.store_id in names and empty.store_id not in names
    assert store.store_id not in names
    assert (
        next(s for s in found["stores"] if s["store_id"] == other.store_id)["available"] == 90_000
    )
    last = found["movements"][0]
    assert (last["kind"], last["qty"], last["actor_name"], last["note"]) == (
        "adjust",
        -2,
        "Maria",
        "Broken jar",
    )
    assert any_central.oms.get(f"/v1/sync/stock/{sku}/nearby").status_code == 403


def test_a_hand_over_to_the_alternate_with_id_digits_is_kept_on_the_order(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    order_id = staged_pickup(any_central, store, device)
    proof = {"collected_by": "alternate", "name": "Bo", "id_type": "passport", "id_last4": "4821"}
    result = device.push_one(
        "order.handoff",
        {
            "order_id": order_id,
            "verified_by": "id",
            "lines": [{"line_id": "1", "qty": 1}],
            "proof": proof,
        },
    )
    assert result["status"] == "applied"
    assert any_central.get_order(order_id)["proof"] == proof


def test_a_hand_over_without_the_id_the_oms_asked_for_stands_and_tells_a_manager(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    sku = store.skus[0]
    body = {
        "order_id": "W-ID-" + store.store_id,
        "store_id": store.store_id,
        "type": "pickup",
        "due_at": (datetime.now(UTC) + timedelta(hours=2)).isoformat(),
        "alternate": {"name": "Bo Brown"},
        "id_required": True,
        "lines": [{"line_id": "1", "sku": sku, "qty": 1}],
    }
    created = ok(any_central.oms.post("/v1/oms/orders", json=body))
    assert created["id_required"] is True and created["alternate"]["name"] == "Bo Brown"
    order_id = str(body["order_id"])
    device.push_one("order.claim", {"order_id": order_id})
    device.push_one("pick.scan", {"order_id": order_id, "line_id": "1", "gtin": store.gtins[sku]})
    device.push_one("order.stage", {"order_id": order_id, "staging_location": "P-1"})
    result = device.push_one(
        "order.handoff",
        {"order_id": order_id, "verified_by": "pickup_code", "lines": [{"line_id": "1", "qty": 1}]},
    )
    assert (result["status"], result["code"]) == ("compensated", "ID_NOT_RECORDED")
    assert any_central.get_order(order_id)["state"] == "handed_over"
    open_ = ok(any_central.oms.get(f"/v1/oms/stores/{store.store_id}/exceptions"))
    assert "ID_NOT_RECORDED" in [x["code"] for x in open_]


def test_check_in_notice_again_and_a_corrected_contact_reach_the_oms_feed(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    order_id = staged_pickup(any_central, store, device)
    checked = any_central.oms.post(
        f"/v1/oms/stores/{store.store_id}/orders/{order_id}/checkin", json={"bay": "4"}
    )
    assert ok(checked)["checkin"]["bay"] == "4"
    pulled = [c for c in device.pull_all() if c["kind"] == "order" and c["id"] == order_id]
    assert pulled[-1]["data"]["checkin"]["bay"] == "4"
    wrong_store = any_central.oms.post(
        f"/v1/oms/stores/NOPE/orders/{order_id}/checkin", json={"bay": "4"}
    )
    assert wrong_store.status_code == 404 and wrong_store.json()["code"] == "UNKNOWN_ORDER"
    assert device.push_one("order.notify", {"order_id": order_id})["status"] == "applied"
    fixed = device.push_one("order.contact", {"order_id": order_id, "email": "liv@example.com"})
    assert fixed["status"] == "applied"
    kinds = [(n["kind"], n["data"].get("resent")) for n in notifications(any_central, store)]
    assert kinds == [
        ("ready_for_pickup", None),
        ("ready_for_pickup", True),
        ("contact_changed", None),
    ]
    assert any_central.get_order(order_id)["customer"]["email"] == "liv@example.com"
    bad = device.push_one("order.contact", {"order_id": order_id, "email": "not an email"})
    assert (bad["status"], bad["code"]) == ("rejected", "INVALID_OP")


def test_the_expiry_job_reminds_the_customer_once_before_the_hold_ends(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    order_id = staged_pickup(any_central, store, device)
    engine = make_engine(any_central.server.database_url)
    try:
        now = datetime.now(UTC)
        assert remind_pickups(engine, now) == 0
        later = now + timedelta(days=5) - timedelta(hours=3)  # the default hold is 5 days
        assert remind_pickups(engine, later) >= 1
        assert remind_pickups(engine, later) == 0
    finally:
        engine.dispose()
    kinds = [n["kind"] for n in notifications(any_central, store) if n["order_id"] == order_id]
    assert kinds == ["ready_for_pickup", "pickup_reminder"]
