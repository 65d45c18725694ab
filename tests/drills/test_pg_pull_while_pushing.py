"""Drill 4, on PostgreSQL: two tablets push while a third pulls without pause; the third
never skips a change (its replica equals central at the end) and sees the store's change
numbers in order (every page after the last, in order within a page)."""

from __future__ import annotations

import json
import random
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.support.central import Central, pg_url
from tests.support.faults import FaultyTransport
from tests.support.tablet import Tablet, enroll_tablet

from .figures import Figures, Plan
from .store_day import STAFF, converge, open_store, release
from .verdict import Verdict, check, conclude_all
from .workload import Floor


class PullLog(FaultyTransport):
    """The real transport, keeping the change numbers of every pull page it carried."""

    def __init__(self) -> None:
        super().__init__()
        self.pages: list[list[int]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.url.path == "/v1/sync/pull" and response.status_code == 200:
            body = response.read()
            page = json.loads(body)
            assert page.get("reset") is None, page["reset"]
            self.pages.append([int(c["version"]) for c in page["changes"]])
            return httpx.Response(200, headers=response.headers, content=body, request=request)
        return response


@pytest.fixture
def pg_central(request: pytest.FixtureRequest) -> Central:
    if pg_url() is None:
        pytest.skip("CENTRAL_TEST_PG is not set: this drill runs on PostgreSQL only")
    central: Central = request.getfixturevalue("_pg_central")
    return central


def test_a_tablet_pulling_while_two_push_on_postgresql_skips_no_change(
    pg_central: Central, tmp_path: Path, plan: Plan, record: list[Figures]
) -> None:
    runs: list[tuple[Verdict, Figures, int]] = []
    for seed in plan.seeds(fast=1, full=3):
        figures = Figures("2 push while 1 pulls (no change skipped)", "PostgreSQL", seed)
        record.append(figures)
        runs.append((_drill(pg_central, tmp_path, plan, seed, figures), figures, seed))
    conclude_all(runs)


def _drill(central: Central, tmp_path: Path, plan: Plan, seed: int, figures: Figures) -> Verdict:
    rng = random.Random(seed)
    store = open_store(central, stock=30)
    release(central, store, rng, plan.scale(12, 30))
    transports = [FaultyTransport(), FaultyTransport(), PullLog()]
    try:
        tablets: list[Tablet] = []
        for n, transport in enumerate(transports):
            path = tmp_path / f"s{seed}-tablet-{n + 1}.db"
            tablets.append(enroll_tablet(central, store.store_id, path, transport, path.stem))
        for tablet in tablets:
            assert tablet.sync().ok
        puller = tablets[2]
        puller.pull_limit = 7
        log = transports[2]
        assert isinstance(log, PullLog)
        log.pages.clear()
        rounds = plan.scale(10, 60)
        errors: list[BaseException] = []
        actions = [0, 0]

        def push(n: int) -> None:
            try:
                who = ("E1", "E2")[n]
                mine = random.Random(f"{seed}:{n}")
                with Floor(tablets[n].path, who, STAFF[who], store.gtins) as floor:
                    for _ in range(rounds):
                        for _ in range(mine.randint(1, 4)):
                            if floor.step(mine):
                                actions[n] += 1
                        tablets[n].sync()
            except BaseException as exc:
                errors.append(exc)

        pushers = [threading.Thread(target=push, args=(n,)) for n in (0, 1)]
        for thread in pushers:
            thread.start()
        while any(t.is_alive() for t in pushers):
            assert puller.sync().ok
        for thread in pushers:
            thread.join()
        assert not errors, errors
        done = time.monotonic()
        converge([t.sync for t in tablets])
        figures.converged(time.monotonic() - done)
        figures.actions = sum(actions)
    finally:
        for transport in transports:
            transport.shutdown()

    seen = [v for page in log.pages for v in page]
    assert seen == sorted(seen) and len(seen) == len(set(seen)), (
        f"DRILLS_SEED={seed}: change numbers seen out of order or twice: {log.pages}"
    )
    return check(central.server.database_url, store.store_id, [t.path for t in tablets])
