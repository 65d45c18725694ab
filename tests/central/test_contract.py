"""The sync protocol's contract (PROTOCOL.md), run against central on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.support.central import Central, TestStore, ok
from tests.support.device import RawDevice

# --- enrollment and scope ---------------------------------------------------------


def test_enrollment_code_works_once(any_central: Central, store: TestStore) -> None:
    code = any_central.enroll_code(store.store_id)
    first = httpx.post(
        f"{any_central.url}/v1/devices/enroll", json={"code": code, "device_name": "t1"}
    )
    again = httpx.post(
        f"{any_central.url}/v1/devices/enroll", json={"code": code, "device_name": "t2"}
    )
    assert first.status_code == 200
    assert first.json()["store_id"] == store.store_id
    assert again.status_code == 401
    assert again.json()["code"] == "CODE_USED"


def test_an_unknown_enrollment_code_is_refused_in_words(any_central: Central) -> None:
    r = httpx.post(
        f"{any_central.url}/v1/devices/enroll", json={"code": "ZZZZ-ZZZZ", "device_name": "t"}
    )
    assert r.status_code == 401
    assert r.json() == {
        "code": "INVALID_CODE",
        "message": "That enrollment code is not known: ask for a new one",
    }


def test_sync_without_a_token_or_with_a_wrong_one_is_401(any_central: Central) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}):
        r = httpx.post(f"{any_central.url}/v1/sync/pull", json={}, headers=headers)
        assert r.status_code == 401
        assert set(r.json()) >= {"code", "message"}


def test_a_device_token_cannot_call_the_oms_api_and_a_key_cannot_push(
    any_central: Central, device: RawDevice
) -> None:
    r = device.http.get(f"/v1/oms/stores/{device.store.store_id}/stock")
    assert r.status_code == 403
    r = any_central.oms.post("/v1/sync/push", json={"device_id": device.device_id, "ops": []})
    assert r.status_code == 403


def test_a_device_only_sees_its_own_store(any_central: Central, device: RawDevice) -> None:
    other = any_central.new_store()
    any_central.order(other, [(other.skus[0], 1)], order_id=f"W-OTHER-{uuid.uuid4().hex[:6]}")
    ids = {(c["kind"], c["id"]) for c in device.pull_all()}
    assert ("store", device.store.store_id) in ids
    assert ("store", other.store_id) not in ids
    assert not any(k == "order" for k, _ in ids)


def test_ops_for_an_order_of_another_store_are_refused(
    any_central: Central, device: RawDevice
) -> None:
    other = any_central.new_store()
    order = any_central.order(other, [(other.skus[0], 1)])
    result = device.push_one("order.claim", {"order_id": order["order_id"]})
    assert (result["status"], result["code"]) == ("rejected", "UNKNOWN_ORDER")
    assert any_central.get_order(order["order_id"])["assignee"] is None


def test_a_revoked_device_is_refused_on_its_next_request(
    any_central: Central, device: RawDevice
) -> None:
    from central.db.engine import make_engine
    from central.service.auth import revoke_device

    device.pull_all()  # central has seen this token before (it remembers tokens it saw)
    engine = make_engine(any_central.server.database_url)
    revoke_device(engine, device.device_id)
    engine.dispose()
    r = device.http.post("/v1/sync/pull", json={})
    assert r.status_code == 401
    assert r.json()["code"] == "DEVICE_REVOKED"


def test_a_tablet_revoked_after_it_synced_is_refused_and_nothing_it_sends_applies(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    from central.db.engine import make_engine
    from central.service.auth import revoke_device

    order = any_central.order(store, [(store.skus[0], 1)])
    assert device.push_one("order.claim", {"order_id": order["order_id"]})["status"] == "applied"
    device.pull_all()
    engine = make_engine(any_central.server.database_url)
    revoke_device(engine, device.device_id)
    engine.dispose()
    scan = device.op(
        "pick.scan",
        {"order_id": order["order_id"], "line_id": "1", "gtin": store.gtins[store.skus[0]]},
    )
    r = device.push_raw([scan])
    assert (r.status_code, r.json()["code"]) == (401, "DEVICE_REVOKED")
    status = {"pending": 7, "oldest_pending_at": None, "app_version": "9.9.9"}
    r = device.http.post("/v1/sync/pull", json={"status": status})
    assert (r.status_code, r.json()["code"]) == (401, "DEVICE_REVOKED")
    assert any_central.get_order(order["order_id"])["lines"][0]["picked"] == 0
    other = RawDevice(any_central, store, "another tablet")
    try:
        listed = ok(other.http.get("/v1/sync/devices"))
    finally:
        other.http.close()
    mine = next(d for d in listed if d["device_id"] == device.device_id)
    assert mine["revoked"] and (mine["app_version"], mine["pending"]) != ("9.9.9", 7)


# --- push: idempotency, gaps, reuse -------------------------------------------------


def test_a_pushed_op_applies_once_and_a_retry_gets_its_stored_result(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    order = any_central.order(store, [(store.skus[0], 2)])
    scan = device.op(
        "pick.scan",
        {
            "order_id": order["order_id"],
            "line_id": "1",
            "gtin": store.gtins[store.skus[0]],
            "qty": 1,
        },
    )
    first = device.push(scan)
    again = device.push(scan)
    assert first[0]["status"] == "applied"
    assert again[0]["status"] == "duplicate"
    assert again[0]["original_status"] == "applied"
    assert any_central.get_order(order["order_id"])["lines"][0]["picked"] == 1


def test_a_seq_past_the_next_expected_is_a_gap(device: RawDevice) -> None:
    op = device.op("order.claim", {"order_id": "W-x"}, seq=3)
    r = device.push_raw([op])
    assert r.status_code == 409
    assert r.json()["code"] == "SEQ_GAP"
    assert r.json()["expected_seq"] == 1


def test_a_seq_reused_by_another_op_is_refused(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    order = any_central.order(store, [(store.skus[0], 1)])
    device.push_one("order.claim", {"order_id": order["order_id"]})
    r = device.push_raw([device.op("order.release", {"order_id": order["order_id"]}, seq=1)])
    assert r.status_code == 409
    assert r.json()["code"] == "SEQ_REUSED"


def test_ops_must_be_contiguous(device: RawDevice) -> None:
    r = device.push_raw(
        [
            device.op("order.claim", {"order_id": "a"}, seq=1),
            device.op("order.claim", {"order_id": "b"}, seq=3),
        ]
    )
    assert r.status_code == 422
    assert r.json()["code"] == "INVALID_REQUEST"


def test_more_than_500_ops_is_413_and_nothing_applies(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    order = any_central.order(store, [(store.skus[0], 1)])
    ops = [
        device.op(
            "order.prioritize",
            {"order_id": order["order_id"], "priority": 1},
            actor="M1",
            seq=i + 1,
        )
        for i in range(501)
    ]
    r = device.push_raw(ops)
    assert r.status_code == 413
    assert r.json()["code"] == "BATCH_TOO_LARGE"
    assert any_central.get_order(order["order_id"])["priority"] == 0


# --- malformed input ------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b'{"device_id": "x", "ops": "nope"}',
        b'{"device_id": "x", "ops": [{"type": "x"}]}',
    ],
    ids=["not-json", "ops-not-a-list", "op-without-op_id"],
)
def test_a_body_that_is_not_a_push_is_422_in_words(device: RawDevice, body: bytes) -> None:
    r = device.http.post(
        "/v1/sync/push", content=body, headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 422
    assert r.json()["code"] == "INVALID_REQUEST"
    assert r.json()["message"]


def test_bad_ops_are_rejected_one_by_one_and_the_queue_moves_on(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    order = any_central.order(store, [(store.skus[0], 2)])
    oid = order["order_id"]
    results = device.push(
        device.op("no.such.op", {}),
        device.op(
            "pick.scan", {"order_id": oid, "line_id": "1", "gtin": "4000000000002", "qty": 1}
        ),
        device.op(
            "pick.short", {"order_id": oid, "line_id": "1", "qty": -2, "reason": "not_found"}
        ),
        device.op(
            "pick.scan", {"order_id": oid, "line_id": "1", "gtin": store.gtins[store.skus[0]]}
        ),
    )
    assert [(r["status"], r["code"]) for r in results] == [
        ("rejected", "INVALID_OP"),
        ("rejected", "INVALID_OP"),
        ("rejected", "INVALID_OP"),
        ("applied", None),
    ]
    assert "unknown op type" in results[0]["message"]
    assert "check digit" in results[1]["message"]
    assert results[2]["message"].startswith("payload.qty")
    codes = [
        x["code"] for x in ok(any_central.oms.get(f"/v1/oms/stores/{store.store_id}/exceptions"))
    ]
    assert codes.count("INVALID_OP") == 3


def test_an_unknown_actor_and_a_wrong_role_are_forbidden(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    order = any_central.order(store, [(store.skus[0], 1)])
    oid = order["order_id"]
    results = device.push(
        device.op("order.claim", {"order_id": oid}, actor="NOBODY"),
        device.op("order.prioritize", {"order_id": oid, "priority": 5}, actor="E1"),
        device.op("order.prioritize", {"order_id": oid, "priority": 5}, actor="M1"),
    )
    assert [(r["status"], r["code"]) for r in results] == [
        ("rejected", "FORBIDDEN"),
        ("rejected", "FORBIDDEN"),
        ("applied", None),
    ]
    assert any_central.get_order(oid)["priority"] == 5


def test_an_op_dated_in_the_future_is_clamped_and_flagged(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    sku = store.skus[0]
    order = any_central.order(store, [(sku, 1)])
    result = device.push_one(
        "pick.scan",
        {"order_id": order["order_id"], "line_id": "1", "gtin": store.gtins[sku]},
        occurred_at=datetime.now(UTC) + timedelta(hours=3),
    )
    assert (result["status"], result["code"]) == ("applied", "CLOCK_SKEW")
    pick = ok(any_central.oms.get(f"/v1/oms/stores/{store.store_id}/ledger", params={"sku": sku}))[
        -1
    ]
    assert pick["kind"] == "pick"
    assert datetime.fromisoformat(pick["occurred_at"]) <= datetime.now(UTC)


# --- the happy paths -----------------------------------------------------------------


def test_a_pickup_order_picked_staged_and_handed_over_leaves_the_store(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    sku = store.skus[0]
    order = any_central.order(store, [(sku, 2)])
    oid = order["order_id"]
    results = device.push(
        device.op("order.claim", {"order_id": oid}),
        device.op(
            "pick.scan", {"order_id": oid, "line_id": "1", "gtin": store.gtins[sku], "qty": 2}
        ),
        device.op("order.stage", {"order_id": oid, "staging_location": "PICKUP-1"}),
        device.op(
            "order.handoff",
            {"order_id": oid, "verified_by": "pickup_code", "lines": [{"line_id": "1", "qty": 2}]},
        ),
    )
    assert [r["status"] for r in results] == ["applied"] * 4
    view = any_central.get_order(oid)
    assert view["state"] == "handed_over"
    assert view["lines"][0]["handed_over"] == 2
    assert any_central.stock(store, sku)["on_hand"] == 18
    kinds = [
        r["kind"]
        for r in ok(
            any_central.oms.get(f"/v1/oms/stores/{store.store_id}/ledger", params={"sku": sku})
        )
    ]
    assert kinds == ["receipt", "pick", "handoff"]


def test_a_ship_from_store_order_ships_with_tracking(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    sku = store.skus[1]
    oid = any_central.order(store, [(sku, 1)], type="ship_from_store")["order_id"]
    results = device.push(
        device.op("order.claim", {"order_id": oid}),
        device.op("pick.scan", {"order_id": oid, "line_id": "1", "gtin": store.gtins[sku]}),
        device.op("order.stage", {"order_id": oid, "staging_location": "PACK-1", "packages": 1}),
        device.op(
            "order.ship",
            {"order_id": oid, "carrier": "DPD", "tracking": "TRK123456", "packages": 1},
        ),
    )
    assert [r["status"] for r in results] == ["applied"] * 4
    view = any_central.get_order(oid)
    assert (view["state"], view["tracking"], view["lines"][0]["shipped"]) == (
        "shipped",
        "TRK123456",
        1,
    )
    assert any_central.stock(store, sku)["on_hand"] == 19
    notes = ok(any_central.oms.get(f"/v1/oms/stores/{store.store_id}/notifications"))
    assert [(n["kind"], n["data"]["tracking"]) for n in notes] == [("shipped", "TRK123456")]


def test_an_order_reserves_stock_until_it_leaves(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    sku = store.skus[2]
    oid = any_central.order(store, [(sku, 3)])["order_id"]
    assert any_central.stock(store, sku) | {} == {
        "sku": sku,
        "location": store.locations[sku],
        "on_hand": 20,
        "reserved": 3,
        "available": 17,
        "doubtful": False,
    }
    device.push(
        device.op("pick.short", {"order_id": oid, "line_id": "1", "qty": 3, "reason": "damaged"})
    )
    after = any_central.stock(store, sku)
    assert (after["reserved"], after["available"], after["doubtful"]) == (0, 20, True)


# --- pull ------------------------------------------------------------------------------


def test_pull_pages_through_every_change_without_repeats(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    for _ in range(3):
        any_central.order(store, [(store.skus[0], 1)])
    small = [c for c in device.pull_all(limit=4)]
    device.cursor = None
    big = device.pull_all(limit=1000)
    assert [c["version"] for c in small] == sorted(c["version"] for c in small)
    assert {(c["kind"], c["id"]) for c in small} == {(c["kind"], c["id"]) for c in big}
    assert len({(c["kind"], c["id"]) for c in big}) == len(big)


def test_pull_after_the_cursor_returns_only_what_changed(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    device.pull_all()
    oid = any_central.order(store, [(store.skus[0], 1)])["order_id"]
    changes = device.pull_all()
    assert {(c["kind"], c["id"]) for c in changes} == {
        ("order", oid),
        ("stock", f"{store.skus[0]}@{store.locations[store.skus[0]]}"),
    }
    assert device.pull_all() == []


def test_pull_reports_the_last_applied_seq_with_its_effects(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    oid = any_central.order(store, [(store.skus[0], 1)])["order_id"]
    device.push_one("order.claim", {"order_id": oid})
    page = ok(device.http.post("/v1/sync/pull", json={"cursor": None}))
    assert page["last_applied_seq"] == 1
    order = next(c for c in page["changes"] if c["kind"] == "order")
    assert (order["data"]["state"], order["data"]["assignee"]) == ("picking", "E1")


def test_a_cursor_from_another_store_gets_a_reset(any_central: Central, device: RawDevice) -> None:
    other = any_central.new_store()
    stranger = RawDevice(any_central, other)
    stranger.pull_all()
    page = ok(device.http.post("/v1/sync/pull", json={"cursor": stranger.cursor}))
    stranger.close()
    assert page["reset"] is not None
    assert page["changes"] == []


def test_snapshot_holds_every_live_document_and_a_cursor_to_go_on_from(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    oid = any_central.order(store, [(store.skus[0], 1)])["order_id"]
    r = device.http.get("/v1/sync/snapshot")
    lines = [httpx.Response(200, content=line).json() for line in r.content.splitlines()]
    header, changes = lines[0], lines[1:]
    assert header["count"] == len(changes)
    assert ("order", oid) in {(c["kind"], c["id"]) for c in changes}
    assert {c["kind"] for c in changes} >= {"store", "item", "stock", "staff", "order"}
    device.cursor = header["cursor"]
    assert device.pull_all() == []
    any_central.order(store, [(store.skus[1], 1)])
    assert {c["kind"] for c in device.pull_all()} == {"order", "stock"}


def test_staff_pins_reach_the_tablet_only_as_salted_hashes(device: RawDevice) -> None:
    staff = [c["data"] for c in device.pull_all() if c["kind"] == "staff"]
    assert {s["employee_id"] for s in staff} == {"E1", "E2", "M1"}
    assert all(s["pin_hash"].startswith("scrypt$") and "1111" not in s["pin_hash"] for s in staff)
    assert len({s["pin_hash"].split("$")[4] for s in staff}) == 3  # every salt differs


def test_an_op_that_keeps_failing_on_the_server_is_quarantined_after_three_tries(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    from sqlalchemy import update

    from central.db.engine import make_engine
    from central.db.tables import orders

    broken = any_central.order(store, [(store.skus[0], 1)])["order_id"]
    fine = any_central.order(store, [(store.skus[1], 1)])["order_id"]
    engine = make_engine(any_central.server.database_url)
    with engine.begin() as conn:  # a row no rule can read: every apply raises
        conn.execute(
            update(orders).where(orders.c.order_id == broken).values(data={"garbage": True})
        )
    engine.dispose()
    ops = [
        device.op("order.claim", {"order_id": broken}),
        device.op("order.claim", {"order_id": fine}),
    ]
    for attempt in (1, 2):
        body = ok(device.push_raw(ops))
        assert (body["results"], body["next_expected_seq"]) == ([], 1), attempt
    body = ok(device.push_raw(ops))
    assert [(r["status"], r["code"]) for r in body["results"]] == [("rejected", "QUARANTINED")]
    assert body["next_expected_seq"] == 2
    assert [(r["status"]) for r in device.push(ops[1])] == ["applied"]
    codes = [
        x["code"] for x in ok(any_central.oms.get(f"/v1/oms/stores/{store.store_id}/exceptions"))
    ]
    assert "QUARANTINED" in codes


def test_the_events_stream_pokes_when_the_store_changes(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    with device.http.stream("GET", "/v1/sync/events", timeout=10) as stream:
        lines = stream.iter_lines()
        first = next(line for line in lines if line.startswith("data:"))
        any_central.order(store, [(store.skus[0], 1)])
        second = next(line for line in lines if line.startswith("data:"))
    import json

    assert json.loads(second[5:])["seq"] > json.loads(first[5:])["seq"]


def test_an_op_whose_rows_break_a_database_rule_is_set_aside_alone(
    any_central: Central, store: TestStore, device: RawDevice, request: pytest.FixtureRequest
) -> None:
    if "sqlite" in request.node.callspec.id:
        pytest.skip("SQLite does not enforce column lengths, so it cannot break this rule")
    from sqlalchemy import update

    from central.db.engine import make_engine
    from central.db.tables import orders

    fine = any_central.order(store, [(store.skus[0], 1)])["order_id"]
    broken = any_central.order(store, [(store.skus[1], 1)])["order_id"]
    engine = make_engine(any_central.server.database_url)
    with engine.begin() as conn:  # a line whose location no ledger row can hold
        data = conn.execute(orders.select().where(orders.c.order_id == broken)).one().data
        data["lines"][0]["location"] = "X" * 80
        conn.execute(update(orders).where(orders.c.order_id == broken).values(data=data))
    engine.dispose()
    gtin = store.gtins[store.skus[1]]
    ops = [
        device.op("order.claim", {"order_id": fine}),
        device.op("pick.scan", {"order_id": broken, "line_id": "1", "gtin": gtin}),
        device.op("order.prioritize", {"order_id": fine, "priority": 3}, actor="M1"),
    ]
    first = ok(device.push_raw(ops))
    assert ([r["status"] for r in first["results"]], first["next_expected_seq"]) == (["applied"], 2)
    assert ok(device.push_raw(ops[1:]))["results"] == []
    third = ok(device.push_raw(ops[1:]))
    assert [(r["status"], r["code"]) for r in third["results"]] == [("rejected", "QUARANTINED")]
    assert [r["status"] for r in device.push(ops[2])] == ["applied"]
    assert any_central.get_order(fine)["priority"] == 3


def test_a_failing_op_is_logged_without_the_customer_s_data(
    any_central: Central, store: TestStore, device: RawDevice, caplog: pytest.LogCaptureFixture
) -> None:
    from sqlalchemy import update

    from central.db.engine import make_engine
    from central.db.tables import orders

    oid = any_central.order(store, [(store.skus[0], 1)])["order_id"]
    engine = make_engine(any_central.server.database_url)
    with engine.begin() as conn:  # an order row the rules cannot read, still naming its customer
        data = conn.execute(orders.select().where(orders.c.order_id == oid)).one().data
        data["customer"]["name"] = ["Olivia Brown"]  # not a string: reading it raises
        conn.execute(update(orders).where(orders.c.order_id == oid).values(data=data))
    engine.dispose()
    with caplog.at_level("INFO"):
        assert ok(device.push_raw([device.op("order.claim", {"order_id": oid})]))["results"] == []
    assert "op_failed" in caplog.text
    assert "Olivia" not in caplog.text and "olivia@example.com" not in caplog.text
