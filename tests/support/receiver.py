"""A webhook receiver on a loopback port: records every delivery, answers as it is told."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .central import free_port


@dataclass
class Delivered:
    event_id: str
    signature: str
    body: bytes
    status: int  # what the receiver answered
    at: float

    @property
    def event(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


class Receiver:
    """`fail_first`: answer 500 to the first N deliveries of each event id; `delay_s`: take
    this long to answer (a slow OMS); `gate`: answer nothing until it is set."""

    def __init__(
        self, fail_first: int = 0, delay_s: float = 0.0, gate: threading.Event | None = None
    ) -> None:
        self.fail_first = fail_first
        self.delay_s = delay_s
        self.gate = gate
        self.got: list[Delivered] = []
        self._lock = threading.Condition()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hook"
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                try:  # a sender killed mid-request leaves a cut body: refused, as an OMS would
                    complete = len(body) == length and isinstance(json.loads(body), dict)
                except ValueError:
                    complete = False
                event_id = self.headers.get("X-Storeapp-Event-Id", "")
                if receiver.gate is not None:
                    receiver.gate.wait()
                if receiver.delay_s:
                    time.sleep(receiver.delay_s)
                with receiver._lock:
                    tries = sum(1 for d in receiver.got if d.event_id == event_id)
                    status = 500 if tries < receiver.fail_first else 200
                    status = status if complete else 400
                    receiver.got.append(
                        Delivered(
                            event_id,
                            self.headers.get("X-Storeapp-Signature", ""),
                            body,
                            status,
                            time.monotonic(),
                        )
                    )
                    receiver._lock.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def accepted(self) -> list[Delivered]:
        with self._lock:
            return [d for d in self.got if d.status == 200]

    def wait_for(self, n: int, timeout: float = 30.0) -> list[Delivered]:
        """The accepted deliveries once there are at least `n` distinct events accepted."""
        with self._lock:
            ok = self._lock.wait_for(
                lambda: len({d.event_id for d in self.got if d.status == 200}) >= n, timeout
            )
            assert ok, f"{len({d.event_id for d in self.got if d.status == 200})} of {n} events"
            return [d for d in self.got if d.status == 200]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
