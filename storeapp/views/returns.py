"""Returns: find the online order (number, pickup code, email, phone) or take the return
on the receipt when the order is not on this tablet; per line qty, reason, condition and
where the goods go; the live refund summary; a manager's PIN when it is outside policy;
then a receipt-like confirmation and today's returns."""

from __future__ import annotations

import asyncio
from typing import Any

import flet as ft

from storeapp.viewmodels import ReturnsScreen, ReturnsVM
from storeapp.viewmodels.returns import CONDITIONS, DISPOSITIONS, REASONS, ReturnsLine

from .context import Ui
from .print_dialog import print_return_button
from .screen import ScreenView
from .widgets import (
    BIG,
    FIELD_LABEL,
    TEXT,
    TITLE,
    action_bar,
    button,
    choice,
    fill,
    handle,
    keeping_message,
    label,
    look_ready,
    message,
    show,
    stepper,
    text_field,
)

__all__ = ["ReturnsView"]


def _dropdown(
    text: str,
    options: dict[str, str],
    keys: tuple[str, ...],
    value: str,
    on_select: Any,
    width: float,
) -> ft.Dropdown:
    return ft.Dropdown(
        label=text,
        value=value,
        options=[ft.DropdownOption(key=k, text=options.get(k, k)) for k in keys],
        width=width,
        text_size=TEXT,
        label_style=ft.TextStyle(size=FIELD_LABEL),
        on_select=on_select,
    )


