"""central's replica checksums (issue #12), kept as documents are published, equal the same
checksums hashed from scratch after a realistic mix of writes, on SQLite and PostgreSQL; a
pull carries them only at the head, and the snapshot of some kinds carries those kinds'."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from central.db.engine import make_engine
from central.service import digests
from central.service.pruning import prune
from tests.support.central import Central, TestStore, ok
from tests.support.device import RawDevice
from tests.support.selling import sell


@pytest.fixture
def engine(any_central: Central) -> Iterator[Engine]:
    e = make_engine(any_central.server.database_url)
    yield e
    e.dispose()


def both(engine: Engine, store: TestStore, at: datetime) -> tuple[dict[str, str], dict[str, str]]:
    with engine.connect() as conn:
        kept = digests.checksums(conn, store.store_id, at, 30)
        fresh = digests.recompute(conn, store.store_id, at, 30)
    return kept, fresh


def test_kept_checksums_equal_a_recomputation_after_a_realistic_mix(
    any_central: Central, store: TestStore, device: RawDevice, engine: Engine
) -> None:
    central = any_central
    sold = [
        sell(central, store, [(store.skus[i % 3], 1)], type=t)
        for i, t in enumerate(("pickup", "ship_from_store", "pickup"))
    ]
    open_orders = [central.order(store, [(store.skus[3], 2), (store.skus[4], 1)]) for _ in range(3)]
    first = open_orders[0]["order_id"]
    gtin = store.gtins[store.skus[3]]
    device.push(
        device.op("order.claim", {"order_id": first}),
        device.op("pick.scan", {"order_id": first, "line_id": "1", "gtin": gtin, "qty": 1}),
        device.op(
            "pick.short", {"order_id": first, "line_id": "2", "qty": 1, "reason": "not_found"}
        ),
        device.op(
            "count.record",
            {
                "count_id": f"C-{uuid.uuid4().hex[:12]}",  # count ids are chain-wide
                "task_id": None,
                "sku": store.skus[5],
                "location": store.locations[store.skus[5]],
                "qty": 17,
                "counted_at": datetime.now(UTC).isoformat(),
            },
        ),
        device.op(
            "stock.adjust",
            {
                "sku": store.skus[0],
                "location": store.locations[store.skus[0]],
                "delta": -2,
                "reason": "damaged in the stockroom",
            },
            actor="M1",
        ),
        device.op(
            "return.receive",
            {
                "return_id": "R-1",
                "order_id": sold[0],
                "lines": [
                    {
                        "line_id": "1",
                        "qty": 1,
                        "reason": "changed_mind",
                        "condition": "sellable",
                        "disposition": "restock",
                    }
                ],
                "refund": "original_tender",
            },
        ),
    )
    ok(
        central.oms.post(
            f"/v1/oms/orders/{open_orders[1]['order_id']}/cancel", json={"reason": "customer"}
        )
    )
    ok(
        central.oms.post(
            f"/v1/oms/stores/{store.store_id}/stock",
            json=[
                {
                    "sku": store.skus[2],
                    "location": store.locations[store.skus[2]],
                    "qty": 40,
                    "kind": "set",
                }
            ],
        )
    )
    ok(
        central.oms.put(
            f"/v1/oms/stores/{store.store_id}/items",
            json=[
                {
                    "sku": store.skus[1],
                    "gtins": [store.gtins[store.skus[1]]],
                    "name": "Renamed",
                    "price": "5.99",
                    "location": store.locations[store.skus[1]],
                    "location_seq": 20,
                }
            ],
        )
    )
    now = datetime.now(UTC)
    kept, fresh = both(engine, store, now)
    assert kept == fresh
    assert {"order", "stock", "item", "staff", "store", "count", "return", "task"} <= set(kept)
    # past the horizon the ended orders leave the `order` checksum on both counts
    later = now + timedelta(days=70)
    kept_later, fresh_later = both(engine, store, later)
    assert kept_later == fresh_later
    assert kept_later["order"] != kept["order"]
    # pruning deletes them from the feed: the kept sums follow
    prune(engine, 90, now, store_ids=[store.store_id])
    prune(engine, 90, now + timedelta(days=100), store_ids=[store.store_id])
    kept_pruned, fresh_pruned = both(engine, store, now)
    assert kept_pruned == fresh_pruned
    assert both(engine, store, later)[0] == kept_later


def test_a_pull_carries_checksums_only_at_the_head_and_a_snapshot_of_kinds_its_own(
    any_central: Central, store: TestStore, device: RawDevice, engine: Engine
) -> None:
    for _ in range(3):
        any_central.order(store, [(store.skus[0], 1)])
    first = ok(device.http.post("/v1/sync/pull", json={"cursor": None, "limit": 5}))
    assert first["has_more"] and first["checksums"] is None
    device.cursor = first["cursor"]
    while True:
        page = ok(device.http.post("/v1/sync/pull", json={"cursor": device.cursor, "limit": 5}))
        device.cursor = page["cursor"]
        if not page["has_more"]:
            break
        assert page["checksums"] is None
    at = datetime.fromisoformat(page["server_time"])
    assert page["checksums"] == both(engine, store, at)[1]
    answer = device.http.get(
        "/v1/sync/snapshot", params={"kinds": "stock,order"}, headers={"Accept-Encoding": "gzip"}
    )
    lines = answer.text.splitlines()  # httpx undoes the gzip
    header = json.loads(lines[0])
    assert header["kinds"] == ["order", "stock"]
    assert set(header["checksums"]) == {"order", "stock"}
    assert {json.loads(line)["kind"] for line in lines[1:]} == {"order", "stock"}
    assert header["count"] == len(lines) - 1
    refused = device.http.get("/v1/sync/snapshot", params={"kinds": "stock;drop table"})
    assert refused.status_code == 422
    assert refused.json()["code"] == "INVALID_REQUEST"
