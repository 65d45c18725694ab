"""Count: open recount tasks, or scan any item; a big number pad (or a scan per unit);
submit a blind count; my recent counts with central's answer. The scan field keeps the
keyboard after every tap, so the scanner always lands in it."""

from __future__ import annotations

from typing import Any

import flet as ft

from storeapp.viewmodels import CountScreen, CountVM

from .context import Ui
from .screen import ScreenView
from .widgets import (
    BIG,
    TARGET,
    TEXT,
    TITLE,
    action_bar,
    button,
    fill,
    handle,
    keeping_message,
    label,
    look_ready,
    message,
    show,
    text_field,
)

__all__ = ["CountView"]

_PAD = (("1", "2", "3"), ("4", "5", "6"), ("7", "8", "9"), ("clear", "0", "back"))
_KEY = 80  # number pad keys: big enough for a gloved thumb


class CountView(ScreenView):
    def __init__(self, ui: Ui, vm: CountVM, task_id: str | None = None) -> None:
        self.ui, self.vm = ui, vm
        self.scan = text_field(
            "Scan item", autofocus=True, width=ui.fit(420), on_submit=ui.handler(self._scan)
        )
        self.focus_target = self.scan
        self.text, self.box = message("count-message")
        self.tasks = ft.Column(spacing=8)
        self.title = label("", size=TITLE, bold=True)
        self.location = text_field(
            "Location",
            width=200,
            on_submit=ui.handler(self._location),
            on_blur=ui.handler(self._location, refocus=False),
        )
        self.qty = label(
            "", size=BIG + 24, bold=True, text_align=ft.TextAlign.CENTER, width=3 * _KEY + 16
        )
        self.submit_btn = button(
            "Submit count", ui.handler(self._submit), icon=ft.Icons.CHECK, primary=True
        )
        pad = ft.Column([ft.Row([self._key(k) for k in row], spacing=8) for row in _PAD], spacing=8)
        what = ft.Column(
            [
                handle("count-item", self.title),
                ft.Row(
                    [self.location, label("Counted:", size=TEXT)],
                    vertical_alignment=ft.CrossAxisAlignment.CENTER,
                ),
                ft.Container(
                    handle("count-qty", self.qty),
                    bgcolor=ft.Colors.BLUE_GREY_50,
                    border_radius=8,
                    padding=8,
                ),
            ],
            spacing=12,
        )
        keys = pad
        # Cancel and Submit in the bottom bar, out of the scrolling part: reachable on a phone
        self.bar = action_bar(
            button("Cancel", ui.handler(self._cancel), icon=ft.Icons.CLOSE), self.submit_btn
        )
        self.bar.visible = False
        # landscape: the item and the count beside the pad, so the pad's last row and Submit
        # stay above the fold (issue #10, finding 7); narrow: one under the other
        self.work = ft.Container(
            ft.Column([what, keys], spacing=12)
            if ui.narrow
            else ft.Row([what, keys], spacing=32, vertical_alignment=ft.CrossAxisAlignment.START),
            visible=False,
        )
        self.recent = ft.Column(spacing=4)
        self.root = ft.Column(
            [
                label("Count", size=TITLE, bold=True),
                label("Scan an item to count it, or open a recount. Counting is blind."),
                self.scan,
                self.box,
                ft.Column(
                    [
                        self.work,
                        self.tasks,
                        label("My recent counts", size=TEXT, bold=True),
                        self.recent,
                    ],
                    expand=True,
                    scroll=ft.ScrollMode.AUTO,
                    spacing=12,
                ),
                self.bar,
            ],
            expand=True,
            spacing=12,
        )
        self._where: object = None
        self.render(vm.start(task_id) if task_id else vm.screen())

    def _key(self, key: str) -> ft.Control:
        """A pad key, named by its `data` ("7", "Clear", "Delete last digit"); no tooltip
        (one under a resting pointer took the keyboard) and no glyph the font lacks ("⌫")."""
        name = {"clear": "Clear", "back": "Delete last digit"}.get(key, key)
        face: ft.Control = (
            ft.Icon(ft.Icons.BACKSPACE_OUTLINED, size=BIG)
            if key == "back"
            else ft.Text("C" if key == "clear" else key, size=BIG, weight=ft.FontWeight.BOLD)
        )
        btn = ft.Button(
            content=face,
            width=_KEY,
            height=_KEY,
            data=name,
            on_click=self.ui.handler(lambda e, k=key: self._pad(k)),
        )
        return ft.Semantics(label=name, button=True, content=btn) if key != name else btn

    def refresh(self) -> None:
        """A sync pass: new answers, the same message."""
        self.render(keeping_message(self.vm.screen(), self.last))

    def render(self, s: CountScreen) -> None:
        self.last = s
        show(self.text, self.box, s.message, s.tone)
        self.work.visible = self.bar.visible = s.counting
        self.tasks.visible = not s.counting
        if s.counting:
            self.title.value = f"{s.name}" + (" · recount" if s.task_id else "")
            where = (s.sku, s.task_id, s.location)
            if where != self._where:  # never overwrite what is being typed on a sync pass
                self.location.value = s.location
                self._where = where
            self.qty.value = s.qty_text or "–"
            look_ready(self.submit_btn, s.can_submit)  # a tap says what is missing
        else:
            self._where = None
        fill(self.tasks, s.tasks, lambda: self._tasks(s))
        fill(self.recent, s.recent, lambda: self._recent(s))

    def _tasks(self, s: CountScreen) -> list[ft.Control]:
        if not s.tasks:
            return [label("No recounts waiting.", size=16)]
        rows: list[ft.Control] = [label("Recounts to do", size=TEXT, bold=True)]
        for t in s.tasks:
            rows.append(
                ft.Container(
                    ft.Row(
                        [
                            ft.Column(
                                [
                                    label(f"{t.name} at {t.location}", bold=True),
                                    label(t.reason, size=16, color=ft.Colors.BLUE_GREY_700),
                                ],
                                expand=True,
                                spacing=2,
                            ),
                            button(
                                "Count",
                                self.ui.handler(lambda e, x=t.task_id: self._start(x)),
                                icon=ft.Icons.NUMBERS,
                            ),
                        ]
                    ),
                    padding=12,
                    border_radius=8,
                    bgcolor=ft.Colors.BLUE_GREY_50,
                    height=TARGET + 40,
                )
            )
        return rows

    def _recent(self, s: CountScreen) -> list[ft.Control]:
        if not s.recent:
            return [label("No counts yet.", size=16)]
        colours = {"ok": ft.Colors.GREEN_900, "warning": ft.Colors.ORANGE_900}
        return [
            label(
                f"{r.at} · {r.name} at {r.location} · {r.text}",
                size=16,
                color=colours.get(r.tone, ft.Colors.BLUE_GREY_900),
            )
            for r in s.recent
        ]

    # --- events: each one view-model call; the scan field keeps the keyboard -----------------

    def _after(self, s: CountScreen, *, sound: bool = False) -> None:
        self.render(s)
        self.ui.focus_after(self.scan)
        if sound:
            self.ui.play_after(s.tone)

    def _scan(self, e: Any) -> None:
        code = self.ui.take_scan(self.scan)
        if code:
            self._after(self.vm.scan(code), sound=True)

    def _start(self, task_id: str) -> None:
        self._after(self.vm.start(task_id))

    def _location(self, e: Any) -> None:
        value = self.location.value or ""
        if value.strip().upper() != self.last.location:
            self._after(self.vm.set_location(value))

    def _pad(self, key: str) -> None:
        if key == "clear":
            self._after(self.vm.clear())
        elif key == "back":
            self._after(self.vm.backspace())
        else:
            self._after(self.vm.digit(key))

    def _cancel(self, e: Any) -> None:
        self._after(self.vm.cancel())

    def _submit(self, e: Any) -> None:
        self._after(self.vm.submit(), sound=True)
