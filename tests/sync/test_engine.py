"""The sync engine against a real central on a loopback port and a real tablet store.

Faults come from stopping central or from `FaultyTransport` (the httpx transport
seam); the tablet's process is "restarted" by opening a new LocalStore on the
same file. `Tablet` is tests/support/tablet.py; the fixtures are tests/sync/conftest.py.
"""

from __future__ import annotations

import gc
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from storeapp.local import LocalStore
from sync.backoff import Backoff
from sync.engine import SyncEngine
from sync.scheduler import SyncScheduler
from tests.support.central import Central, TestStore
from tests.support.faults import FaultyTransport
from tests.support.tablet import Tablet
from tests.sync.conftest import MakeTablet

NOW = datetime.now(UTC)


def picked(central: Central, order: dict[str, Any], line: int = 1) -> int:
    done: int = central.get_order(order["order_id"])["lines"][line - 1]["picked"]
    return done


def test_the_first_sync_downloads_the_store_through_the_snapshot(
    central: Central, store: TestStore, make_tablet: MakeTablet
) -> None:
    order = central.order(store, [(store.skus[0], 2)])
    tablet = make_tablet()
    report = tablet.sync()
    assert report.ok and report.pulled > 0 and report.error_in_words is None
    assert tablet.transport.calls["/v1/sync/snapshot"] == 1
    with tablet.local() as local:
        assert local.order(order["order_id"]) is not None
        assert local.sync_state().cursor is not None
        assert local.sync_state().last_ok_at is not None
    again = tablet.sync()
    assert again.ok and tablet.transport.calls["/v1/sync/snapshot"] == 1


def test_actions_while_central_is_down_queue_up_and_drain_after_it_returns(
    central: Central, store: TestStore, make_tablet: MakeTablet
) -> None:
    order = central.order(store, [(store.skus[0], 5)])
    tablet = make_tablet()
    assert tablet.sync().ok
    central.stop()
    tablet.scan(store, order, times=3)

    down = tablet.sync()
    assert (down.ok, down.offline, down.pushed, down.waiting) == (False, True, 0, 3)
    assert down.error_in_words is not None
    assert down.error_in_words.startswith("Offline · 3 changes waiting · oldest ")
    with tablet.local() as local:
        assert local.sync_state().last_error == down.error_in_words
        assert len(local.outbox()) == 3

    central.start()
    back = tablet.sync()
    assert (back.ok, back.offline, back.pushed, back.waiting) == (True, False, 3, 0)
    assert picked(central, order) == 3
    with tablet.local() as local:
        assert local.outbox() == []
        assert [op.status for op in local.op_log()] == ["applied"] * 3
        assert local.sync_state().last_error is None
        on_tablet = local.order(order["order_id"])
        assert on_tablet is not None
        assert on_tablet.lines[0].picked == 3


def test_a_push_whose_response_was_lost_is_retried_without_doubling(
    central: Central, store: TestStore, make_tablet: MakeTablet
) -> None:
    order = central.order(store, [(store.skus[0], 4)])
    tablet = make_tablet()
    assert tablet.sync().ok
    tablet.scan(store, order)
    tablet.transport.lose_response("/v1/sync/push")

    lost = tablet.sync()
    assert lost.offline and lost.waiting == 1
    assert picked(central, order) == 1  # central committed it

    retried = tablet.sync()
    assert (retried.ok, retried.pushed, retried.duplicates) == (True, 1, 1)
    assert picked(central, order) == 1
    with tablet.local() as local:
        [logged] = local.op_log()
        assert (logged.status, logged.original_status) == ("duplicate", "applied")
        on_tablet = local.order(order["order_id"])
        assert on_tablet is not None
        assert on_tablet.lines[0].picked == 1
    assert tablet.transport.calls["/v1/sync/push"] == 2


def test_two_tablets_of_one_store_converge(
    central: Central, store: TestStore, make_tablet: MakeTablet
) -> None:
    order = central.order(store, [(store.skus[0], 3), (store.skus[1], 2)])
    first, second = make_tablet("tablet-1"), make_tablet("tablet-2")
    assert first.sync().ok and second.sync().ok
    first.scan(store, order, line=1, times=2)
    second.scan(store, order, line=2, times=2)
    second.scan(store, order, line=1, times=2)  # one more than the line still wants

    assert first.sync().ok
    report = second.sync()
    assert report.ok and report.attention == 1  # the over-pick: put one back
    assert first.sync().ok

    assert first.docs() == second.docs()
    with first.local() as a, second.local() as b:
        assert a.order(order["order_id"]) == b.order(order["order_id"])
        on_a = a.order(order["order_id"])
        assert on_a is not None
        line1, line2 = on_a.lines
    assert (line1.picked, line2.picked) == (3, 2)
    assert [line["picked"] for line in central.get_order(order["order_id"])["lines"]] == [3, 2]


