"""Drill 1: kill -9 the tablet at random points of a scripted shift (mid-write, mid-push,
mid-pull) and restart it on the same file; nothing it saved may be lost or doubled.

The tablet is its own process (tests/drills/tablet_worker.py). The drill reads its log as
it grows, picks a moment (an action starting, a push or a pull leaving), waits a random
few milliseconds and sends SIGKILL; then starts it again on the same data.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.support.central import Central
from tests.support.faults import FaultyTransport
from tests.support.tablet import enroll_tablet

from .figures import Figures, Plan
from .store_day import STAFF, cancel_one, converge, open_store, release
from .tablet_worker import done_ops
from .verdict import Verdict, check, conclude_all

ROOT = Path(__file__).resolve().parents[2]
MOMENTS = {"write": "act> ", "push": "/v1/sync/push>", "pull": "/v1/sync/pull>"}


class Worker:
    """The tablet process and its log, read as it grows."""

    def __init__(self, argv: list[str], log: Path) -> None:
        self.argv, self.log = argv, log
        self.proc: subprocess.Popen[bytes] | None = None
        self._offset = 0

    def start(self) -> None:
        self._offset = self.log.stat().st_size if self.log.exists() else 0
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen(self.argv, cwd=ROOT, env=env)

    def wait_for(self, marker: str, timeout: float = 30) -> bool:
        """True when a line starting with `marker` appears; False when the shift ended."""
        deadline = time.monotonic() + timeout
        assert self.proc is not None
        while time.monotonic() < deadline:
            if self.log.exists():
                with self.log.open("rb") as f:
                    f.seek(self._offset)
                    chunk = f.read()
                end = chunk.rfind(b"\n")
                if end >= 0:
                    lines = chunk[: end + 1].decode().splitlines()
                    self._offset += end + 1
                    if any(line.startswith(marker) for line in lines):
                        return True
                    if "end" in lines:
                        return False
            if self.proc.poll() is not None:
                assert self.proc.returncode == 0, (
                    f"the tablet process failed ({self.proc.returncode})"
                )
                return False
            time.sleep(0.001)
        raise AssertionError(f"no {marker!r} in the tablet's log for {timeout} s")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def finish(self, timeout: float = 120) -> None:
        assert self.proc is not None
        assert self.proc.wait(timeout) == 0, "the tablet process failed"


def test_a_tablet_killed_mid_write_push_or_pull_loses_and_doubles_nothing(
    central: Central, tmp_path: Path, plan: Plan, record: list[Figures]
) -> None:
    runs: list[tuple[Verdict, Figures, int]] = []
    for seed in plan.seeds(fast=1, full=2):
        rng = random.Random(seed)
        figures = Figures("kill -9 tablet (mid-write, push, pull)", "SQLite", seed)
        record.append(figures)
        store = open_store(central, stock=20)
        orders = release(central, store, rng, plan.scale(6, 24))
        db, log = tmp_path / f"s{seed}-tablet.db", tmp_path / f"s{seed}-tablet.log"
        transport = FaultyTransport()
        try:
            tablet = enroll_tablet(central, store.store_id, db, transport, db.stem)
            assert tablet.sync().ok
            gtins = tmp_path / f"s{seed}-gtins.json"
            gtins.write_text(json.dumps(store.gtins), encoding="utf-8")
            actions = plan.scale(30, 200)
            argv = [
                sys.executable, "-m", "tests.drills.tablet_worker", "--db", str(db),
                "--log", str(log), "--seed", str(seed), "--actions", str(actions),
                "--employee", "E1", "--pin", STAFF["E1"], "--gtins", str(gtins),
                "--sync-every", "3",
            ]  # fmt: skip
            worker = Worker(argv, log)
            worker.start()
            last_fault = time.monotonic()
            for _ in range(plan.scale(3, 20)):
                moment = rng.choice(sorted(MOMENTS))
                if not worker.wait_for(MOMENTS[moment]):
                    break
                time.sleep(rng.uniform(0, 0.004))
                worker.kill()
                last_fault = time.monotonic()
                figures.faults[f"SIGKILL {moment}"] += 1
                if rng.random() < 0.3 and cancel_one(central, store, rng, orders):
                    figures.faults["OMS cancel"] += 1
                worker.start()
            worker.finish()
            last_fault = max(last_fault, time.monotonic())  # the shift went on after it
            done, logged = done_ops(log)
            assert done == actions, f"the shift ended after {done} of {actions} actions"
            figures.actions = sum(1 for line in log.read_text().splitlines() if '"kind": "' in line)
            converge([tablet.sync])
            figures.converged(time.monotonic() - last_fault)
        finally:
            transport.shutdown()

        verdict = check(central.server.database_url, store.store_id, [db], logged={db: logged})
        runs.append((verdict, figures, seed))
    conclude_all(runs)
