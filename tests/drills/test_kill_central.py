"""Drill 3: central killed (SIGKILL of its `central serve` process) while a tablet pushes
and while one pulls, then started again on the same database; on SQLite and, with
CENTRAL_TEST_PG, on PostgreSQL."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sync.engine import SyncReport
from tests.support.central import (
    Central,
    CentralProcess,
    fresh_pg_database,
    pg_url,
    running_central,
)
from tests.support.faults import FaultyTransport
from tests.support.tablet import Tablet, enroll_tablet

from .figures import Figures, Plan
from .store_day import STAFF, converge, open_store, release
from .verdict import Verdict, check, conclude_all
from .workload import Floor


class Watching(FaultyTransport):
    """The real transport; `arm(path)` returns an event set when the next request to `path`
    is on its way to central."""

    def __init__(self) -> None:
        super().__init__()
        self._armed: dict[str, threading.Event] = {}

    def arm(self, path: str) -> threading.Event:
        event = threading.Event()
        self._armed[path] = event
        return event

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        event = self._armed.pop(request.url.path, None)
        if event is not None:
            event.set()
        return super().handle_request(request)


@pytest.fixture(params=["sqlite", "postgresql"])
def own_central(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Central, str]]:
    """central in its own process (so it can be killed), on a fresh SQLite file or PG database."""
    if request.param == "sqlite":
        with running_central(f"sqlite:///{tmp_path / 'central.db'}", own_process=True) as c:
            yield c, "SQLite"
        return
    url = pg_url()
    if url is None:
        pytest.skip("CENTRAL_TEST_PG is not set: PostgreSQL runs are skipped")
    with fresh_pg_database(url) as db_url, running_central(db_url, own_process=True) as c:
        yield c, "PostgreSQL"


def _kill_during(central: Central, tablet: Tablet, path: str, rng: random.Random) -> SyncReport:
    """Start a pass of `tablet`, SIGKILL central once its request to `path` left, restart."""
    assert isinstance(tablet.transport, Watching)
    leaving = tablet.transport.arm(path)
    reports: list[SyncReport] = []
    passing = threading.Thread(target=lambda: reports.append(tablet.sync()))
    passing.start()
    assert leaving.wait(30), f"no request to {path}"
    time.sleep(rng.uniform(0, 0.01))
    server = central.server
    assert isinstance(server, CentralProcess)
    server.kill()
    passing.join(60)
    server.start()
    return reports[0]


def test_central_killed_mid_push_and_mid_pull_and_restarted_loses_and_doubles_nothing(
    own_central: tuple[Central, str], tmp_path: Path, plan: Plan, record: list[Figures]
) -> None:
    central, database = own_central
    runs: list[tuple[Verdict, Figures, int]] = []
    for seed in plan.seeds(fast=1, full=2):
        rng = random.Random(seed)
        figures = Figures("kill -9 central (mid-push, mid-pull)", database, seed)
        record.append(figures)
        store = open_store(central, stock=20)
        release(central, store, rng, plan.scale(10, 24))
        transports = [Watching(), Watching()]
        try:
            tablets = []
            for n, transport in enumerate(transports):
                path = tmp_path / f"s{seed}-{database}-tablet-{n + 1}.db"
                tablets.append(enroll_tablet(central, store.store_id, path, transport, path.stem))
            for tablet in tablets:
                tablet.pull_limit = 5  # many pages: a pull lasts long enough to be cut
                assert tablet.sync().ok
            floors = [
                Floor(t.path, who, STAFF[who], store.gtins)
                for t, who in zip(tablets, ("E1", "E2"), strict=True)
            ]
            back = time.monotonic()
            try:
                for kill in range(plan.scale(2, 6)):
                    for _ in range(plan.scale(20, 80)):  # queued while central is up
                        for floor in floors:
                            if floor.step(rng):
                                figures.actions += 1
                    pusher, puller = tablets if kill % 2 == 0 else tablets[::-1]
                    route = "/v1/sync/push" if kill % 2 == 0 else "/v1/sync/pull"
                    if route == "/v1/sync/pull":
                        pusher.sync()  # the other one has many changes to page through
                    cut = _kill_during(central, pusher if "push" in route else puller, route, rng)
                    back = time.monotonic()
                    figures.faults[f"SIGKILL central {route.rsplit('/', 1)[1]}"] += 1
                    assert not cut.ok or cut.waiting == 0
            finally:
                for floor in floors:
                    floor.close()
            converge([t.sync for t in tablets])
            figures.converged(time.monotonic() - back)
        finally:
            for transport in transports:
                transport.shutdown()
        verdict = check(central.server.database_url, store.store_id, [t.path for t in tablets])
        runs.append((verdict, figures, seed))
    conclude_all(runs)
