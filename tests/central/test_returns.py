"""Returns of online purchases at central (PROTOCOL.md, DOMAIN.md), on SQLite and PostgreSQL.

Orders are sold the way a store sells them (claim, scan, stage, hand over or ship, pushed
by a tablet); returns are pushed as `return.receive` and `return.override` ops, and what
central made of them is read back through the OMS API, pull and the snapshot.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.support.central import Central, TestStore, ok
from tests.support.device import RawDevice
from tests.support.selling import sell


def line(
    qty: int = 1,
    *,
    line_id: str | None = "1",
    sku: str | None = None,
    condition: str = "sellable",
    disposition: str = "restock",
    reason: str = "changed_mind",
) -> dict[str, Any]:
    got: dict[str, Any] = {
        "qty": qty,
        "reason": reason,
        "condition": condition,
        "disposition": disposition,
    }
    if line_id is not None:
        got["line_id"] = line_id
    if sku is not None:
        got["sku"] = sku
    return got


def give_back(
    tablet: RawDevice, oid: str | None, *lines: dict[str, Any], actor: str = "E1", **extra: Any
) -> dict[str, Any]:
    payload: dict[str, Any] = {"return_id": extra.pop("return_id", None) or new_id(), **extra}
    if oid is not None:
        payload["order_id"] = oid
    payload["lines"] = list(lines)
    return tablet.push_one("return.receive", payload, actor=actor)


_ids = iter(range(1, 10**6))


def new_id() -> str:
    return f"R-{datetime.now(UTC):%H%M%S}-{next(_ids)}"


def returns_of(central: Central, store: TestStore, **params: str) -> list[dict[str, Any]]:
    return list(ok(central.oms.get(f"/v1/oms/stores/{store.store_id}/returns", params=params)))


def exceptions_of(central: Central, store: TestStore) -> list[dict[str, Any]]:
    return list(ok(central.oms.get(f"/v1/oms/stores/{store.store_id}/exceptions")))


def returned(central: Central, oid: str) -> list[int]:
    return [ln["returned"] for ln in central.get_order(oid)["lines"]]


def test_a_return_within_policy_restocks_only_sellable_units_and_requests_one_refund(
    any_central: Central, store: TestStore, tablets: tuple[RawDevice, RawDevice]
) -> None:
    a, _ = tablets
    sku = store.skus[0]
    oid = sell(any_central, store, [(sku, 3)])
    assert any_central.stock(store, sku)["on_hand"] == 17

    result = give_back(
        a,
        oid,
        line(2),
        line(1, condition="damaged", disposition="damaged_bin", reason="damaged"),
        return_id="R-1",
    )
    assert (result["status"], result["code"], result["message"]) == ("applied", None, None)

    assert any_central.stock(store, sku)["on_hand"] == 19  # 2 back on sale, not the damaged one
    moves = [
        (m["kind"], m["location"], m["qty"], m["on_hand_delta"])
        for m in any_central.ledger(store, sku)
        if m["kind"].startswith("return")
    ]
    assert moves == [
        ("return_restock", "A-01-1", 2, 2),
        ("return_damaged", "DAMAGED-BIN", 1, 0),
    ]
    assert returned(any_central, oid) == [3]

    [ret] = returns_of(any_central, store)
    assert (ret["return_id"], ret["order_id"], ret["state"]) == ("R-1", oid, "completed")
    assert (ret["refund_amount"], ret["device_name"], ret["received_by"]) == (
        "14.97",
        "tablet A",
        "E1",
    )
    assert [(x["qty"], x["restocked"], x["location"]) for x in ret["lines"]] == [
        (2, 2, "A-01-1"),
        (1, 0, "DAMAGED-BIN"),
    ]
    assert [(r["amount"], r["tender"], r["state"]) for r in ret["refunds"]] == [
        ("14.97", "original_tender", "requested")
    ]
    assert "Olivia" not in json.dumps(ret)  # no customer data in a return


def test_the_same_return_op_pushed_again_is_a_duplicate_and_refunds_once(
    any_central: Central, store: TestStore, tablets: tuple[RawDevice, RawDevice]
) -> None:
    a, _ = tablets
    sku = store.skus[0]
    oid = sell(any_central, store, [(sku, 2)])
    op = a.op(
        "return.receive",
        {"return_id": "R-2", "order_id": oid, "lines": [line(1)]},
    )
    [first] = a.push(op)
    [again] = a.push(op)  # the answer was lost: the tablet sends it again
    assert first["status"] == "applied"
    assert (again["status"], again["original_status"]) == ("duplicate", "applied")
    [ret] = returns_of(any_central, store)
    assert [r["amount"] for r in ret["refunds"]] == ["4.99"]
    assert returned(any_central, oid) == [1]
    assert any_central.stock(store, sku)["on_hand"] == 19


def test_a_return_number_used_by_another_op_is_refused(
    any_central: Central, store: TestStore, tablets: tuple[RawDevice, RawDevice]
) -> None:
    a, b = tablets
    oid = sell(any_central, store, [(store.skus[0], 2)])
    assert give_back(a, oid, line(1), return_id="R-3")["status"] == "applied"
    again = give_back(b, oid, line(1), return_id="R-3")
    assert (again["status"], again["code"]) == ("rejected", "DUPLICATE_RETURN")
    assert re.fullmatch(
        r"Return R-3 was already received on tablet A at \d\d:\d\d: this one was not recorded "
        r"again",
        again["message"],
    )
    # in one push too: the second sees the first before anything is written
    both = a.push(
        a.op("return.receive", {"return_id": "R-4", "order_id": oid, "lines": [line(1)]}),
        a.op("return.receive", {"return_id": "R-4", "order_id": oid, "lines": [line(1)]}),
    )
    assert [(r["status"], r["code"]) for r in both] == [
        ("applied", None),
        ("rejected", "DUPLICATE_RETURN"),
    ]
    assert returned(any_central, oid) == [2]
    assert sorted(r["return_id"] for r in returns_of(any_central, store)) == ["R-3", "R-4"]


def test_the_same_line_returned_from_two_tablets_never_counts_more_than_was_sold(
    any_central: Central, store: TestStore, tablets: tuple[RawDevice, RawDevice]
) -> None:
    a, b = tablets
    sku = store.skus[1]
    oid = sell(any_central, store, [(sku, 2)])
    assert give_back(a, oid, line(2), actor="E1")["status"] == "applied"

    late = give_back(b, oid, line(1), actor="E2")
    assert (late["status"], late["code"]) == ("rejected", "ALREADY_RETURNED")
    assert re.fullmatch(
        r"Already returned on tablet A at \d\d:\d\d: 1 × Item 2 refused", late["message"]
    )
    assert returned(any_central, oid) == [2]
    assert any_central.stock(store, sku)["on_hand"] == 20
    [ret] = returns_of(any_central, store)  # the refused one is not a return
    assert [r["amount"] for r in ret["refunds"]] == ["9.98"]
    [review] = exceptions_of(any_central, store)
    assert (review["code"], review["order_id"], review["device_id"]) == (
        "ALREADY_RETURNED",
        oid,
        b.device_id,
    )
    assert "Already returned on tablet A" in review["message"]


def test_a_return_partly_over_what_was_sold_keeps_the_rest_and_reviews_the_excess(
    any_central: Central, store: TestStore, tablets: tuple[RawDevice, RawDevice]
) -> None:
    a, b = tablets
    sku = store.skus[1]
    oid = sell(any_central, store, [(sku, 3)])
    assert give_back(a, oid, line(2))["status"] == "applied"
    late = give_back(b, oid, line(2), actor="E2", return_id="R-5")
    assert (late["status"], late["code"]) == ("compensated", "ALREADY_RETURNED")
    assert returned(any_central, oid) == [3]
    assert any_central.stock(store, sku)["on_hand"] == 20
    partly = next(r for r in returns_of(any_central, store) if r["return_id"] == "R-5")
    assert [(x["qty"], x["accepted"], x["refused"]) for x in partly["lines"]] == [(2, 1, 1)]
    assert [r["amount"] for r in partly["refunds"]] == ["4.99"]
    assert [x["code"] for x in exceptions_of(any_central, store)] == ["ALREADY_RETURNED"]


def test_a_return_outside_the_window_waits_for_a_manager_s_override(
    any_central: Central, store: TestStore, tablets: tuple[RawDevice, RawDevice]
) -> None:
    a, _ = tablets
    sku = store.skus[2]
    oid = sell(any_central, store, [(sku, 1)], type="ship_from_store", days_ago=45)
    result = give_back(a, oid, line(1), return_id="R-6")
    assert (result["status"], result["code"]) == ("applied", "OUTSIDE_POLICY")
    assert result["message"] == (
        "Sold 45 days ago: returns are accepted for 30 days — waiting for a manager's "
        "override; refund held"
    )
    [ret] = returns_of(any_central, store)
    assert (ret["state"], ret["refund_requested"], ret["refunds"]) == (
        "awaiting_override",
        False,
        [],
    )
    assert any_central.stock(store, sku)["on_hand"] == 20  # the goods are back regardless

    refused = a.push_one("return.override", {"return_id": "R-6", "reason": "ok"}, actor="E2")
    assert (refused["status"], refused["code"]) == ("rejected", "FORBIDDEN")
    done = a.push_one(
        "return.override", {"return_id": "R-6", "reason": "loyal customer"}, actor="M1"
    )
    assert (done["status"], done["code"]) == ("applied", None)
    [ret] = returns_of(any_central, store)
    assert (ret["state"], ret["override_by"], ret["override_reason"]) == (
        "completed",
        "M1",
        "loyal customer",
    )
    assert [(r["amount"], r["state"]) for r in ret["refunds"]] == [("4.99", "requested")]

    twice = a.push_one("return.override", {"return_id": "R-6", "reason": "again"}, actor="M1")
    assert (twice["status"], twice["code"]) == ("rejected", "NOT_WAITING")
    assert len(returns_of(any_central, store)[0]["refunds"]) == 1


def test_a_manager_cannot_override_a_return_they_received(
    any_central: Central, store: TestStore, tablets: tuple[RawDevice, RawDevice]
) -> None:
    a, _ = tablets
    oid = sell(any_central, store, [(store.skus[0], 1)], days_ago=45)
    assert give_back(a, oid, line(1), actor="M1", return_id="R-7")["code"] == "OUTSIDE_POLICY"
    same = a.push_one("return.override", {"return_id": "R-7", "reason": "mine"}, actor="M1")
    assert (same["status"], same["code"]) == ("rejected", "SAME_PERSON")
    [ret] = returns_of(any_central, store)
    assert (ret["state"], ret["refunds"]) == ("awaiting_override", [])


def test_an_override_of_an_unknown_return_is_refused(
    any_central: Central, store: TestStore, tablets: tuple[RawDevice, RawDevice]
) -> None:
    a, _ = tablets
    result = a.push_one("return.override", {"return_id": "R-404", "reason": "x"}, actor="M1")
    assert (result["status"], result["code"], result["message"]) == (
        "rejected",
        "UNKNOWN_RETURN",
        "No return R-404 in this store",
    )


def test_a_final_sale_item_needs_a_manager(any_central: Central, store: TestStore) -> None:
    sku = store.skus[3]
    ok(
        any_central.oms.put(
            f"/v1/oms/stores/{store.store_id}/items",
            json=[
                {
                    "sku": sku,
                    "gtins": [store.gtins[sku]],
                    "name": "Item 4",
                    "price": "4.99",
                    "location": store.locations[sku],
                    "final_sale": True,
                }
            ],
        )
    )
    oid = sell(any_central, store, [(sku, 1)])
    tablet = RawDevice(any_central, store, "tablet A")
    try:
        result = give_back(tablet, oid, line(1))
    finally:
        tablet.close()
    assert (result["status"], result["code"]) == ("applied", "OUTSIDE_POLICY")
    assert result["message"].startswith("Item 4 was a final-sale item")
    assert returns_of(any_central, store)[0]["refunds"] == []


def test_a_return_of_an_order_central_does_not_have_is_recorded_for_review(
    any_central: Central, store: TestStore, tablets: tuple[RawDevice, RawDevice]
) -> None:
    a, _ = tablets
    sku = store.skus[4]
    result = give_back(a, None, line(1, line_id=None, sku=sku), receipt="W-LOST-1", return_id="R-8")
    assert (result["status"], result["code"]) == ("compensated", "RETURN_UNVERIFIED")
    assert result["message"] == "Order W-LOST-1 was not found: a manager checks it; refund held"
    assert any_central.stock(store, sku)["on_hand"] == 21  # the goods are on the shelf
    [review] = exceptions_of(any_central, store)
    assert (review["code"], review["order_id"]) == ("RETURN_UNVERIFIED", "W-LOST-1")
    assert review["message"] == (
        "Return R-8 names order W-LOST-1, which this store does not have: check the receipt; "
        "refund of 4.99 held"
    )
    [ret] = returns_of(any_central, store, order_id="W-LOST-1")
    assert (ret["state"], ret["verified"], ret["refunds"]) == ("needs_review", False, [])

    done = a.push_one("return.override", {"return_id": "R-8", "reason": "receipt ok"}, actor="M1")
    assert done["status"] == "applied"
    [ret] = returns_of(any_central, store)
    assert [r["amount"] for r in ret["refunds"]] == ["4.99"]


def test_an_order_id_central_does_not_have_is_kept_on_the_return(
    any_central: Central, store: TestStore, tablets: tuple[RawDevice, RawDevice]
) -> None:
    a, _ = tablets
    result = give_back(a, "W-NOPE", line(1, line_id=None, sku=store.skus[0]))
    assert (result["status"], result["code"]) == ("compensated", "RETURN_UNVERIFIED")
    [ret] = returns_of(any_central, store)
    assert ret["order_id"] == "W-NOPE"


@pytest.mark.parametrize(
    ("payload", "field", "words"),
    [
        (
            {"order_id": "ORDER", "lines": [line(1, condition="damaged")]},
            "lines.0",
            "only sellable goods can be restocked, not damaged ones",
        ),
        (
            {"lines": [line(1)]},
            "payload",
            "a return needs the order_id or the receipt it was bought on",
        ),
    ],
)
def test_a_return_that_makes_no_sense_is_refused_and_writes_nothing(
    any_central: Central,
    store: TestStore,
    tablets: tuple[RawDevice, RawDevice],
    payload: dict[str, Any],
    field: str,
    words: str,
) -> None:
    a, _ = tablets
    sku = store.skus[0]
    oid = sell(any_central, store, [(sku, 1)])
    body = {"return_id": "R-9", **payload}
    if body.get("order_id") == "ORDER":
        body["order_id"] = oid
    result = a.push_one("return.receive", body)
    assert (result["status"], result["code"]) == ("rejected", "INVALID_OP")
    assert field in result["message"] and words in result["message"], result["message"]
    assert returns_of(any_central, store) == []
    assert returned(any_central, oid) == [0]
    assert not [m for m in any_central.ledger(store, sku) if m["kind"].startswith("return")]
    assert [x["code"] for x in exceptions_of(any_central, store)] == ["INVALID_OP"]


def test_returns_reach_tablets_by_pull_and_snapshot_and_are_listed_newest_first(
    any_central: Central, store: TestStore, tablets: tuple[RawDevice, RawDevice]
) -> None:
    a, b = tablets
    first = sell(any_central, store, [(store.skus[0], 1)])
    second = sell(any_central, store, [(store.skus[1], 1)])
    give_back(a, first, line(1), return_id="R-10")
    give_back(a, second, line(1), return_id="R-11")

    pulled = {c["id"]: c["data"] for c in b.pull_all() if c["kind"] == "return"}
    assert set(pulled) == {"R-10", "R-11"}
    assert (pulled["R-10"]["order_id"], pulled["R-10"]["state"]) == (first, "completed")

    r = b.http.get("/v1/sync/snapshot")
    assert r.status_code == 200
    lines = [json.loads(x) for x in r.text.splitlines()]
    snap = {c["id"]: c["data"] for c in lines[1:] if c["kind"] == "return"}
    assert snap == pulled
    orders = {c["id"]: c["data"] for c in lines[1:] if c["kind"] == "order"}
    assert orders[first]["lines"][0]["returned"] == 1

    assert [x["return_id"] for x in returns_of(any_central, store)] == ["R-11", "R-10"]
    assert [x["return_id"] for x in returns_of(any_central, store, order_id=first)] == ["R-10"]


def test_the_demo_store_has_sold_orders_to_bring_back(central: Central) -> None:
    store = central.seed_demo()
    tablet = RawDevice(central, store, "counter")
    try:
        recent = give_back(tablet, "W-0901", line(1), actor="E100")
        shipped = give_back(tablet, "W-0903", line(1, line_id="2"), actor="E100")
        final_sale = give_back(tablet, "W-0902", line(1), actor="E100")
        too_old = give_back(tablet, "W-0904", line(1), actor="E100")
    finally:
        tablet.close()
    assert [(r["status"], r["code"]) for r in (recent, shipped)] == [("applied", None)] * 2
    assert final_sale["code"] == too_old["code"] == "OUTSIDE_POLICY"
    assert "final-sale" in final_sale["message"]
    assert too_old["message"].startswith("Sold 45 days ago")
    assert [r["order_id"] for r in returns_of(central, store)][::-1] == [
        "W-0901",
        "W-0903",
        "W-0902",
        "W-0904",
    ]
