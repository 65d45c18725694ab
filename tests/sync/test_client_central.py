"""`CentralClient` against a real central on a loopback port."""

from __future__ import annotations

import threading
from collections.abc import Generator, Iterator
from datetime import UTC, datetime
from typing import Any, cast
from uuid import uuid4

import pytest

from central.db.engine import make_engine
from central.service.auth import revoke_device
from sync.client import CentralClient
from sync.errors import Offline, RequestRejected, SeqGap, SeqReused, Unauthorized
from sync.protocol import Change, EnrollResponse
from tests.support.central import Central, TestStore
from tests.support.faults import FaultyTransport


@pytest.fixture
def store(central: Central) -> TestStore:
    return central.new_store()


@pytest.fixture
def device(central: Central, store: TestStore) -> EnrollResponse:
    with CentralClient(central.url) as client:
        return client.enroll(central.enroll_code(store.store_id), "tablet-1")


@pytest.fixture
def client(central: Central, device: EnrollResponse) -> Iterator[CentralClient]:
    with CentralClient(central.url, device.token) as client:
        yield client


def scan_op(device: EnrollResponse, seq: int, order_id: str = "W-1") -> dict[str, Any]:
    return {
        "op_id": str(uuid4()),
        "device_id": device.device_id,
        "seq": seq,
        "actor_id": "E1",
        "type": "task.done",
        "payload": {"task_id": "T-unknown"},
        "occurred_at": datetime.now(UTC).isoformat(),
    }


def test_enrolling_gives_this_store_a_device_and_a_token(
    device: EnrollResponse, store: TestStore
) -> None:
    assert device.store_id == store.store_id
    assert device.device_id and device.token


@pytest.mark.parametrize(("reuse", "code"), [(False, "INVALID_CODE"), (True, "CODE_USED")])
def test_a_bad_enrollment_code_is_unauthorized_with_central_reason(
    central: Central, store: TestStore, reuse: bool, code: str
) -> None:
    enroll_code = central.enroll_code(store.store_id) if reuse else "NOPE-1234"
    with CentralClient(central.url) as client:
        if reuse:
            client.enroll(enroll_code, "first")
        with pytest.raises(Unauthorized) as caught:
            client.enroll(enroll_code, "second")
    assert caught.value.code == code


def test_a_revoked_tablet_is_refused_on_its_next_call(
    central: Central, device: EnrollResponse, client: CentralClient
) -> None:
    client.pull(None, 10)
    engine = make_engine(central.server.database_url)
    try:
        revoke_device(engine, device.device_id)
    finally:
        engine.dispose()
    with pytest.raises(Unauthorized) as caught:
        client.pull(None, 10)
    assert caught.value.code == "DEVICE_REVOKED"


def test_a_call_without_a_token_is_unauthorized(central: Central) -> None:
    with CentralClient(central.url) as client, pytest.raises(Unauthorized):
        client.pull(None, 10)


def test_a_push_past_the_next_expected_seq_is_a_seq_gap(
    device: EnrollResponse, client: CentralClient
) -> None:
    with pytest.raises(SeqGap) as caught:
        client.push(device_id=device.device_id, ops=[scan_op(device, 5)])
    assert caught.value.expected_seq == 1


def test_a_seq_sent_again_with_another_op_id_is_seq_reused(
    device: EnrollResponse, client: CentralClient
) -> None:
    first = client.push(device_id=device.device_id, ops=[scan_op(device, 1)])
    assert [r.seq for r in first.results] == [1]
    with pytest.raises(SeqReused):
        client.push(device_id=device.device_id, ops=[scan_op(device, 1)])


def test_the_same_op_sent_twice_comes_back_duplicate_with_its_first_result(
    device: EnrollResponse, client: CentralClient
) -> None:
    op = scan_op(device, 1)
    first = client.push(device_id=device.device_id, ops=[op]).results[0]
    again = client.push(device_id=device.device_id, ops=[op]).results[0]
    assert (again.status, again.original_status) == ("duplicate", first.status)
    assert (again.code, again.message) == (first.code, first.message)


def test_ops_not_contiguous_in_seq_are_an_invalid_request(
    device: EnrollResponse, client: CentralClient
) -> None:
    with pytest.raises(RequestRejected) as caught:
        client.push(device_id=device.device_id, ops=[scan_op(device, 1), scan_op(device, 3)])
    assert caught.value.code == "INVALID_REQUEST" and caught.value.status_code == 422


def test_the_snapshot_streams_its_header_and_then_exactly_its_changes(
    central: Central, store: TestStore, client: CentralClient
) -> None:
    central.order(store, [(store.skus[0], 1)])
    header, changes = client.snapshot()
    with changes:
        received = list(changes)
    assert header.count == len(received) > 0
    assert all(isinstance(c, Change) for c in received)
    assert {c.kind for c in received} >= {"store", "item", "staff", "order"}
    page = client.pull(header.cursor, 1000)
    assert page.changes == [] and not page.has_more


def test_a_snapshot_cut_short_raises_offline_instead_of_ending_early(
    central: Central, store: TestStore, device: EnrollResponse
) -> None:
    transport = FaultyTransport()
    transport.cut_stream("/v1/sync/snapshot", 400)  # gzip: past the header, short of the end
    try:
        with CentralClient(central.url, device.token, transport=transport) as client:
            header, changes = client.snapshot()
            with pytest.raises(Offline):
                list(changes)
    finally:
        transport.shutdown()
    assert header.count > 0


def test_pull_pages_follow_the_cursor_until_has_more_is_false(
    central: Central, store: TestStore, client: CentralClient
) -> None:
    for _ in range(4):
        central.order(store, [(store.skus[0], 1)])
    seen, cursor, pages = [], None, 0
    while True:
        page = client.pull(cursor, 5)
        pages += 1
        seen += [(c.kind, c.id) for c in page.changes]
        cursor = page.cursor
        if not page.has_more:
            break
    assert pages > 1
    assert len(seen) == len(set(seen))
    _header, changes = client.snapshot()
    with changes:
        assert sorted(seen) == sorted((c.kind, c.id) for c in changes)


def test_events_poke_with_the_newest_change_seq(
    central: Central, store: TestStore, device: EnrollResponse
) -> None:
    with CentralClient(central.url, device.token) as client:
        pokes = cast(Generator[int, None, None], client.events(read_timeout=10))
        first = next(pokes)
        threading.Timer(0.2, lambda: central.order(store, [(store.skus[0], 1)])).start()
        second = next(pokes)
        pokes.close()
    assert second > first


def test_a_stopped_central_is_offline_and_answers_again_once_started(
    central: Central, client: CentralClient
) -> None:
    central.stop()
    with pytest.raises(Offline):
        client.pull(None, 10)
    central.start()
    assert client.pull(None, 10).cursor
