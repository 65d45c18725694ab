"""View-model: returns of online purchases at the desk, on a real tablet file."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from storeapp.local import LocalStore
from storeapp.viewmodels import ReturnsVM, SessionVM
from tests.storeapp.builders import T0, Feed, gtin, gtin14_of, sold_order_doc
from tests.storeapp.conftest import FakeClock


@pytest.fixture
def sold(store: LocalStore, feed: Feed) -> None:
    """Jo's pickup order handed over 3 days ago (2 × dog food, 1 bowl), Lee's shipped
    order from 40 days ago."""
    store.apply_pull(
        feed.orders(
            sold_order_doc("W-1", [("1", "DOG2", 2), ("2", "BOWL", 1)], pickup_code="AB12CD"),
            sold_order_doc(
                "W-2",
                [("1", "CAT1", 1)],
                type="ship_from_store",
                sold_ago=timedelta(days=40),
                customer=("Lee Park", "lee@example.com", "555 0100"),
            ),
        )
    )


def vm(store: LocalStore, session: SessionVM, clock: FakeClock) -> ReturnsVM:
    return ReturnsVM(store, session, clock=clock)


def test_lookup_by_order_number_email_phone_and_pickup_code(
    store: LocalStore, sold: None, ana: SessionVM, clock: FakeClock
) -> None:
    returns = vm(store, ana, clock)
    assert returns.find("w-1").order_id == "W-1"
    assert returns.find("lee@example.com").order_id == "W-2"
    assert returns.find("555 0100").order_id == "W-2"
    assert returns.find("PICKUP:ab12cd").order_id == "W-1"
    both = returns.find("example.com")
    assert (both.order_id, [m.order_id for m in both.matches]) == (None, ["W-1", "W-2"])
    assert returns.select("W-2").order_id == "W-2"
    missing = returns.find("nobody@example.org")
    assert missing.tone == "error" and "Return it on the receipt" in missing.message


def test_orders_with_nothing_left_to_return_are_not_offered(
    store: LocalStore, feed: Feed, ana: SessionVM, clock: FakeClock
) -> None:
    store.apply_pull(feed.orders(sold_order_doc("W-5", [("1", "DOG2", 1)], returned={"1": 1})))
    screen = vm(store, ana, clock).find("W-5")
    assert screen.order_id is None and screen.tone == "error"


def test_qty_is_capped_at_what_is_still_returnable(
    store: LocalStore, feed: Feed, ana: SessionVM, clock: FakeClock
) -> None:
    store.apply_pull(feed.orders(sold_order_doc("W-6", [("1", "DOG2", 3)], returned={"1": 1})))
    returns = vm(store, ana, clock)
    line = returns.find("W-6").lines[0]
    assert (line.sold, line.already_returned, line.returnable, line.qty) == (3, 1, 2, 0)
    too_many = returns.set_qty("1", 3)
    assert (too_many.tone, too_many.message) == (
        "error",
        "Dog Food 2 kg: 2 of 3 can still be returned.",
    )
    assert too_many.lines[0].qty == 0
    returns.scan(gtin(1))
    assert returns.scan(gtin(1)).lines[0].qty == 2
    third = returns.scan(gtin(1))
    assert third.tone == "error" and third.lines[0].qty == 2


def test_restock_only_for_sellable_and_the_disposition_follows_the_condition(
    store: LocalStore, sold: None, ana: SessionVM, clock: FakeClock
) -> None:
    returns = vm(store, ana, clock)
    returns.find("W-1")
    returns.set_qty("1", 1)
    damaged = returns.set_condition("1", "damaged")
    line = damaged.lines[0]
    assert (line.disposition, line.dispositions) == (
        "damaged_bin",
        ("damaged_bin", "return_to_vendor"),
    )
    refused = returns.set_disposition("1", "restock")
    assert refused.tone == "error"
    assert refused.message == "Only sellable goods go back on the shelf: Dog Food 2 kg is damaged."
    assert returns.set_condition("1", "defective").lines[0].disposition == "return_to_vendor"
    assert returns.set_condition("1", "sellable").lines[0].disposition == "restock"
    assert returns.set_disposition("1", "damaged_bin").lines[0].disposition == "damaged_bin"


def test_refund_summary_and_receipt_like_confirmation(
    store: LocalStore, sold: None, ana: SessionVM, clock: FakeClock
) -> None:
    returns = vm(store, ana, clock)
    returns.find("W-1")
    returns.set_qty("1", 2)
    returns.set_condition("1", "sellable")
    returns.set_qty("2", 1)
    screen = returns.set_condition("2", "damaged")
    s = screen.summary
    assert s is not None
    assert (s.units, s.refund, s.to_shelf, s.to_damaged, s.breaches) == (
        3,
        Decimal("29.97"),
        2,
        1,
        (),
    )
    assert s.refund_text == "Refund 29.97 to the original payment"
    done = returns.submit()
    assert (done.done, done.tone, done.message) == (True, "ok", "Return saved.")
    assert done.confirmation == (
        "Refund 29.97 to the original payment · 2 back on shelf A-12 · 1 to the damaged bin"
    )
    assert [(r.order_id, r.units, r.refund, r.state, r.pending) for r in done.today] == [
        ("W-1", 3, "29.97", "Refund requested", True)
    ]
    [op] = store.outbox()
    assert (op.type, op.actor_id, op.payload["order_id"]) == ("return.receive", "E1", "W-1")
    order = store.order("W-1")
    assert order is not None
    assert [x.returned for x in order.lines] == [2, 1]
    assert vm(store, ana, clock).find("W-1").tone == "error"  # nothing left to return


def test_other_needs_a_note_and_an_empty_return_is_a_sentence(
    store: LocalStore, sold: None, ana: SessionVM, clock: FakeClock
) -> None:
    returns = vm(store, ana, clock)
    returns.find("W-1")
    assert returns.submit().message == "Choose at least one item that comes back."
    returns.set_qty("2", 1)
    returns.set_reason("2", "other")
    assert returns.submit().message == "Steel Bowl: say in the note why it comes back."
    returns.set_note("2", "gift duplicate")
    assert returns.submit().done
    assert store.outbox()[0].payload["lines"][0]["note"] == "gift duplicate"


def test_outside_the_window_needs_another_manager_pin(
    store: LocalStore, sold: None, ana: SessionVM, clock: FakeClock
) -> None:
    returns = vm(store, ana, clock)
    returns.find("W-2")
    screen = returns.set_qty("1", 1)
    assert screen.summary is not None
    assert screen.summary.breaches == ("Sold 40 days ago: returns are accepted for 30 days",)
    blocked = returns.submit()
    assert (blocked.tone, blocked.done) == ("warning", False)
    assert blocked.message.endswith("A manager approves it here with their employee id and PIN.")
    assert returns.approve("M1", "0000").message == (
        "The manager's PIN was refused. Wrong PIN. 4 tries left before a manager must unlock M1."
    )
    assert (
        returns.approve("E2", "5678").message
        == "Ben is not a manager: a manager approves returns outside policy."
    )
    assert store.outbox() == []
    done = returns.approve("M1", "9999", "loyal customer")
    assert (done.done, done.message) == (True, "Return saved, approved by Maria.")
    assert done.confirmation == "Refund 9.99 to the original payment · 1 back on shelf B-03"
    receive, override = store.outbox()
    assert (receive.seq, receive.type, receive.actor_id) == (1, "return.receive", "E1")
    assert (override.seq, override.type, override.actor_id) == (2, "return.override", "M1")
    assert override.payload == {
        "return_id": receive.payload["return_id"],
        "reason": "loyal customer",
    }
    record = store.get_return(receive.payload["return_id"])
    assert record is not None
    assert (record.ret.state.value, record.ret.override_by, record.pending) == (
        "completed",
        "M1",
        True,
    )


def test_the_manager_at_the_desk_cannot_approve_their_own_return(
    store: LocalStore, sold: None, maria: SessionVM, clock: FakeClock
) -> None:
    returns = vm(store, maria, clock)
    returns.find("W-2")
    returns.set_qty("1", 1)
    refused = returns.approve("M1", "9999")
    assert refused.message == "You received this return: another manager approves it."
    assert store.outbox() == []


def test_without_the_order_a_return_on_the_receipt_within_the_offline_limit(
    store: LocalStore, sold: None, ana: SessionVM, clock: FakeClock
) -> None:
    returns = vm(store, ana, clock)
    screen = returns.without_order(" W-77 ")
    assert (screen.mode, screen.receipt) == ("receipt", "W-77")
    returns.scan(gtin(2))
    screen = returns.scan(gtin(2))
    assert [(x.sku, x.qty, x.returnable) for x in screen.lines] == [("DOG12", 2, None)]
    assert screen.summary is not None
    assert screen.summary.breaches == ()
    assert returns.scan("0000000000000").tone == "error"
    done = returns.submit()
    assert done.done
    assert done.confirmation == "Refund 19.98 to the original payment · 2 back on shelf A-14"
    [op] = store.outbox()
    assert (op.payload["receipt"], op.payload["order_id"]) == ("W-77", None)
    assert op.payload["lines"][0]["sku"] == "DOG12"
    assert [r.order_id for r in done.today] == ["W-77"]


def test_without_the_order_over_the_offline_limit_needs_a_manager(
    store: LocalStore, feed: Feed, ana: SessionVM, clock: FakeClock
) -> None:
    store.apply_pull(feed.basics(offline_return_limit="15"))
    returns = vm(store, ana, clock)
    returns.without_order("W-88")
    returns.scan(gtin14_of("BOWL"))
    screen = returns.scan(gtin14_of("BOWL"))
    assert screen.summary is not None
    assert screen.summary.breaches == (
        "19.98 without the order on this tablet is over the offline limit of 15.00",
    )
    assert returns.submit().tone == "warning"
    assert store.outbox() == []
    assert returns.approve("M1", "9999").done
    assert [op.type for op in store.outbox()] == ["return.receive", "return.override"]


def test_a_receipt_number_of_an_order_on_the_tablet_opens_that_order(
    store: LocalStore, sold: None, ana: SessionVM, clock: FakeClock
) -> None:
    screen = vm(store, ana, clock).without_order("W-1")
    assert (screen.mode, screen.order_id) == ("order", "W-1")


def test_rebase_keeps_a_pending_return_after_a_pull_without_it(
    store: LocalStore, feed: Feed, sold: None, ana: SessionVM, clock: FakeClock
) -> None:
    returns = vm(store, ana, clock)
    returns.find("W-1")
    returns.set_qty("1", 1)
    returns.submit()
    # central has not applied it yet: the pull brings the order as it was
    store.apply_pull(
        feed.orders(
            sold_order_doc("W-1", [("1", "DOG2", 2), ("2", "BOWL", 1)], pickup_code="AB12CD")
        )
    )
    order = store.order("W-1")
    assert order is not None
    assert [x.returned for x in order.lines] == [1, 0]
    assert store.order("W-1") is not None
    [row] = vm(store, ana, clock).screen().today
    assert (row.order_id, row.units, row.pending) == ("W-1", 1, True)
    assert vm(store, ana, clock).find("W-1").lines[0].returnable == 1


def test_bad_input_is_a_sentence(
    store: LocalStore, sold: None, ana: SessionVM, clock: FakeClock
) -> None:
    returns = vm(store, ana, clock)
    assert returns.set_qty("1", 1).message == "Choose the order and the item first."
    assert returns.scan("abc").tone == "error"
    assert returns.find("  ").tone == "error"
    assert returns.without_order("").tone == "error"
    returns.find("W-1")
    assert returns.set_reason("1", "bored").message == "Choose a reason from the list."
    assert returns.set_condition("1", "wet").tone == "error"
    assert returns.approve("M1", "9999").message == "Choose at least one item that comes back."
    assert returns.start().mode == "find"


def test_the_clock_only_moves_the_today_list(
    store: LocalStore, sold: None, ana: SessionVM, clock: FakeClock
) -> None:
    returns = vm(store, ana, clock)
    returns.find("W-1")
    returns.set_qty("2", 1)
    assert returns.submit().today
    clock.now = T0 + timedelta(days=1)
    assert returns.start().today == ()
