"""How long `storeapp enroll` takes to download a large store (issue #9: goal ≤ 3 s).

    python bench/first_download.py [--skus 50000]
    CENTRAL_TEST_PG=postgresql+psycopg://postgres@127.0.0.1:5432/test python bench/first_download.py

A store with `--skus` items and a stock row each (2 × skus documents) is written straight
into central's change feed (`sync_docs`, one bulk insert: the OMS bulk path is another
bench's subject). Central runs as its own process (`central serve`). The bench then times:

- central serving the snapshot alone (one device token, the body read and dropped, gzip as
  httpx asks for it);
- `storeapp enroll` end to end, as a subprocess: enroll, snapshot download, load into the
  tablet's SQLite file, projections, rebase; its peak RSS and how many progress lines it
  printed.

`--past-orders N` times instead enrolling into a store with N orders handed over over the
past year (the snapshot's horizon leaves out those before the returns window).

Prints each figure beside its goal, on SQLite and (when CENTRAL_TEST_PG is set) PostgreSQL.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import Connection, insert, select, update  # noqa: E402

from bench._installed import installed_env  # noqa: E402
from central.db.engine import make_engine  # noqa: E402
from central.db.tables import orders, stores, sync_docs  # noqa: E402
from central.service import digests  # noqa: E402
from fulfillment.barcodes import check_digit  # noqa: E402
from tests.support.central import (  # noqa: E402
    Central,
    TestStore,
    fresh_pg_database,
    pg_url,
    running_central,
)

GOAL_S = 3.0
PAST_GOAL_S = 5.0


def _write_docs(conn: Connection, store_id: str, rows: list[dict[str, Any]]) -> None:
    """Documents into the change feed as central writes them: with their digests, and the
    store's replica checksums moved by them (else a tablet's first check finds its replica
    differs from central's sums and downloads it all again)."""
    digests.account(conn, store_id, rows)
    conn.execute(insert(sync_docs), rows)


def seed_store(central: Central, skus: int) -> str:
    """A store with `skus` items and their stock, written into the change feed at once."""
    store = central.new_store(items=1)
    engine = make_engine(central.server.database_url)
    try:
        with engine.begin() as conn:
            docs = {
                r.kind: dict(r.data)
                for r in conn.execute(
                    select(sync_docs.c.kind, sync_docs.c.data).where(
                        sync_docs.c.store_id == store.store_id,
                        sync_docs.c.kind.in_(["item", "stock"]),
                    )
                )
            }
            seq = conn.execute(
                select(stores.c.change_seq).where(stores.c.store_id == store.store_id)
            ).scalar_one()
            rows: list[dict[str, Any]] = []
            for i in range(skus):
                sku = f"BULK-{i:06d}"
                location = f"{'ABCDEFGH'[i // 1000 % 8]}-{i % 100:02d}-{i // 100 % 10}"
                item = {
                    **docs["item"],
                    "sku": sku,
                    "gtins": [f"2{i:011d}" + check_digit(f"2{i:011d}")],
                    "name": f"Bulk item {i}",
                    "location": location,
                    "location_seq": i,
                }
                stock = {**docs["stock"], "sku": sku, "location": location}
                for kind, entity_id, data in (
                    ("item", sku, item),
                    ("stock", f"{sku}@{location}", stock),
                ):
                    seq += 1
                    rows.append(
                        {
                            "store_id": store.store_id,
                            "kind": kind,
                            "entity_id": entity_id,
                            "version": seq,
                            "deleted": False,
                            "data": data,
                        }
                    )
                if len(rows) >= 10_000:
                    _write_docs(conn, store.store_id, rows)
                    rows = []
            if rows:
                _write_docs(conn, store.store_id, rows)
            conn.execute(
                update(stores).where(stores.c.store_id == store.store_id).values(change_seq=seq)
            )
    finally:
        engine.dispose()
    return store.store_id


def seed_past_orders(central: Central, store_id: str, n: int) -> None:
    """`n` orders handed over over the past year (one a day back and around), as central
    holds them: rows in `orders` and their documents in the change feed."""
    first = central.order(TestStore(store_id, [], {}, {}), [("SKU-1", 1)])["order_id"]
    engine = make_engine(central.server.database_url)
    now = datetime.now(UTC)
    try:
        with engine.begin() as conn:
            row = conn.execute(select(orders).where(orders.c.order_id == first)).one()
            seq = conn.execute(
                select(stores.c.change_seq).where(stores.c.store_id == store_id)
            ).scalar_one()
            order_rows: list[dict[str, Any]] = []
            doc_rows: list[dict[str, Any]] = []
            for i in range(n):
                when = now - timedelta(days=i % 365, hours=1)
                order_id = f"P-{i:06d}"
                data = {
                    **dict(row.data),
                    "order_id": order_id,
                    "state": "handed_over",
                    "fulfilled_at": when.isoformat(),
                    "updated_at": when.isoformat(),
                }
                order_rows.append(
                    {
                        "order_id": order_id,
                        "store_id": store_id,
                        "type": row.type,
                        "state": "handed_over",
                        "data": data,
                        "updated_at": when,
                    }
                )
                seq += 1
                doc_rows.append(
                    {
                        "store_id": store_id,
                        "kind": "order",
                        "entity_id": order_id,
                        "version": seq,
                        "deleted": False,
                        "data": data,
                    }
                )
                if len(doc_rows) >= 10_000:
                    conn.execute(insert(orders), order_rows)
                    _write_docs(conn, store_id, doc_rows)
                    order_rows, doc_rows = [], []
            if doc_rows:
                conn.execute(insert(orders), order_rows)
                _write_docs(conn, store_id, doc_rows)
            conn.execute(update(stores).where(stores.c.store_id == store_id).values(change_seq=seq))
    finally:
        engine.dispose()


