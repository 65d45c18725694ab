"""The manager's console (DOMAIN.md, Manager's view; UX.md screen 11): exceptions to settle,
the store's tablets and their sync health, and the store's KPIs.

    ExceptionsVM  open exceptions: what happened, who, when, the action to take;
                  resolve(exception_id, note) → `exception.resolve` (manager only)
    DevicesVM     every tablet of the store as central last saw it: last sync, outbox,
                  oldest waiting op, clock offset, app version; needs the network
                  (`fetch` is injected: the app passes its CentralClient's `devices`)
    KpisVM        today's orders ready per hour (a bar chart), on-time rates, fill rate,
                  count accuracy and open exceptions, from what this tablet holds
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from pydantic import ValidationError

from fulfillment.clock import store_zone
from fulfillment.counts import Count
from fulfillment.kpis import Kpis, store_kpis
from sync.errors import SyncError
from sync.protocol import DeviceHealth

from .acting import ActingVM
from .screen import SIGN_IN_FIRST, Clock, Tone, ago, duration, local_time, utc_now
from .session import SessionVM

__all__ = [
    "DeviceRow",
    "DevicesScreen",
    "DevicesVM",
    "ExceptionRow",
    "ExceptionsScreen",
    "ExceptionsVM",
    "HourBar",
    "KpisScreen",
    "KpisVM",
]

MANAGERS_ONLY = "Only a manager can see this."
# a tablet is worth a look when it has not synced for this long, or an op waits this long
QUIET_AFTER = timedelta(minutes=15)
STUCK_AFTER = timedelta(minutes=30)
SKEWED_AFTER_S = 120

# what a manager does about each kind of exception, in words
ACTIONS: dict[str, str] = {
    "ALREADY_RETURNED": "Find the extra units: back to the customer, or write them off",
    "RETURN_UNVERIFIED": "Check the receipt; approve the return or call the customer",
    "INVALID_OP": "Call support: the tablet sent something this server cannot read",
    "QUARANTINED": "Call support: the change failed on the server three times",
    "HANDED_OVER_AFTER_CANCEL": "Tell the OMS the customer has the goods",
    "HANDED_OVER_AFTER_EXPIRY": "Tell the OMS the customer has the goods",
    "ALREADY_HANDED_OVER": "Check the pickup shelf for the bag, then call the customer",
    "ALREADY_SHIPPED": "Check the packing bench, then ask the carrier to stop the extra parcel",
    "OVER_HANDOFF": "Have the item recounted; call the customer about the extra units",
    "NEGATIVE_STOCK": "Have the place recounted (the task is open); look for misplaced units",
    "OP_ID_REUSED": "Call support: a tablet sent one change twice under different numbers",
}


def _is_manager(session: SessionVM) -> bool:
    who = session.associate
    return bool(who and who.is_manager)


# --- exceptions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ExceptionRow:
    exception_id: str
    code: str
    what: str  # the message central wrote
    who: str  # "Ana Lopez on tablet-1" / ""
    when: str  # "12 min ago"
    action: str  # what to do, in words
    order_id: str | None


@dataclass(frozen=True)
class ExceptionsScreen:
    rows: tuple[ExceptionRow, ...]
    message: str = ""
    tone: Tone = "info"


class ExceptionsVM(ActingVM[ExceptionsScreen]):
    def screen(self, message: str = "", tone: Tone = "info") -> ExceptionsScreen:
        if not _is_manager(self._session):
            return ExceptionsScreen((), MANAGERS_ONLY, "error")
        settling = {
            str(op.payload.get("exception_id"))
            for op in self._store.outbox(limit=1000)
            if op.type == "exception.resolve"
        }
        names = self._store.staff_names()
        now = self._clock()
        rows = [
            _exception_row(doc, names, now)
            for doc in self._store.open_exceptions()
            if doc.get("exception_id") not in settling
        ]
        return ExceptionsScreen(tuple(rows), message, tone)

    def resolve(self, exception_id: str, note: str) -> ExceptionsScreen:
        if not _is_manager(self._session):
            return self.screen()
        note = note.strip()
        if not note:
            return self.screen("Say what was done about it (a few words).", "error")
        payload: dict[str, object] = {"exception_id": exception_id, "note": note}
        return self._act("exception.resolve", payload, "Settled.")


def _exception_row(doc: dict[str, Any], names: dict[str, str], now: datetime) -> ExceptionRow:
    code = str(doc.get("code") or "")
    actor = doc.get("actor_id")
    who = names.get(str(actor), str(actor)) if actor else ""
    return ExceptionRow(
        exception_id=str(doc.get("exception_id")),
        code=code,
        what=str(doc.get("message") or code),
        who=who,
        when=_when(doc.get("created_at"), now),
        action=ACTIONS.get(code, "Look into it, then mark it settled with a note"),
        order_id=doc.get("order_id"),
    )


def _when(created: Any, now: datetime) -> str:
    """'12 min ago'; "" when the exception carries no time this tablet can read."""
    if not isinstance(created, str):
        return ""
    try:
        at = datetime.fromisoformat(created.replace("Z", "+00:00"))
    except ValueError:
        return ""
    return ago(at if at.tzinfo else at.replace(tzinfo=UTC), now)


# --- devices ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeviceRow:
    device_id: str
    name: str
    last_sync: str  # "synced 2 min ago" / "never synced"
    waiting: str  # "3 waiting · oldest 42 min" / "nothing waiting"
    clock: str  # "clock right" / "clock 4 min fast"
    version: str
    worry: str  # why a manager should look, in words; "" when all is well
    # its last replica check that differed: "replica healed: stock, 2026-12-03 14:02" ("" none)
    replica: str = ""


@dataclass(frozen=True)
class DevicesScreen:
    rows: tuple[DeviceRow, ...]
    as_of: str  # when the list was fetched ("" never)
    message: str = ""
    tone: Tone = "info"


class DevicesVM:
    """The store's tablets; `fetch` asks central (online only)."""

    def __init__(
        self,
        session: SessionVM,
        fetch: Callable[[], list[DeviceHealth]],
        *,
        clock: Clock = utc_now,
        timezone: Callable[[], str] = lambda: "UTC",
    ) -> None:
        self._session, self._fetch, self._clock, self._timezone = session, fetch, clock, timezone
        self._devices: list[DeviceHealth] = []
        self._fetched_at: datetime | None = None

    def screen(self, message: str = "", tone: Tone = "info") -> DevicesScreen:
        if not _is_manager(self._session):
            return DevicesScreen((), "", MANAGERS_ONLY, "error")
        now = self._clock()
        zone = self._timezone()
        rows = tuple(_device_row(d, now, zone) for d in self._devices if not d.revoked)
        as_of = local_time(self._fetched_at, now, self._timezone()) if self._fetched_at else ""
        return DevicesScreen(rows, as_of, message, tone)

    def refresh(self) -> DevicesScreen:
        return self.shown(self.load())

    def load(self) -> str | None:
        """Ask central (the network call; touches no SQLite, so it may run on a worker
        thread). Returns why it failed, in words, or None."""
        if not _is_manager(self._session):
            return None
        try:
            self._devices = self._fetch()
        except SyncError as exc:
            shown = " Showing the list as it was." if self._fetched_at else ""
            return f"Could not reach central: {exc}.{shown}"
        self._fetched_at = self._clock()
        return None

    def shown(self, failure: str | None) -> DevicesScreen:
        """The screen after `load`."""
        if self._session.associate is None:
            return DevicesScreen((), "", SIGN_IN_FIRST, "error")
        return self.screen(failure or "", "warning" if failure else "info")


