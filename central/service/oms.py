"""What the e-commerce order system does through the OMS API.

Bulk calls validate every row before writing any: one bad row is a 422 that
lists the rows and fields, and nothing is written.
"""

from __future__ import annotations

import gc
import os
import secrets
import threading
from collections import defaultdict
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Engine, func, insert, select, update

from fulfillment.count_export import counts_csv
from fulfillment.counts import Count
from fulfillment.ledger import Movement, MovementKind
from fulfillment.model import Customer, Line, Order, OrderState, Policy
from fulfillment.outcome import Context, Status
from fulfillment.picking import cancel, expire, is_expired
from fulfillment.pins import hash_pin
from fulfillment.returns import Return
from sync.protocol import ItemIn, OrderIn, StaffIn, StockIn, StoreIn

from ..db.engine import reading
from ..db.tables import (
    counts,
    exceptions,
    items,
    ledger,
    notifications,
    orders,
    refunds,
    returns,
    staff,
    stock,
    stores,
)
from . import ledger as ledger_service
from .clock import utcnow
from .errors import Conflict, Invalid, NotFound
from .feed import StoreTx, store_tx
from .orders import apply_outcome, insert_order, load_order
from .returns import return_view
from .staging import bulk_upsert

__all__ = [
    "BULK_CHUNK",
    "STOCK_FLUSH_ROWS",
    "add_stock",
    "bulk_upsert",
    "cancel_order",
    "counts_view",
    "create_order",
    "expire_pickups",
    "gc_paused",
    "order_view",
    "returns_view",
    "upsert_items",
    "upsert_staff",
    "upsert_store",
]


# rows per statement in a bulk write: bounded so a statement's parameters stay under SQLite's
# limit (32,766) and PostgreSQL's (65,535) whatever a table's width
BULK_CHUNK = 2000
# movements per flush of a stock load (its ledger, stock, events and documents): a flush's
# statements cost mostly per row, but each flush has its round trips, its checksum move and
# its change-number update; the writes chunk themselves (`staging`), so this bounds memory
STOCK_FLUSH_ROWS = 10_000


def _row_errors(errors: list[dict[str, Any]]) -> None:
    if errors:
        first = errors[0]
        raise Invalid(
            f"{len(errors)} row(s) are wrong, nothing was written; first: row {first['row']} "
            f"{first['field']}: {first['message']}",
            errors=errors,
        )


def upsert_store(engine: Engine, store_id: str, body: StoreIn) -> dict[str, Any]:
    policy = Policy.model_validate(body.policy.model_dump())
    now = utcnow()
    with engine.begin() as conn:
        exists = conn.execute(
            select(stores.c.store_id, stores.c.policy).where(stores.c.store_id == store_id)
        ).first()
        if exists is not None:  # the reasons have their own call (issue #11): kept here
            kept = Policy.model_validate(exists.policy).reject_reasons
            policy = policy.model_copy(update={"reject_reasons": kept})
        if exists is None:
            conn.execute(
                insert(stores).values(
                    store_id=store_id,
                    name=body.name,
                    timezone=body.timezone,
                    policy=policy.model_dump(mode="json"),
                    change_seq=0,
                    created_at=now,
                )
            )
    with store_tx(engine, store_id, now) as tx:
        tx.conn.execute(
            update(stores)
            .where(stores.c.store_id == store_id)
            .values(name=body.name, timezone=body.timezone, policy=policy.model_dump(mode="json"))
        )
        doc = {
            "store_id": store_id,
            "name": body.name,
            "timezone": body.timezone,
            "policy": policy.model_dump(mode="json"),
        }
        tx.publish("store", store_id, doc)
    return doc


def item_doc(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "sku": row["sku"],
        "gtins": list(row["gtins"]),
        "name": row["name"],
        "price": str(row["price"]),
        "location": row["location"],
        "location_seq": row["location_seq"],
        "image_url": row.get("image_url"),
        "final_sale": bool(row.get("final_sale")),
        "unit_cost": None if row.get("unit_cost") is None else str(row["unit_cost"]),
        "category": row.get("category"),
    }


