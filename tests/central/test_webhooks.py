"""Webhooks (issue #11): subscribe, deliveries signed and in order per store, retried with the
same event id, failed for good after the retry period and shown, and nothing lost when central
is killed mid-delivery (SQLite and PostgreSQL)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from central.db.engine import make_engine
from central.db.migrate import upgrade
from central.service.auth import create_integration_key
from central.service.webhooks import verify
from tests.support.central import (
    Central,
    CentralProcess,
    fresh_pg_database,
    ok,
    pg_url,
    running_central,
)
from tests.support.receiver import Delivered, Receiver


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'central.db'}"
        return
    url = pg_url()
    if url is None:
        pytest.skip("CENTRAL_TEST_PG is not set: PostgreSQL runs are skipped")
    with fresh_pg_database(url) as db_url:
        yield db_url


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries after 0.1 s, doubling; an event failing for 2 s is failed for good."""
    monkeypatch.setenv("CENTRAL_WEBHOOK_BACKOFF_S", "0.1")
    monkeypatch.setenv("CENTRAL_WEBHOOK_RETRY_FOR_S", "2")


@pytest.fixture
def hooked(database_url: str, fast_retries: None) -> Iterator[Central]:
    with running_central(database_url) as c:
        yield c


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def subscribe(central: Central, url: str, **body: Any) -> dict[str, Any]:
    response = central.oms.post("/v1/oms/webhooks", json={"url": url, "events": ["*"], **body})
    assert response.status_code == 201, response.text
    return dict(response.json())


def events_of(got: list[Delivered]) -> list[dict[str, Any]]:
    """The accepted events, each once, in the order first accepted."""
    seen: dict[str, dict[str, Any]] = {}
    for d in got:
        seen.setdefault(d.event_id, d.event)
    return list(seen.values())


def test_deliveries_are_signed_and_carry_the_event_id(hooked: Central, receiver: Receiver) -> None:
    store = hooked.new_store(items=2)
    hook = subscribe(hooked, receiver.url, store_ids=[store.store_id])
    assert hook["secret"].startswith("whsec_")
    order = hooked.order(store, [(store.skus[0], 1)])
    got = receiver.wait_for(2)  # the release and the reservation's stock change
    first = got[0]
    assert first.event["type"] == "order.released"
    assert first.event["data"]["order_id"] == order["order_id"]
    assert first.event_id == first.event["event_id"]
    assert verify(hook["secret"], first.body, first.signature, time.time())
    assert not verify("whsec_wrong", first.body, first.signature, time.time())
    assert not verify(hook["secret"], first.body + b" ", first.signature, time.time())
    # the feed has the same event under the same id
    feed = ok(hooked.oms.get("/v1/oms/events", params={"store_id": store.store_id}))
    assert first.event in feed["events"]


def test_a_failing_receiver_gets_the_same_event_again_then_the_next(
    hooked: Central,
) -> None:
    receiver = Receiver(fail_first=2)
    try:
        store = hooked.new_store(items=2)
        subscribe(hooked, receiver.url, store_ids=[store.store_id], events=["order.released"])
        a = hooked.order(store, [(store.skus[0], 1)])
        b = hooked.order(store, [(store.skus[1], 1)])
        got = receiver.wait_for(2)
        tries = [d for d in receiver.got if d.event_id == got[0].event_id]
        assert [d.status for d in tries] == [500, 500, 200]
        assert len({d.body for d in tries}) == 1  # the same event each time
        # the second event waited for the first: in order, never before it
        order_ids = [e["data"]["order_id"] for e in events_of(got)]
        assert order_ids == [a["order_id"], b["order_id"]]
        first_b = min(d.at for d in receiver.got if d.event_id == got[-1].event_id)
        assert first_b >= max(d.at for d in tries)
        # the worker writes what the receiver answered right after the round
        deadline = time.monotonic() + 10
        while True:
            hooks = ok(hooked.oms.get("/v1/oms/webhooks"))
            mine = next(h for h in hooks if h["url"] == receiver.url)
            if mine["deliveries"]["pending"] == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert mine["deliveries"] == {"pending": 0, "delivered": 2, "failed": 0}
    finally:
        receiver.close()


