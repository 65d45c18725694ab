"""`create_app(settings)`: the central inventory API (run with `uvicorn --factory`)."""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from types import FrameType
from typing import Any, cast

from apscheduler.schedulers.background import BackgroundScheduler
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic import TypeAdapter
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from sync.protocol import Op, PushRequest

from ..db.engine import engine_for
from ..service.errors import CentralError
from ..service.leader import EXPIRY_LOCK, PRUNE_LOCK, Leader
from ..service.oms import expire_pickups
from ..service.pickups import remind_pickups
from ..service.pruning import Pruned, prune
from ..service.webhooks import DeliveryWorker
from ..settings import CentralSettings
from . import events, labels, oms, receiving, sync
from .boundary import INTERNAL_MESSAGE, Boundary, RefusedBody
from .ndjson import BulkGcPause, NdjsonBodies

log = logging.getLogger("central")


def _error(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"code": code, "message": message, **extra}, status_code=status)


def _describe(errors: list[Any]) -> tuple[str, list[dict[str, Any]]]:
    rows = []
    for e in errors:
        loc = [str(p) for p in e.get("loc", ()) if p != "body"]
        rows.append({"field": ".".join(loc) or "body", "message": e.get("msg", "invalid")})
    first = rows[0] if rows else {"field": "body", "message": "invalid"}
    if errors and errors[0].get("type") == "json_invalid":
        return "The body is not valid JSON", rows
    return f"{first['field']}: {first['message']}", rows


