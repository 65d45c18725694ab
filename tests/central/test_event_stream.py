"""The event stream: one change listener per central process, fanned out to its streams.

A change written anywhere (another central process, any connection) wakes every open stream
of the store with a poke; the streams share the process's one listener (PostgreSQL: one
LISTEN connection; SQLite: one poller), however many are open.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack

import httpx
import pytest
from sqlalchemy import create_engine, text

from central.service.notify import ChangeHub
from tests.support.central import Central, CentralProcess, TestStore
from tests.support.device import RawDevice


def _hub(central: Central) -> ChangeHub:
    app = central.server.app
    assert app is not None
    hub = getattr(app.state, "change_hub", None)
    assert isinstance(hub, ChangeHub)
    return hub


class Stream:
    """An open GET /v1/sync/events, its pokes collected by a reader thread."""

    def __init__(self, device: RawDevice) -> None:
        self.seqs: list[int] = []
        self.own: list[bool] = []
        self._got = threading.Condition()
        self._cm = device.http.stream("GET", "/v1/sync/events", timeout=30)
        self._response = self._cm.__enter__()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for line in self._response.iter_lines():
                if line.startswith("data:"):
                    with self._got:
                        event = json.loads(line[5:])
                        self.seqs.append(event["seq"])
                        self.own.append(event.get("own") is True)
                        self._got.notify_all()
        except httpx.HTTPError:
            pass

    def poke_after(self, seq: int, timeout: float = 10.0) -> int:
        """The first poke with a seq above `seq` (fails after `timeout` seconds)."""
        with self._got:
            assert self._got.wait_for(lambda: any(s > seq for s in self.seqs), timeout), (
                f"no poke past {seq}: {self.seqs}"
            )
            return next(s for s in self.seqs if s > seq)

    def close(self) -> None:
        self._cm.__exit__(None, None, None)


@pytest.fixture
def streams() -> Iterator[list[Stream]]:
    made: list[Stream] = []
    yield made
    for s in made:
        s.close()


def test_a_stream_wakes_on_a_change_another_central_process_writes(
    any_central: Central, store: TestStore, device: RawDevice, streams: list[Stream]
) -> None:
    stream = Stream(device)
    streams.append(stream)
    first = stream.poke_after(-1)
    other = CentralProcess(any_central.server.database_url)  # its own engine and connections
    other.start()
    try:
        with httpx.Client(
            base_url=other.url, headers={"Authorization": f"Bearer {any_central.key}"}
        ) as oms:
            order = {
                "order_id": "W-other-process",
                "store_id": store.store_id,
                "type": "pickup",
                "customer": {"name": "Olivia Brown"},
                "due_at": "2030-01-01T12:00:00+00:00",
                "lines": [{"line_id": "1", "sku": store.skus[0], "qty": 1, "price": "4.99"}],
            }
            assert oms.post("/v1/oms/orders", json=order).status_code == 201
    finally:
        other.stop()
    assert stream.poke_after(first) > first


def test_many_streams_share_one_listener_and_all_wake(
    any_central: Central, store: TestStore, streams: list[Stream]
) -> None:
    other_store = any_central.new_store()
    with ExitStack() as devices:
        mine = [
            devices.enter_context(_closing(RawDevice(any_central, store, f"t{i}")))
            for i in range(4)
        ]
        theirs = [devices.enter_context(_closing(RawDevice(any_central, other_store, "o")))]
        for device in mine * 5 + theirs * 3:  # 20 streams of this store, 3 of another
            streams.append(Stream(device))
        firsts = [s.poke_after(-1) for s in streams]
        hub = _hub(any_central)
        assert hub.subscribers(store.store_id) == 20
        assert hub.subscribers(other_store.store_id) == 3
        if any_central.server.database_url.startswith("postgresql"):
            assert (hub.connections, hub.connections_opened) == (1, 1)
            assert _listen_connections(any_central.server.database_url) == 1
        else:
            polls, reads, started = hub.polls, hub.reads, time.monotonic()
            time.sleep(1.0)
            per_second = (hub.polls - polls) / (time.monotonic() - started)
            assert per_second < 10, f"{per_second:.1f} polls/s for 23 streams: one per stream?"
            assert hub.polls - polls >= 2
            # nothing was committed: the poller asked SQLite's data_version, not the stores
            # (a read every FULL_POLL_S may fall in this second)
            assert hub.reads - reads <= 1, f"{hub.reads - reads} reads of the stores, idle"

        any_central.order(store, [(store.skus[0], 1)])
        for s, first in zip(streams[:20], firsts, strict=False):
            assert s.poke_after(first) > first
        time.sleep(0.5)  # the other store's streams stay quiet
        assert all(s.seqs == [f] for s, f in zip(streams[20:], firsts[20:], strict=True))


def test_a_push_pokes_its_own_tablet_as_own_and_the_others_plainly(
    any_central: Central,
    store: TestStore,
    tablets: tuple[RawDevice, RawDevice],
    streams: list[Stream],
) -> None:
    a, b = tablets
    streams.extend([Stream(a), Stream(b)])
    first_a, first_b = (s.poke_after(-1) for s in streams)
    order = any_central.order(store, [(store.skus[0], 1)])
    after_a, after_b = streams[0].poke_after(first_a), streams[1].poke_after(first_b)
    assert (streams[0].own[-1], streams[1].own[-1]) == (False, False)  # the OMS wrote it

    assert a.push_one("order.claim", {"order_id": order["order_id"]})["status"] == "applied"
    claimed = streams[0].poke_after(after_a)
    assert streams[1].poke_after(after_b) == claimed
    assert (streams[0].own[-1], streams[1].own[-1]) == (True, False)


def test_a_closed_stream_leaves_the_hub(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    stream = Stream(device)
    stream.poke_after(-1)
    hub = _hub(any_central)
    assert hub.subscribers(store.store_id) == 1
    stream.close()
    deadline = time.monotonic() + 10  # noticed at the next keep-alive at the latest
    while hub.subscribers(store.store_id) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert hub.subscribers(store.store_id) == 0


def _listen_connections(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND query ILIKE 'LISTEN%'"
                    )
                ).scalar_one()
            )
    finally:
        engine.dispose()


class _closing:
    def __init__(self, device: RawDevice) -> None:
        self.device = device

    def __enter__(self) -> RawDevice:
        return self.device

    def __exit__(self, *exc: object) -> None:
        self.device.close()
