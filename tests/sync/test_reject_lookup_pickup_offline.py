"""Issue #11 on a real tablet: a line rejected offline reaches central when the network is
back; the stock lookup shows the tablet's copy offline and the chain's other stores online;
a hand-over to the alternate with ID digits reaches central."""

from __future__ import annotations

from typing import cast

from storeapp.viewmodels.lookup import OFFLINE, LookupVM
from storeapp.viewmodels.rejecting import RejectionsVM, RejectVM
from storeapp.viewmodels.tab import lookup_of
from sync.protocol import StockLookup
from tests.support.central import Central, TestStore, ok
from tests.sync.conftest import MakeTablet


def test_a_line_rejected_as_damaged_offline_is_shown_at_once_and_reaches_central(
    central: Central, store: TestStore, make_tablet: MakeTablet
) -> None:
    sku = store.skus[0]
    order_id = central.order(store, [(sku, 2)])["order_id"]
    tablet = make_tablet()
    tablet.sync()
    tablet.transport.unplug()
    with tablet.hands("E1", "1111") as ana:
        ana.queue.claim(order_id)
        done = RejectVM(ana.store, ana.session).reject_units([(order_id, "1")], 1, "damaged")
        assert (done.tone, done.message) == (
            "ok",
            "1 unit(s) rejected: Damaged (to the damaged bin).",
        )
        line = ana.store.order(order_id)
        assert line is not None and line.lines[0].rejected == 1
    report = tablet.sync()  # offline: nothing reaches central
    assert central.get_order(order_id)["lines"][0]["rejected"] == 0, report
    tablet.transport.plug_in()
    tablet.sync()
    assert central.get_order(order_id)["lines"][0]["rejected"] == 1
    assert central.stock(store, sku)["on_hand"] == 19
    with tablet.hands("M1", "999999") as maria:
        [row] = RejectionsVM(maria.store, maria.session).screen().rows
        assert (row.order_id, row.reason, row.who) == (
            order_id,
            "Damaged — to the damaged bin",
            "Ana",
        )


def test_the_stock_lookup_says_offline_then_names_the_other_stores_online(
    central: Central, store: TestStore, make_tablet: MakeTablet
) -> None:
    sku = store.skus[0]
    other = central.new_store(stock=4)
    tablet = make_tablet()
    tablet.sync()
    with tablet.hands("E1", "1111") as ana:
        identity = ana.store.identity()
        assert identity is not None

        def fetch(wanted: str) -> StockLookup:
            with tablet.client(identity) as client:
                return client.stock_nearby(wanted)

        vm = LookupVM(ana.store, ana.session, fetch=fetch)
        found = vm.find(store.gtins[sku])
        assert found.item is not None and found.item.sku == sku
        assert found.totals == (20, 0, 20)
        assert [p.home for p in found.places] == [True]
        tablet.transport.unplug()
        offline = vm.nearby()
        assert (offline.online, offline.message) == (False, OFFLINE)
        tablet.transport.plug_in()
        online = vm.nearby()
        assert online.online is True
        assert (other.store_id, 4) in [(n.store_id, n.available) for n in online.nearby]
        assert vm.find("Item 1").item is not None  # by name
        assert len(vm.find("Item").matches) == 6
        # the app's own fetch, from the identity (no transport override: real loopback)
        real = LookupVM(ana.store, ana.session, fetch=lookup_of(identity))
        real.find(sku)
        assert real.nearby().online is True


def test_a_hand_over_to_the_alternate_with_id_digits_reaches_central(
    central: Central, store: TestStore, make_tablet: MakeTablet
) -> None:
    sku = store.skus[0]
    order_id = f"W-ALT-{store.store_id}"
    body = {
        "order_id": order_id,
        "store_id": store.store_id,
        "type": "pickup",
        "customer": {"name": "Olivia Brown"},
        "alternate": {"name": "Bo Brown"},
        "id_required": True,
        "due_at": "2100-01-01T00:00:00Z",
        "lines": [{"line_id": "1", "sku": sku, "qty": 1}],
    }
    ok(central.oms.post("/v1/oms/orders", json=body))
    tablet = make_tablet()
    tablet.sync()
    with tablet.hands("E1", "1111") as ana:
        ana.queue.claim(order_id)
        ana.picking.open((order_id,))
        ana.picking.scan(store.gtins[sku], 1)
        ana.staging.open(order_id)
        ana.staging.stage("P-1")
        handover = ana.handover
        handover.find("Olivia")
        handover.verify_id()
        refused = handover.hand_over()
        assert refused.message.startswith("This order needs the collector's ID")
        shown = handover.collector("alternate", id_type="passport", id_last4="4821")
        assert shown.order is not None and shown.order.alternate == "Bo Brown"
        assert handover.hand_over().done
    tablet.sync()
    proof = cast("dict[str, str]", central.get_order(order_id)["proof"])
    assert (proof["collected_by"], proof["name"], proof["id_last4"]) == (
        "alternate",
        "Bo Brown",
        "4821",
    )
