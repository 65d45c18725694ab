"""Tasks: open follow-ups (put back, restock, recount, review); mark one done, or scan
the item just put back on its shelf; a recount opens the count screen."""

from __future__ import annotations

import flet as ft

from storeapp.viewmodels import TasksScreen, TasksVM

from .context import Ui
from .screen import ScreenView
from .widgets import TEXT, TITLE, button, fill, keeping_message, label, message, show, text_field

__all__ = ["TasksView"]


class TasksView(ScreenView):
    def __init__(self, ui: Ui, vm: TasksVM) -> None:
        self.ui, self.vm = ui, vm
        self.text, self.box = message("tasks-message")
        self.rows = ft.ListView(spacing=8, expand=True)
        self.scan = text_field(
            "Scan item put back",
            autofocus=True,
            width=ui.fit(420),
            on_submit=ui.handler(self._scan),
        )
        self.focus_target = self.scan
        self.last: TasksScreen | None = None
        self.root = ft.Column(
            [label("Tasks", size=TITLE, bold=True), self.scan, self.box, self.rows], expand=True
        )
        self.refresh()

    def refresh(self) -> None:
        self.render(keeping_message(self.vm.screen(), self.last))

    def render(self, s: TasksScreen) -> None:
        self.last = s
        show(self.text, self.box, s.message, s.tone)
        fill(self.rows, s.rows, lambda: self._rows(s))

    def _rows(self, s: TasksScreen) -> list[ft.Control]:
        if not s.rows:
            return [label("No open tasks.", size=TEXT)]
        return [
            ft.Container(
                ft.Row(
                    [
                        ft.Column(
                            [
                                label(row.title, bold=True),
                                label(
                                    f"Order {row.order_id}" if row.order_id else row.kind,
                                    size=16,
                                    color=ft.Colors.BLUE_GREY_700,
                                ),
                            ],
                            expand=True,
                            spacing=2,
                        ),
                        button(
                            "Count",
                            self.ui.handler(lambda e, t=row.task_id: self._count(t)),
                            icon=ft.Icons.NUMBERS,
                        )
                        if row.opens_count
                        else button(
                            "Done",
                            self.ui.handler(lambda e, t=row.task_id: self._done(t)),
                            icon=ft.Icons.CHECK,
                        ),
                    ]
                ),
                padding=12,
                border_radius=8,
                bgcolor=ft.Colors.BLUE_GREY_50,
            )
            for row in s.rows
        ]

    def _scan(self, e: object) -> None:
        code = self.ui.take_scan(self.scan)
        if code:
            s = self.vm.scan(code)
            self.render(s)
            self.ui.play_after(s.tone)

    def _count(self, task_id: str) -> None:
        self.ui.go("count", task_id=task_id)

    def _done(self, task_id: str) -> None:
        self.render(self.vm.done(task_id))
