"""Pick queue: orders by priority then due; claim one, or select several → one pick list.

Managers (the Queue tab) see every open order with its assignee and can release a claim
or raise its priority.
"""

from __future__ import annotations

from typing import Any

import flet as ft

from storeapp.viewmodels import QueueScreen, QueueVM
from storeapp.viewmodels.queue import QueueRow

from .context import Ui
from .screen import ScreenView
from .widgets import (
    TEXT,
    TITLE,
    action_bar,
    button,
    fill,
    keeping_message,
    label,
    look_ready,
    message,
    right,
    show,
)

__all__ = ["QueueView"]

_FILTERS = [(None, "All"), ("ship_from_store", "Ship"), ("pickup", "Pickup")]
_TYPE = {"ship_from_store": "Ship", "pickup": "Pickup"}


class QueueView(ScreenView):
    def __init__(self, ui: Ui, vm: QueueVM, *, manager: bool) -> None:
        self.ui, self.vm, self.manager = ui, vm, manager
        self.associates: tuple[tuple[str, str], ...] = ()
        self.summary = label("", size=TEXT)
        self.text, self.box = message("queue-message")
        self.filters = ft.Row(spacing=8, wrap=True)
        self.rows = ft.ListView(spacing=8, expand=True)
        self.sort_btn = button("Sort again", ui.handler(self._resort), icon=ft.Icons.SORT)
        self.pick_selected = button(
            "Pick selected",
            ui.handler(self._pick_selected),
            icon=ft.Icons.PLAYLIST_ADD_CHECK,
            primary=True,
        )
        self.root = ft.Column(
            [
                ft.Row(
                    [
                        label("Queue" if manager else "Pick queue", size=TITLE, bold=True),
                        self.filters,
                    ],
                    wrap=True,
                    alignment=ft.MainAxisAlignment.SPACE_BETWEEN,
                ),
                self.summary,
                self.box,
                self.rows,
                action_bar(self.sort_btn, self.pick_selected),
            ],
            expand=True,
        )
        self.last: QueueScreen | None = None
        self.render(vm.resort())

    def refresh(self) -> None:
        self.render(keeping_message(self.vm.screen(), self.last))

    def render(self, s: QueueScreen) -> None:
        if s.pick_list:  # claimed: the pick list opens on those orders
            self.ui.go("picklist", order_ids=s.pick_list)
            return
        self.last = s
        show(self.text, self.box, s.message, s.tone)
        self.associates = s.associates
        self.summary.value = (
            f"{len(s.rows)} orders · {s.late} late · {s.at_risk} at risk"
            f" · selected {len(s.selected)} of max {s.max_selection}"
        )
        fill(
            self.filters,
            s.type_filter,
            lambda: [
                ft.Chip(
                    label=label(words),
                    selected=s.type_filter == key,
                    height=48,
                    on_select=self.ui.handler(lambda e, k=key: self._filter(k)),
                )
                for key, words in _FILTERS
            ],
        )
        self.pick_selected.content = f"Pick selected ({len(s.selected)})"
        look_ready(self.pick_selected, bool(s.selected))  # a tap says what to do first
        self.sort_btn.visible = s.unsorted
        fill(
            self.rows,
            s.rows,
            lambda: [self._row(r) for r in s.rows] or [label("No orders to pick.", size=TEXT)],
        )

    def _assign(self, r: QueueRow) -> ft.Control:
        """A manager hands the order to an associate (order.assign)."""
        return ft.Semantics(
            identifier=f"assign-{r.order_id}",
            content=ft.Dropdown(
                label="Assign to",
                width=200,
                value=r.assignee,
                options=[ft.DropdownOption(key=k, text=name) for k, name in self.associates],
                on_select=self.ui.handler(
                    lambda e, x=r.order_id: self.render(self.vm.assign(x, e.control.value))
                ),
            ),
        )

    def _row(self, r: QueueRow) -> ft.Control:
        mark = "LATE" if r.late else ("AT RISK" if r.at_risk else "")
        color = ft.Colors.RED_800 if r.late else ft.Colors.ORANGE_900
        who = f" · {r.assignee_name or r.assignee}" if r.assignee else ""
        actions: list[ft.Control] = []
        if self.manager:
            if r.assignee:
                actions.append(
                    button(
                        "Release",
                        self.ui.handler(lambda e, x=r.order_id: self.render(self.vm.release(x))),
                    )
                )
            actions.append(self._assign(r))
            actions.append(
                button(
                    "Priority +1",
                    self.ui.handler(
                        lambda e, x=r.order_id, p=r.priority: self.render(
                            self.vm.prioritize(x, p + 1)
                        )
                    ),
                )
            )
        if r.state == "released" or r.mine:
            actions.append(
                button(
                    "Continue" if r.mine else "Claim",
                    self.ui.handler(lambda e, x=r.order_id: self.render(self.vm.claim(x))),
                    primary=True,
                )
            )
        when: list[ft.Control] = [
            label(r.time_left, bold=True),
            label(mark, size=16, color=color, bold=True, visible=bool(mark)),
        ]
        facts = ft.Row(
            [
                ft.Checkbox(
                    value=r.selected,
                    scale=1.4,
                    semantics_label=f"Select {r.order_id}",
                    on_change=self.ui.handler(
                        lambda e, x=r.order_id: self.render(self.vm.toggle(x))
                    ),
                ),
                ft.Column(
                    [
                        label(
                            f"{r.order_id} · {_TYPE.get(r.type, r.type)} · {r.customer}",
                            bold=True,
                        ),
                        label(
                            f"{r.lines} lines · {r.units} units · priority {r.priority}"
                            f" · {r.state}{who}",
                            size=16,
                        ),
                        *when[: 2 if self.ui.phone else 0],
                    ],
                    expand=True,
                    spacing=2,
                ),
                *(
                    []
                    if self.ui.phone  # a phone: the time under the words, not beside them
                    else [
                        ft.Column(when, spacing=2, horizontal_alignment=ft.CrossAxisAlignment.END)
                    ]
                ),
            ],
            vertical_alignment=ft.CrossAxisAlignment.CENTER,
        )
        # A manager's row, or any row on a narrow screen: the actions on a line of their own
        # (they wrap), so the order's words keep the row's width (issue #10, finding 1).
        stacked = self.manager or self.ui.narrow
        body: ft.Control = (
            ft.Column(
                [
                    facts,
                    right(ft.Row(actions, wrap=True, spacing=8, run_spacing=8)),
                ],
                spacing=8,
            )
            if stacked
            else ft.Row([ft.Container(facts, expand=True), *actions])
        )  # fmt: skip
        return ft.Container(
            body,
            padding=12,
            border_radius=8,
            bgcolor=ft.Colors.RED_50
            if r.late
            else (ft.Colors.ORANGE_50 if r.at_risk else ft.Colors.BLUE_GREY_50),
        )

    def _filter(self, key: str | None) -> None:
        self.render(self.vm.show(key))

    def _resort(self, e: Any) -> None:
        self.render(self.vm.resort())

    def _pick_selected(self, e: Any) -> None:
        self.render(self.vm.pick_selected())
