"""Writes staged in memory during a store transaction, flushed with a few bulk statements.

A push of 500 ops would otherwise run ten statements per op. Each op instead
stages its effects (order and return documents, ledger rows, stock deltas, tasks,
exceptions, notifications, refund requests, its result) in its own `Staging`; when the op
completes the child merges into the transaction's staging, and when it raises
the child is dropped — the same all-or-nothing per op that a savepoint gives.
`flush` then writes everything with `executemany` and publishes each changed
document once, under the next numbers of the store's change sequence.

The documents with a table of their own (orders, tasks, returns, counts, exceptions) are
staged one way, by kind (`KINDS`: a `DocKind` says the table, its id column and how a new
and a changed one become rows): `Staging.new[kind][id]` and `Staging.changed[kind][id]`,
read back with `latest`, merged and flushed by the same code for every kind.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from operator import itemgetter
from types import MappingProxyType
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import (
    JSON,
    Connection,
    String,
    Table,
    and_,
    bindparam,
    insert,
    select,
    tuple_,
    update,
)

from fulfillment.counts import Count
from fulfillment.model import Order
from fulfillment.returns import Return
from sync.checksums import canonical_plain

from ..db.tables import (
    UTCDateTime,
    count_plans,
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

__all__ = [
    "COUNT",
    "EXCEPTION",
    "KINDS",
    "ORDER",
    "PLAN",
    "RETURN",
    "TASK",
    "DocKind",
    "Key",
    "Staging",
    "bulk_insert",
    "bulk_upsert",
    "stock_doc",
]

Key = tuple[str, str]
M = TypeVar("M", bound=BaseModel)


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
        return _json_text
    return None


_encode = json.JSONEncoder(separators=(",", ":")).encode  # built once (json.dumps with
# separators builds an encoder per call)


def _json_text(value: Any) -> str | None:
    """A JSON column's text, as `json.dumps(value, separators=(",", ":"))` writes it (an
    op's empty list of follow-ups, on nearly every result row, without the encoder)."""
    if value is None:
        return None
    if value == [] and value.__class__ is list:
        return "[]"
    return _encode(value)


@lru_cache(maxsize=4096)  # a batch repeats its ops' times and the transaction's own
def _sqlite_datetime(value: datetime | None) -> str | None:
    """SQLAlchemy's SQLite storage format (`YYYY-MM-DD HH:MM:SS.ffffff`), in UTC."""
    if value is None:
        return None
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


# rows per statement on PostgreSQL, where each column goes as one array parameter (`unnest`):
# a statement's parameters are its columns, so the bound is only the statement's size
PG_ROWS_PER_STATEMENT = 5000
# keys per stock upsert on SQLite: 5 parameters a key, under its 32,766 a statement
_SQLITE_STOCK_ROWS = 5000


def _pg_array(column_type: Any, dialect: Any) -> str:
    """The array type a column's values are cast to in `unnest(%b::type[], …)`: strings as
    text (a cast to VARCHAR(n) would cut an over-long value where the column refuses it)."""
    return "TEXT" if isinstance(column_type, String) else str(column_type.compile(dialect=dialect))


def _pg_unnest(conn: Connection, table: Table, columns: list[str]) -> str:
    """`SELECT c… FROM unnest(%b::t[], …) WITH ORDINALITY … ORDER BY` the rows' order: rows go
    in as given (an identity column numbers them so). `%b`: psycopg sends the arrays in the
    binary format; as text, each JSON element's quotes were escaped by a regular expression
    in Python (~3x the time of the statement itself)."""
    names = [f"c{i}" for i in range(len(columns))]
    casts = ", ".join(f"%b::{_pg_array(table.c[c].type, conn.dialect)}[]" for c in columns)
    return (
        f"SELECT {', '.join(names)} FROM unnest({casts}) "
        f"WITH ORDINALITY AS u({', '.join(names)}, n) ORDER BY n"
    )


def _pg_write(conn: Connection, sql: str, params: list[tuple[Any, ...]]) -> None:
    """Run `sql` (one `%s` array per column) over `params` (rows), a chunk of rows at a time."""
    for start in range(0, len(params), PG_ROWS_PER_STATEMENT):
        part = params[start : start + PG_ROWS_PER_STATEMENT]
        conn.exec_driver_sql(sql, tuple(list(col) for col in zip(*part, strict=True)))


