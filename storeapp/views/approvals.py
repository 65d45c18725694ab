"""Approvals (managers): counts over the variance threshold or disputed — approve or send
back for a blind recount; returns waiting for an override — approve with a reason; and a
stock adjustment (scan, location, signed change, reason)."""

from __future__ import annotations

from typing import Any

import flet as ft

from storeapp.viewmodels import ApprovalsScreen, ApprovalsVM
from storeapp.viewmodels.approvals import CountApproval, ReturnApproval

from .context import Ui
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
    text_field,
)

__all__ = ["ApprovalsView"]


def _box(content: ft.Control) -> ft.Container:
    return ft.Container(content, padding=12, border_radius=8, bgcolor=ft.Colors.BLUE_GREY_50)


class ApprovalsView(ScreenView):
    def __init__(self, ui: Ui, vm: ApprovalsVM) -> None:
        self.ui, self.vm = ui, vm
        self.text, self.box = message("approvals-message")
        self.counts = ft.Column(spacing=8)
        self.returns = ft.Column(spacing=8)
        self.reasons: dict[str, ft.TextField] = {}
        self.adjust_scan = text_field(
            "Scan item to adjust", width=ui.fit(360), on_submit=ui.handler(self._adjust_scan)
        )
        self.adjust_item = label("", bold=True)
        self.adjust_location = text_field("Location", width=ui.fit(180))
        self.adjust_delta = text_field("Change (units)", width=ui.fit(180))
        self.adjust_reason = text_field("Reason", width=ui.fit(360))
        self.adjust = _box(
            ft.Column(
                [
                    label("Stock adjustment", size=TEXT, bold=True),
                    ft.Row(
                        [self.adjust_scan, handle("adjust-item", self.adjust_item)],
                        wrap=True,
                        run_spacing=8,
                    ),
                    ft.Row(
                        [self.adjust_location, self.adjust_delta, self.adjust_reason],
                        wrap=True,
                        run_spacing=8,
                    ),
                    ft.Row(
                        [button("Save adjustment", ui.handler(self._adjust), icon=ft.Icons.TUNE)],
                        alignment=ft.MainAxisAlignment.END,
                    ),
                ],
                spacing=8,
            )
        )
        self.work = ft.Column(
            [
                label("Counts waiting", size=TEXT, bold=True),
                self.counts,
                label("Returns waiting", size=TEXT, bold=True),
                self.returns,
                self.adjust,
            ],
            expand=True,
            scroll=ft.ScrollMode.AUTO,
            spacing=12,
        )
        self.root = ft.Column(
            [label("Approvals", size=TITLE, bold=True), self.box, self.work],
            expand=True,
            spacing=12,
        )
        first = vm.screen()
        self.focus_target = self.adjust_scan if first.allowed else None
        self.render(first)

    def refresh(self) -> None:
        """A sync pass: new rows, the same message."""
        self.render(keeping_message(self.vm.screen(), self.last))

    def render(self, s: ApprovalsScreen) -> None:
        self.last = s
        show(self.text, self.box, s.message, s.tone)
        self.work.visible = s.allowed
        if not s.allowed:
            return
        fill(self.counts, s.counts, lambda: self._counts(s))
        fill(self.returns, s.returns, lambda: self._returns(s))
        self.adjust_item.value = (
            f"{s.adjust.name} ({s.adjust.sku})" if s.adjust.sku else "No item scanned"
        )
        if s.adjust.sku is None:  # saved or not started: an empty form
            self.adjust_location.value = s.adjust.location
            self.adjust_delta.value = s.adjust.delta_text
            self.adjust_reason.value = s.adjust.reason

    def _counts(self, s: ApprovalsScreen) -> list[ft.Control]:
        if not s.counts:
            return [label("No counts waiting.", size=16)]
        return [self._count(c) for c in s.counts]

    def _count(self, c: CountApproval) -> ft.Control:
        book = f"book {c.book} · variance {c.variance_text}" if c.book is not None else ""
        book += f" · {c.value_text}" if c.value_text and book else ""
        actions: list[ft.Control] = []
        if c.can_approve:
            actions.append(
                button(
                    "Approve",
                    self.ui.handler(lambda e: self._approve(c)),
                    icon=ft.Icons.CHECK,
                    primary=True,
                )
            )
        actions.append(
            button(
                "Send back for recount",
                self.ui.handler(lambda e: self._decide(c.count_id, False)),
                icon=ft.Icons.REPLAY,
            )
        )
        facts = [
            label(f"{c.name} at {c.location}", bold=True),
            handle(f"count-{c.count_id}", label(f"counted {c.counted} · {book}", size=16)),
            label(f"{c.why} · counted by {c.counted_by_name} at {c.at}", size=16),
        ]
        if c.own:
            facts.append(label("You counted it: another manager decides.", size=16))
        return _box(self._facts_and_actions(facts, actions))

    def _facts_and_actions(self, facts: list[ft.Control], actions: list[ft.Control]) -> ft.Control:
        """Beside each other when wide; the actions on their own line when narrow."""
        if self.ui.narrow:
            return ft.Column(
                [
                    ft.Column(facts, spacing=2),
                    ft.Row(actions, wrap=True, spacing=8, run_spacing=8),
                ],
                spacing=8,
            )
        return ft.Row([ft.Column(facts, expand=True, spacing=2), *actions])

    def _returns(self, s: ApprovalsScreen) -> list[ft.Control]:
        self.reasons = {}
        if not s.returns:
            return [label("No returns waiting.", size=16)]
        return [self._return(r) for r in s.returns]

    def _return(self, r: ReturnApproval) -> ft.Control:
        reason = text_field("Override reason", width=self.ui.fit(300))
        self.reasons[r.return_id] = reason
        facts: list[ft.Control] = [
            label(f"Return {r.order} · {r.units} item(s) · refund {r.refund_held} held", bold=True),
            label(f"{r.why} · received by {r.received_by_name} at {r.at}", size=16),
            *(label(b, size=16, color=ft.Colors.ORANGE_900) for b in r.breaches),
        ]
        return _box(
            self._facts_and_actions(
                facts,
                [
                    reason,
                    button(
                        "Approve return",
                        self.ui.handler(lambda e: self._approve_return(r.return_id)),
                        icon=ft.Icons.VERIFIED_USER,
                    ),
                ],
            )
        )

    # --- events ---------------------------------------------------------------------------

    def _approve(self, c: CountApproval) -> None:
        if not c.confirm:
            self._decide(c.count_id, True)
            return

        def answer(yes: bool) -> None:
            self.ui.close_dialog()
            if yes:
                self._decide(c.count_id, True)

        self.ui.show_dialog(
            ft.AlertDialog(
                modal=True,
                title=label("Approve this count?", size=TITLE, bold=True),
                content=handle("approve-confirm", label(c.confirm)),
                actions=[
                    button("Keep it waiting", self.ui.handler(lambda e: answer(False))),
                    button(
                        f"Approve {c.variance_text}",
                        self.ui.handler(lambda e: answer(True)),
                        primary=True,
                    ),
                ],
            )
        )

    def _decide(self, count_id: str, approve: bool) -> None:
        s = self.vm.approve_count(count_id) if approve else self.vm.recount(count_id)
        self.render(s)
        self.ui.play_after(s.tone)

    def _approve_return(self, return_id: str) -> None:
        field = self.reasons.get(return_id)
        s = self.vm.approve_return(return_id, field.value or "" if field else "")
        self.render(s)
        self.ui.play_after(s.tone)

    def _adjust_scan(self, e: Any) -> None:
        code, self.adjust_scan.value = (self.adjust_scan.value or "").strip(), ""
        self.ui.focus_after(self.adjust_scan)
        if code:
            s = self.vm.adjust_scan(code)
            self.adjust_location.value = s.adjust.location
            self.render(s)
            self.ui.play_after(s.tone)

    def _adjust(self, e: Any) -> None:
        self.vm.set_adjust_location(self.adjust_location.value or "")
        self.vm.set_adjust_delta(self.adjust_delta.value or "")
        self.vm.set_adjust_reason(self.adjust_reason.value or "")
        s = self.vm.submit_adjust()
        self.render(s)
        self.ui.play_after(s.tone)
