"""The store's wall clock in words: its time zone and a duration for people.

Pure like the rest of `fulfillment`: nothing here reads the clock; times are arguments.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["duration", "store_zone"]

_UTC = "UTC"


def store_zone(name: str | None) -> ZoneInfo:
    """The store's time zone: UTC when it names none, or one this machine does not know."""
    try:
        return ZoneInfo(name or _UTC)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(_UTC)


def duration(delta: timedelta) -> str:
    """'45 s', '12 min', '3 h 12 min', '2 d 4 h' — for people, not for logs (never negative)."""
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
