"""NDJSON bodies for the OMS bulk calls (items, stock, staff): one JSON row a line.

`Content-Type: application/x-ndjson` on `PUT …/items`, `POST …/stock` or `PUT …/staff`:
the lines are turned, as they arrive, into the JSON array the route reads (`[` line `,`
line … `]`) — no parse here, so it costs a copy; the route validates the rows exactly as a
JSON array's (a row's number is its non-empty line's, from 0; a line that is not JSON makes
the body not JSON: 422). Blank lines are skipped. The bulk body limit applies to the bytes
sent (`boundary.Boundary`, which runs first).

`BulkGcPause`: on those three routes the cyclic garbage collector is held off from the last
byte of the body until the answer starts (`service.oms.gc_paused`), so parsing and validating 10,000
rows is not walked again by collections of the oldest generation (~9 % of a catalogue
load's CPU). Not while the body arrives: a slow sender does not hold it off.
"""

from __future__ import annotations

import re
from contextlib import ExitStack

from ..service.oms import gc_paused
from .boundary import ASGIApp, Message, Receive, Scope, Send

__all__ = ["NDJSON", "BulkGcPause", "NdjsonBodies"]

NDJSON = b"application/x-ndjson"
_BULK = re.compile(r"^/v1/oms/stores/[^/]+/(items|stock|staff)$")


def _is_ndjson(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            return bool(value.split(b";", 1)[0].strip().lower() == NDJSON)
    return False


class NdjsonBodies:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _BULK.match(scope["path"]) or not _is_ndjson(scope):
            await self.app(scope, receive, send)
            return
        headers = [
            (b"content-type", b"application/json") if name == b"content-type" else (name, value)
            for name, value in scope["headers"]
            if name != b"content-length"
        ]
        rest = b""  # the unfinished line
        rows = 0
        ended = False

        def array_part(data: bytes, final: bool) -> bytes:
            """The JSON array's bytes for these lines: `[` before the first row, `,` before
            each other, `]` (or `[]`) at the end."""
            nonlocal rest, rows
            parts = (rest + data).split(b"\n")
            rest = b"" if final else parts.pop()
            out = []
            for part in parts:
                line = part.strip()
                if line:
                    out.append((b"[" if rows == 0 else b",") + line)
                    rows += 1
            if final:
                out.append(b"]" if rows else b"[]")
            return b"".join(out)

        async def as_array() -> Message:
            nonlocal ended
            if ended:
                return await receive()
            message = await receive()
            if message["type"] != "http.request":
                return message
            more = bool(message.get("more_body", False))
            ended = not more
            return {**message, "body": array_part(message.get("body", b""), final=not more)}

        await self.app({**scope, "headers": headers}, as_array, send)


class BulkGcPause:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _BULK.match(scope["path"]):
            await self.app(scope, receive, send)
            return
        with ExitStack() as paused:
            read: list[bool] = []  # the body has ended (the pause is on)

            async def then_pause() -> Message:
                message = await receive()
                ended = message["type"] != "http.request" or not message.get("more_body", False)
                if ended and not read:
                    read.append(True)
                    paused.enter_context(gc_paused())
                return message

            async def resume_then_send(message: Message) -> None:
                if message["type"] == "http.response.start":
                    paused.close()  # on again before the answer leaves
                await send(message)

            await self.app(scope, then_pause, resume_then_send)