def _driver_rows(
    rows: Sequence[dict[str, Any]],
    columns: list[str],
    procs: list[tuple[int, Callable[[Any], Any]]],
) -> list[tuple[Any, ...]]:
    """Each row's values in `columns`' order, as the driver takes them: the value at index i
    passed through its column's converter where `procs` names one."""
    values_of = itemgetter(*columns)
    params: list[tuple[Any, ...]]
    if len(columns) == 1:  # itemgetter of one name gives the value, not a tuple
        params = [(values_of(row),) for row in rows]
    else:
        params = [values_of(row) for row in rows]
    if procs:
        for n, values in enumerate(params):
            changed = list(values)
            for i, f in procs:
                changed[i] = f(changed[i])
            params[n] = tuple(changed)
    return params


def bulk_insert(
    conn: Connection, table: Table, rows: list[dict[str, Any]], *, json_text: Collection[str] = ()
) -> None:
    """INSERT many rows at the driver level: one executemany (SQLite), a statement per 5,000
    rows with each column one array parameter (PostgreSQL).

    For the tables that get a row per op or per movement (`ledger`, `op_results`, `events`)
    and the documents of a flush: SQLAlchemy's per-row parameter processing cost more than
    the database's work. Values are converted as the columns' types would (aware UTC
    datetimes, JSON), on SQLite and PostgreSQL alike; rows keep their order (ids are given in
    it). `json_text`: JSON columns whose values are given as their JSON text already."""
    columns = list(rows[0])
    params = _driver_rows(rows, columns, _converters(conn, table, columns, json_text))
    head = f"INSERT INTO {table.name} ({', '.join(columns)}) "
    if conn.dialect.name != "postgresql":
        conn.exec_driver_sql(head + f"VALUES ({', '.join(['?'] * len(columns))})", params)
        return
    # PostgreSQL: psycopg 3's executemany sends a statement per row (pipelined), and a
    # 1,000-row VALUES list (12,000 parameters) cost more to bind and plan than to run
    _pg_write(conn, head + _pg_unnest(conn, table, columns), params)


def bulk_update(
    conn: Connection,
    table: Table,
    key: str,
    rows: list[dict[str, Any]],
    *,
    json_text: Collection[str] = (),
) -> None:
    """UPDATE many rows, each found by its `key` column (every row names the same columns,
    `key` first), at the driver level as `bulk_insert` writes: one executemany (SQLite), a
    statement per 5,000 rows joined to the rows' arrays (PostgreSQL)."""
    columns = list(rows[0])
    assert columns[0] == key, "the key goes first"
    params = _driver_rows(rows, columns, _converters(conn, table, columns, json_text))
    if conn.dialect.name != "postgresql":
        sets = ", ".join(f"{c} = ?" for c in columns[1:])
        conn.exec_driver_sql(
            f"UPDATE {table.name} SET {sets} WHERE {key} = ?",
            [(*row[1:], row[0]) for row in params],
        )
        return
    sets = ", ".join(f"{c} = v.c{i}" for i, c in enumerate(columns) if i)
    _pg_write(
        conn,
        f"UPDATE {table.name} SET {sets} FROM ({_pg_unnest(conn, table, columns)}) AS v "
        f"WHERE {table.name}.{key} = v.c0",
        params,
    )


def _converters(
    conn: Connection, table: Table, columns: list[str], json_text: Collection[str]
) -> list[tuple[int, Callable[[Any], Any]]]:
    dialect = conn.dialect.name
    return [
        (i, f)
        for i, c in enumerate(columns)
        if c not in json_text and (f := _converter(table.c[c].type, dialect)) is not None
    ]


