"""How fast the OMS loads a store into a running central: items, stock and staff.

    python bench/oms_bulk.py [--items 50000] [--staff 500] [--chunk 10000]
    CENTRAL_TEST_PG=postgresql+psycopg://postgres@127.0.0.1:5432/test python bench/oms_bulk.py

Starts central as its own process (`central serve`) on a fresh SQLite file and, when
CENTRAL_TEST_PG is set, on a fresh PostgreSQL database; makes a store, then times
`PUT …/items` (`--items` rows in requests of `--chunk`), `POST …/stock` (one receipt per
item) and `PUT …/staff` (`--staff` people). Prints rows/s for each beside the goal
(items ≥ 20,000/s), and central's CPU seconds for each step.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.central import (  # noqa: E402
    CentralProcess,
    fresh_pg_database,
    ok,
    pg_url,
    running_central,
)

GOAL_ITEMS_PER_S = 20_000


def gtin(n: int) -> str:
    body = f"{n:012d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def chunks(rows: list[dict[str, Any]], size: int) -> list[list[dict[str, Any]]]:
    return [rows[i : i + size] for i in range(0, len(rows), size)]


def load(label: str, database_url: str, n_items: int, n_staff: int, chunk: int) -> None:
    with running_central(database_url, own_process=True) as central:
        server = central.server
        assert isinstance(server, CentralProcess)
        store_id = "BULK1"
        ok(central.oms.put(f"/v1/oms/stores/{store_id}", json={"name": "Bulk", "policy": {}}))
        items = [
            {
                "sku": f"SKU-{i:06d}",
                "gtins": [gtin(10_000_000 + i)],
                "name": f"Item {i}",
                "price": "4.99",
                "location": f"A-{i % 400:03d}-{i % 7}",
                "location_seq": i,
            }
            for i in range(n_items)
        ]
        stock = [{"sku": r["sku"], "location": r["location"], "qty": 12} for r in items]
        staff = [
            {"employee_id": f"E{i:04d}", "name": f"Person {i}", "role": "associate", "pin": "1234"}
            for i in range(n_staff)
        ]

        def timed(what: str, send: Callable[[list[dict[str, Any]]], Any], rows: list[Any]) -> float:
            cpu0, t0 = server.cpu_seconds(), time.perf_counter()
            for part in chunks(rows, chunk):
                ok(send(part))
            wall = time.perf_counter() - t0
            cpu = server.cpu_seconds() - cpu0
            rate = len(rows) / wall
            print(
                f"{label:>10} {what:<6} {len(rows):>6} rows in {wall:6.2f} s = {rate:>8,.0f} rows/s"
                f"  (central CPU {cpu:5.2f} s = {len(rows) / max(cpu, 1e-9):>8,.0f} rows per CPU-s)",
                flush=True,
            )
            return rate

        oms = central.oms
        oms.timeout = 600
        rate = timed("items", lambda p: oms.put(f"/v1/oms/stores/{store_id}/items", json=p), items)
        timed("stock", lambda p: oms.post(f"/v1/oms/stores/{store_id}/stock", json=p), stock)
        timed("staff", lambda p: oms.put(f"/v1/oms/stores/{store_id}/staff", json=p), staff)
        # a second load of the same catalogue: every row an update
        again = timed(
            "items*", lambda p: oms.put(f"/v1/oms/stores/{store_id}/items", json=p), items
        )
        verdict = "meets" if min(rate, again) >= GOAL_ITEMS_PER_S else "below"
        print(
            f"{label:>10} items: {rate:,.0f} new / {again:,.0f} updated rows/s; "
            f"goal >= {GOAL_ITEMS_PER_S:,}/s: {verdict}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--staff", type=int, default=500)
    parser.add_argument("--chunk", type=int, default=10_000, help="rows per request")
    parser.add_argument("--only", choices=["sqlite", "pg"], default=None)
    args = parser.parse_args()
    print(
        f"OMS bulk load: {args.items:,} items, {args.items:,} stock rows, {args.staff} staff, "
        f"{args.chunk:,} rows per request; central in its own process (1 worker)"
    )
    if args.only != "pg":
        with tempfile.TemporaryDirectory() as tmp:
            load("SQLite", f"sqlite:///{tmp}/central.db", args.items, args.staff, args.chunk)
    admin = pg_url()
    if admin and args.only != "sqlite":
        with fresh_pg_database(admin) as url:
            load("PostgreSQL", url, args.items, args.staff, args.chunk)


if __name__ == "__main__":
    main()
