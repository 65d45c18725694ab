"""PROTOCOL.md "Conflict rules", each against central on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from central.db.engine import make_engine
from central.service.clock import utcnow
from central.service.oms import expire_pickups
from tests.support.central import Central, TestStore, ok
from tests.support.device import RawDevice


@pytest.fixture
def store(any_central: Central) -> TestStore:
    return any_central.new_store(policy={"pickup_hold_days": 2})


def scan(sku_gtin: str, oid: str, qty: int = 1, line: str = "1") -> dict[str, Any]:
    return {"order_id": oid, "line_id": line, "gtin": sku_gtin, "qty": qty, "location": "A-01-1"}


def stage_one(tablet: RawDevice, store: TestStore, sku: str, oid: str, shelf: str = "P-1") -> None:
    """Claim, pick one unit and stage the order on `shelf`, all applied."""
    results = tablet.push(
        tablet.op("order.claim", {"order_id": oid}),
        tablet.op("pick.scan", scan(store.gtins[sku], oid)),
        tablet.op("order.stage", {"order_id": oid, "staging_location": shelf}),
    )
    assert [r["status"] for r in results] == ["applied"] * 3, results


def tasks_of(changes: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [c["data"] for c in changes if c["kind"] == "task" and c["data"]["kind"] == kind]


def test_the_first_claim_wins_and_the_second_names_who_and_when(
    any_central: Central, store: TestStore, tablets: tuple[RawDevice, RawDevice]
) -> None:
    a, b = tablets
    oid = any_central.order(store, [(store.skus[0], 1)])["order_id"]
    assert a.push_one("order.claim", {"order_id": oid}, actor="E1")["status"] == "applied"
    second = b.push_one("order.claim", {"order_id": oid}, actor="E2")
    assert (second["status"], second["code"]) == ("rejected", "ALREADY_CLAIMED")
    assert second["message"].startswith("Picked by Ana since ")
    assert any_central.get_order(oid)["assignee"] == "E1"


def test_who_picks_an_order_is_told_at_the_store_s_wall_clock_time(any_central: Central) -> None:
    store = any_central.new_store(timezone="America/New_York")  # never UTC's wall clock
    a, b = RawDevice(any_central, store, "tablet A"), RawDevice(any_central, store, "tablet B")
    try:
        sku = store.skus[0]
        oid = any_central.order(store, [(sku, 1)])["order_id"]
        a.push(
            a.op("order.claim", {"order_id": oid}, actor="E1"),
            a.op("pick.scan", scan(store.gtins[sku], oid), actor="E1"),
        )
        late = b.push(
            b.op("order.claim", {"order_id": oid}, actor="E2"),
            b.op("pick.scan", scan(store.gtins[sku], oid), actor="E2"),
        )
        order = next(c["data"] for c in b.pull_all() if c["kind"] == "order" and c["id"] == oid)
        claimed_at = datetime.fromisoformat(order["claimed_at"])
        at = claimed_at.astimezone(ZoneInfo("America/New_York")).strftime("%H:%M")
        assert claimed_at.strftime("%H:%M") != at
        assert [r["message"] for r in late] == [
            f"Picked by Ana since {at}",
            f"Picked by Ana at {at} — put 1 × back at A-01-1",
        ]
    finally:
        a.close()
        b.close()


def test_two_tablets_picking_one_order_make_one_put_back_and_count_stock_once(
    any_central: Central, store: TestStore, tablets: tuple[RawDevice, RawDevice]
) -> None:
    a, b = tablets
    sku = store.skus[0]
    oid = any_central.order(store, [(sku, 2)])["order_id"]
    a.push(
        a.op("order.claim", {"order_id": oid}, actor="E1"),
        a.op("pick.scan", scan(store.gtins[sku], oid, 2), actor="E1"),
    )
    late = b.push(
        b.op("order.claim", {"order_id": oid}, actor="E2"),
        b.op("pick.scan", scan(store.gtins[sku], oid, 2), actor="E2"),
    )
    assert [(r["status"], r["code"]) for r in late] == [
        ("rejected", "ALREADY_CLAIMED"),
        ("compensated", "OVER_PICK"),
    ]
    assert re.fullmatch(r"Picked by Ana at \d\d:\d\d — put 2 × back at A-01-1", late[1]["message"])
    assert [(f["kind"], f["qty"]) for f in late[1]["followups"]] == [("put_back", 2)]
    view = any_central.get_order(oid)
    assert view["lines"][0]["picked"] == 2
    picks = [
        r
        for r in ok(
            any_central.oms.get(f"/v1/oms/stores/{store.store_id}/ledger", params={"sku": sku})
        )
        if r["kind"] == "pick"
    ]
    assert sum(r["qty"] for r in picks) == 2
    assert len(tasks_of(b.pull_all(), "put_back")) == 1


def test_units_scanned_one_by_one_after_a_lost_claim_go_back_as_one_task_per_push(
    any_central: Central, store: TestStore, tablets: tuple[RawDevice, RawDevice]
) -> None:
    a, b = tablets
    sku = store.skus[0]
    oid = any_central.order(store, [(sku, 3)])["order_id"]
    a.push(
        a.op("order.claim", {"order_id": oid}, actor="E1"),
        a.op("pick.scan", scan(store.gtins[sku], oid, 3), actor="E1"),
    )
    late = b.push(
        b.op("order.claim", {"order_id": oid}, actor="E2"),
        *[b.op("pick.scan", scan(store.gtins[sku], oid), actor="E2") for _ in range(3)],
    )
    shares = [(f["task_id"], f["kind"], f["qty"]) for r in late[1:] for f in r["followups"]]
    [task_id] = {t for t, _, _ in shares}
    assert shares == [(task_id, "put_back", 1)] * 3  # each op names its own unit
    [task] = tasks_of(b.pull_all(), "put_back")
    assert (task["task_id"], task["qty"], task["state"]) == (task_id, 3, "open")

    again = b.push_one("pick.scan", scan(store.gtins[sku], oid), actor="E2")
    [later] = again["followups"]
    assert later["task_id"] != task_id  # a task a tablet may have seen never grows
    put_backs = tasks_of(b.pull_all(), "put_back")
    assert [(t["task_id"], t["qty"]) for t in put_backs] == [(later["task_id"], 1)]


def test_scans_for_an_order_cancelled_centrally_become_a_restock_task(
    any_central: Central, store: TestStore, tablets: tuple[RawDevice, RawDevice]
) -> None:
    a, _ = tablets
    sku = store.skus[1]
    oid = any_central.order(store, [(sku, 1)])["order_id"]
    a.push_one("order.claim", {"order_id": oid})
    ok(
        any_central.oms.post(
            f"/v1/oms/orders/{oid}/cancel", json={"reason": "customer changed mind"}
        )
    )
    result = a.push_one("pick.scan", scan(store.gtins[sku], oid))
    assert (result["status"], result["code"]) == ("compensated", "ORDER_CANCELLED")
    assert result["message"] == f"Order {oid} was cancelled: put 1 × Item 2 back at A-02-1"
    assert [f["kind"] for f in result["followups"]] == ["restock"]
    assert any_central.get_order(oid)["lines"][0]["picked"] == 0


def test_cancelling_a_picked_order_makes_a_restock_task_the_tablet_pulls(
    any_central: Central, store: TestStore, tablets: tuple[RawDevice, RawDevice]
) -> None:
    a, _ = tablets
    sku = store.skus[1]
    oid = any_central.order(store, [(sku, 2)])["order_id"]
    a.push(
        a.op("order.claim", {"order_id": oid}), a.op("pick.scan", scan(store.gtins[sku], oid, 2))
    )
    ok(any_central.oms.post(f"/v1/oms/orders/{oid}/cancel", json={"reason": "fraud check"}))
    changes = a.pull_all()
    assert [(t["sku"], t["qty"]) for t in tasks_of(changes, "restock")] == [(sku, 2)]
    order = next(c["data"] for c in changes if c["kind"] == "order" and c["id"] == oid)
    assert order["state"] == "cancelled"


def test_a_cancel_of_a_handed_over_order_is_refused(
    any_central: Central, store: TestStore, tablets: tuple[RawDevice, RawDevice]
) -> None:
    a, _ = tablets
    sku = store.skus[0]
    oid = any_central.order(store, [(sku, 1)])["order_id"]
    a.push(
        a.op("order.claim", {"order_id": oid}),
        a.op("pick.scan", scan(store.gtins[sku], oid)),
        a.op("order.stage", {"order_id": oid, "staging_location": "P-1"}),
        a.op(
            "order.handoff",
            {"order_id": oid, "verified_by": "id", "lines": [{"line_id": "1", "qty": 1}]},
        ),
    )
    r = any_central.oms.post(f"/v1/oms/orders/{oid}/cancel", json={"reason": "late"})
    assert r.status_code == 409
    assert r.json() == {"code": "ORDER_CLOSED", "message": f"Order {oid} was already handed over"}


def test_a_short_creates_a_recount_task_and_marks_the_stock_doubtful(
    any_central: Central, store: TestStore, tablets: tuple[RawDevice, RawDevice]
) -> None:
    a, _ = tablets
    sku = store.skus[2]
    oid = any_central.order(store, [(sku, 1)])["order_id"]
    result = a.push_one(
        "pick.short", {"order_id": oid, "line_id": "1", "qty": 1, "reason": "not_found"}
    )
    assert [(f["kind"], f["sku"], f["location"]) for f in result["followups"]] == [
        ("recount", sku, "A-03-1")
    ]
    assert any_central.stock(store, sku)["doubtful"] is True
    assert len(tasks_of(a.pull_all(), "recount")) == 1


@pytest.mark.parametrize("end", ["cancel", "expire"])
def test_a_hand_over_recorded_after_cancel_or_expiry_stands_and_opens_an_exception(
    any_central: Central, store: TestStore, tablets: tuple[RawDevice, RawDevice], end: str
) -> None:
    a, _ = tablets
    sku = store.skus[0]
    oid = any_central.order(store, [(sku, 1)])["order_id"]
    stage_one(a, store, sku, oid, "P-1")
    handed_at = utcnow()
    if end == "cancel":
        ok(any_central.oms.post(f"/v1/oms/orders/{oid}/cancel", json={"reason": "too slow"}))
    else:
        engine = make_engine(any_central.server.database_url)
        assert expire_pickups(engine, utcnow() + timedelta(days=3)) >= 1
        engine.dispose()
        assert any_central.get_order(oid)["state"] == "expired"
    result = a.push_one(
        "order.handoff",
        {"order_id": oid, "verified_by": "pickup_code", "lines": [{"line_id": "1", "qty": 1}]},
        occurred_at=handed_at,
    )
    code = "HANDED_OVER_AFTER_CANCEL" if end == "cancel" else "HANDED_OVER_AFTER_EXPIRY"
    assert (result["status"], result["code"]) == ("compensated", code)
    assert any_central.get_order(oid)["state"] == "handed_over"
    assert any_central.stock(store, sku)["on_hand"] == 19  # the sale stands
    exceptions = ok(any_central.oms.get(f"/v1/oms/stores/{store.store_id}/exceptions"))
    assert [(x["code"], x["order_id"]) for x in exceptions] == [(code, oid)]
    open_restock = [t for t in tasks_of(a.pull_all(), "restock") if t["state"] == "open"]
    assert open_restock == []  # the goods left with the customer: nothing to put back


def test_an_uncollected_pickup_expires_with_a_restock_task(
    any_central: Central, store: TestStore, tablets: tuple[RawDevice, RawDevice]
) -> None:
    a, _ = tablets
    sku = store.skus[3]
    oid = any_central.order(store, [(sku, 1)])["order_id"]
    stage_one(a, store, sku, oid, "P-1")
    engine = make_engine(any_central.server.database_url)
    try:
        assert expire_pickups(engine, utcnow() + timedelta(days=1)) == 0
        assert expire_pickups(engine, utcnow() + timedelta(days=2, minutes=1)) == 1
    finally:
        engine.dispose()
    assert any_central.get_order(oid)["state"] == "expired"
    assert [(t["sku"], t["qty"]) for t in tasks_of(a.pull_all(), "restock")] == [(sku, 1)]
    assert any_central.stock(store, sku)["reserved"] == 0


def test_a_rejected_order_goes_back_to_the_oms(
    any_central: Central, store: TestStore, tablets: tuple[RawDevice, RawDevice]
) -> None:
    a, _ = tablets
    oid = any_central.order(store, [(store.skus[0], 1)])["order_id"]
    a.push(
        a.op("order.claim", {"order_id": oid}),
        a.op("pick.short", {"order_id": oid, "line_id": "1", "qty": 1, "reason": "damaged"}),
        a.op("order.reject", {"order_id": oid, "reason": "all short"}),
    )
    view = any_central.get_order(oid)
    assert (view["state"], view["reason"]) == ("rejected", "all short")


def test_a_manager_assigns_and_reprioritises_and_an_associate_may_not(
    any_central: Central, store: TestStore, tablets: tuple[RawDevice, RawDevice]
) -> None:
    a, _ = tablets
    oid = any_central.order(store, [(store.skus[0], 1)])["order_id"]
    refused = a.push_one("order.assign", {"order_id": oid, "associate_id": "E2"}, actor="E1")
    assert (refused["status"], refused["code"]) == ("rejected", "FORBIDDEN")
    results = a.push(
        a.op("order.assign", {"order_id": oid, "associate_id": "E2"}, actor="M1"),
        a.op("order.prioritize", {"order_id": oid, "priority": 9}, actor="M1"),
    )
    assert [r["status"] for r in results] == ["applied", "applied"]
    view = any_central.get_order(oid)
    assert (view["assignee"], view["priority"]) == ("E2", 9)
    other = a.push_one("order.claim", {"order_id": oid}, actor="E1")
    assert other["code"] == "ALREADY_CLAIMED"


def test_customer_facing_changes_are_recorded_for_the_oms(
    any_central: Central, store: TestStore, tablets: tuple[RawDevice, RawDevice]
) -> None:
    a, _ = tablets
    sku = store.skus[0]
    oid = any_central.order(store, [(sku, 1)])["order_id"]
    stage_one(a, store, sku, oid, "PICKUP-3")
    notes = ok(any_central.oms.get(f"/v1/oms/stores/{store.store_id}/notifications"))
    assert [(n["order_id"], n["kind"], n["data"]["staging_location"]) for n in notes] == [
        (oid, "ready_for_pickup", "PICKUP-3")
    ]