def bulk_upsert(
    conn: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    keys: list[str],
    *,
    json_text: Collection[str] = (),
    skip_same: bool = False,
    absent: bool = False,
) -> None:
    """INSERT … ON CONFLICT (keys) DO UPDATE for many rows (each naming the same columns),
    no read first.

    At the driver, each value bound as its column's type binds it (SQLAlchemy's per-row
    parameter work cost more than the database's): SQLite (no round trips) one executemany;
    PostgreSQL a statement per 5,000 rows, each column an array. `json_text`: JSON columns
    whose values are given as their JSON text already (bound as they are). `skip_same`: a
    row whose stored values are those given is not written again (a catalogue sent again
    whole, mostly unchanged: PostgreSQL would write each row's new version and its index
    entries). `absent`: the caller knows that no row has any of the keys (it read them under
    the store's lock): PostgreSQL inserts them plainly (ON CONFLICT's speculative insertion
    cost ~50 % more a new row)."""
    if not rows:
        return
    columns = list(rows[0])
    updated = [c for c in columns if c not in keys]
    dialect = conn.dialect
    binds = [
        (i, _bind(table.c[c].type, dialect)) for i, c in enumerate(columns) if c not in json_text
    ]
    procs = [(i, f) for i, f in binds if f is not None]
    params = _driver_rows(rows, columns, procs)
    head = f"INSERT INTO {table.name} ({', '.join(columns)}) "
    tail = f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET " + ", ".join(
        f"{c} = excluded.{c}" for c in updated
    )
    if skip_same:
        tail += " WHERE " + " OR ".join(_differs(table, c, dialect.name) for c in updated)
    if dialect.name != "postgresql":
        conn.exec_driver_sql(head + f"VALUES ({', '.join('?' * len(columns))})" + tail, params)
        return
    _pg_write(conn, head + _pg_unnest(conn, table, columns) + ("" if absent else tail), params)


def _differs(table: Table, column: str, dialect: str) -> str:
    """SQL: the stored value of `column` is not the one given (NULLs alike); JSON compared as
    its text (PostgreSQL's json has no equality; the text written is the same for the same
    value)."""
    mine, given = f"{table.name}.{column}", f"excluded.{column}"
    if dialect != "postgresql":
        return f"{mine} IS NOT {given}"
    if isinstance(table.c[column].type, JSON):
        mine, given = f"{mine}::text", f"{given}::text"
    return f"{mine} IS DISTINCT FROM {given}"


def _bind(column_type: Any, dialect: Any) -> Callable[[Any], Any] | None:
    """How a value of this column type goes to the driver: its type's bind processor; JSON
    as its text (psycopg's JSON adaptation happens where a raw statement never goes)."""
    if isinstance(column_type, JSON):
        return _json_text
    processor: Callable[[Any], Any] | None = column_type.bind_processor(dialect)
    return processor


Rows = dict[str, Any]  # one document kind's staged values by id


Dump = Callable[[Any], str]  # a model's JSON text, made once per flush (`Staging.flush`)


def _dumped(doc: Any, dump: Dump) -> dict[str, Any]:
    """A documents table's row for its model in `data`: its state and its JSON text."""
    return {"state": doc.state.value, "data": dump(doc)}


def storable(text: str, data: Any = None) -> str:
    """A document's canonical text as a JSON column holds it; the rare text that cannot be
    written as UTF-8 (a lone surrogate) as ASCII JSON with escapes, as it was written before
    (`data`: the document, when the caller has it)."""
    if not text.isascii():
        try:
            text.encode()
        except UnicodeEncodeError:
            return json.dumps(json.loads(text) if data is None else data, separators=(",", ":"))
    return text


class KnownModels:
    """The documents this process wrote or read lately, by their JSON text: a document read
    back as the text a flush wrote (the next push of the same orders) is the model already
    made, not validated again. Models are immutable (`fulfillment.model.Frozen`, tuples), so
    any transaction may be handed one; the oldest are forgotten past `chars` of text."""

    def __init__(self, chars: int) -> None:
        self._limit = chars
        self._chars = 0
        self._by_text: dict[tuple[type[BaseModel], str], BaseModel] = {}
        self._lock = threading.Lock()  # a push's thread each; reads need none

    def get(self, model: type[M], text: str) -> M | None:
        found = self._by_text.get((model, text))
        return found if found is None or found.__class__ is model else None

    def put(self, text: str, doc: BaseModel) -> None:
        key = (doc.__class__, text)
        with self._lock:
            by_text = self._by_text
            if key not in by_text:
                self._chars += len(text)
            by_text[key] = doc
            while self._chars > self._limit:
                oldest = next(iter(by_text))
                del by_text[oldest]
                self._chars -= len(oldest[1])


#: 8 M characters of text (~2,000 orders of 5 lines): ~40 MB of a process with their models
KNOWN = KnownModels(8_000_000)


