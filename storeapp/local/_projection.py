"""Server documents -> the tables the screens read, and the rebase of pending ops.

All functions take an open connection inside a write transaction; none commits.

Rebase (PROTOCOL.md, "The tablet's side"): the screens show server truth plus
this device's pending ops. For an order, `orders.data` is the fold of
`apply_order_op` over the outbox ops with `seq > last_applied_seq` (those the
server has not applied yet), in seq order, starting from the server document.
A pending op the rules now refuse (someone else claimed the order) simply
does not change the fold; central will answer it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from fulfillment.barcodes import InvalidBarcode, normalize_gtin
from fulfillment.model import Order, Policy, Role
from fulfillment.outcome import Context, Status
from fulfillment.picking import ORDER_OPS, apply_order_op

from ._records import from_iso, to_iso

__all__ = [
    "ORDER_FACTS",
    "context_for",
    "order_row",
    "pending_ops",
    "project",
    "rebase",
    "store_policy",
    "upsert_doc",
    "wipe_server_state",
]

# physical facts: queued even when the local rules compensate them
ORDER_FACTS = frozenset({"pick.scan", "pick.unscan", "pick.short"})
_PROJECTED = {"staff", "item", "stock", "task"}


def _dumps(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), default=str)


# --- server documents -------------------------------------------------------------


def upsert_doc(
    conn: sqlite3.Connection,
    kind: str,
    id_: str,
    version: int,
    op: str,
    data: dict[str, Any],
    table: str = "srv_docs",
) -> None:
    """Apply one change; an older version than the stored one is ignored."""
    if op == "delete":
        conn.execute(
            f"DELETE FROM {table} WHERE kind = ? AND id = ? AND version <= ?", (kind, id_, version)
        )
        return
    conn.execute(
        f"""INSERT INTO {table} (kind, id, version, data) VALUES (?, ?, ?, ?)
            ON CONFLICT (kind, id) DO UPDATE SET version = excluded.version, data = excluded.data
            WHERE excluded.version >= {table}.version""",
        (kind, id_, version, _dumps(data)),
    )


def _doc(conn: sqlite3.Connection, kind: str, id_: str) -> dict[str, Any] | None:
    row = conn.execute(
        "SELECT data FROM srv_docs WHERE kind = ? AND id = ?", (kind, id_)
    ).fetchone()
    return json.loads(row[0]) if row else None


def wipe_server_state(conn: sqlite3.Connection) -> None:
    from ._schema import SERVER_TABLES

    for table in SERVER_TABLES:
        conn.execute(f"DELETE FROM {table}")


# --- context for the rules ----------------------------------------------------------


def store_policy(conn: sqlite3.Connection) -> Policy:
    row = conn.execute("SELECT data FROM srv_docs WHERE kind = 'store' LIMIT 1").fetchone()
    if not row:
        return Policy()
    return Policy.model_validate(json.loads(row[0]).get("policy") or {})


def store_timezone(conn: sqlite3.Connection) -> str:
    """The store's time zone: the sentences a rule writes ("Picked by Ana since 10:42") use it."""
    row = conn.execute("SELECT data FROM srv_docs WHERE kind = 'store' LIMIT 1").fetchone()
    return str(json.loads(row[0]).get("timezone") or "UTC") if row else "UTC"


def _staff(conn: sqlite3.Connection) -> dict[str, tuple[str, str]]:
    return {r[0]: (r[1], r[2]) for r in conn.execute("SELECT employee_id, name, role FROM staff")}


def context_for(
    actor_id: str,
    now: datetime,
    policy: Policy,
    staff: dict[str, tuple[str, str]],
    timezone: str = "UTC",
) -> Context:
    _, role = staff.get(actor_id, ("", Role.ASSOCIATE.value))
    try:
        actor_role = Role(role)
    except ValueError:
        actor_role = Role.ASSOCIATE
    return Context(
        actor_id=actor_id,
        now=now,
        role=actor_role,
        policy=policy,
        staff_names={k: v[0] for k, v in staff.items()},
        timezone=timezone,
    )


def staff_index(conn: sqlite3.Connection) -> dict[str, tuple[str, str]]:
    return _staff(conn)


# --- projections ----------------------------------------------------------------------


