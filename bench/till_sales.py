"""Till sales ingest (issue #12): a chain's busy hour of till lines into central, and what it
does to the tablets' push latency meanwhile.

    CENTRAL_TEST_PG=postgresql+psycopg://postgres@127.0.0.1:5432/test python bench/till_sales.py
    python bench/till_sales.py --stores 20 --lines 400     # SQLite (CENTRAL_TEST_PG unset)

Starts `central serve` (its own process) on a fresh PostgreSQL database (or a SQLite file),
makes `--stores` stores of 200 SKUs, then:

1. baseline: `--tablets` tablets (in the first stores) work pickup orders at a store's pace —
   claim, a scan per unit, stage, hand-over: one push of ~50 ops, then a pull, then
   `--pause` s — for `--baseline` s; push latency p50/p99;
2. the busy hour: `--senders` threads stream every store's `--lines` till lines (NDJSON,
   one stream per store, 1–3 units of a random SKU, ~8 % till returns, sold in the last hour)
   while the same tablets keep working; lines/s over the whole ingest and the tablets' push
   latency during it.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from load import RunningCentral, Tally, order_ops, pct, started  # noqa: E402

from tests.support.central import TestStore, fresh_pg_database, pg_url  # noqa: E402
from tests.support.device import RawDevice  # noqa: E402

UNITS = (2, 2, 2, 2, 2)  # 10 units an order: a push of 13 ops


def till_rows(store: TestStore, lines: int, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    start = datetime.now(UTC) - timedelta(hours=1)
    rows = []
    sale, n = 0, 0
    while n < lines:
        sale += 1
        for line in range(1, min(rng.randint(1, 6), lines - n) + 1):
            qty = rng.randint(1, 3) * (-1 if rng.random() < 0.08 else 1)
            sold_at = start + timedelta(seconds=3600 * n / lines)
            row = {
                "sale_id": f"{store.store_id}-T{sale % 8}-{sale}",
                "line": line,
                "sku": rng.choice(store.skus),
                "qty": qty,
                "till_id": f"T{sale % 8}",
                "sold_at": sold_at.isoformat(),
            }
            rows.append(json.dumps(row, separators=(",", ":")).encode())
            n += 1
    return rows


def tablet_loop(
    tablet: RawDevice,
    orders: list[dict[str, Any]],
    gtins: dict[str, str],
    tally: Tally,
    stop: threading.Event,
    pause: float,
) -> None:
    for order in orders:
        if stop.is_set():
            return
        ops = order_ops(tablet, order, gtins)
        t0 = time.perf_counter()
        response = tablet.push_raw(ops)
        ms = (time.perf_counter() - t0) * 1000
        if response.status_code != 200:
            tally.error(f"push HTTP {response.status_code}")
        tablet.pull_all()
        with tally.lock:
            tally.push_ms.append(ms)
            tally.ops += len(ops)
        stop.wait(pause)
    tally.error("a tablet ran out of orders")


def tablets_for(
    rc: RunningCentral, stores: list[TestStore], count: int, per_tablet: int
) -> list[tuple[RawDevice, list[dict[str, Any]], dict[str, str]]]:
    plan = []
    for t in range(count):
        store = stores[t % len(stores)]
        tablet = RawDevice(rc.central, store, f"bench {t}")
        tablet.pull_all()
        orders = []
        for o in range(per_tablet):
            first = (o * 5 + t * 7) % (len(store.skus) - 5)
            skus = store.skus[first : first + 5]
            orders.append(rc.central.order(store, list(zip(skus, UNITS, strict=True))))
        plan.append((tablet, orders, store.gtins))
    return plan


def measure_tablets(
    plan: list[tuple[RawDevice, list[dict[str, Any]], dict[str, str]]],
    offset: int,
    pause: float,
    stop: threading.Event,
) -> tuple[Tally, list[threading.Thread]]:
    tally = Tally()
    threads = [
        threading.Thread(
            target=tablet_loop, args=(tablet, orders[offset:], gtins, tally, stop, pause)
        )
        for tablet, orders, gtins in plan
    ]
    for th in threads:
        th.start()
    return tally, threads


def send_all(
    rc: RunningCentral, work: list[tuple[TestStore, list[bytes]]], senders: int
) -> tuple[int, int, list[str]]:
    """Every store's lines, one NDJSON stream a store, on `senders` threads."""
    queue = list(work)
    lock = threading.Lock()
    accepted, received, errors = [0], [0], []

    def sender() -> None:
        import httpx

        client = httpx.Client(
            base_url=rc.central.url,
            headers={"Authorization": f"Bearer {rc.central.key}"},
            timeout=300,
        )
        while True:
            with lock:
                if not queue:
                    break
                store, rows = queue.pop()

            def body(rows: list[bytes] = rows) -> Iterator[bytes]:
                for start in range(0, len(rows), 500):
                    yield b"\n".join(rows[start : start + 500]) + b"\n"

            r = client.post(
                f"/v1/oms/stores/{store.store_id}/sales",
                content=body(),
                headers={"Content-Type": "application/x-ndjson"},
            )
            with lock:
                if r.status_code != 202:
                    errors.append(f"HTTP {r.status_code}: {r.text[:200]}")
                    continue
                got = r.json()
                accepted[0] += got["accepted"]
                received[0] += got["received"]
                if got["rejected"]:
                    errors.append(f"{got['rejected']} rejected: {got['rejections'][:1]}")
        client.close()

    threads = [threading.Thread(target=sender) for _ in range(senders)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return accepted[0], received[0], errors


def run(rc: RunningCentral, label: str, args: argparse.Namespace) -> None:
    central = rc.central
    central.oms.timeout = 300
    t0 = time.perf_counter()
    stores = [central.new_store(items=200, stock=100_000) for _ in range(args.stores)]
    per_tablet = int((args.baseline + 600) / max(args.pause, 0.05)) // 4 + 20
    per_tablet = min(per_tablet, args.max_orders)
    plan = tablets_for(rc, stores, args.tablets, per_tablet)
    work = [(s, till_rows(s, args.lines, i)) for i, s in enumerate(stores)]
    print(f"{label}: setup {time.perf_counter() - t0:.0f} s", flush=True)

    stop = threading.Event()
    base, threads = measure_tablets(plan, 0, args.pause, stop)
    time.sleep(args.baseline)
    stop.set()
    for th in threads:
        th.join()
    done = len(base.push_ms) // max(len(plan), 1) + 1

    stop = threading.Event()
    during, threads = measure_tablets(plan, done, args.pause, stop)
    cpu0 = rc.cpu_seconds()
    t1 = time.perf_counter()
    accepted, received, errors = send_all(rc, work, args.senders)
    wall = time.perf_counter() - t1
    cpu1 = rc.cpu_seconds()
    stop.set()
    for th in threads:
        th.join()
    for tablet, _, _ in plan:
        tablet.close()

    cpu = (
        f"; central CPU {(cpu1 - cpu0) / max(accepted, 1) * 1e6:.0f} µs/line"
        if cpu0 is not None and cpu1 is not None
        else ""
    )
    print(
        f"{label}: {received:,} till lines from {len(stores)} stores ({args.senders} senders) in "
        f"{wall:.1f} s: {accepted / wall:,.0f} lines/s accepted ({accepted:,}){cpu}",
        flush=True,
    )
    for name, t in (("without ingest", base), ("during ingest", during)):
        print(
            f"{label}: {len(plan)} tablets' push {name}: {len(t.push_ms)} pushes, "
            f"p50 {pct(t.push_ms, 50):,.0f} ms, p99 {pct(t.push_ms, 99):,.0f} ms",
            flush=True,
        )
    problems = errors + base.errors + during.errors
    if problems:
        print(f"{label}: problems {problems[:5]} ({len(problems)})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=100)
    parser.add_argument("--lines", type=int, default=2000, help="till lines per store")
    parser.add_argument("--senders", type=int, default=4, help="POS streams at once")
    parser.add_argument("--tablets", type=int, default=4)
    parser.add_argument("--pause", type=float, default=0.5, help="s between a tablet's pushes")
    parser.add_argument("--baseline", type=float, default=20, help="s of tablets alone")
    parser.add_argument("--max-orders", type=int, default=400, help="orders made per tablet")
    args = parser.parse_args()
    admin = pg_url()
    if admin:
        with fresh_pg_database(admin) as url, started(url, 1) as rc:
            run(rc, "PostgreSQL", args)
    else:
        with tempfile.TemporaryDirectory() as tmp, started(f"sqlite:///{tmp}/c.db", 1) as rc:
            run(rc, "SQLite", args)


if __name__ == "__main__":
    main()
