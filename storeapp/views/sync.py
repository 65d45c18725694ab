"""Sync: the chip in full, last error in words, what needs attention, what waits, Sync now."""

from __future__ import annotations

from typing import TYPE_CHECKING

import flet as ft

from storeapp.viewmodels import SyncScreen, SyncStatusVM
from sync.engine import SyncReport
from sync.link import Link

from .context import Ui
from .screen import ScreenView
from .widgets import TEXT, TITLE, button, fill, handle, label, message, show

if TYPE_CHECKING:
    from storeapp.app import SyncEvent

__all__ = ["SyncView"]

_SHOWN = 50  # pending ops listed; the count says the rest


class SyncView(ScreenView):
    def __init__(self, ui: Ui, vm: SyncStatusVM) -> None:
        self.ui, self.vm = ui, vm
        self.status = label("", size=TITLE, bold=True)
        self.details = label("", size=16, color=ft.Colors.BLUE_GREY_700)
        self.error = label("", size=TEXT, color=ft.Colors.RED_900)
        # the handle shows and hides, never its content: a Semantics over a hidden control
        # is Flutter's red "Semantics.content must be provided and visible" (issue #10, 2)
        self.error_box = handle("sync-error", self.error)
        self.clock = label("", size=TEXT, color=ft.Colors.ORANGE_900)
        self.text, self.box = message("sync-message")
        self.attention = ft.Column(spacing=8)
        self.pending = ft.Column(spacing=4)
        self.root = ft.Column(
            [
                handle("sync-status", self.status),
                self.details,
                ft.Row(
                    [
                        button(
                            "Sync now", ui.handler(self._sync_now), icon=ft.Icons.SYNC, primary=True
                        )
                    ],
                    alignment=ft.MainAxisAlignment.END,
                ),
                self.error_box,
                self.clock,
                self.box,
                label("Needs attention", size=TEXT + 2, bold=True),
                self.attention,
                label("Waiting to send", size=TEXT + 2, bold=True),
                self.pending,
            ],
            expand=True,
            scroll=ft.ScrollMode.AUTO,
            spacing=12,
        )
        self.refresh()

    def refresh(self) -> None:
        self.render(self.vm.screen())

    def on_sync(self, event: SyncEvent) -> None:
        if isinstance(event, SyncReport | Link):  # a pass ended, or the link changed
            self.refresh()

    def render(self, s: SyncScreen) -> None:
        self.status.value = s.chip.text
        last = f"Last good sync {s.last_ok}" if s.last_ok else "Never synced"
        self.details.value = f"{last} · device {s.device_id or '—'} · {s.server_url or '—'}"
        self.error.value = s.last_error or ""
        self.error_box.visible = bool(s.last_error)
        self.clock.value = s.clock_warning or ""
        self.clock.visible = bool(s.clock_warning)
        show(self.text, self.box, s.message, s.tone)
        fill(self.attention, s.attention, lambda: self._attention(s))
        rows: list[ft.Control] = [
            label(f"{p.what} · {p.who} · {p.when}", size=16) for p in s.pending[:_SHOWN]
        ]
        if len(s.pending) > _SHOWN:
            rows.append(label(f"… and {len(s.pending) - _SHOWN} more", size=16))
        self.pending.controls = rows or [label("Nothing waiting.", size=TEXT)]

    def _attention(self, s: SyncScreen) -> list[ft.Control]:
        return [
            ft.Container(
                ft.Row(
                    [
                        ft.Column(
                            [
                                label(f"{row.what}: {row.result}", bold=True),
                                label(row.action, size=TEXT),
                                label(
                                    f"{row.who} · {row.when}",
                                    size=16,
                                    color=ft.Colors.BLUE_GREY_700,
                                ),
                            ],
                            expand=True,
                            spacing=2,
                        ),
                        button("Seen", self.ui.handler(lambda e, q=row.seq: self._seen(q))),
                    ]
                ),
                padding=12,
                border_radius=8,
                bgcolor=ft.Colors.RED_50 if row.status == "rejected" else ft.Colors.ORANGE_50,
            )
            for row in s.attention
        ] or [label("Nothing needs attention.", size=TEXT)]

    def _sync_now(self, e: object) -> None:
        self.render(self.vm.sync_now())

    def _seen(self, seq: int) -> None:
        self.render(self.vm.mark_seen(seq))