class ReturnsView(ScreenView):
    def __init__(self, ui: Ui, vm: ReturnsVM) -> None:
        self.ui, self.vm = ui, vm
        self.find = text_field(
            "Find order", autofocus=True, width=ui.fit(420), on_submit=ui.handler(self._find)
        )
        self.text, self.box = message("returns-message")
        self.matches = ft.Column(spacing=6)
        self.title = label("", size=TITLE, bold=True)
        # autofocus: the field is built when the order's lines appear, in the same update that
        # asks for focus, and a focus() that reaches the client first is lost (docs/flet-notes.md)
        self.scan = text_field(
            "Scan item", width=ui.fit(360), autofocus=True, on_submit=ui.handler(self._scan)
        )
        self.lines = ft.Column(spacing=8)
        self.summary = label("", size=BIG - 8, bold=True)
        self.breaches = label("", size=TEXT, color=ft.Colors.ORANGE_900, bold=True)
        side = 360 if ui.narrow else 170  # the manager's fields: two a line in the side pane
        self.manager_id = text_field("Manager id", width=ui.fit(side))
        self.manager_pin = text_field(
            "Manager PIN", width=ui.fit(side), password=True, on_submit=ui.handler(self._approve)
        )
        self.override_reason = text_field("Override reason", width=ui.fit(360))
        self.manager = ft.Container(
            ft.Column(
                [
                    label("Outside policy: a manager approves here.", bold=True),
                    ft.Row(
                        [
                            self.manager_id,
                            self.manager_pin,
                            self.override_reason,
                            button(
                                "Manager approves",
                                ui.handler(self._approve),
                                icon=ft.Icons.VERIFIED_USER,
                            ),
                        ],
                        wrap=True,
                        run_spacing=8,
                    ),
                ],
                spacing=8,
            ),
            padding=12,
            border_radius=8,
            bgcolor=ft.Colors.ORANGE_50,
            visible=False,
        )
        self.confirmation = label("", size=TITLE, bold=True, color=ft.Colors.GREEN_900)
        self.print_btn = print_return_button(ui)  # the receipt of the return just saved
        self.today = ft.Column(spacing=4)
        self.save_btn = button(
            "Save return", ui.handler(self._submit), icon=ft.Icons.ASSIGNMENT_RETURN, primary=True
        )
        self.next_btn = button("Next customer", ui.handler(self._start), icon=ft.Icons.PERSON_ADD)
        self.policy = ft.Column(  # the refund and the policy check: always in sight
            [
                handle("returns-summary", self.summary),
                handle("returns-breaches", self.breaches),
                self.manager,
            ],
            spacing=8,
        )
        self.work = ft.Column(
            [handle("returns-order", self.title), self.scan, self.lines], spacing=12
        )
        listing: list[ft.Control] = [
            self.matches,
            self.work,
            ft.Row([handle("returns-confirmation", self.confirmation), self.print_btn], wrap=True),
            label("Today's returns", size=TEXT, bold=True),
            self.today,
        ]
        # landscape: the refund summary and the manager's box in a pane beside the lines;
        # narrow: under the bar's buttons' line, above the fold (issue #10, finding 9)
        body: ft.Control = (
            ft.Column(listing, expand=True, scroll=ft.ScrollMode.AUTO, spacing=12)
            if ui.narrow
            else ft.Row(
                [
                    ft.Column(listing, expand=True, scroll=ft.ScrollMode.AUTO, spacing=12),
                    ft.Container(
                        ft.Column([self.policy], scroll=ft.ScrollMode.AUTO),
                        width=400,
                    ),
                ],
                expand=True,
                vertical_alignment=ft.CrossAxisAlignment.START,
            )
        )
        bottom: list[ft.Control] = (
            [ft.Container(self.policy, height=None)] if ui.narrow else []
        )  # fmt: skip
        self.root = ft.Column(
            [
                label("Returns", size=TITLE, bold=True),
                label("Type the order number, pickup code, email or phone."),
                ft.Row(
                    [
                        self.find,
                        button("Find", ui.handler(self._find), icon=ft.Icons.SEARCH),
                        button(
                            "Not on this tablet",
                            ui.handler(self._without_order),
                            icon=ft.Icons.RECEIPT_LONG,
                        ),
                    ],
                    wrap=True,
                    run_spacing=8,
                ),
                self.box,
                body,
                *bottom,
            ],
            expand=True,
            spacing=12,
        )
        if ui.phone and isinstance(body, ft.Column):  # a phone: it all scrolls but the bar
            body.expand = False
            body.scroll = None
            self.root.scroll = ft.ScrollMode.AUTO
        self.root = ft.Column(
            [self.root, action_bar(self.next_btn, self.save_btn)], expand=True, spacing=0
        )
        self.focus_target = self.find
        self.render(vm.screen())

    def refresh(self) -> None:
        """A sync pass: new data, the same message (it must not vanish under the associate)."""
        self.render(keeping_message(self.vm.screen(), self.last))

    def render(self, s: ReturnsScreen) -> None:
        self.last = s
        show(self.text, self.box, s.message, s.tone)
        fill(
            self.matches,
            (s.matches, s.mode),
            lambda: (
                [
                    choice(
                        f"{m.order_id} · {m.customer} · {m.returnable} returnable"
                        + (f" · {m.sold}" if m.sold else ""),
                        self.ui.handler(lambda e, x=m.order_id: self._select(x)),
                        padding=16,
                    )
                    for m in s.matches
                ]
                if s.mode == "find"
                else []
            ),
        )
        working = s.mode in ("order", "receipt")
        self.work.visible = self.policy.visible = working
        self.focus_target = self.scan if working else self.find
        self.save_btn.visible = working
        self.next_btn.visible = s.mode != "find" or bool(s.matches)
        self.confirmation.value = s.confirmation
        self.print_btn.data = s.saved_return_id
        self.print_btn.visible = s.saved_return_id is not None
        fill(self.today, s.today, lambda: self._today(s))
        if not working:
            self.manager.visible = False
            return
        if s.mode == "order":
            self.title.value = f"{s.order_id} · {s.customer}" + (f" · {s.sold}" if s.sold else "")
        else:
            self.title.value = f"Receipt {s.receipt} · order not on this tablet"
        fill(self.lines, s.lines, lambda: [self._line(x) for x in s.lines])
        summary = s.summary
        if summary is not None:
            self.summary.value = (
                f"{summary.refund_text} · {summary.to_shelf} back on the shelf · "
                f"{summary.to_damaged} to the damaged bin"
            )
            self.breaches.value = "\n".join(summary.breaches)
            self.manager.visible = summary.needs_manager
            # not ready: grey, and a tap says why (issue #10, finding 6)
            look_ready(self.save_btn, summary.units > 0 and not summary.needs_manager)

    def _today(self, s: ReturnsScreen) -> list[ft.Control]:
        if not s.today:
            return [label("No returns today yet.", size=16)]
        return [
            label(
                f"{r.at} · {r.order_id} · {r.units} item(s) · {r.refund} · {r.state}"
                + (" · waiting to sync" if r.pending else ""),
                size=16,
            )
            for r in s.today
        ]

    def _line(self, x: ReturnsLine) -> ft.Control:
        facts = (
            f"sold {x.sold} · returned {x.already_returned} · may return {x.returnable}"
            if x.sold is not None
            else f"{x.sku} · on the receipt"
        )
        if x.final_sale:
            facts += " · final sale"
        _, qty = stepper(
            x.qty,
            self.ui.handler(lambda e: self._qty(x.key, x.qty - 1)),
            self.ui.handler(lambda e: self._qty(x.key, x.qty + 1)),
            f"return-qty-{x.key}",
        )
        choices = ft.Row(
            [
                handle(
                    f"return-reason-{x.key}",
                    _dropdown(
                        "Reason",
                        REASONS,
                        tuple(REASONS),
                        x.reason,
                        self.ui.handler(lambda e: self._reason(x.key, e)),
                        self.ui.fit(220),
                    ),
                ),
                handle(
                    f"return-condition-{x.key}",
                    _dropdown(
                        "Condition",
                        CONDITIONS,
                        tuple(CONDITIONS),
                        x.condition,
                        self.ui.handler(lambda e: self._condition(x.key, e)),
                        self.ui.fit(220),
                    ),
                ),
                handle(
                    f"return-disposition-{x.key}",
                    _dropdown(
                        "Goes to",
                        DISPOSITIONS,
                        x.dispositions,
                        x.disposition,
                        self.ui.handler(lambda e: self._disposition(x.key, e)),
                        self.ui.fit(220),
                    ),
                ),
                text_field(
                    "Note",
                    value=x.note,
                    width=self.ui.fit(300),
                    on_blur=self.ui.handler(lambda e: self._note(x.key, e), refocus=False),
                    on_submit=self.ui.handler(lambda e: self._note(x.key, e)),
                ),
            ],
            wrap=True,
            run_spacing=8,
        )
        facts_col = ft.Column(
            [label(f"{x.name} · {x.price:.2f}", bold=True), label(facts, size=16)],
            expand=not self.ui.narrow,
            spacing=2,
        )
        return ft.Container(
            ft.Column(
                [
                    ft.Column([facts_col, qty], spacing=4)
                    if self.ui.narrow
                    else ft.Row([facts_col, qty]),
                    choices if x.qty else ft.Container(),
                ],
                spacing=8,
            ),
            padding=8,
            border_radius=8,
            bgcolor=ft.Colors.BLUE_GREY_50,
        )

    # --- events: each one view-model call ---------------------------------------------------

    async def _find(self, e: Any) -> None:
        query, self.find.value = self.find.value or "", ""
        s = self.vm.find(query)
        if s.looking_up:  # not on this tablet: ask central, off the event loop
            self.render(s)
            self.ui.page.update()
            await asyncio.to_thread(self.vm.look_up)
            s = self.vm.looked_up()
        self.render(s)
        self.ui.play_after(s.tone)
        self.ui.focus_after(self.scan if s.mode == "order" else self.find)
        if s.mode == "order":  # the lines and the scan field appear in this update
            self.ui.focus_again_soon(self.scan)

    def _without_order(self, e: Any) -> None:
        receipt, self.find.value = self.find.value or "", ""
        s = self.vm.without_order(receipt)
        self.render(s)
        self.ui.focus_after(self.scan if s.mode != "find" else self.find)

    def _select(self, order_id: str) -> None:
        self.render(self.vm.select(order_id))
        self.ui.focus_after(self.scan)

    def _scan(self, e: Any) -> None:
        code = self.ui.take_scan(self.scan)
        if code:
            s = self.vm.scan(code)
            self.render(s)
            self.ui.play_after(s.tone)

    def _qty(self, key: str, qty: int) -> None:
        self.render(self.vm.set_qty(key, qty))

    def _reason(self, key: str, e: Any) -> None:
        self.render(self.vm.set_reason(key, e.control.value or ""))

    def _condition(self, key: str, e: Any) -> None:
        self.render(self.vm.set_condition(key, e.control.value or ""))

    def _disposition(self, key: str, e: Any) -> None:
        self.render(self.vm.set_disposition(key, e.control.value or ""))

    def _note(self, key: str, e: Any) -> None:
        self.render(self.vm.set_note(key, e.control.value or ""))

    def _submit(self, e: Any) -> None:
        s = self.vm.submit()
        self.render(s)
        self.ui.play_after(s.tone)

    def _approve(self, e: Any) -> None:
        s = self.vm.approve(
            self.manager_id.value or "",
            self.manager_pin.value or "",
            self.override_reason.value or "",
        )
        self.manager_pin.value = ""  # never left on screen
        if s.done:
            self.manager_id.value = self.override_reason.value = ""
        self.render(s)
        self.ui.play_after(s.tone)

    def _start(self, e: Any) -> None:
        self.render(self.vm.start())
        self.ui.focus_after(self.find)
