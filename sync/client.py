"""The tablet's HTTP client for central (PROTOCOL.md: enroll, push, pull, snapshot, events).

All network I/O of `sync` goes through one `httpx.Client`, whose transport is
the seam for tests (`transport=`: a real `httpx.HTTPTransport` wrapped to
drop a response or refuse a connection). Every httpx error and every non-2xx
reply is translated here into `sync.errors` (`raise ... from exc`).
"""

from __future__ import annotations

import json
import logging
from collections import deque
from collections.abc import Iterable, Iterator
from datetime import datetime
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

from .errors import (
    BatchTooLarge,
    Offline,
    RequestRejected,
    SeqGap,
    SeqReused,
    ServerError,
    SyncError,
    Unauthorized,
)
from .protocol import (
    MAX_PUSH_BYTES,
    Change,
    DeviceHealth,
    DeviceStatus,
    EnrollRequest,
    EnrollResponse,
    ErrorBody,
    PullRequest,
    PullResponse,
    PushRequest,
    PushResponse,
    ReplicaReport,
    SnapshotHeader,
    StockLookup,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "EVENTS_READ_TIMEOUT",
    "HEARTBEATS_MISSED",
    "HEARTBEAT_S",
    "CentralClient",
    "ChangeStream",
    "Poke",
]

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
# SSE: central may be silent for long; a read timeout ends the stream so the
# listener reconnects instead of hanging on a dead connection.
EVENTS_READ_TIMEOUT = 60.0
# The heartbeat a tablet asks of its event stream (`?heartbeat=`, answered with the
# `X-Heartbeat` header): a keep-alive every second, and a stream silent for this many of
# them is a link gone (a cable pulled, a Wi-Fi dropped) even though no error arrived.
HEARTBEAT_S = 1.0
HEARTBEATS_MISSED = 2.5

_OFFLINE_STATUSES = {502, 503, 504}
_DEVICES: TypeAdapter[list[DeviceHealth]] = TypeAdapter(list[DeviceHealth])
_CHANGES: TypeAdapter[list[Change]] = TypeAdapter(list[Change])
STREAM_BATCH = 1000  # snapshot lines validated together
_M = TypeVar("_M", bound=BaseModel)

log = logging.getLogger(__name__)