def project(conn: sqlite3.Connection, kind: str, ids: Iterable[str]) -> None:
    """Refresh the projection rows of `ids` of `kind` from srv_docs (orders: see rebase)."""
    if kind not in _PROJECTED:
        return
    for id_ in ids:
        doc = _doc(conn, kind, id_)
        if kind == "staff":
            _project_staff(conn, id_, doc)
        elif kind == "item":
            _project_item(conn, id_, doc)
        elif kind == "stock":
            _project_stock(conn, id_, doc)
        elif kind == "task":
            _project_task(conn, id_, doc)


def _project_staff(conn: sqlite3.Connection, id_: str, doc: dict[str, Any] | None) -> None:
    conn.execute("DELETE FROM staff WHERE employee_id = ?", (id_,))
    if doc is None:
        return
    conn.execute(
        "INSERT INTO staff (employee_id, name, role, pin_hash, active) VALUES (?, ?, ?, ?, ?)",
        (
            doc.get("employee_id") or id_,
            doc.get("name") or id_,
            doc.get("role") or Role.ASSOCIATE.value,
            doc.get("pin_hash"),
            1 if doc.get("active", True) else 0,
        ),
    )


def _gtin14(code: Any) -> str | None:
    try:
        return normalize_gtin(str(code))
    except InvalidBarcode:
        return None


def _project_item(conn: sqlite3.Connection, id_: str, doc: dict[str, Any] | None) -> None:
    conn.execute("DELETE FROM items WHERE sku = ?", (id_,))
    conn.execute("DELETE FROM gtins WHERE sku = ?", (id_,))
    if doc is None:
        return
    sku = doc.get("sku") or id_
    conn.execute(
        """INSERT INTO items (sku, name, price, location, location_seq, final_sale, data)
           VALUES (?, ?, ?, ?, ?, ?, ?)""",
        (
            sku,
            doc.get("name") or sku,
            None if doc.get("price") is None else str(doc["price"]),
            doc.get("location") or "",
            int(doc.get("location_seq") or 0),
            1 if doc.get("final_sale") else 0,
            _dumps(doc),
        ),
    )
    for code in doc.get("gtins") or ():
        gtin = _gtin14(code)
        if gtin:
            conn.execute("INSERT OR REPLACE INTO gtins (gtin, sku) VALUES (?, ?)", (gtin, sku))


def _project_stock(conn: sqlite3.Connection, id_: str, doc: dict[str, Any] | None) -> None:
    conn.execute("DELETE FROM stock WHERE id = ?", (id_,))
    if doc is None:
        return
    conn.execute(
        """INSERT INTO stock (id, sku, location, on_hand, reserved, available, doubtful)
           VALUES (?, ?, ?, ?, ?, ?, ?)""",
        (
            id_,
            doc.get("sku") or "",
            doc.get("location") or "",
            doc.get("on_hand"),
            doc.get("reserved"),
            doc.get("available"),
            1 if doc.get("doubtful") else 0,
        ),
    )


