"""Server documents -> the tables the screens read, and the rebase of pending ops.

All functions take an open connection inside a write transaction; none commits.

Rebase (PROTOCOL.md, "The tablet's side"): the screens show server truth plus
this device's pending ops. For an order, `orders.data` is the fold of
`apply_order_op` over the outbox ops with `seq > last_applied_seq` (those the
server has not applied yet), in seq order, starting from the server document.
A pending op the rules now refuse (someone else claimed the order) simply
does not change the fold; central will answer it.

Returns: a pending `return.receive` is part of its order's fold (the lines'
`returned` counts move on), and the `returns` table holds central's `return`
documents plus the returns of pending ops (with the pending overrides applied),
until central's document arrives.

Counts: the `counts` table holds central's `count` documents, else the count of a pending
`count.record` (state `submitted`, no book), with the pending `count.approve` /
`count.recount` decisions on top. A pending `count.record` naming a task shows that task
done, like a pending `task.done`.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from fulfillment.barcodes import InvalidBarcode, normalize_gtin
from fulfillment.counts import Count, CountOutcome, approve, send_back
from fulfillment.model import Order, Policy, Role
from fulfillment.outcome import Context, Status
from fulfillment.picking import ORDER_OPS, apply_order_op
from fulfillment.returns import ItemFacts, Return, ReturnOutcome, override, receive
from sync.protocol import Change

from ._intake import INT_MAX, admit, safe_policy, safe_timezone
from ._records import from_iso, to_iso

__all__ = [
    "COUNT_OPS",
    "ORDER_FACTS",
    "RETURN_OPS",
    "SUBMITTED",
    "UPSERT_COUNT",
    "UPSERT_RETURN",
    "admit_change",
    "context_for",
    "count_row",
    "decide_count",
    "device_name",
    "item_facts",
    "order_row",
    "pending_ops",
    "project",
    "rebase",
    "receive_return",
    "return_row",
    "store_policy",
    "submitted_count",
    "upsert_doc",
    "wipe_server_state",
]

# physical facts: queued even when the local rules compensate them
ORDER_FACTS = frozenset({"pick.scan", "pick.unscan", "pick.short"})
RETURN_OPS = frozenset({"return.receive", "return.override"})
COUNT_OPS = frozenset({"count.record", "count.approve", "count.recount"})
SUBMITTED = "submitted"  # a count central has not answered yet (no book on the tablet)
_PROJECTED = {"staff", "item", "stock", "task", "return"}

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)


def _dumps(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), default=str)


# --- server documents -------------------------------------------------------------


def admit_change(change: Change) -> tuple[int, dict[str, Any]]:
    """The version and data of `change` as this tablet stores them: every value it cannot
    use replaced (`_intake.admit`), one log line naming the fields (never their values)."""
    version = min(max(change.version, -INT_MAX), INT_MAX)
    admitted = admit(change.kind, change.id, change.data)
    fields = list(admitted.replaced)
    if version != change.version:
        fields.insert(0, "version")
    if fields:
        log.warning(
            "change_repaired kind=%.20r id=%.80r fields=%s",
            change.kind,
            change.id,
            ",".join(f[:60] for f in fields[:12]) + (",…" if len(fields) > 12 else ""),
        )
    return version, admitted.data


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


def doc(conn: sqlite3.Connection, kind: str, id_: str) -> dict[str, Any] | None:
    """A server document as last pulled (None: not on this tablet)."""
    return _doc(conn, kind, id_)


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
    """The store's policy; a field the tablet cannot compute with is on its default (also
    for a store document an older version of this app stored unchecked)."""
    row = conn.execute("SELECT data FROM srv_docs WHERE kind = 'store' LIMIT 1").fetchone()
    if not row:
        return Policy()
    return safe_policy(json.loads(row[0]).get("policy"))


def store_timezone(conn: sqlite3.Connection) -> str:
    """The store's time zone: the sentences a rule writes ("Picked by Ana since 10:42") use it."""
    row = conn.execute("SELECT data FROM srv_docs WHERE kind = 'store' LIMIT 1").fetchone()
    return safe_timezone(json.loads(row[0]).get("timezone")) if row else "UTC"


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
        elif kind == "return":
            _project_return(conn, id_, doc)


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


# --- returns ----------------------------------------------------------------------------

UPSERT_RETURN = """INSERT OR REPLACE INTO returns
    (return_id, order_id, state, received_at, pending, data) VALUES (?, ?, ?, ?, ?, ?)"""


