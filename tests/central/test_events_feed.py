"""The event feed the OMS relies on (issue #11): GET /v1/oms/events, on SQLite and PostgreSQL.

Every state change is an event, written with the change; the feed pages through them with a
cursor, the same events in the same order whatever the page size, and never skips one that
commits late (concurrent writers to several stores).
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from central.db.engine import make_engine
from central.service.auth import revoke_device
from tests.support.central import Central, TestStore, ok
from tests.support.device import RawDevice


def read_all(
    central: Central, cursor: str | None = None, limit: int = 100, **params: Any
) -> tuple[list[dict[str, Any]], str]:
    events: list[dict[str, Any]] = []
    while True:
        page = ok(
            central.oms.get("/v1/oms/events", params={"cursor": cursor, "limit": limit, **params})
        )
        events += page["events"]
        cursor = page["cursor"]
        assert len(page["events"]) <= limit
        if not page["has_more"]:
            return events, cursor


def types_of(events: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in events]


def pick_and_stage(device: RawDevice, store: TestStore, order_id: str, qty: int) -> None:
    sku = store.skus[0]
    results = device.push(
        device.op("order.claim", {"order_id": order_id}),
        device.op(
            "pick.scan",
            {
                "order_id": order_id,
                "line_id": "1",
                "gtin": store.gtins[sku],
                "qty": qty - 1,
                "location": store.locations[sku],
            },
        ),
        device.op(
            "pick.short", {"order_id": order_id, "line_id": "1", "qty": 1, "reason": "damaged"}
        ),
        device.op(
            "order.stage",
            {"order_id": order_id, "staging_location": "SHELF-1", "packages": 1},
        ),
    )
    assert [r["status"] for r in results] == ["applied"] * 4, results


def test_an_orders_life_is_in_the_feed_in_order(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    order = any_central.order(store, [(store.skus[0], 3)])
    order_id = order["order_id"]
    pick_and_stage(device, store, order_id, 3)
    events, _ = read_all(any_central, store_id=store.store_id)
    mine = [e for e in events if e["data"].get("order_id") == order_id]
    assert types_of(mine) == [
        "order.released",
        "order.claimed",
        "order.short",
        "order.picked",
        "order.staged",
        "order.ready_for_pickup",
    ]
    short = mine[2]["data"]
    assert (short["line_id"], short["short_qty"], short["reason"]) == ("1", 1, "damaged")
    assert mine[1]["data"]["assignee"] == "E1"
    assert all(e["store_id"] == store.store_id for e in events)
    # the stock numbers moved with the order: one event per sku and place
    stock = [e for e in events if e["type"] == "stock.changed"]
    assert any(e["data"]["sku"] == store.skus[0] for e in stock)
    # event ids are unique and the feed is in one order
    ids = [e["event_id"] for e in events]
    assert len(set(ids)) == len(ids)


def test_cancel_revoke_and_exception_are_events(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    order = any_central.order(store, [(store.skus[1], 1)])
    _, start = read_all(any_central, store_id=store.store_id)
    ok(any_central.oms.post(f"/v1/oms/orders/{order['order_id']}/cancel", json={"reason": "x"}))
    engine = make_engine(any_central.server.database_url)
    try:
        revoke_device(engine, device.device_id)
    finally:
        engine.dispose()
    events, _ = read_all(any_central, cursor=start, store_id=store.store_id)
    assert "order.cancelled" in types_of(events)
    cancelled = next(e for e in events if e["type"] == "order.cancelled")
    assert cancelled["data"]["reason"] == "x"
    revoked = [e for e in events if e["type"] == "device.revoked"]
    assert [e["data"]["device_id"] for e in revoked] == [device.device_id]


def test_types_filter_and_resuming_from_a_cursor(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    any_central.order(store, [(store.skus[0], 1)])
    _, cursor = read_all(any_central, store_id=store.store_id)
    second = any_central.order(store, [(store.skus[1], 2)])
    after, _ = read_all(any_central, cursor=cursor, store_id=store.store_id, types="order.released")
    assert [e["data"]["order_id"] for e in after] == [second["order_id"]]
    # nothing new: the same cursor answers an empty page, not an error
    _, end = read_all(any_central, store_id=store.store_id)
    page = ok(any_central.oms.get("/v1/oms/events", params={"cursor": end}))
    assert page == {"events": [], "cursor": end, "has_more": False}


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"cursor": "not-a-cursor"}, 400, "BAD_CURSOR"),
        ({"cursor": "eyJlIjo5OTk5OTk5OTl9"}, 400, "BAD_CURSOR"),  # {"e":999999999}: ahead
        ({"limit": 0}, 422, "INVALID_REQUEST"),
        ({"limit": 5000}, 422, "INVALID_REQUEST"),
        ({"types": "order.teleported"}, 422, "UNKNOWN_EVENT_TYPE"),
        ({"store_id": "NO-SUCH-STORE"}, 404, "UNKNOWN_STORE"),
    ],
)
def test_bad_questions_get_a_code_and_words(
    central: Central, params: dict[str, Any], status: int, code: str
) -> None:
    response = central.oms.get("/v1/oms/events", params=params)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code and body["message"]


def test_a_device_token_cannot_read_the_feed(central: Central) -> None:
    device = RawDevice(central, central.new_store(items=1))
    try:
        response = device.http.get("/v1/oms/events")
        assert response.status_code == 403 and response.json()["code"] == "FORBIDDEN"
    finally:
        device.close()


def test_concurrent_stores_no_event_skipped(any_central: Central) -> None:
    """Four stores written at once while a reader pages: the reader's events, read to the end
    afterwards from its cursors, are exactly the stores' events, each store's in order."""
    stores = [any_central.new_store(items=2) for _ in range(3)]
    _, start = read_all(any_central)
    seen: list[dict[str, Any]] = []
    cursor = start
    stop = threading.Event()
    errors: list[BaseException] = []

    def write(s: TestStore) -> None:
        try:
            for _ in range(8):
                any_central.order(s, [(s.skus[0], 1)])
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=write, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        got, cursor = read_all(any_central, cursor=cursor, limit=7)
        seen += got
    for t in threads:
        t.join()
    stop.set()
    got, cursor = read_all(any_central, cursor=cursor, limit=7)
    seen += got
    assert not errors
    whole, _ = read_all(any_central, cursor=start, limit=1000)
    assert [e["event_id"] for e in seen] == [e["event_id"] for e in whole]
    for s in stores:
        released = [
            e["data"]["order_id"]
            for e in seen
            if e["store_id"] == s.store_id and e["type"] == "order.released"
        ]
        assert len(released) == 8


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(limits=st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=6))
def test_paging_with_any_limits_gives_the_same_events(
    central: Central, feed_store: TestStore, limits: list[int]
) -> None:
    whole, _ = read_all(central, limit=1000, store_id=feed_store.store_id)
    assert len(whole) > 25
    paged: list[dict[str, Any]] = []
    cursor = None
    n = 0
    while True:
        page = ok(
            central.oms.get(
                "/v1/oms/events",
                params={
                    "cursor": cursor,
                    "limit": limits[n % len(limits)],
                    "store_id": feed_store.store_id,
                },
            )
        )
        n += 1
        paged += page["events"]
        cursor = page["cursor"]
        if not page["has_more"]:
            break
    assert paged == whole


@pytest.fixture
def feed_store(central: Central) -> TestStore:
    store = central.new_store(items=4)
    for i in range(12):
        central.order(store, [(store.skus[i % 4], 1)])
    return store
