"""The drills' verdict catches what it claims to: an op that never reached central, a
replica that differs from central, a conflict nobody is told of."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tests.support.central import Central
from tests.support.faults import FaultyTransport
from tests.support.tablet import enroll_tablet

from .store_day import open_store
from .verdict import check


def test_the_verdict_holds_for_a_synced_tablet_and_names_a_lost_op_and_a_stale_replica(
    central: Central, tmp_path: Path
) -> None:
    store = open_store(central)
    order = central.order(store, [(store.skus[0], 2)])
    transport = FaultyTransport()
    try:
        tablet = enroll_tablet(central, store.store_id, tmp_path / "t1.db", transport, "t1")
        assert tablet.sync().ok
        tablet.scan(store, order)
        assert tablet.sync().ok
        assert check(central.server.database_url, store.store_id, [tablet.path]).ok

        transport.unplug()
        tablet.scan(store, order)  # saved on the tablet, never sent
        verdict = check(central.server.database_url, store.store_id, [tablet.path])
        assert verdict.lost == 1
        assert verdict.problems["lost"][0] == "t1: 1 op(s) still in the outbox"

        transport.plug_in()
        assert tablet.sync().ok
        central.oms.post(f"/v1/oms/orders/{order['order_id']}/cancel", json={"reason": "x"})
        verdict = check(central.server.database_url, store.store_id, [tablet.path])
        assert verdict.lost == 0
        assert any(
            p.startswith(f"t1: order {order['order_id']} is v")
            for p in verdict.problems["replicas"]
        )
    finally:
        transport.shutdown()


def test_the_verdict_names_a_refused_claim_that_is_off_the_attention_list(
    central: Central, tmp_path: Path
) -> None:
    store = open_store(central)
    oid = central.order(store, [(store.skus[0], 1)])["order_id"]
    transports = [FaultyTransport(), FaultyTransport()]
    try:
        a, b = (
            enroll_tablet(central, store.store_id, tmp_path / f"{n}.db", t, n)
            for n, t in zip(("a", "b"), transports, strict=True)
        )
        for tablet in (a, b):
            assert tablet.sync().ok
        with a.local() as local:
            assert local.act("E1", "order.claim", {"order_id": oid}, _now()).queued
        with b.local() as local:
            assert local.act("E2", "order.claim", {"order_id": oid}, _now()).queued
        for tablet in (a, b, a, b):
            assert tablet.sync().ok
        assert check(central.server.database_url, store.store_id, [a.path, b.path]).ok

        with b.local() as local:
            local.mark_seen()  # as if nobody had to see it
        verdict = check(central.server.database_url, store.store_id, [a.path, b.path])
        [told] = verdict.problems["visible"]
        assert told.startswith("order.claim ") and told.endswith(
            " ALREADY_CLAIMED is not on its attention list"
        )
    finally:
        for t in transports:
            t.shutdown()


def _now() -> datetime:
    return datetime.now(UTC)
