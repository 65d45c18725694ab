"""The tablet's SQLite schema, as a `sqlite_utils.Migrations` set.

Every table is STRICT. Add a migration function at the end to change the
schema; never edit one that has shipped (tablets apply them in order on open).

Tables:

    srv_docs    server truth for every change kind (kind, id) -> version, data
    orders      projection: server order + this device's pending ops
    items, gtins, staff, tasks, stock
                projections of the other kinds the screens read
    returns     projection: server `return` docs + this device's pending returns (m002)
    counts      projection: server `count` docs + this device's pending counts and decisions (m003)
    outbox      pending ops, `seq` gapless per device (from sync_state.next_seq)
    op_log      acknowledged ops with their results; `seen` feeds the attention list
    sync_state  one row: identity, next_seq, cursor, sync health (the token is not here)
    pin_attempts wrong PINs per employee id and per device: waits and lockouts (m004)
"""

from __future__ import annotations

from sqlite_utils import Database, Migrations

__all__ = ["PROJECTION_TABLES", "SERVER_TABLES", "create_srv_docs", "migrate"]

migrations = Migrations("storeapp.local")

PROJECTION_TABLES = ("orders", "items", "gtins", "staff", "tasks", "stock", "returns", "counts")
SERVER_TABLES = ("srv_docs", *PROJECTION_TABLES)


def create_srv_docs(db: Database, name: str = "srv_docs") -> None:
    db[name].create(  # type: ignore[union-attr]
        {"kind": str, "id": str, "version": int, "data": str},
        pk=("kind", "id"),
        not_null={"version", "data"},
        strict=True,
    )


@migrations()
def m001_initial(db: Database) -> None:
    create_srv_docs(db)
    db["orders"].create(  # type: ignore[union-attr]
        {
            "order_id": str,
            "type": str,
            "state": str,
            "priority": int,
            "due_at": str,
            "assignee": str,
            "pickup_code": str,
            "search": str,
            "pending": int,
            "data": str,
        },
        pk="order_id",
        not_null={"type", "state", "priority", "due_at", "search", "pending", "data"},
        strict=True,
    )
    db["orders"].create_index(["state", "priority", "due_at"])  # type: ignore[union-attr]
    db["orders"].create_index(["pickup_code"])  # type: ignore[union-attr]
    db["items"].create(  # type: ignore[union-attr]
        {
            "sku": str,
            "name": str,
            "price": str,
            "location": str,
            "location_seq": int,
            "final_sale": int,
            "data": str,
        },
        pk="sku",
        not_null={"name", "location", "location_seq", "final_sale", "data"},
        strict=True,
    )
    db["gtins"].create(  # type: ignore[union-attr]
        {"gtin": str, "sku": str}, pk="gtin", not_null={"sku"}, strict=True
    )
    db["gtins"].create_index(["sku"])  # type: ignore[union-attr]
    db["staff"].create(  # type: ignore[union-attr]
        {"employee_id": str, "name": str, "role": str, "pin_hash": str, "active": int},
        pk="employee_id",
        not_null={"name", "role", "active"},
        strict=True,
    )
    db["tasks"].create(  # type: ignore[union-attr]
        {
            "task_id": str,
            "kind": str,
            "sku": str,
            "location": str,
            "qty": int,
            "order_id": str,
            "reason": str,
            "state": str,
            "created_at": str,
        },
        pk="task_id",
        not_null={"kind", "state"},
        strict=True,
    )
    db["stock"].create(  # type: ignore[union-attr]
        {
            "id": str,
            "sku": str,
            "location": str,
            "on_hand": int,
            "reserved": int,
            "available": int,
            "doubtful": int,
        },
        pk="id",
        not_null={"sku", "location"},
        strict=True,
    )
    db["stock"].create_index(["sku"])  # type: ignore[union-attr]
    db["outbox"].create(  # type: ignore[union-attr]
        {
            "seq": int,
            "op_id": str,
            "type": str,
            "type_v": int,
            "actor_id": str,
            "payload": str,
            "occurred_at": str,
            "base_seq": int,
            "created_at": str,
        },
        pk="seq",
        not_null={"op_id", "type", "type_v", "actor_id", "payload", "occurred_at", "created_at"},
        strict=True,
    )
    db["outbox"].create_index(["op_id"], unique=True)  # type: ignore[union-attr]
    db["op_log"].create(  # type: ignore[union-attr]
        {
            "seq": int,
            "op_id": str,
            "type": str,
            "actor_id": str,
            "payload": str,
            "occurred_at": str,
            "status": str,
            "original_status": str,
            "code": str,
            "message": str,
            "followups": str,
            "acked_at": str,
            "seen": int,
            "rebased": int,
        },
        pk="seq",
        not_null={
            "op_id",
            "type",
            "actor_id",
            "payload",
            "occurred_at",
            "status",
            "followups",
            "acked_at",
            "seen",
            "rebased",
        },
        strict=True,
    )
    db["op_log"].create_index(["op_id"], unique=True)  # type: ignore[union-attr]
    db["op_log"].create_index(["seen"])  # type: ignore[union-attr]
    db.execute(
        """
        CREATE TABLE sync_state (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            server_url TEXT,
            device_id TEXT,
            store_id TEXT,
            token TEXT,
            next_seq INTEGER NOT NULL DEFAULT 1,
            cursor TEXT,
            last_applied_seq INTEGER NOT NULL DEFAULT 0,
            pulled_version INTEGER NOT NULL DEFAULT 0,
            last_sync_at TEXT,
            last_ok_at TEXT,
            last_error TEXT,
            server_time TEXT,
            clock_offset_s REAL
        ) STRICT
        """
    )
    db.execute("INSERT INTO sync_state (id) VALUES (1)")


