"""A real HTTP transport with planned faults: the seam where tests break the network.

transport = FaultyTransport()
transport.lose_response("/v1/sync/push")          # central commits, the reply is lost
transport.refuse("/v1/sync/pull", after=1)        # 2nd pull never reaches central
transport.limit_body("/v1/sync/push", 20_000)     # a proxy answering 413 to big bodies
transport.unplug() … transport.plug_in()          # no network at all in between
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import cast

import httpx


@dataclass
class _Plan:
    path: str
    kind: str  # "lose" | "refuse" | "limit" | "cut"
    times: int
    after: int
    max_bytes: int = 0


class FaultyTransport(httpx.BaseTransport):
    def __init__(self) -> None:
        self._inner = httpx.HTTPTransport()
        self._plans: list[_Plan] = []
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.faults: Counter[str] = Counter()
        self.unplugged = False

    def unplug(self) -> None:
        """The tablet has no network: every request is refused until `plug_in()`."""
        self.unplugged = True

    def plug_in(self) -> None:
        self.unplugged = False

    def lose_response(self, path: str, *, times: int = 1, after: int = 0) -> None:
        """The request reaches central (which commits); the answer never reaches the tablet."""
        self._plans.append(_Plan(path, "lose", times, after))

    def refuse(self, path: str, *, times: int = 1, after: int = 0) -> None:
        """The connection is refused: nothing reaches central."""
        self._plans.append(_Plan(path, "refuse", times, after))

    def limit_body(self, path: str, max_bytes: int, *, times: int = 1_000_000) -> None:
        """A proxy in front of central answers 413 to a body over `max_bytes`."""
        self._plans.append(_Plan(path, "limit", times, 0, max_bytes))

    def cut_stream(self, path: str, after_bytes: int, *, times: int = 1) -> None:
        """The answer starts, then the connection breaks after `after_bytes` of body."""
        self._plans.append(_Plan(path, "cut", times, 0, after_bytes))

    def _fault_for(self, request: httpx.Request) -> _Plan | None:
        with self._lock:
            path = request.url.path
            self.calls[path] += 1
            if self.unplugged:
                return _Plan(path, "refuse", 1, 0)
            for plan in self._plans:
                if plan.path != path or plan.times <= 0:
                    continue
                if plan.kind == "limit":
                    if len(request.content) > plan.max_bytes:
                        plan.times -= 1
                        return plan
                    continue
                if plan.after > 0:
                    plan.after -= 1
                    continue
                plan.times -= 1
                return plan
            return None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        plan = self._fault_for(request)
        if plan is None:
            return self._inner.handle_request(request)
        self.faults[f"{plan.kind} {plan.path}"] += 1
        if plan.kind == "refuse":
            raise httpx.ConnectError("connection refused (injected)", request=request)
        if plan.kind == "limit":
            return httpx.Response(
                413,
                json={"code": "BATCH_TOO_LARGE", "message": "proxy: body too large"},
                request=request,
            )
        response = self._inner.handle_request(request)
        if plan.kind == "cut":
            return httpx.Response(
                response.status_code,
                headers=response.headers,
                stream=_CutStream(response, plan.max_bytes, request),
                request=request,
            )
        response.read()
        response.close()
        raise httpx.ReadError("connection lost after central answered (injected)", request=request)

    def close(self) -> None:
        """Each sync pass closes its client; the connection pool outlives it."""

    def shutdown(self) -> None:
        self._inner.close()


class _CutStream(httpx.SyncByteStream):
    def __init__(self, response: httpx.Response, limit: int, request: httpx.Request) -> None:
        self._response = response
        self._limit = limit
        self._request = request

    def __iter__(self) -> Iterator[bytes]:
        sent = 0
        for chunk in cast(httpx.SyncByteStream, self._response.stream):
            room = self._limit - sent
            if len(chunk) >= room:
                yield chunk[:room]
                raise httpx.ReadError("connection broke mid-body (injected)", request=self._request)
            sent += len(chunk)
            yield chunk

    def close(self) -> None:
        self._response.close()
