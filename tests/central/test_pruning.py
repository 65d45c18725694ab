"""Pruning the change log and op results (central/service/pruning.py), the `reset` a cursor
older than what was pruned gets, and the snapshot's horizon; on SQLite and PostgreSQL."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select

from central.db.engine import make_engine
from central.db.tables import change_marks, op_results
from central.service import pruning
from central.service.clock import utcnow
from tests.support.central import Central, TestStore, ok
from tests.support.device import RawDevice


@pytest.fixture
def engine(any_central: Central) -> Iterator[Engine]:
    e = make_engine(any_central.server.database_url)
    yield e
    e.dispose()


def pull_page(device: RawDevice, cursor: str | None) -> dict[str, Any]:
    return dict(ok(device.http.post("/v1/sync/pull", json={"cursor": cursor, "limit": 1000})))


def rows_of(ndjson: str) -> list[dict[str, Any]]:
    """The lines of a snapshot, without the header's time (two snapshots differ in it)."""
    return [
        {k: v for k, v in json.loads(line).items() if k != "server_time"}
        for line in ndjson.split("\n")
        if line
    ]


def cancel(central: Central, order_id: str) -> None:
    ok(central.oms.post(f"/v1/oms/orders/{order_id}/cancel", json={"reason": "customer"}))


def test_a_cursor_older_than_a_pruned_change_gets_reset_and_a_newer_one_does_not(
    any_central: Central, store: TestStore, tablets: tuple[RawDevice, RawDevice], engine: Engine
) -> None:
    behind, current = tablets
    behind.pull_all()  # this tablet then goes away for months
    ended = any_central.order(store, [(store.skus[0], 1)])["order_id"]
    cancel(any_central, ended)
    current.pull_all()  # this one saw the cancellation
    assert (
        pruning.prune(engine, 90, store_ids=[store.store_id]) == pruning.Pruned()
    )  # first run: it only marks
    assert pull_page(behind, behind.cursor)["reset"] is None

    pruned = pruning.prune(
        engine, 90, now=utcnow() + timedelta(days=91), store_ids=[store.store_id]
    )

    assert pruned.changes == 1  # the cancelled order's document left the feed
    page = pull_page(behind, behind.cursor)
    assert page["reset"] is not None and "retention" in page["reset"]["reason"]
    assert pull_page(current, current.cursor)["reset"] is None
    assert pull_page(behind, None)["reset"] is None  # a new tablet starts from nothing
    assert any_central.get_order(ended)["state"] == "cancelled"  # still on central


def test_an_open_order_and_a_recent_change_are_never_pruned(
    any_central: Central, store: TestStore, device: RawDevice, engine: Engine
) -> None:
    open_order = any_central.order(store, [(store.skus[0], 1)])["order_id"]
    device.pull_all()
    pruning.prune(engine, 90, store_ids=[store.store_id])
    assert (
        pruning.prune(
            engine, 90, now=utcnow() + timedelta(days=91), store_ids=[store.store_id]
        ).changes
        == 0
    )
    ended = any_central.order(store, [(store.skus[0], 1)])["order_id"]
    cancel(any_central, ended)  # after the last mark: younger than the retention
    assert (
        pruning.prune(
            engine, 90, now=utcnow() + timedelta(days=92), store_ids=[store.store_id]
        ).changes
        == 0
    )
    ids = {c["id"] for c in device.pull_all() if c["kind"] == "order"}
    assert ended in ids
    assert pull_page(device, device.cursor)["reset"] is None
    fresh = RawDevice(any_central, store, "new")
    try:
        assert open_order in {c["id"] for c in fresh.pull_all()}
    finally:
        fresh.close()


def test_op_results_past_the_retention_go_except_the_newest_a_device_may_send_again(
    any_central: Central,
    store: TestStore,
    device: RawDevice,
    engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pruning, "KEEP_RESULTS", 1)
    order_id = any_central.order(store, [(store.skus[0], 1)])["order_id"]
    sent = [device.op(t, {"order_id": order_id}) for t in ("order.claim", "order.release")]
    sent.append(device.op("order.claim", {"order_id": order_id}))
    assert [r["status"] for r in device.push(*sent)] == ["applied"] * 3

    assert pruning.prune(engine, 90, store_ids=[store.store_id]).results == 0  # not old yet
    assert (
        pruning.prune(
            engine, 90, now=utcnow() + timedelta(days=91), store_ids=[store.store_id]
        ).results
        == 2
    )

    with engine.connect() as conn:
        kept = conn.execute(
            select(op_results.c.seq).where(op_results.c.device_id == device.device_id)
        ).scalars()
        assert list(kept) == [3]
    again = device.push(sent[-1])[0]  # the last op sent again after a lost answer
    assert again["status"] == "duplicate"


def test_the_snapshot_leaves_out_orders_that_ended_before_the_returns_window(
    any_central: Central,
) -> None:
    store = any_central.new_store(policy={"return_window_days": 0})
    open_order = any_central.order(store, [(store.skus[0], 1)])["order_id"]
    ended = any_central.order(store, [(store.skus[1], 1)])["order_id"]
    cancel(any_central, ended)
    device = RawDevice(any_central, store)
    try:
        response = device.http.get("/v1/sync/snapshot")
        assert response.status_code == 200
        header, *changes = [json.loads(line) for line in response.text.splitlines()]
    finally:
        device.close()
    orders = {c["id"] for c in changes if c["kind"] == "order"}
    assert open_order in orders and ended not in orders
    assert header["count"] == len(changes)
    assert {"store", "item", "stock", "staff"} <= {c["kind"] for c in changes}


def test_the_snapshot_is_gzip_compressed_only_for_a_client_that_asks(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    any_central.order(store, [(store.skus[0], 1)])
    url = f"{any_central.url}/v1/sync/snapshot"
    auth = {"Authorization": f"Bearer {device.token}"}
    with httpx.stream("GET", url, headers={**auth, "Accept-Encoding": "gzip"}) as packed:
        assert packed.headers["content-encoding"] == "gzip"
        raw = b"".join(packed.iter_raw())
    plain = httpx.get(url, headers={**auth, "Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    unpacked = gzip.decompress(raw).decode()
    strip = [
        {k: v for k, v in json.loads(x).items() if k != "server_time"}
        for x in unpacked.split("\n")
        if x
    ]
    plain_rows = [
        {k: v for k, v in json.loads(x).items() if k != "server_time"}
        for x in plain.text.split("\n")
        if x
    ]
    assert strip == plain_rows and len(strip) == strip[0]["count"] + 1


def test_the_central_prune_command_reports_what_it_removed(
    any_central: Central, store: TestStore, engine: Engine
) -> None:
    from typer.testing import CliRunner

    from central.cli import app

    done = CliRunner().invoke(app, ["prune", "--database-url", any_central.server.database_url])
    assert done.exit_code == 0, done.output
    assert "pruned 0 change-log rows and 0 op results" in done.output
    with engine.connect() as conn:  # the run marked the store: the clock of its retention
        marks = conn.execute(
            select(func.count())
            .select_from(change_marks)
            .where(change_marks.c.store_id == store.store_id)
        ).scalar_one()
    assert marks == 1
