"""Pick list: stops in walking order, a tote per order, a scan field that keeps the keyboard.

A scan answers at once in the coloured message (never a modal); "Can't find it" asks
for a short reason; Finish stages or sends back per the view-model.
"""

from __future__ import annotations

from typing import Any

import flet as ft

from storeapp.viewmodels import PickListVM, PickScreen
from storeapp.viewmodels.rejecting import RejectScreen, RejectVM

from .context import Ui
from .pick_rows import stop_row, tote_chip
from .print_dialog import print_button
from .reject_dialog import ask_reject
from .screen import ScreenView
from .short_reason import ask_short_reason
from .widgets import (
    BIG,
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

__all__ = ["PickView"]

_BANNER = ft.Colors.ORANGE_900


class PickView(ScreenView):
    def __init__(
        self,
        ui: Ui,
        vm: PickListVM,
        order_ids: tuple[str, ...] | None,
        reject_vm: RejectVM | None = None,
    ) -> None:
        self.ui, self.vm, self.reject_vm = ui, vm, reject_vm
        self.qty = 1
        self.totes = ft.Row(wrap=True, spacing=8, run_spacing=8)
        self.banners = ft.Column(spacing=4)
        self.bar = ft.ProgressBar(value=0, bar_height=12, expand=True)
        self.count = label("", size=TEXT + 2, bold=True)
        self.here = label("", size=BIG, bold=True)
        self.item = label("", size=TITLE)
        self.need = label("", size=BIG, bold=True)
        self.splits = label("", size=TEXT)
        self.scan = text_field(
            "Scan", autofocus=True, width=ui.fit(420), on_submit=ui.handler(self._on_scan)
        )
        self.qty_text, qty_row = stepper(
            1, ui.handler(self._less), ui.handler(self._more), "scan-qty"
        )
        self.text, self.box = message("scan-message")
        self.stops = ft.ListView(spacing=6, expand=True)
        self.finish_btn = button(
            "Finish", ui.handler(self._finish), icon=ft.Icons.DONE_ALL, primary=True
        )
        self.after = ft.Row(wrap=True, spacing=8, run_spacing=8, visible=False)
        self.focus_target = self.scan
        self.print_btn = print_button(ui, None)  # the list holding its first order
        self.root = ft.Column(
            [
                ft.Row([label("Pick list", size=TITLE, bold=True), self.print_btn], wrap=True),
                self.totes,  # its own line: the chips wrap (issue #10, finding 5)
                self.banners,
                ft.Row([self.bar, handle("pick-progress", self.count)]),
                ft.Container(
                    ft.Row(
                        [
                            ft.Column(
                                [handle("pick-location", self.here), self.item],
                                expand=True,
                                spacing=0,
                            ),
                            handle("pick-need", self.need),
                        ]
                    ),
                    padding=12,
                    border_radius=8,
                    bgcolor=ft.Colors.BLUE_50,
                ),
                self.splits,
                ft.Row([self.scan, qty_row], wrap=True, run_spacing=8),
                self.box,
                self.stops,
                self.after,
            ],
            expand=True,
            spacing=10,
        )
        if ui.phone:  # everything above scrolls; the stops do not take the height
            self.stops.expand = False
            self.root.scroll = ft.ScrollMode.AUTO
        self.root = ft.Column(
            [
                self.root,
                action_bar(
                    button("Unscan", ui.handler(self._unscan), icon=ft.Icons.UNDO),
                    button("Can't find it", ui.handler(self._ask_reason), icon=ft.Icons.SEARCH_OFF),
                    button("Reject", ui.handler(self._ask_reject), icon=ft.Icons.BLOCK),
                    self.finish_btn,
                ),
            ],
            expand=True,
            spacing=0,
        )
        self.last: PickScreen = vm.open(order_ids) if order_ids else vm.screen()
        self.render(self.last)

    # --- rendering -----------------------------------------------------------------------

    def refresh(self) -> None:
        self.render(keeping_message(self.vm.screen(), self.last))

    def render(self, s: PickScreen) -> None:
        self.last = s
        self.print_btn.data = s.totes[0].order_id if s.totes else None
        self.print_btn.visible = bool(s.totes)
        fill(self.totes, s.totes, lambda: [tote_chip(t) for t in s.totes])
        fill(
            self.banners, s.banners, lambda: [label(b, color=_BANNER, bold=True) for b in s.banners]
        )
        self.bar.value = s.progress
        self.count.value = f"{s.done_units} of {s.total_units} done"
        stop = s.stops[s.selected_index] if s.selected_index is not None else None
        self.here.value = stop.location if stop else "—"
        self.item.value = stop.name if stop else "Nothing left to pick"
        self.need.value = f"{stop.picked}/{stop.qty}" if stop else ""
        self.splits.value = (
            "  ".join(
                f"{x.qty} into {x.tote}" + (f" ({x.picked} in)" if x.picked else "")
                for x in stop.splits
            )
            if stop
            else ""
        )
        self.qty_text.value = str(self.qty)
        show(self.text, self.box, s.message, s.tone)
        fill(
            self.stops,
            (s.stops, s.selected_index),
            lambda: [
                stop_row(x, i == s.selected_index, self._on_stop(i)) for i, x in enumerate(s.stops)
            ],
        )
        self.finish_btn.visible = not s.finished  # then "Stage …" / "Back to queue" instead
        self.after.visible = s.finished
        fill(self.after, s.to_stage, lambda: self._after(s.to_stage))

    def _after(self, to_stage: tuple[str, ...]) -> list[ft.Control]:
        stage = [
            button(
                f"Stage {oid}",
                self.ui.handler(lambda e, o=oid: self.ui.go("staging", order_id=o)),
                icon=ft.Icons.INVENTORY,
                primary=True,
            )
            for oid in to_stage
        ]
        return [*stage, button("Back to queue", self.ui.handler(lambda e: self.ui.go("pick")))]

    # --- events: each one view-model call ----------------------------------------------------

    def _on_scan(self, e: Any) -> None:
        code = self.ui.take_scan(self.scan)
        if not code:
            return
        qty, self.qty = self.qty, 1
        self.render(self.vm.scan(code, qty))
        # Counted (even with a warning): the short tone; wrong, over or unreadable: the other.
        self.ui.play_after("error" if self.last.tone == "error" else "ok")

    def _on_stop(self, index: int) -> Any:
        return self.ui.handler(lambda e: self._select(index))

    def _select(self, index: int) -> None:
        self.render(self.vm.select(index))
        self.ui.focus_after(self.scan)

    def _less(self, e: Any) -> None:
        self.qty = max(1, self.qty - 1)
        self.qty_text.value = str(self.qty)
        self.ui.focus_after(self.scan)

    def _more(self, e: Any) -> None:
        self.qty += 1
        self.qty_text.value = str(self.qty)
        self.ui.focus_after(self.scan)

    def _unscan(self, e: Any) -> None:
        qty, self.qty = self.qty, 1
        self.render(self.vm.unscan(qty))
        self.ui.focus_after(self.scan)

    def _ask_reason(self, e: Any) -> None:
        s = self.last
        stop = s.stops[s.selected_index] if s.selected_index is not None else None
        if stop is None:
            show(self.text, self.box, "Nothing left to mark short.", "warning")
            return
        ask_short_reason(
            self.ui, stop, self._short, on_cancel=lambda: self.ui.focus_after(self.scan)
        )

    def _ask_reject(self, e: Any) -> None:
        s = self.last
        stop = s.stops[s.selected_index] if s.selected_index is not None else None
        if stop is None or self.reject_vm is None:
            show(self.text, self.box, "Nothing left to reject.", "warning")
            return
        ask_reject(self.ui, self.reject_vm, stop, self._rejected)

    def _rejected(self, done: RejectScreen | None) -> None:
        self.render(self.vm.screen(done.message, done.tone) if done else self.vm.screen())
        self.ui.focus_after(self.scan)

    def _short(self, reason: str) -> None:
        self.render(self.vm.short(reason))
        self.ui.focus_after(self.scan)

    def _finish(self, e: Any) -> None:
        self.render(self.vm.finish())
