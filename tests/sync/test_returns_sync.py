"""Returns taken at the desk while offline, end to end: the associate works through the
returns view-model on a real tablet file, the real SyncEngine carries the return to a real
central, and what central made of it comes back to the screens (DOMAIN.md, Returns;
PROTOCOL.md, "the same return line from two tablets")."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from tests.support.central import Central, TestStore, ok
from tests.support.selling import sell
from tests.support.tablet import Hands, Tablet
from tests.sync.conftest import MakeTablet

ANA, BEN = ("E1", "1111"), ("E2", "2222")


def synced(tablet: Tablet) -> None:
    report = tablet.sync()
    assert report.ok, report.error_in_words


def returns_of(central: Central, store: TestStore, order_id: str) -> list[dict[str, Any]]:
    response = central.oms.get(
        f"/v1/oms/stores/{store.store_id}/returns", params={"order_id": order_id}
    )
    return list(ok(response))


def bring_back(hands: Hands, order_id: str, qty: int = 1) -> str:
    """Find the sale by its number, take `qty` sellable units of its first line back."""
    found = hands.returns.find(order_id)
    assert [m.order_id for m in found.matches] == [order_id], found.message
    screen = hands.returns.select(order_id)
    screen = hands.returns.set_qty(screen.lines[0].key, qty)
    assert screen.summary is not None
    assert not screen.summary.needs_manager, screen.summary.breaches
    done = hands.returns.submit()
    assert done.tone == "ok", done.message
    return done.confirmation


def test_a_return_taken_offline_reaches_central_once_and_restocks_its_shelf(
    central: Central, store: TestStore, make_tablet: MakeTablet
) -> None:
    sku = store.skus[0]
    oid = sell(central, store, [(sku, 2)])
    on_hand = central.stock(store, sku)["on_hand"]
    tablet = make_tablet()
    synced(tablet)
    tablet.transport.unplug()

    with tablet.hands(*ANA) as ana:
        said = bring_back(ana, oid)
        assert said == "Refund 4.99 to the original payment · 1 back on shelf A-01-1"
        assert tablet.sync().offline
        assert [r.pending for r in ana.returns.screen().today] == [True]

        # back online; central commits but its answer is lost: the retry must not refund twice
        tablet.transport.plug_in()
        tablet.transport.lose_response("/v1/sync/push")
        assert not tablet.sync().ok
        synced(tablet)

        [row] = ana.returns.screen().today
        assert (row.pending, row.state, row.refund) == (False, "Refund requested", "4.99")
        order = ana.store.order(oid)
        assert order is not None
        assert order.lines[0].returned == 1
        assert ana.sync_status.screen().attention == ()

    [ret] = returns_of(central, store, oid)
    assert ret["state"] == "completed"
    assert [Decimal(str(r["amount"])) for r in ret["refunds"]] == [Decimal("4.99")]
    assert central.get_order(oid)["lines"][0]["returned"] == 1
    assert central.stock(store, sku)["on_hand"] == on_hand + 1
    restocks = [m for m in central.ledger(store, sku) if m["kind"] == "return_restock"]
    assert [(m["qty"], m["actor"]) for m in restocks] == [(1, "E1")]


def test_the_same_unit_returned_on_two_tablets_offline_is_refunded_once(
    central: Central, store: TestStore, make_tablet: MakeTablet
) -> None:
    sku = store.skus[1]
    oid = sell(central, store, [(sku, 1)])
    a, b = make_tablet("tablet-a"), make_tablet("tablet-b")
    for tablet in (a, b):
        synced(tablet)
        tablet.transport.unplug()
    with a.hands(*ANA) as ana, b.hands(*BEN) as ben:
        bring_back(ana, oid)
        bring_back(ben, oid)  # each tablet believes the unit is still returnable

        for tablet in (a, b):
            tablet.transport.plug_in()
            synced(tablet)
        synced(a)

        [attention] = ben.sync_status.screen().attention
        assert attention.code == "ALREADY_RETURNED"
        assert re.fullmatch(
            r"Already returned on tablet-a at \d\d:\d\d: 1 × Item 2 refused", attention.result
        ), attention.result
        assert ana.sync_status.screen().attention == ()
        for hands in (ana, ben):  # both tablets agree with central: one unit back
            order = hands.store.order(oid)
            assert order is not None
            assert order.lines[0].returned == 1

    returns = returns_of(central, store, oid)
    assert len(returns) == 1
    assert sum(len(r["refunds"]) for r in returns) == 1
    exceptions = ok(central.oms.get(f"/v1/oms/stores/{store.store_id}/exceptions"))
    assert [e["code"] for e in exceptions] == ["ALREADY_RETURNED"]


def test_an_order_older_than_the_tablet_holds_is_found_on_central_and_returned(
    central: Central, store: TestStore, make_tablet: MakeTablet
) -> None:
    sku = store.skus[0]
    old = sell(central, store, [(sku, 2)], days_ago=100)  # past two 30-day windows
    tablet = make_tablet()
    synced(tablet)  # the first download leaves it out

    with tablet.hands(*ANA, online_lookup=True) as ana:
        assert ana.store.order(old) is None
        asking = ana.returns.find(old)
        assert asking.looking_up == old and "asking central" in asking.message
        ana.returns.look_up()
        found = ana.returns.looked_up()
        assert (found.order_id, found.tone) == (old, "ok"), found.message
        assert "found on central" in found.message
        assert [line.returnable for line in found.lines] == [2]

        tablet.transport.unplug()  # from here it works as for any order, offline too
        assert ana.returns.find(old).order_id == old
        screen = ana.returns.set_qty(found.lines[0].key, 1)
        assert screen.summary is not None and screen.summary.needs_manager  # 100 days old
        done = ana.returns.approve("M1", "999999")
        assert done.done, done.message

        tablet.transport.plug_in()
        synced(tablet)
        order = ana.store.order(old)
        assert order is not None and order.lines[0].returned == 1

    [ret] = returns_of(central, store, old)
    assert ret["state"] == "completed"
    assert central.get_order(old)["lines"][0]["returned"] == 1


def test_offline_the_desk_says_the_order_may_be_older_than_the_tablet_holds(
    central: Central, store: TestStore, make_tablet: MakeTablet
) -> None:
    old = sell(central, store, [(store.skus[0], 1)], days_ago=100)
    tablet = make_tablet()
    synced(tablet)
    tablet.transport.unplug()

    with tablet.hands(*ANA, online_lookup=True) as ana:
        ana.returns.find(old)
        ana.returns.look_up()
        said = ana.returns.looked_up()
        assert (said.mode, said.tone) == ("find", "warning")
        assert f"Order {old} is not on this tablet" in said.message
        assert "older than the 60 days of orders this tablet holds" in said.message
        assert "central cannot be reached" in said.message
        assert "return without the order" in said.message
        # the way the message points to: the receipt
        assert ana.returns.without_order(old).mode == "receipt"

        tablet.transport.plug_in()
        ana.returns.find("NO-SUCH-1")
        ana.returns.look_up()
        unknown = ana.returns.looked_up()
        assert unknown.tone == "error" and "on this tablet or on central" in unknown.message
