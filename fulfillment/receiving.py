"""Receiving inbound shipments: count what arrived, mark damage, close the receipt.

An inbound shipment is announced by the OMS (from a DC, another store, or a ship-to-store
customer order) or by central when another store ships a transfer. The store counts it
line by line (a scanned GTIN, +/−, a keypad value) or by carton (a scanned SSCC counts the
carton's lines at once), marks damaged units, and closes the receipt. Closing posts the
stock (`receipt` to the item's shelf, `receipt_damaged` to the damaged bin, the transfer's
`in_transit` units out of IN-TRANSIT) and turns over, short and damaged units into one
manager exception that says what to do.

Counting is a physical fact: a count is never refused. A count after the receipt was closed
is `compensated` (the units are in the back room, the receipt's stock has posted: a manager
decides), and the receipt document is left as it was closed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from .codes import Code
from .ledger import Movement, MovementKind
from .model import PICKABLE_STATES, Order, OrderType
from .outcome import Context, ExceptionNote, Outcome, Refusal, Status
from .picking import stage
from .returns import DAMAGED_BIN

__all__ = [
    "IN_TRANSIT",
    "Carton",
    "CartonLine",
    "Inbound",
    "InboundLine",
    "InboundOutcome",
    "InboundState",
    "announce",
    "close",
    "count",
    "order_arrived",
    "parse_sscc",
    "receive_carton",
    "shipped_in_transit",
]

IN_TRANSIT = "IN-TRANSIT"  # the location a transfer's units are at between ship and receipt


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class InboundState(StrEnum):
    EXPECTED = "expected"  # announced, nothing counted yet: the OMS may still change it
    RECEIVING = "receiving"  # counting started
    CLOSED = "closed"  # the stock posted


class InboundLine(_Frozen):
    sku: str
    expected: int = Field(ge=0)
    received: int = 0  # every unit counted, damaged ones included
    damaged: int = 0  # of `received`
    name: str = ""
    location: str = ""  # the item's shelf: where received units go

    @property
    def over(self) -> int:
        return max(0, self.received - self.expected)

    @property
    def short(self) -> int:
        return max(0, self.expected - self.received)

    @property
    def good(self) -> int:
        return self.received - self.damaged


class CartonLine(_Frozen):
    sku: str
    qty: int = Field(gt=0)


class Carton(_Frozen):
    sscc: str  # 18 digits
    lines: tuple[CartonLine, ...] = ()
    received: bool = False


class Inbound(_Frozen):
    """One inbound shipment to the store: the `inbound` document (id: the shipment id)."""

    shipment_id: str
    store_id: str
    source: str  # "dc", "store:<id>", a vendor …
    lines: tuple[InboundLine, ...]
    cartons: tuple[Carton, ...] = ()
    order_id: str | None = None  # a ship-to-store customer order arriving
    transfer_id: str | None = None  # a transfer from another store (its order there)
    carrier: str | None = None
    tracking: str | None = None
    state: InboundState = InboundState.EXPECTED
    announced_at: datetime | None = None
    started_at: datetime | None = None
    closed_at: datetime | None = None
    closed_by: str | None = None
    updated_at: datetime | None = None

    def line(self, sku: str) -> InboundLine | None:
        for x in self.lines:
            if x.sku == sku:
                return x
        return None

    @property
    def expected_units(self) -> int:
        return sum(x.expected for x in self.lines)

    @property
    def received_units(self) -> int:
        return sum(x.received for x in self.lines)

    @property
    def differs(self) -> bool:
        return any(x.over or x.short or x.damaged for x in self.lines)


@dataclass(frozen=True)
class InboundOutcome:
    status: Status
    inbound: Inbound
    code: str | None = None
    message: str | None = None
    movements: tuple[Movement, ...] = ()
    exceptions: tuple[ExceptionNote, ...] = ()
    received: tuple[tuple[str, int], ...] = ()  # on close: good units by sku (an order's)


def parse_sscc(code: str) -> str | None:
    """The 18-digit SSCC in what was scanned (plain, or GS1-128 with AI 00), None when the
    code is no SSCC (a GTIN, or a wrong check digit)."""
    raw = (code or "").strip()
    if not raw.isascii() or (len(raw) not in (18, 20) and not raw.startswith("(00)")):
        return None
    import biip  # ≈ 50 ms to import: only when a carton is scanned

    try:
        result = biip.parse(raw)
    except Exception:  # biip raises ParseError for a code it cannot read at all
        return None
    return result.sscc.value if result.sscc is not None else None


def _same_announcement(a: Inbound, b: Inbound) -> bool:
    keep = {"source", "lines", "cartons", "order_id", "transfer_id", "carrier", "tracking"}
    return a.model_dump(include=keep) == b.model_dump(include=keep)


def announce(existing: Inbound | None, new: Inbound) -> Inbound | Refusal:
    """The shipment as announced again (an idempotent PUT): the same announcement changes
    nothing; a changed one replaces it while nothing is counted; after that it is refused
    (RECEIPT_CLOSED once closed, RECEIPT_DIFFERS while counting: the store counts what came)."""
    if existing is None:
        return new
    if _same_announcement(existing, new):
        return existing
    if existing.state is InboundState.EXPECTED:
        return new.model_copy(update={"announced_at": existing.announced_at})
    if existing.state is InboundState.CLOSED:
        return Refusal(
            Code.RECEIPT_CLOSED,
            f"Shipment {new.shipment_id} was already received and closed: it cannot change",
        )
    return Refusal(
        Code.RECEIPT_DIFFERS,
        f"The store has started receiving shipment {new.shipment_id}: it cannot change now",
    )


def _touch(inbound: Inbound, ctx: Context, lines: tuple[InboundLine, ...]) -> Inbound:
    return inbound.model_copy(
        update={
            "lines": lines,
            "state": InboundState.RECEIVING,
            "started_at": inbound.started_at or ctx.now,
            "updated_at": ctx.now,
        }
    )


def _after_close(inbound: Inbound, what: str) -> InboundOutcome:
    message = (
        f"Shipment {inbound.shipment_id} was already closed: {what} was not added to it — "
        "a manager adjusts the stock"
    )
    return InboundOutcome(
        Status.COMPENSATED,
        inbound,
        Code.RECEIPT_CLOSED,
        message,
        exceptions=(ExceptionNote(Code.RECEIPT_CLOSED, message, inbound.order_id),),
    )


def _counted(
    lines: Iterable[InboundLine], sku: str, qty: int, damaged: int
) -> tuple[InboundLine, ...]:
    found = False
    out: list[InboundLine] = []
    for x in lines:
        if x.sku == sku:
            found = True
            received = max(0, x.received + qty)
            x = x.model_copy(
                update={
                    "received": received,
                    "damaged": min(received, max(0, x.damaged + damaged)),
                }
            )
        out.append(x)
    if not found:  # an item the shipment did not list: an over
        received = max(0, qty)
        out.append(
            InboundLine(
                sku=sku, expected=0, received=received, damaged=min(received, max(0, damaged))
            )
        )
    return tuple(out)


def count(inbound: Inbound, sku: str, qty: int, damaged: int, ctx: Context) -> InboundOutcome:
    """`inbound.count`: `qty` more units of `sku` counted (negative: taken off a miscount),
    `damaged` more of them damaged (negative: not damaged after all). Never below zero;
    damaged never more than received."""
    if inbound.state is InboundState.CLOSED:
        return _after_close(inbound, f"{qty:+d} × {sku}")
    lines = _counted(inbound.lines, sku, qty, damaged)
    return InboundOutcome(Status.APPLIED, _touch(inbound, ctx, lines))


def receive_carton(inbound: Inbound, sscc: str, ctx: Context) -> InboundOutcome:
    """`inbound.carton`: the carton with this SSCC arrived; its listed lines count at once
    (a carton listing no lines is only ticked: its items are scanned one by one). Scanning
    it again changes nothing."""
    carton = next((c for c in inbound.cartons if c.sscc == sscc), None)
    if inbound.state is InboundState.CLOSED:
        return _after_close(inbound, f"carton {sscc}")
    if carton is None:
        return InboundOutcome(
            Status.COMPENSATED,
            inbound,
            Code.UNKNOWN_CARTON,
            f"Carton {sscc} is not on shipment {inbound.shipment_id}: count its items one by one",
        )
    if carton.received:
        return InboundOutcome(Status.APPLIED, inbound, message=f"Carton {sscc} was already counted")
    lines = inbound.lines
    for c in carton.lines:
        lines = _counted(lines, c.sku, c.qty, 0)
    cartons = tuple(
        c.model_copy(update={"received": True}) if c.sscc == sscc else c for c in inbound.cartons
    )
    new = _touch(inbound, ctx, lines).model_copy(update={"cartons": cartons})
    units = sum(c.qty for c in carton.lines)
    said = f"Carton {sscc}: {units} unit(s) counted" if units else f"Carton {sscc} arrived"
    return InboundOutcome(Status.APPLIED, new, message=said)


def _differences(inbound: Inbound) -> str:
    parts: list[str] = []
    for x in inbound.lines:
        name = x.name or x.sku
        if x.over:
            parts.append(f"{x.over} over of {name}")
        if x.short:
            parts.append(f"{x.short} short of {name}")
        if x.damaged:
            parts.append(f"{x.damaged} damaged of {name}")
    return ", ".join(parts)


def _what_to_do(inbound: Inbound) -> str:
    todo: list[str] = []
    if any(x.short for x in inbound.lines) or any(x.damaged for x in inbound.lines):
        todo.append(f"claim the short and damaged units from {inbound.source}")
    if any(x.over for x in inbound.lines):
        todo.append("keep the extra units on hand or send them back")
    if any(x.damaged for x in inbound.lines):
        todo.append(f"damaged units wait at {DAMAGED_BIN}")
    return "; ".join(todo)


def close(inbound: Inbound, ctx: Context) -> InboundOutcome:
    """`inbound.close`: the stock posts — good units to the item's shelf (`receipt`), damaged
    ones to the damaged bin (`receipt_damaged`), and for a transfer its shipped units leave
    IN-TRANSIT. Over, short or damaged units open one manager exception (RECEIPT_DIFFERS)
    saying what to do. Closing again changes nothing."""
    if inbound.state is InboundState.CLOSED:
        return InboundOutcome(Status.APPLIED, inbound, message="This receipt is already closed")
    movements: list[Movement] = []
    for x in inbound.lines:
        if x.good:
            movements.append(
                Movement(kind=MovementKind.RECEIPT, sku=x.sku, location=x.location, qty=x.good)
            )
        if x.damaged:
            movements.append(
                Movement(
                    kind=MovementKind.RECEIPT_DAMAGED,
                    sku=x.sku,
                    location=DAMAGED_BIN,
                    qty=x.damaged,
                )
            )
        if inbound.transfer_id and x.expected:
            movements.append(
                Movement(
                    kind=MovementKind.IN_TRANSIT, sku=x.sku, location=IN_TRANSIT, qty=-x.expected
                )
            )
    new = inbound.model_copy(
        update={
            "state": InboundState.CLOSED,
            "started_at": inbound.started_at or ctx.now,
            "closed_at": ctx.now,
            "closed_by": ctx.actor_id,
            "updated_at": ctx.now,
        }
    )
    received = tuple((x.sku, x.good) for x in inbound.lines if x.good)
    if not inbound.differs:
        return InboundOutcome(
            Status.APPLIED,
            new,
            message=f"Shipment {inbound.shipment_id} received: {inbound.received_units} unit(s)",
            movements=tuple(movements),
            received=received,
        )
    message = (
        f"Shipment {inbound.shipment_id} from {inbound.source} closed with {_differences(inbound)}: "
        f"{_what_to_do(inbound)}"
    )
    return InboundOutcome(
        Status.APPLIED,
        new,
        Code.RECEIPT_DIFFERS,
        message,
        movements=tuple(movements),
        exceptions=(ExceptionNote(Code.RECEIPT_DIFFERS, message, inbound.order_id),),
        received=received,
    )


def shipped_in_transit(lines: Iterable[tuple[str, int]]) -> tuple[Movement, ...]:
    """The destination's `in_transit` movements when a transfer ships: its units are the
    store's, at IN-TRANSIT, until the receipt closes."""
    return tuple(
        Movement(kind=MovementKind.IN_TRANSIT, sku=sku, location=IN_TRANSIT, qty=qty)
        for sku, qty in lines
        if qty
    )


PICKUP_SHELF = "PICKUP-SHELF"  # where a ship-to-store order that arrived is staged


def order_arrived(
    order: Order, received: Iterable[tuple[str, int]], ctx: Context
) -> Outcome | None:
    """A ship-to-store customer order whose shipment was received: its lines are picked from
    what arrived and it is staged on the pickup shelf, as `picking.stage` stages an order
    (the customer gets its ready-for-pickup notification). None when the order is no longer
    waiting (cancelled, already staged …): its goods stay on hand."""
    if order.state not in PICKABLE_STATES or order.type is not OrderType.PICKUP:
        return None
    left = dict(received)
    lines = []
    for x in order.lines:
        take = max(x.picked, min(x.qty - x.short, left.get(x.sku, 0)))
        left[x.sku] = left.get(x.sku, 0) - take
        lines.append(x.model_copy(update={"picked": take}))
    lines = [x if x.done else x.model_copy(update={"short": x.qty - x.picked}) for x in lines]
    outcome = stage(order.model_copy(update={"lines": tuple(lines)}), PICKUP_SHELF, 0, ctx)
    return outcome if outcome.status is Status.APPLIED else None
