"""Hand-over of pickup orders to the customer.

    find(query) ── pickup code (typed or scanned, any case) ──▶ that order, verified by code
                ── name / email / phone / order number ──▶ matches; select(id) one
    verify_code(code) | verify_id() ──▶ verified (a hand-over needs it)
    set_qty(line_id, qty) ──▶ hand over only some units (default: all picked, not yet handed)
    hand_over() ──▶ `order.handoff` (final: a hand-over cannot be undone)

The pickup code is never shown on the screen: the customer proves it.
"""

from __future__ import annotations

from dataclasses import dataclass

from fulfillment.model import Order, OrderState, OrderType
from fulfillment.pickup import pickup_code_from_scan

from .acting import NOT_SAVED, ActingVM
from .screen import SIGN_IN_FIRST, Tone

__all__ = ["HandoverLine", "HandoverMatch", "HandoverOrder", "HandoverScreen", "HandoverVM"]

_STAGED = (OrderState.STAGED.value,)


@dataclass(frozen=True)
class HandoverMatch:
    order_id: str
    customer: str
    staging_location: str | None
    units: int


@dataclass(frozen=True)
class HandoverLine:
    line_id: str
    name: str
    sku: str
    ordered: int
    ready: int  # picked and not yet handed over
    handed_over: int
    to_hand: int  # what hand_over() will give


@dataclass(frozen=True)
class HandoverOrder:
    order_id: str
    customer: str
    email: str
    phone: str
    staging_location: str | None
    lines: tuple[HandoverLine, ...]
    verified_by: str | None  # "pickup_code" | "id" | None

    @property
    def units_to_hand(self) -> int:
        return sum(x.to_hand for x in self.lines)


@dataclass(frozen=True)
class HandoverScreen:
    query: str
    matches: tuple[HandoverMatch, ...]
    order: HandoverOrder | None
    message: str = ""
    tone: Tone = "info"
    done: bool = False


def _ready(order: Order) -> dict[str, int]:
    return {x.line_id: x.picked - x.fulfilled for x in order.lines}


class HandoverVM(ActingVM[HandoverScreen]):
    def _start(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._query = ""
        self._matches: list[Order] = []
        self._order_id: str | None = None
        self._verified: str | None = None
        self._qty: dict[str, int] = {}
        self._done = False

    def screen(self, message: str = "", tone: Tone = "info") -> HandoverScreen:
        order = self._store.order(self._order_id) if self._order_id else None
        view = None
        if order is not None:
            ready = _ready(order)
            view = HandoverOrder(
                order_id=order.order_id,
                customer=order.customer.name,
                email=order.customer.email,
                phone=order.customer.phone,
                staging_location=order.staging_location,
                lines=tuple(
                    HandoverLine(
                        x.line_id,
                        x.name or x.sku,
                        x.sku,
                        x.qty,
                        ready[x.line_id],
                        x.fulfilled,
                        0
                        if self._done
                        else min(self._qty.get(x.line_id, ready[x.line_id]), ready[x.line_id]),
                    )
                    for x in order.lines
                ),
                verified_by=self._verified,
            )
        matches = tuple(
            HandoverMatch(
                o.order_id,
                o.customer.name,
                o.staging_location,
                sum(_ready(o).values()),
            )
            for o in self._matches
        )
        return HandoverScreen(self._query, matches, view, message, tone, self._done)

    def start(self) -> HandoverScreen:
        """A new customer at the desk."""
        self._reset()
        return self.screen()

    def find(self, query: str) -> HandoverScreen:
        self._reset()
        self._query = text = pickup_code_from_scan(query)
        if not text:
            return self.screen("Scan the pickup code or type a name, email or phone.", "error")
        by_code = self._store.find_by_pickup_code(text, _STAGED)
        by_code = [o for o in by_code if o.type is OrderType.PICKUP]
        if len(by_code) == 1:
            self._matches = by_code
            self._open(by_code[0].order_id, verified_by="pickup_code")
            return self.screen("Pickup code matches: hand over the bag.", "ok")
        found = [
            o for o in self._store.search_orders(text, _STAGED) if o.type is OrderType.PICKUP
        ] or by_code
        self._matches = found
        if not found:
            return self.screen(f"No order ready for pickup matches “{text}”.", "error")
        if len(found) == 1:
            self._open(found[0].order_id, verified_by=None)
            return self.screen("Check the pickup code or a photo ID.", "info")
        return self.screen(f"{len(found)} orders match: choose one.", "info")

    def _open(self, order_id: str, *, verified_by: str | None) -> None:
        self._order_id, self._verified, self._qty, self._done = order_id, verified_by, {}, False

    def select(self, order_id: str) -> HandoverScreen:
        order = self._store.order(order_id)
        if (
            order is None
            or order.state is not OrderState.STAGED
            or order.type is not OrderType.PICKUP
        ):
            return self.screen(f"Order {order_id} is not ready for pickup.", "error")
        self._open(order_id, verified_by=None)
        return self.screen("Check the pickup code or a photo ID.", "info")

    def verify_code(self, code: str) -> HandoverScreen:
        order = self._store.order(self._order_id) if self._order_id else None
        if order is None:
            return self.screen("Choose the order first.", "error")
        if (
            not order.pickup_code
            or pickup_code_from_scan(code).upper() != order.pickup_code.strip().upper()
        ):
            return self.screen(
                "That is not this order's pickup code: check a photo ID instead.", "error"
            )
        self._verified = "pickup_code"
        return self.screen("Pickup code checked.", "ok")

    def verify_id(self) -> HandoverScreen:
        """The associate checked the customer's photo ID against the order name."""
        if self._order_id is None:
            return self.screen("Choose the order first.", "error")
        self._verified = "id"
        return self.screen("Photo ID checked.", "ok")

    def set_qty(self, line_id: str, qty: int) -> HandoverScreen:
        order = self._store.order(self._order_id) if self._order_id else None
        if order is None or order.line(line_id) is None:
            return self.screen("Choose the order first.", "error")
        ready = _ready(order)[line_id]
        if qty < 0 or qty > ready:
            return self.screen(f"Between 0 and {ready} for this line.", "error")
        self._qty[line_id] = qty
        return self.screen()

    def hand_over(self) -> HandoverScreen:
        who = self._session.associate
        if who is None:
            return self.screen(SIGN_IN_FIRST, "error")
        if self._done:
            return self.screen("Already handed over.", "info")
        current = self.screen()
        if current.order is None:
            return self.screen("Find the order first.", "error")
        if current.order.verified_by is None:
            return self.screen("Check the pickup code or a photo ID first.", "error")
        lines = [{"line_id": x.line_id, "qty": x.to_hand} for x in current.order.lines if x.to_hand]
        if not lines:
            return self.screen("Nothing to hand over: choose at least one item.", "error")
        result = self._store.act(
            who.employee_id,
            "order.handoff",
            {
                "order_id": current.order.order_id,
                "verified_by": current.order.verified_by,
                "lines": lines,
            },
            self._clock(),
        )
        if not result.ok:
            return self.screen(result.message or NOT_SAVED, "error")
        self._on_change()
        self._done = True
        units = sum(x.to_hand for x in current.order.lines)
        rest = result.order is not None and result.order.state is OrderState.STAGED
        tail = " The rest stays on the shelf." if rest else ""
        return self.screen(f"Handed over {units} item(s) of {current.order.order_id}.{tail}", "ok")
