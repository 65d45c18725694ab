"""A tablet as its own process, for the kill -9 drill (tests/drills/test_kill_tablet.py).

    python -m tests.drills.tablet_worker --db T.db --log T.log --seed 7 --actions 60 \\
        --employee E1 --pin 1111 --gtins gtins.json --sync-every 3

It works a seeded shift (tests/drills/workload.py) through the real view-models on an
enrolled tablet file, and runs a real SyncEngine pass every few actions. Restarted on the
same file and log, it goes on from the first action the log does not show done.

The log, one line per event (each line is one write, flushed before the next step):

    act> 12                      action 12 starts (a kill now is mid-write)
    {"done": 12, "kind": "scan", "ops": ["<op_id>", …]}   its local write committed
    sync>  /v1/sync/push> /v1/sync/push< … /v1/sync/pull> …  sync<
                                 a pass, each request as it leaves and as its answer comes
    end                          the shift is over

A line `{"done": …}` is written only after the transaction committed, so every op_id in
the log must survive any crash and reach central exactly once.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
from pathlib import Path
from typing import IO

import httpx

from storeapp.local import LocalStore
from sync.client import CentralClient
from sync.engine import SyncEngine
from sync.replica import Identity

from .workload import Floor

__all__ = ["done_ops", "main"]


class _Marking(httpx.HTTPTransport):
    """The real transport, writing each request's path to the log as it goes and comes."""

    def __init__(self, log: IO[str]) -> None:
        super().__init__()
        self._log = log

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        _line(self._log, f"{request.url.path}>")
        response = super().handle_request(request)
        _line(self._log, f"{request.url.path}<")
        return response

    def close(self) -> None:
        """Each pass closes its client; the pool lives as long as the process."""


def _line(log: IO[str], text: str) -> None:
    log.write(text + "\n")
    log.flush()


def done_ops(log_path: Path) -> tuple[int, list[str]]:
    """(actions done, op_ids they queued) as the log tells it (a torn last line is ignored)."""
    done, ops = 0, []
    if not log_path.exists():
        return 0, []
    for raw in log_path.read_text(encoding="utf-8").splitlines():
        if not raw.startswith("{"):
            continue
        try:
            entry = json.loads(raw)
        except json.JSONDecodeError:
            continue
        done = max(done, int(entry["done"]) + 1)
        ops.extend(entry["ops"])
    return done, ops


def _ops_since(db: Path, seq: int) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [
            r[0]
            for r in conn.execute(
                """SELECT op_id FROM outbox WHERE seq >= ?1
                   UNION ALL SELECT op_id FROM op_log WHERE seq >= ?1""",
                (seq,),
            )
        ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tablet_worker")
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--actions", type=int, required=True)
    parser.add_argument("--employee", required=True)
    parser.add_argument("--pin", required=True)
    parser.add_argument("--gtins", type=Path, required=True)
    parser.add_argument("--sync-every", type=int, default=3)
    args = parser.parse_args(argv)

    gtins = json.loads(args.gtins.read_text(encoding="utf-8"))
    start, _ = done_ops(args.log)
    with args.log.open("a", encoding="utf-8") as log:
        transport = _Marking(log)

        def client(identity: Identity) -> CentralClient:
            return CentralClient(identity.server_url, identity.token, transport=transport)

        engine = SyncEngine(lambda: LocalStore(args.db), client)
        with Floor(args.db, args.employee, args.pin, gtins) as floor:
            for n in range(start, args.actions):
                rng = random.Random(f"{args.seed}:{n}")
                _line(log, f"act> {n}")
                before = floor.hands.store.sync_state().next_seq
                kind = floor.step(rng)
                ops = _ops_since(args.db, before) if kind else []
                _line(log, json.dumps({"done": n, "kind": kind, "ops": ops}))
                if (n + 1) % args.sync_every == 0:
                    _line(log, "sync>")
                    engine.run_once()
                    _line(log, "sync<")
        _line(log, "end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
