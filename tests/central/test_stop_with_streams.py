"""`central serve` stops at once when a tablet's event stream is open (issue #10, finding 12):
the stream ends (the tablet sees its end and shows offline) and the process exits, instead of
uvicorn's "Waiting for connections to close" forever."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx

from tests.support.central import CentralProcess, running_central


def test_central_serve_with_an_open_event_stream_stops_within_3_s_of_sigterm(
    tmp_path: Path,
) -> None:
    with running_central(f"sqlite:///{tmp_path / 'central.db'}", own_process=True) as central:
        store = central.new_store(items=1)
        token = central.enroll(store, "hub")["token"]
        ended = threading.Event()
        lines: list[str] = []

        def read() -> None:
            headers = {"Authorization": f"Bearer {token}"}
            try:
                with httpx.stream(
                    "GET", f"{central.url}/v1/sync/events", headers=headers, timeout=30
                ) as response:
                    for line in response.iter_lines():
                        lines.append(line)
            except httpx.HTTPError:
                pass
            ended.set()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        deadline = time.monotonic() + 10
        while not any(line.startswith("data:") for line in lines):
            assert time.monotonic() < deadline, f"no first poke: {lines}"
            time.sleep(0.05)

        server = central.server
        assert isinstance(server, CentralProcess)
        proc = server._proc
        started = time.monotonic()
        server.terminate()
        assert ended.wait(3.0), "the event stream was still open 3 s after SIGTERM"
        stream_ended_s = time.monotonic() - started
        proc.wait(timeout=3.0)  # raises TimeoutExpired if central hangs
        stopped_s = time.monotonic() - started
        figures = f"stream ended {stream_ended_s:.2f} s, exited {stopped_s:.2f} s after SIGTERM"
        print(figures)  # noqa: T201
        assert stopped_s < 3.0
        assert stream_ended_s < 1.0  # the stream ends at once, not at the grace timeout


def test_an_event_stream_answers_the_heartbeat_it_was_asked_for(tmp_path: Path) -> None:
    with running_central(f"sqlite:///{tmp_path / 'central.db'}") as central:
        store = central.new_store(items=1)
        token = central.enroll(store, "hub")["token"]
        headers = {"Authorization": f"Bearer {token}"}
        url = f"{central.url}/v1/sync/events"
        # the test central's own interval is 1 s: a tablet can ask for less, never more
        with httpx.stream("GET", url, params={"heartbeat": 0.5}, headers=headers) as response:
            assert response.headers["X-Heartbeat"] == "0.5"
            started, comments = time.monotonic(), 0
            for line in response.iter_lines():
                comments += line.startswith(":")
                if comments == 3:
                    break
            assert time.monotonic() - started < 2.5
        with httpx.stream("GET", url, params={"heartbeat": 30}, headers=headers) as response:
            assert response.headers["X-Heartbeat"] == "1"
        refused = httpx.get(url, params={"heartbeat": 0.1}, headers=headers)
        assert refused.status_code == 422
        assert refused.json()["code"] == "INVALID_REQUEST"
