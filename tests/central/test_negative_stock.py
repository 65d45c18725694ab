"""Negative stock is never silent: tablets that sold offline, reconnecting in any order, may
take a place's on-hand below zero (facts are never refused), and central then tells a manager
once and asks for one blind recount. Against central on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from typing import Any

import pytest

from tests.support.central import Central, TestStore, ok
from tests.support.device import RawDevice


@pytest.fixture
def store(any_central: Central) -> TestStore:
    return any_central.new_store(stock=1)


def sale(tablet: RawDevice, store: TestStore, oid: str, actor: str) -> list[dict[str, Any]]:
    """Claim, pick, stage and hand over one unit of SKU-1: queued while the tablet is offline."""
    sku = store.skus[0]
    scan = {"order_id": oid, "line_id": "1", "gtin": store.gtins[sku], "qty": 1}
    handoff = {"order_id": oid, "verified_by": "id", "lines": [{"line_id": "1", "qty": 1}]}
    return [
        tablet.op("order.claim", {"order_id": oid}, actor=actor),
        tablet.op("pick.scan", scan, actor=actor),
        tablet.op("order.stage", {"order_id": oid, "staging_location": "P-1"}, actor=actor),
        tablet.op("order.handoff", handoff, actor=actor),
    ]


def negative(central: Central, store: TestStore) -> list[dict[str, Any]]:
    rows = ok(central.oms.get(f"/v1/oms/stores/{store.store_id}/exceptions"))
    return [x for x in rows if x["code"] == "NEGATIVE_STOCK"]


def recounts(central: Central, store: TestStore) -> list[dict[str, Any]]:
    return [t for t in central.tasks(store, "recount") if t["state"] == "open"]


def test_three_offline_tablets_that_sold_more_than_there_was_leave_one_exception_and_one_recount(
    any_central: Central, store: TestStore
) -> None:
    sku, where = store.skus[0], store.locations[store.skus[0]]
    oids = [any_central.order(store, [(sku, 1)])["order_id"] for _ in range(3)]
    tablets = [RawDevice(any_central, store, f"tablet {n}") for n in "ABC"]
    try:
        queued = [
            (tablet, sale(tablet, store, oid, actor))
            for tablet, oid, actor in zip(tablets, oids, ["E1", "E2", "M1"], strict=True)
        ]
        ok(any_central.oms.post(f"/v1/oms/orders/{oids[2]}/cancel", json={"reason": "late"}))
        random.Random(7).shuffle(queued)  # they come back online in some order
        for tablet, ops in queued:
            results = tablet.push(*ops)
            assert results[-1]["status"] in {"applied", "compensated"}, results
        changes = tablets[0].pull_all()
    finally:
        for tablet in tablets:
            tablet.close()
    stock = any_central.stock(store, sku)
    # two units were handed over (the cancelled order's scan became a restock task)
    assert (stock["on_hand"], stock["doubtful"]) == (-1, True)
    [told] = negative(any_central, store)
    assert f"{sku} at {where} shows -1 on hand" in told["message"]
    assert "count" in told["message"]
    [task] = recounts(any_central, store)
    assert (task["sku"], task["location"]) == (sku, where)
    # every tablet hears of both
    kinds = {(c["kind"], c["id"]) for c in changes}
    assert ("exception", told["exception_id"]) in kinds and ("task", task["task_id"]) in kinds


def test_a_place_already_below_zero_is_told_again_only_once_its_exception_is_settled(
    any_central: Central, store: TestStore
) -> None:
    sku, where = store.skus[0], store.locations[store.skus[0]]
    desk = RawDevice(any_central, store, "desk")
    try:

        def adjust(delta: int) -> None:
            body = {"sku": sku, "location": where, "delta": delta, "reason": "found broken"}
            [result] = desk.push(desk.op("stock.adjust", body, actor="M1"))
            assert result["status"] == "applied", result

        adjust(-3)  # 1 → -2: told
        adjust(-1)  # -3: already told, already asked
        [told] = negative(any_central, store)
        assert len(recounts(any_central, store)) == 1
        settle = {"exception_id": told["exception_id"], "note": "two units were in the back"}
        [settled] = desk.push(desk.op("exception.resolve", settle, actor="M1"))
        assert settled["status"] == "applied"
        adjust(-1)  # -4, and nobody is looking at it any more: told again
    finally:
        desk.close()
    [again] = negative(any_central, store)
    assert again["exception_id"] != told["exception_id"]
    assert "shows -4 on hand" in again["message"]
    assert len(recounts(any_central, store)) == 1  # the recount asked for is still open
    assert any_central.stock(store, sku)["on_hand"] == -4


def test_stock_that_stays_at_or_above_zero_raises_nothing(
    any_central: Central, store: TestStore
) -> None:
    sku = store.skus[0]
    oid = any_central.order(store, [(sku, 1)])["order_id"]
    tablet = RawDevice(any_central, store, "tablet")
    try:
        assert {r["status"] for r in tablet.push(*sale(tablet, store, oid, "E1"))} == {"applied"}
    finally:
        tablet.close()
    assert any_central.stock(store, sku)["on_hand"] == 0
    assert negative(any_central, store) == [] and recounts(any_central, store) == []
