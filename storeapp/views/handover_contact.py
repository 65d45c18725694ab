"""The customer's contact and the ready-for-pickup notice (issue #11): correct a mistyped
email or phone, send the notice again. Each is one view-model call (`order.contact`,
`order.notify`), queued offline like any op; a refusal stays in the dialog, in words."""

from __future__ import annotations

from collections.abc import Callable

import flet as ft

from storeapp.viewmodels.handover import HandoverOrder, HandoverScreen, HandoverVM

from .context import Ui
from .widgets import TITLE, button, message, show, text_field

__all__ = ["ask_contact"]


def ask_contact(
    ui: Ui, vm: HandoverVM, order: HandoverOrder, on_done: Callable[[HandoverScreen], None]
) -> None:
    """Email and phone as the tablet has them; only what was changed is sent."""
    email = text_field("Customer email", value=order.email, width=420)
    phone = text_field("Customer phone", value=order.phone, width=260)
    words, box = message("contact-message")

    def close(s: HandoverScreen) -> None:
        ui.close_dialog()
        on_done(s)

    def save() -> None:
        new_email = str(email.value or "").strip()
        new_phone = str(phone.value or "").strip()
        s = vm.change_contact(
            new_email if new_email != order.email else None,
            new_phone if new_phone != order.phone else None,
        )
        if s.tone == "error":
            show(words, box, s.message, s.tone)  # the dialog stays: fix the typing
            return
        close(s)

    ui.show_dialog(
        ft.AlertDialog(
            title=ft.Text(f"Contact for {order.order_id}", size=TITLE),
            content=ft.Column([email, phone, box], tight=True, spacing=12),
            actions=[
                button("Save contact", ui.handler(lambda e: save()), icon=ft.Icons.SAVE),
                button(
                    "Send notice again",
                    ui.handler(lambda e: close(vm.notify())),
                    icon=ft.Icons.EMAIL,
                ),
                ft.TextButton(
                    "Cancel", height=48, on_click=ui.handler(lambda e: ui.close_dialog())
                ),
            ],
        )
    )
