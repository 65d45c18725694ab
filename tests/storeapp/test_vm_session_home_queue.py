"""View-models: sign in, home tiles, pick queue."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from storeapp.local import LocalStore
from storeapp.viewmodels import HomeVM, QueueVM, SessionVM
from storeapp.viewmodels.session import Associate
from tests.storeapp.builders import T0, Feed, order_doc
from tests.storeapp.conftest import FakeClock


def test_sign_in_with_the_right_pin_names_the_associate(store: LocalStore) -> None:
    screen = SessionVM(store).sign_in(" E1 ", "1234")
    assert (screen.associate, screen.message, screen.tone) == (
        Associate("E1", "Ana", "associate"),
        "Hello, Ana.",
        "ok",
    )


def test_sign_in_with_a_wrong_pin_says_so_and_stays_signed_out(store: LocalStore) -> None:
    session = SessionVM(store)
    screen = session.sign_in("E1", "9999")
    assert (screen.signed_in, screen.message, screen.tone) == (
        False,
        "Wrong PIN. 4 tries left before a manager must unlock E1.",
        "error",
    )
    assert session.sign_in("E1", "").message == "Enter your PIN."
    assert (  # an id nobody has is answered the same way: the id's existence is not told
        session.sign_in("NOBODY", "1234").message
        == "Wrong PIN. 4 tries left before a manager must unlock NOBODY."
    )


def test_sign_in_before_any_staff_was_pulled_explains_what_to_do(db_path: Path) -> None:
    from storeapp.local import LocalStore

    with LocalStore(db_path) as empty:
        assert (
            SessionVM(empty).sign_in("E1", "1234").message.startswith("No staff on this tablet yet")
        )


def test_sign_out_forgets_the_associate(ana: SessionVM) -> None:
    assert ana.sign_out().message == "Signed out Ana."
    assert ana.associate is None


def test_home_counts_orders_to_pick_late_ones_ready_for_pickup_and_attention(
    store: LocalStore, feed: Feed, ana: SessionVM, maria: SessionVM, clock: FakeClock
) -> None:
    store.apply_pull(
        feed.orders(
            order_doc("P-1", [("1", "DOG2", 1)], due_in=timedelta(minutes=-10)),
            order_doc("P-2", [("1", "DOG2", 1)]),
            order_doc("P-3", [("1", "DOG2", 1)], state="picking", assignee="E2"),  # Ben's
            order_doc("S-1", [("1", "BOWL", 1)], type="ship_from_store"),
            order_doc("P-4", [("1", "BOWL", 1)], state="staged", picked={"1": 1}),
        )
    )
    home = HomeVM(store, ana, clock=clock).screen()
    assert (
        home.to_pick_pickup,
        home.to_pick_pickup_late,
        home.to_pick_sfs,
        home.to_pick_sfs_late,
    ) == (2, 1, 1, 0)
    assert (home.ready_for_pickup, home.tasks, home.attention, home.queue) == (1, 0, 0, None)
    manager = HomeVM(store, maria, clock=clock).screen()
    assert (manager.is_manager, manager.queue, manager.queue_late) == (True, 4, 1)


def test_queue_sorts_by_priority_then_due_time_and_marks_late_and_at_risk(
    store: LocalStore, feed: Feed, ana: SessionVM, clock: FakeClock
) -> None:
    store.apply_pull(
        feed.orders(
            order_doc("A", [("1", "DOG2", 1)], due_in=timedelta(hours=3)),
            order_doc("B", [("1", "DOG2", 1)], due_in=timedelta(minutes=20)),
            order_doc("C", [("1", "DOG2", 2)], due_in=timedelta(minutes=-15)),
            order_doc("D", [("1", "DOG2", 1)], due_in=timedelta(hours=5), priority=2),
            order_doc("E", [("1", "DOG2", 1)], state="picking", assignee="E2"),  # Ben's: hidden
        )
    )
    screen = QueueVM(store, ana, clock=clock).screen()
    assert [(r.order_id, r.late, r.at_risk, r.time_left) for r in screen.rows] == [
        ("D", False, False, "5 h left"),
        ("C", True, False, "late 15 min"),
        ("B", False, True, "20 min left"),
        ("A", False, False, "3 h left"),
    ]
    assert (screen.late, screen.at_risk) == (1, 1)


def test_claiming_one_order_opens_it_as_a_pick_list(
    store: LocalStore, feed: Feed, ana: SessionVM, clock: FakeClock
) -> None:
    store.apply_pull(feed.orders(order_doc("A", [("1", "DOG2", 1)])))
    changes = []
    queue = QueueVM(store, ana, clock=clock, on_change=lambda: changes.append(1))
    screen = queue.claim("A")
    assert (screen.pick_list, screen.message, screen.tone) == (
        ("A",),
        "1 order is yours — start picking.",
        "ok",
    )
    assert [(r.order_id, r.mine, r.state) for r in screen.rows] == [("A", True, "picking")]
    assert changes == [1]


def test_selecting_several_orders_claims_each_into_one_pick_list_up_to_the_policy_limit(
    store: LocalStore, feed: Feed, ana: SessionVM, clock: FakeClock
) -> None:
    store.apply_pull(feed.basics(max_orders_per_pick_list=2))
    store.apply_pull(feed.orders(*(order_doc(x, [("1", "DOG2", 1)]) for x in "ABC")))
    queue = QueueVM(store, ana, clock=clock)
    queue.toggle("A")
    queue.toggle("B")
    refused = queue.toggle("C")
    assert (refused.selected, refused.message) == (
        ("A", "B"),
        "A pick list holds at most 2 orders.",
    )
    screen = queue.pick_selected()
    assert (screen.pick_list, screen.selected) == (("A", "B"), ())
    assert [x["type"] for x in store.pending(10)] == ["order.claim", "order.claim"]


def test_a_claim_another_associate_won_is_a_message(
    store: LocalStore, feed: Feed, clock: FakeClock
) -> None:
    store.apply_pull(
        feed.orders(
            order_doc("A", [("1", "DOG2", 1)], state="picking", assignee="E2", assignee_name="Ben")
        )
    )
    maria = SessionVM(store)
    maria.sign_in("M1", "9999")
    screen = QueueVM(store, maria, clock=clock).claim("A")
    assert (screen.pick_list, screen.message, screen.tone) == (
        (),
        "A: Picked by Ben since 09:00",
        "error",
    )
    assert store.pending(10) == []


def test_managers_reprioritize_and_associates_may_not(
    store: LocalStore, feed: Feed, ana: SessionVM, maria: SessionVM, clock: FakeClock
) -> None:
    store.apply_pull(feed.orders(order_doc("A", [("1", "DOG2", 1)])))
    assert (
        QueueVM(store, ana, clock=clock).prioritize("A", 9).message == "Only a manager can do this"
    )
    screen = QueueVM(store, maria, clock=clock).prioritize("A", 9)
    assert (screen.message, screen.rows[0].priority) == ("A now has priority 9.", 9)
    assert T0 == clock()


def test_a_manager_assigns_an_order_to_an_associate_chosen_by_name(
    store: LocalStore, feed: Feed, ana: SessionVM, maria: SessionVM, clock: FakeClock
) -> None:
    store.apply_pull(feed.orders(order_doc("A", [("1", "DOG2", 1)])))
    queue = QueueVM(store, maria, clock=clock)
    assert queue.screen().associates == (("E1", "Ana"), ("E2", "Ben"), ("M1", "Maria"))
    assert QueueVM(store, ana, clock=clock).screen().associates == ()
    screen = queue.assign("A", "E2")
    assert screen.tone == "ok"
    row = next(r for r in screen.rows if r.order_id == "A")
    assert (row.assignee, row.assignee_name) == ("E2", "Ben")
    assert [(op["type"], op["payload"]) for op in store.pending(10)] == [
        ("order.assign", {"order_id": "A", "associate_id": "E2"})
    ]
