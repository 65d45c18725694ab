"""The one interface the frame and the shell call on whatever is on screen.

Every view (sign-in, enrollment, the shell, each screen inside the shell) is a
`Screen`: its Flet tree (`root`), the field that gets the keyboard when it opens
(`focus_target`), `refresh()` (read its view-model again: the tab came back,
something changed) and `on_sync(event)` (a sync event reached this tab).
`ScreenView` is the do-nothing default a view inherits and overrides where it cares.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import flet as ft

from sync.engine import SyncReport

if TYPE_CHECKING:
    from storeapp.app import SyncEvent

__all__ = ["Screen", "ScreenView"]


class Screen(Protocol):
    @property
    def root(self) -> ft.Control:
        """What the frame (or the shell) puts on the page."""

    @property
    def focus_target(self) -> ft.Control | None:
        """The field that gets the keyboard when the screen opens (a scanner types there)."""

    def refresh(self) -> None:
        """Show the view-model's screen again."""

    def on_sync(self, event: SyncEvent) -> None:
        """A sync event (progress or a pass's report) on this tab's loop."""


class ScreenView:
    """The defaults: no field takes the keyboard, nothing to refresh, and a finished sync
    pass (which may have brought new data) refreshes the screen."""

    root: ft.Control
    focus_target: ft.Control | None = None

    def refresh(self) -> None:
        pass

    def on_sync(self, event: SyncEvent) -> None:
        if isinstance(event, SyncReport):
            self.refresh()
