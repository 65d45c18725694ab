"""What an apply step is given and what it says back.

`push._apply` finds an op's catalogue entry (`sync.protocol.OPS`), checks the actor's role
against it, and calls the apply step of the entry's document (`push.APPLY`): one per
`Document` kind, each in the module of its kind (orders, returns, counts, stock, exceptions,
tasks). A step gets the op as `Applying` and answers `Said`; the push builds the op's result
from it in one place (where a moved clock adds `CLOCK_SKEW`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from fulfillment.outcome import Context

from .clock import as_utc
from .devices import DeviceRow

if TYPE_CHECKING:
    from .feed import StoreTx

__all__ = [
    "OLDEST_BELIEVED",
    "SKEW_WINDOW",
    "ApplyStep",
    "Applying",
    "Said",
    "clamp",
]

SKEW_WINDOW = timedelta(minutes=5)
# a device's first push is believed back to this (a tablet a long time offline); older, or
# an unstorable year 1, is clamped to it
OLDEST_BELIEVED = timedelta(days=730)


def clamp(at: datetime, device: DeviceRow, now: datetime) -> tuple[datetime, bool]:
    """`at` within [the server time the device last saw − 5 min (on its first push:
    OLDEST_BELIEVED ago), now]; True when it had to be moved. Aware datetimes of any offset
    compare without converting, so year 1 or 9999 never overflows here."""
    seen = as_utc(device.last_server_time)
    low = seen - SKEW_WINDOW if seen is not None else now - OLDEST_BELIEVED
    if at > now:
        return now, True
    if at < low:
        return low, True
    return at, False


@dataclass(frozen=True)
class Applying:
    """One op on its way to its document: its validated payload, who does it (`ctx`, whose
    `now` is the clamped `occurred_at`), from which tablet."""

    op_id: str
    op_type: str
    payload: Any  # the catalogue entry's payload model, validated
    ctx: Context
    device: DeviceRow
    occurred_at: datetime

    @property
    def actor_id(self) -> str:
        return self.ctx.actor_id


@dataclass(frozen=True)
class Said:
    """What an op's result says: its status, code and sentence, the follow-up tasks it made.
    `skewed`: the step moved a time of the op's own (a count's `counted_at`)."""

    status: str
    code: str | None = None
    message: str | None = None
    followups: tuple[dict[str, Any], ...] = ()
    skewed: bool = False


ApplyStep = Callable[["StoreTx", Applying], Said]
