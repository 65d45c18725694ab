"""Order and line rules: claim, pick, short, stage, ship, hand over, reject, cancel, expire.

Each rule takes the order as it stands and returns an `Outcome`: the new order,
the ledger movements, follow-up tasks, manager exceptions and customer
notifications it causes, and a status with a code and a sentence.

Intents (claim, release, stage, reject, assign, prioritize) may be `rejected`.
Physical facts (scan, unscan, short, ship, hand-over) are never rejected when
the order exists: if the world moved on they are `compensated` with a
follow-up task, because the units really are in a tote or in a customer's
hands.

State machine (DOMAIN.md):

    released --claim--> picking --(all lines picked or shorted)--> picked
    picked --stage--> staged --ship--> shipped            (ship_from_store)
    staged --handoff--> handed_over                       (pickup; partial keeps it staged)
    released/picking/picked --reject--> rejected
    released/picking/picked --reject a line--> the same state, or rejected when nothing is
                                               left to send (issue #11)
    any open state --cancel--> cancelled                  (picked units get a restock task)
    staged pickup, not collected in time --expire--> expired (restock task)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import timedelta
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from .barcodes import InvalidBarcode, normalize_gtin
from .codes import Code
from .ledger import Movement, MovementKind
from .model import (
    PICKABLE_STATES,
    CheckIn,
    Line,
    Order,
    OrderState,
    OrderType,
    PickupProof,
    Policy,
    RejectEffect,
    Rejection,
    RejectReason,
    ShortReason,
)
from .outcome import (
    Context,
    ExceptionNote,
    Followup,
    Notification,
    Outcome,
    Refusal,
    Status,
    TaskKind,
)

__all__ = [
    "ORDER_OPS",
    "ORDER_RULES",
    "apply_order_op",
    "assign",
    "cancel",
    "change_contact",
    "check_in",
    "claim",
    "expire",
    "hand_over",
    "id_check_needed",
    "is_expired",
    "prioritize",
    "reject",
    "reject_line",
    "release",
    "remind",
    "resend_notice",
    "reservation_change",
    "reservations",
    "scan",
    "ship",
    "short_pick",
    "stage",
    "stage_blocker",
    "unscan",
]

CLOSED_CODES = {
    OrderState.CANCELLED: (Code.ORDER_CANCELLED, "Order {order} was cancelled"),
    OrderState.EXPIRED: (Code.ORDER_EXPIRED, "Order {order} expired: it was not collected in time"),
    OrderState.REJECTED: (Code.ORDER_REJECTED, "Order {order} was sent back to the online store"),
    OrderState.SHIPPED: (Code.ORDER_CLOSED, "Order {order} has already shipped"),
    OrderState.HANDED_OVER: (Code.ORDER_CLOSED, "Order {order} was already handed over"),
    OrderState.STAGED: (Code.ORDER_CLOSED, "Order {order} is already staged"),
}


_SHIPPED_AFTER = {
    OrderState.CANCELLED: Code.SHIPPED_AFTER_CANCELLED,
    OrderState.EXPIRED: Code.SHIPPED_AFTER_EXPIRED,
    OrderState.REJECTED: Code.SHIPPED_AFTER_REJECTED,
}


def _hhmm(ctx: Context, order: Order) -> str:
    return ctx.clock_time(order.claimed_at) if order.claimed_at else "earlier"


def _rejected(order: Order, code: str, message: str) -> Outcome:
    return Outcome(Status.REJECTED, order, code=code, message=message)


def _closed(order: Order) -> tuple[str, str]:
    code, template = CLOSED_CODES.get(order.state, (Code.ORDER_CLOSED, "Order {order} is closed"))
    return code, template.format(order=order.order_id)


def _touch(order: Order, ctx: Context, **update: Any) -> Order:
    return order.evolve(**{**update, "updated_at": ctx.now})


def _after_pick_change(state: OrderState, lines: tuple[Line, ...]) -> OrderState:
    """The state once a line's picked/short counts moved."""
    if state not in PICKABLE_STATES:
        return state
    started = False
    done = True
    for x in lines:  # (one pass: a scan's hot path)
        if x.picked or x.short:
            started = True
        if x.qty - x.picked - x.short:  # not `done`
            done = False
    if done:
        return OrderState.PICKED
    if state is OrderState.PICKED or started:
        return OrderState.PICKING
    return state


def _counted(order: Order, line: Line, ctx: Context, **counts: Any) -> Order:
    """The order with one line's counts changed, its state moved on, touched — one copy."""
    changed = line.evolve(**counts)
    lines = tuple(changed if x.line_id == line.line_id else x for x in order.lines)
    state = _after_pick_change(order.state, lines)
    return order.evolve(lines=lines, state=state, updated_at=ctx.now)


# --- intents --------------------------------------------------------------------


