"""The chip and Sync now follow the event stream's verdict on the link (issue #10, finding 10):
offline is shown the moment the stream says so, with what is waiting, and Sync now says why
nothing is sent instead of "Syncing…" forever."""

from __future__ import annotations

from datetime import timedelta

from storeapp.local import LocalStore
from storeapp.viewmodels import SyncStatusVM
from storeapp.viewmodels.sync_status import Chip
from sync.engine import Progress
from tests.storeapp.builders import T0, Feed, order_doc
from tests.storeapp.conftest import FakeClock


def test_the_link_going_offline_shows_offline_at_once_with_what_waits(
    store: LocalStore, feed: Feed, clock: FakeClock
) -> None:
    store.apply_pull(feed.orders(order_doc("W-1", [("1", "DOG2", 2)])))
    store.record_sync(at=T0, ok=True, server_time=T0)
    store.act("E1", "order.claim", {"order_id": "W-1"}, T0 - timedelta(minutes=4))
    sync = SyncStatusVM(store, clock=clock)
    assert sync.chip().state == "online"  # the last pass was good: nothing says otherwise
    assert sync.on_link(False) == Chip(
        "Offline · 1 waiting · oldest 4 min", "warning", "offline", 1, 0
    )
    # a pass that was sending when the link broke does not hide it
    assert sync.on_progress(Progress("sending", 0, 1)).state == "offline"
    assert sync.on_link(True).state == "sending"
    assert sync.on_idle().state == "online"
    assert sync.on_link(None).state == "online"  # unknown: the last pass decides


def test_sync_now_offline_says_what_waits_and_that_it_will_be_sent(
    store: LocalStore, feed: Feed, clock: FakeClock
) -> None:
    store.apply_pull(feed.orders(order_doc("W-1", [("1", "DOG2", 2)])))
    store.record_sync(at=T0, ok=True, server_time=T0)
    woken: list[bool] = []
    sync = SyncStatusVM(store, clock=clock, on_change=lambda: woken.append(True))
    sync.on_link(False)
    assert sync.sync_now().message == "Offline — nothing waiting; will sync when central is back"
    store.act("E1", "order.claim", {"order_id": "W-1"}, T0)
    store.act("E1", "order.release", {"order_id": "W-1"}, T0)
    screen = sync.sync_now()
    assert (screen.message, screen.tone) == (
        "Offline — 2 changes waiting; will send when central is back",
        "warning",
    )
    assert woken == [True, True]  # the engine is still asked: the link may be back already
    # the failed pass's report refreshes the screen: the message stays until the link is back
    store.record_sync(at=T0, ok=False, error="Offline · 2 changes waiting")
    assert sync.screen().message.startswith("Offline — 2 changes waiting")
    sync.on_link(True)
    store.record_sync(at=T0, ok=True, server_time=T0)
    assert sync.screen().message == ""


def test_sync_now_when_the_last_pass_failed_and_no_stream_tells_says_offline_too(
    store: LocalStore, feed: Feed, clock: FakeClock
) -> None:
    store.record_sync(at=T0, ok=False, error="Offline · nothing waiting")
    sync = SyncStatusVM(store, clock=clock)
    assert sync.sync_now().message.startswith("Offline — nothing waiting")
