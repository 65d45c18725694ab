"""Enroll (first start of a hub or tablet): central's URL + a one-time code from a manager,
then the first download's progress (rows, rate, time left) until the store is here."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import flet as ft

from storeapp.viewmodels import EnrollScreen, EnrollVM
from sync.link import Link

from .context import Ui
from .screen import ScreenView
from .widgets import TEXT, TITLE, button, handle, label, message, show, text_field

if TYPE_CHECKING:
    from storeapp.app import AppServices, SyncEvent

__all__ = ["EnrollView"]


class EnrollView(ScreenView):
    def __init__(self, ui: Ui, services: AppServices, on_ready: Callable[[str], None]) -> None:
        self.ui, self.services, self.on_ready = ui, services, on_ready
        db_path = services.db_path
        self.vm = EnrollVM(lambda url, code, name: services.enroll(db_path, url, code, name))
        self.server = text_field("Server URL", autofocus=True, hint_text="https://central.example")
        self.code = text_field("Enrollment code", on_submit=ui.handler(self._enroll))
        self.name = text_field("Device name", value=socket.gethostname())
        self.text, self._box = message("enroll-message")
        self.focus_target = self.server
        self.bar = ft.ProgressBar(value=None, bar_height=10, visible=False)
        self.progress = label("", size=TEXT)
        self.root = ft.Container(
            ft.Column(
                [
                    label("Connect this device to the store", size=TITLE, bold=True),
                    label("Ask a manager for an enrollment code.", size=TITLE - 6),
                    self.server,
                    self.code,
                    self.name,
                    self._box,
                    self.bar,
                    handle("enroll-progress", self.progress),
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

    def render(self, s: EnrollScreen) -> None:
        show(self.text, self._box, s.message, s.tone)
        self.bar.visible = bool(s.progress)
        self.bar.value = s.fraction
        self.progress.value = s.progress

    async def _enroll(self, e: Any) -> None:
        server, code = self.server.value or "", self.code.value or ""
        s = self.vm.submit(server, code)
        self.render(s)
        if not s.busy or s.progress:
            return
        self.ui.page.update()
        s = await asyncio.to_thread(self.vm.enroll, server, code, self.name.value or "")
        self.render(s)
        if s.busy:  # enrolled: the first download, its progress arrives by on_sync
            self.services.sync_now()

    def on_sync(self, event: SyncEvent) -> None:
        """The first download's progress; when it ends (the staff are here): sign in."""
        if isinstance(event, Link):
            return
        s = self.vm.on_sync(event)
        self.render(s)
        if s.ready is not None:
            self.on_ready(s.ready)
