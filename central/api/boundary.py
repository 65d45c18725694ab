"""The request boundary, as a pure ASGI middleware in front of every route.

- A control character (NUL …) anywhere in the path or the query string: 422
  `INVALID_REQUEST`, before any route or database sees it.
- Body limits on the stream, not on the header: the bytes received are counted as they
  arrive and the request is refused with 413 the moment the route's limit is passed,
  without reading the rest (a declared `Content-Length` over the limit is refused at once).
  A push keeps its code `BATCH_TOO_LARGE` (the tablet halves the batch); every other route
  answers `BODY_TOO_LARGE`.
- A body that is not UTF-8: 422 `INVALID_REQUEST` "The body is not UTF-8 JSON".
- Any unexpected exception: 500 `{code: "INTERNAL", message}`; the log line names the
  exception's type and where it was raised, never its message (it may hold customer data).
"""

from __future__ import annotations

import codecs
import json
import logging
import re
import traceback
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect

from sync.protocol import MAX_PUSH_BYTES

__all__ = [
    "BODY_LIMITS",
    "INTERNAL_MESSAGE",
    "BodyLimit",
    "Boundary",
    "RefusedBody",
    "body_limit",
]

log = logging.getLogger("central")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

KIB = 1024
MIB = 1024 * KIB


@dataclass(frozen=True)
class BodyLimit:
    max_bytes: int
    code: str
    message: str


_PUSH = BodyLimit(
    MAX_PUSH_BYTES, "BATCH_TOO_LARGE", "A push may carry at most 1 MiB: halve the batch"
)
_BULK = BodyLimit(
    8 * MIB, "BODY_TOO_LARGE", "A bulk call may carry at most 8 MiB: send the rows in parts"
)
# a till-sales stream (NDJSON) is written every 5,000 rows as it arrives: its bound is the
# connection's, not memory's
_SALES_STREAM = BodyLimit(
    1024 * MIB, "BODY_TOO_LARGE", "A till-sales stream may carry at most 1 GiB: send it in parts"
)
_ORDER = BodyLimit(1 * MIB, "BODY_TOO_LARGE", "An order may carry at most 1 MiB")
_LABEL = BodyLimit(1 * MIB, "BODY_TOO_LARGE", "A label may carry at most 1 MiB")
_SMALL = BodyLimit(64 * KIB, "BODY_TOO_LARGE", "This call's body may carry at most 64 KiB")

# (path pattern, limit): the first that matches; every other path gets _SMALL.
BODY_LIMITS: tuple[tuple[re.Pattern[str], BodyLimit], ...] = (
    (re.compile(r"^/v1/sync/push$"), _PUSH),
    (re.compile(r"^/v1/oms/stores/[^/]+/(items|stock|staff|sales)$"), _BULK),
    (re.compile(r"^/v1/oms/orders$"), _ORDER),
    (re.compile(r"^/v1/oms/stores/[^/]+/orders/[^/]+/label$"), _LABEL),
)

INTERNAL_MESSAGE = (
    "Central could not answer this request because of an error on its side: try again, and "
    "if it keeps happening, tell the support team"
)

_CONTROL = re.compile("[\x00-\x1f\x7f]")
_CONTROL_BYTES = re.compile(b"[\x00-\x1f\x7f]")
_PERCENT = re.compile(rb"%([0-9A-Fa-f]{2})")


_SALES = re.compile(r"^/v1/oms/stores/[^/]+/sales$")


def _is_ndjson(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            return bool(value.split(b";", 1)[0].strip().lower() == b"application/x-ndjson")
    return False


def body_limit(path: str, ndjson: bool = False) -> BodyLimit:
    """The path's limit; `ndjson`: the body is an NDJSON stream (a till-sales stream is
    written as it arrives, so it may run far longer than a JSON array)."""
    if ndjson and _SALES.match(path):
        return _SALES_STREAM
    for pattern, limit in BODY_LIMITS:
        if pattern.match(path):
            return limit
    return _SMALL


class RefusedBody(HTTPException):
    """Raised from `receive` while a route reads its body: FastAPI passes an HTTPException
    on untouched, and the app's handler answers it with `code` and the message."""

    def __init__(self, status_code: int, code: str, message: str) -> None:
        super().__init__(status_code=status_code, detail=message)
        self.code = code


def _query_has_control(query: bytes) -> bool:
    if _CONTROL_BYTES.search(query):
        return True
    return any(int(h, 16) < 0x20 or int(h, 16) == 0x7F for h in _PERCENT.findall(query))


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


async def _answer(send: Send, status: int, body: dict[str, Any]) -> None:
    raw = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(raw)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": raw})


def _where(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    return " < ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}" for f in reversed(frames[-4:]))


class Boundary:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        where = "path" if _CONTROL.search(scope["path"]) else None
        if where is None and _query_has_control(scope.get("query_string", b"")):
            where = "query"
        if where is not None:
            message = f"The {where} must not contain control characters (such as NUL)"
            await _answer(
                send,
                422,
                {
                    "code": "INVALID_REQUEST",
                    "message": message,
                    "errors": [{"field": where, "message": message}],
                },
            )
            return
        limit = body_limit(scope["path"], _is_ndjson(scope))
        declared = _declared_length(scope)
        if declared is not None and declared > limit.max_bytes:
            await _answer(send, 413, {"code": limit.code, "message": limit.message})
            return

        received = 0
        utf8 = codecs.getincrementaldecoder("utf-8")()

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                received += len(chunk)
                if received > limit.max_bytes:
                    raise RefusedBody(413, limit.code, limit.message)
                try:
                    utf8.decode(chunk, final=not message.get("more_body", False))
                except UnicodeDecodeError:
                    raise RefusedBody(
                        422, "INVALID_REQUEST", "The body is not UTF-8 JSON"
                    ) from None
            return message

        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except ClientDisconnect:
            return  # the client went away mid-body: nobody to answer
        except Exception as exc:
            log.error(
                "internal_error method=%s path=%s exc=%s at=%s",
                scope.get("method"),
                getattr(scope.get("route"), "path", "?"),  # the route's template: no ids, no data
                type(exc).__name__,
                _where(exc),
            )
            if started:
                raise
            await _answer(
                send,
                500,
                {"code": "INTERNAL", "message": INTERNAL_MESSAGE},
            )