@migrations()
def m002_returns(db: Database) -> None:
    """Returns of online purchases: central's `return` docs plus this tablet's pending ones."""
    db["returns"].create(  # type: ignore[union-attr]
        {
            "return_id": str,
            "order_id": str,
            "state": str,
            "received_at": str,
            "pending": int,
            "data": str,
        },
        pk="return_id",
        not_null={"state", "received_at", "pending", "data"},
        strict=True,
    )
    db["returns"].create_index(["order_id"])  # type: ignore[union-attr]
    db["returns"].create_index(["received_at"])  # type: ignore[union-attr]


@migrations()
def m003_counts(db: Database) -> None:
    """Cycle counts: central's `count` docs plus this tablet's pending counts and decisions.

    A pending count (not yet at central) has state `submitted` and no book: counting is
    blind, the tablet never knows the book before central answers."""
    db["counts"].create(  # type: ignore[union-attr]
        {
            "count_id": str,
            "task_id": str,
            "sku": str,
            "location": str,
            "state": str,
            "counted_at": str,
            "counted_by": str,
            "pending": int,
            "data": str,
        },
        pk="count_id",
        not_null={"sku", "location", "state", "counted_at", "counted_by", "pending", "data"},
        strict=True,
    )
    db["counts"].create_index(["state"])  # type: ignore[union-attr]
    db["counts"].create_index(["counted_by", "counted_at"])  # type: ignore[union-attr]


def migrate(db: Database) -> None:
    """Bring the schema up to date (each migration in its own transaction)."""
    migrations.apply(db)


@migrations()
def m004_pin_attempts(db: Database) -> None:
    """Wrong PINs per employee id as typed (`staff:<id>`) and for the whole device (`device`),
    kept across restarts: `fulfillment.signin` decides the wait and the lockout."""
    db["pin_attempts"].create(  # type: ignore[union-attr]
        {"key": str, "failures": int, "last_failure_at": str, "locked": int},
        pk="key",
        not_null={"failures", "locked"},
        strict=True,
    )


@migrations()
def m005_canonical_docs(db: Database) -> None:
    """Central's documents stored as canonical JSON (sorted keys, compact, UTF-8), the form
    the replica checksums hash (sync/checksums.py, issue #12)."""
    import json

    from sync.checksums import canonical

    rows = [
        (canonical(json.loads(data)), kind, id_)
        for kind, id_, data in db.execute("SELECT kind, id, data FROM srv_docs").fetchall()
    ]
    db.conn.executemany("UPDATE srv_docs SET data = ? WHERE kind = ? AND id = ?", rows)


@migrations()
def m006_op_log_unrebased(db: Database) -> None:
    """A pull between two pushes of a long drain reads the op log's rows not yet rebased by
    an index of them, not by a walk of every op acknowledged so far."""
    db.execute("CREATE INDEX IF NOT EXISTS op_log_unrebased ON op_log (rebased) WHERE rebased = 0")
