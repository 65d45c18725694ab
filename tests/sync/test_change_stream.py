"""A tablet busy draining a long outbox still learns of central's changes: a poke from its
event stream makes the engine pull between two push batches (on SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from central.db.engine import make_engine
from storeapp.local import LocalStore
from sync.engine import Progress, SyncEngine, SyncReport
from sync.errors import SyncError
from tests.support.central import Central, TestStore, ok
from tests.support.faults import FaultyTransport
from tests.support.tablet import Tablet, enroll_tablet

SCANS = 2_000  # four batches of 500
LINE_QTY = 500


@pytest.fixture
def store(any_central: Central) -> TestStore:
    return any_central.new_store(items=2)


@pytest.fixture
def tablet(any_central: Central, store: TestStore, tmp_path: Path) -> Iterator[Tablet]:
    transport = FaultyTransport()
    yield enroll_tablet(any_central, store.store_id, tmp_path / "t.db", transport, "t")
    transport.shutdown()


def _order_status(path: Path, order_id: str) -> str | None:
    with sqlite3.connect(path) as conn:
        row = conn.execute(
            "SELECT data FROM srv_docs WHERE kind = 'order' AND id = ?", (order_id,)
        ).fetchone()
    return None if row is None else str(json.loads(row[0])["state"])


def _outbox(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT count(*) FROM outbox").fetchone()[0])


def _now() -> datetime:
    return datetime.now(UTC)


def test_a_poked_tablet_learns_of_a_cancel_before_its_outbox_is_empty(
    any_central: Central, store: TestStore, tablet: Tablet
) -> None:
    sku, other = store.skus
    ok(
        any_central.oms.post(
            f"/v1/oms/stores/{store.store_id}/stock",
            json=[{"sku": sku, "location": store.locations[sku], "qty": SCANS + 10}],
        )
    )
    picked = [any_central.order(store, [(sku, LINE_QTY)]) for _ in range(SCANS // LINE_QTY)]
    doomed = any_central.order(store, [(other, 1)])["order_id"]
    assert tablet.sync().ok
    assert _order_status(tablet.path, doomed) == "released"
    with LocalStore(tablet.path) as local:
        for order in picked:
            scan = {"order_id": order["order_id"], "line_id": "1", "gtin": store.gtins[sku]}
            for _ in range(LINE_QTY // 100):
                results = local.act_many(
                    "E1", [("pick.scan", {**scan, "qty": 1})] * 100, datetime.now(UTC)
                )
                assert all(r.queued for r in results)
    assert _outbox(tablet.path) == SCANS

    seen_with_waiting: list[int] = []  # the outbox when the cancel was first seen
    poked = threading.Event()
    cancelled = False

    def on_progress(progress: Progress) -> None:
        nonlocal cancelled
        if progress.phase != "sending":
            return
        if not cancelled:  # after the first batch: the customer cancels at central
            cancelled = True
            poked.clear()
            ok(any_central.oms.post(f"/v1/oms/orders/{doomed}/cancel", json={}))
            assert poked.wait(10), "no poke after the cancel"
        elif not seen_with_waiting and _order_status(tablet.path, doomed) == "cancelled":
            seen_with_waiting.append(_outbox(tablet.path))

    engine = SyncEngine(lambda: LocalStore(tablet.path), tablet.client, on_progress=on_progress)
    stop = threading.Event()

    def listen() -> None:
        try:
            for seq in engine.listen(read_timeout=30):
                if not getattr(seq, "own", False):  # as the scheduler does
                    engine.poke()
                    poked.set()
                if stop.is_set():
                    return
        except SyncError:
            pass

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    assert poked.wait(10)  # the stream is open (its first poke)
    report = engine.run_once()
    stop.set()
    any_central.order(store, [(other, 1)])  # one more poke ends the listener
    listener.join(timeout=10)

    assert report.ok, report.error_in_words
    assert report.waiting == 0
    assert seen_with_waiting, "the cancel was learned only after the outbox was empty"
    assert seen_with_waiting[0] > 0
    assert _order_status(tablet.path, doomed) == "cancelled"


@contextmanager
def _device_locked(central: Central, device_id: str) -> Iterator[None]:
    """Another writer holds what a push of `device_id` must lock (SQLite: the database's write
    lock; PostgreSQL: the device's row), as a long push of it would: its push waits."""
    url = central.server.database_url
    if url.startswith("sqlite"):
        writer = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            writer.execute("ROLLBACK")
            writer.close()
        return
    engine = make_engine(url)
    try:
        with engine.connect() as holder, holder.begin():
            holder.execute(
                text("SELECT 1 FROM devices WHERE device_id = :d FOR UPDATE"), {"d": device_id}
            )
            yield
    finally:
        engine.dispose()


def test_a_poke_while_a_push_waits_for_central_s_lock_is_pulled_before_that_push_returns(
    any_central: Central, store: TestStore, tablet: Tablet
) -> None:
    # a pull reads what central committed and writes nothing, so it never waits for the lock a
    # push holds: the cancel shows on the tablet while its push is still waiting at central
    sku, other = store.skus
    picked = any_central.order(store, [(sku, 5)])["order_id"]
    doomed = any_central.order(store, [(other, 1)])["order_id"]
    assert tablet.sync().ok
    with LocalStore(tablet.path) as local:
        scan = {"order_id": picked, "line_id": "1", "gtin": store.gtins[sku], "qty": 1}
        assert all(r.queued for r in local.act_many("E1", [("pick.scan", scan)] * 5, _now()))
        identity = local.identity()
    assert identity is not None
    ok(any_central.oms.post(f"/v1/oms/orders/{doomed}/cancel", json={}))

    engine = SyncEngine(lambda: LocalStore(tablet.path), tablet.client)
    reports: list[SyncReport] = []
    seen: list[tuple[bool, int]] = []  # (the pass still running, ops waiting) at the cancel
    with _device_locked(any_central, identity.device_id):
        passing = threading.Thread(target=lambda: reports.append(engine.run_once()))
        passing.start()
        time.sleep(0.5)  # the push is at central, waiting for the lock
        engine.poke()  # the event stream's poke for the cancel
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if _order_status(tablet.path, doomed) == "cancelled":
                seen.append((passing.is_alive(), _outbox(tablet.path)))
                break
            time.sleep(0.02)
    passing.join(timeout=30)

    assert seen == [(True, 5)], "the cancel waited for the push"
    assert reports and reports[0].ok, reports and reports[0].error_in_words
    assert (reports[0].pushed, reports[0].waiting) == (5, 0)
    with LocalStore(tablet.path) as local:
        assert [op.status for op in local.op_log()] == ["applied"] * 5
        order = local.order(picked)
    assert order is not None and order.lines[0].picked == 5  # each scan once
    assert _order_status(tablet.path, doomed) == "cancelled"
