"""Print / reprint: the documents of one order. Each opens as a PDF in a new browser tab
(served by the hub from its replica, offline too), where the browser's print dialog prints
it; "Send to store printer" when the hub has a printer for it."""

from __future__ import annotations

import flet as ft

from storeapp.viewmodels.printing import PrintRow, PrintScreen

from .context import Ui
from .widgets import TEXT, TITLE, button, handle, label

__all__ = ["open_print_dialog", "open_receipt_dialog", "print_button", "print_return_button"]


def print_button(ui: Ui, order_id: str | None) -> ft.Control:
    """The "Print" button of an order's screen; hidden with no order."""
    btn = button(
        "Print", ui.handler(lambda e: open_print_dialog(ui, btn.data)), icon=ft.Icons.PRINT
    )
    btn.data = order_id
    btn.visible = order_id is not None
    return btn


def print_return_button(ui: Ui) -> ft.Control:
    """The returns screen's "Print": the receipt of the return whose id is in `data`."""
    btn = button(
        "Print receipt",
        ui.handler(lambda e: open_receipt_dialog(ui, btn.data)),
        icon=ft.Icons.PRINT,
    )
    btn.data, btn.visible = None, False
    return btn


def open_receipt_dialog(ui: Ui, return_id: str | None) -> None:
    if ui.printing is None or not return_id:
        return
    _dialog(ui, f"Print return {return_id}", ui.printing.open_return(return_id))


def open_print_dialog(ui: Ui, order_id: str | None) -> None:
    if ui.printing is None or not order_id:
        return
    _dialog(ui, f"Print order {order_id}", ui.printing.open(order_id))


def _dialog(ui: Ui, title: str, first: PrintScreen) -> None:
    assert ui.printing is not None
    vm = ui.printing
    body = ft.Column(spacing=8, tight=True)
    words = label("", size=TEXT)

    def render(s: PrintScreen) -> None:
        words.value = s.message
        words.color = ft.Colors.RED_700 if s.tone == "error" else None
        words.visible = bool(s.message)
        body.controls = [_row(r) for r in s.rows]

    async def send(kind: str) -> None:
        render(await vm.send(kind))

    def _row(r: PrintRow) -> ft.Control:
        open_btn = ft.Button(
            r.title,
            icon=ft.Icons.PICTURE_AS_PDF,
            height=48,
            url=ft.Url(r.url, target=ft.UrlTarget.BLANK),
        )
        row: list[ft.Control] = [handle(f"print-{r.kind}", open_btn)]
        if r.to_printer:
            row.append(
                button(
                    "Send to store printer",
                    ui.handler(lambda e, k=r.kind: send(k)),
                    icon=ft.Icons.PRINT,
                )
            )
        return ft.Row(row, wrap=True)

    render(first)
    ui.show_dialog(
        ft.AlertDialog(
            title=label(title, size=TITLE),
            content=ft.Column([words, body], tight=True, spacing=12),
            actions=[
                ft.TextButton("Close", height=48, on_click=ui.handler(lambda e: ui.close_dialog()))
            ],
        )
    )
