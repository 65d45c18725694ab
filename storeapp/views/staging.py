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
    FIELD_LABEL,
    TEXT,
    TITLE,
    action_bar,
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
        self.find = text_field(
            "Scan order", width=ui.fit(320), autofocus=True, on_submit=ui.handler(self._find)
        )
        self.location = text_field(
            "Staging location", width=ui.fit(360), on_submit=ui.handler(self._stage)
        )
        self.carrier = ft.Dropdown(
            label="Carrier",
            width=ui.fit(260),
            text_size=TEXT,
            label_style=ft.TextStyle(size=FIELD_LABEL),
            on_select=ui.handler(self._carrier),
        )
        # the handle is what shows and hides: a Semantics whose content is hidden is
        # Flutter's red "Semantics.content must be provided and visible" (finding 2)
        self.carrier_box = handle("carrier", self.carrier)
        self.tracking = text_field(
            "Tracking number", width=ui.fit(300), on_submit=ui.handler(self._ship)
        )
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
                ft.Row([self.title, self.print_btn], wrap=True),
                handle("order-state", self.state),  # under the title: never cut at the edge
                self.lines,
                self.location,
                ft.Row([self.carrier_box, self.tracking], wrap=True, run_spacing=8),
                self.pkg_box,
            ],
            spacing=12,
            expand=True,
            scroll=ft.ScrollMode.AUTO,
        )
        panes: ft.Control = (
            ft.Column(
                [ft.Container(self.waiting, height=200), ft.Divider(height=1), self.form],
                expand=True,
            )
            if ui.narrow
            else ft.Row(
                [ft.Container(self.waiting, width=340), ft.VerticalDivider(width=1), self.form],
                expand=True,
                vertical_alignment=ft.CrossAxisAlignment.START,
            )
        )
        self.root = ft.Column(
            [
                ft.Row(
                    [label("Stage and ship", size=TITLE, bold=True), self.find],
                    wrap=True,
                    alignment=ft.MainAxisAlignment.SPACE_BETWEEN,
                ),
                self.box,
                panes,
                action_bar(self.stage_btn, self.ship_btn),
            ],
            expand=True,
        )
        self.focus_target: ft.Control | None = self.find
        self.render(vm.open(order_id) if order_id else vm.screen())

    def refresh(self) -> None:
        self.render(keeping_message(self.vm.screen(), self.last))

    def render(self, s: StagingScreen) -> None:
        self.last = s
        show(self.text, self.box, s.message, s.tone)
        if self.carrier.data != s.carriers:  # the store's list (its policy) changed
            self.carrier.data = s.carriers
            self.carrier.options = [ft.DropdownOption(c) for c in s.carriers]
        if not self.carrier.value and s.carrier:  # the last carrier used: one tap less
            self.carrier.value = s.carrier
        self._say_carrier()
        fill(
            self.waiting,
            (s.waiting, s.current),
            lambda: [self._row(o, s) for o in s.waiting] or [label("Nothing to stage or ship.")],
        )
        o = s.current
        self.form.visible = o is not None
        if o is None:
            self.stage_btn.visible = self.ship_btn.visible = False
            self.focus_target = self.find
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
        self.carrier_box.visible = self.tracking.visible = self.ship_btn.visible = ship
        self.pkg_box.visible = (stage and not pickup) or ship
        self.pkg_text.value = str(self.packages)
        self.focus_target = self.location if stage else (self.tracking if ship else self.find)

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

    def _find(self, e: Any) -> None:
        code = self.ui.take_scan(self.find).upper()
        if code:
            self._open(code)
            self.ui.play_after("error" if self.last.tone == "error" else "ok")
            if self.focus_target is not None and self.last.tone != "error":
                # the staging location field appears in this update
                self.ui.focus_again_soon(self.focus_target)

    def _say_carrier(self) -> None:
        """The carrier chosen, said to screen readers (and read by the browser tests)."""
        self.carrier_box.label = f"Carrier: {self.carrier.value or 'none chosen'}"

    def _carrier(self, e: Any) -> None:
        self._say_carrier()
        self.ui.focus_after(self.tracking)  # the carrier chosen: the tracking label is next

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
        self.ui.play_after(self.last.tone)
        self._focus()

    def _ship(self, e: Any) -> None:
        self.render(
            self.vm.ship(self.carrier.value or "", self.tracking.value or "", self.packages)
        )
        self.ui.play_after(self.last.tone)
        if self.last.tone == "ok":
            self.tracking.value = ""
        self._focus()