def claim(order: Order, ctx: Context) -> Outcome:
    if order.state not in PICKABLE_STATES:
        return _rejected(order, *_closed(order))
    if order.assignee and order.assignee != ctx.actor_id:
        return _rejected(
            order,
            Code.ALREADY_CLAIMED,
            f"Picked by {ctx.name_of(order.assignee)} since {_hhmm(ctx, order)}",
        )
    if order.assignee == ctx.actor_id and order.state is not OrderState.RELEASED:
        return Outcome(Status.APPLIED, order)
    state = OrderState.PICKING if order.state is OrderState.RELEASED else order.state
    new = _touch(
        order,
        ctx,
        assignee=ctx.actor_id,
        assignee_name=ctx.name_of(ctx.actor_id),
        claimed_at=ctx.now,
        state=state,
    )
    return Outcome(Status.APPLIED, new)


def release(order: Order, ctx: Context) -> Outcome:
    if order.state not in PICKABLE_STATES:
        return _rejected(order, *_closed(order))
    if order.assignee not in (None, ctx.actor_id) and ctx.role != "manager":
        return _rejected(
            order, Code.NOT_YOURS, f"Only {ctx.name_of(order.assignee)} or a manager can release it"
        )
    started = any(x.picked or x.short for x in order.lines)
    state = order.state if started else OrderState.RELEASED
    new = _touch(order, ctx, assignee=None, assignee_name=None, claimed_at=None, state=state)
    return Outcome(Status.APPLIED, new)


def assign(order: Order, associate_id: str, ctx: Context) -> Outcome:
    if order.state not in PICKABLE_STATES:
        return _rejected(order, *_closed(order))
    if associate_id not in ctx.staff_names:
        return _rejected(
            order, Code.UNKNOWN_ASSOCIATE, f"No associate {associate_id} in this store"
        )
    new = _touch(
        order,
        ctx,
        assignee=associate_id,
        assignee_name=ctx.name_of(associate_id),
        claimed_at=ctx.now,
    )
    return Outcome(Status.APPLIED, new, message=f"Assigned to {ctx.name_of(associate_id)}")


def prioritize(order: Order, priority: int, ctx: Context) -> Outcome:
    if not order.is_open:
        return _rejected(order, *_closed(order))
    return Outcome(Status.APPLIED, _touch(order, ctx, priority=priority))


def stage_blocker(order: Order, policy: Policy) -> Refusal | None:
    """Why an order whose picking is over may not be staged, or None when it may: units still
    to pick or mark short (LINES_OPEN), nothing picked (NOTHING_PICKED), or partly short where
    the store sends no partial orders (PARTIAL_NOT_ALLOWED). The order's state is `stage`'s
    own check; the pick list asks this before it stages or sends an order back."""
    left = sum(x.remaining for x in order.lines)
    if left:
        return Refusal(Code.LINES_OPEN, f"{left} unit(s) still to pick or mark short")
    if order.picked_units == 0:
        return Refusal(Code.NOTHING_PICKED, "Nothing was picked: send the order back instead")
    if any(x.short for x in order.lines) and not policy.allow_partial:
        return Refusal(
            Code.PARTIAL_NOT_ALLOWED,
            "This store does not send partial orders: send the order back instead",
        )
    return None


def stage(order: Order, staging_location: str, packages: int, ctx: Context) -> Outcome:
    if order.state is OrderState.STAGED:
        return Outcome(Status.APPLIED, order)
    if order.state not in PICKABLE_STATES:
        return _rejected(order, *_closed(order))
    blocker = stage_blocker(order, ctx.policy)
    if blocker is not None:
        return _rejected(order, blocker.code, blocker.message)
    partial = any(x.short for x in order.lines)
    new = _touch(
        order,
        ctx,
        state=OrderState.STAGED,
        staging_location=staging_location,
        staged_at=ctx.now,
        packages=packages,
    )
    notes: tuple[Notification, ...] = ()
    if order.type is OrderType.PICKUP:
        notes = (
            Notification(
                "ready_for_pickup",
                order.order_id,
                {"staging_location": staging_location, "partial": partial},
            ),
        )
    return Outcome(Status.APPLIED, new, notifications=notes)


def reject(order: Order, reason: str, ctx: Context, code: str | None = None) -> Outcome:
    """The whole order goes back to the online store. `code` (issue #11, optional: older
    tablets send only the words): one of the store's reasons, whose stock effect applies to
    the order's units — damaged: the picked units go to the damaged bin instead of back to
    the shelf; doubtful: every place with units not picked is recounted."""
    if order.state not in PICKABLE_STATES:
        return _rejected(order, *_closed(order))
    why = ctx.policy.reject_reason(code) if code else None
    history = order.rejections
    if why is not None:
        history = (
            *history,
            Rejection(
                qty=sum(x.open_qty for x in order.lines),
                code=why.code,
                label=why.label,
                effect=why.effect,
                note=reason,
                by=ctx.actor_id,
                at=ctx.now,
            ),
        )
    new = _touch(
        order,
        ctx,
        state=OrderState.REJECTED,
        reason=reason,
        reject_code=why.code if why else None,
        rejections=history,
    )
    movements: tuple[Movement, ...] = ()
    followups: tuple[Followup, ...] = ()
    if why is not None and why.effect is RejectEffect.DAMAGED:
        movements = tuple(
            _reject_move(MovementKind.DAMAGED, x, x.picked - x.fulfilled, order)
            for x in order.lines
            if x.picked > x.fulfilled
        )
    else:
        followups = _return_to_shelf(order, TaskKind.RESTOCK, f"order {order.order_id} sent back")
    if why is not None and why.effect is RejectEffect.DOUBTFUL:
        followups += tuple(_reject_recount(x, order, why) for x in order.lines if x.remaining)
        if why.lowers_available:
            movements += tuple(
                _reject_move(MovementKind.REJECT_WRITEOFF, x, x.remaining, order)
                for x in order.lines
                if x.remaining
            )
    return Outcome(
        Status.APPLIED,
        new,
        movements=movements,
        followups=followups,
        message=f"Order {order.order_id} sent back to the online store",
    )


