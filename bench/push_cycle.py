"""What one tablet's push-and-pull costs central, in the load test's shape.

    python bench/push_cycle.py [--tablets 10] [--orders 6] [--mode http|service|profile]
    CENTRAL_TEST_PG=postgresql+psycopg://postgres@127.0.0.1:5432/test python bench/push_cycle.py

`bench/load.py` runs 50 tablets at once, each pushing one order's ops (claim, ~47 scans, stage,
hand-over: ~50 ops) and then pulling; there central's CPU per op is mostly the cycle's fixed
cost (two requests, a transaction, ~20 statements), not its ops. This bench runs the same
cycles one at a time, so the figure is the cycle's own cost, free of concurrency:

- `http` (default): against `central serve` (its own process), central's CPU per cycle
  (/proc) and the wall time per cycle;
- `service`: the push and pull services called in this process (no HTTP, no auth), CPU
  per cycle: what HTTP, FastAPI and the token add is the difference;
- `profile`: `service` under cProfile, the top functions by own time.

Central runs on a fresh SQLite file, or on a fresh PostgreSQL database when CENTRAL_TEST_PG
is set; the stores, tablets and orders are made over HTTP before the clock starts.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.load import LINES, UNITS, build_pushes  # noqa: E402
from central.db.engine import make_engine  # noqa: E402
from central.service import feed  # noqa: E402
from central.service.clock import utcnow  # noqa: E402
from central.service.push import push as apply_push  # noqa: E402
from sync.protocol import PullResponse, PushRequest  # noqa: E402
from tests.support.central import (  # noqa: E402
    Central,
    CentralProcess,
    fresh_pg_database,
    pg_url,
    running_central,
)
from tests.support.device import RawDevice  # noqa: E402

Plan = list[tuple[RawDevice, list[tuple[int, bytes]]]]


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def setup(central: Central, tablets: int, orders: int) -> Plan:
    """Two stores, `tablets` tablets between them, `orders` orders of 5 lines per tablet."""
    plan: Plan = []
    for s in range(2):
        store = central.new_store(items=200, stock=100_000)
        for t in range(tablets // 2):
            device = RawDevice(central, store, f"cycle {s}-{t}")
            device.pull_all()
            made = []
            for o in range(orders):
                first = (o * LINES + t * 7) % (len(store.skus) - LINES)
                skus = store.skus[first : first + LINES]
                made.append(central.order(store, list(zip(skus, UNITS, strict=True))))
            plan.append((device, build_pushes(device, made, store.gtins)))
    return plan


def over_http(central: Central, plan: Plan, orders: int) -> str:
    server = central.server
    assert isinstance(server, CentralProcess)
    cycles = len(plan) * orders
    cpu0, t0 = server.cpu_seconds(), time.perf_counter()
    for k in range(orders):
        for device, pushes in plan:
            _, body = pushes[k]
            response = device.http.post(
                "/v1/sync/push", content=body, headers={"Content-Type": "application/json"}
            )
            assert response.status_code == 200, response.text
            device.pull_all()
    wall, cpu = time.perf_counter() - t0, server.cpu_seconds() - cpu0
    return (
        f"over HTTP: {cycles} cycles; central CPU {cpu / cycles * 1000:.2f} ms a cycle, "
        f"wall {wall / cycles * 1000:.2f} ms a cycle"
    )


def in_process(url: str, plan: Plan, orders: int, profile: bool) -> str:
    engine = make_engine(url)
    profiler = cProfile.Profile() if profile else None
    cursors = {device.device_id: device.cursor for device, _ in plan}
    cycles = len(plan) * orders
    cpu0 = _cpu()
    for k in range(orders):
        for device, pushes in plan:
            _, body = pushes[k]
            store_id = device.store.store_id
            if profiler is not None:
                profiler.enable()
            answer = apply_push(
                engine, device.device_id, store_id, PushRequest.model_validate_json(body), utcnow()
            )
            answer.model_dump_json()
            while True:
                page = feed.pull_json(
                    engine, store_id, device.device_id, cursors[device.device_id], 1000
                )
                done = PullResponse.model_validate_json(page)
                cursors[device.device_id] = done.cursor
                if not done.has_more:
                    break
            if profiler is not None:
                profiler.disable()
    cpu = _cpu() - cpu0
    engine.dispose()
    if profiler is not None:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(40)
    return f"in process: {cycles} cycles; CPU {cpu / cycles * 1000:.2f} ms a cycle"


def run(url: str, label: str, args: argparse.Namespace) -> None:
    with running_central(url, own_process=True) as central:
        plan = setup(central, args.tablets, args.orders)
        if args.mode == "http":
            said = over_http(central, plan, args.orders)
        else:
            said = in_process(url, plan, args.orders, args.mode == "profile")
    ops = sum(n for _, pushes in plan for n, _ in pushes) / (len(plan) * args.orders)
    print(f"{label:10} one tablet's push of ~{ops:.0f} ops and its pull, {said}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tablets", type=int, default=10)
    parser.add_argument("--orders", type=int, default=6, help="orders (cycles) per tablet")
    parser.add_argument("--mode", choices=("http", "service", "profile"), default="http")
    args = parser.parse_args()
    print(f"conditions: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{Path(tmp) / 'central.db'}", "sqlite", args)
    admin = pg_url()
    if admin is None:
        print("postgresql skipped: set CENTRAL_TEST_PG to run it")
        return
    with fresh_pg_database(admin) as url:
        run(url, "postgresql", args)


if __name__ == "__main__":
    main()
