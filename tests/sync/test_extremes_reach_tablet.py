"""What central stores, every tablet can load (issue #7, finding 4), end to end.

An older or buggy central stored values today's API refuses: they are written straight
into central's own database here (the test's own SQLAlchemy engine on central's tables,
as that central would have stored them), on SQLite and on PostgreSQL. A real tablet then
enrolls and syncs through the real engine: the first download (the snapshot) and later
pulls land, the pick queue renders, and the bad order is there with a clamped due time.

A retailer's own central may even send changes that are not changes at all (not an
object, no id, data that is not an object): those are left out with a log line, and the
rest of the page, its cursor with it, lands.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select, update

from central.db.engine import make_engine
from central.db.tables import stores, sync_docs
from storeapp.local import LocalStore
from storeapp.local._intake import MAX_MOMENT, MIN_MOMENT
from storeapp.viewmodels import PickListVM
from sync.client import CentralClient
from tests.support.central import Central, TestStore
from tests.support.faults import FaultyTransport
from tests.support.tablet import Tablet, enroll_tablet

YEAR_ONE = "0001-01-01T00:00:00+01:00"
CALENDAR_END = "9999-12-31T23:59:59-05:00"
HUGE = 10**30  # beyond 64 bits


def publish_raw(central: Central, store_id: str, kind: str, id_: str, data: Any) -> None:
    """Store a document in central's change feed as an older central did: unchecked, with
    the store's next change number (so that pulls and snapshots send it)."""
    engine = make_engine(central.server.database_url)
    try:
        with engine.begin() as conn:
            seq = (
                1
                + conn.execute(
                    select(stores.c.change_seq)
                    .where(stores.c.store_id == store_id)
                    .with_for_update()
                ).scalar_one()
            )
            conn.execute(update(stores).where(stores.c.store_id == store_id).values(change_seq=seq))
            where = (
                (sync_docs.c.store_id == store_id)
                & (sync_docs.c.kind == kind)
                & (sync_docs.c.entity_id == id_)
            )
            if conn.execute(select(sync_docs.c.version).where(where)).first() is not None:
                conn.execute(update(sync_docs).where(where).values(version=seq, data=data))
            else:
                conn.execute(
                    insert(sync_docs).values(
                        store_id=store_id,
                        kind=kind,
                        entity_id=id_,
                        version=seq,
                        deleted=False,
                        data=data,
                    )
                )
    finally:
        engine.dispose()


def stored_doc(central: Central, store_id: str, kind: str, id_: str) -> dict[str, Any]:
    engine = make_engine(central.server.database_url)
    try:
        with engine.connect() as conn:
            data = conn.execute(
                select(sync_docs.c.data).where(
                    sync_docs.c.store_id == store_id,
                    sync_docs.c.kind == kind,
                    sync_docs.c.entity_id == id_,
                )
            ).scalar_one()
    finally:
        engine.dispose()
    return dict(data)


@pytest.fixture
def transport() -> Iterator[FaultyTransport]:
    made = FaultyTransport()
    yield made
    made.shutdown()


def test_extremes_an_older_central_stored_reach_a_tablet_that_enrolls_and_syncs(
    any_central: Central, tmp_path: Path, transport: FaultyTransport
) -> None:
    central = any_central
    store = central.new_store()
    early = central.order(store, [(store.skus[0], 1)], order_id=f"W-EARLY-{store.store_id}")
    normal = central.order(store, [(store.skus[1], 1)], order_id=f"W-OK-{store.store_id}")
    sqlite = central.server.database_url.startswith("sqlite")

    order = stored_doc(central, store.store_id, "order", early["order_id"])
    order["due_at"] = YEAR_ONE
    order["customer"]["name"] = "x" * 100_000
    publish_raw(central, store.store_id, "order", early["order_id"], order)
    store_doc = stored_doc(central, store.store_id, "store", store.store_id)
    store_doc["policy"] = {
        **store_doc["policy"],
        # PostgreSQL's JSON has no Infinity: a central there would have sent it as text
        "variance_pct": float("inf") if sqlite else "Infinity",
        "at_risk_minutes": HUGE,
        "max_orders_per_pick_list": 0,
    }
    publish_raw(central, store.store_id, "store", store.store_id, store_doc)
    item = stored_doc(central, store.store_id, "item", store.skus[2])
    item.update(name="y" * 100_000, location_seq=HUGE, gtins=[5])
    publish_raw(central, store.store_id, "item", store.skus[2], item)

    tablet = enroll_tablet(central, store.store_id, tmp_path / "t1.db", transport, "t1")
    # written straight into sync_docs, past the flush that keeps the checksums,
    # and repaired by the tablet's intake: its replica cannot match them
    tablet.replica_may_differ = True
    first = tablet.sync()  # the first download: the snapshot

    assert first.ok, first.error_in_words
    with tablet.hands("E1", "1111") as ana:
        rows = {r.order_id: r for r in ana.queue.screen().rows}
        assert rows[early["order_id"]].due_at == MIN_MOMENT
        assert rows[early["order_id"]].late
        assert normal["order_id"] in rows
        assert ana.queue.screen().max_selection == 10  # the policy's default

    later = central.order(store, [(store.skus[3], 1)], order_id=f"W-LATE-{store.store_id}")
    order = stored_doc(central, store.store_id, "order", later["order_id"])
    order.update(due_at=CALENDAR_END, priority=HUGE, claimed_at="not a time")
    publish_raw(central, store.store_id, "order", later["order_id"], order)
    task = {"task_id": "T-X", "kind": "recount", "qty": HUGE, "created_at": YEAR_ONE}
    publish_raw(central, store.store_id, "task", "T-X", task)
    naive = {"exception_id": "X-1", "code": "QUARANTINED", "created_at": "2025-03-03T08:00:00"}
    publish_raw(central, store.store_id, "exception", "X-1", {**naive, "state": "open"})

    second = tablet.sync()  # a pull page

    assert second.ok, second.error_in_words
    assert second.pulled >= 3
    with tablet.hands("M1", "999999") as maria:
        screen = maria.queue.screen()
        assert screen.rows[0].order_id == later["order_id"]  # priority clamped, still first
        assert screen.rows[0].due_at == MAX_MOMENT
        claimed = maria.queue.claim(early["order_id"])
        assert claimed.pick_list == (early["order_id"],), claimed.message
        pick = PickListVM(maria.store, maria.session).open(list(claimed.pick_list))
        assert pick.total_units == 1
        assert "T-X" in {t.task_id for t in maria.tasks.screen().rows}

    third = tablet.sync()  # the claim goes up; nothing is stuck
    assert third.ok and third.waiting == 0, third.error_in_words


