"""Receiving and transfers on real tablets and a real central: an associate receives a
shipment offline through the Receiving screen's view-model (a carton, an extra unit, a
damaged one), the tablet syncs, the stock posts and the manager sees what to do; a transfer
a manager sends from store A is picked and shipped there, and store B receives it."""

from __future__ import annotations

from typing import Any

from storeapp.viewmodels import StagingVM
from storeapp.viewmodels.console import ExceptionsVM
from storeapp.viewmodels.lookup import LookupVM
from tests.support.central import Central, TestStore, ok
from tests.support.tablet import Tablet
from tests.sync.conftest import MakeTablet
from tests.sync.test_offline_facts import pick_and_stage

SSCC = "376123450000000016"


def synced(tablet: Tablet) -> None:
    report = tablet.sync()
    assert report.ok, report.error_in_words


def on_hand(central: Central, store: TestStore, sku: str) -> dict[str, int]:
    rows = ok(central.oms.get(f"/v1/oms/stores/{store.store_id}/stock", params={"sku": sku}))
    return {r["location"]: r["on_hand"] for r in rows}


def announce(central: Central, store: TestStore, shipment_id: str, body: dict[str, Any]) -> None:
    ok(central.oms.put(f"/v1/oms/stores/{store.store_id}/inbound/{shipment_id}", json=body))


def test_a_shipment_received_offline_with_an_extra_and_a_damaged_unit_reaches_the_manager(
    central: Central, store: TestStore, make_tablet: MakeTablet
) -> None:
    dog, cat = store.skus[0], store.skus[1]
    announce(
        central,
        store,
        "S-100",
        {
            "source": "dc",
            "lines": [{"sku": dog, "qty": 6}, {"sku": cat, "qty": 2}],
            "cartons": [{"sscc": SSCC, "lines": [{"sku": dog, "qty": 6}]}],
        },
    )
    tablet = make_tablet()
    synced(tablet)
    tablet.transport.unplug()
    with tablet.hands("E1", "1111") as ana:
        [row] = ana.receiving.screen().shipments
        assert (row.title, row.detail) == (
            "S-100 from distribution centre",
            "8 unit(s) expected · 1 carton(s)",
        )
        ana.receiving.open("S-100")
        carton = ana.receiving.scan("00" + SSCC)
        assert (carton.tone, carton.message) == ("ok", f"Carton {SSCC}: 6 unit(s) counted.")
        assert ana.receiving.scan(SSCC).message == f"Carton {SSCC} was already counted."
        assert ana.receiving.scan(store.gtins[dog]).tone == "ok"  # a seventh: one over
        assert ana.receiving.damaged(dog).tone == "ok"
        typed = ana.receiving.set_count(cat, "2")
        assert typed.tone == "ok"
        assert [x.words for x in typed.lines] == ["7 of 6 · 1 over · 1 damaged", "2 of 2"]
        assert ana.receiving.scan("12345").tone == "error"  # not a code: said in words
        closed = ana.receiving.close()
        assert (closed.tone, closed.current) == ("warning", None)
        assert "a manager is told" in closed.message and closed.shipments == ()
    assert on_hand(central, store, dog)[store.locations[dog]] == 20  # nothing reached central

    tablet.transport.plug_in()
    synced(tablet)
    assert on_hand(central, store, dog)[store.locations[dog]] == 20 + 6
    assert on_hand(central, store, cat)[store.locations[cat]] == 20 + 2
    synced(tablet)  # the exception comes back by pull
    with tablet.hands("M1", "999999") as maria:
        rows = ExceptionsVM(maria.store, maria.session).screen().rows
        [seen] = [r for r in rows if r.code == "RECEIPT_DIFFERS"]
        assert "1 over" in seen.what and "1 damaged" in seen.what
        assert seen.action.startswith("Claim short and damaged units")


def test_a_transfer_shipped_from_store_a_is_received_at_store_b(
    central: Central, store: TestStore, make_tablet: MakeTablet
) -> None:
    other = central.new_store()
    a, b = make_tablet("tablet-a"), make_tablet("tablet-b", for_store=other)
    sku = store.skus[2]
    synced(a)
    with a.hands("E1", "1111") as ana:
        refused = ana.receiving.send(other.store_id, sku, "2")
        assert (refused.tone, refused.message) == (
            "error",
            "Only a manager can send stock to another store.",
        )
        assert not ana.receiving.screen().can_send
    with a.hands("M1", "999999") as maria:
        assert maria.receiving.send(other.store_id, "NO-SUCH", "2").tone == "error"
        assert maria.receiving.send(other.store_id, sku, "0").tone == "error"
        sent = maria.receiving.send(other.store_id, store.gtins[sku], "2")
        assert sent.tone == "ok", sent.message
        tid = sent.message.split(":")[0].removeprefix("Transfer ")
    synced(a)
    with a.hands("E1", "1111") as ana:
        pick_and_stage(ana, store, tid, "BENCH-1")
        staging = StagingVM(ana.store, ana.session)
        staging.open(tid)
        shipped = staging.ship("DHL", "JD000123")
        assert shipped.tone == "ok", shipped.message
    synced(a)
    assert on_hand(central, other, sku)["IN-TRANSIT"] == 2

    synced(b)
    b.transport.unplug()
    with b.hands("E2", "2222") as ben:
        looked = LookupVM(ben.store, ben.session).select(sku)
        assert {(p.location, p.on_hand) for p in looked.places} == {
            (other.locations[sku], 20),
            ("IN-TRANSIT", 2),
        }
        assert looked.totals[0] == 20  # on their way, not in the store yet
        [row] = ben.receiving.screen().shipments
        assert row.title == f"{tid} from store {store.store_id}"
        ben.receiving.open(tid)
        ben.receiving.add(sku, 2)
        assert ben.receiving.close().tone == "ok"
    b.transport.plug_in()
    synced(b)
    assert on_hand(central, other, sku) == {other.locations[sku]: 22, "IN-TRANSIT": 0}
    assert on_hand(central, store, sku)[store.locations[sku]] == 18


def test_the_receiving_screen_says_what_it_cannot_do_in_words(
    central: Central, store: TestStore, make_tablet: MakeTablet
) -> None:
    sku = store.skus[4]
    announce(central, store, "S-200", {"source": "vendor-9", "lines": [{"sku": sku, "qty": 1}]})
    tablet = make_tablet()
    synced(tablet)
    with tablet.hands("E1", "1111") as ana:
        vm = ana.receiving
        assert vm.scan(store.gtins[sku]).message == "Choose a shipment first."
        assert vm.open("S-NONE").message == "Shipment S-NONE is not on this tablet."
        vm.open("S-200")
        assert vm.damaged(sku).message == "Count the unit first, then mark it damaged."
        assert vm.add(sku, -1).message == "Nothing to take off."
        assert vm.set_count(sku, "two").message == "Type the number of units, such as 12."
        assert vm.scan(SSCC).message == (
            f"Carton {SSCC} is not on this shipment: count its items one by one."
        )
        assert vm.close().message == "Nothing is counted yet: count what arrived first."
        assert vm.set_count(sku, "1").tone == "ok"
        assert vm.close().message == "Shipment S-200 received."
        assert vm.open("S-200").current is not None
        assert vm.add(sku, 1).message == (
            "Shipment S-200 is closed: ask a manager to adjust the stock."
        )
    assert central.oms.get(f"/v1/oms/stores/{store.store_id}/inbound/S-200").json()["state"] == (
        "expected"  # nothing synced yet: closed on the tablet only
    )
    synced(tablet)
    assert on_hand(central, store, sku)[store.locations[sku]] == 21
