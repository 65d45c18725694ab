"""A load test a retailer can run: N tablets in M stores doing the realistic mix against central.

    python bench/load.py [--tablets 50] [--stores 10] [--orders 6] [--workers 1]
    CENTRAL_TEST_PG=postgresql+psycopg://postgres@127.0.0.1:5432/test python bench/load.py --workers 2
    python bench/load.py --url http://central:8000 --key <integration key>   # a running central

Starts `central serve --workers N` (its own processes) on a fresh PostgreSQL database when
CENTRAL_TEST_PG is set (else on a SQLite file; --workers 1 only), or uses a running central
(`--url`, `--key`: the stores it makes are named LOAD-…). Each store gets 200 SKUs and
`--orders` pickup orders of 5 lines per tablet (~47 units an order). Each tablet (a thread,
raw HTTP with its own token, as a real tablet's outbox would send) works its orders one by
one: claim, a scan per unit, stage, hand-over — one push of ~50 ops per order — then pulls
the store's changes; and holds its store's event stream open (SSE, `--no-sse` to leave it
out), counting the pokes it hears. The pushes are built before the clock starts, so the
client's own CPU goes to HTTP. Prints ops/s, push latency p50/p95/p99, pull p95, pokes,
errors, and central's CPU seconds per op (all its processes), beside the issue's goals.

Two ways to load it:

- closed loop (default): every tablet pushes as soon as its last push and pull are answered,
  so the figure is central's capacity at this concurrency (with 50 tablets in flight,
  latency is 50 pushes' work: Little's law, not a store's real pace);
- open loop (`--rate OPS`): the pushes are sent on a schedule that offers OPS ops/s in all,
  each tablet at a fixed interval from a random phase; a push's latency is counted from when
  it was due, so a central that falls behind shows it (no coordinated omission). Run it at a
  fraction of the closed loop's capacity to read the latency a chain sees at that load.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from central.db.engine import make_engine  # noqa: E402
from central.db.migrate import upgrade  # noqa: E402
from central.service.auth import create_integration_key  # noqa: E402
from tests.support.central import (  # noqa: E402
    Central,
    CentralProcess,
    TestStore,
    fresh_pg_database,
    pg_url,
)
from tests.support.device import RawDevice  # noqa: E402

GOAL_OPS_S = 3_000
GOAL_P99_MS = 250
LINES = 5
UNITS = (9, 10, 9, 10, 9)  # 47 units an order: 47 scans


class RunningCentral:
    """A central the benchmark drives: one it started, or one given by --url/--key."""

    def __init__(self, central: Central, cpu: CentralProcess | None) -> None:
        self.central = central
        self.cpu = cpu

    def cpu_seconds(self) -> float | None:
        return self.cpu.cpu_seconds() if self.cpu is not None else None


class _Remote:
    def __init__(self, url: str) -> None:
        self.url = url

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass


@contextmanager
def started(database_url: str, workers: int) -> Iterator[RunningCentral]:
    upgrade(database_url)
    engine = make_engine(database_url)
    key = create_integration_key(engine, "load")
    engine.dispose()
    server = CentralProcess(database_url, workers=workers)
    server.start()
    central = Central(server, key)
    try:
        yield RunningCentral(central, server)
    finally:
        central.close()


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    push_ms: list[float] = field(default_factory=list)
    pull_ms: list[float] = field(default_factory=list)
    ops: int = 0
    pokes: int = 0
    errors: list[str] = field(default_factory=list)

    def error(self, what: str) -> None:
        with self.lock:
            self.errors.append(what)


def order_ops(tablet: RawDevice, order: dict[str, Any], gtins: dict[str, str]) -> list[Any]:
    """The realistic mix for one pickup order: claim, a scan per unit, stage, hand-over."""
    oid = order["order_id"]
    ops = [tablet.op("order.claim", {"order_id": oid})]
    for line in order["lines"]:
        scan = {"order_id": oid, "line_id": line["line_id"], "gtin": gtins[line["sku"]]}
        ops += [tablet.op("pick.scan", scan) for _ in range(line["qty"])]
    ops.append(tablet.op("order.stage", {"order_id": oid, "staging_location": "STAGE-1"}))
    handoff = [{"line_id": ln["line_id"], "qty": ln["qty"]} for ln in order["lines"]]
    ops.append(
        tablet.op(
            "order.handoff",
            {"order_id": oid, "verified_by": "pickup_code", "lines": handoff},
        )
    )
    return ops


@dataclass
class Tablet:
    device: RawDevice
    pushes: list[tuple[int, bytes]]  # (ops, the push request's JSON), built before the run
    phase_s: float = 0.0  # open loop: when its first push is due, after the start


def build_pushes(
    tablet: RawDevice, orders: list[dict[str, Any]], gtins: dict[str, str]
) -> list[tuple[int, bytes]]:
    pushes = []
    for order in orders:
        ops = order_ops(tablet, order, gtins)
        body = json.dumps({"device_id": tablet.device_id, "ops": ops}).encode()
        pushes.append((len(ops), body))
    return pushes


def _send(device: RawDevice, body: bytes, headers: dict[str, str]) -> httpx.Response:
    """Push; a push whose answer was lost on the way (a kept-alive connection the server
    closed meanwhile) is sent again as it was, as a tablet's outbox does: central answers
    the ops it applied already from their stored results."""
    for attempt in range(3):
        try:
            return device.http.post("/v1/sync/push", content=body, headers=headers)
        except httpx.TransportError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def work(tablet: Tablet, tally: Tally, start: float, interval_s: float | None) -> None:
    device = tablet.device
    headers = {"Content-Type": "application/json"}
    for k, (n_ops, body) in enumerate(tablet.pushes):
        if interval_s is None:
            due = time.perf_counter()
        else:  # open loop: counted from when it was due, however late it is sent
            due = start + tablet.phase_s + k * interval_s
            time.sleep(max(0.0, due - time.perf_counter()))
        try:
            response = _send(device, body, headers)
        except httpx.HTTPError as exc:
            tally.error(f"push {type(exc).__name__}")
            continue
        push_ms = (time.perf_counter() - due) * 1000
        if response.status_code != 200:
            tally.error(f"push HTTP {response.status_code}")
            continue
        bad = [r for r in response.json()["results"] if r["status"] != "applied"]
        t1 = time.perf_counter()
        try:
            device.pull_all()
        except (httpx.HTTPError, AssertionError) as exc:
            tally.error(f"pull {type(exc).__name__}")
        pull_ms = (time.perf_counter() - t1) * 1000
        with tally.lock:
            tally.push_ms.append(push_ms)
            tally.pull_ms.append(pull_ms)
            tally.ops += n_ops
            tally.errors += [f"op {r['status']} {r.get('code')}" for r in bad]


def listen(
    device: RawDevice, tally: Tally, stop: threading.Event, ready: threading.Barrier
) -> None:
    """The tablet's event stream, open for the whole run: count its pokes."""
    timeout = httpx.Timeout(10.0, read=None)
    try:
        with httpx.Client(base_url=device.central.url, timeout=timeout) as http:
            headers = {"Authorization": f"Bearer {device.token}"}
            with http.stream("GET", "/v1/sync/events", headers=headers) as stream:
                ready.wait()
                for line in stream.iter_lines():
                    if stop.is_set():
                        return
                    if line == "event: poke":
                        with tally.lock:
                            tally.pokes += 1
    except (httpx.HTTPError, threading.BrokenBarrierError) as exc:
        if not stop.is_set():
            tally.error(f"events {type(exc).__name__}")


