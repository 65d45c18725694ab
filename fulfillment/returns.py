"""Returns of online purchases (DOMAIN.md, Returns of online purchases).

What may come back (sold − already returned), the store's policy (window, final sale,
the offline value limit), and what receiving a return does: the order's lines count the
returned units, sellable goods marked `restock` go back on hand at their home location,
everything else goes to the damaged bin (not sellable), and a refund to the original
tender is requested, or held while a manager decides.

Both ends run `receive` and `override`: the tablet for its local effect and to tell the
associate at the counter, central again on its own data, and central's answer stands.
The goods are a physical fact: a return is always recorded; what the rules decide is
how much of it counts against the order and whether the refund goes out now.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from .codes import Code
from .ledger import Movement, MovementKind
from .model import Frozen, Line, Order, OrderState
from .outcome import Context, ExceptionNote, Status
from .roles import may_decide

__all__ = [
    "DAMAGED_BIN",
    "Condition",
    "Disposition",
    "ItemFacts",
    "Return",
    "ReturnLine",
    "ReturnOutcome",
    "ReturnReason",
    "ReturnState",
    "override",
    "policy_breaches",
    "receive",
    "refund_of",
    "returnable",
    "sold_at",
]

DAMAGED_BIN = "DAMAGED-BIN"  # where goods that cannot be sold again wait (vendor or write-off)


class ReturnReason(StrEnum):
    CHANGED_MIND = "changed_mind"
    WRONG_SIZE = "wrong_size"
    DAMAGED = "damaged"
    DEFECTIVE = "defective"
    NOT_AS_DESCRIBED = "not_as_described"
    OTHER = "other"


class Condition(StrEnum):
    SELLABLE = "sellable"
    DAMAGED = "damaged"
    DEFECTIVE = "defective"


class Disposition(StrEnum):
    RESTOCK = "restock"
    DAMAGED_BIN = "damaged_bin"
    RETURN_TO_VENDOR = "return_to_vendor"


class ReturnState(StrEnum):
    COMPLETED = "completed"  # the refund is requested
    AWAITING_OVERRIDE = "awaiting_override"  # outside policy: a manager decides; refund held
    NEEDS_REVIEW = "needs_review"  # central could not verify it; refund held, manager exception


@dataclass(frozen=True)
class ItemFacts:
    """What the catalogue says of a sku (for lines of an order the tablet does not hold)."""

    name: str = ""
    price: Decimal = Decimal("0")
    location: str = ""
    final_sale: bool = False


class ReturnLine(Frozen):
    line_id: str | None = None  # the order's line; None when returned by sku without the order
    sku: str
    name: str = ""
    qty: int  # units the customer brought back
    refused: int = 0  # of those, more than was sold and not yet returned: manager review
    price: Decimal = Decimal("0")
    reason: ReturnReason
    note: str = ""
    condition: Condition
    disposition: Disposition
    location: str = ""  # where the accepted units went: the shelf, or the damaged bin

    @property
    def accepted(self) -> int:
        return self.qty - self.refused

    @property
    def restocked(self) -> int:
        """Units back on sale: only sellable goods marked restock."""
        sellable = self.condition is Condition.SELLABLE
        return self.accepted if sellable and self.disposition is Disposition.RESTOCK else 0


class Return(Frozen):
    """A return as both ends hold it (the `return` change's data)."""

    return_id: str
    order_id: str | None = None
    receipt: str | None = None
    state: ReturnState
    verified: bool = True  # the order was found and the lines matched it
    lines: tuple[ReturnLine, ...]
    refund_amount: Decimal = Decimal("0")
    tender: str = "original_tender"
    refund_requested: bool = False
    breaches: tuple[str, ...] = ()  # why it is outside policy, in words
    received_by: str
    received_by_name: str = ""
    received_at: datetime
    device_name: str = ""
    override_by: str | None = None
    override_by_name: str | None = None
    override_reason: str | None = None
    override_at: datetime | None = None

    @property
    def units(self) -> int:
        return sum(x.accepted for x in self.lines)


@dataclass(frozen=True)
class ReturnOutcome:
    status: Status
    ret: Return | None  # None: nothing recorded (refused outright)
    order: Order | None = None  # the order with its lines' `returned` moved on, when it changed
    code: str | None = None
    message: str | None = None
    movements: tuple[Movement, ...] = ()
    exceptions: tuple[ExceptionNote, ...] = ()
    refund: Decimal | None = None  # a refund to request now; None: none, or held

    @property
    def changed(self) -> bool:
        return self.ret is not None


# --- what may come back ------------------------------------------------------------------


def returnable(line: Line) -> int:
    """Units of a line the customer may still bring back: sold and not yet returned."""
    return max(0, line.fulfilled - line.returned)


def sold_at(order: Order) -> datetime | None:
    """When the goods left the store (the return window starts there)."""
    if order.fulfilled_at is not None:
        return order.fulfilled_at
    if order.state in (OrderState.SHIPPED, OrderState.HANDED_OVER):
        return order.updated_at
    return None


def refund_of(lines: Iterable[ReturnLine]) -> Decimal:
    return sum((x.price * x.accepted for x in lines), Decimal("0"))


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def policy_breaches(
    order: Order | None,
    lines: Sequence[ReturnLine],
    items: Mapping[str, ItemFacts],
    ctx: Context,
    *,
    offline: bool = False,
) -> tuple[str, ...]:
    """Why this return is outside the store's policy, in words (empty: within policy).

    `offline`: the order is not on this tablet, so the return rests on the receipt and may
    not exceed the store's offline value limit without a manager."""
    policy = ctx.policy
    breaches: list[str] = []
    sold = sold_at(order) if order is not None else None
    if sold is not None:
        days = (ctx.now - sold).days
        if days > policy.return_window_days:
            breaches.append(
                f"Sold {days} days ago: returns are accepted for {policy.return_window_days} days"
            )
    for line in lines:
        if line.accepted and items.get(line.sku, ItemFacts()).final_sale:
            breaches.append(f"{line.name or line.sku} was a final-sale item")
    if offline and order is None:
        value = refund_of(lines)
        if value > policy.offline_return_limit:
            breaches.append(
                f"{_money(value)} without the order on this tablet is over the offline limit "
                f"of {_money(policy.offline_return_limit)}"
            )
    return tuple(breaches)


# --- receiving ---------------------------------------------------------------------------


def _get(item: Mapping[str, Any] | Any, name: str, default: Any = None) -> Any:
    if isinstance(item, Mapping):
        return item.get(name, default)
    return getattr(item, name, default)


def _match(order: Order, wanted: Mapping[str, Any] | Any, left: dict[str, int]) -> Line | None:
    line_id = _get(wanted, "line_id")
    if line_id:
        return order.line(str(line_id))
    sku = _get(wanted, "sku")
    same = [x for x in order.lines if x.sku == sku]
    for line in same:
        if left[line.line_id] > 0:
            return line
    return same[0] if same else None


def _earlier_note(earlier: Sequence[Return], line_id: str | None, ctx: Context) -> str:
    for ret in sorted(earlier, key=lambda r: r.received_at, reverse=True):
        if any(x.line_id == line_id and x.accepted for x in ret.lines):
            where = f" on {ret.device_name}" if ret.device_name else ""
            return f"Already returned{where} at {ctx.clock_time(ret.received_at)}"
    return "More than was sold"


def receive(
    order: Order | None,
    wanted: Sequence[Mapping[str, Any] | Any],
    ctx: Context,
    *,
    return_id: str,
    items: Mapping[str, ItemFacts] | None = None,
    receipt: str | None = None,
    earlier: Sequence[Return] = (),
    device_name: str = "",
    at_central: bool = False,
) -> ReturnOutcome:
    """Receive a return: `wanted` are the payload's lines (line_id | sku, qty, reason, note,
    condition, disposition); `order` is None when it is not found.

    Returned ≤ sold: units over what is still returnable are refused (`ALREADY_RETURNED`,
    manager review). Outside policy the return is recorded and the refund held until a
    manager overrides. At central, an order it does not have makes the return
    `needs_review` (a manager exception), never a silent refusal. `receipt` is the order
    number or receipt the associate typed when the order is not there. `items` must hold the
    catalogue facts of the returned skus: final sale is the catalogue's, not the line's."""
    items = items or {}
    order_id = order.order_id if order is not None else None
    lines: list[ReturnLine] = []
    new_order = order
    refused_notes: list[str] = []
    if order is not None:
        left = {x.line_id: returnable(x) for x in order.lines}
        for w in wanted:
            qty = int(_get(w, "qty"))
            line = _match(order, w, left)
            if line is None:
                sku = str(_get(w, "sku") or _get(w, "line_id"))
                facts = items.get(sku, ItemFacts())
                lines.append(_line(w, sku, facts.name, facts.price, qty, qty, None, ""))
                refused_notes.append(f"{qty} × {facts.name or sku} is not on order {order_id}")
                continue
            accepted = min(qty, left[line.line_id])
            left[line.line_id] -= accepted
            got = _line(
                w, line.sku, line.name, line.price, qty, qty - accepted, line.line_id, line.location
            )
            lines.append(got)
            if got.refused:
                note = _earlier_note(earlier, line.line_id, ctx)
                refused_notes.append(f"{note}: {got.refused} × {line.name or line.sku} refused")
        counted = {x.line_id: 0 for x in order.lines}
        for got in lines:
            if got.line_id is not None:
                counted[got.line_id] += got.accepted
        if any(counted.values()):
            new_order = order.model_copy(
                update={
                    "lines": tuple(
                        x.model_copy(update={"returned": x.returned + counted[x.line_id]})
                        if counted[x.line_id]
                        else x
                        for x in order.lines
                    ),
                    "updated_at": ctx.now,
                    "fulfilled_at": sold_at(order),  # a return never restarts the window
                }
            )
    else:
        for w in wanted:
            sku = str(_get(w, "sku") or "")
            facts = items.get(sku, ItemFacts())
            qty = int(_get(w, "qty"))
            lines.append(_line(w, sku, facts.name, facts.price, qty, 0, None, facts.location))

    accepted = sum(x.accepted for x in lines)
    unverified = order is None and at_central
    breaches = policy_breaches(order, lines, items, ctx, offline=order is None)
    if unverified:
        state = ReturnState.NEEDS_REVIEW
    elif breaches:
        state = ReturnState.AWAITING_OVERRIDE
    else:
        state = ReturnState.COMPLETED
    amount = refund_of(lines)
    ret = Return(
        return_id=return_id,
        order_id=order_id or (receipt.strip() if receipt and receipt.strip() else None),
        receipt=receipt,
        state=state,
        verified=order is not None,
        lines=tuple(lines),
        refund_amount=amount,
        refund_requested=state is ReturnState.COMPLETED and amount > 0,
        breaches=breaches,
        received_by=ctx.actor_id,
        received_by_name=ctx.name_of(ctx.actor_id),
        received_at=ctx.now,
        device_name=device_name,
    )
    exceptions: list[ExceptionNote] = []
    if unverified:
        exceptions.append(
            ExceptionNote(
                Code.RETURN_UNVERIFIED,
                f"Return {return_id} names order {ret.order_id or '?'}, which this store does "
                f"not have: check the receipt; refund of {_money(amount)} held",
                ret.order_id,
            )
        )
    if refused_notes:
        exceptions.append(
            ExceptionNote(
                Code.ALREADY_RETURNED,
                f"Return {return_id}: " + "; ".join(refused_notes) + " — where are the goods?",
                order_id,
            )
        )
    if accepted == 0:
        return ReturnOutcome(
            Status.REJECTED,
            None,
            code=Code.ALREADY_RETURNED if order is not None else Code.NOTHING_TO_RETURN,
            message="; ".join(refused_notes) or "Nothing to return",
            exceptions=tuple(exceptions),
        )
    movements = tuple(_movements(lines, ret.order_id))
    if unverified:
        status, code = Status.COMPENSATED, Code.RETURN_UNVERIFIED
        message = f"Order {ret.order_id or '?'} was not found: a manager checks it; refund held"
    elif refused_notes:
        status, code, message = Status.COMPENSATED, Code.ALREADY_RETURNED, "; ".join(refused_notes)
    elif breaches:
        status, code = Status.APPLIED, Code.OUTSIDE_POLICY
        message = "; ".join(breaches) + " — waiting for a manager's override; refund held"
    else:
        status, code, message = Status.APPLIED, None, None
    return ReturnOutcome(
        status,
        ret,
        order=new_order if new_order is not order else None,
        code=code,
        message=message,
        movements=movements,
        exceptions=tuple(exceptions),
        refund=amount if ret.refund_requested else None,
    )


def _line(
    w: Mapping[str, Any] | Any,
    sku: str,
    name: str,
    price: Decimal,
    qty: int,
    refused: int,
    line_id: str | None,
    home: str,
) -> ReturnLine:
    line = ReturnLine(
        line_id=line_id,
        sku=sku,
        name=name,
        qty=qty,
        refused=refused,
        price=price,
        reason=ReturnReason(_get(w, "reason")),
        note=str(_get(w, "note") or ""),
        condition=Condition(_get(w, "condition")),
        disposition=Disposition(_get(w, "disposition")),
    )
    return line.model_copy(update={"location": home if line.restocked else DAMAGED_BIN})


def _movements(lines: Iterable[ReturnLine], order_id: str | None) -> Iterable[Movement]:
    for x in lines:
        if not x.accepted:
            continue
        kind = MovementKind.RETURN_RESTOCK if x.restocked else MovementKind.RETURN_DAMAGED
        yield Movement(kind=kind, sku=x.sku, location=x.location, qty=x.accepted, order_id=order_id)


# --- a manager's override ------------------------------------------------------------------


def override(ret: Return, reason: str, ctx: Context) -> ReturnOutcome:
    """A manager accepts a return outside policy (or one central could not verify): the
    refund is requested now. Never by the person who received the return."""
    if ret.state is ReturnState.COMPLETED:
        return ReturnOutcome(
            Status.REJECTED,
            None,
            code=Code.NOT_WAITING,
            message=f"Return {ret.return_id} needs no override: its refund is already requested",
        )
    if not may_decide(ctx.actor_id, ret.received_by):
        return ReturnOutcome(
            Status.REJECTED,
            None,
            code=Code.SAME_PERSON,
            message="A manager cannot approve a return they received themselves",
        )
    new = ret.model_copy(
        update={
            "state": ReturnState.COMPLETED,
            "refund_requested": ret.refund_amount > 0,
            "override_by": ctx.actor_id,
            "override_by_name": ctx.name_of(ctx.actor_id),
            "override_reason": reason,
            "override_at": ctx.now,
        }
    )
    return ReturnOutcome(
        Status.APPLIED, new, refund=new.refund_amount if new.refund_requested else None
    )
