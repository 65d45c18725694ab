"""One browser tab (a hub serves several): its tablet file, who holds it, and its screens.

    tab = TabSession(db_path, sync_now=scheduler.sync_now)   # opens the file, screen=True
    tab.session.sign_in("E1", "1234")
    tab.open_screens(on_change=...)      # a new sign-in: the screens start from nothing
    tab.vm("count")                      # CountVM, built once per sign-in
    tab.vm("approvals")                  # ManagersOnly for an associate
    tab.close()                          # closes the file

Plain Python (no Flet): the views ask it for view-models, tests drive it without a page.
The store is opened on the thread that builds the tab (the event loop's) and used only
there; `DevicesVM` reads the tablet's identity here, on that thread, because its fetch
runs on a worker thread where the SQLite connection may not go.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from types import TracebackType
from typing import Literal, TypeAlias, cast, overload

from storeapp.local import LocalStore
from sync.client import CentralClient
from sync.errors import NotEnrolled
from sync.protocol import Change, DeviceHealth, StockLookup
from sync.replica import Identity

from .approvals import ApprovalsVM
from .console import DevicesVM, ExceptionsVM, KpisVM
from .counting import CountVM
from .handover import HandoverVM
from .home import HomeVM
from .lookup import LookupVM
from .picking import PickListVM
from .plans import PlansVM
from .queue import QueueVM
from .receiving import ReceivingVM
from .rejecting import RejectionsVM, RejectVM
from .returns import LookUp, ReturnsVM
from .screen import Clock, OnChange, nothing, utc_now
from .session import IDLE_AFTER, SessionVM
from .staging import StagingVM
from .sync_status import SyncStatusVM
from .tasks import TasksVM

__all__ = [
    "MANAGER_SCREENS",
    "SCREENS",
    "ManagersOnly",
    "ScreenName",
    "ScreenVM",
    "TabSession",
    "UnknownScreen",
]

ScreenName = Literal[
    "home",
    "pick",  # the Pick tab: the associate's pick queue, or the pick list in progress
    "picklist",
    "queue",  # the manager's Queue: every open order (the same QueueVM as the Pick tab's)
    "staging",
    "handover",
    "returns",
    "tasks",
    "count",
    "receiving",
    "approvals",
    "exceptions",
    "devices",
    "kpis",
    "sync",
    "lookup",  # issue #11: stock lookup, every associate
    "rejections",  # issue #11: the manager's history of rejections
    "reject",  # the reject dialog's view-model (opened from the pick list)
    "plans",  # count plans (issue #12)
]
SCREENS: tuple[ScreenName, ...] = (
    "home",
    "pick",
    "picklist",
    "queue",
    "staging",
    "handover",
    "returns",
    "tasks",
    "count",
    "receiving",
    "approvals",
    "exceptions",
    "devices",
    "kpis",
    "sync",
    "lookup",
    "rejections",
    "reject",
    "plans",
)
MANAGER_SCREENS: frozenset[ScreenName] = frozenset(
    {"queue", "approvals", "exceptions", "devices", "kpis", "rejections", "plans"}
)
_TITLES: dict[str, str] = {
    "queue": "The queue",
    "approvals": "Approvals",
    "exceptions": "Exceptions",
    "devices": "Devices",
    "kpis": "KPIs",
    "rejections": "Rejections",
    "plans": "Count plans",
}

ScreenVM: TypeAlias = (
    HomeVM
    | QueueVM
    | PickListVM
    | StagingVM
    | HandoverVM
    | ReturnsVM
    | TasksVM
    | CountVM
    | ReceivingVM
    | ApprovalsVM
    | ExceptionsVM
    | DevicesVM
    | KpisVM
    | SyncStatusVM
    | LookupVM
    | RejectVM
    | RejectionsVM
    | PlansVM
)


class UnknownScreen(ValueError):
    """A screen name the app does not have (a typo in a `go(...)`)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"no screen named {name!r}")
        self.name = name


class ManagersOnly(PermissionError):
    """A manager's screen asked for while an associate (or nobody) is signed in."""

    def __init__(self, name: str) -> None:
        super().__init__(f"{_TITLES.get(name, name)} is for managers: ask the shift manager.")
        self.name = name


