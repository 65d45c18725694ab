"""Frozen data the rules work on: orders and lines, store policy, staff roles.

These are also the `data` of `order` and `store` changes on the wire, so the
tablet and central hold the very same shape.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "OPEN_STATES",
    "Customer",
    "Line",
    "Order",
    "OrderState",
    "OrderType",
    "Policy",
    "Role",
    "ShortReason",
]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class OrderType(StrEnum):
    SHIP_FROM_STORE = "ship_from_store"
    PICKUP = "pickup"


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


class Customer(Frozen):
    name: str = ""
    email: str = ""
    phone: str = ""


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
    created_at: datetime | None = None
    updated_at: datetime | None = None

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
        return self.model_copy(
            update={"lines": tuple(line if x.line_id == line.line_id else x for x in self.lines)}
        )
