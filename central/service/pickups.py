"""Issue #11 at central: the store's reject reasons, curbside check-in, the pickup-window
reminder and the stock lookup a tablet asks for online.

The reasons live in the store's policy (`Policy.reject_reasons`): they reach every tablet in
the `store` document it already pulls, and both ends read a reason's stock effect from it.
Check-in and the reminder change the order through the rules (`fulfillment.picking`) and
write it as every order change is written (`orders.apply_outcome`); the notices they cause
are rows of `notifications`, the feed the OMS reads (the event feed builds on them).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select, update

from fulfillment.model import Policy, RejectReason
from fulfillment.outcome import Context, Status
from fulfillment.picking import check_in, remind
from sync.protocol import CheckInIn, NearbyStore, RejectReasonIn, StockLookup, StockMove

from ..db.engine import reading
from ..db.tables import ledger, orders, staff, stock, stores
from .clock import utcnow
from .errors import Conflict, Invalid, NotFound
from .feed import store_tx
from .oms import each_staged_pickup
from .orders import apply_outcome, load_order

__all__ = ["check_in_order", "remind_pickups", "set_reject_reasons", "stock_lookup"]

MOVES_SHOWN = 10


def set_reject_reasons(
    engine: Engine, store_id: str, rows: Sequence[RejectReasonIn]
) -> list[dict[str, Any]]:
    """Replace the store's reasons; the `store` document goes out to its tablets."""
    codes = [r.code for r in rows]
    errors = [
        {"row": i, "field": "code", "message": "appears twice"}
        for i, code in enumerate(codes)
        if codes.index(code) != i
    ]
    if errors:
        raise Invalid(
            f"{len(errors)} row(s) are wrong, nothing was written; first: row "
            f"{errors[0]['row']} code: appears twice",
            errors=errors,
        )
    reasons = tuple(RejectReason.model_validate(r.model_dump()) for r in rows)
    with store_tx(engine, store_id, utcnow()) as tx:
        row = tx.conn.execute(select(stores).where(stores.c.store_id == store_id)).first()
        if row is None:
            raise NotFound(f"No store {store_id}", code="UNKNOWN_STORE")
        policy = Policy.model_validate(row.policy).model_copy(update={"reject_reasons": reasons})
        dumped = policy.model_dump(mode="json")
        tx.conn.execute(update(stores).where(stores.c.store_id == store_id).values(policy=dumped))
        tx.publish(
            "store",
            store_id,
            {"store_id": store_id, "name": row.name, "timezone": row.timezone, "policy": dumped},
        )
    return dumped["reject_reasons"]  # type: ignore[no-any-return]


def _store_of_order(engine: Engine, store_id: str, order_id: str) -> None:
    with reading(engine) as conn:
        found = conn.execute(
            select(orders.c.store_id).where(orders.c.order_id == order_id)
        ).scalar()
    if found != store_id:
        raise NotFound(f"No order {order_id} in store {store_id}", code="UNKNOWN_ORDER")


def check_in_order(engine: Engine, store_id: str, order_id: str, body: CheckInIn) -> None:
    """The customer is here: the order shows at the top of the hand-over queue."""
    _store_of_order(engine, store_id, order_id)
    with store_tx(engine, store_id) as tx:
        order = load_order(tx, order_id)
        assert order is not None
        ctx = Context.of("oms", tx.now, policy=tx.policy, timezone=tx.timezone)
        outcome = check_in(order, body.bay, body.note, ctx)
        if outcome.status is Status.REJECTED:
            raise Conflict(outcome.message or "closed", code=outcome.code or "ORDER_CLOSED")
        apply_outcome(tx, order, outcome, op_id=None, actor_id="oms", occurred_at=tx.now)


def remind_pickups(engine: Engine, now: datetime | None = None) -> int:
    """The customers of staged pickup orders whose hold ends within the store's
    `pickup_reminder_hours` are reminded once (a `pickup_reminder` notice); the expiry
    job calls this before it expires what is past the hold."""
    now = now or utcnow()
    sent = 0
    for tx, order in each_staged_pickup(engine, now):
        ctx = Context.of("system", now, policy=tx.policy, timezone=tx.timezone)
        outcome = remind(order, ctx)
        if outcome is None:
            continue
        apply_outcome(tx, order, outcome, op_id=None, actor_id="system", occurred_at=now)
        sent += 1
    return sent


def stock_lookup(engine: Engine, store_id: str, sku: str) -> StockLookup:
    """The other stores of the chain that hold `sku` (available > 0, most first), and this
    store's latest movements of it with who made them and why."""
    s, g = stock.c, ledger.c
    available = func.sum(s.on_hand - s.reserved - s.safety)
    with reading(engine) as conn:
        nearby = conn.execute(
            select(stores.c.store_id, stores.c.name, available.label("available"))
            .join(stock, s.store_id == stores.c.store_id)
            .where(s.sku == sku, s.store_id != store_id)
            .group_by(stores.c.store_id, stores.c.name)
            .having(available > 0)
            .order_by(available.desc(), stores.c.store_id)
            .limit(20)
        ).all()
        moves = conn.execute(
            select(g.kind, g.location, g.qty, g.occurred_at, g.actor_id, g.note, g.order_id)
            .where(g.store_id == store_id, g.sku == sku)
            .order_by(g.id.desc())
            .limit(MOVES_SHOWN)
        ).all()
        actors = {m.actor_id for m in moves if m.actor_id}
        names = dict(
            conn.execute(
                select(staff.c.employee_id, staff.c.name).where(
                    staff.c.store_id == store_id, staff.c.employee_id.in_(actors)
                )
            ).all()
        )
    return StockLookup(
        sku=sku,
        stores=[NearbyStore(store_id=r[0], name=r[1], available=int(r[2])) for r in nearby],
        movements=[
            StockMove(
                kind=m.kind,
                location=m.location,
                qty=m.qty,
                occurred_at=m.occurred_at,
                actor_id=m.actor_id,
                actor_name=names.get(m.actor_id) if m.actor_id else None,
                note=m.note,
                order_id=m.order_id,
            )
            for m in moves
        ],
    )
