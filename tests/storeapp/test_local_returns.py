"""The local store: returns received on the tablet, overrides, two actors in one gesture, rebase."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from fulfillment.returns import Return
from storeapp.local import LocalStore
from tests.storeapp.builders import T0, Feed, result, sold_order_doc


def receive(
    return_id: str = "R1", order_id: str = "W-1", qty: int = 1, **extra: object
) -> dict[str, Any]:
    line = {"line_id": "1", "qty": qty, "reason": "changed_mind"}
    line |= {"condition": "sellable", "disposition": "restock"}
    return {"return_id": return_id, "order_id": order_id, "lines": [line], **extra}


@pytest.fixture
def sold(store: LocalStore, feed: Feed) -> None:
    store.apply_pull(feed.orders(sold_order_doc("W-1", [("1", "DOG2", 2)])))


def test_a_return_with_nothing_returnable_is_refused_and_not_queued(
    store: LocalStore, sold: None
) -> None:
    assert store.act("E1", "return.receive", receive(qty=2), T0).queued
    again = store.act("E1", "return.receive", receive("R2"), T0)
    assert (again.queued, again.code) == (False, "ALREADY_RETURNED")
    assert [op.type for op in store.outbox()] == ["return.receive"]


def test_an_associate_cannot_override_and_a_refused_override_is_not_queued(
    store: LocalStore, feed: Feed
) -> None:
    store.apply_pull(
        feed.orders(sold_order_doc("W-1", [("1", "DOG2", 2)], sold_ago=timedelta(days=45)))
    )
    got = store.act("E1", "return.receive", receive(), T0)
    assert got.ret is not None
    assert (got.queued, got.ret.state.value, got.code) == (
        True,
        "awaiting_override",
        "OUTSIDE_POLICY",
    )
    forbidden = store.act("E2", "return.override", {"return_id": "R1", "reason": "ok"}, T0)
    assert (forbidden.queued, forbidden.code) == (False, "FORBIDDEN")
    unknown = store.act("M1", "return.override", {"return_id": "R9", "reason": "ok"}, T0)
    assert unknown.code == "UNKNOWN_RETURN"
    done = store.act("M1", "return.override", {"return_id": "R1", "reason": "ok"}, T0)
    assert done.ret is not None
    assert (done.queued, done.ret.state.value) == (True, "completed")
    return_r1 = store.get_return("R1")
    assert return_r1 is not None
    assert return_r1.ret.override_by == "M1"


def test_two_actors_in_one_gesture_are_all_or_nothing(store: LocalStore, sold: None) -> None:
    steps: list[tuple[str, str, dict[str, Any]]] = [
        ("E1", "return.receive", receive()),
        ("E1", "return.override", {"return_id": "R1", "reason": "x"}),  # not a manager
    ]
    got = store.act_as(steps, T0, all_or_nothing=True)
    assert [(r.queued, r.code) for r in got] == [(False, "NOT_SAVED"), (False, "FORBIDDEN")]
    assert got[0].message == got[1].message == "Only a manager can do this"
    assert store.outbox() == [] and store.get_return("R1") is None
    order_w1 = store.order("W-1")
    assert order_w1 is not None
    assert order_w1.lines[0].returned == 0
    invalid = store.act_as(
        [("E1", "return.receive", receive(qty=0)), ("M1", "return.override", {})],
        T0,
        all_or_nothing=True,
    )
    assert [r.code for r in invalid] == ["INVALID_INPUT", "INVALID_INPUT"]
    assert store.sync_state().next_seq == 1


def test_central_s_return_doc_replaces_the_pending_one(
    store: LocalStore, feed: Feed, sold: None
) -> None:
    got = store.act("E1", "return.receive", receive(), T0)
    [op] = store.pending(10)
    store.acknowledge([result(op)])
    assert got.ret is not None
    central = got.ret.model_copy(update={"device_name": "Tablet 3"})
    store.apply_pull(
        feed.page(
            feed.change("return", "R1", central.model_dump(mode="json")),
            feed.change(
                "order", "W-1", sold_order_doc("W-1", [("1", "DOG2", 2)], returned={"1": 1})
            ),
            last_applied_seq=1,
        )
    )
    record = store.get_return("R1")
    assert record is not None
    assert (record.pending, record.ret.device_name) == (False, "Tablet 3")
    order_w1 = store.order("W-1")
    assert order_w1 is not None
    assert order_w1.lines[0].returned == 1  # not counted twice
    assert store.order("W-1") is not None


def test_a_return_on_the_receipt_survives_a_pull_and_a_snapshot_reset(
    store: LocalStore, feed: Feed
) -> None:
    line = {"sku": "BOWL", "qty": 1, "reason": "damaged", "condition": "damaged"}
    line["disposition"] = "damaged_bin"
    payload = {"return_id": "R5", "receipt": "W-404", "lines": [line]}
    got = store.act("E1", "return.receive", payload, T0)
    assert got.ret is not None
    assert (got.queued, got.ret.order_id, got.ret.lines[0].location) == (
        True,
        "W-404",
        "DAMAGED-BIN",
    )
    store.apply_pull(feed.basics())  # the store doc: everything is re-folded
    return_r5 = store.get_return("R5")
    assert return_r5 is not None
    assert return_r5.pending
    store.apply_pull(feed.page(*feed.basics().changes, reset="too old"))
    return_r5 = store.get_return("R5")
    assert return_r5 is not None
    assert isinstance(return_r5.ret, Return)
    assert [r.ret.return_id for r in store.returns_since(T0)] == ["R5"]