def _project_task(conn: sqlite3.Connection, id_: str, doc: dict[str, Any] | None) -> None:
    conn.execute("DELETE FROM tasks WHERE task_id = ?", (id_,))
    if doc is None:
        return
    created = from_iso(doc.get("created_at")) if doc.get("created_at") else None
    conn.execute(
        """INSERT INTO tasks (task_id, kind, sku, location, qty, order_id, reason, state, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        (
            doc.get("task_id") or id_,
            doc.get("kind") or "review",
            doc.get("sku") or "",
            doc.get("location") or "",
            int(doc.get("qty") or 0),
            doc.get("order_id"),
            doc.get("reason") or "",
            doc.get("state") or "open",
            to_iso(created) if created else None,
        ),
    )


# --- orders -----------------------------------------------------------------------------


def _search_text(order: Order) -> str:
    c = order.customer
    phone_digits = "".join(ch for ch in c.phone if ch.isdigit())
    return " ".join(
        x for x in (order.order_id, c.name, c.email, c.phone, phone_digits) if x
    ).lower()


def order_row(order: Order, pending: int) -> tuple[Any, ...]:
    return (
        order.order_id,
        order.type.value,
        order.state.value,
        order.priority,
        to_iso(order.due_at),
        order.assignee,
        order.pickup_code.strip().upper() if order.pickup_code else None,
        _search_text(order),
        pending,
        order.model_dump_json(),
    )


UPSERT_ORDER = """INSERT OR REPLACE INTO orders
    (order_id, type, state, priority, due_at, assignee, pickup_code, search, pending, data)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"""


def _enrich(conn: sqlite3.Connection, order: Order) -> Order:
    """Fill a line's name, GTINs and location from the catalogue when central left them out."""
    if all(line.gtins and line.name and line.location for line in order.lines):
        return order
    lines = []
    for line in order.lines:
        if line.gtins and line.name and line.location:
            lines.append(line)
            continue
        item = conn.execute(
            "SELECT name, location, location_seq FROM items WHERE sku = ?", (line.sku,)
        ).fetchone()
        codes = tuple(
            r[0]
            for r in conn.execute("SELECT gtin FROM gtins WHERE sku = ? ORDER BY gtin", (line.sku,))
        )
        update: dict[str, Any] = {}
        if not line.gtins and codes:
            update["gtins"] = codes
        if item and not line.name:
            update["name"] = item[0]
        if item and not line.location:
            update["location"], update["location_seq"] = item[1], item[2]
        lines.append(line.model_copy(update=update) if update else line)
    return order.model_copy(update={"lines": tuple(lines)})


def pending_ops(conn: sqlite3.Connection) -> list[tuple[int, str, str, dict[str, Any], datetime]]:
    """(seq, type, actor_id, payload, occurred_at) of ops central has not applied yet."""
    rows = conn.execute(
        """SELECT seq, type, actor_id, payload, occurred_at FROM outbox
           WHERE seq > (SELECT last_applied_seq FROM sync_state WHERE id = 1) ORDER BY seq"""
    ).fetchall()
    return [(r[0], r[1], r[2], json.loads(r[3]), from_iso(r[4])) for r in rows]  # type: ignore[misc]


def rebase(
    conn: sqlite3.Connection,
    order_ids: Iterable[str] = (),
    task_ids: Iterable[str] = (),
    *,
    everything: bool = False,
) -> None:
    """Recompute orders (and tasks) = server document + pending ops, for the ids given,
    every order or task a pending op touches, and those of ops acknowledged since the
    last pull (their result is in this pull). `everything` re-projects every doc."""
    pending = pending_ops(conn)
    orders = set(order_ids)
    tasks = set(task_ids)
    for _, type_, _, payload, _ in pending:
        if type_ in ORDER_OPS:
            orders.add(str(payload.get("order_id")))
        elif type_ == "task.done":
            tasks.add(str(payload.get("task_id")))
    for type_, payload_text in conn.execute(
        "SELECT type, payload FROM op_log WHERE rebased = 0"
    ).fetchall():
        payload = json.loads(payload_text)
        if type_ in ORDER_OPS:
            orders.add(str(payload.get("order_id")))
        elif type_ == "task.done":
            tasks.add(str(payload.get("task_id")))
    conn.execute("UPDATE op_log SET rebased = 1 WHERE rebased = 0")
    if everything:
        conn.execute("DELETE FROM orders")
        orders |= {r[0] for r in conn.execute("SELECT id FROM srv_docs WHERE kind = 'order'")}
    if orders:
        policy = store_policy(conn)
        staff = _staff(conn)
        for order_id in sorted(orders):
            _rebase_order(conn, order_id, pending, policy, staff)
    if tasks:
        project(conn, "task", tasks)
        done = [str(p.get("task_id")) for _, t, _, p, _ in pending if t == "task.done"]
        conn.executemany("UPDATE tasks SET state = 'done' WHERE task_id = ?", [(x,) for x in done])


def _rebase_order(
    conn: sqlite3.Connection,
    order_id: str,
    pending: list[tuple[int, str, str, dict[str, Any], datetime]],
    policy: Policy,
    staff: dict[str, tuple[str, str]],
) -> None:
    doc = _doc(conn, "order", order_id)
    if doc is None:
        conn.execute("DELETE FROM orders WHERE order_id = ?", (order_id,))
        return
    order = _enrich(conn, Order.model_validate(doc))
    count = 0
    for _, type_, actor_id, payload, occurred_at in pending:
        if type_ not in ORDER_OPS or payload.get("order_id") != order_id:
            continue
        count += 1
        outcome = apply_order_op(
            order, type_, payload, context_for(actor_id, occurred_at, policy, staff)
        )
        if outcome.status is not Status.REJECTED:
            order = outcome.order
    conn.execute(UPSERT_ORDER, order_row(order, count))
