"""The manager's history of rejections (issue #11), thin over viewmodels/rejecting."""

from __future__ import annotations

import flet as ft

from storeapp.viewmodels.rejecting import RejectionsScreen, RejectionsVM

from .context import Ui
from .screen import ScreenView
from .widgets import TITLE, fill, label, message, show

__all__ = ["RejectionsView"]


class RejectionsView(ScreenView):
    def __init__(self, ui: Ui, vm: RejectionsVM) -> None:
        self.ui, self.vm = ui, vm
        self.text, self.box = message("rejections-message")
        self.rows = ft.ListView(spacing=8, expand=True)
        self.root = ft.Column(
            [label("Rejections", size=TITLE, bold=True), self.box, self.rows], expand=True
        )
        self.render(vm.screen())

    def refresh(self) -> None:
        self.render(self.vm.screen())

    def render(self, s: RejectionsScreen) -> None:
        show(self.text, self.box, s.message, s.tone)
        fill(
            self.rows,
            s.rows,
            lambda: [
                ft.Container(
                    ft.Column(
                        [
                            label(f"{r.order_id}: {r.what}", bold=True),
                            label(r.reason),
                            label(" · ".join(x for x in (r.who, r.when, r.note) if x), size=16),
                        ],
                        spacing=2,
                    ),
                    padding=12,
                    border_radius=8,
                    bgcolor=ft.Colors.BLUE_GREY_50,
                )
                for r in s.rows
            ],
        )
