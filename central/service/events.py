"""The event feed the OMS relies on (issue #11): every state change central knows, in order.

Writing. Every event is staged in the store transaction of its change (`StoreTx`) and
written with one bulk INSERT at the transaction's flush, beside the documents it describes:
order events from `orders.save_order` / `insert_order` (`order_changed`: the order before and
after), the rest derived at flush from what the flush wrote (`derived`: stock documents,
exceptions, returns, refund requests, count adjustments, customer notices), and a device's
revocation by `auth.revoke_device`. A change and its events commit together or not at all.

Ordering. An event is written with `pos` NULL. `sequence` — one at a time, under the
`event_positions` row's lock — numbers the committed, unnumbered events 1, 2, 3 … in one
transaction. A reader reads only numbered events, so a row that commits late is numbered
after every position a reader may already have passed: the cursor never skips one. Within a
store, events are written under the store's lock, so their ids (and so their positions)
follow the store's commit order. The feed reader and the delivery worker both sequence
before they read; there is nothing else to run.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, bindparam, delete, func, insert, select, update

from fulfillment.model import Order, OrderState, OrderType

from ..db.engine import reading
from ..db.tables import event_positions, events, stores, webhook_deliveries
from .errors import CentralError, Invalid, NotFound

if TYPE_CHECKING:
    from .feed import StoreTx
    from .staging import Staging

__all__ = [
    "EVENT_TYPES",
    "BadCursor",
    "CursorExpired",
    "decode_cursor",
    "derived",
    "encode_cursor",
    "event_out",
    "order_changed",
    "prune_events",
    "read_feed",
    "record",
    "sequence",
]

EVENT_TYPES: dict[str, str] = {
    "order.released": "the OMS released an order to the store",
    "order.claimed": "an associate claimed the order (or a manager assigned it)",
    "order.unclaimed": "the order went back to the queue",
    "order.picked": "every line is picked or short",
    "order.short": "units of a line could not be picked (one event per line and op)",
    "order.rejected": "the store cannot fulfil the order: back to the OMS",
    "order.staged": "a pickup order is on the pickup shelf",
    "order.ready_for_pickup": "the customer can come for a pickup order",
    "order.packed": "a ship-from-store order is packed",
    "order.shipped": "the parcel left the store",
    "order.handed_over": "the customer collected the order",
    "order.expired": "a pickup order was not collected within the store's hold",
    "order.cancelled": "the OMS cancelled the order",
    "return.received": "a return was received at the store",
    "refund.requested": "a refund is asked of the OMS",
    "count.adjusted": "a cycle count moved the books",
    "stock.changed": "a sku's numbers at one location changed (one event per sku and place)",
    "exception.opened": "central opened a manager exception",
    "exception.settled": "a manager settled an exception",
    "device.revoked": "a tablet was revoked",
    "notice.sent": "another customer notice the OMS should send (`data.kind` says which)",
}

# order states whose arrival is an event of the same name
_STATE_EVENTS = {
    OrderState.PICKED: "order.picked",
    OrderState.SHIPPED: "order.shipped",
    OrderState.HANDED_OVER: "order.handed_over",
    OrderState.REJECTED: "order.rejected",
    OrderState.CANCELLED: "order.cancelled",
    OrderState.EXPIRED: "order.expired",
}
# notices already told by an order event
_TOLD_BY_ORDER = frozenset({"ready_for_pickup", "shipped"})

SEQUENCE_BATCH = 5000


class BadCursor(CentralError):
    status = 400
    code = "BAD_CURSOR"


class CursorExpired(CentralError):
    status = 410
    code = "CURSOR_EXPIRED"


# --- writing -----------------------------------------------------------------------------


def record(tx: StoreTx, type_: str, data: dict[str, Any], at: datetime | None = None) -> None:
    """Stage one event in the current op's scope (it commits with the op, or not at all)."""
    tx.staged.events.append(_row(tx.store_id, type_, data, at or tx.now))


def _row(store_id: str, type_: str, data: dict[str, Any], at: datetime) -> dict[str, Any]:
    return {"store_id": store_id, "type": type_, "occurred_at": at, "data": data}


def _order_data(o: Order) -> dict[str, Any]:
    return {
        "order_id": o.order_id,
        "order_type": o.type.value,
        "state": o.state.value,
        "assignee": o.assignee,
        "lines": [
            {
                "line_id": line.line_id,
                "sku": line.sku,
                "qty": line.qty,
                "picked": line.picked,
                "short": line.short,
                "fulfilled": line.fulfilled,
                "returned": line.returned,
            }
            for line in o.lines
        ],
    }