def test_an_event_failing_past_the_retry_period_is_failed_and_shown(hooked: Central) -> None:
    receiver = Receiver(fail_first=10**6)
    try:
        store = hooked.new_store(items=1)
        hook = subscribe(hooked, receiver.url, store_ids=[store.store_id])
        hooked.order(store, [(store.skus[0], 1)])
        deadline = time.monotonic() + 30
        while True:
            hooks = ok(hooked.oms.get("/v1/oms/webhooks"))
            mine = next(h for h in hooks if h["webhook_id"] == hook["webhook_id"])
            if mine["deliveries"]["failed"] >= 2:
                break
            assert time.monotonic() < deadline, mine
            time.sleep(0.2)
        failed = mine["failed"]
        assert {f["type"] for f in failed} == {"order.released", "stock.changed"}
        assert all(f["last_status"] == 500 and f["attempts"] >= 2 for f in failed)
        assert "secret" not in mine
    finally:
        receiver.close()


def test_subscriptions_refuse_bad_input_and_can_be_deleted(
    central: Central, receiver: Receiver
) -> None:
    bad = [
        ({"url": "ftp://127.0.0.1/x", "events": ["*"]}, 422, "INVALID_URL"),
        ({"url": "http:///nohost", "events": ["*"]}, 422, "INVALID_URL"),
        ({"url": receiver.url, "events": ["order.teleported"]}, 422, "UNKNOWN_EVENT_TYPE"),
        ({"url": receiver.url, "events": []}, 422, "INVALID_REQUEST"),
        ({"url": receiver.url, "events": ["*"], "store_ids": ["NOPE"]}, 404, "UNKNOWN_STORE"),
    ]
    for body, status, code in bad:
        response = central.oms.post("/v1/oms/webhooks", json=body)
        assert response.status_code == status, (body, response.text)
        assert response.json()["code"] == code and response.json()["message"]
    assert ok(central.oms.get("/v1/oms/webhooks")) == []
    hook = subscribe(central, receiver.url)
    assert [h["webhook_id"] for h in ok(central.oms.get("/v1/oms/webhooks"))] == [
        hook["webhook_id"]
    ]
    assert central.oms.delete(f"/v1/oms/webhooks/{hook['webhook_id']}").status_code == 204
    assert ok(central.oms.get("/v1/oms/webhooks")) == []
    again = central.oms.delete(f"/v1/oms/webhooks/{hook['webhook_id']}")
    assert again.status_code == 404 and again.json()["code"] == "UNKNOWN_WEBHOOK"
    store = central.new_store(items=1)
    central.order(store, [(store.skus[0], 1)])
    time.sleep(0.5)
    assert receiver.got == []  # a deleted subscription gets nothing


def test_central_killed_mid_delivery_loses_nothing_and_keeps_each_stores_order(
    database_url: str, fast_retries: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A slow receiver; central (its own process) SIGKILLed while it delivers, then started
    again: every event reaches the receiver at least once, and each store's events arrive, the
    first time, in the feed's order."""
    upgrade(database_url)
    engine = make_engine(database_url)
    key = create_integration_key(engine, "tests")
    engine.dispose()
    receiver = Receiver(delay_s=0.02)
    proc = CentralProcess(database_url)
    proc.start()
    central = Central(proc, key)
    try:
        stores = [central.new_store(items=2) for _ in range(2)]
        start = ok(central.oms.get("/v1/oms/events", params={"limit": 1000}))["cursor"]
        subscribe(central, receiver.url, store_ids=[s.store_id for s in stores])
        for i in range(10):
            for s in stores:
                central.order(s, [(s.skus[i % 2], 1)])
        feed = ok(central.oms.get("/v1/oms/events", params={"limit": 1000, "cursor": start}))[
            "events"
        ]
        expected = [e for e in feed if e["store_id"] in {s.store_id for s in stores}]
        receiver.wait_for(5)
        proc.kill()  # mid-delivery: the receiver is still far from done
        assert len({d.event_id for d in receiver.accepted()}) < len(expected)
        proc.start()
        got = receiver.wait_for(len(expected), timeout=60)
        delivered = events_of(got)
        assert {e["event_id"] for e in delivered} == {e["event_id"] for e in expected}
        for s in stores:
            theirs = [e["event_id"] for e in delivered if e["store_id"] == s.store_id]
            assert theirs == [e["event_id"] for e in expected if e["store_id"] == s.store_id]
    finally:
        central.oms.close()
        proc.stop()
        receiver.close()
