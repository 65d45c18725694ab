"""Auth dependencies: a device token for /v1/sync, an integration key for /v1/oms."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine

from ..service.auth import device_for_token, integration_key_ok
from ..service.errors import Forbidden, Unauthorized

_bearer = HTTPBearer(auto_error=False)


def get_engine(request: Request) -> Engine:
    return request.app.state.engine  # type: ignore[no-any-return]


EngineDep = Annotated[Engine, Depends(get_engine)]
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _token(credentials: HTTPAuthorizationCredentials | None) -> str:
    if credentials is None or not credentials.credentials:
        raise Unauthorized("Send the device token as 'Authorization: Bearer <token>'")
    return credentials.credentials


def current_device(engine: EngineDep, credentials: Credentials) -> Any:
    token = _token(credentials)
    device = device_for_token(engine, token)
    if device is None:
        if integration_key_ok(engine, token):
            raise Forbidden("An integration key cannot push or pull: use a device token")
        raise Unauthorized("Unknown device token: enroll this tablet again")
    return device


def integration(engine: EngineDep, credentials: Credentials) -> None:
    token = _token(credentials)
    if integration_key_ok(engine, token):
        return
    try:
        device = device_for_token(engine, token)
    except Unauthorized:
        device = None
    if device is not None:
        raise Forbidden("A device token cannot call the OMS API")
    raise Unauthorized("Unknown integration key")


Device = Annotated[Any, Depends(current_device)]
Integration = Depends(integration)
