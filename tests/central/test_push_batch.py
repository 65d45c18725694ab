"""A push that carries many orders reads them, and the latest counts of their places, in a
batch (`push._preload`): what central makes of it is what op-by-op reading made, on SQLite
and PostgreSQL — late sales re-derive the counts after them and no other, holds are
released, and a place a pick only touched is not published again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from central.db.engine import make_engine
from central.db.tables import ledger
from tests.support.central import Central, TestStore, ok
from tests.support.device import RawDevice


@pytest.fixture
def store(any_central: Central) -> TestStore:
    """Six items, 20 each, received a day ago (so sales and counts can be dated in the last
    hours)."""
    store = any_central.new_store()
    engine = make_engine(any_central.server.database_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                update(ledger)
                .where(ledger.c.store_id == store.store_id, ledger.c.kind == "receipt")
                .values(occurred_at=datetime.now(UTC) - timedelta(days=1))
            )
    finally:
        engine.dispose()
    return store


def sale(tablet: RawDevice, oid: str, lines: list[tuple[str, int]], at: datetime) -> list[Any]:
    store = tablet.store
    ops = [tablet.op("order.claim", {"order_id": oid}, occurred_at=at)]
    for n, (sku, qty) in enumerate(lines, start=1):
        scan = {"order_id": oid, "line_id": str(n), "gtin": store.gtins[sku], "qty": 1}
        ops += [tablet.op("pick.scan", scan, occurred_at=at) for _ in range(qty)]
    ops.append(
        tablet.op("order.stage", {"order_id": oid, "staging_location": "P-1"}, occurred_at=at)
    )
    done = [{"line_id": str(n), "qty": q} for n, (_, q) in enumerate(lines, start=1)]
    handoff = {"order_id": oid, "verified_by": "pickup_code", "lines": done}
    ops.append(tablet.op("order.handoff", handoff, occurred_at=at))
    return ops


def counts(tablet: RawDevice, *counted: tuple[str, int, datetime]) -> list[dict[str, Any]]:
    """Counts pushed together (a tablet's clock is believed that far back on its first push
    only)."""
    bodies = [
        {
            "count_id": f"C-{sku}-{at:%H%M%S%f}",
            "sku": sku,
            "location": tablet.store.locations[sku],
            "qty": qty,
            "counted_at": at.isoformat(),
        }
        for sku, qty, at in counted
    ]
    results = tablet.push(*[tablet.op("count.record", body) for body in bodies])
    assert {r["status"] for r in results} == {"applied"}, results
    return bodies


def adjustments(central: Central, store: TestStore, sku: str) -> list[int]:
    return [m["qty"] for m in central.ledger(store, sku) if m["kind"] == "count_adjust"]


def the_count(central: Central, store: TestStore, count_id: str) -> dict[str, Any]:
    rows = ok(central.oms.get(f"/v1/oms/stores/{store.store_id}/counts"))
    [found] = [c for c in rows if c["count_id"] == count_id]
    return dict(found)


def test_a_push_of_many_sales_re_derives_exactly_the_counts_made_after_them(
    any_central: Central, store: TestStore, tablets: tuple[RawDevice, RawDevice]
) -> None:
    counter, device = tablets  # the seller was offline: its first push, its clock believed
    s = store.skus
    now = datetime.now(UTC)
    sold_at = now - timedelta(hours=2)
    late, early = counts(
        counter,
        (s[0], 20, now - timedelta(hours=1)),  # counted after the sales
        (s[1], 20, now - timedelta(hours=3)),  # counted before them
    )
    orders = [
        (any_central.order(store, lines)["order_id"], lines)
        for lines in ([(s[0], 2), (s[1], 1)], [(s[1], 2), (s[2], 3)], [(s[0], 1), (s[3], 1)])
    ]
    ops = [op for oid, lines in orders for op in sale(device, oid, lines, sold_at)]
    # and an order the store does not have, in the same batch
    ops.append(device.op("order.claim", {"order_id": "W-NOT-HERE"}))
    results = device.push(*ops)

    assert [r["status"] for r in results[:-1]] == ["applied"] * (len(ops) - 1), results
    assert (results[-1]["status"], results[-1]["code"]) == ("rejected", "UNKNOWN_ORDER")
    # s0: 2 + 1 units left an hour before it was counted at 20: the count is re-derived by
    # each hand-over, so on hand is what was counted (nothing moved since)
    assert adjustments(any_central, store, s[0]) == [2, 1]
    assert the_count(any_central, store, late["count_id"])["book"] == 17
    assert any_central.stock(store, s[0])["on_hand"] == 20
    # s1 was counted before its sales and s2, s3 never: they simply move
    assert adjustments(any_central, store, s[1]) == []
    assert the_count(any_central, store, early["count_id"])["adjustment"] == 0
    assert [any_central.stock(store, k)["on_hand"] for k in s[1:4]] == [17, 17, 19]
    for sku in s[:4]:  # every hold released by the hand-overs
        assert any_central.stock(store, sku)["reserved"] == 0, sku
    assert {any_central.get_order(oid)["state"] for oid, _ in orders} == {"handed_over"}


def test_a_place_only_picked_from_is_not_published_again_and_a_moved_one_is(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    sku = store.skus[4]
    oid = any_central.order(store, [(sku, 2)])["order_id"]
    device.pull_all()
    scan = {"order_id": oid, "line_id": "1", "gtin": store.gtins[sku], "qty": 2}
    assert device.push_one("pick.scan", scan)["status"] == "applied"
    changed = device.pull_all()
    assert [c["kind"] for c in changed] == ["order"]  # the shelf's numbers did not change

    stage = {"order_id": oid, "staging_location": "P-1"}
    handoff = {"order_id": oid, "verified_by": "pickup_code", "lines": [{"line_id": "1", "qty": 2}]}
    results = device.push(device.op("order.stage", stage), device.op("order.handoff", handoff))
    assert {r["status"] for r in results} == {"applied"}
    [shelf] = [c["data"] for c in device.pull_all() if c["kind"] == "stock"]
    assert (shelf["sku"], shelf["on_hand"], shelf["reserved"], shelf["available"]) == (
        sku,
        18,
        0,
        18,
    )
