"""One browser session: its `TabSession` (the store and view-models), enroll → sign in →
shell, and the sync events forwarded from the sync thread onto this session's loop."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

import flet as ft

from storeapp.printing import Printers
from storeapp.viewmodels.printing import PrintVM
from storeapp.viewmodels.tab import TabSession
from sync.engine import Progress
from sync.link import Link

from .context import Ui
from .enroll import EnrollView
from .screen import Screen
from .shell import Shell
from .sign_in import SignInView
from .sound import Tones

if TYPE_CHECKING:
    from storeapp.app import AppServices, SyncEvent

__all__ = ["Frame", "start_session"]

log = logging.getLogger(__name__)


def start_session(page: ft.Page, services: AppServices) -> Frame:
    page.title = "Store app"
    page.theme_mode = ft.ThemeMode.LIGHT
    page.padding = 0
    frame = Frame(page, services)
    frame.start()
    return frame


class Frame:
    def __init__(self, page: ft.Page, services: AppServices) -> None:
        self.page, self.services = page, services
        # this session's, event-loop thread only (the tab opens its store `screen=True`)
        self.tab = TabSession(
            services.db_path,
            clock=services.clock,
            idle_after=services.idle_after,
            sync_now=services.sync_now,
            scan_sheet=services.scan_sheet,
        )
        self.session, self.sync = self.tab.session, self.tab.sync
        self.ui = Ui(
            page,
            self._go,
            on_error=services.on_error,
            tones=Tones(),
            on_action=self.session.touch,
        )
        self.ui.printing = PrintVM(
            self.tab.store, self.session, services.printers or Printers(), clock=services.clock
        )
        self.current: Screen | None = None  # EnrollView | SignInView | Shell
        self._token: int | None = None
        self._closed = False
        self._connected = True

    # --- lifecycle -------------------------------------------------------------------

    def start(self) -> None:
        self.page.on_close = self._on_close
        self.page.on_disconnect = self._on_disconnect
        self.page.on_connect = self._on_connect
        self.page.on_resize = self.ui.handler(self._on_resize, refocus=False)
        self._subscribe()
        if self.sync.screen().device_id is None:
            self._mount(EnrollView(self.ui, self.services, self.show_sign_in))
        else:
            self.show_sign_in()
        if self.services.tick_s:
            self.page.run_task(self._tick)

    def _subscribe(self) -> None:
        if self._token is None:
            self._token = self.services.fanout.subscribe(self._on_sync_event)
            self.sync.on_link(self.services.fanout.link.online)

    def _unsubscribe(self) -> None:
        if self._token is not None:
            self.services.fanout.unsubscribe(self._token)
            self._token = None

    def _on_disconnect(self, e: Any = None) -> None:
        self._connected = False
        self._unsubscribe()

    def _on_connect(self, e: Any = None) -> None:
        self._connected = True
        self._subscribe()
        self._refresh()

    def _on_resize(self, e: Any = None) -> None:
        if isinstance(self.current, Shell):
            self.current.resized()
            view = self.current.view
            if view is not None and view.focus_target is not None:
                self.ui.focus_after(view.focus_target)

    def _on_close(self, e: Any = None) -> None:
        self._closed = True
        self._unsubscribe()
        self.tab.close()

    # --- screens ---------------------------------------------------------------------

    def _mount(self, view: Screen) -> None:
        self.current = view
        self.page.controls = [view.root]

    def show_sign_in(self, words: str = "") -> None:
        view = SignInView(self.ui, self.session, self.show_shell, words)
        self._mount(view)
        if view.focus_target is not None:
            self.ui.focus_after(view.focus_target)

    def show_shell(self) -> None:
        shell = Shell(self.ui, self.tab, on_signed_out=self.show_sign_in)
        self._mount(shell)
        shell.go("home")

    def _go(self, name: str, **kw: Any) -> None:
        if isinstance(self.current, Shell):
            self.current.go(name, **kw)

    def _refresh(self) -> None:
        if self.current is not None:
            self.current.refresh()

    # --- sync events (any thread) → this session's loop --------------------------------

    def _on_sync_event(self, event: SyncEvent) -> None:
        if not self._closed:
            self.page.run_task(self._apply_sync_event, event)

    async def _apply_sync_event(self, event: SyncEvent) -> None:
        if self._closed:
            return
        try:
            if isinstance(event, Link):  # the event stream: online or offline, at once
                self.sync.on_link(event.online)
            elif isinstance(event, Progress):  # sending (push) or receiving (pull, snapshot)
                self.sync.on_progress(event)
            else:
                self.sync.on_idle()
            if self.current is not None:
                self.current.on_sync(event)
            self.page.update()
        except Exception:
            log.warning("sync event not shown on this tablet", exc_info=True)

    async def _tick(self) -> None:
        """Keep "synced 12 s ago" true while nothing else happens; sign out when idle."""
        assert self.services.tick_s
        while not self._closed:
            await asyncio.sleep(self.services.tick_s)
            if self._closed:
                return
            try:
                if self.sign_out_if_idle():
                    self.page.update()
                    await self.ui.take_focus()
                elif self._connected and isinstance(self.current, Shell):
                    self.current.refresh_chip()
                    self.page.update()
            except Exception:
                log.debug("tick skipped", exc_info=True)

    def sign_out_if_idle(self) -> bool:
        """Back to the sign-in screen after the idle time without an action (the work
        not yet sent stays in the outbox); True when it signed out."""
        if not isinstance(self.current, Shell):
            return False
        out = self.session.sign_out_if_idle()
        if out is None:
            return False
        self.show_sign_in(out.message)
        return True
