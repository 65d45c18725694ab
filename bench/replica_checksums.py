"""What the replica checksums (issue #12) cost, on central and on the tablet.

    python bench/replica_checksums.py                 # SQLite
    CENTRAL_TEST_PG=postgresql+psycopg://postgres@127.0.0.1:5432/test python bench/replica_checksums.py
    python bench/replica_checksums.py --docs 100000   # the tablet's replica size

1. A pull at the head (nothing new, the tablet's most common pull): `feed.pull` with and
   without its checksums, in process, on the demo store; median and p95 of `--pulls` each.
2. The publishing flush's share: `digests.account` for a flush of `--flush` documents
   (the reads of their old hashes and the sums' update), per flush and per document.
3. The tablet's side: `LocalStore.checksums` over a replica of `--docs` documents (half
   items, half stock: the bulk of a store), once loaded by a snapshot.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from central.db.engine import make_engine  # noqa: E402
from central.db.migrate import upgrade  # noqa: E402
from central.db.tables import devices, sync_docs  # noqa: E402
from central.seed import DEMO_STORE, seed_demo  # noqa: E402
from central.service import digests, feed  # noqa: E402
from storeapp.local import LocalStore  # noqa: E402
from sync.protocol import Change, EnrollResponse, SnapshotHeader  # noqa: E402


def _ms(samples: list[float]) -> str:
    samples = sorted(samples)
    p95 = samples[int(len(samples) * 0.95) - 1]
    return f"median {statistics.median(samples) * 1000:.3f} ms, p95 {p95 * 1000:.3f} ms"


def central_side(url: str, pulls: int, flush: int) -> None:
    upgrade(url)
    engine = make_engine(url)
    try:
        seed_demo(engine)
        with engine.connect() as conn:
            device_id = conn.execute(
                select(devices.c.device_id).where(devices.c.store_id == DEMO_STORE)
            ).scalar()
        if device_id is None:
            from central.service.auth import create_enrollment_code, enroll

            device_id = enroll(engine, create_enrollment_code(engine, DEMO_STORE)[0], "bench")
            device_id = device_id.device_id
        head = feed.pull(engine, DEMO_STORE, device_id, None, 1000)
        while head.has_more:
            head = feed.pull(engine, DEMO_STORE, device_id, head.cursor, 1000)
        for with_sums in (False, True, False, True):  # interleaved: the machine is shared
            took = []
            for _ in range(pulls):
                started = time.perf_counter()
                feed.pull(engine, DEMO_STORE, device_id, head.cursor, 1000, checksums=with_sums)
                took.append(time.perf_counter() - started)
            print(f"  pull at the head, checksums {'on ' if with_sums else 'off'}: {_ms(took)}")
        with engine.connect() as conn:
            docs = [
                {"store_id": DEMO_STORE, "kind": k, "entity_id": i, "version": v, "data": d}
                for k, i, v, d in conn.execute(
                    select(
                        sync_docs.c.kind,
                        sync_docs.c.entity_id,
                        sync_docs.c.version,
                        sync_docs.c.data,
                    )
                    .where(sync_docs.c.store_id == DEMO_STORE)
                    .order_by(sync_docs.c.version.desc())
                    .limit(flush)
                )
            ]
        took = []
        for _ in range(20):
            with engine.begin() as conn:
                rows = [dict(r) for r in docs]
                started = time.perf_counter()
                digests.account(conn, DEMO_STORE, rows)
                took.append(time.perf_counter() - started)
                conn.rollback()
        per_doc = statistics.median(took) / max(len(docs), 1) * 1e6
        print(f"  account a flush of {len(docs)} documents: {_ms(took)} ({per_doc:.1f} µs/doc)")
    finally:
        engine.dispose()


def tablet_side(docs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = LocalStore(Path(tmp) / "tablet.db")
        store.enroll(
            EnrollResponse(device_id="D-bench", store_id="S-bench", token="t" * 32),
            "http://127.0.0.1:9",
        )
        half = docs // 2
        changes = [
            Change(
                kind="item",
                id=f"SKU{n:06d}",
                version=n + 1,
                data={
                    "sku": f"SKU{n:06d}",
                    "gtins": [f"{n:014d}"],
                    "name": f"Bench item {n}",
                    "price": "4.99",
                    "location": f"A-{n % 40:02d}-{n % 5}",
                    "location_seq": n,
                },
            )
            for n in range(half)
        ] + [
            Change(
                kind="stock",
                id=f"SKU{n:06d}@A-{n % 40:02d}-{n % 5}",
                version=half + n + 1,
                data={
                    "sku": f"SKU{n:06d}",
                    "location": f"A-{n % 40:02d}-{n % 5}",
                    "on_hand": 12,
                    "reserved": 0,
                    "available": 12,
                },
            )
            for n in range(half)
        ]
        header = SnapshotHeader(
            cursor="c", last_applied_seq=0, server_time=datetime.now(UTC), count=len(changes)
        )
        store.load_snapshot(header, changes)
        took = []
        for _ in range(5):
            started = time.perf_counter()
            store.checksums(datetime.now(UTC))
            took.append(time.perf_counter() - started)
        print(f"  tablet checksums over {len(changes):,} documents: {_ms(took)}")
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pulls", type=int, default=300)
    parser.add_argument("--flush", type=int, default=500)
    parser.add_argument("--docs", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print("central on SQLite")
        central_side(f"sqlite:///{tmp}/central.db", args.pulls, args.flush)
    pg = os.environ.get("CENTRAL_TEST_PG")
    if pg:
        sys.path.insert(0, str(ROOT))
        from tests.support.central import fresh_pg_database

        with fresh_pg_database(pg) as url:
            print("central on PostgreSQL")
            central_side(url, args.pulls, args.flush)
    print("tablet")
    tablet_side(args.docs)


if __name__ == "__main__":
    main()
