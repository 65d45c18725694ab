"""The manager's console screens: exceptions, devices, KPIs (thin over viewmodels/console)."""

from __future__ import annotations

import asyncio

import flet as ft

from storeapp.viewmodels.console import (
    DevicesScreen,
    DevicesVM,
    ExceptionRow,
    ExceptionsScreen,
    ExceptionsVM,
    KpisScreen,
    KpisVM,
)

from .context import Ui
from .screen import ScreenView
from .widgets import (
    BIG,
    TEXT,
    TITLE,
    button,
    fill,
    handle,
    keeping_message,
    label,
    message,
    show,
    text_field,
)

__all__ = ["DevicesView", "ExceptionsView", "KpisView"]

_MUTED = ft.Colors.BLUE_GREY_700


def _card(*rows: ft.Control, worry: bool = False) -> ft.Container:
    return ft.Container(
        ft.Column(list(rows), spacing=4),
        padding=12,
        border_radius=8,
        bgcolor=ft.Colors.ORANGE_50 if worry else ft.Colors.BLUE_GREY_50,
    )


class ExceptionsView(ScreenView):
    def __init__(self, ui: Ui, vm: ExceptionsVM) -> None:
        self.ui, self.vm = ui, vm
        self.text, self.box = message("exceptions-message")
        self.rows = ft.ListView(spacing=8, expand=True)
        self.notes: dict[str, ft.TextField] = {}
        self.focus_target = None
        self.root = ft.Column(
            [label("Exceptions", size=TITLE, bold=True), self.box, self.rows], expand=True
        )
        self.last = vm.screen()
        self.render(self.last)

    def refresh(self) -> None:
        self.render(keeping_message(self.vm.screen(), self.last))

    def render(self, s: ExceptionsScreen) -> None:
        self.last = s
        show(self.text, self.box, s.message, s.tone)
        fill(self.rows, s.rows, lambda: self._rows(s))

    def _rows(self, s: ExceptionsScreen) -> list[ft.Control]:
        if not s.rows:
            return [label("Nothing to settle.", size=TEXT)]
        return [self._row(r) for r in s.rows]

    def _row(self, r: ExceptionRow) -> ft.Control:
        note = self.notes.setdefault(r.exception_id, text_field("What was done", expand=True))
        who = " · ".join(x for x in (r.who, r.when, r.order_id and f"order {r.order_id}") if x)
        return _card(
            label(r.what, bold=True),
            label(who, size=16, color=_MUTED),
            label(f"To do: {r.action}", size=16),
            ft.Row(
                [
                    note,
                    button(
                        "Settled",
                        self.ui.handler(lambda e, x=r.exception_id: self._resolve(x)),
                        icon=ft.Icons.DONE_ALL,
                    ),
                ]
            ),
        )

    def _resolve(self, exception_id: str) -> None:
        note = self.notes.get(exception_id)
        s = self.vm.resolve(exception_id, (note.value if note else "") or "")
        if s.tone == "ok":
            self.notes.pop(exception_id, None)
        self.render(s)


class DevicesView(ScreenView):
    def __init__(self, ui: Ui, vm: DevicesVM) -> None:
        self.ui, self.vm = ui, vm
        self.text, self.box = message("devices-message")
        self.as_of = label("", size=16, color=_MUTED)
        self.rows = ft.ListView(spacing=8, expand=True)
        self.focus_target = None
        self.root = ft.Column(
            [
                ft.Row(
                    [
                        label("Devices", size=TITLE, bold=True),
                        handle("devices-as-of", self.as_of),
                        button("Refresh", ui.handler(self._refresh), icon=ft.Icons.REFRESH),
                    ],
                    wrap=True,
                    run_spacing=8,
                    alignment=ft.MainAxisAlignment.SPACE_BETWEEN,
                ),
                self.box,
                self.rows,
            ],
            expand=True,
        )
        self.render(vm.screen("Tap Refresh to ask central (it needs the network)."))

    async def _refresh(self, e: object = None) -> None:
        # a network call: off the event loop, which serves every tablet of the hub
        failure = await asyncio.to_thread(self.vm.load)
        self.render(self.vm.shown(failure))

    def render(self, s: DevicesScreen) -> None:
        show(self.text, self.box, s.message, s.tone)
        self.as_of.value = f"as of {s.as_of}" if s.as_of else ""
        fill(self.rows, s.rows, lambda: self._rows(s))

    def _rows(self, s: DevicesScreen) -> list[ft.Control]:
        return [
            _card(
                label(f"{r.name}  {r.version}".strip(), bold=True),
                label(f"{r.last_sync} · {r.waiting} · {r.clock}", size=16),
                *([label(r.replica, size=16)] if r.replica else []),
                *(
                    [label(f"Look at it: {r.worry}", size=16, color=ft.Colors.ORANGE_900)]
                    if r.worry
                    else []
                ),
                worry=bool(r.worry),
            )
            for r in s.rows
        ]


class KpisView(ScreenView):
    def __init__(self, ui: Ui, vm: KpisVM) -> None:
        self.ui, self.vm = ui, vm
        self.text, self.box = message("kpis-message")
        self.figures = ft.Row(wrap=True, spacing=12, run_spacing=12)
        self.chart = ft.Column(spacing=4)
        self.focus_target = None
        self.root = ft.Column(
            [
                label("Today", size=TITLE, bold=True),
                self.box,
                self.figures,
                label("Orders ready, per hour", size=TEXT, bold=True),
                handle("kpi-chart", self.chart),
            ],
            expand=True,
            scroll=ft.ScrollMode.AUTO,
        )
        self.refresh()

    def refresh(self) -> None:
        self.render(self.vm.screen())

    def render(self, s: KpisScreen) -> None:
        show(self.text, self.box, s.message, s.tone)
        tiles = [
            ("Orders ready", str(s.ready_today)),
            ("Pickup on time", s.on_time_pickup),
            ("Shipped on time", s.on_time_ship),
            ("Fill rate", s.fill_rate),
            ("Count accuracy", s.count_accuracy),
            ("Open exceptions", str(s.open_exceptions)),
        ]
        self.figures.controls = [
            ft.Container(
                ft.Column(
                    [label(name, size=16, color=_MUTED), label(value, size=BIG - 8, bold=True)]
                ),
                padding=12,
                border_radius=8,
                bgcolor=ft.Colors.BLUE_GREY_50,
                width=min(230, (self.ui.content_width - 12) / 2) if self.ui.phone else 230,
            )
            for name, value in tiles
        ]
        self.chart.controls = [
            ft.Row(
                [
                    label(bar.hour, size=16, bold=True),
                    ft.Container(
                        width=max(4, self.ui.fit(400 + 140) - 140) * bar.share + 4,
                        height=24,
                        bgcolor=ft.Colors.BLUE_400,
                        border_radius=4,
                    ),
                    label(str(bar.orders), size=16),
                ]
            )
            for bar in s.bars
        ] or [label("No order ready yet today.", size=16)]
