"""Central's push, in-process, on the realistic drain's own batches: for profiling.

    python bench/push_profile.py                   # SQLite: CPU ms per op, best of 3 replays
    python bench/push_profile.py --profile 30      # and cProfile's top 30 (cumulative, tottime)
    python bench/push_profile.py --orders-per-batch 100
    CENTRAL_TEST_PG=postgresql+psycopg://postgres@127.0.0.1:5432/test python bench/push_profile.py --pg

Queues the realistic mix (bench/sync_drain.py) on a tablet, copies central's database as it
stands, and records the push bodies while the real SyncEngine drains it into central (in a
thread of this process). Then each replay starts from the copy and calls the push route's
work (parse the body, `central.service.push.push`, write the answer) on the recorded bodies,
in order, timing CPU per op; `--profile N` prints cProfile's figures of the last replay.
Nothing else runs in central meanwhile, so the figures are central's push alone.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import gc
import pickle
import pstats
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy.engine import make_url  # noqa: E402

import central.api.sync as sync_api  # noqa: E402
from central.db.engine import make_engine  # noqa: E402
from central.service.clock import utcnow  # noqa: E402
from central.service.push import push  # noqa: E402
from storeapp.local import LocalStore  # noqa: E402
from sync.engine import SyncEngine  # noqa: E402
from sync.protocol import PushRequest  # noqa: E402
from tests.support.central import (  # noqa: E402
    Central,
    create_pg_database,
    drop_pg_database,
    fresh_pg_database,
    pg_url,
    running_central,
)

sys.path.insert(0, str(ROOT / "bench"))
from sync_drain import queue_mix, queue_spread  # noqa: E402

Recorded = tuple[str, str, bytes]  # device_id, store_id, the push body


def _record(central: Central, path: Path) -> list[Recorded]:
    bodies: list[Recorded] = []
    real = getattr(sync_api, "apply_push")  # noqa: B009  # (the route's name for push)

    def recording(
        engine: Any, device_id: str, store_id: str, body: Any, now: datetime, **kw: Any
    ) -> Any:
        bodies.append((device_id, store_id, body.model_dump_json().encode()))
        return real(engine, device_id, store_id, body, now, **kw)

    setattr(sync_api, "apply_push", recording)  # noqa: B010
    try:
        report = SyncEngine(lambda: LocalStore(path)).run_once()
    finally:
        setattr(sync_api, "apply_push", real)  # noqa: B010
    assert report.ok, report.error_in_words
    return bodies


def _replay(url: str, bodies: list[Recorded], profiler: cProfile.Profile | None) -> float:
    engine = make_engine(url)
    try:
        ops = 0
        cpu = 0.0
        for device_id, store_id, body in bodies:
            started = time.process_time()
            if profiler is not None:
                profiler.enable()
            req = PushRequest.model_validate_json(body)
            res = push(engine, device_id, store_id, req, utcnow())
            res.model_dump_json()
            if profiler is not None:
                profiler.disable()
            cpu += time.process_time() - started
            ops += len(req.ops)
            assert all(r.status == "applied" for r in res.results), res.results[:3]
        return cpu * 1000 / ops
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--pg", action="store_true", help="PostgreSQL (CENTRAL_TEST_PG)")
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--orders-per-batch", type=int, default=0, help="the sweep's shape")
    parser.add_argument("--replays", type=int, default=3)
    parser.add_argument("--profile", type=int, default=0, help="print cProfile's top N")
    parser.add_argument("--dump", type=Path, help="and save cProfile's stats in this file")
    parser.add_argument(
        "--keep",
        type=Path,
        help="SQLite: keep the database copy and the bodies in this folder, "
        "or replay them from there when it holds them (no queueing)",
    )
    args = parser.parse_args()
    if args.keep is not None and (args.keep / "bodies.pickle").exists():
        bodies = pickle.loads((args.keep / "bodies.pickle").read_bytes())
        _run(_sqlite_copy(args.keep / "saved.db", args.keep), bodies, args)
        return

    if args.orders_per_batch:
        queue: Callable[[Central, Path], tuple[Path, list[str], int]] = functools.partial(
            queue_spread, ops=10_000, per_batch=args.orders_per_batch
        )
    else:
        queue = functools.partial(queue_mix, n_orders=args.orders)

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        if args.pg:
            admin_url = pg_url()
            assert admin_url, "set CENTRAL_TEST_PG"
            with fresh_pg_database(admin_url) as url:
                with running_central(url) as central:
                    path, _, _ = queue(central, workdir)
                    template = make_url(url).database
                    central.server.stop()
                    kept = create_pg_database(admin_url, template)
                    central.server.start()
                    bodies = _record(central, path)
                try:

                    @contextmanager
                    def copy() -> Iterator[str]:
                        name = create_pg_database(admin_url, kept)
                        try:
                            yield (
                                make_url(admin_url)
                                .set(database=name)
                                .render_as_string(hide_password=False)
                            )
                        finally:
                            drop_pg_database(admin_url, name)

                    _run(copy, bodies, args)
                finally:
                    drop_pg_database(admin_url, kept)
        else:
            live = workdir / "central.db"
            saved = workdir / "saved.db"
            with running_central(f"sqlite:///{live}") as central:
                path, _, _ = queue(central, workdir)
                src, dst = sqlite3.connect(live), sqlite3.connect(saved)
                src.backup(dst)
                src.close()
                dst.close()
                bodies = _record(central, path)
            if args.keep is not None:
                args.keep.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(saved, args.keep / "saved.db")
                (args.keep / "bodies.pickle").write_bytes(pickle.dumps(bodies))
            _run(_sqlite_copy(saved, workdir), bodies, args)


def _sqlite_copy(saved: Path, workdir: Path) -> Callable[[], Any]:
    @contextmanager
    def copy() -> Iterator[str]:
        work = workdir / "replay.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{work}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(saved, work)
        yield f"sqlite:///{work}"

    return copy


def _run(copy: Callable[[], Any], bodies: list[Recorded], args: argparse.Namespace) -> None:
    ops = sum(len(PushRequest.model_validate_json(b).ops) for _, _, b in bodies)
    print(f"{len(bodies)} pushes, {ops} ops")
    gc.collect()  # as `central serve` does once started (central/cli.py)
    gc.freeze()
    best = None
    profiler = None
    for n in range(args.replays):
        last = n == args.replays - 1
        profiler = cProfile.Profile() if last and args.profile else None
        with copy() as url:
            ms = _replay(url, bodies, profiler)
        print(f"replay {n + 1}: {ms:.4f} ms CPU per op" + (" (profiled)" if profiler else ""))
        if profiler is None:
            best = ms if best is None else min(best, ms)
    if best is not None:
        print(f"best: {best:.4f} ms CPU per op")
    if profiler is not None:
        stats = pstats.Stats(profiler)
        if args.dump is not None:
            stats.dump_stats(args.dump)
        stats.sort_stats("cumulative").print_stats(args.profile)
        stats.sort_stats("tottime").print_stats(args.profile)


if __name__ == "__main__":
    main()
