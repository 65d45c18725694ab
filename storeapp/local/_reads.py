"""The reads the screens make: projections, staff and PIN check, tasks, the op log.

A mixin of `LocalStore` (it works on the store's own connection); kept apart so the
store module holds the writes and the sync engine's side.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from fulfillment import pins
from fulfillment.model import Order, OrderState, Policy, Role
from fulfillment.pickup import pickup_code_from_scan
from fulfillment.returns import ItemFacts, Return, returnable
from fulfillment.tasks import OPEN_TASK_STATES

from ._catalogue import item_facts
from ._counts import count_record
from ._docs import store_policy, store_timezone
from ._records import (
    CountRecord,
    Item,
    LoggedOp,
    PendingOp,
    ReturnRecord,
    StaffMember,
    Task,
    from_iso,
    row,
    rows,
    to_iso,
)

_WAITING_COUNTS = ("awaiting_approval", "disputed")
_WAITING_RETURNS = ("awaiting_override", "needs_review")
_COUNT_COLUMNS = "data, pending"

# states in which goods may have left the store (a partial hand-over leaves the rest staged)
_AFTER_SALE = (
    OrderState.SHIPPED,
    OrderState.HANDED_OVER,
    OrderState.STAGED,
    OrderState.CANCELLED,
    OrderState.EXPIRED,
)


class Reads:
    """Reads for the view-models (and the one write they make: marking attention seen)."""

    _conn: sqlite3.Connection
    _parsed: dict[str, tuple[str, Order]]

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self._conn.execute(sql, params).fetchone()
        return row[0] if row else None

    # --- reads for the screens ---------------------------------------------------------

    def _order_from(self, order_id: str, data: str) -> Order:
        """Parse an order's JSON, reusing the last parse when the JSON did not change."""
        cached = self._parsed.get(order_id)
        if cached is not None and cached[0] == data:
            return cached[1]
        order = Order.model_validate_json(data)
        if len(self._parsed) > 2000:
            self._parsed.clear()
        self._parsed[order_id] = (data, order)
        return order

    def order(self, order_id: str) -> Order | None:
        data = self._one("SELECT data FROM orders WHERE order_id = ?", (order_id,))
        return self._order_from(order_id, data) if data else None

    def orders(self, order_ids: Iterable[str]) -> list[Order]:
        """The orders named, in the order named; unknown ids are skipped."""
        wanted = list(order_ids)
        found = {
            r["order_id"]: self._order_from(r["order_id"], r["data"])
            for r in rows(
                self._conn,
                f"SELECT order_id, data FROM orders WHERE order_id IN ({', '.join('?' * len(wanted))})",
                wanted,
            )
        }
        return [found[x] for x in wanted if x in found]

    def orders_in(self, states: Iterable[str], *, order_type: str | None = None) -> list[Order]:
        """Orders in `states` by priority (highest first), then due time, then id."""
        states = list(states)
        sql = f"SELECT data FROM orders WHERE state IN ({', '.join('?' * len(states))})"
        params: list[Any] = [*states]
        if order_type:
            sql += " AND type = ?"
            params.append(order_type)
        sql += " ORDER BY priority DESC, due_at, order_id"
        sql = sql.replace("SELECT data", "SELECT order_id, data", 1)
        return [self._order_from(r["order_id"], r["data"]) for r in rows(self._conn, sql, params)]

    def count_orders(
        self,
        states: Iterable[str],
        *,
        order_type: str | None = None,
        free_or_mine: str | None = None,
        due_before: datetime | None = None,
    ) -> int:
        """How many orders match: `free_or_mine` = unassigned or assigned to that actor."""
        states = list(states)
        sql = f"SELECT count(*) FROM orders WHERE state IN ({', '.join('?' * len(states))})"
        params: list[Any] = [*states]
        if order_type:
            sql += " AND type = ?"
            params.append(order_type)
        if free_or_mine:
            sql += " AND (assignee IS NULL OR assignee = ?)"
            params.append(free_or_mine)
        if due_before:
            sql += " AND due_at < ?"
            params.append(to_iso(due_before))
        return int(self._one(sql, params))

    def find_by_pickup_code(self, code: str, states: Iterable[str]) -> list[Order]:
        states = list(states)
        rows = self._conn.execute(
            f"""SELECT data FROM orders WHERE pickup_code = ?
                AND state IN ({", ".join("?" * len(states))}) ORDER BY order_id""",
            [code.strip().upper(), *states],
        )
        return [Order.model_validate_json(r[0]) for r in rows]

    def search_orders(self, text: str, states: Iterable[str], *, limit: int = 50) -> list[Order]:
        """Orders whose id, customer name, email or phone contains `text` (any case)."""
        needle = text.strip().lower()
        if not needle:
            return []
        digits = "".join(ch for ch in needle if ch.isdigit())
        states = list(states)
        where = "instr(search, ?) > 0"
        params: list[Any] = [needle]
        if len(digits) >= 4 and digits != needle:
            where = "(instr(search, ?) > 0 OR instr(search, ?) > 0)"
            params.append(digits)
        rows = self._conn.execute(
            f"""SELECT data FROM orders WHERE {where}
                AND state IN ({", ".join("?" * len(states))}) ORDER BY due_at, order_id LIMIT ?""",
            [*params, *states, limit],
        )
        return [Order.model_validate_json(r[0]) for r in rows]

    # --- returns ------------------------------------------------------------------------

    def find_returnable(self, text: str, *, limit: int = 20) -> list[Order]:
        """Orders a customer may bring something back from, found by order number, pickup
        code, or customer name, email or phone: only those with a unit still returnable.
        An exact order number or pickup code comes first."""
        needle = pickup_code_from_scan(text or "").strip()
        if not needle:
            return []
        exact = rows(
            self._conn,
            """SELECT order_id, data FROM orders
               WHERE upper(order_id) = ? OR pickup_code = ? ORDER BY order_id""",
            (needle.upper(), needle.upper()),
        )
        found = [self._order_from(r["order_id"], r["data"]) for r in exact]
        states = [s.value for s in _AFTER_SALE]
        seen = {o.order_id for o in found}
        found += [
            o for o in self.search_orders(needle, states, limit=limit) if o.order_id not in seen
        ]
        return [o for o in found if any(returnable(x) > 0 for x in o.lines)][:limit]

    def item_facts(self, skus: Iterable[str]) -> dict[str, ItemFacts]:
        """Name, price, home location and final sale of `skus` from the catalogue here."""
        return item_facts(self._conn, skus)

    def get_return(self, return_id: str) -> ReturnRecord | None:
        found = row(
            self._conn, "SELECT data, pending FROM returns WHERE return_id = ?", (return_id,)
        )
        return _return(found) if found else None

    def returns_since(self, at: datetime, *, limit: int = 200) -> list[ReturnRecord]:
        """Returns received at or after `at`, newest first (central's and this tablet's)."""
        found = rows(
            self._conn,
            """SELECT data, pending FROM returns WHERE received_at >= ?
               ORDER BY received_at DESC, return_id LIMIT ?""",
            (to_iso(at), limit),
        )
        return [_return(r) for r in found]

    def returns_of(self, order_id: str) -> list[ReturnRecord]:
        found = rows(
            self._conn,
            "SELECT data, pending FROM returns WHERE order_id = ? ORDER BY received_at",
            (order_id,),
        )
        return [_return(r) for r in found]

    def returns_waiting(self) -> list[ReturnRecord]:
        """Returns a manager must decide (outside policy, or not verified), oldest first."""
        found = rows(
            self._conn,
            f"""SELECT data, pending FROM returns
                WHERE state IN ({", ".join("?" * len(_WAITING_RETURNS))})
                ORDER BY received_at, return_id""",
            _WAITING_RETURNS,
        )
        return [_return(r) for r in found]

    # --- counts -------------------------------------------------------------------------

    def get_count(self, count_id: str) -> CountRecord | None:
        found = row(
            self._conn, f"SELECT {_COUNT_COLUMNS} FROM counts WHERE count_id = ?", (count_id,)
        )
        return _count(found) if found else None

    def counts_waiting(self) -> list[CountRecord]:
        """Counts a manager must decide (variance over the threshold, or disputed), oldest
        first."""
        found = rows(
            self._conn,
            f"""SELECT {_COUNT_COLUMNS} FROM counts
                WHERE state IN ({", ".join("?" * len(_WAITING_COUNTS))})
                ORDER BY counted_at, count_id""",
            _WAITING_COUNTS,
        )
        return [_count(r) for r in found]

    def counts_by(self, employee_id: str, *, limit: int = 20) -> list[CountRecord]:
        """The counts `employee_id` made, newest first, with central's answer when it came."""
        found = rows(
            self._conn,
            f"""SELECT {_COUNT_COLUMNS} FROM counts WHERE counted_by = ?
                ORDER BY counted_at DESC, count_id LIMIT ?""",
            (employee_id, limit),
        )
        return [_count(r) for r in found]

    # --- the stock lookup (issue #11) ---------------------------------------------------

    def orders_with_rejections(self, *, limit: int = 500) -> list[Order]:
        """Orders with a rejection in their history (any state), most recently changed first."""
        found = self._conn.execute(
            """SELECT order_id, data FROM orders WHERE data LIKE '%"rejections":[{%'
               ORDER BY order_id LIMIT ?""",
            (limit,),
        ).fetchall()
        return [self._order_from(oid, data) for oid, data in found]

    def search_items(self, text: str, *, limit: int = 20) -> list[Item]:
        """Items whose sku or name holds `text` (any case), by name."""
        like = f"%{text.strip().lower()}%"
        skus = [
            r[0]
            for r in self._conn.execute(
                """SELECT sku FROM items WHERE lower(sku) LIKE ? OR lower(name) LIKE ?
                   ORDER BY name, sku LIMIT ?""",
                (like, like, limit),
            )
        ]
        return [i for i in (self.item(s) for s in skus) if i is not None]

    def stock_of(self, sku: str) -> list[dict[str, Any]]:
        """The stock rows of `sku`, one per place (on_hand, reserved, available, doubtful)."""
        return [
            dict(r)
            for r in rows(
                self._conn,
                """SELECT location, on_hand, reserved, available, doubtful FROM stock
                   WHERE sku = ? ORDER BY location""",
                (sku,),
            )
        ]

    def last_counts(self, sku: str, *, limit: int = 3) -> list[CountRecord]:
        """The latest counts of `sku` this tablet holds, newest first."""
        found = rows(
            self._conn,
            f"""SELECT {_COUNT_COLUMNS} FROM counts WHERE sku = ?
                ORDER BY counted_at DESC, count_id LIMIT ?""",
            (sku, limit),
        )
        return [_count(r) for r in found]

    def recount_tasks(self) -> list[Task]:
        """Open recount tasks (shorts, disagreeing counts, counts sent back), oldest first."""
        return [t for t in self.tasks() if t.kind == "recount"]

    def policy(self) -> Policy:
        return store_policy(self._conn)

    def store_info(self) -> dict[str, Any] | None:
        """The `store` document (store_id, name, timezone, policy), or None before a pull."""
        data = self._one("SELECT data FROM srv_docs WHERE kind = 'store' LIMIT 1")
        return json.loads(data) if data else None

    def timezone(self) -> str:
        """The store's time zone name ("UTC" before a pull, or for one this machine lacks)."""
        return store_timezone(self._conn)

    def staff_member(self, employee_id: str) -> StaffMember | None:
        found = row(
            self._conn,
            "SELECT employee_id, name, role, active FROM staff WHERE employee_id = ?",
            (employee_id,),
        )
        return _staff(found) if found else None

    def staff_names(self) -> dict[str, str]:
        return {r[0]: r[1] for r in self._conn.execute("SELECT employee_id, name FROM staff")}

    def staff_count(self) -> int:
        return int(self._one("SELECT count(*) FROM staff WHERE active = 1"))

    def verify_pin(self, employee_id: str, pin: str) -> StaffMember | None:
        """The active staff member when the PIN matches (offline: hashes come by pull)."""
        found = row(
            self._conn,
            "SELECT employee_id, name, role, active, pin_hash FROM staff WHERE employee_id = ?",
            (employee_id.strip(),),
        )
        if not found or not found["active"] or not pins.verify_pin(pin, found["pin_hash"]):
            return None
        return _staff(found)

    def item(self, sku: str) -> Item | None:
        found = row(
            self._conn,
            "SELECT sku, name, location, location_seq, price, final_sale FROM items WHERE sku = ?",
            (sku,),
        )
        if found is None:
            return None
        codes = tuple(
            r[0]
            for r in self._conn.execute(
                "SELECT gtin FROM gtins WHERE sku = ? ORDER BY gtin", (sku,)
            )
        )
        return Item(
            sku=found["sku"],
            name=found["name"],
            location=found["location"],
            location_seq=found["location_seq"],
            price=found["price"],
            gtins=codes,
            final_sale=bool(found["final_sale"]),
        )

    def item_by_gtin(self, gtin: str) -> Item | None:
        sku = self._one("SELECT sku FROM gtins WHERE gtin = ?", (gtin,))
        return self.item(sku) if sku else None

    def tasks(self, *, open_only: bool = True) -> list[Task]:
        found = [
            _task(r)
            for r in rows(
                self._conn,
                """SELECT task_id, kind, sku, location, qty, order_id, reason, state, created_at
                   FROM tasks ORDER BY created_at, task_id""",
            )
        ]
        return [t for t in found if t.is_open] if open_only else found

    def task(self, task_id: str) -> Task | None:
        found = row(
            self._conn,
            """SELECT task_id, kind, sku, location, qty, order_id, reason, state, created_at
               FROM tasks WHERE task_id = ?""",
            (task_id,),
        )
        return _task(found) if found else None

    def open_task_count(self) -> int:
        states = sorted(OPEN_TASK_STATES)
        return int(
            self._one(
                f"SELECT count(*) FROM tasks WHERE state IN ({', '.join('?' * len(states))})",
                states,
            )
        )

    def server_doc(self, kind: str, id_: str) -> dict[str, Any] | None:
        """Central's document of this kind and id as last pulled (None: not here)."""
        data = self._one("SELECT data FROM srv_docs WHERE kind = ? AND id = ?", (kind, id_))
        return json.loads(data) if data else None

    def docs(self, kind: str) -> list[dict[str, Any]]:
        """Server documents of one kind (e.g. `exception`), newest first."""
        rows = self._conn.execute(
            "SELECT data FROM srv_docs WHERE kind = ? ORDER BY version DESC", (kind,)
        )
        return [json.loads(r[0]) for r in rows]

    def open_exceptions(self) -> list[dict[str, Any]]:
        """Central's exceptions still open (what a manager has to settle), newest first."""
        return [d for d in self.docs("exception") if d.get("state", "open") == "open"]

    def outbox(self, limit: int = 100) -> list[PendingOp]:
        found = rows(
            self._conn,
            "SELECT seq, op_id, type, actor_id, payload, occurred_at FROM outbox ORDER BY seq LIMIT ?",
            (limit,),
        )
        return [
            PendingOp(
                seq=r["seq"],
                op_id=r["op_id"],
                type=r["type"],
                actor_id=r["actor_id"],
                payload=json.loads(r["payload"]),
                occurred_at=from_iso(r["occurred_at"]),  # type: ignore[arg-type]
            )
            for r in found
        ]

    def op_log(self, *, attention_only: bool = False, limit: int = 100) -> list[LoggedOp]:
        """Acknowledged ops, newest first; `attention_only`: refused or compensated, not seen."""
        where = "WHERE seen = 0" if attention_only else ""
        found = rows(
            self._conn,
            f"""SELECT seq, op_id, type, actor_id, payload, occurred_at, status, original_status,
                       code, message, followups, acked_at, seen
                FROM op_log {where} ORDER BY seq DESC LIMIT ?""",
            (limit,),
        )
        return [
            LoggedOp(
                seq=r["seq"],
                op_id=r["op_id"],
                type=r["type"],
                actor_id=r["actor_id"],
                payload=json.loads(r["payload"]),
                occurred_at=from_iso(r["occurred_at"]),  # type: ignore[arg-type]
                status=r["status"],
                original_status=r["original_status"],
                code=r["code"],
                message=r["message"],
                followups=tuple(json.loads(r["followups"])),
                acked_at=from_iso(r["acked_at"]),  # type: ignore[arg-type]
                seen=bool(r["seen"]),
            )
            for r in found
        ]


def _staff(r: sqlite3.Row) -> StaffMember:
    try:
        role = Role(r["role"])
    except ValueError:
        role = Role.ASSOCIATE
    return StaffMember(r["employee_id"], r["name"], role, bool(r["active"]))


def _task(r: sqlite3.Row) -> Task:
    return Task(
        task_id=r["task_id"],
        kind=r["kind"],
        sku=r["sku"] or "",
        location=r["location"] or "",
        qty=r["qty"] or 0,
        order_id=r["order_id"],
        reason=r["reason"] or "",
        state=r["state"],
        created_at=from_iso(r["created_at"]),
    )


def _return(r: sqlite3.Row) -> ReturnRecord:
    return ReturnRecord(Return.model_validate_json(r["data"]), bool(r["pending"]))


def _count(r: sqlite3.Row) -> CountRecord:
    return count_record(json.loads(r["data"]), bool(r["pending"]))
