"""`GET /v1/sync/orders/{order_id}`: an order older than what a tablet downloads (the
snapshot's horizon, or pruned from the feed), looked up by the returns desk on demand;
on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx

from central.db.engine import make_engine
from central.service import pruning
from central.service.clock import utcnow
from tests.support.central import Central, TestStore, ok
from tests.support.device import RawDevice
from tests.support.selling import sell


def snapshot_orders(device: RawDevice) -> set[str]:
    response = device.http.get("/v1/sync/snapshot")
    assert response.status_code == 200
    _, *changes = [json.loads(line) for line in response.text.splitlines()]
    return {c["id"] for c in changes if c["kind"] == "order"}


def test_an_order_past_the_horizon_is_sent_as_the_pull_sent_it_even_once_pruned(
    any_central: Central, store: TestStore, tablets: tuple[RawDevice, RawDevice]
) -> None:
    early, late = tablets
    old = sell(any_central, store, [(store.skus[0], 2)], days_ago=100)
    pulled = {c["id"]: c for c in early.pull_all() if c["kind"] == "order"}[old]
    assert old not in snapshot_orders(late)  # 100 days: past two 30-day returns windows

    found = ok(late.http.get(f"/v1/sync/orders/{old}"))

    assert found == pulled  # kind, id, version and the document, as the pull sent them
    assert found["data"]["state"] == "handed_over"

    engine = make_engine(any_central.server.database_url)
    try:
        pruning.prune(engine, 90, store_ids=[store.store_id])
        later = utcnow() + timedelta(days=91)
        assert pruning.prune(engine, 90, now=later, store_ids=[store.store_id]).changes >= 1
    finally:
        engine.dispose()
    again = ok(late.http.get(f"/v1/sync/orders/{old}"))  # no longer in the change feed
    assert again["data"] == pulled["data"]
    assert again["version"] == 0  # any later change of the order replaces it on the tablet


def test_an_order_of_another_store_or_none_is_unknown_and_a_token_is_needed(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    other = any_central.new_store(items=1)
    theirs = any_central.order(other, [(other.skus[0], 1)])["order_id"]
    for order_id in (theirs, "NO-SUCH-ORDER"):
        response = device.http.get(f"/v1/sync/orders/{order_id}")
        assert response.status_code == 404
        body = response.json()
        assert body["code"] == "UNKNOWN_ORDER" and order_id in body["message"]
    anonymous = httpx.get(f"{any_central.url}/v1/sync/orders/{theirs}")
    assert anonymous.status_code == 401 and "code" in anonymous.json()
    oms = any_central.oms.get(f"/v1/sync/orders/{theirs}")  # an integration key is no tablet
    assert oms.status_code in (401, 403)