class CentralClient:
    """One device's connection to central. Not thread-safe: one per thread."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
    ) -> None:
        headers = {"Accept": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers=headers,
            transport=transport,
            timeout=timeout,
            follow_redirects=False,
            # an https central is verified against the CA bundle; a plain-http one (a store
            # hub on the LAN, loopback) never uses TLS — no redirects are followed — so the
            # bundle is not loaded for it (~65 ms a client, twice in `storeapp enroll`)
            verify=not base_url.lower().startswith("http://"),
        )

    # --- lifecycle -------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> CentralClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- calls -----------------------------------------------------------------

    def enroll(
        self, code: str, device_name: str, *, app_version: str | None = None
    ) -> EnrollResponse:
        body = EnrollRequest(code=code, device_name=device_name, app_version=app_version)
        response = self._send("POST", "/v1/devices/enroll", content=_dump(body))
        return _parse(EnrollResponse, response)

    def push(
        self,
        request: PushRequest | None = None,
        *,
        device_id: str | None = None,
        ops: list[dict[str, Any]] | None = None,
        device_time: datetime | None = None,
    ) -> PushResponse:
        """Push one batch: a `PushRequest`, or its fields as keywords.

        Raises BatchTooLarge without sending when the body is over MAX_PUSH_BYTES.
        """
        if request is None:
            if device_id is None or ops is None:
                raise TypeError("push() needs a PushRequest or device_id= and ops=")
            request = PushRequest.model_validate(
                {"device_id": device_id, "device_time": device_time, "ops": ops}
            )
        return self.push_json(_dump(request), len(request.ops))

    def push_json(self, content: bytes, ops: int) -> PushResponse:
        """Push one batch already in its wire form: a `PushRequest`'s JSON (of `ops` ops), as
        the sync engine builds it from the outbox's stored text; the caller has validated it.

        Raises BatchTooLarge without sending when the body is over MAX_PUSH_BYTES.
        """
        if len(content) > MAX_PUSH_BYTES:
            raise BatchTooLarge(f"push of {ops} ops is {len(content)} bytes, over {MAX_PUSH_BYTES}")
        response = self._send("POST", "/v1/sync/push", content=content)
        return _parse(PushResponse, response)

    def pull(
        self, cursor: str | None, limit: int = 1000, *, status: DeviceStatus | None = None
    ) -> PullResponse:
        body = PullRequest(cursor=cursor, limit=limit, status=status)
        # no status, no field: a page after the first is what it always was on the wire
        content = body.model_dump_json(exclude={"status"} if status is None else None).encode()
        response = self._send("POST", "/v1/sync/pull", content=content)
        return _parse_page(response)

    def replica_report(self, report: ReplicaReport) -> None:
        """Tell central this tablet's replica differed from its checksums (issue #12)."""
        self._send("POST", "/v1/sync/replica-report", content=_dump(report))

    def devices(self) -> list[DeviceHealth]:
        """The store's tablets as central last saw them (the manager's device list)."""
        response = self._send("GET", "/v1/sync/devices")
        try:
            return _DEVICES.validate_json(response.content)
        except ValidationError as exc:
            raise ServerError(
                "central answered /v1/sync/devices with a body this app cannot read",
                status_code=response.status_code,
            ) from exc

    def stock_nearby(self, sku: str) -> StockLookup:
        """The chain's other stores holding `sku`, and this store's latest movements of it."""
        response = self._send("GET", f"/v1/sync/stock/{quote(sku, safe='')}/nearby")
        return _parse(StockLookup, response)

    def order(self, order_id: str) -> Change | None:
        """One order of this tablet's store as a pull would send it (an order older than the
        snapshot's horizon, looked up on demand); None when central has no such order."""
        try:
            response = self._send("GET", f"/v1/sync/orders/{quote(order_id, safe='')}")
        except RequestRejected as exc:
            if exc.code == "UNKNOWN_ORDER":
                return None
            raise
        return _parse(Change, response)

    def snapshot(self, kinds: Iterable[str] | None = None) -> tuple[SnapshotHeader, ChangeStream]:
        """Open GET /v1/sync/snapshot: its header line and a stream of its changes.

        Close the stream (or exhaust it) to release the connection. The stream
        raises Offline if the connection breaks or ends before `header.count`
        changes, so a half snapshot is never taken for a whole one. `kinds`: those
        document kinds only (`?kinds=stock,order`, issue #12).
        """
        path = "/v1/sync/snapshot"
        if kinds is not None:
            path += "?kinds=" + ",".join(sorted(set(kinds)))
        response = self._open_stream("GET", path, headers={"Accept": "application/x-ndjson"})
        lines = _guard(response.iter_lines(), response)
        try:
            first = next((line for line in lines if line.strip()), None)
            if first is None:
                raise Offline("snapshot stream ended before its header")
            header = _parse_line(SnapshotHeader, first)
        except BaseException:
            response.close()
            raise
        return header, ChangeStream(header, lines, response)

    def events(
        self,
        *,
        read_timeout: float | None = EVENTS_READ_TIMEOUT,
        heartbeat: float | None = None,
    ) -> Iterator[Poke]:
        """Pokes from GET /v1/sync/events: the newest store change-seq, one per event
        (a `Poke`: an int whose `own` says the changes were all this tablet's own push).

        Ends when central closes the stream; raises Offline when the connection
        breaks or is silent for `read_timeout` seconds. With `heartbeat`, central is asked
        for a keep-alive at least that often and the stream is read with a timeout of
        `HEARTBEATS_MISSED` heartbeats; a central that does not answer the heartbeat
        (no `X-Heartbeat` header, or a longer one: an older central) is read as before.
        """
        connect = DEFAULT_TIMEOUT.connect or 5.0
        headers = {"Accept": "text/event-stream"}
        response: httpx.Response | None = None
        if heartbeat is not None:
            response = self._open_stream(
                "GET",
                "/v1/sync/events",
                headers=headers,
                params={"heartbeat": f"{heartbeat:g}"},
                timeout=httpx.Timeout(connect, read=heartbeat * HEARTBEATS_MISSED),
            )
            if not _answers_heartbeat(response, heartbeat):
                response.close()
                response = None
        if response is None:
            response = self._open_stream(
                "GET",
                "/v1/sync/events",
                headers=headers,
                timeout=httpx.Timeout(connect, read=read_timeout),
            )
        try:
            for line in _guard(response.iter_lines(), response):
                if not line.startswith("data:"):
                    continue  # comments (keep-alives), event:, id:, retry:, blank separators
                data = line[len("data:") :].strip()
                try:
                    event = json.loads(data)
                    poke = Poke(int(event["seq"]), own=event.get("own") is True)
                except (ValueError, KeyError, TypeError, AttributeError) as exc:
                    raise ServerError(f"unreadable event from central: {data[:80]!r}") from exc
                yield poke
        finally:
            response.close()

    # --- the boundary ----------------------------------------------------------

    def _send(self, method: str, path: str, *, content: bytes | None = None) -> httpx.Response:
        headers = {"Content-Type": "application/json"} if content is not None else None
        try:
            response = self._http.request(method, path, content=content, headers=headers)
        except httpx.HTTPError as exc:
            raise _transport_error(exc) from exc
        _raise_for_status(response)
        return response

    def _open_stream(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str],
        params: dict[str, str] | None = None,
        timeout: httpx.Timeout | None = None,
    ) -> httpx.Response:
        request = self._http.build_request(
            method,
            path,
            headers=headers,
            params=params,
            timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
        )
        try:
            response = self._http.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise _transport_error(exc) from exc
        if response.is_success:
            return response
        try:
            response.read()
        except httpx.HTTPError as exc:
            response.close()
            raise _transport_error(exc) from exc
        response.close()
        _raise_for_status(response)
        raise AssertionError("unreachable")  # pragma: no cover