# the view-models of the screens that act, all built alike: (store, session, on_change)
_ACTING: dict[str, Callable[..., ScreenVM]] = {
    "queue": QueueVM,
    "picklist": PickListVM,
    "staging": StagingVM,
    "handover": HandoverVM,
    "returns": ReturnsVM,
    "tasks": TasksVM,
    "count": CountVM,
    "receiving": ReceivingVM,
    "approvals": ApprovalsVM,
    "exceptions": ExceptionsVM,
    "reject": RejectVM,
    "rejections": RejectionsVM,
    "plans": PlansVM,
}


class TabSession:
    """What one browser tab holds: its own `LocalStore` (opened `screen=True`, as the
    benchmark measures it), who is signed in (`session`), the sync chip (`sync`), and
    the view-model of each screen, built when a screen first asks for it and kept until
    the next sign-in (`open_screens`). A context manager: leaving closes the store."""

    def __init__(
        self,
        db_path: str | Path,
        *,
        clock: Clock = utc_now,
        idle_after: timedelta = IDLE_AFTER,
        sync_now: OnChange = nothing,
        devices: Callable[[Identity | None], Callable[[], list[DeviceHealth]]] | None = None,
        lookup: Callable[[Identity | None], Callable[[str], StockLookup]] | None = None,
        scan_sheet: str | None = None,
        lookups: Callable[[Identity | None], LookUp | None] | None = None,
    ) -> None:
        """`sync_now` asks the sync engine for a pass (an action queued, Sync now);
        `devices` makes the device list's fetch from the tablet's identity (tests);
        `lookup` the stock lookup's online part (tests); `scan_sheet` is the demo's scan
        sheet address, linked from Home (None: no link); `lookups` the returns desk's
        lookup of an older order on central (tests)."""
        self.store = LocalStore(db_path, screen=True)
        self.sync_now = sync_now
        self.session = SessionVM(self.store, clock=clock, idle_after=idle_after)
        self.sync = SyncStatusVM(self.store, on_change=sync_now)
        self._devices = devices or devices_of
        self._lookup = lookup or lookup_of
        self._scan_sheet = scan_sheet
        self._lookups = lookups or order_lookup_of
        self._on_change: OnChange = sync_now
        self._vms: dict[str, ScreenVM] = {}
        self.closed = False

    # --- screens ---------------------------------------------------------------------

    def open_screens(self, on_change: OnChange | None = None) -> None:
        """A new sign-in: the screens forget the one before (a pick list half done, a
        count typed in). The view-models built from now call `on_change` after an
        action was queued (default: `sync_now`)."""
        self._on_change = on_change or self.sync_now
        self._vms = {}

    def may_open(self, name: str) -> bool:
        """Whether the one signed in may open `name` (a manager's screen: managers only)."""
        if name not in SCREENS:
            return False
        who = self.session.associate
        return name not in MANAGER_SCREENS or bool(who and who.is_manager)

    def resolve(self, name: str) -> ScreenName:
        """The screen `name` shows now: the Pick tab goes back to the pick list in
        progress (orders chosen, stops left, not finished), else it is the pick queue."""
        self._check(name)
        if name == "pick":
            current = self.vm("picklist").screen()
            if current.order_ids and current.stops and not current.finished:
                return "picklist"
        return cast(ScreenName, name)  # checked above: one of SCREENS

    @overload
    def vm(self, name: Literal["home"]) -> HomeVM: ...
    @overload
    def vm(self, name: Literal["pick", "queue"]) -> QueueVM: ...
    @overload
    def vm(self, name: Literal["picklist"]) -> PickListVM: ...
    @overload
    def vm(self, name: Literal["staging"]) -> StagingVM: ...
    @overload
    def vm(self, name: Literal["handover"]) -> HandoverVM: ...
    @overload
    def vm(self, name: Literal["returns"]) -> ReturnsVM: ...
    @overload
    def vm(self, name: Literal["tasks"]) -> TasksVM: ...
    @overload
    def vm(self, name: Literal["count"]) -> CountVM: ...
    @overload
    def vm(self, name: Literal["receiving"]) -> ReceivingVM: ...
    @overload
    def vm(self, name: Literal["approvals"]) -> ApprovalsVM: ...
    @overload
    def vm(self, name: Literal["exceptions"]) -> ExceptionsVM: ...
    @overload
    def vm(self, name: Literal["devices"]) -> DevicesVM: ...
    @overload
    def vm(self, name: Literal["kpis"]) -> KpisVM: ...
    @overload
    def vm(self, name: Literal["sync"]) -> SyncStatusVM: ...
    @overload
    def vm(self, name: Literal["lookup"]) -> LookupVM: ...
    @overload
    def vm(self, name: Literal["reject"]) -> RejectVM: ...
    @overload
    def vm(self, name: Literal["rejections"]) -> RejectionsVM: ...
    @overload
    def vm(self, name: Literal["plans"]) -> PlansVM: ...
    @overload
    def vm(self, name: str) -> ScreenVM: ...

    def vm(self, name: str) -> ScreenVM:
        """The view-model behind screen `name`, built on first use after a sign-in.
        UnknownScreen for a name the app does not have; ManagersOnly for a manager's
        screen while someone else holds the tablet (nothing is built then)."""
        self._check(name)
        if name == "sync":
            return self.sync
        key = "queue" if name == "pick" else name  # the Pick tab's queue is the Queue's
        built = self._vms.get(key)
        if built is None:
            built = self._vms[key] = self._build(key)
        return built

    def _check(self, name: str) -> None:
        if name not in SCREENS:
            raise UnknownScreen(name)
        if not self.may_open(name):
            raise ManagersOnly(name)

    def _build(self, key: str) -> ScreenVM:
        store, session, on_change = self.store, self.session, self._on_change
        if key == "returns":  # it may look an older order up on central
            look_up = self._lookups(store.identity())
            return ReturnsVM(store, session, on_change=on_change, look_up=look_up)
        if key in _ACTING:  # the screens that change something: they wake the sync engine
            return _ACTING[key](store, session, on_change=on_change)
        match key:
            case "home":
                return HomeVM(store, session, scan_sheet=self._scan_sheet)
            case "kpis":
                return KpisVM(store, session)
            case "devices":
                return DevicesVM(session, self._devices(store.identity()), timezone=store.timezone)
            case "lookup":
                return LookupVM(store, session, fetch=self._lookup(store.identity()))
        raise UnknownScreen(key)

    # --- lifecycle -------------------------------------------------------------------

    def close(self) -> None:
        """The tab was closed: its connection to the tablet file is closed (once)."""
        if not self.closed:
            self.closed = True
            self._vms = {}
            self.store.close()

    def __enter__(self) -> TabSession:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def devices_of(identity: Identity | None) -> Callable[[], list[DeviceHealth]]:
    """The device list from central, with this tablet's token (read once, on this thread:
    the call itself runs on a worker thread, where the tablet's SQLite connection may not go)."""

    def fetch() -> list[DeviceHealth]:
        if identity is None:
            raise NotEnrolled("This tablet is not enrolled")
        with CentralClient(identity.server_url, identity.token) as client:
            return client.devices()

    return fetch


def lookup_of(identity: Identity | None) -> Callable[[str], StockLookup]:
    """The stock lookup's online part (the chain's other stores, the latest movements), with
    this tablet's token read once here; the call runs on a worker thread."""

    def fetch(sku: str) -> StockLookup:
        if identity is None:
            raise NotEnrolled("This tablet is not enrolled")
        with CentralClient(identity.server_url, identity.token, timeout=5) as client:
            return client.stock_nearby(sku)

    return fetch


LOOKUP_TIMEOUT_S = 8.0


def order_lookup_of(identity: Identity | None) -> LookUp | None:
    """The returns desk's lookup of an order on central, with this tablet's token (None: not
    enrolled, nothing to ask). Each call opens its own client: it runs on a worker thread."""
    if identity is None:
        return None

    def look_up(order_id: str) -> Change | None:
        # a customer waits at the desk: a short timeout, then the words for offline
        with CentralClient(identity.server_url, identity.token, timeout=LOOKUP_TIMEOUT_S) as c:
            return c.order(order_id)

    return look_up
