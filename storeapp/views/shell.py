"""The signed-in frame: navigation rail, the sync chip (always on screen), one screen."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import flet as ft

from storeapp.local import LocalStore
from storeapp.viewmodels import (
    ApprovalsVM,
    CountVM,
    HandoverVM,
    HomeVM,
    PickListVM,
    QueueVM,
    ReturnsVM,
    SessionVM,
    StagingVM,
    SyncStatusVM,
    TasksVM,
)
from storeapp.viewmodels.console import DevicesVM, ExceptionsVM, KpisVM
from sync.client import CentralClient
from sync.engine import SyncReport
from sync.errors import NotEnrolled
from sync.protocol import DeviceHealth
from sync.replica import Identity

from .approvals import ApprovalsView
from .console import DevicesView, ExceptionsView, KpisView
from .context import Ui
from .counting import CountView
from .handover import HandoverView
from .home import HomeView
from .pick import PickView
from .queue import QueueView
from .returns import ReturnsView
from .staging import StagingView
from .sync import SyncView
from .tasks import TasksView
from .widgets import TEXT, TONE_BG, TONE_FG, handle, label

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
_MANAGER_RAIL = [
    ("queue", "Queue", ft.Icons.VIEW_LIST),
    ("approvals", "Approvals", ft.Icons.FACT_CHECK),
    ("exceptions", "Exceptions", ft.Icons.REPORT_PROBLEM),
    ("devices", "Devices", ft.Icons.TABLET_ANDROID),
    ("kpis", "KPIs", ft.Icons.INSIGHTS),
]


class Shell:
    def __init__(
        self,
        ui: Ui,
        store: LocalStore,
        session: SessionVM,
        sync: SyncStatusVM,
        sync_now: Callable[[], None],
        *,
        on_signed_out: Callable[[str], None],
    ) -> None:
        self.ui, self.session, self.sync, self.on_signed_out = ui, session, sync, on_signed_out
        self._sync_now = sync_now
        kw: dict[str, Any] = {"on_change": self._changed}
        self.home = HomeVM(store, session)
        self.queue = QueueVM(store, session, **kw)
        self.pick = PickListVM(store, session, **kw)
        self.staging = StagingVM(store, session, **kw)
        self.handover = HandoverVM(store, session, **kw)
        self.returns = ReturnsVM(store, session, **kw)
        self.tasks = TasksVM(store, session, **kw)
        self.counting = CountVM(store, session, **kw)
        self.approvals = ApprovalsVM(store, session, **kw)
        self.exceptions = ExceptionsVM(store, session, **kw)
        self.kpis = KpisVM(store, session)
        self.devices = DevicesVM(
            session, _devices_of(store.identity()), timezone=lambda: _timezone(store)
        )
        who = session.associate
        rail = _RAIL + (_MANAGER_RAIL if who and who.is_manager else [])
        self.rail_names = [n for n, _, _ in rail]
        self.destinations = {
            name: ft.NavigationRailDestination(icon=icon, label=text) for name, text, icon in rail
        }
        self.rail = ft.NavigationRail(
            destinations=list(self.destinations.values()),
            selected_index=0,
            label_type=ft.NavigationRailLabelType.ALL,
            min_width=96,
            on_change=ui.handler(self._on_rail),
        )
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
                ft.Container(expand=True),
                handle("associate", label(who.name if who else "", bold=True)),
                ft.TextButton(
                    "Switch associate",
                    icon=ft.Icons.SWITCH_ACCOUNT,
                    height=48,
                    on_click=ui.handler(self._sign_out),
                ),
            ],
            vertical_alignment=ft.CrossAxisAlignment.CENTER,
        )
        self.content = ft.Container(expand=True)
        self.view: Any = None
        self.name = ""
        self.root = ft.Row(
            [
                self.rail,
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

    # --- navigation --------------------------------------------------------------------

    def _on_rail(self, e: Any) -> None:
        index = self.rail.selected_index or 0
        self.go(self.rail_names[index])

    def go(self, name: str, **kw: Any) -> None:
        self.view = self._make(name, **kw)
        self.name = name
        self.content.content = ft.Container(self.view.root, padding=16, expand=True)
        rail_name = "pick" if name == "picklist" else name
        self.rail.selected_index = (
            self.rail_names.index(rail_name) if rail_name in self.rail_names else None
        )
        self.refresh_chip()
        target = getattr(self.view, "focus_target", None)
        if target is not None:
            self.ui.focus_after(target)

    def _make(self, name: str, **kw: Any) -> Any:
        ui = self.ui
        match name:
            case "home":
                return HomeView(ui, self.home)
            case "pick":
                current = self.pick.screen()
                if current.order_ids and current.stops and not current.finished:
                    return PickView(ui, self.pick, None)
                return QueueView(ui, self.queue, manager=False)
            case "picklist":
                return PickView(ui, self.pick, kw.get("order_ids"))
            case "queue":
                return QueueView(ui, self.queue, manager=True)
            case "staging":
                return StagingView(ui, self.staging, kw.get("order_id"))
            case "handover":
                return HandoverView(ui, self.handover)
            case "returns":
                return ReturnsView(ui, self.returns)
            case "tasks":
                return TasksView(ui, self.tasks)
            case "count":
                return CountView(ui, self.counting, kw.get("task_id"))
            case "approvals":
                return ApprovalsView(ui, self.approvals)
            case "exceptions":
                return ExceptionsView(ui, self.exceptions)
            case "devices":
                return DevicesView(ui, self.devices)
            case "kpis":
                return KpisView(ui, self.kpis)
            case "sync":
                return SyncView(ui, self.sync)
        raise ValueError(f"no screen named {name!r}")

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
        if approvals is not None:
            waiting = self.approvals.waiting()
            approvals.label = f"Approvals · {waiting}" if waiting else "Approvals"

    def _changed(self) -> None:
        """An action was queued: wake the sync engine; the rail's numbers move at once."""
        self._sync_now()
        self.refresh_rail()

    def refresh(self) -> None:
        self.refresh_chip()
        refresh = getattr(self.view, "refresh", None)
        if refresh is not None:
            refresh()

    def on_sync(self, event: SyncEvent) -> None:
        self.refresh_chip()
        if isinstance(event, SyncReport):
            refresh = getattr(self.view, "refresh", None)
            if refresh is not None:
                refresh()


def _devices_of(identity: Identity | None) -> Callable[[], list[DeviceHealth]]:
    """The device list from central, with this tablet's token (read once, on this thread:
    the call itself runs on a worker thread, where the tablet's SQLite connection may not go)."""

    def fetch() -> list[DeviceHealth]:
        if identity is None:
            raise NotEnrolled("This tablet is not enrolled")
        with CentralClient(identity.server_url, identity.token) as client:
            return client.devices()

    return fetch


def _timezone(store: LocalStore) -> str:
    info = store.store_info() or {}
    return str(info.get("timezone") or "UTC")
