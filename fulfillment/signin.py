"""How many wrong PINs a tablet takes: a growing wait, then a lockout a manager lifts.

Pure: the attempts so far and `now` are arguments; the tablet stores `PinAttempts`
durably (a restart does not reset them) and asks this module what to do.

Per employee id (as typed: an id nobody has is counted exactly like a real one, so
the answers never tell whether an id exists):

    failures 1-2   no wait                 "Wrong PIN. 4 tries left before a manager must unlock E100."
    failure 3      wait 1 s, then 2 s after the 4th
    failure 5      locked                  "Locked: ask a manager to unlock."
    a right PIN    back to 0 (not while locked or waiting: then the PIN is not even checked)

Per device (every id together, against trying one PIN on every id): ten wrong PINs
in a row cost nothing, then a wait of 1 s doubling up to 5 min; a right PIN resets it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = [
    "DEVICE_FREE_FAILURES",
    "FREE_FAILURES",
    "LOCK_AFTER",
    "MAX_WAIT",
    "PinAttempts",
    "failed",
    "failure_message",
    "refusal",
    "wait_left",
]

LOCK_AFTER = 5  # the fifth wrong PIN in a row locks the employee id
FREE_FAILURES = 2  # wrong PINs with no wait after them
DEVICE_FREE_FAILURES = 10
MAX_WAIT = timedelta(minutes=5)
LOCKED = "Locked: ask a manager to unlock."


@dataclass(frozen=True)
class PinAttempts:
    failures: int = 0  # wrong PINs in a row
    last_failure_at: datetime | None = None
    locked: bool = False


def _wait(failures: int, free: int) -> timedelta:
    """The wait after `failures` wrong PINs: none up to `free`, then 1 s, 2 s, 4 s …"""
    if failures <= free:
        return timedelta(0)
    return min(MAX_WAIT, timedelta(seconds=2 ** min(failures - free - 1, 20)))


def wait_left(attempts: PinAttempts, now: datetime, *, free: int = FREE_FAILURES) -> timedelta:
    """How long before the next PIN may be tried (zero: now)."""
    wait = _wait(attempts.failures, free)
    if attempts.last_failure_at is None or not wait:
        return timedelta(0)
    until = attempts.last_failure_at + wait
    return max(timedelta(0), until - now)


def refusal(employee: PinAttempts, device: PinAttempts, now: datetime) -> str | None:
    """Why no PIN may be tried now, in words; None to go ahead and check it."""
    if employee.locked:
        return LOCKED
    wait = max(wait_left(employee, now), wait_left(device, now, free=DEVICE_FREE_FAILURES))
    if wait > timedelta(0):
        seconds = math.ceil(wait.total_seconds())
        return f"Too many wrong PINs: wait {seconds} s, then try again."
    return None


def failed(attempts: PinAttempts, now: datetime, *, lock: bool = True) -> PinAttempts:
    """The attempts after one more wrong PIN (`lock=False` for the device's count)."""
    failures = attempts.failures + 1
    return PinAttempts(failures, now, lock and failures >= LOCK_AFTER)


def failure_message(after: PinAttempts, employee_id: str) -> str:
    """What the person who typed a wrong PIN for `employee_id` reads."""
    if after.locked:
        return f"Wrong PIN. {LOCKED}"
    left = LOCK_AFTER - after.failures
    tries = "1 try" if left == 1 else f"{left} tries"
    return f"Wrong PIN. {tries} left before a manager must unlock {employee_id}."
