"""Frozen data the rules work on: orders and lines, store policy, staff roles.

These are also the `data` of `order` and `store` changes on the wire, so the
tablet and central hold the very same shape.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "DEFAULT_REJECT_REASONS",
    "OPEN_STATES",
    "CheckIn",
    "Customer",
    "Line",
    "Order",
    "OrderState",
    "OrderType",
    "PickupProof",
    "Policy",
    "RejectEffect",
    "RejectReason",
    "Rejection",
    "Role",
    "ShortReason",
]


_set = object.__setattr__


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    def evolve(self, **update: Any) -> Self:
        """`model_copy(update=update)`, made the short way (a rule makes one or two a scan,
        and pydantic's copies every attribute with `copy.copy`): the same shallow copy, the
        values not validated, the updated fields counted as set."""
        new = self.__class__.__new__(self.__class__)
        fields = self.__dict__.copy()
        fields.update(update)
        _set(new, "__dict__", fields)
        _set(new, "__pydantic_fields_set__", self.__pydantic_fields_set__ | update.keys())
        _set(new, "__pydantic_extra__", None)  # extra="ignore": a frozen model keeps none
        _set(new, "__pydantic_private__", None)  # and has no private attributes
        return new


class OrderType(StrEnum):
    SHIP_FROM_STORE = "ship_from_store"
    PICKUP = "pickup"
    TRANSFER = "transfer"  # stock sent to another store: picked and shipped like a parcel


class OrderState(StrEnum):
    RELEASED = "released"
    PICKING = "picking"
    PICKED = "picked"
    STAGED = "staged"
    SHIPPED = "shipped"
    HANDED_OVER = "handed_over"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


OPEN_STATES = frozenset(
    {OrderState.RELEASED, OrderState.PICKING, OrderState.PICKED, OrderState.STAGED}
)
PICKABLE_STATES = frozenset({OrderState.RELEASED, OrderState.PICKING, OrderState.PICKED})


class ShortReason(StrEnum):
    NOT_FOUND = "not_found"
    DAMAGED = "damaged"
    WRONG_ITEM_ON_SHELF = "wrong_item_on_shelf"
    OTHER = "other"


class Role(StrEnum):
    ASSOCIATE = "associate"
    MANAGER = "manager"


class RejectEffect(StrEnum):
    """What rejecting units for a reason does to stock (issue #11)."""

    DAMAGED = "damaged"  # the units go to the damaged bin: a ledger movement, on-hand down
    DOUBTFUL = "doubtful"  # the place becomes doubtful and gets a blind recount task
    NONE = "none"  # stock is not in question (the customer changed their mind)


class RejectReason(Frozen):
    """One of the store's reasons to reject an order or some of its units (the OMS sets them).

    `lowers_available`: for a doubtful place, the units not found are taken off the book
    (a `reject_writeoff` movement) until the recount says what is there; a damaged reason
    always lowers on-hand (the units are in the damaged bin), a `none` one never does."""

    code: str = Field(min_length=1, max_length=40)
    label: str = Field(min_length=1, max_length=80)
    effect: RejectEffect = RejectEffect.NONE
    lowers_available: bool = False


DEFAULT_REJECT_REASONS: tuple[RejectReason, ...] = (
    RejectReason(code="not_found", label="Not found", effect=RejectEffect.DOUBTFUL),
    RejectReason(code="damaged", label="Damaged", effect=RejectEffect.DAMAGED),
    RejectReason(
        code="not_enough_stock",
        label="Not enough stock",
        effect=RejectEffect.DOUBTFUL,
        lowers_available=True,
    ),
    RejectReason(code="customer_cancelled", label="Customer cancelled at the desk"),
    RejectReason(code="other", label="Other"),
)


class Policy(Frozen):
    return_window_days: int = 30
    offline_return_limit: Decimal = Decimal("100")
    variance_units: int = 2
    variance_pct: float = 5.0
    # any count variance worth more than this (units × the item's cost) waits for a manager;
    # None: no money limit
    variance_value: Decimal | None = None
    pickup_hold_days: int = 5
    allow_partial: bool = True
    at_risk_minutes: int = 30
    max_orders_per_pick_list: int = 10
    # The carriers a ship-from-store parcel can leave with (the Ship screen's list).
    carriers: tuple[str, ...] = ("DPD", "DHL", "UPS", "FedEx", "Royal Mail")
    # issue #11: the store's reasons to reject (PUT /v1/oms/stores/{id}/reject-reasons)
    reject_reasons: tuple[RejectReason, ...] = DEFAULT_REJECT_REASONS
    # a pickup order worth more than this needs the collector's ID (type + last digits);
    # None: only orders the OMS flagged `id_required`
    id_check_over: Decimal | None = None
    # the customer is reminded this many hours before the pickup hold ends (0: never)
    pickup_reminder_hours: int = 24

    def reject_reason(self, code: str) -> RejectReason:
        """The store's reason of that code; a code it does not know (a reason the OMS
        removed while a tablet was offline) rejects with no stock effect."""
        for reason in self.reject_reasons:
            if reason.code == code:
                return reason
        return RejectReason(code=code[:40] or "other", label=code[:80] or "Other")


class Customer(Frozen):
    name: str = ""
    email: str = ""
    phone: str = ""


class CheckIn(Frozen):
    """The customer said "I'm here" (curbside, through the OMS)."""

    at: datetime
    bay: str | None = None
    note: str | None = None


class PickupProof(Frozen):
    """Who collected a pickup order, recorded at hand-over."""

    collected_by: str = "customer"  # customer | alternate
    name: str = ""
    id_type: str | None = None  # e.g. driving_licence, passport, id_card
    id_last4: str | None = None  # the ID's last digits, never the whole number


class Rejection(Frozen):
    """One rejection of an order or of some units of a line: the manager's history."""

    line_id: str | None = None  # None: the whole order
    qty: int = 0
    code: str
    label: str
    effect: RejectEffect = RejectEffect.NONE
    note: str = ""
    by: str | None = None
    at: datetime | None = None


class Line(Frozen):
    line_id: str
    sku: str
    qty: int = Field(gt=0)
    price: Decimal = Decimal("0")
    name: str = ""
    gtins: tuple[str, ...] = ()
    location: str = ""
    location_seq: int = 0
    picked: int = 0
    short: int = 0
    short_reason: ShortReason | None = None
    fulfilled: int = 0  # shipped or handed over
    returned: int = 0
    rejected: int = 0  # units rejected with a reason (counted in `short` too)
    reject_code: str | None = None

    @property
    def remaining(self) -> int:
        """Units still to pick or short."""
        return self.qty - self.picked - self.short

    @property
    def done(self) -> bool:
        return self.remaining == 0

    @property
    def open_qty(self) -> int:
        """Units still promised to the customer and not yet out of the store."""
        return self.qty - self.short - self.fulfilled


class Order(Frozen):
    order_id: str
    store_id: str
    type: OrderType
    state: OrderState = OrderState.RELEASED
    customer: Customer = Customer()
    due_at: datetime
    priority: int = 0
    pickup_code: str | None = None
    assignee: str | None = None
    assignee_name: str | None = None
    claimed_at: datetime | None = None
    lines: tuple[Line, ...]
    staging_location: str | None = None
    staged_at: datetime | None = None
    packages: int = 0
    carrier: str | None = None
    tracking: str | None = None
    reason: str | None = None  # cancel / reject reason
    fulfilled_at: datetime | None = None  # last shipped or handed over: a return's window starts
    fulfilled_by: str | None = None  # who last shipped or handed over (employee id)
    destination: str | None = None  # a transfer: the store it goes to
    created_at: datetime | None = None
    updated_at: datetime | None = None
    # issue #11: proof of pickup, curbside check-in, notices, rejections
    alternate: Customer | None = None  # someone the OMS named who may collect instead
    id_required: bool = False  # the OMS asks for the collector's ID at hand-over
    proof: PickupProof | None = None
    checkin: CheckIn | None = None
    notified_at: datetime | None = None  # the last ready-for-pickup notice resent
    reminded_at: datetime | None = None  # the pickup-window reminder (central's job)
    reject_code: str | None = None
    rejections: tuple[Rejection, ...] = ()

    @property
    def value(self) -> Decimal:
        return sum((x.price * x.qty for x in self.lines), Decimal("0"))

    def line(self, line_id: str) -> Line | None:
        for line in self.lines:
            if line.line_id == line_id:
                return line
        return None

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def picked_units(self) -> int:
        return sum(line.picked for line in self.lines)

    @property
    def ordered_units(self) -> int:
        return sum(line.qty for line in self.lines)

    def with_line(self, line: Line) -> Order:
        return self.evolve(
            lines=tuple(line if x.line_id == line.line_id else x for x in self.lines)
        )