def _machine_busy() -> float:
    """CPU seconds the whole machine has spent busy (/proc/stat), all cores."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _postgres_cpu() -> float:
    """CPU seconds of this machine's live PostgreSQL processes (0 when it runs elsewhere):
    the database's share of each op. A backend that ended during the run is not counted."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name, rest = text[text.index("(") + 1 : text.rindex(")")], text[text.rindex(")") + 2 :]
        if name.startswith("postgres"):
            fields = rest.split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def run(rc: RunningCentral, label: str, args: argparse.Namespace) -> None:
    central = rc.central
    central.oms.timeout = 120
    per_store = max(1, args.tablets // args.stores)
    plan: list[Tablet] = []
    t_setup = time.perf_counter()
    for s in range(args.stores):
        store: TestStore = central.new_store(items=200, stock=100_000)
        for t in range(per_store):
            device = RawDevice(central, store, f"load {s}-{t}")
            device.pull_all()
            orders = []
            for o in range(args.orders):
                first = (o * LINES + t * 7) % (len(store.skus) - LINES)
                skus = store.skus[first : first + LINES]
                orders.append(central.order(store, list(zip(skus, UNITS, strict=True))))
            plan.append(Tablet(device, build_pushes(device, orders, store.gtins)))
    setup_s = time.perf_counter() - t_setup
    interval_s: float | None = None
    if args.rate:
        ops_per_push = sum(n for t in plan for n, _ in t.pushes) / sum(len(t.pushes) for t in plan)
        interval_s = len(plan) * ops_per_push / args.rate
        for tablet in plan:
            tablet.phase_s = random.uniform(0, interval_s)
    tally = Tally()
    stop = threading.Event()
    listeners: list[threading.Thread] = []
    if args.sse:
        ready = threading.Barrier(len(plan) + 1)
        listeners = [
            threading.Thread(target=listen, args=(t.device, tally, stop, ready), daemon=True)
            for t in plan
        ]
        for th in listeners:
            th.start()
        ready.wait(timeout=60)
    cpu0 = rc.cpu_seconds()
    client0, machine0, pg0 = _own_cpu(), _machine_busy(), _postgres_cpu()
    print(f"{label}: setup done in {time.perf_counter() - t_setup:.0f} s; running", flush=True)
    t0 = time.perf_counter()
    threads = [threading.Thread(target=work, args=(t, tally, t0, interval_s)) for t in plan]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - t0
    cpu1 = rc.cpu_seconds()
    client_cpu = _own_cpu() - client0
    machine = (_machine_busy() - machine0) / wall
    pg_cpu = _postgres_cpu() - pg0
    stop.set()
    for tablet in plan:
        tablet.device.close()
    rate = tally.ops / wall
    p50, p95, p99 = (pct(tally.push_ms, p) for p in (50, 95, 99))
    cpu = (
        f"; central CPU {(cpu1 - cpu0) / max(tally.ops, 1) * 1000:.2f} ms/op"
        if cpu0 is not None and cpu1 is not None
        else ""
    )
    if pg_cpu > 0:
        cpu += f", PostgreSQL's {pg_cpu / max(tally.ops, 1) * 1000:.2f} ms/op (this machine's)"
    loop = f"open loop offering {args.rate:,} ops/s" if args.rate else "closed loop"
    sse = f"{len(listeners)} event streams open" if args.sse else "no event streams"
    print(
        f"{label}: {len(plan)} tablets in {args.stores} stores, {loop}, {sse}: "
        f"{len(tally.push_ms)} pushes of ~{tally.ops / max(len(tally.push_ms), 1):.0f} ops in "
        f"{wall:.1f} s (setup {setup_s:.0f} s); cores busy: machine {machine:.2f} of "
        f"{os.cpu_count()}, this client {client_cpu / wall:.2f}",
        flush=True,
    )
    print(
        f"{label}: {rate:,.0f} ops/s (goal >= {GOAL_OPS_S:,}); push p50 {p50:,.0f} ms, "
        f"p95 {p95:,.0f} ms, p99 {p99:,.0f} ms (goal p99 <= {GOAL_P99_MS}); "
        f"pull p95 {pct(tally.pull_ms, 95):,.0f} ms; pokes heard {tally.pokes:,}; "
        f"errors {len(tally.errors)}{cpu}",
        flush=True,
    )
    if tally.errors:
        kinds: dict[str, int] = {}
        for e in tally.errors:
            kinds[e] = kinds.get(e, 0) + 1
        print(f"{label}: errors by kind {kinds}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tablets", type=int, default=50)
    parser.add_argument("--stores", type=int, default=10)
    parser.add_argument("--orders", type=int, default=6, help="orders per tablet")
    parser.add_argument("--workers", type=int, default=1, help="central serve processes")
    parser.add_argument(
        "--rate", type=int, default=0, help="open loop: offer this many ops/s in all"
    )
    parser.add_argument(
        "--no-sse", dest="sse", action="store_false", help="no event streams held open"
    )
    parser.add_argument("--url", help="a running central (else one is started)")
    parser.add_argument("--key", help="its integration key (with --url)")
    args = parser.parse_args()
    cores = os.cpu_count()
    if args.url:
        if not args.key:
            parser.error("--url needs --key")
        central = Central(_Remote(args.url), args.key)  # type: ignore[arg-type]
        try:
            run(RunningCentral(central, None), args.url, args)
        finally:
            central.close()
        return
    admin = pg_url()
    print(
        f"load test on a {cores}-core machine (shared: read ratios), client threads in one process"
    )
    if admin:
        with fresh_pg_database(admin) as url, started(url, args.workers) as rc:
            run(rc, f"PostgreSQL, {args.workers} worker(s)", args)
    else:
        if args.workers != 1:
            parser.error("--workers above 1 needs PostgreSQL (set CENTRAL_TEST_PG)")
        with tempfile.TemporaryDirectory() as tmp, started(f"sqlite:///{tmp}/c.db", 1) as rc:
            run(rc, "SQLite, 1 worker", args)


if __name__ == "__main__":
    main()