def _reject_move(kind: MovementKind, line: Line, qty: int, order: Order) -> Movement:
    return Movement(
        kind=kind, sku=line.sku, location=line.location, qty=qty, order_id=order.order_id
    )


def _reject_recount(line: Line, order: Order, why: RejectReason) -> Followup:
    return Followup(
        TaskKind.RECOUNT, line.sku, line.location, 0, order.order_id, f"rejected: {why.label}"
    )


def reject_line(
    order: Order, line_id: str, qty: int, code: str, note: str, ctx: Context
) -> Outcome:
    """Reject `qty` units of one line for one of the store's reasons (`line.reject`): the
    units are not sent (counted in the line's `short`), the rest of the order goes on.

    Units still on the shelf are rejected first, then units already in the tote (found
    damaged at packing, say). The reason's effect: damaged — the units go to the damaged
    bin (a `damaged` movement takes them off on-hand); doubtful — the place becomes
    doubtful with a blind recount task, and where the reason `lowers_available` the units
    not found are written off until the count; none — units in the tote go back to the
    shelf (a put-back task). An order with nothing left to send is rejected as a whole."""
    if order.state not in PICKABLE_STATES:
        return _rejected(order, *_closed(order))
    line = order.line(line_id)
    if line is None:
        return _rejected(
            order, Code.LINE_NOT_FOUND, f"Order {order.order_id} has no line {line_id}"
        )
    open_units = line.remaining + line.picked
    if open_units <= 0:
        return _rejected(
            order, Code.NOTHING_TO_REJECT, f"{line.name or line.sku}: no unit left to reject"
        )
    why = ctx.policy.reject_reason(code)
    n = min(qty, open_units)
    from_shelf = min(n, line.remaining)
    from_tote = n - from_shelf
    changed = line.model_copy(
        update={
            "picked": line.picked - from_tote,
            "short": line.short + n,
            "rejected": line.rejected + n,
            "reject_code": why.code,
        }
    )
    lines = tuple(changed if x.line_id == line.line_id else x for x in order.lines)
    state = _after_pick_change(order.state, lines)
    nothing_left = all(x.done for x in lines) and not any(x.picked for x in lines)
    if nothing_left:
        state = OrderState.REJECTED
    record = Rejection(
        line_id=line.line_id,
        qty=n,
        code=why.code,
        label=why.label,
        effect=why.effect,
        note=note,
        by=ctx.actor_id,
        at=ctx.now,
    )
    new = _touch(
        order,
        ctx,
        lines=lines,
        state=state,
        rejections=(*order.rejections, record),
        **(
            {"reason": f"every unit rejected: {why.label}", "reject_code": why.code}
            if nothing_left
            else {}
        ),
    )
    movements: list[Movement] = []
    followups: list[Followup] = []
    if why.effect is RejectEffect.DAMAGED:
        movements.append(_reject_move(MovementKind.DAMAGED, line, n, order))
    else:
        if why.effect is RejectEffect.DOUBTFUL:
            followups.append(_reject_recount(line, order, why))
            if why.lowers_available and from_shelf:
                movements.append(
                    _reject_move(MovementKind.REJECT_WRITEOFF, line, from_shelf, order)
                )
        if from_tote:
            followups.append(
                Followup(
                    TaskKind.PUT_BACK,
                    line.sku,
                    line.location,
                    from_tote,
                    order.order_id,
                    f"rejected: {why.label}",
                )
            )
    item = line.name or line.sku
    message = f"{n} × {item} rejected: {why.label}"
    if nothing_left:
        message += f"; nothing left to send, order {order.order_id} goes back to the online store"
    return Outcome(
        Status.APPLIED,
        new,
        message=message,
        movements=tuple(movements),
        followups=tuple(followups),
    )


# --- physical facts -------------------------------------------------------------


def _line_or_none(order: Order, line_id: str) -> Line | None:
    return order.line(line_id)


@lru_cache(maxsize=4096)  # a batch scans the same items again and again
def _gtin(code: str) -> str:
    """`normalize_gtin`, remembered (an invalid one raises each time: nothing is cached)."""
    return normalize_gtin(code)


@lru_cache(maxsize=4096)
def _gtins(codes: tuple[str, ...]) -> frozenset[str]:
    return frozenset(_gtin(g) for g in codes)


