"""View-models: hand-over at the desk, tasks, the sync chip and attention list."""

from __future__ import annotations

from datetime import timedelta

import pytest

from fulfillment.model import Order
from storeapp.local import LocalStore
from storeapp.viewmodels import HandoverVM, PickListVM, SessionVM, SyncStatusVM, TasksVM
from storeapp.viewmodels.sync_status import AttentionRow, Chip
from sync.engine import Progress
from tests.storeapp.builders import T0, Feed, gtin, order_doc, result, task_doc
from tests.storeapp.conftest import FakeClock


@pytest.fixture
def staged(store: LocalStore, feed: Feed) -> None:
    """Two pickup orders on the shelf: Jo's (code AB12CD, 2 lines) and Lee's."""
    store.apply_pull(
        feed.orders(
            order_doc(
                "W-1",
                [("1", "DOG2", 2), ("2", "BOWL", 1)],
                state="staged",
                picked={"1": 2, "2": 1},
                pickup_code="AB12CD",
            ),
            order_doc(
                "W-2",
                [("1", "CAT1", 1)],
                state="staged",
                picked={"1": 1},
                pickup_code="ZZ99XX",
                customer=("Lee Park", "lee@example.com", "555 0100"),
            ),
            order_doc("W-3", [("1", "CAT1", 1)], pickup_code="QQ11QQ"),  # not picked yet
        )
    )


def test_a_scanned_pickup_code_finds_the_order_in_any_case_and_verifies_it(
    store: LocalStore, staged: None, ana: SessionVM, clock: FakeClock
) -> None:
    screen = HandoverVM(store, ana, clock=clock).find(" ab12cd ")
    assert (screen.message, screen.tone) == ("Pickup code matches: hand over the bag.", "ok")
    assert screen.order is not None
    assert (screen.order.order_id, screen.order.verified_by, screen.order.units_to_hand) == (
        "W-1",
        "pickup_code",
        3,
    )


def test_a_name_search_needs_a_code_or_id_check_before_hand_over(
    store: LocalStore, staged: None, ana: SessionVM, clock: FakeClock
) -> None:
    handover = HandoverVM(store, ana, clock=clock)
    found = handover.find("park")
    assert found.order is not None
    assert ([m.order_id for m in found.matches], found.order.verified_by) == (["W-2"], None)
    assert handover.hand_over().message == "Check the pickup code or a photo ID first."
    assert (
        handover.verify_code("AB12CD").message
        == "That is not this order's pickup code: check a photo ID instead."
    )
    verified = handover.verify_id().order
    assert verified is not None
    assert verified.verified_by == "id"
    done = handover.hand_over()
    assert (done.done, done.message) == (True, "Handed over 1 item(s) of W-2.")
    order_w2 = store.order("W-2")
    assert order_w2 is not None
    assert order_w2.state.value == "handed_over"


def test_search_by_phone_digits_and_nothing_found(
    store: LocalStore, staged: None, ana: SessionVM, clock: FakeClock
) -> None:
    handover = HandoverVM(store, ana, clock=clock)
    assert [m.order_id for m in handover.find("7700 900123").matches] == ["W-1"]
    assert [m.order_id for m in handover.find("example.com").matches] == ["W-1", "W-2"]
    assert handover.find("QQ11QQ").message == "No order ready for pickup matches “QQ11QQ”."


def test_a_partial_hand_over_keeps_the_rest_staged(
    store: LocalStore, staged: None, ana: SessionVM, clock: FakeClock
) -> None:
    handover = HandoverVM(store, ana, clock=clock)
    handover.find("AB12CD")
    assert handover.set_qty("1", 3).message == "Between 0 and 2 for this line."
    handover.set_qty("1", 1)
    handover.set_qty("2", 0)
    done = handover.hand_over()
    assert done.message == "Handed over 1 item(s) of W-1. The rest stays on the shelf."
    (op,) = store.pending(10)
    assert op["payload"] == {
        "order_id": "W-1",
        "verified_by": "pickup_code",
        "lines": [{"line_id": "1", "qty": 1}],
    }
    order = store.order("W-1")
    assert order is not None
    assert (order.state.value, [x.fulfilled for x in order.lines]) == ("staged", [1, 0])
    assert handover.hand_over().message == "Already handed over."


def test_tasks_list_in_plain_words_and_done_takes_one_off(
    store: LocalStore, feed: Feed, ana: SessionVM, clock: FakeClock
) -> None:
    store.apply_pull(
        feed.page(
            feed.change(
                "task",
                "T-1",
                task_doc("T-1"),
            ),
            feed.change(
                "task",
                "T-2",
                task_doc(
                    "T-2",
                    "recount",
                    "BOWL",
                    "C-01",
                    0,
                    reason="short: not_found",
                    created_at="2025-03-03T08:05:00Z",
                ),
            ),
        )
    )
    tasks = TasksVM(store, ana, clock=clock)
    assert [r.title for r in tasks.screen().rows] == [
        "Put back 1 × Dog Food 2 kg at A-12",
        "Recount Steel Bowl at C-01",
    ]
    after = tasks.done("T-1")
    assert (after.message, [r.task_id for r in after.rows]) == ("Task done.", ["T-2"])
    assert tasks.done("T-1").message == "That task was already closed"