def order_changed(tx: StoreTx, before: Order | None, after: Order) -> None:
    """Stage the events of one order change (`before` None: the OMS released it)."""
    at = after.updated_at or tx.now
    if before is None:
        record(tx, "order.released", _order_data(after), at)
        return
    summary: dict[str, Any] | None = None

    def data(**extra: Any) -> dict[str, Any]:
        nonlocal summary
        if summary is None:
            summary = _order_data(after)
        return {**summary, **extra}

    if after.assignee != before.assignee:
        if after.assignee is not None:
            record(tx, "order.claimed", data(assignee_name=after.assignee_name), at)
        else:
            record(tx, "order.unclaimed", data(previous_assignee=before.assignee), at)
    shorts = {line.line_id: line.short for line in before.lines}
    for line in after.lines:
        more = line.short - shorts.get(line.line_id, 0)
        if more > 0:
            record(
                tx,
                "order.short",
                data(
                    line_id=line.line_id,
                    sku=line.sku,
                    short_qty=more,
                    reason=None if line.short_reason is None else line.short_reason.value,
                ),
                at,
            )
    if after.state == before.state:
        return
    if after.state is OrderState.STAGED:
        place = {"staging_location": after.staging_location, "packages": after.packages}
        if after.type is OrderType.PICKUP:
            record(tx, "order.staged", data(**place), at)
            record(tx, "order.ready_for_pickup", data(**place), at)
        else:
            record(tx, "order.packed", data(**place), at)
        return
    name = _STATE_EVENTS.get(after.state)
    if name is None:
        return
    extra: dict[str, Any] = {}
    if after.state is OrderState.SHIPPED:
        extra = {"carrier": after.carrier, "tracking": after.tracking, "packages": after.packages}
    elif after.state in (OrderState.REJECTED, OrderState.CANCELLED):
        extra = {"reason": after.reason}
    record(tx, name, data(**extra), at)


def derived(
    store_id: str, now: datetime, written: Staging, docs: Sequence[tuple[str, str, Any]]
) -> list[dict[str, Any]]:
    """The events of what one flush wrote, besides the staged ones: returns received, refunds
    asked, count adjustments, notices, then exceptions and stock as published."""
    rows: list[dict[str, Any]] = []
    for row in written.new.get("return", {}).values():
        ret = row["data"]
        rows.append(_row(store_id, "return.received", ret.model_dump(mode="json"), now))
    for r in written.refunds:
        rows.append(
            _row(
                store_id,
                "refund.requested",
                {
                    "refund_id": r["refund_id"],
                    "return_id": r["return_id"],
                    "order_id": r.get("order_id"),
                    "amount": str(r["amount"]),
                    "tender": r["tender"],
                },
                now,
            )
        )
    for m in written.ledger:
        if m["kind"] == "count_adjust" and m["on_hand_delta"]:
            rows.append(
                _row(
                    store_id,
                    "count.adjusted",
                    {
                        "sku": m["sku"],
                        "location": m["location"],
                        "delta": m["on_hand_delta"],
                        "op_id": m["op_id"],
                        "note": m["note"],
                    },
                    m["occurred_at"],
                )
            )
    for n in written.notifications:
        # the first ready-for-pickup notice is the order's own event; one sent again (a
        # manager's "Send notice again") is a notice the OMS must send once more
        if n["kind"] not in _TOLD_BY_ORDER or n["data"].get("resent"):
            data = {"kind": n["kind"], "order_id": n["order_id"], **n["data"]}
            rows.append(_row(store_id, "notice.sent", data, now))
    for kind, _, doc in docs:
        if kind == "exception":
            name = "exception.opened" if doc.get("state") == "open" else "exception.settled"
            rows.append(_row(store_id, name, dict(doc), now))
    for kind, _, doc in docs:
        if kind == "stock":
            rows.append(_row(store_id, "stock.changed", dict(doc), now))
    return rows


