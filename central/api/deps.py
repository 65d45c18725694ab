"""Auth dependencies: a device token for /v1/sync, an integration key for /v1/oms, and
the limits on failed attempts (enrollment codes, unknown tokens) per client address."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine

from ..service.auth import (
    device_for_token,
    hash_secret,
    integration_key_ok,
    integration_key_revoked,
)
from ..service.devices import DeviceRow
from ..service.errors import Forbidden, Unauthorized
from ..service.limits import FailureLimiter
from ..service.notify import ChangeHub
from ..settings import CentralSettings

_bearer = HTTPBearer(auto_error=False)


async def get_engine(request: Request) -> Engine:
    # async: FastAPI runs a plain `def` dependency on a worker thread — a thread hop per
    # request (and anyio's bookkeeping: ~0.3 ms of CPU here) to read an attribute
    return request.app.state.engine  # type: ignore[no-any-return]


EngineDep = Annotated[Engine, Depends(get_engine)]


def change_hub(request: Request) -> ChangeHub:
    """This process's one change listener, made (and started) on first use."""
    state = request.app.state
    hub: ChangeHub | None = getattr(state, "change_hub", None)
    if hub is None:
        settings: CentralSettings = state.settings
        hub = ChangeHub(state.engine, poll_interval=settings.events_poll_s)
        if getattr(state, "stopping", False):
            hub.close_streams()
        state.change_hub = hub
    hub.start()
    return hub


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def client_address(request: Request) -> str:
    """The caller's IP (behind a proxy, uvicorn's --forwarded-allow-ips makes it the real one)."""
    return request.client.host if request.client else "unknown"


def _limiter(request: Request, name: str) -> FailureLimiter:
    """This process's limiter `name` ("enroll" or "token"), made on first use."""
    state = request.app.state
    limiters: dict[str, FailureLimiter] | None = getattr(state, "failure_limiters", None)
    if limiters is None:
        settings: CentralSettings = state.settings
        window = settings.failure_window_s
        limiters = {
            "enroll": FailureLimiter(
                settings.enroll_failure_limit, window, what="enrollment codes"
            ),
            "token": FailureLimiter(settings.token_failure_limit, window, what="tokens"),
        }
        state.failure_limiters = limiters
    return limiters[name]


class EnrollLimit:
    """Failed enrollment codes of one client: checked before a code is even looked up."""

    def __init__(self, request: Request) -> None:
        self._limiter = _limiter(request, "enroll")
        self._key = client_address(request)

    def check(self) -> None:
        self._limiter.check(self._key, time.monotonic())

    def failed(self) -> None:
        self._limiter.failed(self._key, time.monotonic())


def _unknown_token(request: Request, message: str) -> Unauthorized:
    """Count an unknown token of this client; over the limit the answer is 429, not 401.

    A known token is never refused for its address's failures: a store's tablets share
    one address, and one tablet with a stale token must not lock out the others."""
    limiter, key, now = _limiter(request, "token"), client_address(request), time.monotonic()
    limiter.check(key, now)  # already over the limit: 429, and this one is not counted
    limiter.failed(key, now)
    return Unauthorized(message)


def _token(credentials: HTTPAuthorizationCredentials | None) -> str:
    if credentials is None or not credentials.credentials:
        raise Unauthorized("Send the device token as 'Authorization: Bearer <token>'")
    return credentials.credentials


def _device(request: Request, engine: Engine, credentials: Credentials) -> DeviceRow:
    token = _token(credentials)
    device = device_for_token(engine, token)
    if device is None:
        if integration_key_ok(engine, token):
            raise Forbidden("An integration key cannot push or pull: use a device token")
        raise _unknown_token(request, "Unknown device token: enroll this tablet again")
    return device


def current_device(request: Request, engine: EngineDep, credentials: Credentials) -> DeviceRow:
    return _device(request, engine, credentials)


class DeviceAuth:
    """A request's device token, looked up by the route on the thread that does its work.

    For the hot routes (push, pull): a `def` dependency that reads the database is a thread
    hop of its own before the route's (anyio's bookkeeping, a pooled connection each), twice
    per tablet's push-and-pull. `identity()` answers as `current_device` does (401, 403, 429)
    the first time a process sees a token; after that from memory (`KnownTokens`): the route
    then reads the device's row in its own transaction and refuses it there if it was revoked
    meanwhile (`devices.check_enrolled`), so a revocation is never missed."""

    def __init__(self, request: Request, engine: Engine, credentials: Credentials) -> None:
        self._request, self._engine, self._credentials = request, engine, credentials

    def identity(self) -> tuple[str, str]:
        """(device_id, store_id) of the token's tablet."""
        known = _known_tokens(self._request)
        token_hash = hash_secret(_token(self._credentials))
        found = known.get(token_hash)
        if found is None:
            device = _device(self._request, self._engine, self._credentials)
            found = known.remember(token_hash, (device.device_id, device.store_id))
        return found


class KnownTokens:
    """This process's device tokens it has seen (by hash) and their tablet and store.

    A token is its device's for life: enrollment sets it once, a device never moves store
    and is never deleted; only a revocation changes, which the routes that use this check
    in their own transaction. Bounded: past `limit` entries it starts again empty."""

    def __init__(self, limit: int = 100_000) -> None:
        self._limit = limit
        self._ids: dict[str, tuple[str, str]] = {}

    def get(self, token_hash: str) -> tuple[str, str] | None:
        return self._ids.get(token_hash)

    def remember(self, token_hash: str, ids: tuple[str, str]) -> tuple[str, str]:
        if len(self._ids) >= self._limit:
            self._ids.clear()
        self._ids[token_hash] = ids
        return ids


def _known_tokens(request: Request) -> KnownTokens:
    state = request.app.state
    known: KnownTokens | None = getattr(state, "known_tokens", None)
    if known is None:
        known = state.known_tokens = KnownTokens()
    return known


async def device_auth(request: Request, engine: EngineDep, credentials: Credentials) -> DeviceAuth:
    return DeviceAuth(request, engine, credentials)


def integration(request: Request, engine: EngineDep, credentials: Credentials) -> None:
    token = _token(credentials)
    if integration_key_ok(engine, token):
        return
    try:
        device = device_for_token(engine, token)
    except Unauthorized:
        device = None
    if device is not None:
        raise Forbidden("A device token cannot call the OMS API")
    if integration_key_revoked(engine, token):
        raise Unauthorized(
            "This integration key was revoked: ask for a new one", code="KEY_REVOKED"
        )
    raise _unknown_token(request, "Unknown integration key")


Device = Annotated[DeviceRow, Depends(current_device)]
DeviceToken = Annotated[DeviceAuth, Depends(device_auth)]
Integration = Depends(integration)
Enrollment = Annotated[EnrollLimit, Depends(EnrollLimit)]


def oms_router(errors: dict[int, str] | None = None) -> APIRouter:
    """A router under `/v1/oms` for the OMS's integration key, its answers documented: 401 and
    403 for every route, and `errors` (status → what it means) beside them."""
    from sync.protocol import ErrorBody

    said = {
        401: "missing or unknown integration key",
        403: "a device token",
        **(errors or {}),
    }
    documented: dict[int | str, dict[str, Any]] = {
        status: {"model": ErrorBody, "description": text} for status, text in said.items()
    }
    return APIRouter(prefix="/v1/oms", dependencies=[Integration], responses=documented)
