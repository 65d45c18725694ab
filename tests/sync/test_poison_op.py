"""A damaged op in a tablet's outbox is that op's problem: the real engine sends it, central
refuses it alone (`INVALID_OP`), and everything queued after it still syncs. Against central
on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.central import Central, TestStore
from tests.support.faults import FaultyTransport
from tests.support.tablet import Tablet, enroll_tablet


@pytest.fixture
def store(any_central: Central) -> TestStore:
    return any_central.new_store()


@pytest.fixture
def tablet(any_central: Central, store: TestStore, tmp_path: Path) -> Iterator[Tablet]:
    transport = FaultyTransport()
    yield enroll_tablet(any_central, store.store_id, tmp_path / "t1.db", transport, "t1")
    transport.shutdown()


def _three_scans_queued(central: Central, store: TestStore, tablet: Tablet) -> dict[str, Any]:
    """An order of 3 units the tablet knows, with its 3 scans waiting in the outbox."""
    order = central.order(store, [(store.skus[0], 3)])
    assert tablet.sync().ok
    tablet.scan(store, order, times=3)
    return order


def test_a_damaged_op_in_the_outbox_is_refused_alone_and_the_ops_after_it_sync(
    any_central: Central, store: TestStore, tablet: Tablet
) -> None:
    order = _three_scans_queued(any_central, store, tablet)
    with sqlite3.connect(tablet.path) as conn:  # an op saved with nobody's name on it
        conn.execute("UPDATE outbox SET actor_id = '' WHERE seq = 2")
    report = tablet.sync()
    assert report.waiting == 0, report.error_in_words
    assert any_central.get_order(order["order_id"])["lines"][0]["picked"] == 2
    with tablet.local() as local:
        [refused] = local.op_log(attention_only=True)
    assert (refused.seq, refused.status, refused.code) == (2, "rejected", "INVALID_OP")
    assert refused.message is not None and refused.message.startswith("actor_id")
    codes = [
        x["code"] for x in any_central.oms.get(f"/v1/oms/stores/{store.store_id}/exceptions").json()
    ]
    assert codes == ["INVALID_OP"]


def test_an_op_that_cannot_be_sent_at_all_stops_the_push_in_words_and_the_pull_goes_on(
    any_central: Central, store: TestStore, tablet: Tablet
) -> None:
    order = _three_scans_queued(any_central, store, tablet)
    with sqlite3.connect(tablet.path) as conn:  # the tablet's file damaged under the app
        conn.execute("UPDATE outbox SET op_id = 'not-a-uuid' WHERE seq = 2")
    later = any_central.order(store, [(store.skus[0], 1)])  # news for the pull

    report = tablet.sync()
    assert (report.ok, report.offline, report.pushed, report.waiting) == (False, False, 0, 3)
    assert report.error_in_words is not None
    assert "(from #1) is damaged and cannot be sent" in report.error_in_words
    assert "call support" in report.error_in_words
    assert any_central.get_order(order["order_id"])["lines"][0]["picked"] == 0
    with tablet.local() as local:  # the pull still ran; the changes wait, unchanged
        assert local.order(later["order_id"]) is not None
        assert [op["seq"] for op in local.pending(10)] == [1, 2, 3]
