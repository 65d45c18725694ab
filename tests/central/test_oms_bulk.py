"""OMS bulk loads larger than one write chunk: every row lands, once, and tablets see each
document; a bad row still writes nothing."""

from __future__ import annotations

import gc
from datetime import UTC, datetime
from typing import Any

from central.db.engine import make_engine
from central.service import digests
from central.service.oms import BULK_CHUNK, STOCK_FLUSH_ROWS
from tests.central.test_events_feed import read_all
from tests.support.central import Central, TestStore, gtin, ok
from tests.support.device import RawDevice

N = BULK_CHUNK + 500  # more than one chunk


def _items(first: int, n: int, name: str = "Item") -> list[dict[str, Any]]:
    return [
        {
            "sku": f"B-{i:05d}",
            "gtins": [gtin(900_000 + i)],
            "name": f"{name} {i}",
            "price": "1.25",
            "location": f"Z-{i % 50:02d}",
            "location_seq": i,
        }
        for i in range(first, first + n)
    ]


def _stock(central: Central, store: TestStore) -> dict[str, int]:
    rows = ok(central.oms.get(f"/v1/oms/stores/{store.store_id}/stock"))
    return {r["sku"]: r["on_hand"] for r in rows}


def test_a_catalogue_larger_than_a_chunk_is_inserted_then_updated(
    any_central: Central, store: TestStore
) -> None:
    path = f"/v1/oms/stores/{store.store_id}/items"
    assert ok(any_central.oms.put(path, json=_items(0, N))) == {"upserted": N}
    # half of them again (renamed) and some new ones, in one call
    again = _items(N // 2, N, name="Renamed")
    assert ok(any_central.oms.put(path, json=again)) == {"upserted": N}

    tablet = RawDevice(any_central, store)
    try:
        docs = {c["id"]: c["data"] for c in tablet.pull_all() if c["kind"] == "item"}
    finally:
        tablet.close()
    ours = {k: v for k, v in docs.items() if k.startswith("B-")}
    assert len(ours) == N // 2 + N
    assert ours["B-00000"]["name"] == "Item 0"
    assert ours[f"B-{N // 2:05d}"]["name"] == f"Renamed {N // 2}"
    assert ours[f"B-{N + N // 2 - 1:05d}"]["gtins"] == [gtin(900_000 + N + N // 2 - 1).zfill(14)]


def test_stock_larger_than_a_chunk_adds_receipts_and_sets_levels(
    any_central: Central, store: TestStore
) -> None:
    items = _items(0, N)
    ok(any_central.oms.put(f"/v1/oms/stores/{store.store_id}/items", json=items))
    rows: list[dict[str, Any]] = [
        {"sku": r["sku"], "location": r["location"], "qty": 3} for r in items
    ]
    # a level set after a receipt of the same place in the same call counts that receipt
    rows.append({"sku": "B-00001", "location": items[1]["location"], "qty": 10, "kind": "set"})
    rows.append({"sku": "B-00001", "location": items[1]["location"], "qty": 2})
    path = f"/v1/oms/stores/{store.store_id}/stock"
    assert ok(any_central.oms.post(path, json=rows)) == {"recorded": N + 2}
    on_hand = _stock(any_central, store)
    assert on_hand["B-00000"] == 3
    assert on_hand["B-00001"] == 12
    assert on_hand[f"B-{N - 1:05d}"] == 3
    ledger = any_central.ledger(store, "B-00001")
    assert [(m["kind"], m["qty"]) for m in ledger] == [
        ("receipt", 3),
        ("adjust", 7),
        ("receipt", 2),
    ]


def test_stock_larger_than_a_flush_lands_with_its_documents_events_and_checksums(
    any_central: Central, store: TestStore
) -> None:
    """A stock load written in more than one flush (`STOCK_FLUSH_ROWS`): every place's
    on-hand, its one ledger row and its event, each document published once, and the replica
    checksums a pull ends with equal the same hashed from scratch."""
    n = STOCK_FLUSH_ROWS + 700
    items = _items(0, n)
    ok(any_central.oms.put(f"/v1/oms/stores/{store.store_id}/items", json=items))
    tablet = RawDevice(any_central, store)
    try:
        tablet.pull_all()
        rows = [{"sku": r["sku"], "location": r["location"], "qty": 5} for r in items]
        rows[-1] = {**rows[-1], "qty": 9, "kind": "set"}  # a level, in the last flush
        path = f"/v1/oms/stores/{store.store_id}/stock"
        assert ok(any_central.oms.post(path, json=rows)) == {"recorded": n}
        on_hand = _stock(any_central, store)
        ours = {sku: q for sku, q in on_hand.items() if sku.startswith("B-")}
        assert len(ours) == n
        assert ours["B-00000"] == 5 and ours[f"B-{STOCK_FLUSH_ROWS:05d}"] == 5
        assert ours[f"B-{n - 1:05d}"] == 9
        last = any_central.ledger(store, f"B-{n - 1:05d}")
        assert [(m["kind"], m["qty"]) for m in last] == [("adjust", 9)]
        changes = tablet.pull_all()
        stock_docs = [c for c in changes if c["kind"] == "stock" and c["id"].startswith("B-")]
        assert len(stock_docs) == n == len({c["id"] for c in stock_docs})
        versions = [c["version"] for c in changes]
        assert versions == sorted(versions) and len(set(versions)) == len(versions)
        page = ok(tablet.http.post("/v1/sync/pull", json={"cursor": tablet.cursor, "limit": 10}))
    finally:
        tablet.close()
    engine = make_engine(any_central.server.database_url)
    try:
        with engine.connect() as conn:
            fresh = digests.recompute(conn, store.store_id, datetime.now(UTC), 30)
    finally:
        engine.dispose()
    assert page["checksums"] == fresh
    assert fresh["stock"] != "0"
    moved, _ = read_all(any_central, limit=1000, store_id=store.store_id, types="stock.changed")
    assert len([e for e in moved if e["data"]["sku"].startswith("B-")]) == n


def test_a_gtin_of_another_item_is_refused_unless_that_item_gives_it_up(
    any_central: Central, store: TestStore
) -> None:
    """A gtin stays with its item: a load giving it to another sku is refused (422, nothing
    written) unless the load also sends its item (without it); an item sent again with its
    own gtins is no conflict."""
    path = f"/v1/oms/stores/{store.store_id}/items"
    first = _items(0, 3)
    ok(any_central.oms.put(path, json=first))
    assert ok(any_central.oms.put(path, json=first[:2])) == {"upserted": 2}
    taker = {**_items(10, 1)[0], "gtins": [first[1]["gtins"][0]]}
    refused = any_central.oms.put(path, json=[first[0], taker])
    assert refused.status_code == 422
    taken = gtin(900_001).zfill(14)
    assert refused.json()["errors"] == [
        {"row": 1, "field": "gtins", "message": f"{taken} belongs to B-00001"}
    ]
    given_up = {**first[1], "gtins": [gtin(800_001)]}
    assert ok(any_central.oms.put(path, json=[taker, given_up])) == {"upserted": 2}
    tablet = RawDevice(any_central, store)
    try:
        docs = {c["id"]: c["data"] for c in tablet.pull_all() if c["kind"] == "item"}
    finally:
        tablet.close()
    assert docs["B-00010"]["gtins"] == [taken]
    assert docs["B-00001"]["gtins"] == [gtin(800_001).zfill(14)]


def test_a_bad_row_past_the_first_chunk_writes_nothing(
    any_central: Central, store: TestStore
) -> None:
    items = _items(0, N)
    ok(any_central.oms.put(f"/v1/oms/stores/{store.store_id}/items", json=items))
    rows = [{"sku": r["sku"], "location": r["location"], "qty": 1} for r in items]
    rows[-1] = {"sku": "NOT-SOLD-HERE", "location": "Z-01", "qty": 1}
    refused = any_central.oms.post(f"/v1/oms/stores/{store.store_id}/stock", json=rows)
    assert refused.status_code == 422
    body = refused.json()
    assert body["code"] == "INVALID_REQUEST"
    assert body["errors"] == [
        {"row": N - 1, "field": "sku", "message": "NOT-SOLD-HERE is not in this store's catalogue"}
    ]
    assert not any(sku.startswith("B-") for sku in _stock(any_central, store))


def test_a_staff_load_replaces_a_person_and_adds_the_rest(
    any_central: Central, store: TestStore
) -> None:
    path = f"/v1/oms/stores/{store.store_id}/staff"
    people = [
        {"employee_id": "E1", "name": "Ana Renamed", "role": "associate", "pin": "4321"},
        {"employee_id": "N1", "name": "Nia", "role": "manager", "pin": "123456"},
    ]
    assert ok(any_central.oms.put(path, json=people)) == {"upserted": 2}
    tablet = RawDevice(any_central, store)
    try:
        staff = {c["id"]: c["data"] for c in tablet.pull_all() if c["kind"] == "staff"}
    finally:
        tablet.close()
    assert staff["E1"]["name"] == "Ana Renamed"
    assert staff["N1"]["role"] == "manager"
    assert staff["E2"]["name"] == "Ben"  # not in the load: kept
    assert staff["E1"]["pin_hash"] != staff["N1"]["pin_hash"]


def _ndjson(rows: list[dict[str, Any]]) -> list[bytes]:
    """The rows as NDJSON, sent in several pieces that split lines in the middle."""
    import json

    raw = b"\n\n".join(json.dumps(r).encode() for r in rows) + b"\n"
    return [raw[i : i + 777] for i in range(0, len(raw), 777)]


def test_items_and_stock_sent_as_ndjson_load_like_a_json_array(
    any_central: Central, store: TestStore
) -> None:
    items = _items(0, 1200)
    headers = {"Content-Type": "application/x-ndjson"}
    put = any_central.oms.put(
        f"/v1/oms/stores/{store.store_id}/items", content=iter(_ndjson(items)), headers=headers
    )
    assert ok(put) == {"upserted": 1200}
    stock = [{"sku": r["sku"], "location": r["location"], "qty": 4} for r in items]
    posted = any_central.oms.post(
        f"/v1/oms/stores/{store.store_id}/stock", content=iter(_ndjson(stock)), headers=headers
    )
    assert ok(posted) == {"recorded": 1200}
    on_hand = _stock(any_central, store)
    assert on_hand["B-00000"] == 4 and on_hand["B-01199"] == 4


def test_a_bad_ndjson_row_is_named_by_its_line_and_nothing_is_written(
    any_central: Central, store: TestStore
) -> None:
    items = _items(0, 3)
    items[2]["price"] = "-1"
    headers = {"Content-Type": "application/x-ndjson"}
    path = f"/v1/oms/stores/{store.store_id}/items"
    refused = any_central.oms.put(path, content=b"".join(_ndjson(items)), headers=headers)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "2.price"
    broken = b'{"sku": "B-9"}\n{not json\n'
    refused = any_central.oms.put(path, content=broken, headers=headers)
    assert refused.status_code == 422
    assert refused.json()["message"] == "The body is not valid JSON"
    tablet = RawDevice(any_central, store)
    try:
        loaded = [c["id"] for c in tablet.pull_all() if c["kind"] == "item"]
    finally:
        tablet.close()
    assert loaded and not any(sku.startswith("B-") for sku in loaded)
    empty = any_central.oms.put(path, content=b"\n\n", headers=headers)
    assert ok(empty) == {"upserted": 0}


def test_every_item_field_survives_the_bulk_write(any_central: Central, store: TestStore) -> None:
    row = {
        **_items(0, 1)[0],
        "gtins": [gtin(777_001), gtin(777_002)],
        "price": "1234.50",
        "image_url": "https://img.example/b0.png",
        "final_sale": True,
        "unit_cost": "617.25",
        "category": "Garden",
    }
    ok(any_central.oms.put(f"/v1/oms/stores/{store.store_id}/items", json=[row]))
    tablet = RawDevice(any_central, store)
    try:
        docs = {c["id"]: c["data"] for c in tablet.pull_all() if c["kind"] == "item"}
    finally:
        tablet.close()
    assert docs["B-00000"] == {
        "sku": "B-00000",
        "gtins": [gtin(777_001).zfill(14), gtin(777_002).zfill(14)],
        "name": "Item 0",
        "price": "1234.50",
        "location": "Z-00",
        "location_seq": 0,
        "image_url": "https://img.example/b0.png",
        "final_sale": True,
        "unit_cost": "617.25",
        "category": "Garden",
    }
    order = any_central.order(store, [("B-00000", 1)])
    assert order["lines"][0]["sku"] == "B-00000"


def test_an_item_sent_again_keeps_each_field_as_last_sent(
    any_central: Central, store: TestStore
) -> None:
    """A catalogue sent again whole skips rows whose stored values are the same: each field
    changed on its own still reaches the catalogue an order is released from."""
    path = f"/v1/oms/stores/{store.store_id}/items"
    first = {**_items(0, 1)[0], "category": None}
    steps = [
        first,
        first,  # the same again: nothing to write
        {**first, "name": "Renamed"},
        {**first, "name": "Renamed", "gtins": [gtin(555_001)]},
        {**first, "name": "Renamed", "gtins": [gtin(555_001)], "location": "Q-01"},
        {
            **first,
            "name": "Renamed",
            "gtins": [gtin(555_001)],
            "location": "Q-01",
            "location_seq": 7,
        },
        first,  # every field back at once
    ]
    tablet = RawDevice(any_central, store)
    try:
        for step in steps:
            ok(any_central.oms.put(path, json=[step]))
            order_id = any_central.order(store, [("B-00000", 1)])["order_id"]
            docs = {c["id"]: c["data"] for c in tablet.pull_all() if c["kind"] == "order"}
            line = docs[order_id]["lines"][0]
            assert (line["name"], line["gtins"], line["location"], line["location_seq"]) == (
                step["name"],
                [g.zfill(14) for g in step["gtins"]],
                step["location"],
                step["location_seq"],
            )
    finally:
        tablet.close()


def test_bulk_loads_leave_the_garbage_collector_on(any_central: Central, store: TestStore) -> None:
    """The loads hold off the cyclic collector while they run (central runs here, in this
    process): a load that ends, and one refused, both turn it on again."""
    assert gc.isenabled()
    path = f"/v1/oms/stores/{store.store_id}/items"
    ok(any_central.oms.put(path, json=_items(0, 10)))
    assert gc.isenabled()
    twice = _items(0, 2) + _items(0, 1)  # a sku twice: 422, nothing written
    assert any_central.oms.put(path, json=twice).status_code == 422
    assert gc.isenabled()
    # refused before the route runs: a row the request's validation refuses, a body that is
    # not JSON, an NDJSON body (held off from its last line)
    assert any_central.oms.put(path, json=[{**_items(0, 1)[0], "price": "-1"}]).status_code == 422
    assert gc.isenabled()
    assert any_central.oms.put(path, content=b"[{not json").status_code == 422
    assert gc.isenabled()
    headers = {"Content-Type": "application/x-ndjson"}
    lines = iter(_ndjson(_items(0, 20)))
    assert ok(any_central.oms.put(path, content=lines, headers=headers)) == {"upserted": 20}
    assert gc.isenabled()
    stock = [
        {"sku": "B-00000", "location": "Z-00", "qty": 3},
        {"sku": "NOPE", "location": "Z-00", "qty": 1},
    ]
    assert (
        any_central.oms.post(f"/v1/oms/stores/{store.store_id}/stock", json=stock).status_code
        == 422
    )
    assert gc.isenabled()
