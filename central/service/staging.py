"""Writes staged in memory during a store transaction, flushed with a few bulk statements.

A push of 500 ops would otherwise run ten statements per op. Each op instead
stages its effects (order and return documents, ledger rows, stock deltas, tasks,
exceptions, notifications, refund requests, its result) in its own `Staging`; when the op
completes the child merges into the transaction's staging, and when it raises
the child is dropped — the same all-or-nothing per op that a savepoint gives.
`flush` then writes everything with `executemany` and publishes each changed
document once, under the next numbers of the store's change sequence.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, Connection, Table, and_, bindparam, insert, select, tuple_, update

from fulfillment.counts import Count
from fulfillment.model import Order
from fulfillment.returns import Return

from ..db.tables import (
    UTCDateTime,
    counts,
    dead_letters,
    exceptions,
    ledger,
    notifications,
    op_results,
    orders,
    refunds,
    returns,
    stock,
    tasks,
)

__all__ = ["Key", "Staging", "stock_doc"]

Key = tuple[str, str]


def stock_doc(row: Any) -> dict[str, Any]:
    return {
        "sku": row.sku,
        "location": row.location,
        "on_hand": row.on_hand,
        "reserved": row.reserved,
        "available": row.on_hand - row.reserved - row.safety,
        "doubtful": bool(row.doubtful),
    }


def _converter(column_type: Any, dialect: str) -> Callable[[Any], Any] | None:
    """How one column's Python value goes to the driver, as SQLAlchemy's own types would send
    it; None when the driver takes the value as it is."""
    if isinstance(column_type, UTCDateTime):
        return _sqlite_datetime if dialect == "sqlite" else None
    if isinstance(column_type, JSON):
        return lambda v: None if v is None else json.dumps(v, separators=(",", ":"))
    return None


@lru_cache(maxsize=4096)  # a batch repeats its ops' times and the transaction's own
def _sqlite_datetime(value: datetime | None) -> str | None:
    """SQLAlchemy's SQLite storage format (`YYYY-MM-DD HH:MM:SS.ffffff`), in UTC."""
    if value is None:
        return None
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def bulk_insert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """INSERT many rows with one driver-level executemany.

    For the two tables that get a row per op (`ledger`, `op_results`): SQLAlchemy's per-row
    parameter processing cost more than the database's work. Values are converted as the
    columns' types would (aware UTC datetimes, JSON), on SQLite and PostgreSQL alike."""
    columns = list(rows[0])
    dialect = conn.dialect.name
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    converters = [
        (i, f)
        for i, c in enumerate(columns)
        if (f := _converter(table.c[c].type, dialect)) is not None
    ]
    values_of = itemgetter(*columns)  # (these tables have many columns: always a tuple)
    params: list[tuple[Any, ...]] = [values_of(row) for row in rows]
    if converters:
        for n, values in enumerate(params):
            changed = list(values)
            for i, f in converters:
                changed[i] = f(changed[i])
            params[n] = tuple(changed)
    sql = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) "
        f"VALUES ({', '.join([mark] * len(columns))})"
    )
    conn.exec_driver_sql(sql, params)


Rows = dict[str, dict[str, Any]]  # a documents table's staged rows by id; "data": the model
_DocsOf = Callable[["Staging"], tuple[Rows, Rows]]  # (new rows, updates) of one kind


def _returns_of(s: Staging) -> tuple[Rows, Rows]:
    return s.new_returns, s.return_updates


def _counts_of(s: Staging) -> tuple[Rows, Rows]:
    return s.new_counts, s.count_updates


def _merge_documents(new: Rows, updates: Rows, into_new: Rows, into_updates: Rows) -> None:
    """One op's new and changed documents of a kind, handed to the transaction's staging: a
    change to a document the transaction made new stays new, with the change on top."""
    if new:
        into_new.update(new)
    for doc_id, changed in updates.items():
        if doc_id in into_new:
            into_new[doc_id] = {**into_new[doc_id], **changed}
        else:
            into_updates[doc_id] = changed


def _flush_documents(
    conn: Connection,
    table: Table,
    id_column: str,
    new: Rows,
    updates: Rows,
    facts: Callable[[Any], dict[str, Any]],
) -> None:
    """Insert a documents table's new rows (with the columns `facts` reads off the document,
    its state and its JSON) and write its changed ones (state, data, updated_at) by id."""
    if new:
        conn.execute(
            insert(table),
            [
                {
                    **row,
                    **facts(row["data"]),
                    "state": row["data"].state.value,
                    "data": row["data"].model_dump(mode="json"),
                }
                for row in new.values()
            ],
        )
    if updates:
        conn.execute(
            update(table)
            .where(table.c[id_column] == bindparam("doc_id"))
            .values(
                state=bindparam("state"),
                data=bindparam("data"),
                updated_at=bindparam("updated_at"),
            ),
            [
                {
                    "doc_id": doc_id,
                    "state": row["data"].state.value,
                    "data": row["data"].model_dump(mode="json"),
                    "updated_at": row["updated_at"],
                }
                for doc_id, row in updates.items()
            ],
        )