class _Encoded:
    """The documents one flush writes, each turned into JSON once: its data (published) and
    its canonical text (its table's row, its change's row and its replica hash alike).

    The models a flush encodes (orders, returns, counts, count plans) hold no float, so
    their text is `canonical_plain`'s (orjson): the same text as `canonical`, faster."""

    def __init__(self) -> None:
        self._data: dict[int, dict[str, Any]] = {}  # by id(): the models live through the flush
        self._text: dict[int, str] = {}

    def data(self, doc: BaseModel) -> dict[str, Any]:
        found = self._data.get(id(doc))
        if found is None:
            found = self._data[id(doc)] = doc.model_dump(mode="json")
        return found

    def text(self, doc: BaseModel) -> str:
        found = self._text.get(id(doc))
        if found is None:
            found = self._text[id(doc)] = canonical_plain(self.data(doc))
        return found

    def storable(self, doc: BaseModel) -> str:
        """The text its table's row holds (and is read back as: `KNOWN`)."""
        text = storable(self.text(doc), self._data.get(id(doc)))
        KNOWN.put(text, doc)
        return text


@dataclass(frozen=True)
class DocKind:
    """A kind of document staged in a store transaction and written in bulk at flush.

    `value`: what is staged per id (an `Order`; for the others a row, whose `data` holds the
    model for returns and counts). `patch`: a change staged over a new one of the same
    transaction is laid over its row (True) or replaces it (False). `insert_row` and
    `update_row`: a new value's row, and a changed one's `update_columns` (given how a model
    becomes JSON: once per flush, the same JSON is published)."""

    name: str
    table: Table
    key: str  # the id column
    patch: bool
    insert_row: Callable[[Any, Dump], dict[str, Any]]
    update_columns: tuple[str, ...]
    update_row: Callable[[Any, Dump], dict[str, Any]]
    encoded: tuple[str, ...] = ()  # JSON columns its rows give as their text (`Dump`)

    def flush(self, conn: Connection, new: Rows | None, changed: Rows | None, dump: Dump) -> None:
        if new:
            rows = [self.insert_row(v, dump) for v in new.values()]
            bulk_insert(conn, self.table, rows, json_text=self.encoded)
        if changed:
            bulk_update(
                conn,
                self.table,
                self.key,
                [
                    {self.key: doc_id, **self.update_row(value, dump)}
                    for doc_id, value in changed.items()
                ],
                json_text=self.encoded,
            )


def _order_row(o: Order, dump: Dump) -> dict[str, Any]:
    return {
        "order_id": o.order_id,
        "store_id": o.store_id,
        "type": o.type.value,
        "updated_at": o.updated_at,
        **_dumped(o, dump),
    }


def _document_row(
    facts: Callable[[Any], dict[str, Any]],
) -> Callable[[Any, Dump], dict[str, Any]]:
    """A return's or count's new row: its row, the columns `facts` reads off its document,
    its state and its JSON."""
    return lambda row, dump: {**row, **facts(row["data"]), **_dumped(row["data"], dump)}


def _document_change(row: Any, dump: Dump) -> dict[str, Any]:
    return {**_dumped(row["data"], dump), "updated_at": row["updated_at"]}


_DOC_COLUMNS = ("state", "data", "updated_at")

