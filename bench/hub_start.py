"""How long `storeapp hub` takes from start to its first screen in Chromium (issue #9: ≤ 3 s,
RSS ≤ 200 MB kept).

    python bench/hub_start.py [--runs 3] [--no-importtime]

Prepares once, as the e2e tests do (tests/e2e/conftest.py): central on SQLite in its own
process on loopback, a store of 6 items, a hub data dir enrolled and synced once. Then, `--runs`
times, starts `storeapp hub` on that data dir as a subprocess (a new port each run) and times:

- (a) process start → HTTP 200 on its port (polled every 20 ms);
- (b) process start → the sign-in screen visible in Chromium: a new browser context (empty
  cache, as a tablet's first visit) opens the page once (a) answers, turns on Flutter's
  semantics tree (tests/e2e/browser.py `open_flet_page`) and waits for the sign-in text;
- (c) the hub process's RSS (/proc VmRSS; its children's too, if any) once the screen shows;

then stops the hub (SIGTERM). Chromium (/usr/bin/chromium) is launched once, before the runs.
Prints each run and the medians beside the goals; then, as a hint, the top five cumulative
imports of the hub's path (`python -X importtime`).
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Browser  # noqa: E402

from bench._installed import installed_env  # noqa: E402
from storeapp.enrollment import enroll_data_dir  # noqa: E402
from storeapp.local import LocalStore  # noqa: E402
from sync.engine import SyncEngine  # noqa: E402
from tests.e2e.browser import (  # noqa: E402
    free_port,
    launch_chromium,
    open_flet_page,
    wait_text,
)
from tests.support.central import Central, running_central  # noqa: E402

GOAL_S = 3.0
GOAL_RSS_MB = 200.0
SIGN_IN_TEXT = "Sign in with your employee id and PIN."  # storeapp/views/sign_in.py
READY_TIMEOUT_S = 60.0
ROOTS = ("storeapp.cli", "storeapp.app")  # `hub` imports storeapp.app when it runs


@dataclass(frozen=True)
class Run:
    http_s: float  # process start → HTTP 200
    screen_s: float  # process start → sign-in screen visible
    rss_mb: float  # the hub process
    tree_rss_mb: float  # the hub process and its children


def prepare(central: Central, root: Path) -> Path:
    """A hub data dir enrolled on a new store of `central`, synced once."""
    store = central.new_store(items=6, stock=20)
    data_dir = root / "hub"
    db_path = data_dir / "store.db"
    enroll_data_dir(db_path, central.url, central.enroll_code(store.store_id), "bench hub")
    assert SyncEngine(lambda: LocalStore(db_path)).run_once().ok
    return data_dir


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        for child in map(int, children):
            found += [child, *_descendants(child)]
    return found


def _wait_http(proc: subprocess.Popen[bytes], url: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"storeapp hub exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"storeapp hub not answering at {url} after {READY_TIMEOUT_S:.0f} s")
        time.sleep(0.02)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def one_run(browser: Browser, data_dir: Path, log_path: Path) -> Run:
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    argv = [
        sys.executable, "-c", "from storeapp.cli import main; main()",
        "hub", "--data-dir", str(data_dir), "--port", str(port),
    ]  # fmt: skip
    env = installed_env(FLET_FORCE_WEB_SERVER="1")
    with open(log_path, "ab") as log:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_http(proc, url)
            http_s = time.perf_counter() - started
            page = open_flet_page(browser, url, timeout_ms=int(READY_TIMEOUT_S * 1000))
            wait_text(page, SIGN_IN_TEXT, timeout_ms=int(READY_TIMEOUT_S * 1000))
            screen_s = time.perf_counter() - started
            rss = _rss_kib(proc.pid)
            tree = rss + sum(_rss_kib(child) for child in _descendants(proc.pid))
            page.context.close()
        finally:
            _stop(proc)
    return Run(http_s, screen_s, rss / 1024, tree / 1024)


def import_hint(top: int = 5) -> list[tuple[float, str]]:
    """The `top` heaviest cumulative imports under the hub's path (nested ones included, so a
    chain shows as several rows): (ms, module)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {', '.join(ROOTS)}"],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    rows: list[tuple[float, str]] = []
    for line in done.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \| *(\S+)$", line)
        if m and m.group(3) not in ROOTS:
            rows.append((int(m.group(2)) / 1000, m.group(3)))
    return sorted(rows, reverse=True)[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-importtime", action="store_true", help="skip the import hint")
    args = parser.parse_args()
    load = os.getloadavg()
    print(
        f"hub start-up: {args.runs} runs, central (SQLite) as its own process on loopback, "
        f"{os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
        "(shared machine: read the figures as such)"
    )
    runs: list[Run] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with running_central(f"sqlite:///{root / 'central.db'}", own_process=True) as central:
            data_dir = prepare(central, root)
            with launch_chromium() as browser:
                for i in range(args.runs):
                    run = one_run(browser, data_dir, root / "hub.log")
                    runs.append(run)
                    print(
                        f"run {i + 1}: HTTP 200 {run.http_s:.2f} s, sign-in screen "
                        f"{run.screen_s:.2f} s (page to screen {run.screen_s - run.http_s:.2f} s), "
                        f"RSS {run.rss_mb:.0f} MB (with children {run.tree_rss_mb:.0f} MB)"
                    )
    screen = statistics.median(r.screen_s for r in runs)
    http = statistics.median(r.http_s for r in runs)
    page = statistics.median(r.screen_s - r.http_s for r in runs)
    rss = statistics.median(r.tree_rss_mb for r in runs)
    print(
        f"median: start → sign-in screen {screen:.2f} s (goal ≤ {GOAL_S:.0f} s: "
        f"{'meets' if screen <= GOAL_S else 'misses'}); HTTP 200 {http:.2f} s; page to screen "
        f"{page:.2f} s; RSS {rss:.0f} MB (goal ≤ {GOAL_RSS_MB:.0f} MB: "
        f"{'meets' if rss <= GOAL_RSS_MB else 'misses'})"
    )
    if not args.no_importtime:
        hint = ", ".join(f"{name} {ms:.0f} ms" for ms, name in import_hint())
        print(f"hint, heaviest cumulative imports of the hub's path (-X importtime): {hint}")


if __name__ == "__main__":
    main()