def scan(
    order: Order,
    line_id: str,
    gtin: str,
    qty: int,
    location: str,
    ctx: Context,
) -> Outcome:
    line = _line_or_none(order, line_id)
    if line is None:
        return Outcome(
            Status.COMPENSATED,
            order,
            code=Code.LINE_NOT_FOUND,
            message=f"Order {order.order_id} has no line {line_id}: put {qty} × back at {location}",
            followups=(Followup(TaskKind.PUT_BACK, "", location, qty, order.order_id, gtin),),
        )
    where = line.location or location
    if order.state not in PICKABLE_STATES:
        code, sentence = _closed(order)
        kind = TaskKind.PUT_BACK if order.is_open else TaskKind.RESTOCK
        return Outcome(
            Status.COMPENSATED,
            order,
            code=code,
            message=f"{sentence}: put {qty} × {line.name or line.sku} back at {where}",
            followups=(Followup(kind, line.sku, where, qty, order.order_id, code.lower()),),
        )
    try:
        wanted = _gtins(line.gtins)
        scanned = _gtin(gtin)
    except InvalidBarcode as exc:
        return Outcome(Status.COMPENSATED, order, code=Code.INVALID_GTIN, message=str(exc))
    if scanned not in wanted:
        return Outcome(
            Status.COMPENSATED,
            order,
            code=Code.WRONG_ITEM,
            message=f"{gtin} is not {line.name or line.sku}: put it back at {where}",
            followups=(Followup(TaskKind.PUT_BACK, "", where, qty, order.order_id, gtin),),
        )
    accepted = min(qty, line.remaining)
    excess = qty - accepted
    new = order
    movements: tuple[Movement, ...] = ()
    if accepted:
        new = _counted(order, line, ctx, picked=line.picked + accepted)
        movements = (
            Movement(
                kind=MovementKind.PICK,
                sku=line.sku,
                location=line.location or where,
                qty=accepted,
                order_id=order.order_id,
            ),
        )
    if not excess:
        return Outcome(Status.APPLIED, new, movements=movements)
    if order.assignee and order.assignee != ctx.actor_id:
        sentence = (
            f"Picked by {ctx.name_of(order.assignee)} at {_hhmm(ctx, order)}"
            f" — put {excess} × back at {where}"
        )
    else:
        sentence = f"Line wants {line.qty}: put {excess} × back at {where}"
    return Outcome(
        Status.COMPENSATED,
        new,
        code=Code.OVER_PICK,
        message=sentence,
        movements=movements,
        followups=(
            Followup(TaskKind.PUT_BACK, line.sku, where, excess, order.order_id, "over_pick"),
        ),
    )


def unscan(order: Order, line_id: str, qty: int, ctx: Context) -> Outcome:
    line = _line_or_none(order, line_id)
    if line is None:
        return Outcome(
            Status.COMPENSATED, order, code=Code.LINE_NOT_FOUND, message=f"No line {line_id}"
        )
    if order.state not in PICKABLE_STATES:
        code, sentence = _closed(order)
        return Outcome(Status.COMPENSATED, order, code=code, message=sentence)
    accepted = min(qty, line.picked)
    if not accepted:
        return Outcome(
            Status.COMPENSATED,
            order,
            code=Code.NOTHING_TO_PUT_BACK,
            message=f"No {line.name or line.sku} was picked for this order",
        )
    new = _counted(order, line, ctx, picked=line.picked - accepted)
    movement = Movement(
        kind=MovementKind.PUT_BACK,
        sku=line.sku,
        location=line.location,
        qty=accepted,
        order_id=order.order_id,
    )
    return Outcome(Status.APPLIED, new, movements=(movement,))


def short_pick(order: Order, line_id: str, qty: int, reason: str, ctx: Context) -> Outcome:
    line = _line_or_none(order, line_id)
    if line is None:
        return Outcome(
            Status.COMPENSATED, order, code=Code.LINE_NOT_FOUND, message=f"No line {line_id}"
        )
    recount = Followup(
        TaskKind.RECOUNT, line.sku, line.location, 0, order.order_id, f"short: {reason}"
    )
    if order.state not in PICKABLE_STATES:
        code, sentence = _closed(order)
        return Outcome(Status.COMPENSATED, order, code=code, message=sentence, followups=(recount,))
    accepted = min(qty, line.remaining)
    if not accepted:
        return Outcome(
            Status.COMPENSATED,
            order,
            code=Code.NOTHING_TO_SHORT,
            message=f"{line.name or line.sku} needs no more units",
            followups=(recount,),
        )
    new = _counted(order, line, ctx, short=line.short + accepted, short_reason=ShortReason(reason))
    return Outcome(Status.APPLIED, new, followups=(recount,))


def _first_time(order: Order, ctx: Context) -> str:
    """Who recorded the order's last shipment or hand-over, and when: "Ana at 10:30"."""
    who = ctx.name_of(order.fulfilled_by) if order.fulfilled_by else ""
    at = f"at {ctx.clock_time(order.fulfilled_at)}" if order.fulfilled_at else "earlier"
    return f"{who} {at}".strip()