ORDER = DocKind(
    "order",
    orders,
    "order_id",
    encoded=("data",),
    patch=False,
    insert_row=_order_row,
    update_columns=_DOC_COLUMNS,
    update_row=lambda o, dump: {**_dumped(o, dump), "updated_at": o.updated_at},
)
TASK = DocKind(
    "task",
    tasks,
    "task_id",
    patch=False,
    # one executemany needs every row to name the same columns: a task closed in the
    # transaction that made it carries done_by/done_at, the others do not
    insert_row=lambda row, _: {
        "done_by": None,
        "done_at": None,
        "plan_id": None,
        "assignee": None,
        "due_at": None,
        **row,
    },
    # a count plan adopts an open task (its plan, assignee and due time change)
    update_columns=("state", "done_by", "done_at", "plan_id", "assignee", "due_at"),
    update_row=lambda row, _: {
        "state": row["state"],
        "done_by": row.get("done_by"),
        "done_at": row.get("done_at"),
        "plan_id": row.get("plan_id"),
        "assignee": row.get("assignee"),
        "due_at": row.get("due_at"),
    },
)
RETURN = DocKind(
    "return",
    returns,
    "return_id",
    encoded=("data",),
    patch=True,
    insert_row=_document_row(lambda ret: {"order_id": ret.order_id}),
    update_columns=_DOC_COLUMNS,
    update_row=_document_change,
)
COUNT = DocKind(
    "count",
    counts,
    "count_id",
    encoded=("data",),
    patch=True,
    insert_row=_document_row(
        lambda c: {"sku": c.sku, "location": c.location, "counted_at": c.counted_at}
    ),
    update_columns=_DOC_COLUMNS,
    update_row=_document_change,
)
_SETTLED = ("state", "resolved_at", "resolved_by", "resolution")
EXCEPTION = DocKind(
    "exception",
    exceptions,
    "exception_id",
    patch=False,
    insert_row=lambda row, _: {
        "resolved_at": None,
        "resolved_by": None,
        "resolution": None,
        **row,
    },
    update_columns=_SETTLED,
    update_row=lambda row, _: {c: row[c] for c in _SETTLED},
)

PLAN = DocKind(
    "count_plan",
    count_plans,
    "plan_id",
    encoded=("data",),
    patch=True,
    insert_row=_document_row(lambda plan: {"due_at": plan.due_at}),
    update_columns=_DOC_COLUMNS,
    update_row=_document_change,
)

KINDS: Mapping[str, DocKind] = MappingProxyType(
    {k.name: k for k in (ORDER, TASK, RETURN, COUNT, EXCEPTION, PLAN)}
)
"""The documents a store transaction stages and flushes in bulk, by kind."""