def test_a_pull_interrupted_half_way_resumes_without_skipping(
    central: Central, store: TestStore, make_tablet: MakeTablet
) -> None:
    tablet = make_tablet()
    tablet.pull_limit = 5
    assert tablet.sync().ok
    orders = [central.order(store, [(store.skus[i % 3], 1)]) for i in range(12)]
    tablet.transport.lose_response("/v1/sync/pull", after=1)

    broken = tablet.sync()
    assert broken.offline and broken.pulled == 5
    with tablet.local() as local:
        assert sum(local.order(o["order_id"]) is not None for o in orders) == 5

    resumed = tablet.sync()
    assert resumed.ok and resumed.pulled >= 7
    with tablet.local() as local:
        assert all(local.order(o["order_id"]) is not None for o in orders)

    fresh = make_tablet("tablet-fresh")
    assert fresh.sync().ok
    assert tablet.docs() == fresh.docs()


def test_a_restarted_tablet_with_a_full_outbox_loses_nothing(
    central: Central, store: TestStore, make_tablet: MakeTablet, transports: list[FaultyTransport]
) -> None:
    order = central.order(store, [(store.skus[0], 700)])
    central.oms.post(
        f"/v1/oms/stores/{store.store_id}/stock",
        json=[{"sku": store.skus[0], "location": store.locations[store.skus[0]], "qty": 1000}],
    ).raise_for_status()
    tablet = make_tablet()
    assert tablet.sync().ok
    central.stop()
    tablet.scan(store, order, times=620)
    assert tablet.sync().offline

    # the process ends; a new one opens the same file with a new engine
    central.start()
    transports.append(FaultyTransport())
    restarted = Tablet(tablet.path, transports[-1])
    report = restarted.sync()
    assert (report.ok, report.pushed, report.waiting) == (True, 620, 0)
    assert picked(central, order) == 620
    assert restarted.transport.calls["/v1/sync/push"] == 2  # 500 + 120
    sending = [p.words for p in restarted.progress if p.phase == "sending"]
    assert sending == ["Sending 500/620", "Sending 620/620"]


def test_a_batch_refused_as_too_large_is_halved_until_it_fits(
    central: Central, store: TestStore, make_tablet: MakeTablet
) -> None:
    order = central.order(store, [(store.skus[0], 50)])
    tablet = make_tablet()
    assert tablet.sync().ok
    tablet.scan(store, order, times=40)
    tablet.transport.limit_body("/v1/sync/push", 5_000)  # about a dozen ops

    report = tablet.sync()
    assert (report.ok, report.pushed) == (True, 40)
    assert picked(central, order) == 40
    assert tablet.transport.faults["limit /v1/sync/push"] >= 2


def test_a_revoked_or_wrong_token_asks_for_enrollment_and_keeps_the_outbox(
    central: Central, store: TestStore, make_tablet: MakeTablet
) -> None:
    order = central.order(store, [(store.skus[0], 2)])
    tablet = make_tablet()
    assert tablet.sync().ok
    tablet.scan(store, order)
    tablet.token = "not-the-token"

    report = tablet.sync()
    assert (report.ok, report.offline, report.needs_enrollment) == (False, False, True)
    assert report.error_in_words is not None
    assert "enroll it again" in report.error_in_words
    assert report.waiting == 1
    assert picked(central, order) == 0


def test_a_seq_gap_stops_sending_in_plain_words_and_still_receives(
    central: Central, store: TestStore, make_tablet: MakeTablet
) -> None:
    order = central.order(store, [(store.skus[0], 5)])
    tablet = make_tablet()
    assert tablet.sync().ok
    tablet.scan(store, order, times=3)
    with sqlite3.connect(tablet.path) as conn:  # ops 1 and 2 vanish from this tablet
        conn.execute("DELETE FROM outbox WHERE seq < 3")
    cancelled_meanwhile = central.order(store, [(store.skus[1], 1)])

    report = tablet.sync()
    assert not report.ok and not report.offline
    assert report.error_in_words is not None
    assert "missing this tablet's change #1–#2" in report.error_in_words
    assert "receiving goes on" in report.error_in_words
    with tablet.local() as local:
        assert local.order(cancelled_meanwhile["order_id"]) is not None
        assert len(local.outbox()) == 1
    assert picked(central, order) == 0


def test_a_cursor_central_no_longer_knows_reloads_the_snapshot(
    central: Central, store: TestStore, make_tablet: MakeTablet, tmp_path: Path
) -> None:
    other_store = central.new_store()
    order = central.order(store, [(store.skus[0], 1)])
    tablet = make_tablet()
    stranger = make_tablet("tablet-other", for_store=other_store)
    assert tablet.sync().ok and stranger.sync().ok
    with LocalStore(stranger.path) as local:
        foreign_cursor = local.cursor()
    with sqlite3.connect(tablet.path) as conn:
        conn.execute("UPDATE sync_state SET cursor = ?", (foreign_cursor,))

    report = tablet.sync()
    assert report.ok
    assert tablet.transport.calls["/v1/sync/snapshot"] == 2
    with tablet.local() as local:
        assert local.order(order["order_id"]) is not None
    fresh = make_tablet("tablet-fresh")
    assert fresh.sync().ok
    assert tablet.docs() == fresh.docs()


