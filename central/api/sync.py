"""/v1/devices and /v1/sync: enrollment, push, pull, snapshot, events."""

from __future__ import annotations

import json
import zlib
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import StreamingResponse
from pydantic import ValidationError
from sqlalchemy import Engine

from sync.protocol import (
    MAX_PUSH_OPS,
    PLAIN_PATTERN,
    Change,
    DeviceHealth,
    EnrollRequest,
    EnrollResponse,
    ErrorBody,
    PullRequest,
    PullResponse,
    PushRequest,
    PushResponse,
    ReplicaReport,
    StockLookup,
)

from ..service import auth, devices, feed, notify, pickups
from ..service.clock import utcnow
from ..service.errors import Forbidden, TooLarge, Unauthorized
from ..service.push import push as apply_push
from .deps import Device, DeviceAuth, DeviceToken, EngineDep, Enrollment, change_hub

router = APIRouter(prefix="/v1")

# `GET /v1/sync/events?heartbeat=`: the keep-alive interval a tablet may ask for
HEARTBEAT_MIN_S = 0.5
HEARTBEAT_MAX_S = 60.0
KINDS_PATTERN = r"^[a-z_]{1,20}(,[a-z_]{1,20}){0,19}$"

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "token missing, wrong or revoked"},
    403: {"model": ErrorBody, "description": "an integration key, or another device's ops"},
    422: {"model": ErrorBody, "description": "INVALID_REQUEST: not a valid body; nothing applied"},
}


@router.post(
    "/devices/enroll",
    response_model=EnrollResponse,
    responses={
        401: {"model": ErrorBody, "description": "INVALID_CODE, CODE_USED or CODE_EXPIRED"},
        429: {
            "model": ErrorBody,
            "description": "RATE_LIMITED: too many failed codes from this address (Retry-After)",
        },
    },
)
def enroll(body: EnrollRequest, engine: EngineDep, limit: Enrollment) -> EnrollResponse:
    limit.check()  # a client over its failures is refused before its code is looked up
    try:
        return auth.enroll(engine, body.code, body.device_name, body.app_version)
    except Unauthorized:
        limit.failed()
        raise


@router.post(
    "/sync/push",
    response_model=PushResponse,
    responses={
        **ERRORS,
        409: {"model": ErrorBody, "description": "SEQ_GAP (with expected_seq) or SEQ_REUSED"},
        413: {"model": ErrorBody, "description": "more than 500 ops or 1 MiB: halve the batch"},
        503: {"model": ErrorBody, "description": "database unavailable; nothing applied"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/PushRequest"}}
            },
        }
    },
)
async def push(request: Request, auth: DeviceToken, engine: EngineDep) -> Response:
    # The body is parsed straight from JSON by pydantic (the hot path: up to 500 ops), and
    # the answer is written by pydantic too; the OpenAPI document still names both models.
    # The token, the body and the ops are dealt with on one worker thread.
    raw = await request.body()
    budget = request.app.state.settings.push_lock_budget_s
    result = await run_in_threadpool(_push_as, auth, engine, raw, budget)
    return Response(result.model_dump_json(), media_type="application/json")


def _push_as(auth: DeviceAuth, engine: Engine, raw: bytes, lock_budget_s: float) -> PushResponse:
    device_id, store_id = auth.identity()
    try:
        body = PushRequest.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError(_push_errors(exc)) from exc
    if body.device_id != device_id:
        raise Forbidden("This token belongs to another device")
    if len(body.ops) > MAX_PUSH_OPS:
        raise TooLarge(f"At most {MAX_PUSH_OPS} ops per push; this one has {len(body.ops)}")
    with notify.caused_by(device_id):  # the pusher's own stream says "own"
        return apply_push(engine, device_id, store_id, body, utcnow(), lock_budget_s=lock_budget_s)


def _push_errors(exc: ValidationError) -> list[Any]:
    """A push that is not one: for an op, what `LooseEnvelope` (op_id, seq) found wrong, not
    every field `RawEnvelope` would also have wanted."""
    errors = []
    for e in exc.errors():
        loc = tuple(e["loc"])
        if len(loc) > 2 and loc[0] == "ops":
            if loc[2] != "LooseEnvelope":
                continue
            e = {**e, "loc": (*loc[:2], *loc[3:])}
        errors.append(e)
    return errors or list(exc.errors())


@router.post("/sync/pull", response_model=PullResponse, responses=ERRORS)
def pull(body: PullRequest, auth: DeviceToken, engine: EngineDep) -> Response:
    device_id, store_id = auth.identity()  # on the route's thread: one hop per pull
    if body.status is not None:  # the first page of a pass: what the tablet says of itself
        devices.record_status(engine, device_id, body.status, utcnow())
    page = feed.pull_json(engine, store_id, device_id, body.cursor, body.limit)
    # the page's JSON as the feed wrote it: FastAPI would validate its documents over again
    # before writing them (the OpenAPI document still names PullResponse)
    return Response(page, media_type="application/json")


@router.post(
    "/sync/replica-report",
    status_code=204,
    responses={**ERRORS, 503: {"model": ErrorBody, "description": "database unavailable"}},
)
def replica_report(body: ReplicaReport, device: Device, engine: EngineDep) -> Response:
    """A tablet's replica differed from the checksums central sent (issue #12): which kinds,
    and whether reloading them healed it; managers see the last one on the device list."""
    devices.record_replica_report(engine, device.device_id, body, utcnow())
    return Response(status_code=204)


