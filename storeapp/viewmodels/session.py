"""Sign in with employee id + PIN (offline: hashes come by pull), sign out, idle sign-out.

signed out --sign_in(ok)--> signed in --sign_out--> signed out
signed out --sign_in(wrong)--> signed out, with a message; after wrong PINs a wait,
    after the fifth a lockout (`locked_id`) that only a manager lifts (`unlock`)
signed in --sign_out_if_idle(now) after `idle_after` without an action--> signed out
    (pending work stays in the outbox)

Every PIN goes through `LocalStore.check_pin` (fulfillment.signin decides); time is
an argument (`now`, or the injected clock) so tests need no sleeping.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from storeapp.local import LocalStore

from .screen import Clock, Tone, duration, utc_now

__all__ = ["IDLE_AFTER", "Associate", "SessionScreen", "SessionVM"]

IDLE_AFTER = timedelta(minutes=5)


@dataclass(frozen=True)
class Associate:
    employee_id: str
    name: str
    role: str  # associate | manager

    @property
    def is_manager(self) -> bool:
        return self.role == "manager"


@dataclass(frozen=True)
class SessionScreen:
    associate: Associate | None
    message: str = ""
    tone: Tone = "info"
    locked_id: str | None = None  # the id just refused as locked: offer a manager's unlock

    @property
    def signed_in(self) -> bool:
        return self.associate is not None


class SessionVM:
    """Who holds the tablet now. One per browser session on a hub."""

    def __init__(
        self, store: LocalStore, *, clock: Clock = utc_now, idle_after: timedelta = IDLE_AFTER
    ) -> None:
        self._store = store
        self._clock = clock
        self.idle_after = idle_after
        self._associate: Associate | None = None
        self._last_action: datetime | None = None

    @property
    def associate(self) -> Associate | None:
        return self._associate

    def screen(self) -> SessionScreen:
        return SessionScreen(self._associate)

    def sign_in(self, employee_id: str, pin: str, now: datetime | None = None) -> SessionScreen:
        now = now or self._clock()
        employee_id, pin = (employee_id or "").strip(), (pin or "").strip()
        if not employee_id:
            return SessionScreen(self._associate, "Enter your employee id.", "error")
        if not pin:
            return SessionScreen(self._associate, "Enter your PIN.", "error")
        if self._store.staff_count() == 0:
            return SessionScreen(
                self._associate,
                "No staff on this tablet yet: connect to the store network and sync.",
                "error",
            )
        check = self._store.check_pin(employee_id, pin, now)
        if check.member is None:
            locked = employee_id if check.locked else None
            return SessionScreen(self._associate, check.message, "error", locked)
        member = check.member
        self._associate = Associate(member.employee_id, member.name, member.role.value)
        self._last_action = now
        return SessionScreen(self._associate, f"Hello, {member.name}.", "ok")

    def unlock(
        self, manager_id: str, manager_pin: str, employee_id: str, now: datetime | None = None
    ) -> SessionScreen:
        """A manager lifts `employee_id`'s lockout with their own id and PIN."""
        manager_id, manager_pin = (manager_id or "").strip(), (manager_pin or "").strip()
        if not manager_id or not manager_pin:
            return SessionScreen(
                self._associate,
                "The manager enters their employee id and PIN.",
                "error",
                employee_id,
            )
        words = self._store.unlock(manager_id, manager_pin, employee_id, now or self._clock())
        if words.startswith(f"{employee_id} unlocked") or words == f"{employee_id} is not locked.":
            return SessionScreen(self._associate, words, "ok")
        return SessionScreen(self._associate, words, "error", employee_id)

    def touch(self, now: datetime | None = None) -> None:
        """Someone did something on the tablet: the idle clock starts again."""
        if self._associate is not None:
            self._last_action = now or self._clock()

    def sign_out_if_idle(self, now: datetime | None = None) -> SessionScreen | None:
        """Sign out after `idle_after` without an action; None while still in use."""
        if self._associate is None or self._last_action is None:
            return None
        if (now or self._clock()) - self._last_action < self.idle_after:
            return None
        name = self._associate.name
        self._associate, self._last_action = None, None
        return SessionScreen(
            None,
            f"Signed out {name} after {duration(self.idle_after)} without use. "
            "Work not yet sent is kept.",
            "info",
        )

    def sign_out(self) -> SessionScreen:
        name = self._associate.name if self._associate else None
        self._associate, self._last_action = None, None
        return SessionScreen(None, f"Signed out {name}." if name else "", "info")
