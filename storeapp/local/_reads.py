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

from . import _projection as proj
from ._records import (
    CountRecord,
    Item,
    LoggedOp,
    PendingOp,
    ReturnRecord,
    StaffMember,
    Task,
    from_iso,
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
        rows = self._conn.execute(
            f"SELECT order_id, data FROM orders WHERE order_id IN ({', '.join('?' * len(wanted))})",
            wanted,
        ).fetchall()
        found = {r[0]: self._order_from(r[0], r[1]) for r in rows}
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
        return [self._order_from(r[0], r[1]) for r in self._conn.execute(sql, params)]

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
        exact = self._conn.execute(
            """SELECT order_id, data FROM orders
               WHERE upper(order_id) = ? OR pickup_code = ? ORDER BY order_id""",
            (needle.upper(), needle.upper()),
        ).fetchall()
        found = [self._order_from(r[0], r[1]) for r in exact]
        states = [s.value for s in _AFTER_SALE]
        seen = {o.order_id for o in found}
        found += [
            o for o in self.search_orders(needle, states, limit=limit) if o.order_id not in seen
        ]
        return [o for o in found if any(returnable(x) > 0 for x in o.lines)][:limit]

    def item_facts(self, skus: Iterable[str]) -> dict[str, ItemFacts]:
        """Name, price, home location and final sale of `skus` from the catalogue here."""
        return proj.item_facts(self._conn, skus)

    def get_return(self, return_id: str) -> ReturnRecord | None:
        row = self._conn.execute(
            "SELECT data, pending FROM returns WHERE return_id = ?", (return_id,)
        ).fetchone()
        return ReturnRecord(Return.model_validate_json(row[0]), bool(row[1])) if row else None

    def returns_since(self, at: datetime, *, limit: int = 200) -> list[ReturnRecord]:
        """Returns received at or after `at`, newest first (central's and this tablet's)."""
        rows = self._conn.execute(
            """SELECT data, pending FROM returns WHERE received_at >= ?
               ORDER BY received_at DESC, return_id LIMIT ?""",
            (to_iso(at), limit),
        ).fetchall()
        return [ReturnRecord(Return.model_validate_json(r[0]), bool(r[1])) for r in rows]

    def returns_of(self, order_id: str) -> list[ReturnRecord]:
        rows = self._conn.execute(
            "SELECT data, pending FROM returns WHERE order_id = ? ORDER BY received_at",
            (order_id,),
        ).fetchall()
        return [ReturnRecord(Return.model_validate_json(r[0]), bool(r[1])) for r in rows]

    def returns_waiting(self) -> list[ReturnRecord]:
        """Returns a manager must decide (outside policy, or not verified), oldest first."""
        rows = self._conn.execute(
            f"""SELECT data, pending FROM returns
                WHERE state IN ({", ".join("?" * len(_WAITING_RETURNS))})
                ORDER BY received_at, return_id""",
            _WAITING_RETURNS,
        ).fetchall()
        return [ReturnRecord(Return.model_validate_json(r[0]), bool(r[1])) for r in rows]

    # --- counts -------------------------------------------------------------------------

    def get_count(self, count_id: str) -> CountRecord | None:
        row = self._conn.execute(
            f"SELECT {_COUNT_COLUMNS} FROM counts WHERE count_id = ?", (count_id,)
        ).fetchone()
        return count_record(json.loads(row[0]), bool(row[1])) if row else None

    def counts_waiting(self) -> list[CountRecord]:
        """Counts a manager must decide (variance over the threshold, or disputed), oldest
        first."""
        rows = self._conn.execute(
            f"""SELECT {_COUNT_COLUMNS} FROM counts
                WHERE state IN ({", ".join("?" * len(_WAITING_COUNTS))})
                ORDER BY counted_at, count_id""",
            _WAITING_COUNTS,
        ).fetchall()
        return [count_record(json.loads(r[0]), bool(r[1])) for r in rows]

    def counts_by(self, employee_id: str, *, limit: int = 20) -> list[CountRecord]:
        """The counts `employee_id` made, newest first, with central's answer when it came."""
        rows = self._conn.execute(
            f"""SELECT {_COUNT_COLUMNS} FROM counts WHERE counted_by = ?
                ORDER BY counted_at DESC, count_id LIMIT ?""",
            (employee_id, limit),
        ).fetchall()
        return [count_record(json.loads(r[0]), bool(r[1])) for r in rows]

    def recount_tasks(self) -> list[Task]:
        """Open recount tasks (shorts, disagreeing counts, counts sent back), oldest first."""
        return [t for t in self.tasks() if t.kind == "recount"]

    def policy(self) -> Policy:
        return proj.store_policy(self._conn)

    def store_info(self) -> dict[str, Any] | None:
        """The `store` document (store_id, name, timezone, policy), or None before a pull."""
        data = self._one("SELECT data FROM srv_docs WHERE kind = 'store' LIMIT 1")
        return json.loads(data) if data else None

    def staff_member(self, employee_id: str) -> StaffMember | None:
        row = self._conn.execute(
            "SELECT employee_id, name, role, active FROM staff WHERE employee_id = ?",
            (employee_id,),
        ).fetchone()
        return _staff(row) if row else None

    def staff_names(self) -> dict[str, str]:
        return {r[0]: r[1] for r in self._conn.execute("SELECT employee_id, name FROM staff")}

    def staff_count(self) -> int:
        return int(self._one("SELECT count(*) FROM staff WHERE active = 1"))

    def verify_pin(self, employee_id: str, pin: str) -> StaffMember | None:
        """The active staff member when the PIN matches (offline: hashes come by pull)."""
        row = self._conn.execute(
            "SELECT employee_id, name, role, active, pin_hash FROM staff WHERE employee_id = ?",
            (employee_id.strip(),),
        ).fetchone()
        if not row or not row[3] or not pins.verify_pin(pin, row[4]):
            return None
        return _staff(row)

    def item(self, sku: str) -> Item | None:
        row = self._conn.execute(
            "SELECT sku, name, location, location_seq, price, final_sale FROM items WHERE sku = ?",
            (sku,),
        ).fetchone()
        if row is None:
            return None
        codes = tuple(
            r[0]
            for r in self._conn.execute(
                "SELECT gtin FROM gtins WHERE sku = ? ORDER BY gtin", (sku,)
            )
        )
        return Item(row[0], row[1], row[2], row[3], row[4], codes, bool(row[5]))

    def item_by_gtin(self, gtin: str) -> Item | None:
        sku = self._one("SELECT sku FROM gtins WHERE gtin = ?", (gtin,))
        return self.item(sku) if sku else None

    def tasks(self, *, open_only: bool = True) -> list[Task]:
        rows = self._conn.execute(
            """SELECT task_id, kind, sku, location, qty, order_id, reason, state, created_at
               FROM tasks ORDER BY created_at, task_id"""
        ).fetchall()
        found = [_task(r) for r in rows]
        return [t for t in found if t.is_open] if open_only else found

    def task(self, task_id: str) -> Task | None:
        row = self._conn.execute(
            """SELECT task_id, kind, sku, location, qty, order_id, reason, state, created_at
               FROM tasks WHERE task_id = ?""",
            (task_id,),
        ).fetchone()
        return _task(row) if row else None

    def open_task_count(self) -> int:
        states = sorted(OPEN_TASK_STATES)
        return int(
            self._one(
                f"SELECT count(*) FROM tasks WHERE state IN ({', '.join('?' * len(states))})",
                states,
            )
        )

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
        rows = self._conn.execute(
            "SELECT seq, op_id, type, actor_id, payload, occurred_at FROM outbox ORDER BY seq LIMIT ?",
            (limit,),
        ).fetchall()
        return [PendingOp(r[0], r[1], r[2], r[3], json.loads(r[4]), from_iso(r[5])) for r in rows]  # type: ignore[arg-type]

    def op_log(self, *, attention_only: bool = False, limit: int = 100) -> list[LoggedOp]:
        """Acknowledged ops, newest first; `attention_only`: refused or compensated, not seen."""
        where = "WHERE seen = 0" if attention_only else ""
        rows = self._conn.execute(
            f"""SELECT seq, op_id, type, actor_id, payload, occurred_at, status, original_status,
                       code, message, followups, acked_at, seen
                FROM op_log {where} ORDER BY seq DESC LIMIT ?""",
            (limit,),
        ).fetchall()
        return [
            LoggedOp(
                r[0],
                r[1],
                r[2],
                r[3],
                json.loads(r[4]),
                from_iso(r[5]),
                r[6],
                r[7],
                r[8],
                r[9],  # type: ignore[arg-type]
                tuple(json.loads(r[10])),
                from_iso(r[11]),
                bool(r[12]),  # type: ignore[arg-type]
            )
            for r in rows
        ]


def _staff(row: Sequence[Any]) -> StaffMember:
    try:
        role = Role(row[2])
    except ValueError:
        role = Role.ASSOCIATE
    return StaffMember(row[0], row[1], role, bool(row[3]))


def _task(r: Sequence[Any]) -> Task:
    return Task(
        r[0], r[1], r[2] or "", r[3] or "", r[4] or 0, r[5], r[6] or "", r[7], from_iso(r[8])
    )


def count_record(data: dict[str, Any], pending: bool) -> CountRecord:
    counted_at = from_iso(str(data["counted_at"]))
    assert counted_at is not None
    return CountRecord(
        count_id=str(data["count_id"]),
        task_id=data.get("task_id"),
        sku=str(data["sku"]),
        location=str(data["location"]),
        name=str(data.get("name") or data["sku"]),
        counted=int(data["counted"]),
        counted_at=counted_at,
        counted_by=str(data["counted_by"]),
        counted_by_name=str(data.get("counted_by_name") or data["counted_by"]),
        state=str(data["state"]),
        book=None if data.get("book") is None else int(data["book"]),
        variance=None if data.get("variance") is None else int(data["variance"]),
        adjustment=int(data.get("adjustment") or 0),
        message=str(data.get("message") or ""),
        decided_by=data.get("decided_by"),
        decided_by_name=data.get("decided_by_name"),
        pending=pending,
    )