def _device_row(d: DeviceHealth, now: datetime, timezone: str = "UTC") -> DeviceRow:
    worries: list[str] = []
    if d.last_seen_at is None:
        last = "never synced"
        worries.append("has never synced")
    else:
        last = f"synced {ago(d.last_seen_at, now)}"
        if now - d.last_seen_at > QUIET_AFTER:
            worries.append(f"silent for {duration(now - d.last_seen_at)}")
    if not d.pending:
        waiting = "nothing waiting"
    else:
        waiting = f"{d.pending} waiting"
        if d.oldest_pending_at is not None:
            oldest = now - d.oldest_pending_at
            waiting += f" · oldest {duration(oldest)}"
            if oldest > STUCK_AFTER:
                worries.append(f"a change has waited {duration(oldest)}")
    offset = d.clock_offset_s
    if offset is None or abs(offset) < 60:
        clock = "clock right"
    else:
        clock = (
            f"clock {duration(timedelta(seconds=abs(offset)))} {'fast' if offset > 0 else 'slow'}"
        )
        if abs(offset) > SKEWED_AFTER_S:
            worries.append(clock)
    replica = ""
    if d.replica_mismatch_at is not None:
        kinds = ", ".join(d.replica_kinds) or "?"
        at = d.replica_mismatch_at.astimezone(store_zone(timezone)).strftime("%Y-%m-%d %H:%M")
        if d.replica_healed:
            replica = f"replica healed: {kinds}, {at}"
        else:
            replica = f"replica differs from central: {kinds}, {at}"
            worries.append(f"its copy of {kinds} does not match central's: call support")
    return DeviceRow(
        d.device_id,
        d.name,
        last,
        waiting,
        clock,
        d.app_version or "",
        "; ".join(worries),
        replica,
    )


# --- KPIs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class HourBar:
    hour: str  # "09"
    orders: int
    share: float  # of the busiest hour, 0..1 (the bar's length)


@dataclass(frozen=True)
class KpisScreen:
    bars: tuple[HourBar, ...]
    ready_today: int
    on_time_pickup: str  # "92 % (11 of 12)" / "—"
    on_time_ship: str
    fill_rate: str
    count_accuracy: str
    open_exceptions: int
    message: str = ""
    tone: Tone = "info"


class KpisVM(ActingVM[KpisScreen]):
    def screen(self, message: str = "", tone: Tone = "info") -> KpisScreen:
        if not _is_manager(self._session):
            return KpisScreen((), 0, "—", "—", "—", "—", 0, MANAGERS_ONLY, "error")
        k = self.kpis()
        busiest = max((n for _, n in k.picked_per_hour), default=0)
        bars = tuple(
            HourBar(f"{hour:02d}", n, n / busiest if busiest else 0.0)
            for hour, n in k.picked_per_hour
        )
        return KpisScreen(
            bars,
            k.orders_ready,
            str(k.on_time_pickup),
            str(k.on_time_ship),
            str(k.fill_rate),
            str(k.count_accuracy),
            k.open_exceptions,
            message,
            tone,
        )

    def kpis(self) -> Kpis:
        timezone = self._timezone()
        zone = store_zone(timezone)
        now = self._clock()
        since = datetime.combine(now.astimezone(zone).date(), time(0), tzinfo=zone)
        orders = self._store.orders_in(
            ["staged", "shipped", "handed_over", "cancelled", "expired", "rejected"]
        )
        counts = [c for c in map(_count, self._store.docs("count")) if c is not None]
        open_exceptions = len(self._store.open_exceptions())
        return store_kpis(
            orders,
            counts,
            open_exceptions,
            since=since,
            until=now + timedelta(seconds=1),
            timezone=timezone,
        )


def _count(doc: dict[str, Any]) -> Count | None:
    """A `count` document for the KPIs; one this tablet could not read is left out."""
    try:
        return Count.model_validate(doc)
    except ValidationError:
        return None
