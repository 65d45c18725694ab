"""Sign in: employee id + PIN (checked offline against the pulled staff hashes)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flet as ft

from storeapp.viewmodels import SessionVM

from .context import Ui
from .widgets import TITLE, button, label, message, show, text_field

__all__ = ["SignInView"]


class SignInView:
    def __init__(
        self, ui: Ui, vm: SessionVM, on_signed_in: Callable[[], None], words: str = ""
    ) -> None:
        self.ui, self.vm, self.on_signed_in = ui, vm, on_signed_in
        self.employee = text_field("Employee id", autofocus=True, on_submit=ui.handler(self._next))
        self.pin = text_field(
            "PIN",
            password=True,
            keyboard_type=ft.KeyboardType.NUMBER,
            on_submit=ui.handler(self._sign_in),
        )
        self.text, box = message("sign-in-message")
        show(self.text, box, words, "info")
        self.focus_target = self.employee
        self.root = ft.Container(
            ft.Column(
                [
                    label("Store app", size=TITLE + 8, bold=True),
                    label("Sign in with your employee id and PIN.", size=TITLE - 4),
                    self.employee,
                    self.pin,
                    box,
                    ft.Row(
                        [
                            button(
                                "Sign in",
                                ui.handler(self._sign_in),
                                icon=ft.Icons.LOGIN,
                                primary=True,
                            )
                        ],
                        alignment=ft.MainAxisAlignment.END,
                    ),
                ],
                spacing=20,
                width=480,
            ),
            alignment=ft.Alignment.CENTER,
            expand=True,
            padding=24,
        )
        self._box = box

    def _next(self, e: Any) -> None:
        self.ui.focus_after(self.pin)

    def _sign_in(self, e: Any) -> None:
        screen = self.vm.sign_in(self.employee.value or "", self.pin.value or "")
        if screen.signed_in:
            self.on_signed_in()
            return
        self.pin.value = ""
        show(self.text, self._box, screen.message, screen.tone)
        self.ui.focus_after(self.pin if self.employee.value else self.employee)