def return_row(ret: Return, pending: int) -> tuple[Any, ...]:
    return (
        ret.return_id,
        ret.order_id,
        ret.state.value,
        to_iso(ret.received_at),
        pending,
        ret.model_dump_json(),
    )


def _parsed_doc(conn: sqlite3.Connection, kind: str, id_: str, model: type[M]) -> M | None:
    """Central's document of this kind and id, None when there is none or it does not parse."""
    doc = _doc(conn, kind, id_)
    if doc is None:
        return None
    try:
        return model.model_validate(doc)
    except ValidationError as exc:  # the fields only: a value may be a customer's
        fields = ",".join(".".join(map(str, e["loc"])) for e in exc.errors()[:12])
        log.warning("doc_unreadable kind=%s id=%.80r fields=%s; not shown", kind, id_, fields)
        return None


def _return_doc(conn: sqlite3.Connection, return_id: str) -> Return | None:
    return _parsed_doc(conn, "return", return_id, Return)


def _project_return(conn: sqlite3.Connection, id_: str, doc: dict[str, Any] | None) -> None:
    conn.execute("DELETE FROM returns WHERE return_id = ?", (id_,))
    ret = _return_doc(conn, id_) if doc is not None else None
    if ret is not None:
        conn.execute(UPSERT_RETURN, return_row(ret, 0))


def _price(text: Any) -> Decimal:
    try:
        return Decimal(str(text)) if text is not None else Decimal("0")
    except InvalidOperation:
        return Decimal("0")


def item_facts(conn: sqlite3.Connection, skus: Iterable[str]) -> dict[str, ItemFacts]:
    """What the catalogue on this tablet says of `skus` (unknown skus are left out)."""
    wanted = sorted(set(skus))
    if not wanted:
        return {}
    rows = conn.execute(
        f"""SELECT sku, name, price, location, final_sale FROM items
            WHERE sku IN ({", ".join("?" * len(wanted))})""",
        wanted,
    ).fetchall()
    return {r[0]: ItemFacts(r[1], _price(r[2]), r[3], bool(r[4])) for r in rows}


def device_name(conn: sqlite3.Connection) -> str:
    """This device's name when central sent its `device` document, else ""."""
    row = conn.execute(
        """SELECT d.data FROM srv_docs d JOIN sync_state s ON s.id = 1
           WHERE d.kind = 'device' AND d.id = s.device_id"""
    ).fetchone()
    if not row:
        return ""
    data = json.loads(row[0])
    return str(data.get("name") or data.get("device_name") or "")


def _earlier_returns(conn: sqlite3.Connection, order_id: str | None, but: str) -> list[Return]:
    if not order_id:
        return []
    rows = conn.execute(
        "SELECT data FROM returns WHERE order_id = ? AND return_id != ?", (order_id, but)
    ).fetchall()
    return [Return.model_validate_json(r[0]) for r in rows]


def receive_return(
    conn: sqlite3.Connection, order: Order | None, payload: Mapping[str, Any], ctx: Context
) -> ReturnOutcome:
    """`fulfillment.returns.receive` with what this tablet knows: the order (None when it is
    not here: the lines are by sku and the receipt is the evidence), the catalogue's facts,
    the order's earlier returns and this device's name."""
    lines = list(payload["lines"])
    skus = {str(w["sku"]) for w in lines if w.get("sku")}
    if order is not None:
        skus |= {x.sku for x in order.lines}
    receipt = payload.get("receipt") or (payload.get("order_id") if order is None else None)
    return receive(
        order,
        lines,
        ctx,
        return_id=str(payload["return_id"]),
        items=item_facts(conn, skus),
        receipt=receipt,
        earlier=_earlier_returns(
            conn, order.order_id if order else receipt, str(payload["return_id"])
        ),
        device_name=device_name(conn),
    )


# --- counts -----------------------------------------------------------------------------

UPSERT_COUNT = """INSERT OR REPLACE INTO counts
    (count_id, task_id, sku, location, state, counted_at, counted_by, pending, data)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"""


def count_row(data: Mapping[str, Any], pending: int) -> tuple[Any, ...]:
    counted_at = from_iso(str(data["counted_at"]))
    assert counted_at is not None
    return (
        data["count_id"],
        data.get("task_id"),
        data["sku"],
        data["location"],
        data["state"],
        to_iso(counted_at),
        data["counted_by"],
        pending,
        _dumps(data),
    )