def _parcel(carrier: str | None, tracking: str | None) -> str:
    said = f"{carrier or ''} {tracking or ''}".strip()
    return f" ({said})" if said else ""


def ship(order: Order, carrier: str, tracking: str, packages: int, ctx: Context) -> Outcome:
    if order.type is OrderType.PICKUP:
        return _rejected(order, Code.WRONG_ORDER_TYPE, "A pickup order is handed over, not shipped")
    if order.state in (OrderState.SHIPPED, OrderState.HANDED_OVER):
        return _shipped_again(order, carrier, tracking, ctx)
    if order.state in (OrderState.RELEASED, OrderState.PICKING):
        left = sum(x.remaining for x in order.lines)
        return _rejected(order, Code.LINES_OPEN, f"{left} unit(s) still to pick or mark short")
    after_close = order.state in (OrderState.CANCELLED, OrderState.EXPIRED, OrderState.REJECTED)
    lines = tuple(x.evolve(fulfilled=x.picked) for x in order.lines)
    movements = tuple(
        Movement(
            kind=MovementKind.SHIP,
            sku=x.sku,
            location=x.location,
            qty=x.picked - x.fulfilled,
            order_id=order.order_id,
        )
        for x in order.lines
        if x.picked > x.fulfilled
    )
    new = _touch(
        order,
        ctx,
        lines=lines,
        state=OrderState.SHIPPED,
        fulfilled_at=ctx.now,
        fulfilled_by=ctx.actor_id,
        carrier=carrier,
        tracking=tracking,
        packages=packages or order.packages,
    )
    note = Notification("shipped", order.order_id, {"carrier": carrier, "tracking": tracking})
    if after_close:
        _, sentence = _closed(order)
        message = f"{sentence} before it shipped — the parcel is gone: manager review"
        return Outcome(
            Status.COMPENSATED,
            new,
            code=_SHIPPED_AFTER[order.state],
            message=message,
            movements=movements,
            exceptions=(ExceptionNote(_SHIPPED_AFTER[order.state], message, order.order_id),),
            notifications=(note,),
            closes_order_tasks=True,
        )
    return Outcome(Status.APPLIED, new, movements=movements, notifications=(note,))


def _shipped_again(order: Order, carrier: str, tracking: str, ctx: Context) -> Outcome:
    """A second shipment of an order that already shipped (another tablet, offline): the fact
    stands and a manager is told, but stock leaves the ledger once — the first shipment
    already took every picked unit out, and units nobody scanned are not known to exist."""
    first = _first_time(order, ctx)
    earlier = _parcel(order.carrier, order.tracking)
    this = _parcel(carrier, tracking)
    return Outcome(
        Status.COMPENSATED,
        order,
        code=Code.ALREADY_SHIPPED,
        message=(
            f"Order {order.order_id} had already shipped, {first}{earlier}: this parcel{this}"
            " goes to a manager to check; stock was not taken off twice"
        ),
        exceptions=(
            ExceptionNote(
                Code.ALREADY_SHIPPED,
                f"Order {order.order_id} shipped twice: {ctx.name_of(ctx.actor_id)} at"
                f" {ctx.clock_time(ctx.now)}{this} after {first}{earlier} — stock left the"
                " store once; check the packing bench for the order's goods and ask the"
                " carrier to stop the parcel that should not go",
                order.order_id,
            ),
        ),
    )


def _over_words(over: list[tuple[Line | None, str, int]]) -> str:
    """ "line 1 Item 1: 1 more; line 9 (not on the order): 2 more" """
    return "; ".join(
        f"line {line_id} {line.name or line.sku}: {n} more"
        if line is not None
        else f"line {line_id} (not on the order): {n} more"
        for line, line_id, n in over
    )


def _recounts(order: Order, over: list[tuple[Line | None, str, int]]) -> tuple[Followup, ...]:
    """A recount of each item handed over beyond what was picked: the extra units came off a
    shelf without a scan, so that shelf's book is wrong."""
    return tuple(
        Followup(TaskKind.RECOUNT, line.sku, line.location, 0, order.order_id, "over_handoff")
        for line, _, _ in over
        if line is not None
    )


def id_check_needed(order: Order, policy: Policy) -> bool:
    """Whether the collector's ID (type and last digits) is recorded at hand-over: the OMS
    flagged the order, or it is worth more than the store's `id_check_over`."""
    if order.id_required:
        return True
    return policy.id_check_over is not None and order.value > policy.id_check_over


def _proof(raw: Mapping[str, Any] | Any | None) -> PickupProof | None:
    if raw is None:
        return None
    if isinstance(raw, PickupProof):
        return raw
    data = raw if isinstance(raw, Mapping) else vars(raw)
    return PickupProof.model_validate(dict(data))


def _without_id(order: Order, proof: PickupProof | None, ctx: Context) -> ExceptionNote | None:
    if not id_check_needed(order, ctx.policy) or (proof is not None and proof.id_last4):
        return None
    return ExceptionNote(
        Code.ID_NOT_RECORDED,
        f"Order {order.order_id} was handed over by {ctx.name_of(ctx.actor_id)} at"
        f" {ctx.clock_time(ctx.now)} without the collector's ID, which this order needs:"
        " check who collected it",
        order.order_id,
    )


