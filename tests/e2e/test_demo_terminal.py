"""`storeapp demo`'s terminal, as a newcomer reads it (issue #10, finding 12): the scan sheet's
address and pickup codes that exist (the ready one said so), no sync line every interval
while nothing happens, and Ctrl-C stops everything at once (central's event streams end
instead of "Waiting for connections to close")."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from central.seed import READY_ORDER
from tests.e2e.browser import free_port

pytestmark = pytest.mark.e2e


def test_the_demo_prints_real_codes_stays_quiet_when_idle_and_stops_on_ctrl_c(
    tmp_path: Path,
) -> None:
    port, central_port = free_port(), free_port()
    log_path = tmp_path / "terminal.txt"
    argv = [
        sys.executable, "-c", "from storeapp.cli import main; main()", "demo",
        "--data-dir", str(tmp_path / "demo"), "--port", str(port),
        "--central-port", str(central_port),
    ]  # fmt: skip
    env = {**os.environ, "STOREAPP_SYNC_INTERVAL_S": "1", "FLET_FORCE_WEB_SERVER": "1"}
    with log_path.open("wb") as log:
        # its own session, so Ctrl-C (SIGINT to the terminal's process group) reaches the
        # demo and its central together, and not this test
        proc = subprocess.Popen(
            argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            deadline = time.monotonic() + 90
            while "Ctrl-C stops everything" not in log_path.read_text():
                assert proc.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.2)
            sheet = f"http://127.0.0.1:{port}/pages/scan-sheet"
            while True:  # the hub's server comes up just after the banner
                try:
                    page = httpx.get(sheet, timeout=5)
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline
                    time.sleep(0.2)
            assert page.status_code == 200 and "PK1011" in page.text
            banner_end = len(log_path.read_text())
            time.sleep(6)  # six sync intervals with nothing to do
            idle = log_path.read_text()[banner_end:]
        finally:
            started = time.monotonic()
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(timeout=10)
            finally:
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGKILL)
            stopped_s = time.monotonic() - started
    terminal = log_path.read_text()
    assert f"scan sheet: {sheet}" in terminal
    assert "ready for pickup (Hand-over): PK1011" in terminal  # READY_ORDER's code
    assert READY_ORDER == "W-1011"
    assert "PK1001, PK1003, …" not in terminal
    assert "an item to scan:" in terminal and "GTIN " in terminal
    assert [line for line in idle.splitlines() if "sync_pass" in line] == []
    assert "Waiting for connections to close" not in terminal
    assert stopped_s < 5, f"the demo took {stopped_s:.1f} s to stop:\n{terminal[-2000:]}"
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{central_port}/v1/health", timeout=2)