def submitted_count(
    conn: sqlite3.Connection,
    payload: Mapping[str, Any],
    actor_id: str,
    staff: Mapping[str, tuple[str, str]],
) -> dict[str, Any]:
    """The count of a `count.record` as this tablet knows it before central answers: what
    was counted, where, when and by whom — no book, no variance (counting is blind)."""
    sku = str(payload["sku"])
    name = conn.execute("SELECT name FROM items WHERE sku = ?", (sku,)).fetchone()
    return {
        "count_id": str(payload["count_id"]),
        "task_id": payload.get("task_id"),
        "sku": sku,
        "location": str(payload["location"]),
        "name": name[0] if name else "",
        "counted": int(payload["qty"]),
        "counted_at": str(payload["counted_at"]),
        "book": None,
        "variance": None,
        "adjustment": 0,
        "state": SUBMITTED,
        "counted_by": actor_id,
        "counted_by_name": staff.get(actor_id, (actor_id, ""))[0],
        "decided_by": None,
        "decided_by_name": None,
        "decided_at": None,
        "message": "",
    }


def decide_count(data: Mapping[str, Any], op_type: str, ctx: Context) -> CountOutcome:
    """`count.approve` / `count.recount` on the count as this tablet holds it (the rules of
    `fulfillment.counts`: only a waiting count, never by the person who counted)."""
    if data.get("state") == SUBMITTED:
        return CountOutcome(
            Status.REJECTED,
            None,
            code="NOT_WAITING",
            message="Central has not answered this count yet: decide once it has synced",
        )
    count = Count.model_validate(dict(data))
    if op_type == "count.approve":
        return approve(count, count.book, ctx)
    return send_back(count, ctx)


def _count_doc(conn: sqlite3.Connection, count_id: str) -> dict[str, Any] | None:
    count = _parsed_doc(conn, "count", count_id, Count)
    return count.model_dump(mode="json") if count is not None else None


_Pending = tuple[int, str, str, dict[str, Any], datetime]  # seq, type, actor, payload, when


def _ops_on(pending: list[_Pending], ops: frozenset[str], key: str, doc_id: str) -> list[_Pending]:
    """The pending ops of these types on one document (its id in the payload's `key`)."""
    return [p for p in pending if p[1] in ops and p[3].get(key) == doc_id]


def _rebase_count(
    conn: sqlite3.Connection,
    count_id: str,
    pending: list[tuple[int, str, str, dict[str, Any], datetime]],
    policy: Policy,
    staff: dict[str, tuple[str, str]],
    timezone: str,
) -> None:
    """counts row = central's document, else the count of a pending `count.record`; then the
    pending decisions on top."""
    data = _count_doc(conn, count_id)
    mine = _ops_on(pending, COUNT_OPS, "count_id", count_id)
    for _, type_, actor_id, payload, occurred_at in mine:
        if type_ == "count.record":
            if data is None:
                data = submitted_count(conn, payload, actor_id, staff)
        elif data is not None:
            ctx = context_for(actor_id, occurred_at, policy, staff, timezone)
            got = decide_count(data, type_, ctx)
            if got.count is not None:
                data = got.count.model_dump(mode="json")
    conn.execute("DELETE FROM counts WHERE count_id = ?", (count_id,))
    if data is not None:
        conn.execute(UPSERT_COUNT, count_row(data, len(mine)))


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


def _touches(
    type_: str,
    payload: dict[str, Any],
    orders: set[str],
    tasks: set[str],
    returns: set[str],
    counts: set[str],
) -> None:
    if type_ in COUNT_OPS:
        counts.add(str(payload.get("count_id")))
        if type_ == "count.record" and payload.get("task_id"):
            tasks.add(str(payload["task_id"]))
    elif type_ in ORDER_OPS:
        orders.add(str(payload.get("order_id")))
    elif type_ == "task.done":
        tasks.add(str(payload.get("task_id")))
    elif type_ in RETURN_OPS:
        returns.add(str(payload.get("return_id")))
        if type_ == "return.receive" and payload.get("order_id"):
            orders.add(str(payload["order_id"]))


