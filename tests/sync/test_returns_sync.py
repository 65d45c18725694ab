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
