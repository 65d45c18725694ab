"""Home: tiles with live counts (to pick, ready for pickup, tasks, counts, attention, queue,
approvals)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from fulfillment.clock import store_zone
from fulfillment.model import OrderState, OrderType
from storeapp.local import LocalStore

from .screen import Clock, utc_now
from .session import SessionVM

__all__ = ["HomeScreen", "HomeVM"]

_TO_PICK = (OrderState.RELEASED.value, OrderState.PICKING.value)
_QUEUE = (OrderState.RELEASED.value, OrderState.PICKING.value, OrderState.PICKED.value)


@dataclass(frozen=True)
class HomeScreen:
    associate_name: str | None
    is_manager: bool
    to_pick_sfs: int
    to_pick_sfs_late: int
    to_pick_pickup: int
    to_pick_pickup_late: int
    ready_for_pickup: int
    to_stage: int
    tasks: int
    attention: int
    queue: int | None  # managers only: every open order not yet staged
    queue_late: int | None
    returns_today: int = 0  # received today on this tablet's replica (the store's day)
    recounts: int = 0  # open recount tasks
    approvals: int | None = None  # managers only: counts and returns waiting for a decision
    exceptions: int | None = None  # managers only: open exceptions to settle
    scan_sheet: str | None = None  # the demo's printable barcodes page (None: not a demo)


class HomeVM:
    def __init__(
        self,
        store: LocalStore,
        session: SessionVM,
        *,
        clock: Clock = utc_now,
        scan_sheet: str | None = None,
    ) -> None:
        self._store, self._session, self._clock = store, session, clock
        self._scan_sheet = scan_sheet

    def screen(self) -> HomeScreen:
        now = self._clock()
        who = self._session.associate
        mine = who.employee_id if who else None
        manager = bool(who and who.is_manager)
        count = self._store.count_orders
        sfs, pickup = OrderType.SHIP_FROM_STORE.value, OrderType.PICKUP.value
        return HomeScreen(
            associate_name=who.name if who else None,
            is_manager=manager,
            to_pick_sfs=count(_TO_PICK, order_type=sfs, free_or_mine=mine),
            to_pick_sfs_late=count(_TO_PICK, order_type=sfs, free_or_mine=mine, due_before=now),
            to_pick_pickup=count(_TO_PICK, order_type=pickup, free_or_mine=mine),
            to_pick_pickup_late=count(
                _TO_PICK, order_type=pickup, free_or_mine=mine, due_before=now
            ),
            ready_for_pickup=count((OrderState.STAGED.value,), order_type=pickup),
            to_stage=count((OrderState.PICKED.value,), free_or_mine=mine),
            tasks=self._store.open_task_count(),
            attention=self._store.pending_summary().attention,
            queue=count(_QUEUE) if manager else None,
            queue_late=count(_QUEUE, due_before=now) if manager else None,
            returns_today=len(self._store.returns_since(self._midnight(now))),
            recounts=len(self._store.recount_tasks()),
            approvals=(
                len(self._store.counts_waiting()) + len(self._store.returns_waiting())
                if manager
                else None
            ),
            exceptions=(len(self._store.open_exceptions()) if manager else None),
            scan_sheet=self._scan_sheet,
        )

    def _midnight(self, now: datetime) -> datetime:
        info = self._store.store_info() or {}
        zone = store_zone(str(info.get("timezone") or ""))
        return datetime.combine(now.astimezone(zone).date(), time(0), tzinfo=zone)