def rebase(
    conn: sqlite3.Connection,
    order_ids: Iterable[str] = (),
    task_ids: Iterable[str] = (),
    *,
    return_ids: Iterable[str] = (),
    count_ids: Iterable[str] = (),
    everything: bool = False,
) -> None:
    """Recompute orders (tasks, returns, counts) = server document + pending ops, for the ids given,
    every one a pending op touches, and those of ops acknowledged since the last pull
    (their result is in this pull). `everything` re-projects every doc."""
    pending = pending_ops(conn)
    orders = set(order_ids)
    tasks = set(task_ids)
    returns = set(return_ids)
    counts = set(count_ids)
    for _, type_, _, payload, _ in pending:
        _touches(type_, payload, orders, tasks, returns, counts)
    for type_, payload_text in conn.execute(
        "SELECT type, payload FROM op_log WHERE rebased = 0"
    ).fetchall():
        _touches(type_, json.loads(payload_text), orders, tasks, returns, counts)
    conn.execute("UPDATE op_log SET rebased = 1 WHERE rebased = 0")
    if everything:
        conn.execute("DELETE FROM orders")
        orders |= {r[0] for r in conn.execute("SELECT id FROM srv_docs WHERE kind = 'order'")}
        conn.execute("DELETE FROM returns")
        returns |= {r[0] for r in conn.execute("SELECT id FROM srv_docs WHERE kind = 'return'")}
        conn.execute("DELETE FROM counts")
        counts |= {r[0] for r in conn.execute("SELECT id FROM srv_docs WHERE kind = 'count'")}
    folded: dict[str, Return | None] = {}  # return_id -> the return its order's fold made
    if orders or returns:
        policy = store_policy(conn)
        staff = _staff(conn)
        timezone = store_timezone(conn)
        for order_id in sorted(orders):
            _rebase_order(conn, order_id, pending, policy, staff, timezone, folded)
        for return_id in sorted(returns):
            _rebase_return(conn, return_id, pending, policy, staff, timezone, folded)
    if counts:
        policy, staff = store_policy(conn), _staff(conn)
        timezone = store_timezone(conn)
        for count_id in sorted(counts):
            _rebase_count(conn, count_id, pending, policy, staff, timezone)
    if tasks:
        project(conn, "task", tasks)
        done = [  # a pending task.done, or a pending count of the task
            str(p.get("task_id"))
            for _, t, _, p, _ in pending
            if t == "task.done" or (t == "count.record" and p.get("task_id"))
        ]
        conn.executemany("UPDATE tasks SET state = 'done' WHERE task_id = ?", [(x,) for x in done])


def _rebase_order(
    conn: sqlite3.Connection,
    order_id: str,
    pending: list[tuple[int, str, str, dict[str, Any], datetime]],
    policy: Policy,
    staff: dict[str, tuple[str, str]],
    timezone: str = "UTC",
    folded: dict[str, Return | None] | None = None,
) -> None:
    """The fold of this order's pending ops (order ops and received returns) over central's
    document; each pending return's outcome goes into `folded` for the returns table."""
    parsed = _parsed_doc(conn, "order", order_id, Order)
    if parsed is None:
        conn.execute("DELETE FROM orders WHERE order_id = ?", (order_id,))
        return
    order = _enrich(conn, parsed)
    count = 0
    for _, type_, actor_id, payload, occurred_at in pending:
        if payload.get("order_id") != order_id:
            continue
        if type_ in ORDER_OPS:
            count += 1
            outcome = apply_order_op(
                order, type_, payload, context_for(actor_id, occurred_at, policy, staff)
            )
            if outcome.status is not Status.REJECTED:
                order = outcome.order
        elif type_ == "return.receive":
            count += 1
            ctx = context_for(actor_id, occurred_at, policy, staff, timezone)
            got = receive_return(conn, order, payload, ctx)
            if folded is not None:
                folded[str(payload["return_id"])] = got.ret
            if got.order is not None:
                order = got.order
    conn.execute(UPSERT_ORDER, order_row(order, count))


def _rebase_return(
    conn: sqlite3.Connection,
    return_id: str,
    pending: list[tuple[int, str, str, dict[str, Any], datetime]],
    policy: Policy,
    staff: dict[str, tuple[str, str]],
    timezone: str,
    folded: dict[str, Return | None],
) -> None:
    """returns row = central's document, or the return of a pending receive (from its
    order's fold, or on the receipt alone when the order is not here), then the pending
    overrides on top."""
    ret = _return_doc(conn, return_id)
    mine = _ops_on(pending, RETURN_OPS, "return_id", return_id)
    for _, type_, actor_id, payload, occurred_at in mine:
        ctx = context_for(actor_id, occurred_at, policy, staff, timezone)
        if type_ == "return.receive":
            if ret is not None:
                continue  # central has it already
            if return_id in folded:
                ret = folded[return_id]
            else:  # its order is not on this tablet
                ret = receive_return(conn, None, payload, ctx).ret
        elif ret is not None:
            got = override(ret, str(payload.get("reason") or ""), ctx)
            if got.ret is not None:
                ret = got.ret
    conn.execute("DELETE FROM returns WHERE return_id = ?", (return_id,))
    if ret is not None:
        conn.execute(UPSERT_RETURN, return_row(ret, len(mine)))
