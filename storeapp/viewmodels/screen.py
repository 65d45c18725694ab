"""What every screen shares: message tones, the clock seam, times in words."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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
    "zone_of",
]

Tone = Literal["info", "ok", "warning", "error"]
Clock = Callable[[], datetime]
OnChange = Callable[[], None]

SIGN_IN_FIRST = "Sign in first."


def utc_now() -> datetime:
    return datetime.now(UTC)


def nothing() -> None:
    """The default `on_change`: no sync engine wired (tests, demo)."""


def duration(delta: timedelta) -> str:
    """'45 s', '12 min', '3 h 12 min', '2 d 4 h' — for people, not for logs."""
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def ago(then: datetime, now: datetime) -> str:
    return f"{duration(now - then)} ago"


def _zone(timezone: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def zone_of(timezone: str | None) -> ZoneInfo:
    """The store's time zone (UTC when it names none, or one this machine does not know)."""
    return _zone(timezone)


def local_time(at: datetime, now: datetime, timezone: str | None = None) -> str:
    """'10:42' today in the store's time zone, else 'Mon 3 Mar 10:42'."""
    zone = _zone(timezone)
    here, today = at.astimezone(zone), now.astimezone(zone)
    if here.date() == today.date():
        return here.strftime("%H:%M")
    return f"{here:%a} {here.day} {here:%b %H:%M}"
