"""Conflicts made offline, end to end: associates act through the view-models on real
tablet files, the real SyncEngine carries their work to a real central, and the
follow-ups come back to the screens (PROTOCOL.md, "Conflict rules").

A tablet is offline when its transport is unplugged (tests/support/faults.py).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.support.central import Central, TestStore
from tests.support.tablet import Hands, Tablet
from tests.sync.conftest import MakeTablet

PEOPLE = {"E1": ("Ana", "1111"), "E2": ("Ben", "2222")}


def pick_whole_order(hands: Hands, store: TestStore, order: dict[str, Any]) -> None:
    """Claim the order from the queue, open its pick list and scan every unit, one by one."""
    claimed = hands.queue.claim(order["order_id"])
    assert claimed.tone == "ok", claimed.message
    screen = hands.picking.open(claimed.pick_list)
    while screen.current is not None:
        screen = hands.picking.scan(store.gtins[screen.current.sku])
        assert screen.tone == "ok", screen.message
    assert screen.can_finish


def synced(tablet: Tablet) -> None:
    report = tablet.sync()
    assert report.ok, report.error_in_words


def offline_with(
    central: Central, store: TestStore, make_tablet: MakeTablet, sku: str
) -> tuple[str, Tablet]:
    """A 2-unit order of `sku`, and a tablet that downloaded it and then lost the network."""
    oid = central.order(store, [(sku, 2)])["order_id"]
    tablet = make_tablet()
    synced(tablet)
    tablet.transport.unplug()
    return oid, tablet


@pytest.mark.parametrize("first", ["A", "B"])
def test_two_tablets_picking_one_order_offline_leave_one_picker_and_one_put_back(
    central: Central, store: TestStore, make_tablet: MakeTablet, first: str
) -> None:
    sku = store.skus[0]
    order = central.order(store, [(sku, 3)])
    oid = order["order_id"]
    tablets = {"A": make_tablet("tablet-a"), "B": make_tablet("tablet-b")}
    employee = {"A": "E1", "B": "E2"}
    for tablet in tablets.values():
        synced(tablet)
        tablet.transport.unplug()

    hands = {t: tablets[t].hands(employee[t], PEOPLE[employee[t]][1]) for t in ("A", "B")}
    try:
        for t in ("A", "B"):
            pick_whole_order(hands[t], store, order)
            assert tablets[t].sync().offline
            assert hands[t].sync_status.chip().text.startswith("Offline · 4 waiting · oldest ")

        second = "B" if first == "A" else "A"
        winner = employee[first]
        for t in (first, second):
            tablets[t].transport.plug_in()
        back = [tablets[t].sync() for t in (first, second)]
        assert [(r.ok, r.pushed, r.attention) for r in back] == [(True, 4, 0), (True, 4, 4)]
        for t in (first, second):
            synced(tablets[t])

        # central: one picker (the first claim applied), the order picked once
        on_central = central.get_order(oid)
        assert (on_central["assignee"], on_central["state"]) == (winner, "picked")
        assert on_central["lines"][0]["picked"] == 3
        picks = [m for m in central.ledger(store, sku) if m["kind"] == "pick"]
        assert sum(m["qty"] for m in picks) == 3
        assert {m["actor"] for m in picks} == {winner}
        assert central.stock(store, sku)["on_hand"] == 20  # nothing left the store yet
        [put_back] = central.tasks(store, "put_back")
        assert (put_back["sku"], put_back["qty"], put_back["location"]) == (sku, 3, "A-01-1")
        assert put_back["order_id"] == oid

        # the loser's tablet: the put-back task, and who picked it, in words
        winner_name = PEOPLE[winner][0]
        tasks = hands[second].tasks.screen()
        assert [r.title for r in tasks.rows] == ["Put back 3 × Item 1 at A-01-1"]
        sync_screen = hands[second].sync_status.screen()
        assert sync_screen.chip.state == "attention"
        results = [row.result for row in sync_screen.attention]
        assert results and all(r.startswith(f"Picked by {winner_name} ") for r in results)
        assert any(
            re.fullmatch(rf"Picked by {winner_name} at \d\d:\d\d — put \d × back at A-01-1", r)
            for r in results
        )
        picking = hands[second].picking.screen()
        assert picking.banners == (f"Order {oid} is now picked by {winner_name}: leave its tote.",)
        assert picking.stops == ()
        assert oid not in [row.order_id for row in hands[second].queue.screen().rows]

        # the winner's tablet: its order, nothing to put back, nothing to attend to
        mine = hands[first].picking.screen()
        assert mine.banners == () and mine.can_finish
        assert hands[first].sync_status.screen().attention == ()

        # both order views agree with central
        for t in ("A", "B"):
            seen = hands[t].store.order(oid)
            assert seen is not None
            assert (seen.assignee, seen.state.value, [x.picked for x in seen.lines]) == (
                winner,
                "picked",
                [3],
            )
        assert tablets["A"].docs() == tablets["B"].docs()
    finally:
        for h in hands.values():
            h.close()


def test_scans_of_an_order_cancelled_while_picking_offline_become_a_restock_task(
    central: Central, store: TestStore, make_tablet: MakeTablet
) -> None:
    sku = store.skus[1]
    oid, tablet = offline_with(central, store, make_tablet, sku)
    with tablet.hands("E1", "1111") as ana:
        claimed = ana.queue.claim(oid)
        ana.picking.open(claimed.pick_list)
        assert ana.picking.scan(store.gtins[sku]).tone == "ok"
        cancelled = central.oms.post(f"/v1/oms/orders/{oid}/cancel", json={"reason": "fraud"})
        assert cancelled.status_code == 200, cancelled.text
        screen = ana.picking.scan(store.gtins[sku])  # the tablet does not know yet
        assert (screen.tone, screen.done_units) == ("ok", 2)

        tablet.transport.plug_in()
        synced(tablet)

        screen = ana.picking.screen()
        assert screen.banners == (f"Order {oid} was cancelled: put its 2 item(s) back.",)
        assert screen.stops == ()
        order = ana.store.order(oid)
        assert order is not None
        assert order.state.value == "cancelled"
        assert [r.title for r in ana.tasks.screen().rows] == ["Restock 2 × Item 2 at A-02-1"]
        attention = ana.sync_status.screen().attention
        assert [r.code for r in attention if r.what.startswith("Pick of")] == [
            "ORDER_CANCELLED"
        ] * 2

    assert central.get_order(oid)["lines"][0]["picked"] == 0
    [restock] = central.tasks(store, "restock")
    assert (restock["sku"], restock["qty"], restock["state"]) == (sku, 2, "open")
    assert [m for m in central.ledger(store, sku) if m["kind"] == "pick"] == []


def test_a_short_picked_offline_comes_back_as_a_recount_task_and_doubtful_stock(
    central: Central, store: TestStore, make_tablet: MakeTablet
) -> None:
    sku = store.skus[2]
    oid, tablet = offline_with(central, store, make_tablet, sku)
    with tablet.hands("E1", "1111") as ana:
        claimed = ana.queue.claim(oid)
        ana.picking.open(claimed.pick_list)
        assert ana.picking.scan(store.gtins[sku]).tone == "ok"
        screen = ana.picking.short("not_found")
        assert screen.message == (
            "1 × Item 3 marked short (not found): a recount of A-03-1 will follow."
        )
        assert screen.can_finish
        assert ana.tasks.screen().rows == ()  # the recount is central's to make

        tablet.transport.plug_in()
        synced(tablet)

        assert [r.title for r in ana.tasks.screen().rows] == ["Recount Item 3 at A-03-1"]
        assert ana.sync_status.screen().attention == ()
        order = ana.store.order(oid)
        assert order is not None
        line = order.lines[0]
        assert (line.picked, line.short) == (1, 1)

    assert central.stock(store, sku)["doubtful"] is True
    [recount] = central.tasks(store, "recount")
    assert (recount["sku"], recount["location"], recount["order_id"]) == (sku, "A-03-1", oid)
    on_central = central.get_order(oid)["lines"][0]
    assert (on_central["picked"], on_central["short"]) == (1, 1)