def upsert_items(engine: Engine, store_id: str, rows: Sequence[ItemIn]) -> int:
    errors: list[dict[str, Any]] = []
    seen_sku: set[str] = set()
    seen_gtin: dict[str, str] = {}
    for i, item in enumerate(rows):
        if item.sku in seen_sku:
            errors.append({"row": i, "field": "sku", "message": f"{item.sku} appears twice"})
        seen_sku.add(item.sku)
        for g in item.gtins:
            if seen_gtin.get(g, item.sku) != item.sku:
                errors.append(
                    {"row": i, "field": "gtins", "message": f"{g} is also given to {seen_gtin[g]}"}
                )
            seen_gtin[g] = item.sku
    with gc_paused(), store_tx(engine, store_id) as tx:
        owners, stored = _catalogue(tx)
        for i, item in enumerate(rows):
            for g in item.gtins:
                other = owners.get(g)
                if other not in (None, item.sku) and other not in seen_sku:
                    errors.append(
                        {"row": i, "field": "gtins", "message": f"{g} belongs to {other}"}
                    )
        _row_errors(errors)
        values = [{"store_id": store_id, **item.model_dump(mode="python")} for item in rows]
        # no sku of the load in the catalogue read under the lock (a first load): inserted
        new = stored.isdisjoint(seen_sku)
        bulk_upsert(tx.conn, items, values, ["store_id", "sku"], skip_same=True, absent=new)
        for row in values:
            tx.publish("item", row["sku"], item_doc(row))
    return len(rows)


def _catalogue(tx: StoreTx) -> tuple[dict[str, str], set[str]]:
    """The sku of each gtin in the store's catalogue, and its skus. The gtins live in a JSON
    list; the store's catalogue is small enough to read, from the driver's cursor, as text
    parsed by orjson (the JSON type's parse of each row cost ~10 % of a catalogue's
    update)."""
    owners: dict[str, str] = {}
    skus: set[str] = set()
    loads = orjson.loads
    gtins = "CAST(gtins AS TEXT)" if tx.conn.dialect.name == "postgresql" else "gtins"
    for sku, text in _fetch(tx, f"SELECT sku, {gtins} FROM items WHERE store_id = ?", tx.store_id):
        skus.add(sku)
        for g in loads(text):
            owners[g] = sku
    return owners, skus


