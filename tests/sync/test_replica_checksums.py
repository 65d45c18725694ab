"""Replicas that prove they match (issue #12): a tablet compares central's checksums with its
own copy at the head of every pull, reloads only a kind that differs (keeping its outbox),
and central and the manager's Devices screen learn of it."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from central.db.engine import make_engine
from central.db.tables import sync_docs
from central.service import digests
from storeapp.viewmodels.console import DevicesVM
from sync.client import CentralClient
from tests.support.central import Central, TestStore
from tests.support.faults import FaultyTransport
from tests.support.selling import sell
from tests.support.tablet import Tablet, enroll_tablet

from .conftest import MakeTablet


@pytest.fixture
def tablet(central: Central, store: TestStore, tmp_path: Any) -> Iterator[Tablet]:
    transport = FaultyTransport()
    t = enroll_tablet(central, store.store_id, tmp_path / "t.db", transport, "tablet 1")
    t.replica_may_differ = True
    yield t
    transport.shutdown()


def central_docs(central: Central, store: TestStore) -> list[tuple[str, str, int, Any]]:
    engine = make_engine(central.server.database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(
                    sync_docs.c.kind, sync_docs.c.entity_id, sync_docs.c.version, sync_docs.c.data
                )
                .where(sync_docs.c.store_id == store.store_id, sync_docs.c.deleted.is_(False))
                .order_by(sync_docs.c.kind, sync_docs.c.entity_id)
            ).all()
    finally:
        engine.dispose()
    return [(k, i, v, d) for k, i, v, d in rows]


def tablet_docs(tablet: Tablet) -> list[tuple[str, str, int, Any]]:
    return [(k, i, v, json.loads(d)) for k, i, v, d in tablet.docs()]


def test_a_corrupted_replica_is_healed_in_one_pass_and_its_outbox_kept(
    central: Central, store: TestStore, tablet: Tablet
) -> None:
    order = central.order(store, [(store.skus[0], 2)])
    assert tablet.sync().ok
    with tablet.hands("E1", "1111") as ana:
        ana.queue.claim(order["order_id"])
    tablet.scan(store, order)  # two ops wait in the outbox
    # the file is changed behind the app's back: a stock row's on-hand, an item gone, a task
    # that central never made
    sku = store.skus[1]
    with sqlite3.connect(tablet.path) as conn:
        stock_id = f"{sku}@{store.locations[sku]}"
        (data,) = conn.execute(
            "SELECT data FROM srv_docs WHERE kind = 'stock' AND id = ?", (stock_id,)
        ).fetchone()
        bad = json.loads(data) | {"on_hand": 999}
        conn.execute(
            "UPDATE srv_docs SET data = ? WHERE kind = 'stock' AND id = ?",
            (json.dumps(bad), stock_id),
        )
        conn.execute("UPDATE stock SET on_hand = 999 WHERE id = ?", (stock_id,))
        conn.execute("DELETE FROM srv_docs WHERE kind = 'item' AND id = ?", (store.skus[2],))
        conn.execute(
            "INSERT INTO srv_docs (kind, id, version, data) VALUES ('task', 'T-ghost', 1, '{}')"
        )
    # the push is refused (a proxy says 413 until it gives up); the pull goes on
    tablet.transport.limit_body("/v1/sync/push", 10, times=2)
    report = tablet.sync()
    assert report.healed == ("item", "stock", "task")
    assert report.unhealed == ()
    assert report.waiting == 2
    with tablet.local() as local:
        assert local.pending_summary().count == 2
        shown = local.order(order["order_id"])
        assert shown is not None and shown.lines[0].picked == 1  # the pending scan still shows
    assert tablet_docs(tablet) == central_docs(central, store)
    with sqlite3.connect(tablet.path) as conn:
        assert (
            conn.execute("SELECT on_hand FROM stock WHERE id = ?", (stock_id,)).fetchone()[0]
            == central.stock(store, sku)["on_hand"]
        )
    # the next pass pushes the outbox and finds nothing to heal
    report = tablet.sync()
    assert report.ok and report.pushed == 2 and report.healed == ()
    assert central.get_order(order["order_id"])["lines"][0]["picked"] == 1
    # a manager sees it on the Devices screen
    with tablet.hands("M1", "999999") as maria, tablet.local() as local:
        identity = local.identity()
        assert identity is not None

        def fetch() -> Any:
            with CentralClient(identity.server_url, identity.token) as client:
                return client.devices()

        devices = DevicesVM(maria.session, fetch)
        assert devices.load() is None
        (row,) = devices.screen().rows
    assert row.replica.startswith("replica healed: item, stock, task, ")
    assert row.worry == ""


def test_orders_past_the_horizon_count_on_neither_side(
    central: Central, store: TestStore, tablet: Tablet, make_tablet: MakeTablet
) -> None:
    """A tablet that pulled an order as it ended keeps it; a tablet that takes the snapshot
    later does not get it: both agree with central, now and once it is past the horizon."""
    tablet.replica_may_differ = False
    sold = sell(central, store, [(store.skus[0], 1)])
    assert tablet.sync().ok
    newcomer = make_tablet("tablet-2")
    assert newcomer.sync().ok
    engine = make_engine(central.server.database_url)
    try:
        for days in (0, 30, 61, 90):
            at = datetime.now(UTC) + timedelta(days=days)
            with engine.connect() as conn:
                expected = digests.checksums(conn, store.store_id, at, 30)
            for t in (tablet, newcomer):
                with t.local() as local:
                    assert local.checksums(at) == expected, (days, t.path.name)
    finally:
        engine.dispose()
    with tablet.local() as local:
        assert local.order(sold) is not None
