"""Drill 2: tablets sync through a fault proxy on loopback (tests/drills/proxy.py) that
loses answers, times out, resets connections, answers 5xx itself and sends requests to
central twice, on a seeded random schedule; the floor keeps working between passes."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from storeapp.local import LocalStore
from sync.client import CentralClient
from sync.engine import SyncEngine, SyncReport
from sync.replica import Identity
from tests.support.central import Central
from tests.support.faults import FaultyTransport
from tests.support.tablet import enroll_tablet

from .figures import Figures, Plan
from .proxy import FaultProxy
from .store_day import STAFF, cancel_one, converge, open_store, release
from .verdict import Verdict, check, conclude_all
from .workload import Floor

TIMEOUT = httpx.Timeout(1.0, connect=1.0)


def through(proxy: FaultProxy, path: Path) -> Callable[[], SyncReport]:
    """One real sync pass of the tablet at `path`, its requests through `proxy`."""

    def client(identity: Identity) -> CentralClient:
        return CentralClient(proxy.url, identity.token, timeout=TIMEOUT)

    engine = SyncEngine(lambda: LocalStore(path), client)
    return engine.run_once


def test_tablets_syncing_through_lost_answers_timeouts_resets_5xx_and_duplicates_agree(
    central: Central, tmp_path: Path, plan: Plan, record: list[Figures]
) -> None:
    runs: list[tuple[Verdict, Figures, int]] = []
    for seed in plan.seeds(fast=1, full=3):
        rng = random.Random(seed)
        figures = Figures("fault proxy: lost, timeout, reset, 5xx, duplicate", "SQLite", seed)
        record.append(figures)
        store = open_store(central)
        orders = release(central, store, rng, plan.scale(6, 16))
        proxy = FaultProxy(central.server.port, random.Random(seed), rate=0.35, hold_s=1.2)
        proxy.start()
        transport = FaultyTransport()
        try:
            paths = []
            for n in range(len(STAFF)):
                path = tmp_path / f"s{seed}-tablet-{n + 1}.db"
                enroll_tablet(central, store.store_id, path, transport, path.stem)
                paths.append(path)
            syncs = [through(proxy, p) for p in paths]
            for sync in syncs:  # the first download, through the faults too
                assert any(sync().ok for _ in range(20)), "no first download in 20 tries"
            floors = [
                Floor(p, who, pin, store.gtins)
                for p, (who, pin) in zip(paths, STAFF.items(), strict=True)
            ]
            try:
                for round_ in range(plan.scale(6, 40)):
                    for floor, sync in zip(floors, syncs, strict=True):
                        for _ in range(rng.randint(1, 4)):
                            if floor.step(rng):
                                figures.actions += 1
                        sync()
                    if round_ % 4 == 3:
                        if cancel_one(central, store, rng, orders):
                            figures.faults["OMS cancel"] += 1
                        orders += release(central, store, rng, 1)
            finally:
                for floor in floors:
                    floor.close()
            proxy.calm()
            calmed = proxy.last_fault_at
            converge(syncs)
            figures.converged(time.monotonic() - calmed)
            figures.faults.update(proxy.faults)
        finally:
            proxy.stop()
            transport.shutdown()

        assert sum(proxy.faults.values()) > 0, "the proxy injected no fault"
        runs.append((check(central.server.database_url, store.store_id, paths), figures, seed))
    conclude_all(runs)
