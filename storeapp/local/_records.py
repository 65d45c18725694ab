"""Frozen rows the local store hands to view-models (no SQLite types leak out)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from fulfillment.model import Order, Role
from fulfillment.returns import Return
from fulfillment.tasks import OPEN_TASK_STATES

__all__ = [
    "ActResult",
    "CountRecord",
    "Item",
    "LoggedOp",
    "PendingOp",
    "ReturnRecord",
    "StaffMember",
    "SyncState",
    "Task",
    "from_iso",
    "row",
    "rows",
    "to_iso",
]


def _named(conn: sqlite3.Connection) -> sqlite3.Cursor:
    cur = conn.cursor()
    cur.row_factory = sqlite3.Row
    return cur


def row(conn: sqlite3.Connection, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
    """The first row of `sql`, read by column name (None: no row)."""
    found: sqlite3.Row | None = _named(conn).execute(sql, params).fetchone()
    return found


def rows(conn: sqlite3.Connection, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
    """Every row of `sql`, read by column name."""
    return _named(conn).execute(sql, params).fetchall()


def to_iso(dt: datetime) -> str:
    """UTC, fixed width, so stored times sort and compare as text.

    Naive means UTC. A time whose UTC conversion falls outside the calendar (year 1 with
    a positive offset, year 9999 with a negative one) is written as the calendar's first
    or last instant instead of raising. The year is always four digits (`strftime("%Y")`
    writes year 2 as "2", which neither sorts nor parses)."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    try:
        utc = dt.astimezone(UTC)
    except OverflowError:
        utc = datetime.min if dt.year < 5000 else datetime.max
    return utc.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def from_iso(text: str | None) -> datetime | None:
    """A stored time back (naive means UTC); None for none, or for text that is not a time."""
    if not text:
        return None
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


@dataclass(frozen=True)
class StaffMember:
    employee_id: str
    name: str
    role: Role
    active: bool = True

    @property
    def is_manager(self) -> bool:
        return self.role is Role.MANAGER


@dataclass(frozen=True)
class Item:
    sku: str
    name: str
    location: str
    location_seq: int = 0
    price: str | None = None
    gtins: tuple[str, ...] = ()
    final_sale: bool = False


@dataclass(frozen=True)
class Task:
    task_id: str
    kind: str
    sku: str
    location: str
    qty: int
    order_id: str | None
    reason: str
    state: str
    created_at: datetime | None

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_TASK_STATES


@dataclass(frozen=True)
class ReturnRecord:
    """A return on this tablet: central's document, or this device's one not yet applied."""

    ret: Return
    pending: bool  # an op of this return is still waiting for central


@dataclass(frozen=True)
class CountRecord:
    """A cycle count on this tablet: central's `count` document, or this device's count not
    yet answered (state `submitted`, no book: counting is blind), with pending decisions."""

    count_id: str
    task_id: str | None
    sku: str
    location: str
    name: str
    counted: int
    counted_at: datetime
    counted_by: str
    counted_by_name: str
    state: str  # submitted | posted | awaiting_approval | approved | recount | disputed
    book: int | None  # central's book at counted_at; None until central answered
    variance: int | None
    adjustment: int
    message: str
    decided_by: str | None
    decided_by_name: str | None
    pending: bool  # an op of this count is still waiting for central
    value: Decimal | None = None  # the variance in money (central's; None: not known)


@dataclass(frozen=True)
class PendingOp:
    """An op in the outbox, not yet acknowledged by central."""

    seq: int
    op_id: str
    type: str
    actor_id: str
    payload: dict[str, Any]
    occurred_at: datetime


@dataclass(frozen=True)
class LoggedOp:
    """An op central acknowledged, with its result."""

    seq: int
    op_id: str
    type: str
    actor_id: str
    payload: dict[str, Any]
    occurred_at: datetime
    status: str  # applied | compensated | rejected | duplicate
    original_status: str | None
    code: str | None
    message: str | None
    followups: tuple[dict[str, Any], ...]
    acked_at: datetime
    seen: bool

    @property
    def outcome(self) -> str:
        """What central did: the original status for a duplicate."""
        if self.status == "duplicate" and self.original_status:
            return self.original_status
        return self.status


@dataclass(frozen=True)
class SyncState:
    server_url: str | None
    device_id: str | None
    store_id: str | None
    next_seq: int
    cursor: str | None
    last_applied_seq: int
    pulled_version: int
    last_sync_at: datetime | None
    last_ok_at: datetime | None
    last_error: str | None
    server_time: datetime | None
    clock_offset_s: float | None

    @property
    def enrolled(self) -> bool:
        return bool(self.device_id)


@dataclass(frozen=True)
class ActResult:
    """What one local action did.

    `queued` is True when the op went into the outbox (with `seq`). A refused
    intent is not queued and changes nothing; `message` says why.
    """

    status: str  # applied | compensated | rejected
    queued: bool
    code: str | None = None
    message: str | None = None
    seq: int | None = None
    op_id: str | None = None
    order: Order | None = None
    followups: tuple[Any, ...] = field(default=())
    ret: Return | None = None  # return.receive / return.override: the return as recorded here
    count: CountRecord | None = None  # count.*: the count as recorded here

    @property
    def ok(self) -> bool:
        return self.status != "rejected"