def serve_only(central: Central, store_id: str) -> tuple[float, int, int]:
    """Central serving the snapshot alone: seconds, lines, bytes on the wire."""
    token = central.enroll(TestStore(store_id, [], {}, {}), "serve-only")["token"]
    started = time.perf_counter()
    lines = 0
    with httpx.stream(
        "GET",
        f"{central.url}/v1/sync/snapshot",
        headers={"Authorization": f"Bearer {token}", "Accept": "application/x-ndjson"},
        timeout=120,
    ) as response:
        assert response.status_code == 200, response.status_code
        for chunk in response.iter_bytes():
            lines += chunk.count(b"\n")
        wire = response.num_bytes_downloaded
    return time.perf_counter() - started, lines, wire


def enroll(
    central: Central, store_id: str, workdir: Path, profile: str | None = None
) -> tuple[float, int, int, str, float]:
    """`storeapp enroll` as a subprocess: seconds, peak RSS (KiB), progress lines, last line,
    CPU seconds (user + system: on a shared machine, steadier than the wall time).
    With `profile`, under `py-spy record` writing raw stacks there (times then include it)."""
    code = central.enroll_code(store_id)
    data_dir = workdir / f"tablet-{store_id}"
    env = installed_env()
    started = time.perf_counter()
    spy = ["py-spy", "record", "-r", "200", "-f", "raw", "-o", profile, "--"] if profile else []
    proc = subprocess.Popen(
        [
            *spy,
            sys.executable,
            "-c",
            "from storeapp.cli import main; main()",
            "enroll",
            "--server",
            central.url,
            "--code",
            code,
            "--data-dir",
            str(data_dir),
            "--name",
            "bench",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    output = proc.stdout.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    lines = [line for line in output.splitlines() if line.strip() and "py-spy" not in line]
    if proc.returncode != 0 or not lines or "sync ok" not in lines[-1]:
        raise SystemExit(f"enroll failed ({proc.returncode}):\n{output}")
    return seconds, usage.ru_maxrss, len(lines), lines[-1], usage.ru_utime + usage.ru_stime


def central_rss_kib(central: Central) -> int:
    proc = getattr(central.server, "_proc", None)
    if proc is None:
        return 0
    for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def run(
    label: str,
    database_url: str,
    skus: int,
    past: int,
    workdir: Path,
    profile: str | None = None,
) -> None:
    with running_central(database_url, own_process=True) as central:
        started = time.perf_counter()
        store_id = seed_store(central, skus)
        print(f"[{label}] seeded {2 * skus:,} documents in {time.perf_counter() - started:.1f} s")
        if past:
            past_orders(label, central, store_id, past, workdir)
            return
        serve_s, lines, wire = serve_only(central, store_id)
        print(
            f"[{label}] central serving the snapshot alone: {serve_s:.2f} s, {lines:,} lines, "
            f"{wire / 2**20:.1f} MiB on the wire ({lines / serve_s:,.0f} rows/s)"
        )
        seconds, rss, out_lines, last, cpu = enroll(central, store_id, workdir, profile)
        rows = 2 * skus
        verdict = "meets" if seconds <= GOAL_S else "misses"
        print(
            f"[{label}] storeapp enroll, first download of {rows:,} rows: {seconds:.2f} s "
            f"({rows / seconds:,.0f} rows/s; goal ≤ {GOAL_S:.0f} s: {verdict}; CPU {cpu:.2f} s; "
            f"load {os.getloadavg()[0]:.2f}); "
            f"tablet peak RSS {rss / 1024:.0f} MiB; central peak RSS "
            f"{central_rss_kib(central) / 1024:.0f} MiB; {out_lines} lines of output; "
            f"last: {last!r}"
        )


def past_orders(label: str, central: Central, store_id: str, n: int, workdir: Path) -> None:
    """Enrolling into a store with `n` past orders (issue #9: goal ≤ 5 s)."""
    seed_past_orders(central, store_id, n)
    seconds, rss, _, last, _ = enroll(central, store_id, workdir)
    verdict = "meets" if seconds <= PAST_GOAL_S else "misses"
    print(
        f"[{label}] storeapp enroll into a store with {n:,} past orders (handed over over the "
        f"past year; returns window 30 days): {seconds:.2f} s (goal ≤ {PAST_GOAL_S:.0f} s: "
        f"{verdict}); tablet peak RSS {rss / 1024:.0f} MiB; last: {last!r}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=50_000)
    parser.add_argument(
        "--past-orders",
        type=int,
        default=0,
        help="instead: a store of --skus items with this many past orders (try 50000 --skus 200)",
    )
    parser.add_argument(
        "--py-spy", dest="profile", help="profile `storeapp enroll` with py-spy into this file"
    )
    args = parser.parse_args()
    print(
        f"first download: {args.skus:,} SKUs (items + stock = {2 * args.skus:,} rows), central "
        f"as its own process on loopback, {os.cpu_count()} cores (shared: read the ratios)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        run(
            "sqlite",
            f"sqlite:///{Path(tmp) / 'central.db'}",
            args.skus,
            args.past_orders,
            Path(tmp),
            args.profile,
        )
        admin = pg_url()
        if admin:
            with fresh_pg_database(admin) as url:
                run("postgresql", url, args.skus, args.past_orders, Path(tmp))


if __name__ == "__main__":
    main()
