"""Cycle counts end to end: an associate counts on a real tablet file while the store keeps
selling, the real SyncEngine carries the count to a real central, which compares it with the
book at the moment it was counted; a manager decides on another tablet (DOMAIN.md, Cycle
counts; PROTOCOL.md, count.* and the conflict rules)."""

from __future__ import annotations

from tests.support.central import Central, TestStore
from tests.support.selling import sell
from tests.support.tablet import Tablet
from tests.sync.conftest import MakeTablet

ANA, MARIA = ("E1", "1111"), ("M1", "999999")


def synced(tablet: Tablet) -> None:
    report = tablet.sync()
    assert report.ok, report.error_in_words


def test_a_blind_count_taken_offline_while_the_store_sells_adjusts_against_its_moment(
    central: Central, store: TestStore, make_tablet: MakeTablet
) -> None:
    sku = store.skus[0]  # 20 on the books at A-01-1
    tablet = make_tablet()
    synced(tablet)
    tablet.transport.unplug()
    with tablet.hands(*ANA) as ana:
        ana.counting.scan(store.gtins[sku])
        screen = ana.counting.set_qty(19)
        assert "20" not in " ".join([screen.name, screen.location, screen.qty_text])
        done = ana.counting.submit()
        assert done.tone == "ok", done.message
        # the store keeps selling: a pickup handed over after the count reaches central first
        sell(central, store, [(sku, 2)])
        assert central.stock(store, sku)["on_hand"] == 18

        tablet.transport.plug_in()
        synced(tablet)
        [recent] = ana.counting.screen().recent
        assert (recent.pending, recent.text) == (False, "19 counted · −1 adjusted")

    # the count saw 19 at its moment (book 20): −1; the later sale stays: 19 − 2
    assert central.stock(store, sku)["on_hand"] == 17
    adjustments = [m for m in central.ledger(store, sku) if m["kind"] == "count_adjust"]
    assert [(m["qty"], m["actor"]) for m in adjustments] == [(-1, "E1")]


def test_a_big_variance_waits_for_a_manager_on_another_tablet(
    central: Central, store: TestStore, make_tablet: MakeTablet
) -> None:
    sku = store.skus[1]
    counter, desk = make_tablet("aisle"), make_tablet("desk")
    for tablet in (counter, desk):
        synced(tablet)
    with counter.hands(*ANA) as ana, desk.hands(*MARIA) as maria:
        ana.counting.scan(store.gtins[sku])
        ana.counting.set_qty(11)
        assert ana.counting.submit().tone == "ok"
        synced(counter)
        [recent] = ana.counting.screen().recent
        assert recent.text == "11 counted · waits for a manager"
        assert central.stock(store, sku)["on_hand"] == 20  # nothing posted

        synced(desk)
        [waiting] = maria.approvals.screen().counts
        assert (waiting.counted_by_name, waiting.own, waiting.can_approve) == ("Ana", False, True)
        decided = maria.approvals.approve_count(waiting.count_id)
        assert decided.tone == "ok", decided.message
        synced(desk)
        assert maria.approvals.screen().counts == ()
        synced(counter)
        assert ana.counting.screen().recent[0].text.startswith("11 counted · −9 approved by Maria")

    assert central.stock(store, sku)["on_hand"] == 11
