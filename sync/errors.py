"""What can stop a call to central, as our own exceptions.

`sync.client` is the only boundary to the network: it translates every httpx
error and every non-2xx reply into one of these (`raise ... from exc`), so
the engine and the app never catch an httpx type.

    SyncError                 base of everything below
    ├── Offline               no answer: connect error, timeout, read error, remote
    │                         protocol error, 502/503/504; retry with backoff
    ├── Unauthorized          401/403: token missing, wrong or revoked; enroll again
    ├── NotEnrolled           this tablet has no token yet; enroll first
    ├── SeqGap                409 SEQ_GAP: the first op sent is past central's next
    │                         expected seq (`expected_seq`)
    ├── SeqReused             409 SEQ_REUSED: a seq central applied arrives with
    │                         another op_id
    ├── BatchTooLarge         413 (or over MAX_PUSH_BYTES before sending): halve it
    ├── RequestRejected       any other 4xx with its `{code, message}` body
    └── ServerError           any other 5xx, or a 2xx body this app cannot read

Expected situations inside a push (a refused or compensated op) are not
exceptions: they are `OpResult`s.
"""

from __future__ import annotations

__all__ = [
    "BatchTooLarge",
    "NotEnrolled",
    "Offline",
    "RequestRejected",
    "SeqGap",
    "SeqReused",
    "ServerError",
    "SyncError",
    "Unauthorized",
]


class SyncError(Exception):
    """Base of every error raised by `sync`; `code` is central's, when it sent one."""

    def __init__(
        self, message: str, *, status_code: int | None = None, code: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.code = code


class Offline(SyncError):
    """Central could not be reached or did not answer; nothing is known to be lost."""


class Unauthorized(SyncError):
    """Central refused the token (revoked, wrong or missing) or the enrollment code.

    `code` tells which (DEVICE_REVOKED, INVALID_CODE, CODE_USED …); either way the
    tablet must be enrolled (again) with a new code."""


class NotEnrolled(SyncError):
    """The tablet has no device token yet."""


class SeqGap(SyncError):
    """Central expects `expected_seq` next, and the first op sent is past it."""

    def __init__(self, expected_seq: int, message: str = "", *, status_code: int = 409) -> None:
        super().__init__(
            message or f"central expects seq {expected_seq} next",
            status_code=status_code,
            code="SEQ_GAP",
        )
        self.expected_seq = expected_seq


class SeqReused(SyncError):
    """A seq central already applied was sent again with a different op_id."""


class BatchTooLarge(SyncError):
    """The push was over the op or byte limit; send fewer ops."""


class RequestRejected(SyncError):
    """A 4xx other than the ones above; `code` is from central's error table."""

    code: str

    def __init__(self, code: str, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message, status_code=status_code, code=code)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class ServerError(SyncError):
    """Central failed (5xx other than 502/503/504) or answered with an unreadable body."""
