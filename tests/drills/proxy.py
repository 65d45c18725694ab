"""A fault proxy on loopback: a real TCP/HTTP proxy between tablets and central.

    proxy = FaultProxy(central_port, random.Random(seed), rate=0.3)
    proxy.start()                     # listens on proxy.url, in its own thread (asyncio)
    ...tablets sync through proxy.url...
    proxy.calm()                      # no more faults: the network is healthy again
    proxy.faults                      # Counter of faults injected, by kind
    proxy.stop()

Each request is forwarded on a fresh upstream connection (`Connection: close`), so a
fault hits exactly one request. With probability `rate` a request gets one fault:

    lose       forwarded, central answers (and commits), the answer is dropped: the
               tablet's connection is closed without a byte
    timeout    forwarded, central answers, the proxy holds the answer until the tablet
               gives up (its read timeout)
    reset      the connection is reset (RST) before anything reaches central, or half-way
               through central's answer
    5xx        the proxy answers 502, 503 or 500 itself; nothing reaches central
    duplicate  the same request is sent to central twice (one after the other, or both
               at once); the tablet gets the last answer
"""

from __future__ import annotations

import asyncio
import random
import socket
import struct
import threading
import time
from collections import Counter

from tests.support.central import free_port

__all__ = ["KINDS", "FaultProxy"]

KINDS = ("lose", "timeout", "reset", "5xx", "duplicate")


class FaultProxy:
    def __init__(
        self,
        upstream_port: int,
        rng: random.Random,
        *,
        rate: float = 0.3,
        hold_s: float = 2.0,
        kinds: tuple[str, ...] = KINDS,
    ) -> None:
        self.upstream_port = upstream_port
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.rate = rate
        self.hold_s = hold_s
        self.kinds = kinds
        self.faults: Counter[str] = Counter()
        self.requests = 0
        self.last_fault_at = time.monotonic()
        self._rng = rng
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.AbstractServer | None = None
        self._ready = threading.Event()

    # --- lifecycle --------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="fault-proxy", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the fault proxy did not start")

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        self._server = loop.run_until_complete(
            asyncio.start_server(self._serve, "127.0.0.1", self.port)
        )
        self._ready.set()
        loop.run_forever()
        self._server.close()
        loop.run_until_complete(self._server.wait_closed())
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._loop = None

    def calm(self) -> None:
        """No more faults from now on."""
        with self._lock:
            self.rate = 0.0

    # --- one request --------------------------------------------------------------------

    def _draw(self) -> str | None:
        with self._lock:
            self.requests += 1
            if self._rng.random() >= self.rate:
                return None
            kind = self._rng.choice(self.kinds)
            self.faults[kind] += 1
            self.last_fault_at = time.monotonic()
            return kind

    def _coin(self) -> bool:
        with self._lock:
            return self._rng.random() < 0.5

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await _read_request(reader)
            if request is None:
                return
            fault = self._draw()
            if fault == "5xx":
                status = self._rng.choice((502, 503, 500))
                writer.write(_answer(status))
                await writer.drain()
                return
            if fault == "reset" and self._coin():
                _reset(writer)
                return
            if fault == "duplicate":
                if self._coin():
                    await self._forward(request)
                    answer = await self._forward(request)
                else:
                    answers = await asyncio.gather(self._forward(request), self._forward(request))
                    answer = answers[-1]
            else:
                answer = await self._forward(request)
            if fault == "lose":
                _reset(writer)
                return
            if fault == "timeout":
                await asyncio.sleep(self.hold_s)
                _reset(writer)
                return
            if fault == "reset":  # half-way through the answer
                writer.write(answer[: max(1, len(answer) // 2)])
                await writer.drain()
                _reset(writer)
                return
            writer.write(answer)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            if not writer.is_closing():
                writer.close()

    async def _forward(self, request: bytes) -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        try:
            writer.write(request)
            await writer.drain()
            return await reader.read(-1)  # `Connection: close`: the answer ends at EOF
        finally:
            writer.close()


async def _read_request(reader: asyncio.StreamReader) -> bytes | None:
    """One HTTP/1.1 request (Content-Length body), rewritten to `Connection: close`."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head[:-4].split(b"\r\n")
    kept = [lines[0]]
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        key = name.strip().lower()
        if key == b"content-length":
            length = int(value.strip())
        if key in (b"connection", b"keep-alive"):
            continue
        kept.append(line)
    kept.append(b"Connection: close")
    body = await reader.readexactly(length) if length else b""
    return b"\r\n".join(kept) + b"\r\n\r\n" + body


def _answer(status: int) -> bytes:
    body = b'{"code":"PROXY","message":"the proxy answered this itself (injected)"}'
    return (
        f"HTTP/1.1 {status} Injected\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    ).encode() + body


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP RST rather than a polite FIN."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