@router.get(
    "/sync/devices",
    response_model=list[DeviceHealth],
    responses={401: ERRORS[401], 403: ERRORS[403]},
)
def list_devices(device: Device, engine: EngineDep) -> list[DeviceHealth]:
    """The tablets of the caller's store and their sync health (the manager's device list).
    Names, times and counts only: no customer data."""
    return devices.store_devices(engine, device.store_id)


OrderId = Annotated[str, Path(min_length=1, max_length=64, pattern=PLAIN_PATTERN)]


@router.get(
    "/sync/orders/{order_id}",
    response_model=Change,
    responses={
        401: ERRORS[401],
        403: ERRORS[403],
        404: {"model": ErrorBody, "description": "UNKNOWN_ORDER: no such order in this store"},
        422: ERRORS[422],
    },
)
def get_order(order_id: OrderId, device: Device, engine: EngineDep) -> Change:
    """One order of the caller's store as a pull sends it (kind `order`): the returns desk
    looks up an order older than what the tablet downloaded (the snapshot's horizon)."""
    return feed.order_change(engine, device.store_id, order_id)


@router.get(
    "/sync/stock/{sku}/nearby",
    response_model=StockLookup,
    responses={401: ERRORS[401], 403: ERRORS[403]},
)
def stock_nearby(
    sku: Annotated[str, Path(min_length=1, max_length=64, pattern=PLAIN_PATTERN)],
    device: Device,
    engine: EngineDep,
) -> StockLookup:
    """The chain's other stores holding `sku` (available units, most first) and the caller's
    store's latest movements of it, with who and why (the tablet's stock lookup, online)."""
    return pickups.stock_lookup(engine, device.store_id, sku)


@router.get(
    "/sync/snapshot",
    responses={
        200: {
            "content": {"application/x-ndjson": {}},
            "description": "a SnapshotHeader line, then one Change per line",
        }
    },
)
def snapshot(
    request: Request,
    device: Device,
    engine: EngineDep,
    kinds: Annotated[
        str | None,
        Query(
            max_length=400,
            pattern=KINDS_PATTERN,
            description="comma-separated document kinds: a snapshot of those kinds only "
            "(a tablet reloading kinds whose checksum differed; issue #12)",
        ),
    ] = None,
) -> StreamingResponse:
    """Streamed from the database as it is read; gzip-compressed when the client accepts it
    (`Accept-Encoding: gzip`, as httpx sends by default)."""
    wanted = None if kinds is None else sorted(set(kinds.split(",")))
    header, chunks = feed.snapshot_stream(engine, device.store_id, device.device_id, wanted)
    first = header.model_dump_json().encode() + b"\n"
    if "gzip" not in request.headers.get("accept-encoding", "").lower():
        return StreamingResponse(_prefixed(first, chunks), media_type="application/x-ndjson")
    return StreamingResponse(
        _gzipped(_prefixed(first, chunks)),
        media_type="application/x-ndjson",
        headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"},
    )


def _prefixed(first: bytes, chunks: Iterator[bytes]) -> Iterator[bytes]:
    try:
        yield first
        yield from chunks
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


def _gzipped(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """gzip on the fly, one compressed piece per chunk, each decodable when it arrives
    (level 1: on loopback or a store's LAN the CPU is dearer than the bytes; the NDJSON of
    a catalogue still shrinks ~10x)."""
    packer = zlib.compressobj(1, zlib.DEFLATED, 31)
    try:
        for chunk in chunks:  # each chunk whole on the wire: the header line at once
            yield packer.compress(chunk) + packer.flush(zlib.Z_SYNC_FLUSH)
        yield packer.flush()
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


@router.get(
    "/sync/events",
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": 'a "poke" event with {"seq": N} whenever the store changes '
            '(and "own": true when every change since the last poke was this device\'s push)',
        }
    },
)
async def events(
    request: Request,
    device: Device,
    engine: EngineDep,
    heartbeat: Annotated[
        float | None,
        Query(
            ge=HEARTBEAT_MIN_S,
            le=HEARTBEAT_MAX_S,
            description="seconds: a keep-alive comment at least this often (at most the "
            "server's own interval), so a tablet that hears nothing for ~2 of them knows the "
            "link is gone; answered with the `X-Heartbeat` header",
        ),
    ] = None,
) -> StreamingResponse:
    # the stream waits on this process's one change listener (central/service/notify.py);
    # it reads the database once, for its first poke
    keepalive: float = request.app.state.settings.events_keepalive_s
    if heartbeat is not None:
        keepalive = min(keepalive, heartbeat)
    store_id = device.store_id
    hub = change_hub(request)

    async def stream() -> AsyncIterator[str]:
        async with hub.subscribe(store_id, device.device_id) as sub:
            yield "retry: 3000\n\n"
            sub.wake(await run_in_threadpool(feed.current_seq, engine, store_id))
            last = -1
            while not sub.ended:  # a stopping process ends its streams (hub.close_streams)
                if sub.seq != last:
                    last = sub.seq
                    # "own": every change since the last poke was this tablet's own push
                    data = {"seq": last, "own": True} if sub.told() else {"seq": last}
                    yield f"event: poke\ndata: {json.dumps(data)}\n\n"
                elif not await sub.wait(keepalive):
                    if await request.is_disconnected():
                        return
                    yield ": keep-alive\n\n"

    headers = {"Cache-Control": "no-cache", "X-Heartbeat": f"{keepalive:g}"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)
