"""Count plans (managers; issue #12): a new plan's form, every plan's progress, the count
tasks in no plan, and the counts CSV download. Thin over `PlansVM`."""

from __future__ import annotations

from typing import Any

import flet as ft

from fulfillment.plans import PlanBy
from storeapp.viewmodels.plans import BY_WORDS, PlanRow, PlansScreen, PlansVM

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

__all__ = ["PlansView"]

# the fields each way of choosing shows (name, due and assignees always)
_SHOWN: dict[PlanBy, tuple[str, ...]] = {
    PlanBy.LOCATION_RANGE: ("location_from", "location_to"),
    PlanBy.CATEGORY: ("category",),
    PlanBy.ABC: ("abc_class", "days"),
    PlanBy.DOUBTFUL: (),
    PlanBy.LIST: ("listed",),
}
_LABELS = {
    "name": "Plan name",
    "location_from": "From aisle/bay",
    "location_to": "To aisle/bay",
    "category": "Category",
    "abc_class": "ABC class (A, B or C)",
    "days": "Sales of the last N days",
    "listed": "SKUs or places",
    "due": "Due (YYYY-MM-DD HH:MM)",
    "assignees": "Assignees (employee ids)",
}


class PlansView(ScreenView):
    def __init__(self, ui: Ui, vm: PlansVM) -> None:
        self.ui, self.vm = ui, vm
        self.text, self.box = message("plans-message")
        self.fields: dict[str, ft.TextField] = {
            name: text_field(words, on_change=self._typed(name)) for name, words in _LABELS.items()
        }
        self.by_row = ft.Row(wrap=True, spacing=8)
        self.download = ft.Button("Download counts (CSV)", icon=ft.Icons.DOWNLOAD, height=56)
        self.download_handle = handle("counts-csv", self.download)
        self.rows = ft.Column(spacing=8)
        self.unplanned = ft.Column(spacing=4)
        self.form = ft.Column(
            [
                self.by_row,
                *self.fields.values(),
                button("Create plan", ui.handler(self._create), icon=ft.Icons.ADD, primary=True),
            ],
            spacing=8,
        )
        self.focus_target = None  # no scan field here: a tap leaves the keyboard alone
        self.last: PlansScreen | None = None
        self.root = ft.ListView(
            [
                label("Count plans", size=TITLE, bold=True),
                self.box,
                self.form,
                self.download_handle,
                label("Plans", size=TEXT + 2, bold=True),
                self.rows,
                label("Count tasks in no plan", size=TEXT + 2, bold=True),
                self.unplanned,
            ],
            spacing=12,
            expand=True,
        )
        self.refresh()

    def _typed(self, name: str) -> Any:
        # a field's own typing keeps the keyboard where it is (the app's focus rule)
        return self.ui.handler(lambda e: self.vm.set(name, e.control.value or ""), refocus=False)

    def refresh(self) -> None:
        self.render(keeping_message(self.vm.screen(), self.last))

    def render(self, s: PlansScreen) -> None:
        self.last = s
        show(self.text, self.box, s.message, s.tone)
        self.form.visible = s.allowed
        shown = {"name", "due", "assignees", *_SHOWN[s.form.by]}
        for name, field in self.fields.items():
            field.visible = name in shown
            value = str(getattr(s.form, name))
            if field.value != value:
                field.value = value
        fill(self.by_row, s.form.by, lambda: self._choices(s.form.by))
        url = self.vm.csv_url() if s.allowed else None
        self.download_handle.visible = url is not None
        self.download.url = ft.Url(url, target=ft.UrlTarget.BLANK) if url else None
        fill(self.rows, s.plans, lambda: self._plans(s))
        fill(self.unplanned, s.unplanned, lambda: self._unplanned(s))

    def _choices(self, chosen: PlanBy) -> list[ft.Control]:
        return [
            handle(
                f"plan-by-{by.value}",
                button(
                    words,
                    self.ui.handler(lambda e, b=by: self.render(self.vm.choose(b))),
                    primary=by is chosen,
                ),
            )
            for by, words in BY_WORDS.items()
        ]

    def _plans(self, s: PlansScreen) -> list[ft.Control]:
        if not s.plans:
            return [label("No count plans yet.", size=16)]
        return [self._plan(p) for p in s.plans]

    def _plan(self, p: PlanRow) -> ft.Control:
        tone = ft.Colors.RED_900 if p.overdue else (ft.Colors.GREEN_900 if p.done else None)
        progress = p.progress + (" · overdue" if p.overdue else "")
        facts: list[ft.Control] = [
            label(p.name, bold=True),
            label(f"{p.scope} · due {p.due} · {p.assignees}", size=16),
            handle(f"plan-progress-{p.plan_id}", label(progress, size=16, bold=True, color=tone)),
        ]
        if p.message:
            facts.append(label(p.message, size=14, color=ft.Colors.BLUE_GREY_700))
        if p.left and p.state == "open":
            more = f" and {len(p.left) - 6} more" if len(p.left) > 6 else ""
            facts.append(label("Not counted yet: " + ", ".join(p.left[:6]) + more, size=14))
        return ft.Container(
            ft.Column(facts, spacing=2),
            padding=12,
            border_radius=8,
            bgcolor=ft.Colors.BLUE_GREY_50,
        )

    def _unplanned(self, s: PlansScreen) -> list[ft.Control]:
        if not s.unplanned:
            return [label("None.", size=16)]
        return [label(line, size=16) for line in s.unplanned]

    def _create(self, e: object) -> None:
        s = self.vm.create()
        self.render(s)
        self.ui.play_after(s.tone)
