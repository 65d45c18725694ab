"""Receiving: the shipments on their way; open one, scan a carton (SSCC) or an item (GTIN),
count each line with − / + or by typing the number, mark damaged units, close the receipt."""

from __future__ import annotations

from typing import Any

import flet as ft

from storeapp.viewmodels.receiving import ReceivingLine, ReceivingScreen, ReceivingVM

from .context import Ui
from .screen import ScreenView
from .widgets import (
    TEXT,
    TITLE,
    button,
    choice,
    fill,
    handle,
    keeping_message,
    label,
    message,
    show,
    text_field,
)

__all__ = ["ReceivingView"]

_STATUS_BG = {
    "ok": ft.Colors.GREEN_50,
    "over": ft.Colors.ORANGE_50,
    "short": ft.Colors.ORANGE_50,
    "": ft.Colors.BLUE_GREY_50,
}


class ReceivingView(ScreenView):
    def __init__(self, ui: Ui, vm: ReceivingVM) -> None:
        self.ui, self.vm = ui, vm
        self.text, self.box = message("receiving-message")
        self.title = label("Receiving", size=TITLE, bold=True)
        self.summary = label("", size=TEXT)
        self.scan = text_field(
            "Scan a carton or an item", autofocus=True, on_submit=ui.handler(self._scan)
        )
        self.rows = ft.ListView(spacing=8, expand=True)
        self.close_button = button(
            "Close the receipt", ui.handler(self._close), icon=ft.Icons.DONE_ALL, primary=True
        )
        self.back_button = button("All shipments", ui.handler(self._back), icon=ft.Icons.ARROW_BACK)
        self.actions = ft.Row([self.back_button, self.close_button], spacing=12)
        self.send_to = text_field("To store", width=180)
        self.send_item = text_field("Item to send", width=260)
        self.send_qty = text_field("Units", width=120, keyboard_type=ft.KeyboardType.NUMBER)
        self.sending = ft.Row(
            [
                label("Send stock:", bold=True),
                self.send_to,
                self.send_item,
                self.send_qty,
                button("Send", ui.handler(self._send), icon=ft.Icons.SEND),
            ],
            spacing=8,
            wrap=True,
        )
        self.focus_target = self.scan
        self.last: ReceivingScreen | None = None
        self.root = ft.Column(
            [
                self.title,
                handle("receiving-summary", self.summary),
                self.scan,
                self.box,
                self.rows,
                self.actions,
                self.sending,
            ],
            expand=True,
        )
        self.refresh()

    def refresh(self) -> None:
        self.render(keeping_message(self.vm.screen(), self.last))

    def render(self, s: ReceivingScreen) -> None:
        self.last = s
        show(self.text, self.box, s.message, s.tone)
        opened = s.current is not None
        self.title.value = s.current.title if s.current else "Receiving"
        self.summary.value = s.summary if opened else f"{len(s.shipments)} shipment(s) expected"
        self.scan.visible = self.actions.visible = opened
        self.close_button.disabled = not s.can_close
        self.sending.visible = s.can_send and not opened
        key = (s.current, s.lines, s.cartons) if opened else s.shipments
        fill(self.rows, key, lambda: self._lines(s) if opened else self._shipments(s))

    def _shipments(self, s: ReceivingScreen) -> list[ft.Control]:
        if not s.shipments:
            return [label("No shipment is expected.", size=TEXT)]
        return [
            handle(
                f"receiving-shipment-{row.shipment_id}",
                choice(
                    f"{row.title}\n{row.detail}",
                    self.ui.handler(lambda e, i=row.shipment_id: self.render(self.vm.open(i))),
                    padding=16,
                ),
            )
            for row in s.shipments
        ]

    def _lines(self, s: ReceivingScreen) -> list[ft.Control]:
        cartons = [
            label(f"Carton {sscc}: {'counted' if done else 'not scanned yet'}", size=16)
            for sscc, done in s.cartons
        ]
        return cartons + [self._line(x) for x in s.lines]

    def _line(self, x: ReceivingLine) -> ft.Control:
        typed = ft.TextField(
            label="Count",
            width=110,
            height=56,
            text_size=TEXT,
            keyboard_type=ft.KeyboardType.NUMBER,
            on_submit=self.ui.handler(lambda e, sku=x.sku: self._typed(sku, e)),
        )
        return ft.Container(
            ft.Row(
                [
                    ft.Column(
                        [
                            label(x.name, bold=True),
                            handle(f"receiving-line-{x.sku}", label(x.words, size=16)),
                        ],
                        expand=True,
                        spacing=2,
                    ),
                    ft.IconButton(
                        ft.Icons.REMOVE,
                        on_click=self.ui.handler(lambda e, sku=x.sku: self._add(sku, -1)),
                        icon_size=28,
                        width=56,
                        height=56,
                        tooltip="One less",
                    ),
                    handle(
                        f"receiving-plus-{x.sku}",
                        ft.IconButton(
                            ft.Icons.ADD,
                            on_click=self.ui.handler(lambda e, sku=x.sku: self._add(sku, 1)),
                            icon_size=28,
                            width=56,
                            height=56,
                            tooltip="One more",
                        ),
                    ),
                    typed,
                    button(
                        "Damaged",
                        self.ui.handler(lambda e, sku=x.sku: self._damaged(sku)),
                        icon=ft.Icons.BROKEN_IMAGE,
                    ),
                ],
                spacing=8,
            ),
            padding=12,
            border_radius=8,
            bgcolor=_STATUS_BG.get(x.status, ft.Colors.BLUE_GREY_50),
        )

    def _scan(self, e: object) -> None:
        code = self.ui.take_scan(self.scan)
        if code:
            s = self.vm.scan(code)
            self.render(s)
            self.ui.play_after(s.tone)

    def _add(self, sku: str, qty: int) -> None:
        self.render(self.vm.add(sku, qty))

    def _typed(self, sku: str, e: Any) -> None:
        field = e.control
        typed, field.value = field.value or "", ""
        self.render(self.vm.set_count(sku, typed))

    def _damaged(self, sku: str) -> None:
        self.render(self.vm.damaged(sku))

    def _close(self, e: object) -> None:
        self.render(self.vm.close())

    def _send(self, e: object) -> None:
        s = self.vm.send(
            self.send_to.value or "", self.send_item.value or "", self.send_qty.value or ""
        )
        if s.tone == "ok":
            self.send_item.value = self.send_qty.value = ""
        self.render(s)

    def _back(self, e: object) -> None:
        self.render(self.vm.back())