_gc_lock = threading.Lock()
_gc_pauses = 0  # bulk loads under way that paused the cyclic collector
_gc_was_on = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector held off during a bulk load (turned on again when the
    last one ends, if it was on): a load of 10,000 rows keeps ~100,000 containers alive
    that every collection of the oldest generation walked again, ~30 % of the load's CPU.
    Reference counting still frees what the load drops; cycles wait for the next
    collection. The bulk routes also hold it off while their body is parsed and validated
    (`api.ndjson.BulkGcPause`)."""
    global _gc_pauses, _gc_was_on
    with _gc_lock:
        if _gc_pauses == 0:
            _gc_was_on = gc.isenabled()
            gc.disable()
        _gc_pauses += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pauses -= 1
            if _gc_pauses == 0 and _gc_was_on:
                gc.enable()


def upsert_staff(engine: Engine, store_id: str, rows: Sequence[StaffIn]) -> int:
    errors = []
    seen: set[str] = set()
    for i, person in enumerate(rows):
        if person.employee_id in seen:
            errors.append({"row": i, "field": "employee_id", "message": "appears twice"})
        seen.add(person.employee_id)
    _row_errors(errors)
    # scrypt on purpose (fulfillment.pins, ~30-50 ms a PIN): the bound on a staff load, done
    # before the store's lock is taken, on a few threads (hashlib releases the GIL)
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        hashes = list(pool.map(lambda p: hash_pin(p.pin, secrets.token_bytes(16)), rows))
    people: list[dict[str, Any]] = [
        {
            "store_id": store_id,
            "employee_id": person.employee_id,
            "name": person.name,
            "role": person.role.value,
            "pin_hash": pin_hash,
            "active": True,
        }
        for person, pin_hash in zip(rows, hashes, strict=True)
    ]
    with gc_paused(), store_tx(engine, store_id) as tx:
        bulk_upsert(tx.conn, staff, people, ["store_id", "employee_id"])
        for row in people:
            tx.publish(
                "staff",
                str(row["employee_id"]),
                {k: row[k] for k in ("employee_id", "name", "role", "pin_hash", "active")},
            )
    return len(rows)


def add_stock(engine: Engine, store_id: str, rows: Sequence[StockIn]) -> int:
    with gc_paused(), store_tx(engine, store_id) as tx:
        known = _skus(tx)
        errors = [
            {"row": i, "field": "sku", "message": f"{r.sku} is not in this store's catalogue"}
            for i, r in enumerate(rows)
            if r.sku not in known
        ]
        errors += [
            {"row": i, "field": "qty", "message": "a receipt must be a positive quantity"}
            for i, r in enumerate(rows)
            if r.kind == "receipt" and r.qty <= 0
        ]
        errors += [
            {"row": i, "field": "qty", "message": "a stock level cannot be negative"}
            for i, r in enumerate(rows)
            if r.kind == "set" and r.qty < 0
        ]
        _row_errors(errors)
        # a stock level set: the difference to on-hand now (one read for all of them), moves
        # already queued in this call included
        current = _on_hand(tx, {(r.sku, r.location) for r in rows if r.kind != "receipt"})
        moves = []
        for r in rows:
            key = (r.sku, r.location)
            if r.kind == "receipt":
                moves.append(
                    Movement(kind=MovementKind.RECEIPT, sku=r.sku, location=r.location, qty=r.qty)
                )
                if key in current:
                    current[key] += r.qty
            else:
                have = current.get(key, 0)
                if r.qty != have:
                    moves.append(
                        Movement(
                            kind=MovementKind.ADJUST,
                            sku=r.sku,
                            location=r.location,
                            qty=r.qty - have,
                        )
                    )
                    current[key] = r.qty
        # written in chunks inside the one transaction (all or nothing still), each chunk's
        # "is there a later count?" answered by one query (`_known_latest_counts`)
        for start in range(0, len(moves), STOCK_FLUSH_ROWS):
            part = moves[start : start + STOCK_FLUSH_ROWS]
            _known_latest_counts(tx, {(m.sku, m.location) for m in part})
            ledger_service.record_movements(
                tx, part, occurred_at=tx.now, op_id=None, actor_id="oms"
            )
            tx.flush()
    return len(rows)


def _skus(tx: StoreTx) -> set[str]:
    """The skus of the store's catalogue."""
    return {sku for (sku,) in _fetch(tx, "SELECT sku FROM items WHERE store_id = ?", tx.store_id)}


