"""central's error tree; the API turns each into `{code, message}` with its status.

CentralError (500)
├── BadRequest (400)
├── Unauthorized (401)   missing, wrong or revoked token
├── Forbidden (403)      right token, wrong kind or store
├── NotFound (404)
├── Conflict (409)       SEQ_GAP, SEQ_REUSED, ORDER_CLOSED …
├── TooLarge (413)
└── Invalid (422)        INVALID_REQUEST: nothing was written
"""

from __future__ import annotations

from typing import Any


class CentralError(Exception):
    status = 500
    code = "INTERNAL"

    def __init__(self, message: str, code: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.extra}


class BadRequest(CentralError):
    status = 400
    code = "BAD_REQUEST"


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