@dataclass
class Staging:
    parent: Staging | None = None
    docs: dict[tuple[str, str], Any] = field(default_factory=dict)  # to publish: a dict or model
    new: dict[str, Rows] = field(default_factory=dict)  # documents made, by kind (`KINDS`)
    changed: dict[str, Rows] = field(default_factory=dict)  # documents changed, not new
    on_hand: defaultdict[Key, int] = field(default_factory=lambda: defaultdict(int))
    reserved: defaultdict[Key, int] = field(default_factory=lambda: defaultdict(int))
    doubtful: dict[Key, bool] = field(default_factory=dict)
    touched: set[Key] = field(default_factory=set)
    ledger: list[dict[str, Any]] = field(default_factory=list)
    notifications: list[dict[str, Any]] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)
    dead_letters: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    refunds: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)  # the feed's (events.record)
    # the canonical texts of the documents `flush` published from models, by (kind, id)
    texts: dict[tuple[str, str], str] = field(default_factory=dict)

    # --- staging a document ------------------------------------------------------------

    def stage_new(self, kind: DocKind, doc_id: str, value: Any) -> None:
        """A document made in this scope (or one made earlier in the transaction, grown)."""
        changed = self.changed.get(kind.name)
        if changed:
            changed.pop(doc_id, None)
        self.new.setdefault(kind.name, {})[doc_id] = value

    def stage_change(self, kind: DocKind, doc_id: str, value: Any) -> None:
        """A changed document: a change to one this scope made stays new, with the change."""
        made = self.new.get(kind.name)
        if made is not None and doc_id in made:
            made[doc_id] = {**made[doc_id], **value} if kind.patch else value
        else:
            self.changed.setdefault(kind.name, {})[doc_id] = value

    # --- reads that see what is staged ------------------------------------------

    def latest(self, kind: DocKind, doc_id: str) -> Any:
        """A staged document's latest value (None when none is staged)."""
        name = kind.name
        s: Staging | None = self
        while s is not None:
            changed, made = s.changed.get(name), s.new.get(name)
            found = (changed.get(doc_id) if changed else None) or (
                made.get(doc_id) if made else None
            )
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

    def every(self, kind: DocKind) -> dict[str, Any]:
        """Every staged document of a kind (its latest value) by id, in the order they were
        first staged."""
        seen: dict[str, Any] = {}
        for s in self._chain():  # oldest first, so later stages win
            seen.update(s.new.get(kind.name, {}))
            seen.update(s.changed.get(kind.name, {}))
        return seen

    def made(self, kind: DocKind) -> dict[str, Any]:
        """The documents of a kind made in this transaction (not written yet), as made, in
        the order they were made."""
        seen: dict[str, Any] = {}
        for s in self._chain():
            seen.update(s.new.get(kind.name, {}))
        return seen

    def order(self, order_id: str) -> Order | None:
        found: Order | None = self.latest(ORDER, order_id)
        return found

    def return_doc(self, return_id: str) -> Return | None:
        row = self.latest(RETURN, return_id)
        return None if row is None else row["data"]

    def returns_of_order(self, order_id: str) -> list[Return]:
        """The returns of an order staged in this transaction (their latest documents)."""
        staged: list[Return] = [row["data"] for row in self.every(RETURN).values()]
        return [r for r in staged if r.order_id == order_id]

    def count_doc(self, count_id: str) -> Count | None:
        row = self.latest(COUNT, count_id)
        return None if row is None else row["data"]

    def counts_of(self, sku: str, location: str) -> dict[str, Count]:
        """The counts of one sku/location staged in this transaction (their latest documents)."""
        staged: dict[str, Count] = {k: row["data"] for k, row in self.every(COUNT).items()}
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
        found: dict[str, Any] | None = self.latest(EXCEPTION, exception_id)
        return found

    def task(self, task_id: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self.latest(TASK, task_id)
        return found

    def tasks_of_order(self, order_id: str) -> list[dict[str, Any]]:
        return [row for row in self.every(TASK).values() if row.get("order_id") == order_id]

    def unwritten_task(
        self, kind: str, order_id: str | None, sku: str, location: str
    ) -> dict[str, Any] | None:
        """An open task of this kind, order, item and place made in this transaction: not
        written yet, so no tablet has seen it and it may still grow."""
        for task_id in self.made(TASK):
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
        for name, made in self.new.items():
            into = p.new.get(name)
            if into is None:
                p.new[name] = made
            else:
                into.update(made)
        for name, changed in self.changed.items():
            into_new = p.new.get(name) or {}
            into_changed = p.changed.setdefault(name, {})
            patch = KINDS[name].patch
            for doc_id, value in changed.items():
                if doc_id in into_new:
                    into_new[doc_id] = {**into_new[doc_id], **value} if patch else value
                else:
                    into_changed[doc_id] = value
        for key, delta in self.on_hand.items():
            p.on_hand[key] += delta
        for key, delta in self.reserved.items():
            p.reserved[key] += delta
        if self.doubtful:
            p.doubtful.update(self.doubtful)
        if self.touched:
            p.touched |= self.touched
        p.ledger += self.ledger
        if self.notifications:
            p.notifications += self.notifications
        p.results += self.results
        if self.dead_letters:
            p.dead_letters.update(self.dead_letters)
        if self.refunds:
            p.refunds += self.refunds
        if self.events:
            p.events += self.events

    # --- writing it all ------------------------------------------------------------

    def _flush_kind(self, conn: Connection, kind: DocKind, dump: Dump) -> None:
        kind.flush(conn, self.new.get(kind.name), self.changed.get(kind.name), dump)

    def flush(self, conn: Connection, store_id: str) -> list[tuple[str, str, Any]]:
        """Write what is staged; returns the documents to publish, in order, as JSON.

        Each changed document is turned into JSON once: its table's row and its published
        change carry the same JSON. The caller starts a new `Staging` afterwards
        (`StoreTx.flush`)."""
        assert self.parent is None, "flush the transaction's staging, not an op's"
        encoded = _Encoded()
        dump = encoded.storable
        self._flush_kind(conn, ORDER, dump)
        self._flush_kind(conn, TASK, dump)
        self._flush_kind(conn, PLAN, dump)
        if self.ledger:
            bulk_insert(conn, ledger, self.ledger)
        self._flush_kind(conn, RETURN, dump)
        if self.refunds:
            conn.execute(insert(refunds), self.refunds)
        self._flush_kind(conn, COUNT, dump)
        stock_docs = self._flush_stock(conn, store_id)
        self._flush_kind(conn, EXCEPTION, dump)
        if self.notifications:
            conn.execute(insert(notifications), self.notifications)
        if self.results:
            bulk_insert(conn, op_results, self.results)
        self._flush_dead_letters(conn)
        docs: list[tuple[str, str, Any]] = []
        for key, d in self.docs.items():
            if isinstance(d, BaseModel):
                self.texts[key] = encoded.text(d)
                d = encoded.data(d)
            docs.append((*key, d))
        docs += stock_docs
        return docs

    def _flush_stock(
        self, conn: Connection, store_id: str
    ) -> list[tuple[str, str, dict[str, Any]]]:
        """Move the stock rows this transaction touched; the documents of those made, moved
        or doubted, in (sku, location) order.

        Every key is upserted with its deltas in one statement (PostgreSQL: each column an
        array; SQLite: a VALUES list per 5,000 keys): a place that exists and did not move
        is left alone (the upsert's `WHERE`), and what was made or moved comes back
        (`RETURNING`). A place only touched (a pick moves no on-hand) keeps the document it
        was published with (every write of `stock` is this one). It replaced a read of the
        keys, an insert of the missing, an update per key and a read of the changed ones,
        whose `(sku, location) IN ((…), …)` the planner of a new store's PostgreSQL table
        (no statistics yet) compared row by row: 0.5 s a statement in a stock load."""
        keys = self.touched | set(self.on_hand) | set(self.reserved) | set(self.doubtful)
        if not keys:
            return []
        ordered = sorted(keys)
        on_hand, reserved = self.on_hand, self.reserved
        moves = [(k[0], k[1], on_hand.get(k, 0), reserved.get(k, 0)) for k in ordered]
        postgres = conn.dialect.name == "postgresql"
        upsert = (
            " ON CONFLICT (store_id, sku, location) DO UPDATE SET "
            "on_hand = stock.on_hand + excluded.on_hand, "
            "reserved = stock.reserved + excluded.reserved "
            "WHERE excluded.on_hand <> 0 OR excluded.reserved <> 0 "
            "RETURNING sku, location, on_hand, reserved, safety, doubtful"
        )
        head = "INSERT INTO stock (store_id, sku, location, on_hand, reserved, safety, doubtful) "
        rows: list[Any]
        if postgres:
            rows = list(
                conn.exec_driver_sql(
                    f"WITH up AS ({head}SELECT %s, u.sku, u.location, u.d_on, u.d_res, 0, false "
                    "FROM unnest(%b::text[], %b::text[], %b::int[], %b::int[]) "
                    f"AS u(sku, location, d_on, d_res){upsert}) "
                    "SELECT * FROM up ORDER BY sku, location",
                    (store_id, *(list(col) for col in zip(*moves, strict=True))),
                ).all()
            )
        else:
            rows = []
            for start in range(0, len(moves), _SQLITE_STOCK_ROWS):
                part = moves[start : start + _SQLITE_STOCK_ROWS]
                rows += conn.exec_driver_sql(
                    head + "VALUES " + ", ".join(["(?, ?, ?, ?, ?, 0, 0)"] * len(part)) + upsert,
                    tuple(v for move in part for v in (store_id, *move)),
                ).all()
            rows.sort(key=lambda r: (r.sku, r.location))  # SQLite's order: code points
        if self.doubtful:
            rows = self._flush_doubt(conn, store_id, {(r.sku, r.location) for r in rows})
        return [("stock", f"{r.sku}@{r.location}", stock_doc(r)) for r in rows]

    def _flush_doubt(self, conn: Connection, store_id: str, moved: set[Key]) -> list[Any]:
        """Set the places' doubt; the rows of those moved or doubted, in (sku, location)
        order."""
        key_match = and_(
            stock.c.store_id == bindparam("s_id"),
            stock.c.sku == bindparam("s_sku"),
            stock.c.location == bindparam("s_loc"),
        )
        conn.execute(
            update(stock).where(key_match).values(doubtful=bindparam("flag")),
            [
                {"s_id": store_id, "s_sku": k[0], "s_loc": k[1], "flag": v}
                for k, v in self.doubtful.items()
            ],
        )
        changed = sorted(moved | set(self.doubtful))
        return list(
            conn.execute(
                select(stock)
                .where(
                    stock.c.store_id == store_id,
                    tuple_(stock.c.sku, stock.c.location).in_(changed),
                )
                .order_by(stock.c.sku, stock.c.location)
            ).all()
        )

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