def test_a_first_download_cut_midway_is_retried_and_ends_with_central_s_replica(
    central: Central, make_tablet: MakeTablet
) -> None:
    """The connection breaks after the load has committed whole batches of the snapshot
    (12,000 documents; batches of 5,000): the tablet says it is offline and has no store
    yet, the app's process still collects its garbage, and the next pass downloads the
    store again, whole."""
    big = central.new_store(items=6000)
    order = central.order(big, [(big.skus[0], 1)])
    tablet = make_tablet(for_store=big)
    tablet.transport.cut_stream("/v1/sync/snapshot", 150_000)

    cut = tablet.sync()
    assert (cut.ok, cut.offline) == (False, True)
    assert gc.isenabled()
    with tablet.local() as local:
        assert local.cursor() is None
        assert local.order(order["order_id"]) is None

    again = tablet.sync()
    assert again.ok and again.healed == () and again.unhealed == ()  # its checksums agree
    assert tablet.transport.calls["/v1/sync/snapshot"] == 2
    with tablet.local() as local:
        assert local.cursor() is not None
        assert local.order(order["order_id"]) is not None
    fresh = make_tablet("tablet-fresh", for_store=big)
    assert fresh.sync().ok
    assert tablet.docs() == fresh.docs()


def test_a_tablet_that_is_not_enrolled_says_so(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    LocalStore(path).close()
    engine = SyncEngine(lambda: LocalStore(path))
    report = engine.run_once()
    assert (report.ok, report.needs_enrollment) == (False, True)
    assert report.error_in_words is not None
    assert "not enrolled" in report.error_in_words


def test_a_pass_logs_one_line_without_customer_data(
    central: Central, store: TestStore, make_tablet: MakeTablet, caplog: pytest.LogCaptureFixture
) -> None:
    central.order(store, [(store.skus[0], 1)])
    tablet = make_tablet()
    with caplog.at_level("INFO", logger="sync.engine"):
        tablet.sync()
    lines = [r.getMessage() for r in caplog.records if r.name == "sync.engine"]
    assert len(lines) == 1
    assert lines[0].startswith("sync_pass pushed=0 pulled=")
    assert "Olivia" not in caplog.text and "olivia@example.com" not in caplog.text


def test_the_oldest_waiting_change_is_told_in_hours_and_minutes(
    central: Central, store: TestStore, make_tablet: MakeTablet
) -> None:
    order = central.order(store, [(store.skus[0], 2)])
    tablet = make_tablet()
    assert tablet.sync().ok
    central.stop()
    with tablet.local() as local:
        sku = order["lines"][0]["sku"]
        local.act(
            "E1",
            "pick.scan",
            {"order_id": order["order_id"], "line_id": "1", "gtin": store.gtins[sku]},
            NOW - timedelta(hours=3, minutes=12, seconds=5),
        )
    engine = SyncEngine(lambda: LocalStore(tablet.path), tablet.client, clock=lambda: NOW)
    report = engine.run_once()
    assert report.error_in_words == "Offline · 1 change waiting · oldest 3 h 12 min"


def test_a_poke_from_central_makes_the_other_tablet_pull_at_once(
    central: Central, store: TestStore, make_tablet: MakeTablet
) -> None:
    order = central.order(store, [(store.skus[0], 3)])
    first, second = make_tablet("tablet-1"), make_tablet("tablet-2")
    assert first.sync().ok
    listener = SyncScheduler(
        second.engine(),
        interval=3600,
        listen=True,
        listener_backoff=Backoff(initial=0.1),
    )
    listener.start()
    try:
        first.scan(store, order)
        assert first.sync().ok
        deadline = datetime.now(UTC) + timedelta(seconds=10)
        while datetime.now(UTC) < deadline:
            with second.local() as local:
                seen = local.order(order["order_id"])
            if seen is not None and seen.lines[0].picked == 1:
                break
            threading.Event().wait(0.05)
        else:
            raise AssertionError("the second tablet never pulled the first one's scan")
        assert listener.last_error is None
    finally:
        listener.shutdown()


def test_a_tablet_restored_from_a_backup_is_told_its_numbers_are_taken(
    central: Central, store: TestStore, make_tablet: MakeTablet
) -> None:
    order = central.order(store, [(store.skus[0], 5)])
    tablet = make_tablet()
    assert tablet.sync().ok
    backup = tablet.path.read_bytes()
    tablet.scan(store, order)
    assert tablet.sync().ok
    for suffix in ("-wal", "-shm"):
        tablet.path.with_name(tablet.path.name + suffix).unlink(missing_ok=True)
    tablet.path.write_bytes(backup)
    tablet.scan(store, order, times=2)  # seq 1 again, with another op_id

    report = tablet.sync()
    assert not report.ok and not report.offline and report.waiting == 2
    assert report.error_in_words is not None
    assert "restored from a backup" in report.error_in_words
    assert picked(central, order) == 1
