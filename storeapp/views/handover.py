"""Hand-over: find a pickup order (code scanned or typed, name, email, phone), verify it,
hand over all or some lines. Done is final."""

from __future__ import annotations

from typing import Any

import flet as ft

from storeapp.viewmodels import HandoverScreen, HandoverVM
from storeapp.viewmodels.handover import HandoverLine

from .context import Ui
from .handover_contact import ask_contact
from .handover_proof import arrival_rows, ask_collector
from .print_dialog import print_button
from .screen import ScreenView
from .widgets import (
    BIG,
    TEXT,
    TITLE,
    action_bar,
    button,
    choice,
    fill,
    handle,
    label,
    look_ready,
    message,
    show,
    stepper,
    text_field,
)

__all__ = ["HandoverView"]

_VERIFIED = {"pickup_code": "Verified by pickup code", "id": "Verified by photo ID"}


class HandoverView(ScreenView):
    def __init__(self, ui: Ui, vm: HandoverVM, query: str | None = None) -> None:
        self.ui, self.vm = ui, vm
        self.find = text_field(
            "Find order",
            autofocus=True,
            width=ui.fit(480),
            on_submit=ui.handler(self._find),
        )
        self.text, self.box = message("handover-message")
        self.matches = ft.Column(spacing=6)
        self.title = label("", size=TITLE, bold=True)
        self.print_btn = print_button(ui, None)
        self.contact = label("", size=TEXT)
        self.shelf = label("", size=BIG, bold=True)
        self.verified = label("", size=TEXT, bold=True)
        self.code = text_field(
            "Pickup code", width=ui.fit(300), on_submit=ui.handler(self._verify_code)
        )
        self.id_btn = button("Photo ID checked", ui.handler(self._verify_id), icon=ft.Icons.BADGE)
        self.verify_row = ft.Row([self.code, self.id_btn], wrap=True, run_spacing=8)
        self.lines = ft.Column(spacing=6)
        self.hand_btn = button(
            "Hand over", ui.handler(self._hand_over), icon=ft.Icons.HANDSHAKE, primary=True
        )
        self.next_btn = button("Next customer", ui.handler(self._start), icon=ft.Icons.PERSON_ADD)
        self.arrived = ft.Column(spacing=6)  # issue #11: curbside check-ins first
        self.proof_btn = button("Who collects", ui.handler(self._collector), icon=ft.Icons.BADGE)
        self.notify_btn = button("Contact & notice", ui.handler(self._contact), icon=ft.Icons.EMAIL)
        self.order = ft.Column(
            [
                ft.Row(
                    [
                        ft.Column([self.title, self.contact], spacing=2, width=ui.fit(520)),
                        self.print_btn,
                        handle("staging-location", self.shelf),
                    ],
                    wrap=True,
                    run_spacing=8,
                ),
                handle("order-state", self.verified),
                self.verify_row,
                ft.Row([self.proof_btn, self.notify_btn], wrap=True),
                self.lines,
            ],
            spacing=12,
        )
        self.root = ft.Column(
            [
                label("Hand-over", size=TITLE, bold=True),
                label("Scan the pickup code, or type a name, email or phone."),
                ft.Row(
                    [self.find, button("Find", ui.handler(self._find), icon=ft.Icons.SEARCH)],
                    wrap=True,
                    run_spacing=8,
                ),
                self.box,
                self.arrived,
                self.matches,
                ft.Column([self.order], expand=True, scroll=ft.ScrollMode.AUTO),
                action_bar(self.next_btn, self.hand_btn),
            ],
            expand=True,
            spacing=12,
        )
        self.focus_target: ft.Control = self.find
        self.render(vm.screen())
        if query:  # scanned on Home
            self.find.value = query
            self._find(None)

    def render(self, s: HandoverScreen) -> None:
        show(self.text, self.box, s.message, s.tone)
        # the field a scanner's code goes to now: the pickup code to verify, else the search
        verifying = s.order is not None and s.order.verified_by is None and not s.done
        self.focus_target = self.code if verifying else self.find
        fill(
            self.matches,
            (s.matches, s.order is None),
            lambda: (
                [
                    choice(
                        f"{m.order_id} · {m.customer} · {m.units} item(s)"
                        + (f" · shelf {m.staging_location}" if m.staging_location else ""),
                        self.ui.handler(lambda e, x=m.order_id: self._select(x)),
                        padding=12,
                    )
                    for m in s.matches
                ]
                if s.order is None or len(s.matches) > 1
                else []
            ),
        )
        fill(
            self.arrived,
            s.arrived,
            lambda: arrival_rows(s, lambda x: self.ui.handler(lambda e: self._select(x))),
        )
        o = s.order
        self.order.visible = o is not None
        self.hand_btn.visible = o is not None and not s.done
        self.next_btn.visible = o is not None or bool(s.matches)
        if o is None:
            return
        self.print_btn.data, self.print_btn.visible = o.order_id, True
        self.title.value = f"{o.order_id} · {o.customer}"
        self.contact.value = f"{o.email} · {o.phone}"
        self.shelf.value = o.staging_location or ""
        self.verified.value = (
            "Handed over"
            if s.done
            else _VERIFIED.get(
                o.verified_by or "", "Not verified yet: check the pickup code or a photo ID"
            )
        )
        self.verify_row.visible = o.verified_by is None and not s.done
        who = o.collected_by + (f", {o.id_type} …{o.id_last4}" if o.id_last4 else "")
        self.proof_btn.content = f"Who collects ({who})"
        self.proof_btn.visible = self.notify_btn.visible = not s.done
        fill(self.lines, (o.lines, s.done), lambda: [self._line(x, s.done) for x in o.lines])
        self.hand_btn.content = f"Hand over {o.units_to_hand} item(s)"
        # not ready: grey, and a tap says why (issue #10, finding 6)
        look_ready(self.hand_btn, o.verified_by is not None and o.units_to_hand > 0)

    def _line(self, x: HandoverLine, done: bool) -> ft.Control:
        parts: list[ft.Control] = [
            ft.Column(
                [
                    label(x.name, bold=True),
                    label(
                        f"ordered {x.ordered} · ready {x.ready} · handed over {x.handed_over}",
                        size=16,
                    ),
                ],
                expand=True,
                spacing=2,
            ),
        ]
        if not done and x.ready:
            _, row = stepper(
                x.to_hand,
                self.ui.handler(lambda e: self._qty(x.line_id, x.to_hand - 1)),
                self.ui.handler(lambda e: self._qty(x.line_id, x.to_hand + 1)),
                f"hand-qty-{x.line_id}",
            )
            parts.append(row)
        body = ft.Column(parts, spacing=4) if self.ui.narrow else ft.Row(parts)
        return ft.Container(body, padding=8, border_radius=8, bgcolor=ft.Colors.BLUE_GREY_50)

    # --- events: each one view-model call ------------------------------------------------

    def _find(self, e: Any) -> None:
        query = self.find.value or ""
        self.find.value = ""
        s = self.vm.find(query)
        self.render(s)
        self.ui.play_after(s.tone)  # a pickup code that matches, or no match: a tone
        self.ui.focus_after(self.code if s.order and not s.order.verified_by else self.find)

    def _select(self, order_id: str) -> None:
        self.render(self.vm.select(order_id))
        self.ui.focus_after(self.code)

    def _verify_code(self, e: Any) -> None:
        s = self.vm.verify_code(self.code.value or "")
        self.render(s)
        self.ui.play_after(s.tone)
        self.code.value = ""

    def _verify_id(self, e: Any) -> None:
        self.render(self.vm.verify_id())

    def _qty(self, line_id: str, qty: int) -> None:
        self.render(self.vm.set_qty(line_id, qty))

    def _collector(self, e: Any) -> None:
        s = self.vm.screen()
        if s.order is not None:
            ask_collector(self.ui, self.vm, s.order, self.render)

    def _contact(self, e: Any) -> None:
        s = self.vm.screen()
        if s.order is not None:
            ask_contact(self.ui, self.vm, s.order, self.render)

    def _hand_over(self, e: Any) -> None:
        self.render(self.vm.hand_over())

    def _start(self, e: Any) -> None:
        self.render(self.vm.start())
        self.ui.focus_after(self.find)
