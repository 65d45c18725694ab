"""`create_app(settings)`: the central inventory API (run with `uvicorn --factory`)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

from apscheduler.schedulers.background import BackgroundScheduler
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic import TypeAdapter
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from sync.protocol import MAX_PUSH_BYTES, Op, PushRequest

from ..db.engine import make_engine
from ..service.errors import CentralError
from ..service.oms import expire_pickups
from ..settings import CentralSettings
from . import oms, sync

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


def create_app(settings: CentralSettings | None = None) -> FastAPI:
    settings = settings or CentralSettings()
    engine = make_engine(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        scheduler = None
        if settings.expiry_interval_s > 0:
            scheduler = BackgroundScheduler(timezone="UTC")
            scheduler.add_job(
                expire_pickups,
                "interval",
                args=[engine],
                seconds=settings.expiry_interval_s,
                max_instances=1,
                coalesce=True,
                id="expire_pickups",
            )
            scheduler.start()
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler.shutdown(wait=False)
            engine.dispose()

    app = FastAPI(
        title="central inventory API",
        version="1",
        lifespan=lifespan,
        description="The store's source of truth: sync for store tablets, and the OMS API.",
    )
    app.state.engine = engine
    app.state.settings = settings

    @app.middleware("http")
    async def limit_push_size(request: Request, call_next: Any) -> Any:
        if request.url.path == "/v1/sync/push":
            size = request.headers.get("content-length")
            if size is not None and size.isdigit() and int(size) > MAX_PUSH_BYTES:
                return _error(
                    413, "BATCH_TOO_LARGE", "A push may carry at most 1 MiB: halve the batch"
                )
        return await call_next(request)

    @app.exception_handler(CentralError)
    async def central_error(_: Request, exc: CentralError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        message, rows = _describe(list(exc.errors()))
        return _error(422, "INVALID_REQUEST", message, errors=rows)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(exc.status_code, "HTTP_ERROR")
        return _error(exc.status_code, code, str(exc.detail))

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
    app.openapi = lambda: _openapi_with_ops(app)  # type: ignore[method-assign]
    return app


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
    # every 422 this API sends is {code, message, errors}, not FastAPI's default body
    for path in schema["paths"].values():
        for operation in path.values():
            bad = operation.get("responses", {}).get("422")
            if bad is not None:
                bad["content"] = {
                    "application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}
                }
                bad["description"] = "INVALID_REQUEST: the body is not valid; nothing was written"
    # a client sending unknown tokens (or enrollment codes) is slowed down: 429 where 401 is
    for path in schema["paths"].values():
        for operation in path.values():
            responses = operation.get("responses", {})
            if "401" in responses and "429" not in responses:
                responses["429"] = {
                    "description": "RATE_LIMITED: too many unknown tokens from this address; "
                    "wait for Retry-After seconds",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}
                    },
                }
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    app.openapi_schema = schema
    return schema
