"""The hand-over screen's contact dialog (issue #11 loose end): correct the customer's email
or phone and send the ready-for-pickup notice again; both queued as ops, offline too."""

from __future__ import annotations

from storeapp.local import LocalStore
from storeapp.viewmodels import HandoverVM, SessionVM
from tests.storeapp.builders import Feed, order_doc
from tests.storeapp.conftest import FakeClock


def _staged(store: LocalStore, feed: Feed) -> None:
    store.apply_pull(
        feed.orders(
            order_doc(
                "W-1",
                [("1", "DOG2", 1)],
                state="staged",
                picked={"1": 1},
                pickup_code="AB12CD",
                customer=("Jo Smith", "jo@exmaple.com", "555 0100"),
            ),
            order_doc("W-3", [("1", "CAT1", 1)], pickup_code="QQ11QQ"),  # not picked yet
        )
    )


def _queued(store: LocalStore) -> list[tuple[str, dict[str, object]]]:
    return [(op.type, dict(op.payload)) for op in store.outbox()]


def test_a_mistyped_email_is_corrected_on_screen_and_queued_for_central(
    store: LocalStore, feed: Feed, ana: SessionVM, clock: FakeClock
) -> None:
    _staged(store, feed)
    changes: list[None] = []
    vm = HandoverVM(store, ana, clock=clock, on_change=lambda: changes.append(None))
    vm.find("AB12CD")
    s = vm.change_contact(" jo@example.com ", "555 0100")
    assert (s.message, s.tone) == ("Contact corrected.", "ok")
    assert s.order is not None
    assert (s.order.email, s.order.phone) == ("jo@example.com", "555 0100")
    assert s.order.verified_by == "pickup_code"  # the check done before is kept
    assert _queued(store) == [
        ("order.contact", {"order_id": "W-1", "email": "jo@example.com", "phone": "555 0100"})
    ]
    again = vm.notify()
    assert (again.message, again.tone) == ("The notice goes out again.", "ok")
    assert [t for t, _ in _queued(store)] == ["order.contact", "order.notify"]
    assert len(changes) == 2  # each one pokes the sync engine


def test_an_empty_or_invalid_contact_is_refused_in_words_and_nothing_is_queued(
    store: LocalStore, feed: Feed, ana: SessionVM, clock: FakeClock
) -> None:
    _staged(store, feed)
    vm = HandoverVM(store, ana, clock=clock)
    assert vm.change_contact("", "").message == "Choose the order first."
    vm.find("AB12CD")
    empty = vm.change_contact("  ", None)
    assert (empty.message, empty.tone) == ("Type the new email or phone.", "error")
    bad = vm.change_contact("not an email", None)
    assert (bad.message, bad.tone) == (
        "“not an email” is not an email address (like name@example.com).",
        "error",
    )
    phone = vm.change_contact(None, "call me")
    assert (phone.message, phone.tone) == (
        "“call me” is not a phone number: digits, spaces and + ( ) - only.",
        "error",
    )
    assert bad.order is not None and bad.order.email == "jo@exmaple.com"
    assert _queued(store) == []


def test_the_notice_is_not_resent_before_the_order_is_ready(
    store: LocalStore, feed: Feed, ana: SessionVM, clock: FakeClock
) -> None:
    _staged(store, feed)
    vm = HandoverVM(store, ana, clock=clock)
    assert vm.notify().message == "Choose the order first."
    assert vm.select("W-3").message == "Order W-3 is not ready for pickup."
    assert _queued(store) == []


def test_an_id_type_without_its_last_digits_is_not_taken_as_the_id(
    store: LocalStore, feed: Feed, ana: SessionVM, clock: FakeClock
) -> None:
    _staged(store, feed)
    vm = HandoverVM(store, ana, clock=clock)
    vm.find("AB12CD")
    half = vm.collector("customer", id_type="passport", id_last4=" ")
    assert (half.message, half.tone) == (
        "Type the ID's last 2 to 4 characters, then its type.",
        "error",
    )
    assert half.order is not None and (half.order.id_type, half.order.id_last4) == (None, None)
    whole = vm.collector("customer", id_type="passport", id_last4="4821")
    assert whole.order is not None and (whole.order.id_type, whole.order.id_last4) == (
        "passport",
        "4821",
    )
