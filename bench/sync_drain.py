"""How fast the real sync engine drains a full outbox into central.

    python bench/sync_drain.py [--ops 10000]
    CENTRAL_TEST_PG=postgresql+psycopg://postgres@127.0.0.1:5432/test python bench/sync_drain.py

Queues `--ops` pick scans on a tablet (a real LocalStore file) while it is
offline, then times one `SyncEngine.run_once()` that pushes them all (batches
of 500) and pulls the result, against central on SQLite and, when
CENTRAL_TEST_PG is set, on a fresh PostgreSQL database made for the run.
Prints ops/s for each, and how much of the pass was the push (until the last batch
was acknowledged) and in how many batches.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from storeapp.local import LocalStore  # noqa: E402
from sync.client import CentralClient  # noqa: E402
from sync.engine import Progress, SyncEngine  # noqa: E402
from tests.support.central import (  # noqa: E402
    Central,
    CentralProcess,
    fresh_pg_database,
    ok,
    pg_url,
    running_central,
)

LINE_QTY = 500


def queue_scans(central: Central, workdir: Path, ops: int) -> tuple[Path, list[str]]:
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
    path = workdir / f"tablet-{store.store_id}.db"
    with CentralClient(central.url) as client:
        enrolled = client.enroll(central.enroll_code(store.store_id), "bench")
    with LocalStore(path) as local:
        local.enroll(enrolled, central.url)
    first = SyncEngine(lambda: LocalStore(path)).run_once()
    assert first.ok, first.error_in_words
    scan = {"line_id": "1", "gtin": store.gtins[sku], "qty": 1}
    left = ops
    with LocalStore(path) as local:
        for order_id in orders:
            n = min(LINE_QTY, left)
            for start in range(0, n, 100):
                gesture = [("pick.scan", {**scan, "order_id": order_id})] * min(100, n - start)
                results = local.act_many("E1", gesture, datetime.now(UTC))
                assert all(r.queued for r in results)
            left -= n
        assert local.pending_summary().count == ops
    return path, orders


def drain(label: str, database_url: str, ops: int, workdir: Path) -> None:
    with running_central(database_url, own_process=True) as central:
        started = time.perf_counter()
        path, orders = queue_scans(central, workdir, ops)
        queued_s = time.perf_counter() - started

        sent_at: list[float] = []  # when each pushed batch was acknowledged

        def on_progress(progress: Progress) -> None:
            if progress.phase == "sending":
                sent_at.append(time.perf_counter())

        engine = SyncEngine(lambda: LocalStore(path), on_progress=on_progress)
        server = central.server
        assert isinstance(server, CentralProcess)
        cpu_before = server.cpu_seconds()
        started = time.perf_counter()
        report = engine.run_once()
        drained_s = time.perf_counter() - started
        central_cpu_ms = (server.cpu_seconds() - cpu_before) * 1000
        push_s = sent_at[-1] - started if sent_at else 0.0

        assert report.ok, report.error_in_words
        assert (report.pushed, report.waiting, report.duplicates) == (ops, 0, 0)
        picked = sum(central.get_order(o)["lines"][0]["picked"] for o in orders)
        assert picked == ops, picked
    print(
        f"{label:<10} {ops} ops drained in {drained_s:6.2f} s = {ops / drained_s:7.0f} ops/s "
        f"(push {push_s:.2f} s in {len(sent_at)} batches, then pulled {report.pulled} changes; "
        f"queueing took {queued_s:.1f} s); central CPU {central_cpu_ms / ops:.3f} ms per op"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        drain("sqlite", f"sqlite:///{workdir / 'central.db'}", args.ops, workdir)
        admin_url = pg_url()
        if admin_url is None:
            print("postgresql skipped: set CENTRAL_TEST_PG to run it")
            return
        with fresh_pg_database(admin_url) as database_url:
            drain("postgresql", database_url, args.ops, workdir)


if __name__ == "__main__":
    main()
