"""central's schema (SQLAlchemy Core). Every table carries `store_id`.

Documents that tablets replicate are also written to `sync_docs`, the change feed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)

metadata = MetaData()


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC in, aware UTC out — SQLite would otherwise hand back naive values."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _ts(name: str, nullable: bool = True) -> Column:  # type: ignore[type-arg]
    return Column(name, UTCDateTime(), nullable=nullable)


stores = Table(
    "stores",
    metadata,
    Column("store_id", String(64), primary_key=True),
    Column("name", String(120), nullable=False),
    Column("timezone", String(64), nullable=False, default="UTC"),
    Column("policy", JSON, nullable=False),
    Column("change_seq", BigInteger, nullable=False, default=0),
    _ts("created_at", False),
)

items = Table(
    "items",
    metadata,
    Column("store_id", String(64), ForeignKey("stores.store_id"), primary_key=True),
    Column("sku", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("gtins", JSON, nullable=False),
    Column("price", Numeric(12, 2), nullable=False),
    Column("location", String(40), nullable=False),
    Column("location_seq", Integer, nullable=False, default=0),
    Column("image_url", Text),
    Column("final_sale", Boolean, nullable=False, default=False),
    Column("unit_cost", Numeric(12, 2)),  # a count's variance in money (None: the price)
    Column("category", String(60)),  # a count plan by category
)

staff = Table(
    "staff",
    metadata,
    Column("store_id", String(64), ForeignKey("stores.store_id"), primary_key=True),
    Column("employee_id", String(64), primary_key=True),
    Column("name", String(120), nullable=False),
    Column("role", String(20), nullable=False),
    Column("pin_hash", String(200), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
)

devices = Table(
    "devices",
    metadata,
    Column("device_id", String(64), primary_key=True),
    Column("store_id", String(64), ForeignKey("stores.store_id"), nullable=False),
    Column("name", String(80), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("app_version", String(40)),
    Column("last_applied_seq", BigInteger, nullable=False, default=0),
    _ts("last_server_time"),
    _ts("last_seen_at"),
    Column("clock_offset_s", Integer),
    _ts("enrolled_at", False),
    _ts("revoked_at"),
    Column("pending_ops", Integer),  # its outbox, as it said on its last pull
    _ts("oldest_pending_at"),
    # its last replica report (issue #12): when its copy differed, which kinds, healed or not
    _ts("replica_mismatch_at"),
    Column("replica_kinds", String(200)),  # comma-separated
    Column("replica_healed", Boolean),
)

enrollment_codes = Table(
    "enrollment_codes",
    metadata,
    Column("code_hash", String(64), primary_key=True),
    Column("store_id", String(64), ForeignKey("stores.store_id"), nullable=False),
    _ts("expires_at", False),
    _ts("used_at"),
    Column("device_id", String(64)),
)

integration_keys = Table(
    "integration_keys",
    metadata,
    Column("key_id", String(64), primary_key=True),
    Column("name", String(80), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    _ts("created_at", False),
    _ts("revoked_at"),
)

orders = Table(
    "orders",
    metadata,
    Column("order_id", String(64), primary_key=True),
    Column("store_id", String(64), ForeignKey("stores.store_id"), nullable=False),
    Column("type", String(20), nullable=False),
    Column("state", String(20), nullable=False),
    Column("data", JSON, nullable=False),  # fulfillment.model.Order as JSON
    _ts("updated_at", False),
    Index("ix_orders_store_state", "store_id", "state"),
)

ledger = Table(
    "ledger",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("store_id", String(64), nullable=False),
    Column("sku", String(64), nullable=False),
    Column("location", String(40), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("qty", Integer, nullable=False),
    Column("on_hand_delta", Integer, nullable=False),
    _ts("occurred_at", False),
    _ts("recorded_at", False),
    Column("op_id", String(36)),
    Column("actor_id", String(64)),
    Column("order_id", String(64)),
    Column("note", String(200)),  # why: a manager's `stock.adjust` reason
    Index("ix_ledger_store_sku", "store_id", "sku", "location"),
)

# Till sales and till returns the POS posted (issue #12): one row per (store, sale, line),
# the key that makes a re-sent batch change nothing (INSERT … ON CONFLICT DO NOTHING); the
# ledger row each one made is `ledger` (kind `sale` / `till_return`, note "sale S line n").
till_sales = Table(
    "till_sales",
    metadata,
    Column("store_id", String(64), primary_key=True),
    Column("sale_id", String(64), primary_key=True),
    Column("line", Integer, primary_key=True),
    Column("sku", String(64), nullable=False),
    Column("qty", Integer, nullable=False),  # > 0 sold, < 0 brought back
    Column("till_id", String(64), nullable=False),
    Column("location", String(40), nullable=False),  # where on-hand moved (the item's home)
    _ts("sold_at", False),
    _ts("recorded_at", False),
)

stock = Table(
    "stock",
    metadata,
    Column("store_id", String(64), primary_key=True),
    Column("sku", String(64), primary_key=True),
    Column("location", String(40), primary_key=True),
    Column("on_hand", Integer, nullable=False, default=0),
    Column("reserved", Integer, nullable=False, default=0),
    Column("safety", Integer, nullable=False, default=0),
    Column("doubtful", Boolean, nullable=False, default=False),
)

tasks = Table(
    "tasks",
    metadata,
    Column("task_id", String(64), primary_key=True),
    Column("store_id", String(64), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("sku", String(64), nullable=False, default=""),
    Column("location", String(40), nullable=False, default=""),
    Column("qty", Integer, nullable=False, default=0),
    Column("order_id", String(64)),
    Column("reason", Text, nullable=False, default=""),
    Column("state", String(20), nullable=False, default="open"),
    Column("op_id", String(36)),
    Column("done_by", String(64)),
    _ts("created_at", False),
    _ts("done_at"),
    Column("plan_id", String(64)),  # the count plan a blind count task belongs to
    Column("assignee", String(64)),  # who the plan gave it to (None: anyone)
    _ts("due_at"),
    Index("ix_tasks_store_state", "store_id", "state"),
)

count_plans = Table(
    "count_plans",
    metadata,
    Column("plan_id", String(64), primary_key=True),
    Column("store_id", String(64), ForeignKey("stores.store_id"), nullable=False),
    Column("state", String(20), nullable=False),
    Column("data", JSON, nullable=False),  # fulfillment.plans.CountPlan as JSON
    Column("op_id", String(36)),
    Column("device_id", String(64)),
    _ts("due_at", False),
    _ts("created_at", False),
    _ts("updated_at", False),
    Index("ix_count_plans_store", "store_id", "due_at"),
)

exceptions = Table(
    "exceptions",
    metadata,
    Column("exception_id", String(64), primary_key=True),
    Column("store_id", String(64), nullable=False),
    Column("code", String(40), nullable=False),
    Column("message", Text, nullable=False),
    Column("order_id", String(64)),
    Column("op_id", String(36)),
    Column("device_id", String(64)),
    Column("actor_id", String(64)),
    Column("state", String(20), nullable=False, default="open"),
    _ts("created_at", False),
    _ts("resolved_at"),
    Column("resolved_by", String(64)),
    Column("resolution", Text),
    Column("sku", String(64)),  # what it is about, when it is about stock (NEGATIVE_STOCK)
    Column("location", String(40)),
    Index("ix_exceptions_store_state", "store_id", "state"),
)

notifications = Table(
    "notifications",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("store_id", String(64), nullable=False),
    Column("order_id", String(64), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("data", JSON, nullable=False),
    Column("op_id", String(36)),
    _ts("created_at", False),
)

# the results that used their op_id (migration 0005): a refused reuse of an op_id
# (`OP_ID_REUSED`) and a quarantined op applied nothing under it, so their rows never collide
# with the op that did; a query by op_id repeats this clause word for word to use the index
OP_ID_USED = text("(code IS NULL OR code NOT IN ('OP_ID_REUSED', 'QUARANTINED'))")

op_results = Table(
    "op_results",
    metadata,
    Column("device_id", String(64), primary_key=True),
    Column("seq", BigInteger, primary_key=True),
    Column("op_id", String(36), nullable=False),
    Column("store_id", String(64), nullable=False),
    Column("type", String(40), nullable=False),
    Column("actor_id", String(64), nullable=False),
    Column("status", String(20), nullable=False),
    Column("code", String(40)),
    Column("message", Text),
    Column("followups", JSON, nullable=False),
    _ts("occurred_at", False),
    _ts("applied_at", False),
    Index(
        "uq_op_results_used_op_id",
        "op_id",
        unique=True,
        sqlite_where=OP_ID_USED,
        postgresql_where=OP_ID_USED,
    ),
)

dead_letters = Table(
    "dead_letters",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("store_id", String(64), nullable=False),
    Column("device_id", String(64), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("op_id", String(36)),
    Column("raw", JSON, nullable=False),
    Column("code", String(40), nullable=False),
    Column("message", Text, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    _ts("created_at", False),
    UniqueConstraint("device_id", "seq", name="uq_dead_letters_device_seq"),
)

sync_docs = Table(
    "sync_docs",
    metadata,
    Column("store_id", String(64), primary_key=True),
    Column("kind", String(20), primary_key=True),
    Column("entity_id", String(128), primary_key=True),  # a stock doc: sku@location
    Column("version", BigInteger, nullable=False),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("data", JSON, nullable=False),
    # the document's replica hash (sync/checksums.py, as a signed 64-bit value) and the bucket
    # of its store's checksum it is counted in; NULL for a tombstone (issue #12)
    Column("digest", BigInteger),
    Column("bucket", String(10)),
    Index("ix_sync_docs_store_version", "store_id", "version", unique=True),
)

# a store's replica checksums, kept incrementally in the transaction that publishes the
# documents (issue #12): per kind and bucket (`open`, or the day an order ended), the sum of
# its live documents' hashes mod 2**64 (signed) and how many there are
replica_digests = Table(
    "replica_digests",
    metadata,
    Column("store_id", String(64), primary_key=True),
    Column("kind", String(20), primary_key=True),
    Column("bucket", String(10), primary_key=True),
    Column("digest", BigInteger, nullable=False),
    Column("docs", BigInteger, nullable=False),
)

# pruning (central/service/pruning.py): each run marks every store's change-seq with the
# time it saw it, so "a change older than retention_days" needs no time on every change row
change_marks = Table(
    "change_marks",
    metadata,
    Column("store_id", String(64), primary_key=True),
    Column("change_seq", BigInteger, primary_key=True),
    _ts("marked_at", False),
)

# the store's pruned tombstones were all at or below `pruned_seq`: a pull cursor below it
# may have missed a delete, so it gets `reset` (PROTOCOL.md, Pull)
change_horizons = Table(
    "change_horizons",
    metadata,
    Column("store_id", String(64), primary_key=True),
    Column("pruned_seq", BigInteger, nullable=False),
)

returns = Table(
    "returns",
    metadata,
    Column("return_id", String(64), primary_key=True),
    Column("store_id", String(64), ForeignKey("stores.store_id"), nullable=False),
    Column("order_id", String(64)),  # the order, or the receipt typed when it was not found
    Column("state", String(20), nullable=False),
    Column("data", JSON, nullable=False),  # fulfillment.returns.Return as JSON
    Column("op_id", String(36)),
    Column("device_id", String(64)),
    _ts("created_at", False),
    _ts("updated_at", False),
    Index("ix_returns_store_order", "store_id", "order_id"),
)

refunds = Table(
    "refunds",
    metadata,
    Column("refund_id", String(64), primary_key=True),
    Column("store_id", String(64), nullable=False),
    Column("return_id", String(64), nullable=False),
    Column("order_id", String(64)),
    Column("amount", Numeric(12, 2), nullable=False),
    Column("tender", String(40), nullable=False),
    Column("state", String(20), nullable=False, default="requested"),
    Column("op_id", String(36), nullable=False),
    _ts("created_at", False),
    UniqueConstraint("op_id", name="uq_refunds_op_id"),
    Index("ix_refunds_store_return", "store_id", "return_id"),
)

counts = Table(
    "counts",
    metadata,
    Column("count_id", String(64), primary_key=True),
    Column("store_id", String(64), ForeignKey("stores.store_id"), nullable=False),
    Column("sku", String(64), nullable=False),
    Column("location", String(40), nullable=False),
    Column("state", String(20), nullable=False),
    _ts("counted_at", False),
    Column("data", JSON, nullable=False),  # fulfillment.counts.Count as JSON
    Column("op_id", String(36)),
    Column("device_id", String(64)),
    _ts("created_at", False),
    _ts("updated_at", False),
    Index("ix_counts_store_key", "store_id", "sku", "location", "counted_at"),
)

# the event feed (issue #11, central/service/events.py): every state change central knows,
# written in the transaction of the change with `pos` NULL; the sequencer (one at a time, under
# `event_positions`' row lock) later numbers committed events 1, 2, 3 … in one transaction, so
# a reader past position P never finds a row that commits later below P
events = Table(
    "events",
    metadata,
    Column(
        "id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("pos", BigInteger, unique=True),  # the feed's order; NULL until sequenced
    Column("store_id", String(64), nullable=False),
    Column("type", String(40), nullable=False),
    _ts("occurred_at", False),
    Column("data", JSON, nullable=False),
    Index("ix_events_store_pos", "store_id", "pos"),
    Index(
        "ix_events_unsequenced",
        "id",
        sqlite_where=text("pos IS NULL"),
        postgresql_where=text("pos IS NULL"),
    ),
)

# one row (name 'events'): the last position given, and the newest position pruning removed
event_positions = Table(
    "event_positions",
    metadata,
    Column("name", String(20), primary_key=True),
    Column("last_pos", BigInteger, nullable=False, default=0),
    Column("pruned_pos", BigInteger, nullable=False, default=0),
)

webhooks = Table(
    "webhooks",
    metadata,
    Column("webhook_id", String(64), primary_key=True),
    Column("url", Text, nullable=False),
    Column("events", JSON, nullable=False),  # ["*"] or event types
    Column("store_ids", JSON),  # None: every store
    # kept as it is: the HMAC signing every delivery needs the secret itself (docs/security.md)
    Column("secret", String(100), nullable=False),
    Column("scanned_pos", BigInteger, nullable=False, default=0),  # events fanned out up to
    _ts("created_at", False),
    _ts("deleted_at"),
)

# one row per event a webhook is to get: the durable queue, delivered in `pos` order per
# (webhook, store), the next only after the previous one is delivered or failed for good
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("webhook_id", String(64), primary_key=True),
    Column("pos", BigInteger, primary_key=True),
    Column("store_id", String(64), nullable=False),
    Column("state", String(12), nullable=False),  # pending | delivered | failed
    Column("attempts", Integer, nullable=False, default=0),
    _ts("next_at", False),
    _ts("first_tried_at"),
    _ts("done_at"),
    Column("last_status", Integer),
    Column("last_error", String(200)),
    Index("ix_webhook_deliveries_stream", "webhook_id", "store_id", "state", "pos"),
    Index("ix_webhook_deliveries_state", "state", "next_at"),
)
