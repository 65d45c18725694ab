"""A physical fact recorded offline on two tablets is never refused and never told to nobody
(PROTOCOL.md principle 3): associates act through the view-models on real tablet files, the
real SyncEngine carries their work to a real central, and the manager's exception comes back
to the tablets."""

from __future__ import annotations

import re

from storeapp.viewmodels import HandoverVM, StagingVM
from storeapp.viewmodels.console import ExceptionsVM
from tests.support.central import Central, TestStore
from tests.support.tablet import Hands, Tablet
from tests.sync.conftest import MakeTablet


def synced(tablet: Tablet) -> None:
    report = tablet.sync()
    assert report.ok, report.error_in_words


def pick_and_stage(hands: Hands, store: TestStore, oid: str, shelf: str) -> None:
    claimed = hands.queue.claim(oid)
    assert claimed.tone == "ok", claimed.message
    screen = hands.picking.open(claimed.pick_list)
    while screen.current is not None:
        screen = hands.picking.scan(store.gtins[screen.current.sku])
        assert screen.tone == "ok", screen.message
    staging = StagingVM(hands.store, hands.session)
    staging.open(oid)
    staged = staging.stage(shelf)
    assert staged.tone == "ok", staged.message


def hand_over_at_the_desk(hands: Hands, code: str) -> None:
    desk = HandoverVM(hands.store, hands.session)
    found = desk.find(code)
    assert found.order is not None, found.message
    done = desk.hand_over()
    assert (done.tone, done.done) == ("ok", True), done.message


def test_one_bag_handed_over_on_two_offline_tablets_leaves_stock_once_and_tells_a_manager(
    central: Central, store: TestStore, make_tablet: MakeTablet
) -> None:
    sku = store.skus[3]
    oid = central.order(store, [(sku, 2)], pickup_code="AB12CD")["order_id"]
    a, b = make_tablet("tablet-a"), make_tablet("tablet-b")
    synced(a)
    with a.hands("E1", "1111") as ana:
        pick_and_stage(ana, store, oid, "P-1")
        synced(a)
    synced(b)
    assert central.get_order(oid)["state"] == "staged"
    a.transport.unplug()
    b.transport.unplug()

    # the customer is served twice at the desk, once on each tablet, while both are offline
    with a.hands("E1", "1111") as ana, b.hands("E2", "2222") as ben:
        hand_over_at_the_desk(ana, "AB12CD")
        hand_over_at_the_desk(ben, "AB12CD")
        assert a.sync().offline and b.sync().offline

        a.transport.plug_in()
        b.transport.plug_in()
        first, second = a.sync(), b.sync()
        assert [(r.ok, r.pushed, r.attention) for r in (first, second)] == [
            (True, 1, 0),
            (True, 1, 1),
        ]
        synced(a)

        # central: the sale stands once, the bag left the ledger once
        order = central.get_order(oid)
        assert (order["state"], order["lines"][0]["handed_over"]) == ("handed_over", 2)
        assert sum(m["qty"] for m in central.ledger(store, sku) if m["kind"] == "handoff") == 2
        assert central.stock(store, sku)["on_hand"] == 18

        # Ben's tablet: what happened, who did it first, and what happens next
        [row] = ben.sync_status.screen().attention
        assert (row.what, row.code, row.who) == (
            f"Hand-over of 2 item(s) of order {oid}",
            "ALREADY_HANDED_OVER",
            "Ben",
        )
        assert re.fullmatch(
            rf"Order {oid} was already handed over by Ana at \d\d:\d\d: a manager will check"
            r" the pickup shelf and call the customer",
            row.result,
        )
        assert row.action == (
            "Nothing to do on the shelf: a manager checks the pickup shelf and calls the customer"
        )
        assert ana.sync_status.screen().attention == ()

    # a manager on the other tablet sees it on the Exceptions screen
    with a.hands("M1", "999999") as maria:
        [told] = ExceptionsVM(maria.store, maria.session).screen().rows
        assert (told.code, told.order_id, told.who) == ("ALREADY_HANDED_OVER", oid, "Ben")
        assert re.fullmatch(
            rf"Order {oid} handed over twice: Ben at \d\d:\d\d after Ana at \d\d:\d\d — stock"
            r" left the store once; check the pickup shelf and call the customer",
            told.what,
        )
        assert told.action == "Check the pickup shelf for the bag, then call the customer"
    synced(b)
    assert a.docs() == b.docs()  # both replicas hold central's truth