def test_the_chip_before_the_first_sync_offline_sending_attention_and_online(
    store: LocalStore, feed: Feed, ana: SessionVM, clock: FakeClock
) -> None:
    sync = SyncStatusVM(store, clock=clock)
    assert sync.chip() == Chip("Not synced yet", "warning", "never", 0, 0)
    store.apply_pull(feed.orders(order_doc("W-1", [("1", "DOG2", 2)])))
    store.act("E1", "order.claim", {"order_id": "W-1"}, T0 - timedelta(hours=3, minutes=12))
    store.act("E1", "pick.scan", {"order_id": "W-1", "line_id": "1", "gtin": gtin(1)}, T0)
    store.record_sync(at=T0, ok=False, error="No network")
    assert sync.chip().text == "Offline · 2 waiting · oldest 3 h 12 min"
    assert sync.on_progress(Progress("sending", 1, 2)) == Chip(
        "Sending 1/2", "info", "sending", 2, 0
    )
    assert sync.on_progress(Progress("receiving", 1000, 5000)).text == "Receiving 1000/5000"
    assert sync.on_progress(Progress("receiving", 300, None)).text == "Receiving 300"
    assert sync.on_idle().text == "Offline · 2 waiting · oldest 3 h 12 min"
    claim, scan = store.pending(10)
    store.acknowledge(
        [
            result(claim, "rejected", code="ALREADY_CLAIMED", message="Picked by Ben since 09:00"),
            result(scan, "applied"),
        ]
    )
    store.record_sync(at=T0, ok=True, server_time=T0)
    assert sync.on_idle() == Chip("1 needs attention", "error", "attention", 0, 1)
    sync.mark_seen()
    clock.tick(seconds=12)
    assert sync.chip() == Chip("Online · synced 12 s ago", "ok", "online", 0, 0)


def test_the_attention_list_says_what_happened_who_when_and_what_to_do(
    store: LocalStore, feed: Feed, ana: SessionVM, clock: FakeClock
) -> None:
    store.apply_pull(
        feed.orders(order_doc("W-1", [("1", "DOG2", 1)], state="picking", assignee="E1"))
    )
    store.act(
        "E1",
        "pick.scan",
        {"order_id": "W-1", "line_id": "1", "gtin": gtin(1)},
        T0 + timedelta(minutes=42),
    )
    (scan,) = store.pending(10)
    store.acknowledge(
        [
            result(
                scan,
                "compensated",
                code="ORDER_CANCELLED",
                message="Order W-1 was cancelled: put 1 × Dog Food 2 kg back at A-12",
                followups=[
                    {
                        "task_id": "T-7",
                        "kind": "restock",
                        "sku": "DOG2",
                        "location": "A-12",
                        "qty": 1,
                    }
                ],
            ),
        ]
    )
    screen = SyncStatusVM(store, clock=clock).screen()
    assert screen.attention == (
        AttentionRow(
            seq=1,
            what="Pick of 1 × Dog Food 2 kg for order W-1",
            result="Order W-1 was cancelled: put 1 × Dog Food 2 kg back at A-12",
            action="Restock 1 × DOG2 at A-12",
            who="Ana",
            when="09:42",
            status="compensated",
            code="ORDER_CANCELLED",
        ),
    )
    seen = SyncStatusVM(store, clock=clock).mark_seen(1)
    assert seen.attention == ()


def test_sync_now_wakes_the_engine_and_the_screen_lists_pending_ops(
    store: LocalStore, feed: Feed, ana: SessionVM, clock: FakeClock
) -> None:
    store.apply_pull(feed.orders(order_doc("W-1", [("1", "DOG2", 1)])))
    PickListVM(store, ana, clock=clock)  # views hold one of each
    store.act("E1", "order.claim", {"order_id": "W-1"}, T0)
    woken = []
    sync = SyncStatusVM(store, clock=clock, on_change=lambda: woken.append(True))
    screen = sync.sync_now()
    assert (woken, screen.message) == ([True], "Syncing…")
    assert [(p.what, p.who, p.when) for p in screen.pending] == [
        ("Claim of order W-1", "Ana", "09:00")
    ]
    store.record_sync(at=T0, ok=True, server_time=T0 + timedelta(minutes=7))
    assert (
        sync.screen().clock_warning
        == "This tablet's clock is 7 min behind the server: ask a manager to set the time."
    )


@pytest.mark.parametrize(
    "scanned",
    ["PICKUP:AB12CD", "https://shop.example/pickup?order=W-1&code=ab12cd", "AB12CD"],
    ids=["tagged", "email-link", "bare"],
)
def test_the_qr_from_the_customer_s_email_finds_and_verifies_the_order(
    store: LocalStore, staged: None, ana: SessionVM, clock: FakeClock, scanned: str
) -> None:
    screen = HandoverVM(store, ana, clock=clock).find(scanned)
    assert screen.order is not None
    assert (screen.order.order_id, screen.order.verified_by) == ("W-1", "pickup_code")