@dataclass
class Staging:
    parent: Staging | None = None
    docs: dict[tuple[str, str], Any] = field(default_factory=dict)  # a dict or a pydantic model
    new_orders: dict[str, Order] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)  # changed, not new
    new_tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    task_updates: dict[str, dict[str, Any]] = field(default_factory=dict)
    on_hand: defaultdict[Key, int] = field(default_factory=lambda: defaultdict(int))
    reserved: defaultdict[Key, int] = field(default_factory=lambda: defaultdict(int))
    doubtful: dict[Key, bool] = field(default_factory=dict)
    touched: set[Key] = field(default_factory=set)
    ledger: list[dict[str, Any]] = field(default_factory=list)
    exceptions: list[dict[str, Any]] = field(default_factory=list)
    notifications: list[dict[str, Any]] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)
    dead_letters: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    new_returns: Rows = field(default_factory=dict)  # rows; "data": a Return
    return_updates: Rows = field(default_factory=dict)  # data, updated_at
    refunds: list[dict[str, Any]] = field(default_factory=list)
    new_counts: Rows = field(default_factory=dict)  # rows; "data": a Count
    count_updates: Rows = field(default_factory=dict)  # data, updated_at
    exception_updates: dict[str, dict[str, Any]] = field(default_factory=dict)  # whole rows

    # --- reads that see what is staged ------------------------------------------

    def order(self, order_id: str) -> Order | None:
        s: Staging | None = self
        while s is not None:
            found = s.orders.get(order_id) or s.new_orders.get(order_id)
            if found is not None:
                return found
            s = s.parent
        return None

    def _chain(self) -> list[Staging]:
        """This staging and its parents, oldest (the transaction's) first."""
        chain = []
        s: Staging | None = self
        while s is not None:
            chain.append(s)
            s = s.parent
        chain.reverse()
        return chain

    def _document(self, doc_id: str, of: _DocsOf) -> Any:
        """A staged document's latest `data` (a return or a count), None when none is staged."""
        s: Staging | None = self
        while s is not None:
            new, updates = of(s)
            found = updates.get(doc_id) or new.get(doc_id)
            if found is not None:
                return found["data"]
            s = s.parent
        return None

    def _documents(self, of: _DocsOf) -> dict[str, Any]:
        """Every staged document's latest `data` by id, in the order they were first staged."""
        seen: dict[str, Any] = {}
        for s in self._chain():  # oldest first, so later stages win
            new, updates = of(s)
            for doc_id, row in (*new.items(), *updates.items()):
                seen[doc_id] = row["data"]
        return seen

    def return_doc(self, return_id: str) -> Return | None:
        doc: Return | None = self._document(return_id, _returns_of)
        return doc

    def returns_of_order(self, order_id: str) -> list[Return]:
        """The returns of an order staged in this transaction (their latest documents)."""
        staged: dict[str, Return] = self._documents(_returns_of)
        return [r for r in staged.values() if r.order_id == order_id]

    def count_doc(self, count_id: str) -> Count | None:
        doc: Count | None = self._document(count_id, _counts_of)
        return doc

    def counts_of(self, sku: str, location: str) -> dict[str, Count]:
        """The counts of one sku/location staged in this transaction (their latest documents)."""
        staged: dict[str, Count] = self._documents(_counts_of)
        return {
            cid: doc for cid, doc in staged.items() if doc.sku == sku and doc.location == location
        }

    def ledger_rows(self, sku: str, location: str) -> list[dict[str, Any]]:
        """The movements of one sku/location staged in this transaction, not written yet."""
        return [
            row
            for s in self._chain()
            for row in s.ledger
            if row["sku"] == sku and row["location"] == location
        ]

    def exception(self, exception_id: str) -> dict[str, Any] | None:
        s: Staging | None = self
        while s is not None:
            found = s.exception_updates.get(exception_id) or next(
                (x for x in s.exceptions if x["exception_id"] == exception_id), None
            )
            if found is not None:
                return found
            s = s.parent
        return None

    def task(self, task_id: str) -> dict[str, Any] | None:
        s: Staging | None = self
        while s is not None:
            found = s.task_updates.get(task_id) or s.new_tasks.get(task_id)
            if found is not None:
                return found
            s = s.parent
        return None

    def tasks_of_order(self, order_id: str) -> list[dict[str, Any]]:
        seen: dict[str, dict[str, Any]] = {}
        chain = []
        s: Staging | None = self
        while s is not None:
            chain.append(s)
            s = s.parent
        for s in reversed(chain):  # oldest first, so later stages win
            for row in (*s.new_tasks.values(), *s.task_updates.values()):
                if row.get("order_id") == order_id:
                    seen[row["task_id"]] = row
        return list(seen.values())

    def unwritten_task(
        self, kind: str, order_id: str | None, sku: str, location: str
    ) -> dict[str, Any] | None:
        """An open task of this kind, order, item and place made in this transaction: not
        written yet, so no tablet has seen it and it may still grow."""
        chain = []
        s: Staging | None = self
        while s is not None:
            chain.append(s)
            s = s.parent
        made = dict.fromkeys(tid for s in reversed(chain) for tid in s.new_tasks)
        for task_id in made:
            row = self.task(task_id)
            if (
                row is not None
                and row["state"] == "open"
                and (row["kind"], row["order_id"], row["sku"], row["location"])
                == (kind, order_id, sku, location)
            ):
                return row
        return None

    # --- one op's scope --------------------------------------------------------------

    def child(self) -> Staging:
        return Staging(parent=self)

    def merge_into_parent(self) -> None:
        """Hand what this op staged to the transaction (called once per op: keep it lean)."""
        p = self.parent
        assert p is not None
        p.docs.update(self.docs)
        if self.new_orders:
            p.new_orders.update(self.new_orders)
        for order_id, order in self.orders.items():
            if order_id in p.new_orders:
                p.new_orders[order_id] = order
            else:
                p.orders[order_id] = order
        if self.new_tasks:
            p.new_tasks.update(self.new_tasks)
        for task_id, row in self.task_updates.items():
            if task_id in p.new_tasks:
                p.new_tasks[task_id] = row
            else:
                p.task_updates[task_id] = row
        for key, delta in self.on_hand.items():
            p.on_hand[key] += delta
        for key, delta in self.reserved.items():
            p.reserved[key] += delta
        if self.doubtful:
            p.doubtful.update(self.doubtful)
        if self.touched:
            p.touched |= self.touched
        p.ledger += self.ledger
        if self.exceptions:
            p.exceptions += self.exceptions
        if self.notifications:
            p.notifications += self.notifications
        p.results += self.results
        if self.dead_letters:
            p.dead_letters.update(self.dead_letters)
        _merge_documents(self.new_returns, self.return_updates, p.new_returns, p.return_updates)
        if self.refunds:
            p.refunds += self.refunds
        if self.exception_updates:
            p.exception_updates.update(self.exception_updates)
        _merge_documents(self.new_counts, self.count_updates, p.new_counts, p.count_updates)

    # --- writing it all ------------------------------------------------------------

    def flush(self, conn: Connection, store_id: str) -> list[tuple[str, str, Any]]:
        """Write what is staged; returns the documents to publish, in order.

        The caller starts a new `Staging` afterwards (`StoreTx.flush`)."""
        assert self.parent is None, "flush the transaction's staging, not an op's"
        self._flush_orders(conn)
        if self.new_tasks:
            # one executemany needs every row to name the same columns: a task closed in
            # the transaction that made it carries done_by/done_at, the others do not
            conn.execute(
                insert(tasks),
                [{"done_by": None, "done_at": None, **row} for row in self.new_tasks.values()],
            )
        if self.task_updates:
            conn.execute(
                update(tasks)
                .where(tasks.c.task_id == bindparam("t_id"))
                .values(
                    state=bindparam("state"),
                    done_by=bindparam("done_by"),
                    done_at=bindparam("done_at"),
                ),
                [
                    {
                        "t_id": k,
                        "state": v["state"],
                        "done_by": v.get("done_by"),
                        "done_at": v.get("done_at"),
                    }
                    for k, v in self.task_updates.items()
                ],
            )
        if self.ledger:
            bulk_insert(conn, ledger, self.ledger)
        self._flush_returns(conn)
        self._flush_counts(conn)
        stock_docs = self._flush_stock(conn, store_id)
        if self.exceptions:
            conn.execute(insert(exceptions), self.exceptions)
        if self.exception_updates:
            conn.execute(
                update(exceptions)
                .where(exceptions.c.exception_id == bindparam("x_id"))
                .values(
                    state=bindparam("state"),
                    resolved_at=bindparam("resolved_at"),
                    resolved_by=bindparam("resolved_by"),
                    resolution=bindparam("resolution"),
                ),
                [
                    {
                        "x_id": k,
                        "state": v["state"],
                        "resolved_at": v["resolved_at"],
                        "resolved_by": v["resolved_by"],
                        "resolution": v["resolution"],
                    }
                    for k, v in self.exception_updates.items()
                ],
            )
        if self.notifications:
            conn.execute(insert(notifications), self.notifications)
        if self.results:
            bulk_insert(conn, op_results, self.results)
        self._flush_dead_letters(conn)
        docs: list[tuple[str, str, Any]] = [(k, i, d) for (k, i), d in self.docs.items()]
        docs += stock_docs
        return docs

    def _flush_orders(self, conn: Connection) -> None:
        if self.new_orders:
            conn.execute(
                insert(orders),
                [
                    {
                        "order_id": o.order_id,
                        "store_id": o.store_id,
                        "type": o.type.value,
                        "state": o.state.value,
                        "data": o.model_dump(mode="json"),
                        "updated_at": o.updated_at,
                    }
                    for o in self.new_orders.values()
                ],
            )
        if self.orders:
            conn.execute(
                update(orders)
                .where(orders.c.order_id == bindparam("o_id"))
                .values(
                    state=bindparam("state"),
                    data=bindparam("data"),
                    updated_at=bindparam("updated_at"),
                ),
                [
                    {
                        "o_id": o.order_id,
                        "state": o.state.value,
                        "data": o.model_dump(mode="json"),
                        "updated_at": o.updated_at,
                    }
                    for o in self.orders.values()
                ],
            )

    def _flush_returns(self, conn: Connection) -> None:
        _flush_documents(
            conn,
            returns,
            "return_id",
            self.new_returns,
            self.return_updates,
            lambda ret: {"order_id": ret.order_id},
        )
        if self.refunds:
            conn.execute(insert(refunds), self.refunds)

    def _flush_counts(self, conn: Connection) -> None:
        _flush_documents(
            conn,
            counts,
            "count_id",
            self.new_counts,
            self.count_updates,
            lambda c: {"sku": c.sku, "location": c.location, "counted_at": c.counted_at},
        )

    def _flush_stock(
        self, conn: Connection, store_id: str
    ) -> list[tuple[str, str, dict[str, Any]]]:
        keys = self.touched | set(self.on_hand) | set(self.reserved) | set(self.doubtful)
        if not keys:
            return []
        where = and_(
            stock.c.store_id == store_id, tuple_(stock.c.sku, stock.c.location).in_(list(keys))
        )
        existing = {
            (r.sku, r.location)
            for r in conn.execute(select(stock.c.sku, stock.c.location).where(where))
        }
        missing = keys - existing
        if missing:
            conn.execute(
                insert(stock),
                [
                    {
                        "store_id": store_id,
                        "sku": s,
                        "location": loc,
                        "on_hand": 0,
                        "reserved": 0,
                        "safety": 0,
                        "doubtful": False,
                    }
                    for s, loc in sorted(missing)
                ],
            )
        moves = [
            {
                "s_id": store_id,
                "s_sku": k[0],
                "s_loc": k[1],
                "d_on": self.on_hand.get(k, 0),
                "d_res": self.reserved.get(k, 0),
            }
            for k in keys
            if self.on_hand.get(k, 0) or self.reserved.get(k, 0)
        ]
        key_match = and_(
            stock.c.store_id == bindparam("s_id"),
            stock.c.sku == bindparam("s_sku"),
            stock.c.location == bindparam("s_loc"),
        )
        if moves:
            conn.execute(
                update(stock)
                .where(key_match)
                .values(
                    on_hand=stock.c.on_hand + bindparam("d_on"),
                    reserved=stock.c.reserved + bindparam("d_res"),
                ),
                moves,
            )
        if self.doubtful:
            conn.execute(
                update(stock).where(key_match).values(doubtful=bindparam("flag")),
                [
                    {"s_id": store_id, "s_sku": k[0], "s_loc": k[1], "flag": v}
                    for k, v in self.doubtful.items()
                ],
            )
        rows = conn.execute(
            select(stock).where(where).order_by(stock.c.sku, stock.c.location)
        ).all()
        return [("stock", f"{r.sku}@{r.location}", stock_doc(r)) for r in rows]

    def _flush_dead_letters(self, conn: Connection) -> None:
        for (device_id, seq), row in self.dead_letters.items():
            found = conn.execute(
                select(dead_letters.c.id).where(
                    dead_letters.c.device_id == device_id, dead_letters.c.seq == seq
                )
            ).first()
            if found:
                values = {k: row[k] for k in ("code", "message", "attempts", "raw")}
                conn.execute(
                    update(dead_letters).where(dead_letters.c.id == found.id).values(**values)
                )
            else:
                conn.execute(insert(dead_letters).values(**row))
