"""Hand-over of pickup orders to the customer.

    find(query) ── pickup code (typed or scanned, any case) ──▶ that order, verified by code
                ── name / email / phone / order number ──▶ matches; select(id) one
    verify_code(code) | verify_id() ──▶ verified (a hand-over needs it)
    set_qty(line_id, qty) ──▶ hand over only some units (default: all picked, not yet handed)
    collector(by, name, id_type, id_last4) ──▶ who collects: the customer or the alternate
                the OMS named; the ID's type and last digits where the policy asks (issue #11)
    hand_over() ──▶ `order.handoff` with the proof (final: a hand-over cannot be undone)
    notify() / change_contact(email, phone) ──▶ `order.notify` / `order.contact`
    arrived ──▶ orders whose customer checked in (curbside), shown first with the bay

The pickup code is never shown on the screen: the customer proves it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fulfillment.model import Order, OrderState, OrderType
from fulfillment.picking import id_check_needed
from fulfillment.pickup import pickup_code_from_scan

from .acting import NOT_SAVED, ActingVM
from .screen import SIGN_IN_FIRST, Tone, local_time

__all__ = [
    "Arrival",
    "HandoverLine",
    "HandoverMatch",
    "HandoverOrder",
    "HandoverScreen",
    "HandoverVM",
]

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
    alternate: str = ""  # the other person the OMS named, or ""
    id_needed: bool = False  # the policy asks for the collector's ID
    collected_by: str = "customer"
    id_type: str | None = None
    id_last4: str | None = None
    checked_in: str = ""  # "Here since 10:42, bay 4"

    @property
    def units_to_hand(self) -> int:
        return sum(x.to_hand for x in self.lines)


@dataclass(frozen=True)
class Arrival:
    order_id: str
    customer: str
    bay: str
    since: str


@dataclass(frozen=True)
class HandoverScreen:
    query: str
    matches: tuple[HandoverMatch, ...]
    order: HandoverOrder | None
    message: str = ""
    tone: Tone = "info"
    done: bool = False
    arrived: tuple[Arrival, ...] = ()


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
        self._proof: dict[str, str | None] = {}  # nothing recorded: no `proof` is sent

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
                alternate=order.alternate.name if order.alternate else "",
                id_needed=id_check_needed(order, self._store.policy()),
                collected_by=self._proof.get("collected_by") or "customer",
                id_type=self._proof.get("id_type"),
                id_last4=self._proof.get("id_last4"),
                checked_in=self._here(order),
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
        return HandoverScreen(
            self._query, matches, view, message, tone, self._done, self._arrivals()
        )

    def _here(self, order: Order) -> str:
        if order.checkin is None:
            return ""
        at = local_time(order.checkin.at, self._clock(), self._timezone())
        bay = f", bay {order.checkin.bay}" if order.checkin.bay else ""
        return f"Here since {at}{bay}"

    def _arrivals(self) -> tuple[Arrival, ...]:
        waiting = [
            o
            for o in self._store.orders_in(_STAGED, order_type=OrderType.PICKUP.value)
            if o.checkin is not None
        ]
        waiting.sort(key=lambda o: o.checkin.at if o.checkin else o.due_at)
        now, zone = self._clock(), self._timezone()
        return tuple(
            Arrival(
                o.order_id,
                o.customer.name,
                (o.checkin.bay or "") if o.checkin else "",
                local_time(o.checkin.at, now, zone) if o.checkin else "",
            )
            for o in waiting
        )

    def collector(
        self,
        collected_by: str,
        name: str = "",
        id_type: str | None = None,
        id_last4: str | None = None,
    ) -> HandoverScreen:
        """Who collects, and the ID's type and last digits (the whole number is never kept)."""
        order = self._store.order(self._order_id) if self._order_id else None
        if order is None:
            return self.screen("Choose the order first.", "error")
        if collected_by not in ("customer", "alternate"):
            return self.screen("The customer or the other person named on the order.", "error")
        if collected_by == "alternate" and order.alternate is None:
            return self.screen("This order names nobody else to collect it.", "error")
        digits = (id_last4 or "").strip()
        if digits and not (2 <= len(digits) <= 4 and digits.isalnum()):
            return self.screen("Type the last 2 to 4 characters of the ID.", "error")
        if digits and not id_type:
            return self.screen("Choose the ID's type.", "error")
        if id_type and not digits:
            return self.screen("Type the ID's last 2 to 4 characters, then its type.", "error")
        who = order.alternate.name if collected_by == "alternate" and order.alternate else ""
        self._proof = {
            "collected_by": collected_by,
            "name": name or who or order.customer.name,
            "id_type": id_type or None,
            "id_last4": digits or None,
        }
        if digits:
            self._verified = "id"
        return self.screen("Collector recorded.", "ok")

    def notify(self) -> HandoverScreen:
        """Send the ready-for-pickup notice again (the OMS tells the customer)."""
        if self._order_id is None:
            return self.screen("Choose the order first.", "error")
        return self._act(
            "order.notify", {"order_id": self._order_id}, done="The notice goes out again."
        )

    def change_contact(self, email: str | None, phone: str | None) -> HandoverScreen:
        if self._order_id is None:
            return self.screen("Choose the order first.", "error")
        payload: dict[str, object] = {"order_id": self._order_id}
        if email is not None and email.strip():
            payload["email"] = email.strip()
        if phone is not None and phone.strip():
            payload["phone"] = phone.strip()
        if len(payload) == 1:
            return self.screen("Type the new email or phone.", "error")
        email_ok = re.fullmatch(r"[^@\s]+@[^@\s]+", str(payload.get("email", "a@b")))
        if not email_ok or len(str(payload.get("email", ""))) > 200:
            return self.screen(
                f"“{payload['email']}” is not an email address (like name@example.com).", "error"
            )
        if not re.fullmatch(r"[+0-9 ()./-]{4,40}", str(payload.get("phone", "0000"))):
            return self.screen(
                f"“{payload['phone']}” is not a phone number: digits, spaces and + ( ) - only.",
                "error",
            )
        return self._act("order.contact", payload, done="Contact corrected.")

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
        self._proof = {}

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
        if current.order.id_needed and not current.order.id_last4:
            return self.screen(
                "This order needs the collector's ID: record its type and last digits.", "error"
            )
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
                **({"proof": {k: v for k, v in self._proof.items() if v}} if self._proof else {}),
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
