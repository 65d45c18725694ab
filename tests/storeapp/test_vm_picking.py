"""View-model: a two-order pick list, scan by scan, to staging."""

from __future__ import annotations

import pytest

from storeapp.local import LocalStore
from storeapp.viewmodels import PickListVM, QueueVM, SessionVM, StagingVM
from tests.storeapp.builders import Feed, gtin, order_doc
from tests.storeapp.conftest import FakeClock


@pytest.fixture
def two_orders(store: LocalStore, feed: Feed, ana: SessionVM, clock: FakeClock) -> PickListVM:
    """W-1 wants 1 Dog Food 2 kg + 1 Bowl, W-2 wants 2 Dog Food 2 kg; both claimed by Ana."""
    store.apply_pull(
        feed.orders(
            order_doc("W-1", [("1", "DOG2", 1), ("2", "BOWL", 1)]),
            order_doc(
                "W-2", [("1", "DOG2", 2)], customer=("Lee Park", "lee@example.com", "555 0100")
            ),
        )
    )
    queue = QueueVM(store, ana, clock=clock)
    queue.toggle("W-1")
    queue.toggle("W-2")
    assert queue.pick_selected().pick_list == ("W-1", "W-2")
    return PickListVM(store, ana, clock=clock)


def test_opening_a_pick_list_walks_stops_in_location_order_with_a_tote_per_order(
    two_orders: PickListVM,
) -> None:
    screen = two_orders.open(["W-1", "W-2"])
    assert [(s.name, s.location, s.qty) for s in screen.stops] == [
        ("Dog Food 2 kg", "A-12", 3),
        ("Steel Bowl", "C-01", 1),
    ]
    assert [(t.order_id, t.tote) for t in screen.totes] == [("W-1", "Tote 1"), ("W-2", "Tote 2")]
    assert [(s.tote, s.qty) for s in screen.stops[0].splits] == [("Tote 1", 1), ("Tote 2", 2)]
    assert (screen.current_index, screen.done_units, screen.total_units, screen.progress) == (
        0,
        0,
        4,
        0.0,
    )


def test_a_scan_of_several_units_splits_across_totes_as_one_op_per_tote(
    two_orders: PickListVM, store: LocalStore
) -> None:
    two_orders.open(["W-1", "W-2"])
    screen = two_orders.scan(gtin(1), qty=3)
    assert (screen.message, screen.tone) == ("Dog Food 2 kg: 1 in Tote 1, 2 in Tote 2", "ok")
    scans = [x for x in store.pending(10) if x["type"] == "pick.scan"]
    assert [
        (x["payload"]["order_id"], x["payload"]["line_id"], x["payload"]["qty"]) for x in scans
    ] == [
        ("W-1", "1", 1),
        ("W-2", "1", 2),
    ]
    assert (screen.current_index, screen.stops[0].done, screen.done_units) == (1, True, 3)


def test_a_wrong_scan_names_both_items_and_writes_nothing(
    two_orders: PickListVM, store: LocalStore
) -> None:
    two_orders.open(["W-1", "W-2"])
    screen = two_orders.scan(gtin(2))
    assert (screen.message, screen.tone) == (
        "This is Dog Food 12 kg — the list wants Dog Food 2 kg at A-12.",
        "error",
    )
    assert two_orders.scan("12345").message.endswith("this has 5.")
    assert len(store.pending(10)) == 2  # the two claims only


def test_over_picking_says_how_many_to_put_back(two_orders: PickListVM, store: LocalStore) -> None:
    two_orders.open(["W-1", "W-2"])
    too_many = two_orders.scan(gtin(1), qty=5)
    assert (too_many.message, too_many.tone) == (
        "Only 3 more Dog Food 2 kg needed, not 5: put 2 back at A-12.",
        "error",
    )
    two_orders.scan(gtin(1), qty=3)
    again = two_orders.scan(gtin(1))
    assert again.message == "Dog Food 2 kg is already complete (3 of 3): put it back at A-12."
    assert len(store.pending(10)) == 4


def test_unscan_puts_the_last_scanned_units_back(two_orders: PickListVM) -> None:
    two_orders.open(["W-1", "W-2"])
    two_orders.scan(gtin(1), qty=2)
    screen = two_orders.unscan()
    assert screen.message == "Put 1 × Dog Food 2 kg back at A-12."
    assert [(s.order_id, s.picked) for s in screen.stops[0].splits] == [("W-1", 1), ("W-2", 0)]


