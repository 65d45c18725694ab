"""Home: tiles with live counts; a tap opens the screen behind the tile."""

from __future__ import annotations

import flet as ft

from storeapp.viewmodels import HomeScreen, HomeVM

from .context import Ui
from .screen import ScreenView
from .widgets import BIG, TEXT, TITLE, fill, handle, label, text_field

__all__ = ["HomeView"]


class HomeView(ScreenView):
    def __init__(self, ui: Ui, vm: HomeVM) -> None:
        self.ui, self.vm = ui, vm
        self.greeting = label("", size=TITLE, bold=True)
        self.tiles = ft.Row(wrap=True, spacing=16, run_spacing=16)
        # the demo's printable barcodes, in a new browser tab (hidden outside the demo)
        self.scan_sheet = ft.TextButton(
            "Scan sheet: the demo's barcodes to print or scan", icon=ft.Icons.QR_CODE_2
        )
        # Home takes a scan too (issue #10, finding 3): a pickup code or an order number
        # opens the hand-over on that order, so a scan here is never lost
        self.scan = text_field(
            "Scan pickup code", autofocus=True, width=ui.fit(420), on_submit=ui.handler(self._scan)
        )
        self.focus_target = self.scan
        self.root = ft.Column(
            [self.greeting, self.scan, self.tiles, self.scan_sheet],
            spacing=20,
            expand=True,
            scroll=ft.ScrollMode.AUTO,
        )
        self.refresh()

    def refresh(self) -> None:
        self.render(self.vm.screen())

    def render(self, s: HomeScreen) -> None:
        self.greeting.value = f"Hello, {s.associate_name}" if s.associate_name else "Home"
        fill(self.tiles, s, lambda: self._tiles(s))
        self.scan_sheet.visible = s.scan_sheet is not None
        if s.scan_sheet is not None:
            self.scan_sheet.url = ft.Url(s.scan_sheet, target=ft.UrlTarget.BLANK)

    def _tiles(self, s: HomeScreen) -> list[ft.Control]:
        tiles: list[ft.Control] = [
            self._tile("to-pick-sfs", "To pick · ship", s.to_pick_sfs, s.to_pick_sfs_late, "pick"),
            self._tile(
                "to-pick-pickup",
                "To pick · pickup",
                s.to_pick_pickup,
                s.to_pick_pickup_late,
                "pick",
            ),
            self._tile("to-stage", "To stage / pack", s.to_stage, 0, "staging"),
            self._tile("ready-for-pickup", "Ready for pickup", s.ready_for_pickup, 0, "handover"),
            self._tile("returns", "Returns today", s.returns_today, 0, "returns"),
            self._tile("tasks", "Tasks", s.tasks, 0, "tasks"),
            self._tile("counts", "Recounts", s.recounts, 0, "count"),
            self._tile("attention", "Need attention", s.attention, 0, "sync", alarm=True),
        ]
        if s.is_manager and s.queue is not None:
            tiles.append(self._tile("queue", "Queue (all)", s.queue, s.queue_late or 0, "queue"))
        if s.is_manager and s.approvals is not None:
            tiles.append(
                self._tile("approvals", "Approvals", s.approvals, 0, "approvals", alarm=True)
            )
        if s.is_manager and s.exceptions is not None:
            tiles.append(
                self._tile("exceptions", "Exceptions", s.exceptions, 0, "exceptions", alarm=True)
            )
        return tiles

    def _tile(
        self, key: str, title: str, count: int, late: int, target: str, *, alarm: bool = False
    ) -> ft.Container:
        hot = late > 0 or (alarm and count > 0)
        return ft.Container(
            ft.Column(
                [
                    label(title, size=TEXT),
                    handle(f"tile-{key}", label(str(count), size=BIG + 8, bold=True)),
                    label(
                        f"{late} late" if late else "",
                        size=TEXT,
                        color=ft.Colors.RED_800,
                        bold=True,
                    ),
                ],
                spacing=4,
            ),
            width=min(220, (self.ui.content_width - 16) / 2) if self.ui.phone else 220,
            height=150,
            padding=16,
            border_radius=12,
            bgcolor=ft.Colors.RED_50 if hot else ft.Colors.BLUE_GREY_50,
            ink=True,
            on_click=self.ui.handler(lambda e, t=target: self._open(t)),
        )

    def _scan(self, e: object) -> None:
        code = self.ui.take_scan(self.scan)
        if code:
            self.ui.go("handover", query=code)

    def _open(self, target: str) -> None:
        self.ui.go(target)
