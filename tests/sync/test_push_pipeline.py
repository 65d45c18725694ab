"""The pipelined push (sync/engine.py) against a real central and a real tablet store.

Batch k+1 is read and validated while central applies batch k, and sent as soon as
response k arrives; these tests break it where it can break: a lost response in the
middle of a pass, a batch central stops early, a real gap in the middle of a pass, a
batch halved mid-pass. Faults come from the transport seam (`FaultyTransport`) or from
central's own failure path (an order no rule can read); fixtures: tests/sync/conftest.py.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from central.db.engine import make_engine
from central.db.tables import orders
from tests.support.central import Central, TestStore
from tests.support.faults import FaultyTransport
from tests.support.tablet import Tablet, enroll_tablet

PUSH = "/v1/sync/push"


class RecordingTransport(FaultyTransport):
    """A FaultyTransport that also keeps the status of every push central answered."""

    def __init__(self) -> None:
        super().__init__()
        self.push_statuses: list[int] = []
        self.push_first_seqs: list[int] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == PUSH:
            self.push_first_seqs.append(json.loads(request.read())["ops"][0]["seq"])
        response = super().handle_request(request)
        if request.url.path == PUSH:
            self.push_statuses.append(response.status_code)
        return response


@pytest.fixture
def tablet(
    central: Central, store: TestStore, tmp_path: Path, transports: list[FaultyTransport]
) -> Tablet:
    transport = RecordingTransport()
    transports.append(transport)
    return enroll_tablet(central, store.store_id, tmp_path / "tablet.db", transport, "tablet")


def stocked_order(central: Central, store: TestStore, qty: int, line: int = 0) -> dict[str, Any]:
    sku = store.skus[line]
    central.oms.post(
        f"/v1/oms/stores/{store.store_id}/stock",
        json=[{"sku": sku, "location": store.locations[sku], "qty": qty + 10}],
    ).raise_for_status()
    return central.order(store, [(sku, qty)])


def queue_scans(tablet: Tablet, store: TestStore, order: dict[str, Any], n: int) -> None:
    sku = order["lines"][0]["sku"]
    scan = {"order_id": order["order_id"], "line_id": "1", "gtin": store.gtins[sku], "qty": 1}
    with tablet.local() as local:
        for start in range(0, n, 100):
            gesture = [("pick.scan", scan)] * min(100, n - start)
            assert all(r.queued for r in local.act_many("E1", gesture, datetime.now(UTC)))


def picked(central: Central, order: dict[str, Any]) -> int:
    done: int = central.get_order(order["order_id"])["lines"][0]["picked"]
    return done


def first_seqs(tablet: Tablet) -> list[int]:
    assert isinstance(tablet.transport, RecordingTransport)
    return tablet.transport.push_first_seqs


def statuses(tablet: Tablet) -> list[int]:
    assert isinstance(tablet.transport, RecordingTransport)
    return tablet.transport.push_statuses


def test_the_outbox_is_read_after_a_given_seq(
    central: Central, store: TestStore, tablet: Tablet
) -> None:
    order = stocked_order(central, store, 10)
    assert tablet.sync().ok
    queue_scans(tablet, store, order, 6)
    with tablet.local() as local:
        assert [op["seq"] for op in local.pending(10)] == [1, 2, 3, 4, 5, 6]
        assert [op["seq"] for op in local.pending(2, after_seq=2)] == [3, 4]
        assert [op["seq"] for op in local.pending(10, after_seq=5)] == [6]
        assert local.pending(10, after_seq=6) == []
        # the push body's form: each op's JSON text, the same envelope as `pending` gives
        assert [seq for seq, _ in local.pending_json(2, after_seq=2)] == [3, 4]
        assert [json.loads(text or "") for _, text in local.pending_json(10)] == local.pending(10)
        assert local.pending_json(10, after_seq=6) == []
    with sqlite3.connect(tablet.path) as conn:  # a payload that is no JSON: no text for it
        conn.execute("UPDATE outbox SET payload = '{''order_id'': no' WHERE seq = 6")
    with tablet.local() as local:
        assert [text is None for _, text in local.pending_json(2, after_seq=4)] == [False, True]


def test_a_full_outbox_goes_in_back_to_back_batches_with_progress(
    central: Central, store: TestStore, tablet: Tablet
) -> None:
    order = stocked_order(central, store, 1700)
    assert tablet.sync().ok
    queue_scans(tablet, store, order, 1700)

    report = tablet.sync()
    assert (report.ok, report.pushed, report.waiting, report.duplicates) == (True, 1700, 0, 0)
    assert picked(central, order) == 1700
    assert first_seqs(tablet) == [1, 501, 1001, 1501]
    assert statuses(tablet) == [200] * 4
    sending = [p.words for p in tablet.progress if p.phase == "sending"]
    assert sending == [f"Sending {n}/1700" for n in (500, 1000, 1500, 1700)]
    with tablet.local() as local:
        assert local.outbox() == []
        assert sorted(op.seq for op in local.op_log(limit=5000)) == list(range(1, 1701))


@pytest.mark.parametrize("lost", [1, 2], ids=["first-batch", "second-batch"])
def test_a_lost_response_mid_pass_still_applies_every_op_exactly_once(
    central: Central, store: TestStore, tablet: Tablet, lost: int
) -> None:
    order = stocked_order(central, store, 1700)
    assert tablet.sync().ok
    queue_scans(tablet, store, order, 1700)
    tablet.transport.lose_response(PUSH, after=lost - 1)

    broken = tablet.sync()
    acknowledged = 500 * (lost - 1)  # the batches before the lost one
    assert (broken.ok, broken.offline) == (False, True)
    assert (broken.pushed, broken.waiting) == (acknowledged, 1700 - acknowledged)
    # central committed the lost batch; the batch read behind it was not sent
    assert picked(central, order) == 500 * lost
    assert tablet.transport.calls[PUSH] == lost

    retried = tablet.sync()
    assert (retried.ok, retried.waiting) == (True, 0)
    assert (retried.pushed, retried.duplicates) == (1700 - acknowledged, 500)
    assert picked(central, order) == 1700
    with tablet.local() as local:
        assert local.outbox() == []
        log = local.op_log(limit=5000)
        assert sorted(op.seq for op in log) == list(range(1, 1701))
        assert sum(op.status == "duplicate" for op in log) == 500
        assert {op.original_status for op in log if op.status == "duplicate"} == {"applied"}


def test_a_batch_central_stops_early_is_no_seq_gap_and_is_sent_again(
    central: Central, store: TestStore, tablet: Tablet
) -> None:
    order = stocked_order(central, store, 1300)
    broken = stocked_order(central, store, 5, line=1)
    assert tablet.sync().ok  # the tablet knows both orders
    engine = make_engine(central.server.database_url)
    with engine.begin() as conn:  # a row no rule can read: every op on it fails on central
        conn.execute(
            update(orders).where(orders.c.order_id == broken["order_id"]).values(data={"x": 1})
        )
    engine.dispose()
    queue_scans(tablet, store, order, 299)
    queue_scans(tablet, store, broken, 1)  # seq 300, in the middle of the first batch
    queue_scans(tablet, store, order, 900)

    first = tablet.sync()  # the 1st batch stops at #300, the 2nd (from #501) was read ahead
    assert (first.ok, first.offline, first.pushed, first.waiting) == (False, False, 299, 901)
    assert first.error_in_words == "Central could not process change #300 yet; it will be retried."
    # what was read ahead was never sent: each push started at the first op not acknowledged
    assert first_seqs(tablet) == [1, 300]
    assert statuses(tablet) == [200, 200]  # no 409 SEQ_GAP
    assert picked(central, order) == 299
    with tablet.local() as local:
        assert local.sync_state().last_error == first.error_in_words

    second = tablet.sync()  # the 3rd failure sets #300 aside; the queue moves on
    assert (second.ok, second.pushed, second.waiting, second.attention) == (True, 901, 0, 1)
    assert "SEQ_GAP" not in str(second.error_in_words)
    assert 409 not in statuses(tablet)
    assert first_seqs(tablet)[2:] == [300, 301, 801]
    assert picked(central, order) == 1199
    with tablet.local() as local:
        assert local.outbox() == []
        log = {op.seq: op for op in local.op_log(limit=5000)}
        assert sorted(log) == list(range(1, 1201))
        assert (log[300].status, log[300].code) == ("rejected", "QUARANTINED")
        assert all(op.status == "applied" for seq, op in log.items() if seq != 300)


def test_a_real_gap_behind_a_whole_batch_is_still_told(
    central: Central, store: TestStore, tablet: Tablet
) -> None:
    order = stocked_order(central, store, 700)
    assert tablet.sync().ok
    queue_scans(tablet, store, order, 700)
    with sqlite3.connect(tablet.path) as conn:  # op 501 vanishes from this tablet
        conn.execute("DELETE FROM outbox WHERE seq = 501")

    report = tablet.sync()
    assert (report.ok, report.offline, report.pushed, report.waiting) == (False, False, 500, 199)
    assert report.error_in_words is not None
    assert "missing this tablet's change #501" in report.error_in_words
    assert "receiving goes on" in report.error_in_words
    assert statuses(tablet) == [200, 409]
    assert picked(central, order) == 500


def test_a_batch_too_large_mid_pass_is_halved_and_nothing_is_sent_twice(
    central: Central, store: TestStore, tablet: Tablet
) -> None:
    order = stocked_order(central, store, 1200)
    assert tablet.sync().ok
    queue_scans(tablet, store, order, 1200)
    with tablet.local() as local:
        one_batch = len(json.dumps(local.pending(500)))
    tablet.transport.limit_body(PUSH, one_batch * 3 // 4)  # 500 ops are too many, 250 fit

    report = tablet.sync()
    assert (report.ok, report.pushed, report.waiting, report.duplicates) == (True, 1200, 0, 0)
    assert picked(central, order) == 1200
    assert tablet.transport.faults[f"limit {PUSH}"] == 1
    # the batch read behind the refused one was dropped; the halves go back to back
    assert first_seqs(tablet) == [1, 1, 251, 501, 751, 1001]
    assert statuses(tablet) == [413] + [200] * 5
