"""What an open, idle event stream costs central.

    python bench/idle_streams.py [--streams 200] [--seconds 10]
    CENTRAL_TEST_PG=postgresql+psycopg://postgres@127.0.0.1:5432/test python bench/idle_streams.py

Starts central as its own process (`central serve`, one worker) on SQLite and, when
CENTRAL_TEST_PG is set, on a fresh PostgreSQL database; opens `--streams` event streams
(GET /v1/sync/events) from 10 enrolled tablets of one store, waits for each stream's first
poke, then measures central's CPU (user + system, /proc) over `--seconds` while nothing
changes. Prints central CPU ms per idle stream per second beside the goal (≤ 0.05), and on
PostgreSQL the database connections central holds.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from tests.support.central import (  # noqa: E402
    Central,
    CentralProcess,
    fresh_pg_database,
    pg_url,
    running_central,
)

GOAL_MS = 0.05
TABLETS = 10


async def _open(url: str, token: str, opened: asyncio.Queue[None], done: asyncio.Event) -> None:
    timeout = httpx.Timeout(10.0, read=None)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, timeout=timeout, headers=headers) as http:
        async with http.stream("GET", "/v1/sync/events") as response:
            lines = response.aiter_lines()
            async for line in lines:
                if line.startswith("data:"):
                    break
            await opened.put(None)
            reader = asyncio.ensure_future(_drain(lines))
            await done.wait()
            reader.cancel()


async def _drain(lines: object) -> None:
    async for _ in lines:  # type: ignore[attr-defined]
        pass


async def _measure(central: Central, tokens: list[str], streams: int, seconds: float) -> float:
    server = central.server
    assert isinstance(server, CentralProcess)
    opened: asyncio.Queue[None] = asyncio.Queue()
    done = asyncio.Event()
    tasks = [
        asyncio.ensure_future(_open(central.url, tokens[i % len(tokens)], opened, done))
        for i in range(streams)
    ]
    for _ in range(streams):
        await asyncio.wait_for(opened.get(), 120)
    await asyncio.sleep(1.0)  # the opening reads settle
    cpu, started = server.cpu_seconds(), time.monotonic()
    await asyncio.sleep(seconds)
    used_ms = (server.cpu_seconds() - cpu) * 1000
    wall = time.monotonic() - started
    done.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    return used_ms / streams / wall


def run(label: str, database_url: str, streams: int, seconds: float) -> None:
    with running_central(database_url, own_process=True) as central:
        store = central.new_store(items=1)
        tokens = [central.enroll(store, f"tablet {i}")["token"] for i in range(TABLETS)]
        server = central.server
        assert isinstance(server, CentralProcess)
        # the idle process alone, for reference
        cpu, started = server.cpu_seconds(), time.monotonic()
        time.sleep(min(seconds, 3.0))
        base = (server.cpu_seconds() - cpu) * 1000 / (time.monotonic() - started)
        per_stream = asyncio.run(_measure(central, tokens, streams, seconds))
        connections = _connections(database_url) if label == "postgresql" else None
    extra = f"; central held {connections} PostgreSQL connections" if connections else ""
    verdict = "meets" if per_stream <= GOAL_MS else "misses"
    print(
        f"{label:<10} {streams} idle streams for {seconds:.0f} s: central CPU "
        f"{per_stream:.4f} ms per stream per second ({verdict} the goal ≤ {GOAL_MS}); "
        f"central idle without streams {base:.2f} ms/s{extra}"
    )


def _connections(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                ).scalar_one()
            )
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    print(
        f"conditions: central one process (uvicorn, 1 worker) and this client on the same "
        f"{_cores()}-core machine, shared with other work; keep-alive 15 s"
    )
    with tempfile.TemporaryDirectory() as tmp:
        run("sqlite", f"sqlite:///{Path(tmp) / 'central.db'}", args.streams, args.seconds)
        admin_url = pg_url()
        if admin_url is None:
            print("postgresql skipped: set CENTRAL_TEST_PG to run it")
            return
        with fresh_pg_database(admin_url) as database_url:
            run("postgresql", database_url, args.streams, args.seconds)


def _cores() -> int:
    import os

    return os.cpu_count() or 1


if __name__ == "__main__":
    main()
