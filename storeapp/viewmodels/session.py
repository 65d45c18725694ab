"""Sign in with employee id + PIN (offline: hashes come by pull), sign out.

signed out --sign_in(ok)--> signed in --sign_out--> signed out
signed out --sign_in(wrong)--> signed out, with a message
"""

from __future__ import annotations

from dataclasses import dataclass

from storeapp.local import LocalStore

from .screen import Tone

__all__ = ["Associate", "SessionScreen", "SessionVM"]


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

    @property
    def signed_in(self) -> bool:
        return self.associate is not None


class SessionVM:
    """Who holds the tablet now. One per browser session on a hub."""

    def __init__(self, store: LocalStore) -> None:
        self._store = store
        self._associate: Associate | None = None

    @property
    def associate(self) -> Associate | None:
        return self._associate

    def screen(self) -> SessionScreen:
        return SessionScreen(self._associate)

    def sign_in(self, employee_id: str, pin: str) -> SessionScreen:
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
        member = self._store.verify_pin(employee_id, pin)
        if member is None:
            return SessionScreen(self._associate, "Wrong employee id or PIN. Try again.", "error")
        self._associate = Associate(member.employee_id, member.name, member.role.value)
        return SessionScreen(self._associate, f"Hello, {member.name}.", "ok")

    def sign_out(self) -> SessionScreen:
        name = self._associate.name if self._associate else None
        self._associate = None
        return SessionScreen(None, f"Signed out {name}." if name else "", "info")