def _end_streams_on_stop(app: FastAPI) -> Callable[[], None]:
    """When the process is asked to stop (SIGTERM, Ctrl-C), its event streams end at once.

    uvicorn stops accepting connections, then waits for open responses to finish before it
    runs the lifespan's shutdown, and an event stream never finishes by itself ("Waiting for
    connections to close" forever). Its handlers are in place while the app starts (they are
    installed before startup and restored after the server stops), so ours is chained in
    front of them: it ends the streams on the loop, then lets uvicorn do what it does. Off
    the main thread (a test's server thread) there are no signals: nothing to do."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    loop = asyncio.get_running_loop()

    def close_streams() -> None:
        app.state.stopping = True  # a hub made after this (a stream arriving now) is closed
        hub = getattr(app.state, "change_hub", None)
        if hub is not None:
            hub.close_streams()

    previous: dict[int, Any] = {}

    def on_signal(signum: int, frame: FrameType | None) -> None:
        loop.call_soon_threadsafe(close_streams)
        handler = previous.get(signum)
        if callable(handler):
            handler(signum, frame)

    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, on_signal)

    def restore() -> None:
        for sig, handler in previous.items():
            if signal.getsignal(sig) is on_signal:  # uvicorn may have restored its own
                signal.signal(sig, handler)

    return restore


def create_app(settings: CentralSettings | None = None) -> FastAPI:
    settings = settings or CentralSettings()
    engine = engine_for(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        scheduler = None
        leaders: list[Leader] = []
        if settings.expiry_interval_s > 0 or settings.prune_interval_s > 0:
            scheduler = BackgroundScheduler(timezone="UTC")
            if settings.expiry_interval_s > 0:
                # every process schedules it, one process (the lock's holder) runs it
                leader = Leader(engine, EXPIRY_LOCK)
                leaders.append(leader)
                scheduler.add_job(
                    _expire_if_leader,
                    "interval",
                    args=[engine, leader],
                    seconds=settings.expiry_interval_s,
                    max_instances=1,
                    coalesce=True,
                    id="expire_pickups",
                )
            if settings.prune_interval_s > 0:
                # one pruner per cluster too: N processes pruning the same stores would queue
                # on each store's lock N times an interval for nothing
                pruner = Leader(engine, PRUNE_LOCK)
                leaders.append(pruner)
                scheduler.add_job(
                    _prune_if_leader,
                    "interval",
                    args=[engine, pruner, settings.retention_days],
                    seconds=settings.prune_interval_s,
                    max_instances=1,
                    coalesce=True,
                    id="prune",
                )
            scheduler.start()
        # the webhook delivery worker, on this process's event loop (one process delivers)
        worker = DeliveryWorker(engine, settings) if settings.deliver_webhooks else None
        worker_task = asyncio.create_task(worker.run()) if worker is not None else None
        restore = _end_streams_on_stop(app)
        try:
            yield
        finally:
            restore()
            if worker is not None and worker_task is not None:
                worker.stop()
                await asyncio.wait([worker_task], timeout=5)
            if scheduler is not None:
                scheduler.shutdown(wait=False)
            hub = getattr(app.state, "change_hub", None)
            if hub is not None:
                await hub.stop()
            for leader in leaders:
                leader.close()
            engine.dispose()

    app = FastAPI(
        title="central inventory API",
        version="1",
        lifespan=lifespan,
        description="The store's source of truth: sync for store tablets, and the OMS API.",
    )
    app.state.engine = engine
    app.state.settings = settings

    # control characters in the address, body limits on the stream, UTF-8, and a 500 for
    # anything unexpected (central/api/boundary.py)
    app.add_middleware(BulkGcPause)  # from the body's last byte to the answer
    app.add_middleware(NdjsonBodies)  # inside Boundary: the limits count the bytes sent
    app.add_middleware(Boundary)

    @app.exception_handler(CentralError)
    async def central_error(_: Request, exc: CentralError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        message, rows = _describe(list(exc.errors()))
        return _error(422, "INVALID_REQUEST", message, errors=rows)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if isinstance(exc, RefusedBody):  # too large, or not UTF-8, found while reading it
            return _error(exc.status_code, exc.code, str(exc.detail))
        if exc.status_code == 400 and exc.__cause__ is not None:
            # FastAPI could not parse the body (too deep, a number too long, …): the
            # documented answer to a body that is not JSON is a 422
            return _error(422, "INVALID_REQUEST", "The body is not valid JSON")
        code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(exc.status_code, "HTTP_ERROR")
        return _error(exc.status_code, code, str(exc.detail))

    @app.exception_handler(Exception)
    async def internal(_: Request, exc: Exception) -> JSONResponse:
        # the backstop behind `Boundary`, which answers (and logs) the same before this
        log.error("internal_error exc=%s", type(exc).__name__)
        return _error(500, "INTERNAL", INTERNAL_MESSAGE)

    @app.exception_handler(OperationalError)
    async def db_down(_: Request, exc: OperationalError) -> JSONResponse:
        log.error("database_unavailable %s", type(exc).__name__)
        return _error(
            503, "UNAVAILABLE", "The database is unavailable: nothing was applied, retry later"
        )

    @app.get("/v1/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    app.include_router(sync.router)
    app.include_router(oms.router)
    app.include_router(labels.router)
    app.include_router(receiving.router)
    app.include_router(events.router)
    app.openapi = lambda: _openapi_with_ops(app)  # type: ignore[method-assign]
    return app


def _expire_if_leader(engine: Engine, leader: Leader) -> int:
    """The pickup-expiry job, in the one process that leads (`central.service.leader`)."""
    if not leader.holds():
        return 0
    remind_pickups(engine)  # issue #11: reminded before the hold ends, then expired past it
    return expire_pickups(engine)


def _prune_if_leader(engine: Engine, leader: Leader, retention_days: int) -> Pruned | None:
    """The pruning job, in the one process that holds the pruning lock; None elsewhere."""
    return prune(engine, retention_days) if leader.holds() else None


def _openapi_with_ops(app: FastAPI) -> dict[str, Any]:
    """The generated document, plus the typed op union a push's `payload` is checked against.

    A push body is validated as `RawEnvelope`s (a bad body is a 422); each op's type and
    payload are then validated one by one against `Op` (a bad op is `rejected INVALID_OP`),
    which is why `Op` is documented as a component rather than as the request body.
    """
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    op_schema = TypeAdapter(cast(Any, Op)).json_schema(ref_template="#/components/schemas/{model}")
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.update(op_schema.pop("$defs", {}))
    components["Op"] = op_schema
    push_schema = TypeAdapter(PushRequest).json_schema(ref_template="#/components/schemas/{model}")
    components.update(push_schema.pop("$defs", {}))
    components["PushRequest"] = push_schema
    _document_errors(schema)
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    app.openapi_schema = schema
    return schema


_ERROR_BODY = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
# what any call can answer (the boundary checks the address and the body of every request)
_ANY_CALL = {
    "413": "BODY_TOO_LARGE (BATCH_TOO_LARGE on a push): the body is over this call's limit",
    "422": "INVALID_REQUEST: the address or the body is not valid; nothing was written",
    "500": "INTERNAL: an unexpected error on central",
}
_DATABASE = {"503": "UNAVAILABLE: the database is unavailable; nothing was applied, retry later"}
_AUTH = {
    "401": "UNAUTHORIZED / DEVICE_REVOKED: the credential is missing, unknown or revoked",
    "403": "FORBIDDEN: the wrong kind of credential for this call",
}


# a client sending unknown tokens (or enrollment codes) is slowed down: 429 where 401 is
_RATE_LIMITED = {
    "429": "RATE_LIMITED: too many unknown tokens or codes from this address; "
    "wait for Retry-After seconds",
}


def _document_errors(schema: dict[str, Any]) -> None:
    """Every operation lists every status it can answer, each error with the ErrorBody."""
    for path, operations in schema["paths"].items():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            wanted = dict(_ANY_CALL)
            if path != "/v1/health":
                wanted |= _DATABASE
            if operation.get("security"):
                wanted |= _AUTH
            if "401" in wanted or "401" in responses:
                wanted |= _RATE_LIMITED
            for status, description in wanted.items():
                responses.setdefault(status, {"description": description})
            responses["422"]["description"] = _ANY_CALL["422"]
            for status, response in responses.items():
                if status[0] in "45":
                    response["content"] = _ERROR_BODY
