"""How fast the real sync engine drains a full outbox into central.

    python bench/sync_drain.py                     # the realistic mix (default)
    python bench/sync_drain.py --shape scans       # the old shape: pick scans on few orders
    python bench/sync_drain.py --orders-per-batch 1,10,100   # CPU per op as orders per batch grow
    CENTRAL_TEST_PG=postgresql+psycopg://postgres@127.0.0.1:5432/test python bench/sync_drain.py

The realistic mix (`--shape mix`): `--orders` pickup orders (200) of 5 lines over 200 SKUs,
about 47 units an order; per order a claim, one scan per unit, a stage and a hand-over, all
queued on one tablet (a real LocalStore file) while it is offline, order after order. Then
one `SyncEngine.run_once()` pushes them all (batches of 500) and pulls the result, against
central (its own process) on SQLite and, when CENTRAL_TEST_PG is set, on a fresh PostgreSQL
database made for the run. Prints ops/s and central's CPU per op beside the goal.

`--shape scans`: `--ops` pick scans, 500 a line, one SKU (the shape this bench had first).

`--orders-per-batch 1,10,100`: 10,000 pick scans queued so that each 500-op batch touches
that many distinct orders (interleaved, 500/k scans each); prints central's CPU per op for
each, and its ratio to the first (the goal: flat).
"""

from __future__ import annotations

import argparse
import functools
import gc
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from storeapp.local import LocalStore  # noqa: E402
from sync.client import CentralClient  # noqa: E402
from sync.engine import Progress, SyncEngine  # noqa: E402
from tests.support.central import (  # noqa: E402
    Central,
    CentralProcess,
    TestStore,
    fresh_pg_database,
    ok,
    pg_url,
    running_central,
)

LINE_QTY = 500
BATCH = 500
GOAL = {"sqlite": 7_500, "postgresql": 4_000}  # ops/s, realistic mix, quiet machine
Op = tuple[str, dict[str, Any]]


def _enrolled_tablet(central: Central, store: TestStore, workdir: Path) -> Path:
    path = workdir / f"tablet-{store.store_id}.db"
    with CentralClient(central.url) as client:
        enrolled = client.enroll(central.enroll_code(store.store_id), "bench")
    with LocalStore(path) as local:
        local.enroll(enrolled, central.url)
    first = SyncEngine(lambda: LocalStore(path)).run_once()
    assert first.ok, first.error_in_words
    return path


def _queue(path: Path, ops: list[Op]) -> None:
    with LocalStore(path) as local:
        for start in range(0, len(ops), 100):
            results = local.act_many("E1", ops[start : start + 100], datetime.now(UTC))
            refused = [r for r in results if not r.queued]
            assert not refused, refused[0]
        assert local.pending_summary().count == len(ops)