def test_scanning_the_item_back_on_its_shelf_closes_its_put_back_task(
    store: LocalStore, feed: Feed, ana: SessionVM, clock: FakeClock
) -> None:
    task = task_doc("T-9")
    store.apply_pull(feed.page(feed.change("task", "T-9", task)))
    tasks = TasksVM(store, ana, clock=clock)
    wrong = tasks.scan(gtin(4))
    assert (wrong.message, wrong.tone) == (
        "No item to put back is waiting for Steel Bowl.",
        "error",
    )
    right = tasks.scan(gtin(1))
    assert (right.message, right.rows) == ("Put back 1 × Dog Food 2 kg at A-12: done.", ())
    assert [r["type"] for r in store.db.query("SELECT type FROM outbox")] == ["task.done"]


def test_every_op_the_tablet_can_queue_is_told_in_words() -> None:
    from storeapp.viewmodels.sync_status import describe_op
    from sync.protocol import PAYLOADS

    payload = {"order_id": "W-1", "sku": "DOG2", "location": "A-12", "return_id": "R-1"}
    for op_type in PAYLOADS:
        assert describe_op(op_type, payload) != op_type, f"{op_type} has no words"


def test_a_hand_over_another_tablet_already_recorded_says_what_happens_next(
    store: LocalStore, staged: None, ana: SessionVM, clock: FakeClock
) -> None:
    handover = HandoverVM(store, ana, clock=clock)
    handover.find("AB12CD")
    assert handover.hand_over().tone == "ok"
    (op,) = store.pending(10)
    store.acknowledge(
        [
            result(
                op,
                "compensated",
                code="ALREADY_HANDED_OVER",
                message="Order W-1 was already handed over by Ben at 09:30: a manager will"
                " check the pickup shelf and call the customer",
            )
        ]
    )
    [row] = SyncStatusVM(store, clock=clock).screen().attention
    assert (row.what, row.code, row.status) == (
        "Hand-over of 3 item(s) of order W-1",
        "ALREADY_HANDED_OVER",
        "compensated",
    )
    assert row.action == (
        "Nothing to do on the shelf: a manager checks the pickup shelf and calls the customer"
    )


def test_a_change_the_server_set_aside_is_told_in_words_not_field_names(
    store: LocalStore, staged: None, ana: SessionVM, clock: FakeClock
) -> None:
    handover = HandoverVM(store, ana, clock=clock)
    handover.find("AB12CD")
    assert handover.hand_over().tone == "ok"
    (op,) = store.pending(10)
    store.acknowledge(
        [
            result(
                op,
                "rejected",
                code="INVALID_OP",
                message="payload.lines.0.qty: Input should be greater than 0",
            )
        ]
    )
    [row] = SyncStatusVM(store, clock=clock).screen().attention
    assert "payload" not in row.result and "Input should" not in row.result
    assert row.result == "The server could not apply this change"
    assert row.action.startswith("Not applied: the server set this change aside for a manager")


def test_every_hand_over_or_shipment_a_manager_is_told_about_says_what_happens_next() -> None:
    from fulfillment.model import OrderType
    from fulfillment.outcome import Status
    from fulfillment.picking import cancel, claim, expire, hand_over, reject, scan, ship, stage
    from storeapp.viewmodels.sync_status import code_action
    from tests.fulfillment.builders import NOW, ctx, line, order
    from tests.fulfillment.builders import gtin as rule_gtin

    def picked(type_: OrderType) -> Order:
        o = claim(order(line(1, qty=1), type=type_), ctx()).order
        return scan(o, "1", rule_gtin(1), 1, "", ctx()).order

    lines = [{"line_id": "1", "qty": 2}]
    pickup = stage(picked(OrderType.PICKUP), "P-1", 0, ctx()).order
    parcel = stage(picked(OrderType.SHIP_FROM_STORE), "PACK", 1, ctx()).order
    late = ctx("system", now=NOW + timedelta(days=30))
    outcomes = [
        hand_over(pickup, "id", lines, ctx()),
        hand_over(hand_over(pickup, "id", lines, ctx()).order, "id", lines, ctx()),
        hand_over(cancel(pickup, "x", ctx()).order, "id", lines, ctx()),
        hand_over(expire(pickup, late).order, "id", lines, ctx()),
        hand_over(reject(picked(OrderType.PICKUP), "x", ctx()).order, "id", lines, ctx()),
        ship(ship(parcel, "DPD", "1", 1, ctx()).order, "DPD", "2", 1, ctx()),
        ship(cancel(parcel, "x", ctx()).order, "DPD", "1", 1, ctx()),
        ship(reject(picked(OrderType.SHIP_FROM_STORE), "x", ctx()).order, "DPD", "1", 1, ctx()),
    ]
    told = {o.code for o in outcomes if o.status is Status.COMPENSATED and o.exceptions}
    assert len(told) == 7, told
    assert {code: code_action(code) for code in told if not code_action(code)} == {}