def write(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Write events (unnumbered) in the caller's transaction."""
    from .staging import bulk_insert  # staging imports this module's callers

    if rows:
        bulk_insert(conn, events, rows)


# --- numbering ---------------------------------------------------------------------------


def sequence(engine: Engine) -> int:
    """Number the committed, unnumbered events in id order; returns how many were numbered."""
    with reading(engine) as conn:
        waiting = conn.execute(select(events.c.id).where(events.c.pos.is_(None)).limit(1)).first()
    if waiting is None:
        return 0
    numbered = 0
    with engine.begin() as conn:
        last = conn.execute(
            select(event_positions.c.last_pos)
            .where(event_positions.c.name == "events")
            .with_for_update()
        ).scalar_one_or_none()
        if last is None:  # a schema made without the migration's row
            conn.execute(insert(event_positions).values(name="events", last_pos=0, pruned_pos=0))
            last = 0
        while True:
            ids = (
                conn.execute(
                    select(events.c.id)
                    .where(events.c.pos.is_(None))
                    .order_by(events.c.id)
                    .limit(SEQUENCE_BATCH)
                )
                .scalars()
                .all()
            )
            if not ids:
                break
            conn.execute(
                update(events).where(events.c.id == bindparam("k")).values(pos=bindparam("p")),
                [{"k": i, "p": last + n} for n, i in enumerate(ids, 1)],
            )
            last += len(ids)
            numbered += len(ids)
            if len(ids) < SEQUENCE_BATCH:
                break
        conn.execute(
            update(event_positions).where(event_positions.c.name == "events").values(last_pos=last)
        )
    return numbered


def positions(conn: Connection) -> tuple[int, int]:
    """(the last position given, the newest position pruned)."""
    row = conn.execute(
        select(event_positions.c.last_pos, event_positions.c.pruned_pos).where(
            event_positions.c.name == "events"
        )
    ).first()
    return (0, 0) if row is None else (int(row.last_pos), int(row.pruned_pos))


# --- reading -----------------------------------------------------------------------------


def encode_cursor(pos: int) -> str:
    raw = json.dumps({"e": pos}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        pos = json.loads(base64.urlsafe_b64decode(padded.encode()))["e"]
        if not isinstance(pos, int) or isinstance(pos, bool) or pos < 0:
            raise TypeError
        return pos
    except (ValueError, KeyError, TypeError) as e:
        raise BadCursor("The cursor is not one this feed gave: start again without one") from e


def event_out(row: Any) -> dict[str, Any]:
    """An event as the feed and a webhook send it."""
    return {
        "event_id": f"ev_{row.pos}",
        "type": row.type,
        "store_id": row.store_id,
        "occurred_at": row.occurred_at.isoformat().replace("+00:00", "Z"),
        "data": row.data,
    }


def check_types(types: Iterable[str], allow_all: bool = False) -> list[str]:
    wanted = [t.strip() for t in types if t.strip()]
    unknown = [t for t in wanted if t not in EVENT_TYPES and not (allow_all and t == "*")]
    if unknown:
        raise Invalid(
            f"Unknown event type {unknown[0]!r}: the types are listed in the README",
            code="UNKNOWN_EVENT_TYPE",
        )
    return wanted


def read_feed(
    engine: Engine,
    cursor: str | None,
    limit: int,
    store_id: str | None = None,
    types: Sequence[str] = (),
) -> dict[str, Any]:
    """One page of the feed after `cursor`: events in position order, the next cursor."""
    after = decode_cursor(cursor)
    wanted = check_types(types)
    sequence(engine)
    with reading(engine) as conn, conn.begin():
        if store_id is not None:
            known = conn.execute(
                select(stores.c.store_id).where(stores.c.store_id == store_id)
            ).first()
            if known is None:
                raise NotFound(f"No store {store_id}", code="UNKNOWN_STORE")
        last, pruned = positions(conn)
        if after > last:
            raise BadCursor("The cursor is ahead of this server's event feed")
        if after < pruned:
            raise CursorExpired(
                "The cursor is older than the event feed's retention: events after it were "
                "pruned; read the current state through the OMS API and start a new cursor"
            )
        query = select(events).where(events.c.pos > after, events.c.pos <= last)
        if store_id is not None:
            query = query.where(events.c.store_id == store_id)
        if wanted:
            query = query.where(events.c.type.in_(wanted))
        rows = conn.execute(query.order_by(events.c.pos).limit(limit + 1)).all()
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_pos = rows[-1].pos if has_more else last
    return {
        "events": [event_out(r) for r in rows],
        "cursor": encode_cursor(next_pos),
        "has_more": has_more,
    }


def prune_events(engine: Engine, before: datetime) -> int:
    """Remove numbered events that occurred before `before` and that no webhook still has to
    deliver; a feed cursor below the newest removed gets `CURSOR_EXPIRED`."""
    sequence(engine)
    with engine.begin() as conn:
        conn.execute(
            select(event_positions.c.name)
            .where(event_positions.c.name == "events")
            .with_for_update()
        )
        waiting = conn.execute(
            select(func.min(webhook_deliveries.c.pos)).where(
                webhook_deliveries.c.state == "pending"
            )
        ).scalar_one_or_none()
        # only a prefix of the feed goes: the first event to keep bounds what is removed
        keep_from = conn.execute(
            select(func.min(events.c.pos)).where(
                events.c.pos.is_not(None), events.c.occurred_at >= before
            )
        ).scalar_one_or_none()
        limits = [p for p in (waiting, keep_from) if p is not None]
        query = delete(events).where(events.c.pos.is_not(None))
        top = conn.execute(
            select(func.max(events.c.pos)).where(
                events.c.pos.is_not(None), *(events.c.pos < p for p in limits)
            )
        ).scalar_one_or_none()
        if top is None:
            return 0
        gone = conn.execute(query.where(events.c.pos <= top)).rowcount
        conn.execute(
            delete(webhook_deliveries).where(
                webhook_deliveries.c.pos <= top, webhook_deliveries.c.state != "pending"
            )
        )
        conn.execute(
            update(event_positions)
            .where(event_positions.c.name == "events", event_positions.c.pruned_pos < top)
            .values(pruned_pos=top)
        )
        return int(gone)