def _line_qtys(units: int, lines: int) -> list[int]:
    return [units // lines + (1 if i < units % lines else 0) for i in range(lines)]


def queue_mix(central: Central, workdir: Path, n_orders: int) -> tuple[Path, list[str], int]:
    """n_orders pickup orders × 5 lines over 200 SKUs (≈47 units each): claim, a scan per
    unit, stage, hand-over, order after order. Returns the tablet, the orders, the units."""
    store = central.new_store(items=200, stock=10 * n_orders)
    skus = store.skus
    orders: list[tuple[str, list[tuple[str, int]]]] = []
    for n in range(n_orders):
        units = 45 + n % 5  # 45..49: 47 on average
        lines = [(skus[(n * 5 + i) % len(skus)], q) for i, q in enumerate(_line_qtys(units, 5))]
        orders.append((central.order(store, lines)["order_id"], lines))
    path = _enrolled_tablet(central, store, workdir)
    ops: list[Op] = []
    for order_id, lines in orders:
        ops.append(("order.claim", {"order_id": order_id}))
        for i, (sku, qty) in enumerate(lines):
            scan = {"order_id": order_id, "line_id": str(i + 1), "gtin": store.gtins[sku]}
            ops += [("pick.scan", {**scan, "qty": 1})] * qty
        ops.append(("order.stage", {"order_id": order_id, "staging_location": "P-01"}))
        handed = [{"line_id": str(i + 1), "qty": q} for i, (_, q) in enumerate(lines)]
        ops.append(
            ("order.handoff", {"order_id": order_id, "verified_by": "pickup_code", "lines": handed})
        )
    _queue(path, ops)
    return path, [o for o, _ in orders], len(ops)


def queue_scans(central: Central, workdir: Path, ops: int) -> tuple[Path, list[str], int]:
    store = central.new_store(items=2)
    sku = store.skus[0]
    ok(
        central.oms.post(
            f"/v1/oms/stores/{store.store_id}/stock",
            json=[{"sku": sku, "location": store.locations[sku], "qty": ops + 100}],
        )
    )
    orders = [
        central.order(store, [(sku, LINE_QTY)])["order_id"] for _ in range(-(-ops // LINE_QTY))
    ]
    path = _enrolled_tablet(central, store, workdir)
    scan = {"line_id": "1", "gtin": store.gtins[sku], "qty": 1}
    queued: list[Op] = []
    left = ops
    for order_id in orders:
        n = min(LINE_QTY, left)
        queued += [("pick.scan", {**scan, "order_id": order_id})] * n
        left -= n
    _queue(path, queued)
    return path, orders, ops


def queue_spread(
    central: Central, workdir: Path, ops: int, per_batch: int
) -> tuple[Path, list[str], int]:
    """`ops` pick scans, each 500-op batch touching `per_batch` distinct orders of 5 lines
    (500/per_batch scans each, interleaved round-robin within the batch)."""
    assert BATCH % per_batch == 0 and ops % BATCH == 0
    each = BATCH // per_batch
    batches = ops // BATCH
    store = central.new_store(items=200, stock=ops)
    skus = store.skus
    plan: list[list[tuple[str, list[tuple[str, int]]]]] = []
    n = 0
    for _ in range(batches):
        group = []
        for _ in range(per_batch):
            lines = [(skus[(n * 5 + i) % len(skus)], q) for i, q in enumerate(_line_qtys(each, 5))]
            group.append((central.order(store, lines)["order_id"], lines))
            n += 1
        plan.append(group)
    path = _enrolled_tablet(central, store, workdir)
    queued: list[Op] = []
    for group in plan:
        scans = [
            [
                {"order_id": order_id, "line_id": str(i + 1), "gtin": store.gtins[sku], "qty": 1}
                for i, (sku, q) in enumerate(lines)
                for _ in range(q)
            ]
            for order_id, lines in group
        ]
        for k in range(each):
            queued += [("pick.scan", s[k]) for s in scans if k < len(s)]
    _queue(path, queued)
    return path, [o for g in plan for o, _ in g], ops


def drain(
    label: str,
    database_url: str,
    workdir: Path,
    queue: Callable[[Central, Path], tuple[Path, list[str], int]],
    check: Callable[[Central, list[str], int], None],
) -> tuple[float, float, float]:
    """Queue, then time one run_once; returns (ops/s, central CPU ms per op, of which the
    push)."""
    with running_central(database_url, own_process=True) as central:
        started = time.perf_counter()
        path, orders, ops = queue(central, workdir)
        queued_s = time.perf_counter() - started

        server = central.server
        assert isinstance(server, CentralProcess)
        sent_at: list[float] = []  # when each pushed batch was acknowledged
        sent_cpu: list[float] = []  # central's CPU seconds then

        def on_progress(progress: Progress) -> None:
            if progress.phase == "sending":
                sent_at.append(time.perf_counter())
                sent_cpu.append(server.cpu_seconds())

        engine = SyncEngine(lambda: LocalStore(path), on_progress=on_progress)
        # the queueing's own garbage is not the drain's (a tablet queues over a shift, and
        # its collector runs many times meanwhile): the drain starts from a collected heap,
        # and the full collections (generation 2) it causes itself are counted
        gc.collect()
        full_before = gc.get_stats()[2]["collections"]
        cpu_before = server.cpu_seconds()
        tablet_before = _own_cpu_seconds()
        started = time.perf_counter()
        report = engine.run_once()
        drained_s = time.perf_counter() - started
        tablet_cpu_s = _own_cpu_seconds() - tablet_before
        full_collections = gc.get_stats()[2]["collections"] - full_before
        central_cpu_ms = (server.cpu_seconds() - cpu_before) * 1000
        push_s = sent_at[-1] - started if sent_at else 0.0
        push_cpu_ms = ((sent_cpu[-1] if sent_cpu else cpu_before) - cpu_before) * 1000

        assert report.ok, report.error_in_words
        assert (report.pushed, report.waiting, report.duplicates) == (ops, 0, 0), report
        check(central, orders, ops)
    rate, cpu, push_cpu = ops / drained_s, central_cpu_ms / ops, push_cpu_ms / ops
    print(
        f"{label:<10} {ops} ops drained in {drained_s:6.2f} s = {rate:7.0f} ops/s "
        f"(push {push_s:.2f} s in {len(sent_at)} batches, then pulled {report.pulled} changes; "
        f"queueing took {queued_s:.1f} s); central CPU {cpu:.3f} ms per op, "
        f"of which the push {push_cpu:.3f}; the tablet (this process) {tablet_cpu_s:.2f} s CPU "
        f"= {tablet_cpu_s * 1000 / ops:.3f} ms per op, "
        f"{full_collections} full garbage collections",
        flush=True,
    )
    return rate, cpu, push_cpu


def _own_cpu_seconds() -> float:
    """CPU seconds (user + system, every thread) of this process: the tablet; central is a
    child process and not counted."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _all_picked(central: Central, orders: list[str], ops: int) -> None:
    picked = sum(line["picked"] for o in orders for line in central.get_order(o)["lines"])
    assert picked == ops, picked


def _all_handed_over(central: Central, orders: list[str], ops: int) -> None:
    states = {central.get_order(o)["state"] for o in orders}
    assert states == {"handed_over"}, states


def _databases(workdir: Path) -> list[tuple[str, Callable[[], Any]]]:
    import contextlib

    sides: list[tuple[str, Callable[[], Any]]] = [
        ("sqlite", lambda: contextlib.nullcontext(f"sqlite:///{workdir / 'central.db'}"))
    ]
    admin_url = pg_url()
    if admin_url is not None:
        sides.append(("postgresql", lambda: fresh_pg_database(admin_url)))
    return sides


def _conditions() -> str:
    load = os.getloadavg()[0]
    return f"{os.cpu_count()} cores, load average {load:.2f} at start, central in its own process"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--shape", choices=("mix", "scans"), default="mix")
    parser.add_argument("--orders", type=int, default=200, help="orders of the realistic mix")
    parser.add_argument("--ops", type=int, default=10_000, help="ops of --shape scans / sweep")
    parser.add_argument(
        "--orders-per-batch",
        default="",
        help="a sweep instead: distinct orders per 500-op batch, e.g. 1,10,100",
    )
    args = parser.parse_args()
    print(f"conditions: {_conditions()}")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        sides = _databases(workdir)
        if args.orders_per_batch:
            sweep = [int(k) for k in args.orders_per_batch.split(",")]
            for label, database in sides:
                first: tuple[float, float] | None = None
                for k in sweep:
                    with database() as url:
                        (Path(workdir) / "central.db").unlink(missing_ok=True)
                        _, cpu, push_cpu = drain(
                            f"{label} k={k}",
                            url,
                            workdir,
                            functools.partial(queue_spread, ops=args.ops, per_batch=k),
                            _all_picked,
                        )
                    first = first or (cpu, push_cpu)
                    print(
                        f"  {label}: {k:>3} orders per batch → {cpu:.3f} ms CPU per op "
                        f"(× {cpu / first[0]:.2f} of {sweep[0]}), the push alone {push_cpu:.3f} "
                        f"(× {push_cpu / first[1]:.2f}); goal: flat, × 1.00",
                        flush=True,
                    )
        else:
            for label, database in sides:
                with database() as url:
                    if args.shape == "mix":
                        rate, _, _ = drain(
                            label,
                            url,
                            workdir,
                            lambda c, w: queue_mix(c, w, args.orders),
                            _all_handed_over,
                        )
                        print(f"  goal (quiet machine): ≥ {GOAL[label]:,} ops/s; got {rate:,.0f}")
                    else:
                        drain(
                            label,
                            url,
                            workdir,
                            lambda c, w: queue_scans(c, w, args.ops),
                            _all_picked,
                        )
        if not any(label == "postgresql" for label, _ in sides):
            print("postgresql skipped: set CENTRAL_TEST_PG to run it")


if __name__ == "__main__":
    main()