def hand_over(
    order: Order,
    verified_by: str,
    lines: Iterable[Mapping[str, Any]],
    ctx: Context,
    proof: Mapping[str, Any] | Any | None = None,
) -> Outcome:
    """`proof` (issue #11, optional: older tablets send none): who collected, and the ID
    where the policy asks; stored on the order. A hand-over the policy wanted an ID for and
    that recorded none still stands (the goods are gone): `ID_NOT_RECORDED`, manager review."""
    outcome = _hand_over(order, verified_by, lines, ctx)
    if outcome.status is Status.REJECTED:
        return outcome
    collected = _proof(proof)
    new = outcome.order
    if collected is not None:
        new = new.model_copy(update={"proof": collected})
    missing = _without_id(order, collected, ctx)
    if missing is None or outcome.status is not Status.APPLIED:
        return replace(outcome, order=new)
    return replace(
        outcome,
        order=new,
        status=Status.COMPENSATED,
        code=Code.ID_NOT_RECORDED,
        message="Handed over without the ID this order needs — manager review",
        exceptions=(*outcome.exceptions, missing),
    )


def _hand_over(
    order: Order,
    verified_by: str,
    lines: Iterable[Mapping[str, Any]],
    ctx: Context,
) -> Outcome:
    if order.type is not OrderType.PICKUP:
        return _rejected(
            order, Code.WRONG_ORDER_TYPE, "A ship-from-store order is shipped, not handed over"
        )
    if order.state in (OrderState.RELEASED, OrderState.PICKING):
        return _rejected(order, Code.NOT_READY, f"Order {order.order_id} is not picked yet")
    again = order.state in (OrderState.HANDED_OVER, OrderState.SHIPPED)
    after_close = order.state in (OrderState.CANCELLED, OrderState.EXPIRED, OrderState.REJECTED)
    wanted = {str(_get(x, "line_id")): int(_get(x, "qty")) for x in lines}
    movements: list[Movement] = []
    new = order
    over: list[tuple[Line | None, str, int]] = []  # (line, line_id, units beyond the picked)
    for line in order.lines:
        qty = wanted.pop(line.line_id, 0)
        # only units picked and not yet out of the store can leave it: stock moves once
        accepted = min(qty, line.picked - line.fulfilled)
        if qty > accepted:
            over.append((line, line.line_id, qty - accepted))
        if accepted:
            new = new.with_line(line.evolve(fulfilled=line.fulfilled + accepted))
            movements.append(
                Movement(
                    kind=MovementKind.HANDOFF,
                    sku=line.sku,
                    location=line.location,
                    qty=accepted,
                    order_id=order.order_id,
                )
            )
    over.extend((None, line_id, n) for line_id, n in wanted.items() if n > 0)
    excess = sum(n for _, _, n in over)
    moved = sum(m.qty for m in movements)
    complete = all(x.fulfilled >= x.picked for x in new.lines)
    state = OrderState.HANDED_OVER if (complete or after_close or again) else OrderState.STAGED
    if movements:
        new = _touch(new, ctx, state=state, fulfilled_at=ctx.now, fulfilled_by=ctx.actor_id)
    elif state is not order.state:
        new = _touch(new, ctx, state=state)
    me = f"{ctx.name_of(ctx.actor_id)} at {ctx.clock_time(ctx.now)}"
    if again:
        first = _first_time(order, ctx)
        left = (
            f"{moved} unit(s) still on the shelf left with it"
            if moved
            else "stock left the store once"
        )
        return Outcome(
            Status.COMPENSATED,
            new,
            code=Code.ALREADY_HANDED_OVER,
            message=(
                f"Order {order.order_id} was already handed over by {first}: a manager will"
                " check the pickup shelf and call the customer"
            ),
            movements=tuple(movements),
            exceptions=(
                ExceptionNote(
                    Code.ALREADY_HANDED_OVER,
                    f"Order {order.order_id} handed over twice: {me} after {first} — {left};"
                    " check the pickup shelf and call the customer",
                    order.order_id,
                ),
            ),
            closes_order_tasks=bool(movements),
        )
    over_said = (
        f"; {excess} unit(s) more than were picked ({_over_words(over)}): recount them"
        if excess
        else ""
    )
    if after_close:
        when = {
            OrderState.EXPIRED: "expiry",
            OrderState.CANCELLED: "cancellation",
        }.get(order.state, "it was sent back to the online store")
        code = (
            Code.HANDED_OVER_AFTER_EXPIRY
            if order.state is OrderState.EXPIRED
            else Code.HANDED_OVER_AFTER_CANCEL
        )
        message = f"Handed over after {when} — manager review"
        return Outcome(
            Status.COMPENSATED,
            new,
            code=code,
            message=message,
            movements=tuple(movements),
            followups=_recounts(order, over),
            exceptions=(
                ExceptionNote(
                    code, f"Order {order.order_id}: {message} ({me}){over_said}", order.order_id
                ),
            ),
            closes_order_tasks=True,
        )
    if excess:
        return Outcome(
            Status.COMPENSATED,
            new,
            code=Code.OVER_HANDOFF,
            message=f"{excess} unit(s) more than were picked: check the bag with the customer",
            movements=tuple(movements),
            followups=_recounts(order, over),
            exceptions=(
                ExceptionNote(
                    Code.OVER_HANDOFF,
                    f"Order {order.order_id}: {me} handed over {excess} unit(s) more than were"
                    f" picked ({_over_words(over)}) — recount those items on their shelves"
                    " and check with the customer what was in the bag",
                    order.order_id,
                ),
            ),
        )
    return Outcome(Status.APPLIED, new, movements=tuple(movements))


