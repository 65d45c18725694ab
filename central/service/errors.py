"""central's error tree; the API turns each into `{code, message}` with its status.

CentralError (500)
├── Unauthorized (401)   missing, wrong or revoked token
├── Forbidden (403)      right token, wrong kind or store
├── NotFound (404)
├── Conflict (409)       SEQ_GAP, SEQ_REUSED, ORDER_CLOSED …
├── TooLarge (413)
├── Invalid (422)        INVALID_REQUEST: nothing was written
└── RateLimited (429)    too many failed enrollment codes or tokens from one client
"""

from __future__ import annotations

from typing import Any


class CentralError(Exception):
    status = 500
    code = "INTERNAL"
    headers: dict[str, str] | None = None  # extra response headers (Retry-After)

    def __init__(self, message: str, code: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.extra}


class Unauthorized(CentralError):
    status = 401
    code = "UNAUTHORIZED"


class Forbidden(CentralError):
    status = 403
    code = "FORBIDDEN"


class NotFound(CentralError):
    status = 404
    code = "NOT_FOUND"


class Conflict(CentralError):
    status = 409
    code = "CONFLICT"


class TooLarge(CentralError):
    status = 413
    code = "BATCH_TOO_LARGE"


class Invalid(CentralError):
    status = 422
    code = "INVALID_REQUEST"


class RateLimited(CentralError):
    """429 RATE_LIMITED: too many failed attempts from one client; `Retry-After` says when."""

    status = 429
    code = "RATE_LIMITED"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.headers = {"Retry-After": str(retry_after)}
