"""From a tablet's op reaching central to the webhook delivered, and webhook throughput.

    python bench/webhook_latency.py
    CENTRAL_TEST_PG=postgresql+psycopg://postgres@127.0.0.1:5432/test python bench/webhook_latency.py

central runs in its own process (`central serve`, its delivery worker inside) on SQLite and,
when CENTRAL_TEST_PG is set, on a fresh PostgreSQL database; a loopback receiver answers 200.

Latency (`--ops`, 100): one tablet pushes one `order.claim` at a time (a raw push, as the
sync engine sends it); the time from sending the push to the receiver getting that order's
`order.claimed` event, p50/p95 (the goal: under 5 s). The push's own round trip is in it.

Throughput (`--events`, 2000): `order.released` events queued by releasing orders through
the OMS API while the receiver holds its first delivery unanswered; then it answers, and the
bench times the queue's drain: events delivered per second, for one store (one stream, strictly
in order) and for four stores (four streams side by side).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from tests.support.central import (  # noqa: E402
    Central,
    fresh_pg_database,
    ok,
    pg_url,
    running_central,
)
from tests.support.receiver import Receiver  # noqa: E402


def _subscribe(central: Central, url: str, store_ids: list[str], events: list[str]) -> None:
    r = central.oms.post(
        "/v1/oms/webhooks", json={"url": url, "events": events, "store_ids": store_ids}
    )
    assert r.status_code == 201, r.text


def latency(central: Central, n_ops: int) -> list[float]:
    store = central.new_store(items=4, stock=10_000)
    enrolled = central.enroll(store, "bench tablet")
    receiver = Receiver()
    try:
        _subscribe(central, receiver.url, [store.store_id], ["order.claimed"])
        orders = [central.order(store, [(store.skus[i % 4], 1)])["order_id"] for i in range(n_ops)]
        http = httpx.Client(
            base_url=central.url, headers={"Authorization": f"Bearer {enrolled['token']}"}
        )
        times = []
        for seq, order_id in enumerate(orders, 1):
            op = {
                "op_id": str(uuid.uuid4()),
                "device_id": enrolled["device_id"],
                "seq": seq,
                "actor_id": "E1",
                "type": "order.claim",
                "type_v": 1,
                "payload": {"order_id": order_id},
                "occurred_at": datetime.now(UTC).isoformat(),
            }
            t0 = time.monotonic()
            ok(http.post("/v1/sync/push", json={"device_id": enrolled["device_id"], "ops": [op]}))
            deadline = t0 + 30
            while True:
                found = [
                    d for d in receiver.accepted() if d.event["data"].get("order_id") == order_id
                ]
                if found:
                    times.append(found[0].at - t0)
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"no webhook for {order_id} in 30 s")
                time.sleep(0.001)
        http.close()
        return times
    finally:
        receiver.close()


def throughput(central: Central, n_events: int, n_stores: int) -> float:
    stores = [central.new_store(items=4, stock=100_000) for _ in range(n_stores)]
    gate = threading.Event()
    receiver = Receiver(gate=gate)
    try:
        _subscribe(central, receiver.url, [s.store_id for s in stores], ["order.released"])
        per_store = n_events // n_stores
        for i in range(per_store):
            for s in stores:
                central.order(s, [(s.skus[i % 4], 1)])
        t0 = time.monotonic()
        gate.set()
        receiver.wait_for(per_store * n_stores, timeout=600)
        return per_store * n_stores / (time.monotonic() - t0)
    finally:
        receiver.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--ops", type=int, default=100)
    parser.add_argument("--events", type=int, default=2000)
    args = parser.parse_args()
    os.environ["CENTRAL_WEBHOOK_TIMEOUT_S"] = "600"  # the held first delivery is not a failure
    load = os.getloadavg()[0]
    print(f"{os.cpu_count()} cores, load average {load:.2f} at start, central in its own process")
    sides: list[tuple[str, Any]] = []
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(__import__("tempfile").TemporaryDirectory()))
        sides.append(("sqlite", f"sqlite:///{tmp / 'central.db'}"))
        admin = pg_url()
        if admin is not None:
            sides.append(("postgresql", stack.enter_context(fresh_pg_database(admin))))
        for name, url in sides:
            with running_central(url, own_process=True) as central:
                times = sorted(latency(central, args.ops))
                p50 = statistics.median(times) * 1000
                p95 = times[int(len(times) * 0.95) - 1] * 1000
                print(
                    f"{name}: op pushed -> webhook delivered, {len(times)} ops: "
                    f"p50 {p50:.0f} ms, p95 {p95:.0f} ms (goal < 5000 ms)"
                )
                for n_stores in (1, 4):
                    rate = throughput(central, args.events, n_stores)
                    print(
                        f"{name}: {args.events} events released and delivered, "
                        f"{n_stores} store(s): {rate:.0f} events/s delivered"
                    )


if __name__ == "__main__":
    main()
