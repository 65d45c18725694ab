"""Stage and pack: pickup orders onto a pickup shelf; ship-from-store orders packed and shipped.

    picked ──stage(location, packages)──▶ staged   (pickup: ready for pickup; SFS: packed)
    staged SFS ──ship(carrier, tracking, packages)──▶ shipped

The list shows picked orders (stage them) and packed ship-from-store orders (ship them).
"""

from __future__ import annotations

from dataclasses import dataclass

from fulfillment.model import Order, OrderState, OrderType

from .acting import ActingVM
from .screen import Tone

__all__ = ["StageLine", "StageOrder", "StagingScreen", "StagingVM"]


@dataclass(frozen=True)
class StageLine:
    line_id: str
    name: str
    sku: str
    qty: int
    picked: int
    short: int


@dataclass(frozen=True)
class StageOrder:
    order_id: str
    type: str
    state: str
    customer: str
    lines: tuple[StageLine, ...]
    picked_units: int
    ordered_units: int
    partial: bool
    staging_location: str | None
    packages: int
    carrier: str | None
    tracking: str | None
    next_step: str  # "stage" | "ship" | "done"


@dataclass(frozen=True)
class StagingScreen:
    waiting: tuple[StageOrder, ...]  # picked orders to stage, packed SFS orders to ship
    current: StageOrder | None
    carriers: tuple[str, ...] = ()  # the store's, from its policy
    carrier: str | None = None  # the one to offer first: the last used here, or the only one
    message: str = ""
    tone: Tone = "info"


def _next_step(order: Order) -> str:
    if order.state is OrderState.PICKED:
        return "stage"
    if order.state is OrderState.STAGED and order.type is OrderType.SHIP_FROM_STORE:
        return "ship"
    return "done"


def _stage_order(order: Order) -> StageOrder:
    return StageOrder(
        order_id=order.order_id,
        type=order.type.value,
        state=order.state.value,
        customer=order.customer.name,
        lines=tuple(
            StageLine(x.line_id, x.name or x.sku, x.sku, x.qty, x.picked, x.short)
            for x in order.lines
        ),
        picked_units=order.picked_units,
        ordered_units=order.ordered_units,
        partial=any(x.short for x in order.lines),
        staging_location=order.staging_location,
        packages=order.packages,
        carrier=order.carrier,
        tracking=order.tracking,
        next_step=_next_step(order),
    )


class StagingVM(ActingVM[StagingScreen]):
    def _start(self) -> None:
        self._current: str | None = None
        self._last_carrier: str | None = None  # shipping remembers it (issue #10, finding 11)

    def screen(self, message: str = "", tone: Tone = "info") -> StagingScreen:
        picked = self._store.orders_in((OrderState.PICKED.value,))
        packed = self._store.orders_in(
            (OrderState.STAGED.value,), order_type=OrderType.SHIP_FROM_STORE.value
        )
        current = self._store.order(self._current) if self._current else None
        carriers = self._store.policy().carriers
        if self._last_carrier in carriers:
            carrier: str | None = self._last_carrier
        else:
            carrier = carriers[0] if len(carriers) == 1 else None
        return StagingScreen(
            waiting=tuple(_stage_order(o) for o in (*picked, *packed)),
            current=_stage_order(current) if current else None,
            carriers=carriers,
            carrier=carrier,
            message=message,
            tone=tone,
        )

    def open(self, order_id: str) -> StagingScreen:
        if self._store.order(order_id) is None:
            return self.screen(f"Order {order_id} is not on this tablet.", "error")
        self._current = order_id
        return self.screen()

    def stage(self, staging_location: str, packages: int = 0) -> StagingScreen:
        """Pickup: the shelf it waits on. Ship-from-store: the packing bench and parcels."""
        if self._current is None:
            return self.screen("Choose an order first.", "error")
        location = (staging_location or "").strip().upper()
        if not location:
            return self.screen("Scan or type the staging location.", "error")
        order_id = self._current
        is_pickup = (
            order := self._store.order(order_id)
        ) is not None and order.type is OrderType.PICKUP
        done = (
            f"{order_id} is ready for pickup at {location}."
            if is_pickup
            else f"{order_id} is packed ({packages} parcel(s)) at {location}: ship it next."
        )
        return self._act(
            "order.stage",
            {"order_id": order_id, "staging_location": location, "packages": packages},
            done,
        )

    def ship(self, carrier: str, tracking: str, packages: int = 1) -> StagingScreen:
        if self._current is None:
            return self.screen("Choose an order first.", "error")
        carrier, tracking = (carrier or "").strip(), (tracking or "").strip()
        if not carrier:
            return self.screen("Choose the carrier.", "error")
        if len(tracking) < 4:
            return self.screen("Scan or type the tracking number.", "error")
        self._last_carrier = carrier
        return self._act(
            "order.ship",
            {
                "order_id": self._current,
                "carrier": carrier,
                "tracking": tracking,
                "packages": packages,
            },
            f"{self._current} shipped with {carrier} ({tracking}).",
        )