def _fetch(tx: StoreTx, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Every row of a query on the store's catalogue (`?` its parameters) from the driver's
    cursor, as tuples: a reload of a 50,000-item store read it at ~3 µs a row through
    SQLAlchemy's rows, ~1 µs here."""
    if tx.conn.dialect.name == "postgresql":
        sql = sql.replace("?", "%s")
    cursor = tx.conn.connection.cursor()
    try:
        cursor.execute(sql, params)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _on_hand(tx: StoreTx, keys: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """On-hand of each sku/location in `keys` as written (0 where there is no stock row)."""
    found = dict.fromkeys(keys, 0)
    skus = sorted({sku for sku, _ in keys})
    for start in range(0, len(skus), BULK_CHUNK):
        for sku, location, on_hand in tx.conn.execute(
            select(stock.c.sku, stock.c.location, stock.c.on_hand).where(
                stock.c.store_id == tx.store_id, stock.c.sku.in_(skus[start : start + BULK_CHUNK])
            )
        ):
            if (sku, location) in found:
                found[(sku, location)] = on_hand or 0
    return found


def _known_latest_counts(tx: StoreTx, keys: set[tuple[str, str]]) -> None:
    """Answer `count_docs.latest_counted_at` for every key at once: one grouped query over the
    store's counts, put where that function looks first (the transaction's memo, forgotten at
    the next flush). Without it a stock load asks once per row whether a count must be
    re-derived (`ledger.late_movement`)."""
    c = counts.c
    latest = dict.fromkeys(keys)
    for sku, location, at in tx.conn.execute(
        select(c.sku, c.location, func.max(c.counted_at))
        .where(c.store_id == tx.store_id)
        .group_by(c.sku, c.location)
    ):
        if (sku, location) in latest:
            latest[(sku, location)] = at
    for (sku, location), at in latest.items():
        tx.memo[("latest_count", sku, location)] = at


def _context(tx: StoreTx, actor: str = "oms") -> Context:
    return Context.of(actor, tx.now, policy=tx.policy, timezone=tx.timezone)


def create_order(engine: Engine, body: OrderIn, now: datetime | None = None) -> tuple[Order, bool]:
    """Release an order to a store. Idempotent: the same order_id returns the stored order.

    `now`: when it was released (the demo seed backdates orders that were sold long ago)."""
    with store_tx(engine, body.store_id, now) as tx:
        existing = tx.conn.execute(
            select(orders.c.store_id).where(orders.c.order_id == body.order_id)
        ).first()
        if existing is not None:
            if existing.store_id != body.store_id:
                raise Conflict(
                    f"Order {body.order_id} belongs to another store", code="ORDER_EXISTS"
                )
            order = load_order(tx, body.order_id)
            assert order is not None
            return order, False
        catalogue = {
            r.sku: r
            for r in tx.conn.execute(
                select(items).where(
                    items.c.store_id == body.store_id,
                    items.c.sku.in_([ln.sku for ln in body.lines]),
                )
            )
        }
        errors = [
            {"row": i, "field": "sku", "message": f"{ln.sku} is not in this store's catalogue"}
            for i, ln in enumerate(body.lines)
            if ln.sku not in catalogue
        ]
        ids = [ln.line_id for ln in body.lines]
        errors += [
            {"row": i, "field": "line_id", "message": "appears twice"}
            for i, lid in enumerate(ids)
            if ids.index(lid) != i
        ]
        if body.type.value == "pickup" and not body.pickup_code:
            body = body.model_copy(update={"pickup_code": _pickup_code()})
        _row_errors(errors)
        order = Order(
            order_id=body.order_id,
            store_id=body.store_id,
            type=body.type,
            customer=Customer(**body.customer.model_dump()),
            due_at=body.due_at,
            priority=body.priority,
            pickup_code=body.pickup_code,
            alternate=Customer(**body.alternate.model_dump()) if body.alternate else None,
            id_required=body.id_required,
            created_at=tx.now,
            updated_at=tx.now,
            lines=tuple(
                Line(
                    line_id=ln.line_id,
                    sku=ln.sku,
                    qty=ln.qty,
                    price=ln.price,
                    name=catalogue[ln.sku].name,
                    gtins=tuple(catalogue[ln.sku].gtins),
                    location=catalogue[ln.sku].location,
                    location_seq=catalogue[ln.sku].location_seq,
                )
                for ln in body.lines
            ),
        )
        insert_order(tx, order)
    return order, True


def _pickup_code() -> str:
    return "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(6))


def _store_of_order(engine: Engine, order_id: str) -> str:
    with reading(engine) as conn:
        store_id = conn.execute(
            select(orders.c.store_id).where(orders.c.order_id == order_id)
        ).scalar()
    if store_id is None:
        raise NotFound(f"No order {order_id}", code="UNKNOWN_ORDER")
    return str(store_id)


def cancel_order(engine: Engine, order_id: str, reason: str) -> Order:
    store_id = _store_of_order(engine, order_id)
    with store_tx(engine, store_id) as tx:
        order = load_order(tx, order_id)
        assert order is not None
        outcome = cancel(order, reason, _context(tx))
        if outcome.status is Status.REJECTED:
            raise Conflict(outcome.message or "closed", code=outcome.code or "ORDER_CLOSED")
        apply_outcome(tx, order, outcome, op_id=None, actor_id="oms", occurred_at=tx.now)
        return outcome.order


def order_view(engine: Engine, order_id: str) -> dict[str, Any]:
    store_id = _store_of_order(engine, order_id)
    with reading(engine) as conn:
        data = conn.execute(select(orders.c.data).where(orders.c.order_id == order_id)).scalar_one()
    order = Order.model_validate(data)
    done_key = "handed_over" if order.type.value == "pickup" else "shipped"
    return {
        "order_id": order.order_id,
        "store_id": store_id,
        "type": order.type.value,
        "state": order.state.value,
        "assignee": order.assignee,
        "priority": order.priority,
        "due_at": order.due_at,
        "reason": order.reason,
        "staging_location": order.staging_location,
        "carrier": order.carrier,
        "tracking": order.tracking,
        "destination": order.destination,  # a transfer's receiving store
        "lines": [
            {
                "line_id": ln.line_id,
                "sku": ln.sku,
                "qty": ln.qty,
                "picked": ln.picked,
                "short": ln.short,
                "short_reason": ln.short_reason,
                done_key: ln.fulfilled,
                "returned": ln.returned,
                "rejected": ln.rejected,
                "reject_code": ln.reject_code,
            }
            for ln in order.lines
        ],
        # added (issue #11)
        "customer": order.customer.model_dump(mode="json"),
        "alternate": order.alternate.model_dump(mode="json") if order.alternate else None,
        "id_required": order.id_required,
        "reject_code": order.reject_code,
        "rejections": [r.model_dump(mode="json") for r in order.rejections],
        "proof": order.proof.model_dump(mode="json") if order.proof else None,
        "checkin": order.checkin.model_dump(mode="json") if order.checkin else None,
    }


def stock_view(engine: Engine, store_id: str, sku: str | None) -> list[dict[str, Any]]:
    q = select(stock).where(stock.c.store_id == store_id).order_by(stock.c.sku, stock.c.location)
    if sku:
        q = q.where(stock.c.sku == sku)
    with reading(engine) as conn:
        return [ledger_service.stock_doc(r) for r in conn.execute(q)]


def ledger_view(
    engine: Engine, store_id: str, sku: str | None, limit: int = 1000
) -> list[dict[str, Any]]:
    g = ledger.c
    q = (
        select(
            g.sku,
            g.location,
            g.kind,
            g.qty,
            g.on_hand_delta,
            g.occurred_at,
            g.op_id,
            g.actor_id.label("actor"),
            g.order_id,
            g.note,
        )
        .where(g.store_id == store_id)
        .order_by(g.id)
        .limit(limit)
    )
    return _rows(engine, q.where(g.sku == sku) if sku else q)


def _rows(engine: Engine, query: Any) -> list[dict[str, Any]]:
    with reading(engine) as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def exceptions_view(engine: Engine, store_id: str) -> list[dict[str, Any]]:
    x = exceptions.c
    return _rows(
        engine,
        select(
            x.exception_id,
            x.code,
            x.message,
            x.order_id,
            x.op_id,
            x.device_id,
            x.actor_id,
            x.created_at,
        )
        .where(x.store_id == store_id, x.state == "open")
        .order_by(x.created_at),
    )


def returns_view(
    engine: Engine, store_id: str, order_id: str | None = None
) -> list[dict[str, Any]]:
    """The store's returns, newest first, each with its lines and refund requests."""
    which = [returns.c.store_id == store_id]
    if order_id:
        which.append(returns.c.order_id == order_id)
    asked: dict[str, list[Any]] = defaultdict(list)
    with reading(engine) as conn, conn.begin():  # one snapshot: returns and their refunds
        rows = conn.execute(select(returns.c.data, returns.c.created_at).where(*which)).all()
        for refund in conn.execute(
            select(refunds)
            .join(returns, returns.c.return_id == refunds.c.return_id)
            .where(*which)
            .order_by(refunds.c.created_at, refunds.c.refund_id)
        ):
            asked[refund.return_id].append(refund)
    docs = [(r.created_at, Return.model_validate(r.data)) for r in rows]
    docs.sort(key=lambda d: (d[0], d[1].received_at, d[1].return_id), reverse=True)
    return [return_view(ret, asked[ret.return_id]) for _, ret in docs]


def counts_view(
    engine: Engine, store_id: str, sku: str | None = None, state: str | None = None
) -> list[dict[str, Any]]:
    """The store's counts, newest first (when counted, then when recorded)."""
    c = counts.c
    query = select(c.data, c.created_at, c.updated_at).where(c.store_id == store_id)
    if sku:
        query = query.where(c.sku == sku)
    if state:
        query = query.where(c.state == state)
    query = query.order_by(c.counted_at.desc(), c.created_at.desc(), c.count_id.desc())
    with reading(engine) as conn:
        rows = conn.execute(query).all()
    return [
        {
            **Count.model_validate(r.data).model_dump(),
            "recorded_at": r.created_at,
            "updated_at": r.updated_at,
        }
        for r in rows
    ]


def counts_csv_view(
    engine: Engine, store_id: str, first: datetime | None, last: datetime | None
) -> str:
    """The store's counts with `first` ≤ counted_at < `last` as CSV, oldest first."""
    c = counts.c
    query = select(c.data).where(c.store_id == store_id)
    if first is not None:
        query = query.where(c.counted_at >= first)
    if last is not None:
        query = query.where(c.counted_at < last)
    query = query.order_by(c.counted_at, c.created_at, c.count_id)
    with reading(engine) as conn:
        found = [Count.model_validate(data) for (data,) in conn.execute(query)]
    return counts_csv(found)


def notifications_view(engine: Engine, store_id: str) -> list[dict[str, Any]]:
    n = notifications.c
    return _rows(
        engine,
        select(n.id, n.order_id, n.kind, n.data, n.created_at)
        .where(n.store_id == store_id)
        .order_by(n.id),
    )


def each_staged_pickup(engine: Engine, now: datetime) -> Iterator[tuple[StoreTx, Order]]:
    """Each staged pickup order of the chain, in a transaction of its store (the expiry job
    and the pickup reminder walk them); an order gone meanwhile is skipped."""
    with reading(engine) as conn:
        candidates = conn.execute(
            select(orders.c.order_id, orders.c.store_id).where(
                orders.c.state == OrderState.STAGED.value, orders.c.type == "pickup"
            )
        ).all()
    for order_id, store_id in candidates:
        with store_tx(engine, store_id, now) as tx:
            order = load_order(tx, order_id)
            if order is not None:
                yield tx, order


def expire_pickups(engine: Engine, now: datetime | None = None) -> int:
    """Expire staged pickup orders past the store's hold (the APScheduler job calls this)."""
    now = now or utcnow()
    expired = 0
    for tx, order in each_staged_pickup(engine, now):
        ctx = _context(tx, "system")
        if not is_expired(order, ctx):
            continue
        outcome = expire(order, ctx)
        apply_outcome(tx, order, outcome, op_id=None, actor_id="system", occurred_at=now)
        expired += 1
    return expired
