"""Drill 5: three tablets offline for a long day with conflicting work, the OMS cancelling
orders meanwhile, reconnecting in a random order (issue #7 finding 9 came from this).

Every tablet downloads the store and loses the network; all day each associate claims,
scans, shorts, stages, ships, hands over, counts and takes returns on their own tablet,
so the same orders are claimed and picked on several tablets; the OMS releases new orders
(nobody offline sees them) and cancels open ones. Then the tablets come back one by one.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

from tests.support.central import Central
from tests.support.faults import FaultyTransport
from tests.support.tablet import Tablet, enroll_tablet

from .figures import Figures, Plan
from .store_day import STAFF, cancel_one, converge, open_store, release
from .verdict import Verdict, check, conclude_all
from .workload import Floor


def test_three_tablets_offline_all_day_reconnect_in_any_order_and_agree_with_central(
    central: Central, tmp_path: Path, plan: Plan, record: list[Figures]
) -> None:
    runs: list[tuple[Verdict, Figures, int]] = []
    for seed in plan.seeds(fast=1, full=3):
        rng = random.Random(seed)
        figures = Figures("3 tablets offline all day, OMS cancels", "SQLite", seed)
        record.append(figures)
        store = open_store(central, stock=rng.randint(4, 10))
        orders = release(central, store, rng, plan.scale(8, 20))
        transports = [FaultyTransport() for _ in STAFF]
        tablets: list[Tablet] = []
        try:
            for n, transport in enumerate(transports):
                path = tmp_path / f"s{seed}-tablet-{n + 1}.db"
                tablets.append(enroll_tablet(central, store.store_id, path, transport, path.stem))
            for tablet in tablets:
                assert tablet.sync().ok
                tablet.transport.unplug()
                figures.faults["offline tablet"] += 1

            floors = [
                Floor(t.path, who, pin, store.gtins)
                for t, (who, pin) in zip(tablets, STAFF.items(), strict=True)
            ]
            try:
                for hour in range(plan.scale(30, 120)):
                    for floor in floors:
                        if floor.step(rng):
                            figures.actions += 1
                    if hour % 10 == 9:
                        if cancel_one(central, store, rng, orders):
                            figures.faults["OMS cancel"] += 1
                        orders += release(central, store, rng, 1)
            finally:
                for floor in floors:
                    floor.close()

            back = list(range(len(tablets)))
            rng.shuffle(back)
            reconnected = time.monotonic()
            for i in back:
                tablets[i].transport.plug_in()
                tablets[i].sync()
            converge([t.sync for t in tablets], order=back)
            figures.converged(time.monotonic() - reconnected)
        finally:
            for transport in transports:
                transport.shutdown()

        verdict = check(central.server.database_url, store.store_id, [t.path for t in tablets])
        runs.append((verdict, figures, seed))
    conclude_all(runs)
