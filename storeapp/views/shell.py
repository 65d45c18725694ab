"""The signed-in frame: navigation rail, the sync chip (always on screen), one screen.

Layout (issue #10): the rail keeps every entry; on a phone-sized page it narrows to its
icons with only the chosen entry's label. The top bar (sync chip, associate, "Switch
associate") wraps onto two lines instead of leaving the screen. A resize that crosses a
breakpoint (`Ui.phone`, `Ui.narrow`) builds the screen again for the new width."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import flet as ft

from storeapp.viewmodels.tab import TabSession

from .approvals import ApprovalsView
from .console import DevicesView, ExceptionsView, KpisView
from .context import Ui
from .counting import CountView
from .handover import HandoverView
from .home import HomeView
from .lookup import LookupView
from .pick import PickView
from .plans import PlansView
from .queue import QueueView
from .receiving import ReceivingView
from .rejections import RejectionsView
from .returns import ReturnsView
from .screen import Screen, ScreenView
from .staging import StagingView
from .sync import SyncView
from .tasks import TasksView
from .widgets import FIELD_LABEL, TEXT, TONE_BG, TONE_FG, handle, label

if TYPE_CHECKING:
    from storeapp.app import SyncEvent

__all__ = ["Shell"]

_RAIL = [
    ("home", "Home", ft.Icons.HOME),
    ("pick", "Pick", ft.Icons.SHOPPING_BASKET),
    ("handover", "Hand-over", ft.Icons.HANDSHAKE),
    ("returns", "Returns", ft.Icons.ASSIGNMENT_RETURN),
    ("count", "Count", ft.Icons.NUMBERS),
    ("tasks", "Tasks", ft.Icons.CHECKLIST),
    ("sync", "Sync", ft.Icons.SYNC),
]
RAIL_ENTRY = 72  # the height of one rail entry (icon and label), px

_MANAGER_RAIL = [
    ("queue", "Queue", ft.Icons.VIEW_LIST),
    ("approvals", "Approvals", ft.Icons.FACT_CHECK),
    ("exceptions", "Exceptions", ft.Icons.REPORT_PROBLEM),
    ("devices", "Devices", ft.Icons.TABLET_ANDROID),
    ("kpis", "KPIs", ft.Icons.INSIGHTS),
    ("rejections", "Rejections", ft.Icons.BLOCK),
    # issue #11, last so the rail's earlier places stay where they were; every role sees it
    ("lookup", "Stock", ft.Icons.MANAGE_SEARCH),
    ("plans", "Count plans", ft.Icons.EVENT_NOTE),
]
_LATER_RAIL = [("receiving", "Receiving", ft.Icons.LOCAL_SHIPPING)]  # last: rail indexes stay


class Shell(ScreenView):
    """The signed-in frame over one `TabSession`: it asks the tab for each screen's
    view-model and shows the screen's view; the tab decides which screens this associate
    may open and what the Pick tab shows."""

    def __init__(self, ui: Ui, tab: TabSession, *, on_signed_out: Callable[[str], None]) -> None:
        self.ui, self.tab, self.on_signed_out = ui, tab, on_signed_out
        self.session, self.sync = tab.session, tab.sync
        tab.open_screens(on_change=self._changed)
        who = tab.session.associate
        rail = [entry for entry in _RAIL + _MANAGER_RAIL + _LATER_RAIL if tab.may_open(entry[0])]
        self.rail_names = [n for n, _, _ in rail]
        self.destinations = {
            name: ft.NavigationRailDestination(icon=icon, label=text) for name, text, icon in rail
        }
        self.rail = ft.NavigationRail(
            destinations=list(self.destinations.values()),
            selected_index=0,
            label_type=ft.NavigationRailLabelType.ALL,
            min_width=96,
            selected_label_text_style=ft.TextStyle(size=FIELD_LABEL, weight=ft.FontWeight.BOLD),
            unselected_label_text_style=ft.TextStyle(size=FIELD_LABEL),
            on_change=ui.handler(self._on_rail),
        )
        ui.scan_field = lambda: self.view.focus_target if self.view is not None else None
        self.layout = self._layout_class()
        self.chip_text = label("", size=TEXT)
        self.chip = ft.Chip(
            label=self.chip_text,
            leading=ft.Icon(ft.Icons.CLOUD_SYNC),
            on_click=ui.handler(lambda e: self.go("sync")),
            height=48,
        )
        top = ft.Row(
            [
                handle("sync-chip", self.chip),
                ft.Row(
                    [
                        handle("associate", label(who.name if who else "", bold=True)),
                        ft.TextButton(
                            "Switch associate",
                            icon=ft.Icons.SWITCH_ACCOUNT,
                            height=48,
                            style=ft.ButtonStyle(text_style=ft.TextStyle(size=FIELD_LABEL)),
                            on_click=ui.handler(self._sign_out),
                        ),
                    ],
                    spacing=4,
                    tight=True,
                    vertical_alignment=ft.CrossAxisAlignment.CENTER,
                ),
            ],
            wrap=True,
            spacing=8,
            run_spacing=4,
            alignment=ft.MainAxisAlignment.SPACE_BETWEEN,
            vertical_alignment=ft.CrossAxisAlignment.CENTER,
        )
        self.content = ft.Container(expand=True)
        self._apply_layout()
        self.view: Screen | None = None
        self.name = ""
        # a manager's rail has more entries than a landscape tablet is tall: the rail is as
        # tall as its entries and scrolls in its column (Flutter's rail does not scroll)
        self.rail.height = RAIL_ENTRY * len(rail) + 16
        self.root = ft.Row(
            [
                ft.Column([self.rail], scroll=ft.ScrollMode.AUTO, spacing=0),
                ft.VerticalDivider(width=1),
                ft.Column(
                    [
                        ft.Container(top, padding=ft.Padding.symmetric(vertical=8, horizontal=16)),
                        self.content,
                    ],
                    expand=True,
                    spacing=0,
                ),
            ],
            expand=True,
            spacing=0,
        )
        self.refresh_chip()

    # --- layout ------------------------------------------------------------------------

    def _layout_class(self) -> tuple[bool, bool]:
        return (self.ui.phone, self.ui.narrow)

    def _apply_layout(self) -> None:
        phone = self.ui.phone
        # every label stays (a rail showing only the chosen one lost the taps on the others
        # in Chromium at 390 px: the entry lit up, the screen stayed); smaller on a phone
        size = 14 if phone else FIELD_LABEL
        self.rail.selected_label_text_style = ft.TextStyle(size=size, weight=ft.FontWeight.BOLD)
        self.rail.unselected_label_text_style = ft.TextStyle(size=size)
        self.rail.min_width = 80 if phone else 96
        self.rail.group_alignment = -1.0

    def resized(self) -> None:
        """The page changed size: past a breakpoint, the screen is built for the new width."""
        layout = self._layout_class()
        if layout == self.layout:
            return
        self.layout = layout
        self._apply_layout()
        if self.name:
            self.go(self.name)

    # --- navigation --------------------------------------------------------------------

    def _on_rail(self, e: Any) -> None:
        index = self.rail.selected_index or 0
        self.go(self.rail_names[index])

    def go(self, name: str, **kw: Any) -> None:
        view = self.view = self._make(name, **kw)
        self.name = name
        pad = 8 if self.ui.phone else 16
        self.content.content = ft.Container(view.root, padding=pad, expand=True)
        rail_name = "pick" if name == "picklist" else name
        self.rail.selected_index = (
            self.rail_names.index(rail_name) if rail_name in self.rail_names else None
        )
        self.refresh_chip()
        if view.focus_target is not None:
            self.ui.focus_after(view.focus_target)

    def _make(self, name: str, **kw: Any) -> Screen:
        ui, tab = self.ui, self.tab
        match tab.resolve(name):
            case "home":
                return HomeView(ui, tab.vm("home"))
            case "pick":
                return QueueView(ui, tab.vm("pick"), manager=False)
            case "picklist":
                return PickView(ui, tab.vm("picklist"), kw.get("order_ids"), tab.vm("reject"))
            case "queue":
                return QueueView(ui, tab.vm("queue"), manager=True)
            case "staging":
                return StagingView(ui, tab.vm("staging"), kw.get("order_id"))
            case "handover":
                return HandoverView(ui, tab.vm("handover"), kw.get("query"))
            case "returns":
                return ReturnsView(ui, tab.vm("returns"))
            case "tasks":
                return TasksView(ui, tab.vm("tasks"))
            case "count":
                return CountView(ui, tab.vm("count"), kw.get("task_id"))
            case "receiving":
                return ReceivingView(ui, tab.vm("receiving"))
            case "approvals":
                return ApprovalsView(ui, tab.vm("approvals"))
            case "exceptions":
                return ExceptionsView(ui, tab.vm("exceptions"))
            case "devices":
                return DevicesView(ui, tab.vm("devices"))
            case "kpis":
                return KpisView(ui, tab.vm("kpis"))
            case "sync":
                return SyncView(ui, tab.vm("sync"))
            case "lookup":
                return LookupView(ui, tab.vm("lookup"))
            case "rejections":
                return RejectionsView(ui, tab.vm("rejections"))
            case "reject":  # a dialog of the pick list, not a screen of its own
                return HomeView(ui, tab.vm("home"))
            case "plans":
                return PlansView(ui, tab.vm("plans"))

    def _sign_out(self, e: Any) -> None:
        self.on_signed_out(self.session.sign_out().message)

    # --- sync ---------------------------------------------------------------------------

    def refresh_chip(self) -> None:
        chip = self.sync.chip()
        self.chip_text.value = chip.text
        self.chip_text.color = TONE_FG[chip.tone]
        self.chip.bgcolor = TONE_BG[chip.tone]
        self.refresh_rail()

    def refresh_rail(self) -> None:
        """The number of decisions waiting, on the managers' Approvals entry."""
        approvals = self.destinations.get("approvals")
        if approvals is not None and self.tab.may_open("approvals"):
            waiting = self.tab.vm("approvals").waiting()
            approvals.label = f"Approvals · {waiting}" if waiting else "Approvals"

    def _changed(self) -> None:
        """An action was queued: wake the sync engine; the rail's numbers move at once."""
        self.tab.sync_now()
        self.refresh_rail()

    def refresh(self) -> None:
        self.refresh_chip()
        if self.view is not None:
            self.view.refresh()

    def on_sync(self, event: SyncEvent) -> None:
        self.refresh_chip()
        if self.view is not None:
            self.view.on_sync(event)