# --- notices and contact (issue #11) ---------------------------------------------


def resend_notice(order: Order, ctx: Context) -> Outcome:
    """`order.notify`: tell the customer again their order is ready (a notice the OMS sends)."""
    if order.type is not OrderType.PICKUP:
        return _rejected(order, Code.WRONG_ORDER_TYPE, "A ship-from-store order is not collected")
    if order.state is not OrderState.STAGED:
        if order.is_open:
            return _rejected(order, Code.NOT_READY, f"Order {order.order_id} is not ready yet")
        return _rejected(order, *_closed(order))
    new = _touch(order, ctx, notified_at=ctx.now)
    note = Notification(
        "ready_for_pickup",
        order.order_id,
        {"staging_location": order.staging_location, "resent": True, "by": ctx.actor_id},
    )
    return Outcome(
        Status.APPLIED,
        new,
        notifications=(note,),
        message=f"Ready-for-pickup notice sent again for {order.order_id}",
    )


def change_contact(order: Order, email: str | None, phone: str | None, ctx: Context) -> Outcome:
    """`order.contact`: correct the customer's email or phone (the OMS is told: an event)."""
    if not order.is_open:
        return _rejected(order, *_closed(order))
    update: dict[str, str] = {}
    if email is not None:
        update["email"] = email
    if phone is not None:
        update["phone"] = phone
    customer = order.customer.model_copy(update=update)
    if customer == order.customer:
        return Outcome(Status.APPLIED, order, message="The contact was already that")
    new = _touch(order, ctx, customer=customer)
    note = Notification(
        "contact_changed",
        order.order_id,
        {"email": customer.email, "phone": customer.phone, "by": ctx.actor_id},
    )
    return Outcome(
        Status.APPLIED, new, notifications=(note,), message="Contact corrected: the store is told"
    )


def check_in(order: Order, bay: str | None, note: str | None, ctx: Context) -> Outcome:
    """The OMS says the customer is here (curbside): shown at the top of the hand-over queue."""
    if order.type is not OrderType.PICKUP:
        return _rejected(order, Code.WRONG_ORDER_TYPE, "A ship-from-store order is not collected")
    if not order.is_open:
        return _rejected(order, *_closed(order))
    return Outcome(
        Status.APPLIED, _touch(order, ctx, checkin=CheckIn(at=ctx.now, bay=bay, note=note))
    )


def remind(order: Order, ctx: Context) -> Outcome | None:
    """The pickup-window reminder, once, `pickup_reminder_hours` before the hold ends (central's
    expiry job); None when it is not due."""
    hours = ctx.policy.pickup_reminder_hours
    if (
        hours <= 0
        or order.type is not OrderType.PICKUP
        or order.state is not OrderState.STAGED
        or order.reminded_at is not None
    ):
        return None
    staged_at = order.staged_at or order.updated_at or ctx.now
    ends = staged_at + timedelta(days=ctx.policy.pickup_hold_days)
    if not ends - timedelta(hours=hours) <= ctx.now < ends:
        return None
    note = Notification(
        "pickup_reminder",
        order.order_id,
        {"expires_at": ends.isoformat(), "staging_location": order.staging_location},
    )
    return Outcome(Status.APPLIED, _touch(order, ctx, reminded_at=ctx.now), notifications=(note,))


# --- central-only events (not ops from a tablet, same rules) ---------------------


def _return_to_shelf(order: Order, kind: TaskKind, reason: str) -> tuple[Followup, ...]:
    return tuple(
        Followup(kind, x.sku, x.location, x.picked - x.fulfilled, order.order_id, reason)
        for x in order.lines
        if x.picked > x.fulfilled
    )


def cancel(order: Order, reason: str, ctx: Context) -> Outcome:
    """The OMS cancels: picked units go back to the shelf by a restock task."""
    if order.state is OrderState.CANCELLED:
        return Outcome(Status.APPLIED, order)
    if not order.is_open:
        return _rejected(order, *_closed(order))
    new = _touch(order, ctx, state=OrderState.CANCELLED, reason=reason)
    return Outcome(
        Status.APPLIED,
        new,
        followups=_return_to_shelf(order, TaskKind.RESTOCK, f"order {order.order_id} cancelled"),
    )


def is_expired(order: Order, ctx: Context) -> bool:
    if order.type is not OrderType.PICKUP or order.state is not OrderState.STAGED:
        return False
    staged_at = order.staged_at or order.updated_at or ctx.now
    return ctx.now >= staged_at + timedelta(days=ctx.policy.pickup_hold_days)


