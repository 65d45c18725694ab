"""Cycle counts and stock adjustments at central (PROTOCOL.md, `count.*`, `stock.adjust` and
the conflict rules; DOMAIN.md, Cycle counts), on SQLite and PostgreSQL.

Counts are pushed as `count.record` / `count.approve` / `count.recount` ops; sales are made
the way a store makes them (`sell`: claim, scan, stage, hand over), dated where the test
needs them; what central made of it all is read back through the OMS API and pull.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from central.db.engine import make_engine
from central.db.tables import ledger
from tests.support.central import Central, TestStore, ok
from tests.support.device import RawDevice
from tests.support.selling import sell


def received_yesterday(central: Central, store: TestStore) -> TestStore:
    """The store's opening stock was received a day ago (the OMS API dates a receipt now),
    so counts and sales can be dated in the last hours."""
    engine = make_engine(central.server.database_url)
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


@pytest.fixture
def store(any_central: Central) -> TestStore:
    return received_yesterday(any_central, any_central.new_store())


_ids = iter(range(1, 10**6))


def new_id() -> str:
    return f"C-{datetime.now(UTC):%H%M%S}-{next(_ids)}"


def count(
    tablet: RawDevice,
    sku: str,
    qty: int,
    *,
    counted_at: datetime | None = None,
    actor: str = "E1",
    count_id: str | None = None,
    task_id: str | None = None,
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "count_id": count_id or new_id(),
        "sku": sku,
        "location": tablet.store.locations[sku],
        "qty": qty,
        "counted_at": (counted_at or datetime.now(UTC)).isoformat(),
    }
    if task_id is not None:
        payload["task_id"] = task_id
    result = tablet.push_one("count.record", payload, actor=actor)
    result["count_id"] = payload["count_id"]
    return result


def counts_of(central: Central, store: TestStore, **params: str) -> list[dict[str, Any]]:
    return list(ok(central.oms.get(f"/v1/oms/stores/{store.store_id}/counts", params=params)))


def the_count(central: Central, store: TestStore, count_id: str) -> dict[str, Any]:
    [found] = [c for c in counts_of(central, store) if c["count_id"] == count_id]
    return found


def adjustments(central: Central, store: TestStore, sku: str) -> list[int]:
    return [m["qty"] for m in central.ledger(store, sku) if m["kind"] == "count_adjust"]


def ago(**kw: float) -> datetime:
    return datetime.now(UTC) - timedelta(**kw)


def test_a_count_within_tolerance_posts_its_adjustment(
    any_central: Central, store: TestStore, tablets: tuple[RawDevice, RawDevice]
) -> None:
    a, _ = tablets
    sku = store.skus[0]
    done = count(a, sku, 19)
    assert (done["status"], done["code"], done["message"]) == ("applied", None, "-1 adjusted")
    assert any_central.stock(store, sku)["on_hand"] == 19
    assert adjustments(any_central, store, sku) == [-1]
    c = the_count(any_central, store, done["count_id"])
    assert (c["state"], c["book"], c["variance"], c["adjustment"]) == ("posted", 20, -1, -1)
    assert (c["counted_by"], c["counted_by_name"], c["name"]) == ("E1", "Ana", "Item 1")

    same = count(a, sku, 19)  # matches the books now: nothing posts
    assert (same["status"], same["message"]) == ("applied", "Matches the books")
    assert adjustments(any_central, store, sku) == [-1]


def test_a_count_is_compared_with_the_book_at_counted_at_not_with_on_hand_now(
    any_central: Central, store: TestStore, tablets: tuple[RawDevice, RawDevice]
) -> None:
    a, _ = tablets
    sku = store.skus[1]
    counted_at = ago(minutes=10)
    sell(any_central, store, [(sku, 3)], at=counted_at - timedelta(hours=1))  # pushed first
    done = count(a, sku, 16, counted_at=counted_at)
    assert (done["status"], done["message"]) == ("applied", "-1 adjusted")  # 16 − (20 − 3)
    c = the_count(any_central, store, done["count_id"])
    assert (c["book"], c["adjustment"]) == (17, -1)
    assert any_central.stock(store, sku)["on_hand"] == 16

    sell(any_central, store, [(sku, 2)])  # after counted_at: the count leaves it alone
    assert any_central.stock(store, sku)["on_hand"] == 14
    assert adjustments(any_central, store, sku) == [-1]
    assert the_count(any_central, store, done["count_id"])["adjustment"] == -1


def test_a_late_sale_dated_before_the_count_re_derives_its_adjustment(
    any_central: Central, store: TestStore, tablets: tuple[RawDevice, RawDevice]
) -> None:
    a, _ = tablets
    sku = store.skus[2]
    counted_at = ago(minutes=10)
    done = count(a, sku, 19, counted_at=counted_at)
    assert any_central.stock(store, sku)["on_hand"] == 19
    sell(any_central, store, [(sku, 1)])  # after the count

    # a tablet that was offline hands over 3 units an hour before the count, and syncs now
    sell(any_central, store, [(sku, 3)], at=counted_at - timedelta(hours=1))

    assert any_central.stock(store, sku)["on_hand"] == 19 - 1  # counted + what happened since
    assert adjustments(any_central, store, sku) == [-1, 3]  # one correction
    [correction] = [
        m for m in any_central.ledger(store, sku) if m["kind"] == "count_adjust" and m["qty"] == 3
    ]
    assert correction["kind"] == "count_adjust"
    assert correction["occurred_at"].startswith(counted_at.strftime("%Y-%m-%dT%H:%M:%S"))
    assert done["count_id"] in correction["note"]
    c = the_count(any_central, store, done["count_id"])
    assert (c["state"], c["book"], c["variance"], c["adjustment"]) == ("posted", 17, 2, 2)


def test_only_the_latest_settled_count_is_re_derived(
    any_central: Central, store: TestStore, tablets: tuple[RawDevice, RawDevice]
) -> None:
    a, _ = tablets
    sku = store.skus[3]
    first = count(a, sku, 19, counted_at=ago(minutes=30))
    sell(any_central, store, [(sku, 1)], at=ago(minutes=20))
    second = count(a, sku, 17, counted_at=ago(minutes=10))
    assert adjustments(any_central, store, sku) == [-1, -1]
    sell(any_central, store, [(sku, 2)], at=ago(minutes=50))  # before both, arrives late
    assert any_central.stock(store, sku)["on_hand"] == 17
    assert adjustments(any_central, store, sku) == [-1, -1, 2]
    assert the_count(any_central, store, first["count_id"])["adjustment"] == -1
    assert the_count(any_central, store, second["count_id"])["adjustment"] == 1


def test_a_variance_over_the_threshold_waits_for_another_manager(
    any_central: Central, store: TestStore, tablets: tuple[RawDevice, RawDevice]
) -> None:
    a, b = tablets
    sku = store.skus[0]
    waits = count(a, sku, 15)  # −5: more than 2 units and more than 5 % of 20
    assert (waits["status"], waits["code"]) == ("applied", "VARIANCE_OVER_THRESHOLD")
    assert waits["message"] == "15 counted: the difference waits for a manager"  # still blind
    assert adjustments(any_central, store, sku) == []
    assert any_central.stock(store, sku)["on_hand"] == 20
    assert the_count(any_central, store, waits["count_id"])["state"] == "awaiting_approval"

    decision = {"count_id": waits["count_id"]}
    refused = b.push_one("count.approve", decision, actor="E2")
    assert (refused["status"], refused["code"]) == ("rejected", "FORBIDDEN")
    approved = b.push_one("count.approve", decision, actor="M1")
    assert (approved["status"], approved["code"], approved["message"]) == (
        "applied",
        None,
        "-5 approved by Maria",
    )
    assert any_central.stock(store, sku)["on_hand"] == 15
    assert adjustments(any_central, store, sku) == [-5]
    c = the_count(any_central, store, waits["count_id"])
    assert (c["state"], c["decided_by"], c["adjustment"]) == ("approved", "M1", -5)
    again = b.push_one("count.approve", decision, actor="M1")
    assert (again["status"], again["code"]) == ("rejected", "NOT_WAITING")
    assert adjustments(any_central, store, sku) == [-5]

    own = count(a, store.skus[1], 10, actor="M1")
    mine = a.push_one("count.approve", {"count_id": own["count_id"]}, actor="M1")
    assert (mine["status"], mine["code"]) == ("rejected", "SAME_PERSON")
    assert adjustments(any_central, store, store.skus[1]) == []


def test_an_approval_posts_against_the_book_as_it_is_now(
    any_central: Central, store: TestStore, tablets: tuple[RawDevice, RawDevice]
) -> None:
    a, _ = tablets
    sku = store.skus[4]
    counted_at = ago(minutes=10)
    waits = count(a, sku, 10, counted_at=counted_at)
    assert the_count(any_central, store, waits["count_id"])["book"] == 20
    sell(any_central, store, [(sku, 2)], at=counted_at - timedelta(hours=1))  # late
    c = the_count(any_central, store, waits["count_id"])
    assert (c["state"], c["book"], c["variance"]) == ("awaiting_approval", 18, -8)  # restated
    assert adjustments(any_central, store, sku) == []
    a.push_one("count.approve", {"count_id": waits["count_id"]}, actor="M1")
    assert adjustments(any_central, store, sku) == [-8]
    assert any_central.stock(store, sku)["on_hand"] == 10


def test_a_manager_sends_a_count_back_for_a_blind_recount(
    any_central: Central, store: TestStore, tablets: tuple[RawDevice, RawDevice]
) -> None:
    a, _ = tablets
    sku = store.skus[0]
    waits = count(a, sku, 12)
    back = a.push_one("count.recount", {"count_id": waits["count_id"]}, actor="M1")
    assert (back["status"], back["code"]) == ("applied", None)
    assert back["message"] == "Sent back for a blind recount by Maria"
    [task] = back["followups"]
    assert (task["kind"], task["sku"], task["location"]) == ("recount", sku, "A-01-1")
    assert the_count(any_central, store, waits["count_id"])["state"] == "recount"
    assert any_central.stock(store, sku)["doubtful"] is True
    assert adjustments(any_central, store, sku) == []

    recounted = count(a, sku, 19, actor="E2", task_id=task["task_id"])
    assert (recounted["status"], recounted["code"]) == ("applied", None)
    assert any_central.stock(store, sku)["on_hand"] == 19
    assert any_central.stock(store, sku)["doubtful"] is False
    [row] = any_central.tasks(store, "recount")
    assert (row["state"], row["done_by"]) == ("done", "E2")


def test_two_counts_that_disagree_with_nothing_moved_between_ask_for_a_blind_recount(
    any_central: Central, tablets: tuple[RawDevice, RawDevice]
) -> None:
    lax = received_yesterday(any_central, any_central.new_store(policy={"variance_units": 50}))
    a = RawDevice(any_central, lax, "tablet A")
    try:
        sku = lax.skus[0]
        first = count(a, sku, 14)
        assert (first["status"], first["message"]) == ("applied", "-6 adjusted")
        second = count(a, sku, 11, actor="E2")
    finally:
        a.close()
    assert (second["status"], second["code"]) == ("compensated", "COUNT_DISAGREES")
    assert second["message"] == "14 vs 11 — blind recount requested"
    [task] = second["followups"]
    assert (task["kind"], task["sku"]) == ("recount", sku)
    assert "14 vs 11" in task["reason"]
    assert adjustments(any_central, lax, sku) == [-6]
    assert any_central.stock(lax, sku)["on_hand"] == 14
    assert any_central.stock(lax, sku)["doubtful"] is True
    assert the_count(any_central, lax, second["count_id"])["state"] == "disputed"


def test_a_count_for_a_short_s_recount_task_closes_it_and_clears_the_doubt(
    any_central: Central, store: TestStore, tablets: tuple[RawDevice, RawDevice]
) -> None:
    a, b = tablets
    sku = store.skus[2]
    oid = any_central.order(store, [(sku, 1)])["order_id"]
    short = a.push_one(
        "pick.short", {"order_id": oid, "line_id": "1", "qty": 1, "reason": "not_found"}
    )
    [task] = short["followups"]
    assert any_central.stock(store, sku)["doubtful"] is True

    done = count(b, sku, 19, actor="E2", task_id=task["task_id"])
    assert done["status"] == "applied"
    assert any_central.stock(store, sku)["doubtful"] is False
    [row] = any_central.tasks(store, "recount")
    assert (row["state"], row["done_by"]) == ("done", "E2")
    assert the_count(any_central, store, done["count_id"])["task_id"] == task["task_id"]
    pulled = {c["id"]: c["data"] for c in a.pull_all() if c["kind"] == "task"}
    assert pulled[task["task_id"]]["state"] == "done"


def test_a_manager_adjusts_stock_with_a_reason_and_an_associate_may_not(
    any_central: Central, store: TestStore, tablets: tuple[RawDevice, RawDevice]
) -> None:
    a, _ = tablets
    sku = store.skus[1]
    move = {"sku": sku, "location": "A-02-1", "delta": 4, "reason": "found in the back room"}
    refused = a.push_one("stock.adjust", move, actor="E1")
    assert (refused["status"], refused["code"]) == ("rejected", "FORBIDDEN")
    assert any_central.stock(store, sku)["on_hand"] == 20

    done = a.push_one("stock.adjust", move, actor="M1")
    assert (done["status"], done["code"]) == ("applied", None)
    assert done["message"] == "+4 × Item 2 at A-02-1: found in the back room"
    assert any_central.stock(store, sku)["on_hand"] == 24
    last = any_central.ledger(store, sku)[-1]
    assert (last["kind"], last["qty"], last["actor"], last["note"]) == (
        "adjust",
        4,
        "M1",
        "found in the back room",
    )
    unknown = a.push_one("stock.adjust", {**move, "sku": "NOPE"}, actor="M1")
    assert (unknown["status"], unknown["code"]) == ("rejected", "UNKNOWN_ITEM")


def test_unknown_items_counts_and_reused_count_numbers_are_refused(
    any_central: Central, store: TestStore, tablets: tuple[RawDevice, RawDevice]
) -> None:
    a, b = tablets
    sku = store.skus[0]
    nope = a.push_one(
        "count.record",
        {
            "count_id": "C-X",
            "sku": "NOPE",
            "location": "A-01-1",
            "qty": 1,
            "counted_at": datetime.now(UTC).isoformat(),
        },
    )
    assert (nope["status"], nope["code"]) == ("rejected", "UNKNOWN_ITEM")
    unknown = a.push_one("count.approve", {"count_id": "C-404"}, actor="M1")
    assert (unknown["status"], unknown["code"], unknown["message"]) == (
        "rejected",
        "UNKNOWN_COUNT",
        "No count C-404 in this store",
    )

    assert count(a, sku, 19, count_id="C-1")["status"] == "applied"
    again = count(b, sku, 18, count_id="C-1")
    assert (again["status"], again["code"]) == ("rejected", "DUPLICATE_COUNT")
    assert again["message"].startswith("Count C-1 was already recorded by Ana at ")
    # in one push too: the second sees the first before anything is written
    body = {
        "count_id": "C-2",
        "sku": sku,
        "location": "A-01-1",
        "qty": 19,
        "counted_at": datetime.now(UTC).isoformat(),
    }
    both = a.push(a.op("count.record", body), a.op("count.record", body))
    assert [(r["status"], r["code"]) for r in both] == [
        ("applied", None),
        ("rejected", "DUPLICATE_COUNT"),
    ]
    assert adjustments(any_central, store, sku) == [-1]
    assert sorted(c["count_id"] for c in counts_of(any_central, store)) == ["C-1", "C-2"]


@pytest.mark.parametrize(
    ("op_type", "payload", "field"),
    [
        ("count.record", {"count_id": "C-9", "location": "A-01-1", "qty": -1}, "payload.qty"),
        ("count.record", {"count_id": "C-9", "location": "A-01-1", "qty": 3}, "counted_at"),
        ("stock.adjust", {"location": "A-01-1", "delta": 0, "reason": "x"}, "0 units"),
    ],
)
def test_a_count_or_adjustment_that_makes_no_sense_is_refused_and_writes_nothing(
    any_central: Central,
    store: TestStore,
    tablets: tuple[RawDevice, RawDevice],
    op_type: str,
    payload: dict[str, Any],
    field: str,
) -> None:
    a, _ = tablets
    sku = store.skus[0]
    body = {"sku": sku, **payload}
    if op_type == "count.record" and "qty" in payload and payload["qty"] < 0:
        body["counted_at"] = datetime.now(UTC).isoformat()
    result = a.push_one(op_type, body, actor="M1")
    assert (result["status"], result["code"]) == ("rejected", "INVALID_OP")
    assert field in result["message"], result["message"]
    assert counts_of(any_central, store) == []
    assert [m["kind"] for m in any_central.ledger(store, sku)] == ["receipt"]
    assert any_central.stock(store, sku)["on_hand"] == 20


def test_counts_reach_tablets_by_pull_and_are_listed_newest_first(
    any_central: Central, store: TestStore, tablets: tuple[RawDevice, RawDevice]
) -> None:
    a, b = tablets
    older = count(a, store.skus[0], 19, counted_at=ago(minutes=20), count_id="C-10")
    newer = count(a, store.skus[1], 12, counted_at=ago(minutes=5), count_id="C-11")

    pulled = {c["id"]: c["data"] for c in b.pull_all() if c["kind"] == "count"}
    assert set(pulled) == {"C-10", "C-11"}
    assert (pulled["C-10"]["state"], pulled["C-10"]["counted"]) == ("posted", 19)
    assert pulled["C-11"]["state"] == "awaiting_approval"

    a.push_one("count.approve", {"count_id": newer["count_id"]}, actor="M1")
    changed = {c["id"]: c["data"] for c in b.pull_all() if c["kind"] == "count"}
    assert changed == {"C-11": {**changed["C-11"], "state": "approved"}}

    listed = counts_of(any_central, store)
    assert [c["count_id"] for c in listed] == ["C-11", "C-10"]
    assert [c["count_id"] for c in counts_of(any_central, store, sku=store.skus[0])] == ["C-10"]
    assert [c["count_id"] for c in counts_of(any_central, store, state="approved")] == ["C-11"]
    assert older["count_id"] == "C-10"
    bad = any_central.oms.get(f"/v1/oms/stores/{store.store_id}/counts", params={"state": "x"})
    assert bad.status_code == 422


def test_the_demo_store_has_shelves_to_count_in_aisle_a(central: Central) -> None:
    store = central.seed_demo()
    scheduled = central.tasks(store, "recount")
    assert len(scheduled) == 3
    assert all(t["state"] == "open" and t["location"].startswith("A-") for t in scheduled)
    first = scheduled[0]
    assert first["reason"].startswith("Count schedule, aisle A: count ")
    store.locations[first["sku"]] = first["location"]
    tablet = RawDevice(central, store, "counter")
    try:
        done = count(tablet, first["sku"], 0, actor="E100", task_id=first["task_id"])
    finally:
        tablet.close()
    assert done["status"] == "applied"
    assert [t["state"] for t in central.tasks(store, "recount")] == ["done", "open", "open"]


@pytest.mark.parametrize("sale_first", [True, False])
def test_a_sale_and_a_count_in_one_push_see_each_other(
    any_central: Central,
    store: TestStore,
    tablets: tuple[RawDevice, RawDevice],
    sale_first: bool,
) -> None:
    a, _ = tablets
    sku = store.skus[5]
    counted_at = ago(minutes=10)
    sold_at = counted_at - timedelta(hours=1)
    oid = any_central.order(store, [(sku, 2)])["order_id"]
    scan = {"order_id": oid, "line_id": "1", "gtin": store.gtins[sku], "qty": 2}
    handoff = {
        "order_id": oid,
        "verified_by": "pickup_code",
        "lines": [{"line_id": "1", "qty": 2}],
    }
    body: dict[str, Any] = {
        "count_id": new_id(),
        "sku": sku,
        "location": store.locations[sku],
        "qty": 19,
        "counted_at": counted_at.isoformat(),
    }

    def sale() -> list[dict[str, Any]]:
        return [
            a.op("order.claim", {"order_id": oid}, occurred_at=sold_at),
            a.op("pick.scan", scan, occurred_at=sold_at),
            a.op("order.stage", {"order_id": oid, "staging_location": "P-1"}, occurred_at=sold_at),
            a.op("order.handoff", handoff, occurred_at=sold_at),
        ]

    if sale_first:
        ops = [*sale(), a.op("count.record", body)]
    else:  # the sale was queued after the count
        ops = [a.op("count.record", body), *sale()]
    results = a.push(*ops)
    assert {r["status"] for r in results} == {"applied"}, results
    assert any_central.stock(store, sku)["on_hand"] == 19  # what was counted; nothing since
    assert adjustments(any_central, store, sku) == ([1] if sale_first else [-1, 2])
    c = the_count(any_central, store, body["count_id"])
    assert (c["book"], c["adjustment"]) == (18, 1)
