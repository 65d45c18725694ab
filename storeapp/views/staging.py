"""Stage / pack: pickup orders onto a staging shelf; ship-from-store orders packed, then shipped."""

from __future__ import annotations

from typing import Any

import flet as ft

from storeapp.viewmodels import StagingScreen, StagingVM
from storeapp.viewmodels.staging import StageOrder

from .context import Ui
from .print_dialog import print_button
from .screen import ScreenView
from .widgets import (
    TEXT,
    TITLE,
    button,
    fill,
    handle,
    keeping_message,
    label,
    message,
    show,
    stepper,
    text_field,
)

__all__ = ["StagingView"]

_STEP = {"stage": "to stage", "ship": "to ship", "done": "done"}


class StagingView(ScreenView):
    def __init__(self, ui: Ui, vm: StagingVM, order_id: str | None = None) -> None:
        self.ui, self.vm = ui, vm
        self.packages = 1
        self.text, self.box = message("staging-message")
        self.waiting = ft.Column(spacing=6, scroll=ft.ScrollMode.AUTO, expand=True)
        self.title = label("", size=TITLE, bold=True)
        self.state = label("", size=TEXT, bold=True)
        self.lines = ft.Column(spacing=4)
        self.location = text_field("Staging location", on_submit=ui.handler(self._stage))
        self.carrier = ft.Dropdown(
            label="Carrier",
            width=260,
            text_size=TEXT,
        )
        self.tracking = text_field("Tracking number", on_submit=ui.handler(self._ship))
        self.pkg_text, self.pkg_row = stepper(
            1, ui.handler(self._less), ui.handler(self._more), "packages"
        )
        self.pkg_box = ft.Row([label("Parcels"), self.pkg_row])
        self.stage_btn = button(
            "Stage", ui.handler(self._stage), icon=ft.Icons.INVENTORY, primary=True
        )
        self.ship_btn = button(
            "Ship", ui.handler(self._ship), icon=ft.Icons.LOCAL_SHIPPING, primary=True
        )
        self.print_btn = print_button(ui, None)
        self.form = ft.Column(
            [
                ft.Row([self.title, handle("order-state", self.state), self.print_btn]),
                self.lines,
                self.location,
                ft.Row([handle("carrier", self.carrier), self.tracking], wrap=True),
                self.pkg_box,
                ft.Row([self.stage_btn, self.ship_btn], alignment=ft.MainAxisAlignment.END),
            ],
            spacing=12,
            expand=True,
            scroll=ft.ScrollMode.AUTO,
        )
        self.root = ft.Column(
            [
                label("Stage and ship", size=TITLE, bold=True),
                self.box,
                ft.Row(
                    [ft.Container(self.waiting, width=340), ft.VerticalDivider(width=1), self.form],
                    expand=True,
                    vertical_alignment=ft.CrossAxisAlignment.START,
                ),
            ],
            expand=True,
        )
        self.focus_target = None
        self.render(vm.open(order_id) if order_id else vm.screen())

    def refresh(self) -> None:
        self.render(keeping_message(self.vm.screen(), self.last))

    def render(self, s: StagingScreen) -> None:
        self.last = s
        show(self.text, self.box, s.message, s.tone)
        if self.carrier.data != s.carriers:  # the store's list (its policy) changed
            self.carrier.data = s.carriers
            self.carrier.options = [ft.DropdownOption(c) for c in s.carriers]
        fill(
            self.waiting,
            (s.waiting, s.current),
            lambda: [self._row(o, s) for o in s.waiting] or [label("Nothing to stage or ship.")],
        )
        o = s.current
        self.form.visible = o is not None
        if o is None:
            return
        self.print_btn.data, self.print_btn.visible = o.order_id, True
        pickup = o.type == "pickup"
        self.title.value = f"{o.order_id} · {'Pickup' if pickup else 'Ship'} · {o.customer}"
        where = f" at {o.staging_location}" if o.staging_location else ""
        self.state.value = f"{o.state.replace('_', ' ')}{where}"
        self.lines.controls = [
            label(f"{x.name}: {x.picked} of {x.qty}" + (f" · {x.short} short" if x.short else ""))
            for x in o.lines
        ]
        stage, ship = o.next_step == "stage", o.next_step == "ship"
        self.location.visible = self.stage_btn.visible = stage
        self.stage_btn.content = "Stage" if pickup else "Pack"
        self.carrier.visible = self.tracking.visible = self.ship_btn.visible = ship
        self.pkg_box.visible = (stage and not pickup) or ship
        self.pkg_text.value = str(self.packages)
        self.focus_target = self.location if stage else (self.tracking if ship else None)

    def _row(self, o: StageOrder, s: StagingScreen) -> ft.Control:
        chosen = s.current is not None and s.current.order_id == o.order_id
        return ft.Container(
            ft.Column(
                [
                    label(f"{o.order_id} · {o.customer}", bold=True),
                    label(
                        f"{o.picked_units}/{o.ordered_units} units · {_STEP[o.next_step]}"
                        + (" · partial" if o.partial else ""),
                        size=16,
                    ),
                ],
                spacing=2,
            ),
            padding=12,
            border_radius=8,
            ink=True,
            bgcolor=ft.Colors.BLUE_100 if chosen else ft.Colors.BLUE_GREY_50,
            on_click=self.ui.handler(lambda e, x=o.order_id: self._open(x)),
        )

    def _focus(self) -> None:
        if self.focus_target is not None:
            self.ui.focus_after(self.focus_target)

    def _open(self, order_id: str) -> None:
        self.packages = 1
        self.render(self.vm.open(order_id))
        self._focus()

    def _less(self, e: Any) -> None:
        self.packages = max(1, self.packages - 1)
        self.pkg_text.value = str(self.packages)

    def _more(self, e: Any) -> None:
        self.packages += 1
        self.pkg_text.value = str(self.packages)

    def _stage(self, e: Any) -> None:
        current = self.last.current
        packages = 0 if current is not None and current.type == "pickup" else self.packages
        self.render(self.vm.stage(self.location.value or "", packages))
        self._focus()

    def _ship(self, e: Any) -> None:
        self.render(
            self.vm.ship(self.carrier.value or "", self.tracking.value or "", self.packages)
        )
        self._focus()
