"""The PIN check with its limits: `LocalStore.check_pin` and `unlock`.

Every PIN typed on this tablet (sign in, a manager's approval on the returns screen,
a manager unlocking someone) goes through `check_pin`, which asks
`fulfillment.signin` whether a PIN may be tried now, checks it, and records the
result in `pin_attempts` in the same transaction (so two browser sessions on a hub
cannot guess in parallel past the limit).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fulfillment import signin
from fulfillment.signin import PinAttempts

from ._records import StaffMember, from_iso, row, to_iso

__all__ = ["PinCheck", "PinGuard"]

DEVICE_KEY = "device"
MAX_ID = 64  # what is stored of a typed id: nobody can grow the table with long ones


@dataclass(frozen=True)
class PinCheck:
    member: StaffMember | None  # set only when the PIN was right and nothing refused it
    message: str = ""
    locked: bool = False  # the typed id is locked now: a manager must unlock it


def _key(employee_id: str) -> str:
    return f"staff:{employee_id[:MAX_ID]}"


class PinGuard:
    """Mixed into `LocalStore` (uses its connection, `_write` and `verify_pin`)."""

    _conn: Any

    def _attempts(self, conn: Any, key: str) -> PinAttempts:
        found = row(
            conn, "SELECT failures, last_failure_at, locked FROM pin_attempts WHERE key = ?", (key,)
        )
        if found is None:
            return PinAttempts()
        return PinAttempts(
            found["failures"], from_iso(found["last_failure_at"]), bool(found["locked"])
        )

    def _save_attempts(self, conn: Any, key: str, a: PinAttempts) -> None:
        conn.execute(
            """INSERT OR REPLACE INTO pin_attempts (key, failures, last_failure_at, locked)
               VALUES (?, ?, ?, ?)""",
            (key, a.failures, to_iso(a.last_failure_at) if a.last_failure_at else None, a.locked),
        )

    def check_pin(self, employee_id: str, pin: str, now: datetime) -> PinCheck:
        """The staff member when `pin` is theirs and no wait or lock stands in the way;
        otherwise the reason in words (the same for an id nobody has)."""
        key = _key(employee_id)
        with self._write() as conn:  # type: ignore[attr-defined]
            mine, device = self._attempts(conn, key), self._attempts(conn, DEVICE_KEY)
            refused = signin.refusal(mine, device, now)
            if refused is not None:
                return PinCheck(None, refused, mine.locked)
            member = self.verify_pin(employee_id, pin)  # type: ignore[attr-defined]
            if member is not None:
                conn.execute("DELETE FROM pin_attempts WHERE key IN (?, ?)", (key, DEVICE_KEY))
                return PinCheck(member)
            after = signin.failed(mine, now)
            self._save_attempts(conn, key, after)
            self._save_attempts(conn, DEVICE_KEY, signin.failed(device, now, lock=False))
            return PinCheck(None, signin.failure_message(after, employee_id), after.locked)

    def is_locked(self, employee_id: str) -> bool:
        found = row(
            self._conn, "SELECT locked FROM pin_attempts WHERE key = ?", (_key(employee_id),)
        )
        return bool(found and found["locked"])

    def unlock(self, manager_id: str, manager_pin: str, employee_id: str, now: datetime) -> str:
        """A manager lifts `employee_id`'s lockout with their own id and PIN; a sentence."""
        check = self.check_pin(manager_id, manager_pin, now)
        if check.member is None:
            return check.message
        if not check.member.is_manager:
            return f"{check.member.name} is not a manager: a manager unlocks."
        if not self.lift_lock(employee_id):
            return f"{employee_id} is not locked."
        return f"{employee_id} unlocked by {check.member.name}: sign in again."

    def lift_lock(self, employee_id: str) -> bool:
        """Remove `employee_id`'s lockout (a manager's unlock, or `storeapp unlock`)."""
        with self._write() as conn:  # type: ignore[attr-defined]
            done = conn.execute(
                "DELETE FROM pin_attempts WHERE key = ? AND locked = 1", (_key(employee_id),)
            ).rowcount
        return bool(done)