# --- a central that sends changes that are not changes ------------------------------------

JUNK_CHANGES: list[Any] = [
    5,
    "order W-1",
    None,
    {"kind": "order"},  # no id, no version
    {"kind": "order", "id": 7, "version": 1, "data": {}},  # an id that is not text
    {"kind": "order", "id": "W-LIST", "version": 1, "data": [1, 2]},  # data not an object
    {"kind": "order", "id": "W-OP", "version": 1, "op": "explode", "data": {}},
]


class RetailersCentral(httpx.BaseTransport):
    """Real central behind a proxy that slips changes that are not changes into every pull
    page and snapshot (as a retailer's own central might send)."""

    def __init__(self) -> None:
        self._inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        path = request.url.path
        if path not in ("/v1/sync/pull", "/v1/sync/snapshot") or response.status_code != 200:
            return response
        body = response.read()
        response.close()
        if path == "/v1/sync/pull":
            page = json.loads(body)
            page["changes"] = [*JUNK_CHANGES, *page["changes"]]
            content = json.dumps(page).encode()
        else:
            header, *rest = body.split(b"\n")
            junk = [json.dumps(c).encode() for c in JUNK_CHANGES] + [b"{not json"]
            content = b"\n".join([header, *junk, *rest])
        return httpx.Response(
            200,
            headers={"content-type": response.headers["content-type"]},
            content=content,
            request=request,
        )

    def close(self) -> None:
        """Each pass closes its client; the pool outlives it."""

    def shutdown(self) -> None:
        self._inner.close()


def test_changes_that_are_not_changes_are_left_out_and_the_pulls_move_on(
    central: Central, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="sync.client")
    store: TestStore = central.new_store()
    first = central.order(store, [(store.skus[0], 1)])
    proxy = RetailersCentral()
    try:
        code = central.enroll_code(store.store_id)
        with CentralClient(central.url, transport=proxy) as client:
            enrolled = client.enroll(code, "t1")
        with LocalStore(tmp_path / "t1.db") as local:
            local.enroll(enrolled, central.url)
        tablet = Tablet(tmp_path / "t1.db", proxy)  # type: ignore[arg-type]

        downloaded = tablet.sync()  # snapshot + a pull page, both with junk in them
        second = central.order(store, [(store.skus[1], 1)])
        pulled = tablet.sync()
        again = tablet.sync()
    finally:
        proxy.shutdown()

    assert downloaded.ok, downloaded.error_in_words
    assert pulled.ok and pulled.pulled >= 1, pulled.error_in_words
    assert again.ok and again.pulled == 0  # the cursor moved past the junk: nothing new
    with tablet.local() as local:
        assert {first["order_id"], second["order_id"]} <= {
            o.order_id for o in local.orders_in(["released"])
        }
        assert local.order("W-LIST") is None and local.order("W-OP") is None
    skipped = [r.getMessage() for r in caplog.records if "change_skipped" in r.getMessage()]
    # every junk change of the snapshot (and its unreadable line), and of each of 3 pages
    assert len(skipped) == (len(JUNK_CHANGES) + 1) + 3 * len(JUNK_CHANGES)


def test_a_tablet_with_a_year_one_order_syncs_again_and_again(
    central: Central, tmp_path: Path, transport: FaultyTransport
) -> None:
    """The sync pass never fails forever on one bad document: each pass is ok."""
    store = central.new_store()
    tablet: Tablet = enroll_tablet(central, store.store_id, tmp_path / "t.db", transport, "t")
    # written straight into sync_docs, past the flush that keeps the checksums,
    # and repaired by the tablet's intake: its replica cannot match them
    tablet.replica_may_differ = True
    assert tablet.sync().ok
    made = central.order(store, [(store.skus[0], 1)])
    order = stored_doc(central, store.store_id, "order", made["order_id"])
    publish_raw(central, store.store_id, "order", made["order_id"], {**order, "due_at": YEAR_ONE})

    reports = [tablet.sync() for _ in range(3)]

    assert all(r.ok for r in reports), [r.error_in_words for r in reports]
    with tablet.local() as local:
        found = local.order(made["order_id"])
        assert found is not None and found.due_at == datetime(2, 1, 1, tzinfo=UTC)