def _answers_heartbeat(response: httpx.Response, heartbeat: float) -> bool:
    """Central promised a keep-alive at least every `heartbeat` seconds."""
    try:
        promised = float(response.headers.get("X-Heartbeat", "nan"))
    except ValueError:
        return False
    return 0 < promised <= heartbeat


class Poke(int):
    """A poke's change-seq; `own`: every change it tells of was this tablet's own push."""

    own: bool

    def __new__(cls, seq: int, *, own: bool = False) -> Poke:
        poke = super().__new__(cls, seq)
        poke.own = own
        return poke


class ChangeStream(Iterator[Change]):
    """The changes of one snapshot, read lazily from the NDJSON response."""

    def __init__(
        self, header: SnapshotHeader, lines: Iterator[str], response: httpx.Response
    ) -> None:
        self.header = header
        self.received = 0
        self._lines = lines
        self._response = response
        self._done = False
        self._buffer: deque[Change] = deque()

    def __iter__(self) -> ChangeStream:
        return self

    def __next__(self) -> Change:
        while not self._buffer:
            if self._done:
                raise StopIteration
            self._fill()
        return self._buffer.popleft()

    def _fill(self) -> None:
        """The next `STREAM_BATCH` lines, validated together (pydantic-core parses them in
        one call); a batch that does not validate as a whole goes line by line, so one bad
        change is skipped (logged) as before, not the batch."""
        lines: list[str] = []
        try:
            for line in self._lines:
                if line.strip():
                    lines.append(line)
                    if len(lines) >= STREAM_BATCH:
                        break
        except BaseException:
            self.close()
            raise
        first = self.received + 1
        self.received += len(lines)
        if lines:
            self._buffer.extend(_changes_of_lines(lines, first))
        if len(lines) < STREAM_BATCH:  # the end: what is buffered is still handed out
            self._done = True
            self._response.close()
            if self.received < self.header.count:
                raise Offline(
                    f"snapshot ended after {self.received} of {self.header.count} changes"
                )

    def close(self) -> None:
        self._done = True
        self._buffer.clear()
        self._response.close()

    def __enter__(self) -> ChangeStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


# --- translation -----------------------------------------------------------------


def _dump(model: BaseModel) -> bytes:
    return model.model_dump_json(exclude_none=False).encode()


def _parse(model: type[_M], response: httpx.Response) -> _M:
    try:
        return model.model_validate_json(response.content)
    except ValidationError as exc:
        raise ServerError(
            f"central answered {response.request.url.path} with a body this app cannot read",
            status_code=response.status_code,
        ) from exc


def _parse_page(response: httpx.Response) -> PullResponse:
    """A pull page; a change in it that is not a change at all (not an object, no kind, id or
    version, data that is not an object) is left out with one log line, and the rest of
    the page (its cursor with it) still lands: one bad document never stops a tablet's pulls.
    A page whose envelope cannot be read is a ServerError, as before."""
    try:
        return PullResponse.model_validate_json(response.content)
    except ValidationError as exc:
        first_failure = exc
    try:
        body = json.loads(response.content)
    except (ValueError, RecursionError):
        body = None
    changes = body.get("changes") if isinstance(body, dict) else None
    if not isinstance(changes, list):
        raise _unreadable(response) from first_failure
    try:
        page = PullResponse.model_validate({**body, "changes": []})
    except ValidationError as exc:
        raise _unreadable(response) from exc
    kept = [c for i, raw in enumerate(changes, 1) if (c := _change_of(raw, i)) is not None]
    return page.model_copy(update={"changes": kept})