def expire(order: Order, ctx: Context) -> Outcome:
    if not is_expired(order, ctx):
        return _rejected(order, Code.NOT_EXPIRED, f"Order {order.order_id} is still on hold")
    new = _touch(order, ctx, state=OrderState.EXPIRED, reason="not collected in time")
    return Outcome(
        Status.APPLIED,
        new,
        followups=_return_to_shelf(order, TaskKind.RESTOCK, f"order {order.order_id} expired"),
    )


def reservations(order: Order) -> dict[tuple[str, str], int]:
    """Units this order holds back from sale, per (sku, location)."""
    held: dict[tuple[str, str], int] = {}
    if not order.is_open:
        return held
    for line in order.lines:
        if line.open_qty > 0:
            key = (line.sku, line.location)
            held[key] = held.get(key, 0) + line.open_qty
    return held


def reservation_change(before: Order | None, after: Order) -> dict[tuple[str, str], int]:
    """What `after` holds back minus what `before` held, per (sku, location), zeros left
    out: the same as diffing their `reservations`, in one pass over the lines that changed
    (a rule hands back the very same line objects it did not touch)."""
    if before is None or before.is_open != after.is_open or len(before.lines) != len(after.lines):
        old = reservations(before) if before is not None else {}
        new = reservations(after)
        diff = {k: new.get(k, 0) - old.get(k, 0) for k in old.keys() | new.keys()}
        return {k: d for k, d in diff.items() if d}
    changed: dict[tuple[str, str], int] = {}
    if not after.is_open:
        return changed
    for was, now in zip(before.lines, after.lines, strict=True):
        if was is now:
            continue
        held = max(was.open_qty, 0)
        holds = max(now.open_qty, 0)
        if held == holds and was.sku == now.sku and was.location == now.location:
            continue  # a pick moves no reservation
        if held:
            key = (was.sku, was.location)
            changed[key] = changed.get(key, 0) - held
        if holds:
            key = (now.sku, now.location)
            changed[key] = changed.get(key, 0) + holds
    return {k: d for k, d in changed.items() if d} if changed else changed


# --- one entry point for both ends ---------------------------------------------


def _payload(p: Mapping[str, Any] | Any) -> dict[str, Any]:
    """A payload's fields: a mapping as is, a validated model's attributes (no dump)."""
    if isinstance(p, Mapping):
        return dict(p)
    return dict(vars(p))


def _get(item: Mapping[str, Any] | Any, name: str) -> Any:
    return item[name] if isinstance(item, Mapping) else getattr(item, name)


OrderRule = Callable[[Order, Mapping[str, Any], Context], Outcome]

# the rule of each op on an order (`Document.ORDER` in the op catalogue): a new order op is
# one entry here (tests/sync/test_op_catalogue.py checks the two lists agree)
ORDER_RULES: Mapping[str, OrderRule] = MappingProxyType(
    {
        "order.claim": lambda order, p, ctx: claim(order, ctx),
        "order.release": lambda order, p, ctx: release(order, ctx),
        "order.assign": lambda order, p, ctx: assign(order, p["associate_id"], ctx),
        "order.prioritize": lambda order, p, ctx: prioritize(order, int(p["priority"]), ctx),
        "order.stage": lambda order, p, ctx: stage(
            order, p["staging_location"], int(p.get("packages") or 0), ctx
        ),
        "order.ship": lambda order, p, ctx: ship(
            order, p["carrier"], p["tracking"], int(p.get("packages") or 0), ctx
        ),
        "order.handoff": lambda order, p, ctx: hand_over(
            order, p["verified_by"], p["lines"], ctx, p.get("proof")
        ),
        "order.reject": lambda order, p, ctx: reject(order, p["reason"], ctx, p.get("code")),
        "order.notify": lambda order, p, ctx: resend_notice(order, ctx),
        "order.contact": lambda order, p, ctx: change_contact(
            order, p.get("email"), p.get("phone"), ctx
        ),
        "line.reject": lambda order, p, ctx: reject_line(
            order, p["line_id"], int(p["qty"]), p["code"], p.get("note") or "", ctx
        ),
        "pick.scan": lambda order, p, ctx: scan(
            order, p["line_id"], p["gtin"], int(p["qty"]), p.get("location") or "", ctx
        ),
        "pick.unscan": lambda order, p, ctx: unscan(order, p["line_id"], int(p["qty"]), ctx),
        "pick.short": lambda order, p, ctx: short_pick(
            order, p["line_id"], int(p["qty"]), p["reason"], ctx
        ),
    }
)
ORDER_OPS = frozenset(ORDER_RULES)


def apply_order_op(
    order: Order, op_type: str, payload: Mapping[str, Any] | Any, ctx: Context
) -> Outcome:
    """Apply one order op (validated payload) to `order`. Both ends call this."""
    rule = ORDER_RULES.get(op_type)
    if rule is None:
        raise ValueError(f"not an order op: {op_type}")
    return rule(order, _payload(payload), ctx)
