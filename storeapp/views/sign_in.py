"""Sign in: employee id + PIN (checked offline against the pulled staff hashes).

After the fifth wrong PIN the id is locked; the screen then offers a manager's unlock
(their own id and PIN) right here, so the associate does not need another screen."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flet as ft

from storeapp.viewmodels import SessionVM

from .context import Ui
from .screen import ScreenView
from .widgets import TITLE, button, handle, label, message, show, text_field

__all__ = ["SignInView"]


class SignInView(ScreenView):
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
        self.locked_id: str | None = None
        self.unlock_title = label("", bold=True)
        self.manager = text_field("Manager id", on_submit=ui.handler(self._next_manager))
        self.manager_pin = text_field(
            "Manager PIN",
            password=True,
            keyboard_type=ft.KeyboardType.NUMBER,
            on_submit=ui.handler(self._unlock),
        )
        self.unlock_box = ft.Container(
            ft.Column(
                [
                    handle("unlock-title", self.unlock_title),
                    self.manager,
                    self.manager_pin,
                    ft.Row(
                        [button("Unlock", ui.handler(self._unlock), icon=ft.Icons.LOCK_OPEN)],
                        alignment=ft.MainAxisAlignment.END,
                    ),
                ],
                spacing=12,
            ),
            padding=16,
            border_radius=8,
            bgcolor=ft.Colors.BLUE_GREY_50,
            visible=False,
        )
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
                    self.unlock_box,
                ],
                spacing=20,
                width=480,
                scroll=ft.ScrollMode.AUTO,
            ),
            alignment=ft.Alignment.CENTER,
            expand=True,
            padding=24,
        )
        self._box = box

    def _next(self, e: Any) -> None:
        self.ui.focus_after(self.pin)

    def _next_manager(self, e: Any) -> None:
        self.ui.focus_after(self.manager_pin)

    def _sign_in(self, e: Any) -> None:
        screen = self.vm.sign_in(self.employee.value or "", self.pin.value or "")
        if screen.signed_in:
            self.on_signed_in()
            return
        self.pin.value = ""
        show(self.text, self._box, screen.message, screen.tone)
        self._offer_unlock(screen.locked_id)
        self.ui.focus_after(self.pin if self.employee.value else self.employee)

    def _offer_unlock(self, employee_id: str | None) -> None:
        self.locked_id = employee_id
        self.unlock_box.visible = employee_id is not None
        if employee_id is not None:
            self.unlock_title.value = f"A manager can unlock {employee_id} here:"

    def _unlock(self, e: Any) -> None:
        if self.locked_id is None:
            return
        screen = self.vm.unlock(
            self.manager.value or "", self.manager_pin.value or "", self.locked_id
        )
        self.manager_pin.value = ""
        show(self.text, self._box, screen.message, screen.tone)
        self._offer_unlock(screen.locked_id)
        if screen.locked_id is None:
            self.manager.value = ""
            self.ui.focus_after(self.pin)
        else:
            self.ui.focus_after(self.manager_pin if self.manager.value else self.manager)