def _change_of(raw: Any, position: int) -> Change | None:
    """One change of a page or snapshot, None (logged) when it is not a change at all."""
    try:
        return Change.model_validate(raw)
    except ValidationError as exc:
        kind = raw.get("kind") if isinstance(raw, dict) else None
        ident = raw.get("id") if isinstance(raw, dict) else None
        fields = ",".join(".".join(map(str, e["loc"])) or "change" for e in exc.errors()[:6])
        log.warning(
            "change_skipped position=%d kind=%.20r id=%.80r fields=%s",
            position,
            kind if isinstance(kind, str) else type(raw).__name__,
            ident if isinstance(ident, str) else None,
            fields,
        )
        return None


def _changes_of_lines(lines: list[str], first: int) -> list[Change]:
    try:
        changes = _CHANGES.validate_json("[" + ",".join(lines) + "]")
        if len(changes) == len(lines):
            return changes
    except ValueError:  # ValidationError included
        pass
    found = (_change_of_line(line, n) for n, line in enumerate(lines, start=first))
    return [c for c in found if c is not None]


def _change_of_line(line: str, position: int) -> Change | None:
    try:
        raw = json.loads(line)
    except (ValueError, RecursionError):
        log.warning("change_skipped position=%d line=unreadable", position)
        return None
    return _change_of(raw, position)


def _unreadable(response: httpx.Response) -> ServerError:
    return ServerError(
        f"central answered {response.request.url.path} with a body this app cannot read",
        status_code=response.status_code,
    )


def _parse_line(model: type[_M], line: str) -> _M:
    try:
        return model.model_validate_json(line)
    except ValidationError as exc:
        raise ServerError(f"unreadable line in central's stream: {line[:80]!r}") from exc


def _guard(lines: Iterator[str], response: httpx.Response) -> Iterator[str]:
    """Lines of a streamed body, with transport errors translated."""
    try:
        yield from lines
    except httpx.HTTPError as exc:
        response.close()
        raise _transport_error(exc) from exc


def _transport_error(exc: httpx.HTTPError) -> SyncError:
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.LocalProtocolError):
        return SyncError(f"cannot call central: {exc}")
    if isinstance(exc, httpx.DecodingError | httpx.TooManyRedirects):
        return ServerError(f"central's answer could not be read ({type(exc).__name__})")
    if isinstance(exc, httpx.TimeoutException):
        return Offline(f"central did not answer in time ({type(exc).__name__})")
    if isinstance(exc, httpx.ConnectError):
        return Offline("central cannot be reached")
    return Offline(f"connection to central broke ({type(exc).__name__})")


def _error_body(response: httpx.Response) -> ErrorBody | None:
    try:
        data = response.json()
    except ValueError:
        return None
    if isinstance(data, dict) and isinstance(data.get("detail"), dict):
        data = data["detail"]  # an HTTPException(detail={code, message})
    try:
        return ErrorBody.model_validate(data)
    except ValidationError:
        return None


def _raise_for_status(response: httpx.Response) -> None:
    status = response.status_code
    if response.is_success:
        return
    body = _error_body(response)
    code = body.code if body else f"HTTP_{status}"
    message = body.message if body else (response.reason_phrase or f"HTTP {status}")
    sent_code = body.code if body else None
    if status in (401, 403):
        raise Unauthorized(message, status_code=status, code=sent_code)
    if status == 409 and code == "SEQ_GAP":
        if body is None or body.expected_seq is None:
            raise ServerError("central answered SEQ_GAP without expected_seq", status_code=status)
        raise SeqGap(body.expected_seq, message, status_code=status)
    if status == 409 and code == "SEQ_REUSED":
        raise SeqReused(message, status_code=status, code=code)
    if status == 413:
        raise BatchTooLarge(message, status_code=status, code=sent_code)
    if 400 <= status < 500:
        raise RequestRejected(code, message, status_code=status)
    if status in _OFFLINE_STATUSES:
        raise Offline(
            f"central is unavailable ({status}): {message}", status_code=status, code=sent_code
        )
    raise ServerError(message, status_code=status, code=sent_code)
