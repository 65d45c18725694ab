"""What every screen shares: message tones, the clock seam, times in words.

`duration` is `fulfillment.clock.duration`, the one way a span of time is said (the sync
chip, the console, the queue); the store's zone is `fulfillment.clock.store_zone`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Literal

from fulfillment.clock import duration, store_zone

__all__ = [
    "SIGN_IN_FIRST",
    "Clock",
    "OnChange",
    "Tone",
    "ago",
    "duration",
    "local_time",
    "nothing",
    "utc_now",
]

Tone = Literal["info", "ok", "warning", "error"]
Clock = Callable[[], datetime]
OnChange = Callable[[], None]

SIGN_IN_FIRST = "Sign in first."


def utc_now() -> datetime:
    return datetime.now(UTC)


def nothing() -> None:
    """The default `on_change`: no sync engine wired (tests, demo)."""


def ago(then: datetime, now: datetime) -> str:
    return f"{duration(now - then)} ago"


def local_time(at: datetime, now: datetime, timezone: str | None = None) -> str:
    """'10:42' today in the store's time zone, else 'Mon 3 Mar 10:42'."""
    zone = store_zone(timezone)
    here, today = at.astimezone(zone), now.astimezone(zone)
    if here.date() == today.date():
        return here.strftime("%H:%M")
    return f"{here:%a} {here.day} {here:%b %H:%M}"
