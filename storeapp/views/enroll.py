"""Enroll (first start of a hub or tablet): central's URL + a one-time code from a manager."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import flet as ft

from sync.engine import SyncReport
from sync.errors import SyncError

from .context import Ui
from .screen import ScreenView
from .widgets import TITLE, button, label, message, show, text_field

if TYPE_CHECKING:
    from storeapp.app import AppServices, SyncEvent

__all__ = ["EnrollView"]


class EnrollView(ScreenView):
    def __init__(self, ui: Ui, services: AppServices, on_ready: Callable[[str], None]) -> None:
        self.ui, self.services, self.on_ready = ui, services, on_ready
        self.server = text_field("Server URL", autofocus=True, hint_text="https://central.example")
        self.code = text_field("Enrollment code", on_submit=ui.handler(self._enroll))
        self.name = text_field("Device name", value=socket.gethostname())
        self.text, self._box = message("enroll-message")
        self.focus_target = self.server
        self._waiting = False
        self.root = ft.Container(
            ft.Column(
                [
                    label("Connect this device to the store", size=TITLE, bold=True),
                    label("Ask a manager for an enrollment code.", size=TITLE - 6),
                    self.server,
                    self.code,
                    self.name,
                    self._box,
                    ft.Row(
                        [
                            button(
                                "Enroll", ui.handler(self._enroll), icon=ft.Icons.LINK, primary=True
                            )
                        ],
                        alignment=ft.MainAxisAlignment.END,
                    ),
                ],
                spacing=20,
                width=520,
            ),
            alignment=ft.Alignment.CENTER,
            expand=True,
            padding=24,
        )

    async def _enroll(self, e: Any) -> None:
        server, code = (self.server.value or "").strip(), (self.code.value or "").strip()
        if not server or not code:
            show(self.text, self._box, "Enter the server URL and the enrollment code.", "error")
            return
        show(self.text, self._box, "Enrolling…", "info")
        self.ui.page.update()
        try:
            words = await asyncio.to_thread(
                self.services.enroll, self.services.db_path, server, code, self.name.value or ""
            )
        except SyncError as exc:
            show(self.text, self._box, f"Not enrolled: {exc}", "error")
            return
        show(self.text, self._box, words, "ok")
        self._waiting = True
        self.services.sync_now()

    def on_sync(self, event: SyncEvent) -> None:
        """The first sync pass after enrolling brought the staff: go to sign in."""
        if self._waiting and isinstance(event, SyncReport):
            self._waiting = False
            self.on_ready("" if event.ok else (event.error_in_words or ""))