def test_short_marks_the_current_stops_remaining_units_and_finish_stages_the_rest(
    two_orders: PickListVM, store: LocalStore, ana: SessionVM, clock: FakeClock
) -> None:
    two_orders.open(["W-1", "W-2"])
    two_orders.scan(gtin(1), qty=3)
    assert two_orders.finish().message == "1 unit(s) still to pick or mark short."
    shorted = two_orders.short("not_found")
    assert (
        shorted.message == "1 × Steel Bowl marked short (not found): a recount of C-01 will follow."
    )
    assert (shorted.can_finish, shorted.progress) == (True, 1.0)
    done = two_orders.finish()
    assert (done.finished, done.to_stage, done.sent_back) == (True, ("W-1", "W-2"), ())
    staging = StagingVM(store, ana, clock=clock)
    assert [o.order_id for o in staging.screen().waiting] == ["W-1", "W-2"]
    staging.open("W-1")
    staged = staging.stage("p-07")
    assert staged.current is not None
    assert (staged.message, staged.current.state) == ("W-1 is ready for pickup at P-07.", "staged")


def test_finish_sends_back_a_fully_short_order(two_orders: PickListVM, store: LocalStore) -> None:
    two_orders.open(["W-1", "W-2"])
    two_orders.scan(gtin(1), qty=1)  # W-1's dog food only
    two_orders.select(0)
    two_orders.short("damaged")  # W-2's two dog food
    two_orders.scan(gtin(4))  # W-1's bowl
    done = two_orders.finish()
    assert (done.to_stage, done.sent_back) == (("W-1",), ("W-2",))
    order_w2 = store.order("W-2")
    assert order_w2 is not None
    assert order_w2.state.value == "rejected"
    assert order_w2.reason == "nothing could be picked"  # what the OMS is told


def test_finish_sends_back_a_partly_short_order_when_the_store_refuses_partial_ones(
    store: LocalStore, feed: Feed, ana: SessionVM, clock: FakeClock
) -> None:
    store.apply_pull(feed.basics(allow_partial=False))
    store.apply_pull(feed.orders(order_doc("W-1", [("1", "DOG2", 1), ("2", "BOWL", 1)])))
    QueueVM(store, ana, clock=clock).claim("W-1")
    picking = PickListVM(store, ana, clock=clock)
    picking.open(["W-1"])
    picking.scan(gtin(1))
    picking.short("not_found")
    done = picking.finish()
    assert (done.to_stage, done.sent_back) == ((), ("W-1",))
    order_w1 = store.order("W-1")
    assert order_w1 is not None
    assert order_w1.reason == "partly short and the store sends no partial orders"
    assert done.banners == ("Order W-1 was sent back to the online store: put its 1 item(s) back.",)


def test_an_order_cancelled_while_picking_leaves_the_list_with_a_banner(
    two_orders: PickListVM, store: LocalStore, feed: Feed
) -> None:
    two_orders.open(["W-1", "W-2"])
    two_orders.scan(gtin(1), qty=3)
    store.apply_pull(feed.orders(order_doc("W-2", [("1", "DOG2", 2)], state="cancelled")))
    screen = two_orders.screen()
    assert screen.banners == ("Order W-2 was cancelled: put its 2 item(s) back.",)
    assert [t.order_id for t in screen.totes] == ["W-1"]


def test_shipping_a_ship_from_store_order_after_packing(
    store: LocalStore, feed: Feed, ana: SessionVM, clock: FakeClock
) -> None:
    store.apply_pull(feed.orders(order_doc("S-1", [("1", "BOWL", 1)], type="ship_from_store")))
    QueueVM(store, ana, clock=clock).claim("S-1")
    picking = PickListVM(store, ana, clock=clock)
    picking.open(["S-1"])
    picking.scan(gtin(4))
    assert picking.finish().to_stage == ("S-1",)
    staging = StagingVM(store, ana, clock=clock)
    staging.open("S-1")
    packed = staging.stage("PACK-1", packages=1).current
    assert packed is not None
    assert packed.next_step == "ship"
    assert staging.ship("DHL", "12").message == "Scan or type the tracking number."
    shipped = staging.ship("DHL", "JD0001")
    assert shipped.current is not None
    assert (shipped.message, shipped.current.state) == ("S-1 shipped with DHL (JD0001).", "shipped")


def test_the_carriers_to_choose_from_are_the_stores(
    store: LocalStore, feed: Feed, ana: SessionVM, clock: FakeClock
) -> None:
    staging = StagingVM(store, ana, clock=clock)
    assert staging.screen().carriers == ("DPD", "DHL", "UPS", "FedEx", "Royal Mail")
    store.apply_pull(feed.basics(carriers=["Evri", "DPD"]))  # central changed the store's policy
    assert staging.screen().carriers == ("Evri", "DPD")
