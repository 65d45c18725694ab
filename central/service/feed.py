"""The store's lock and its change feed.

Every write for a store happens inside `store_tx`: one database transaction
that first locks the store's row, so writes for one store are serialised and
the store's change sequence is gapless and commits in order. `publish` writes
an entity's current document into `sync_docs` under the next change number;
a pull reads documents whose version is past the cursor (Kinto-style: the
latest version of each entity, tombstones for deletes).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection, Engine, Text, and_, cast, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from fulfillment.model import OPEN_STATES, Policy
from sync.checksums import RETURN_LOOKBACK, canonical, canonical_plain
from sync.protocol import Change, PullResponse, Reset, SnapshotHeader

from ..db.engine import reading
from ..db.tables import change_horizons, devices, orders, stores, sync_docs
from . import digests, events, notify
from .clock import utcnow
from .devices import check_enrolled
from .errors import NotFound
from .staging import Staging, bulk_upsert, storable

__all__ = [
    "StoreTx",
    "decode_cursor",
    "encode_cursor",
    "order_change",
    "pull",
    "snapshot_stream",
    "store_tx",
    "upsert",
]


def upsert(conn: Connection, table: Any, values: dict[str, Any], keys: list[str]) -> None:
    """INSERT … ON CONFLICT (keys) DO UPDATE, on SQLite and PostgreSQL alike."""
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    stmt = insert(table).values(**values)
    changes = {k: stmt.excluded[k] for k in values if k not in keys}
    conn.execute(stmt.on_conflict_do_update(index_elements=keys, set_=changes))


# the kinds whose documents never hold a float (oms.item_doc, staging.stock_doc, a staff
# member's): their canonical text is orjson's (`canonical_plain`), five times faster
PLAIN_KINDS = frozenset({"item", "stock", "staff"})


@dataclass
class StoreTx:
    """A transaction holding one store's lock; writes are staged and flushed at the end."""

    conn: Connection
    store_id: str
    policy: Policy
    change_seq: int
    now: datetime
    timezone: str = "UTC"
    root: Staging = field(default_factory=Staging)
    staged: Staging = field(init=False)
    # what this transaction read once and may reuse while nothing is flushed (e.g. the latest
    # count of a sku/location in the database); forgotten at every flush and discard
    memo: dict[Any, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.staged = self.root

    def publish(self, kind: str, entity_id: str, data: dict[str, Any] | BaseModel) -> None:
        """Stage the entity's current document; it gets its change number at flush.

        A pydantic model is dumped at flush, so an order changed by 500 ops of one
        push is serialised once."""
        self.staged.docs[(kind, entity_id)] = data

    @contextmanager
    def op_scope(self) -> Iterator[None]:
        """Everything staged inside applies together, or not at all if it raises."""
        outer = self.staged
        self.staged = outer.child()
        try:
            yield
            self.staged.merge_into_parent()
        finally:
            self.staged = outer

    def discard(self, change_seq: int) -> None:
        """Forget what is staged (its savepoint was rolled back) and the numbers it took."""
        self.root = self.staged = Staging()
        self.change_seq = change_seq
        self.memo.clear()

    def flush(self) -> None:
        assert self.staged is self.root, "flush outside an op's scope"
        written = self.root
        docs = written.flush(self.conn, self.store_id)
        self.root = self.staged = Staging()
        self.memo.clear()
        staged_events = written.events
        if written.on_hand:
            docs = self._tell_negative(written, docs)
        # the event feed's rows, in the same transaction (central/service/events.py)
        events.write(
            self.conn, staged_events + events.derived(self.store_id, self.now, written, docs)
        )
        if not docs:
            return
        rows = []
        texts = []
        encoded = written.texts
        for kind, entity_id, data in docs:
            self.change_seq += 1
            if isinstance(data, BaseModel):
                data = data.model_dump(mode="json")
            rows.append(
                {
                    "store_id": self.store_id,
                    "kind": kind,
                    "entity_id": entity_id,
                    "version": self.change_seq,
                    "deleted": False,
                    "data": data,
                }
            )
            text = encoded.get((kind, entity_id))
            if text is None:
                text = canonical_plain(data) if kind in PLAIN_KINDS else canonical(data)
            texts.append(text)
        # the replica checksums move with them; each document is encoded once: the text its
        # hash is of is the text written. The lookup of what the documents counted for also
        # tells whether any has a row yet (PostgreSQL): a load of new ones inserts plainly
        absent = digests.account(self.conn, self.store_id, rows, texts) and len(
            {(row["kind"], row["entity_id"]) for row in rows}
        ) == len(rows)
        for row, text in zip(rows, texts, strict=True):
            row["data"] = storable(text, row["data"])
        bulk_upsert(
            self.conn,
            sync_docs,
            rows,
            ["store_id", "kind", "entity_id"],
            json_text=("data",),
            absent=absent,
        )
        self.conn.execute(
            update(stores)
            .where(stores.c.store_id == self.store_id)
            .values(change_seq=self.change_seq)
        )

    def _tell_negative(
        self, written: Staging, docs: list[tuple[str, str, Any]]
    ) -> list[tuple[str, str, Any]]:
        """A place whose on-hand this flush moved below zero gets a manager exception and a
        recount task (`ledger.flag_negative_stock`), written at once; the documents to publish,
        each once (the stock's own again, now doubtful)."""
        below = [
            d
            for kind, _, d in docs
            if kind == "stock"
            and d["on_hand"] < 0
            and written.on_hand.get((d["sku"], d["location"]))
        ]
        if not below:
            return docs
        from .ledger import flag_negative_stock  # the ledger writes through this transaction

        flag_negative_stock(self, below, written.ledger)
        written.events += self.root.events
        more = self.root.flush(self.conn, self.store_id)
        for kind, entity_id, _ in more:  # published again: its text is the later one's
            written.texts.pop((kind, entity_id), None)
        written.texts.update(self.root.texts)
        self.root = self.staged = Staging()
        self.memo.clear()
        latest = {(kind, entity_id): (kind, entity_id, d) for kind, entity_id, d in docs + more}
        return list(latest.values())


def _lock_store(conn: Connection, store_id: str) -> Any:
    row = conn.execute(
        select(stores.c.store_id, stores.c.policy, stores.c.change_seq, stores.c.timezone)
        .where(stores.c.store_id == store_id)
        .with_for_update()
    ).first()
    if row is None:
        raise NotFound(f"No store {store_id}", code="UNKNOWN_STORE")
    return row


@contextmanager
def store_tx(engine: Engine, store_id: str, now: datetime | None = None) -> Iterator[StoreTx]:
    with engine.begin() as conn:
        row = _lock_store(conn, store_id)
        tx = StoreTx(
            conn,
            store_id,
            Policy.model_validate(row.policy),
            row.change_seq,
            now or utcnow(),
            row.timezone or "UTC",
        )
        yield tx
        tx.flush()
        if tx.change_seq != row.change_seq:
            notify.changed(
                conn, store_id, row.change_seq, tx.change_seq
            )  # event streams learn at commit


def encode_cursor(store_id: str, version: int) -> str:
    raw = json.dumps({"s": store_id, "v": version}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, store_id: str) -> int | None:
    """The version a cursor stands for, or None if it is not one of this store's."""
    if cursor is None:
        return 0
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if data["s"] != store_id:
            return None
        return int(data["v"])
    except (ValueError, KeyError, TypeError):
        return None


def pull(
    engine: Engine,
    store_id: str,
    device_id: str,
    cursor: str | None,
    limit: int,
    *,
    checksums: bool = True,
) -> PullResponse:
    """A pull page as a model (benchmarks, tools); the route sends `pull_json`'s text."""
    return PullResponse.model_validate_json(
        pull_json(engine, store_id, device_id, cursor, limit, checksums=checksums)
    )


def pull_json(
    engine: Engine,
    store_id: str,
    device_id: str,
    cursor: str | None,
    limit: int,
    *,
    checksums: bool = True,
) -> bytes:
    """A pull page (PROTOCOL.md, Pull) as the JSON the route sends.

    One read transaction: the store, the device and the feed's horizon in one statement, then
    the page. The documents go out as stored (their JSON text, never parsed: the bulk of a
    pull), spliced into the page that pydantic writes. The device is refused here if it was
    revoked since its token was looked up (`api.deps.DeviceAuth` remembers tokens)."""
    now = utcnow()
    with reading(engine) as conn, conn.begin():
        head = conn.execute(
            select(
                stores.c.change_seq,
                stores.c.policy,
                devices.c.device_id,
                devices.c.last_applied_seq,
                devices.c.revoked_at,
                change_horizons.c.pruned_seq,
            )
            .select_from(
                stores.outerjoin(
                    devices,
                    and_(devices.c.device_id == device_id, devices.c.store_id == stores.c.store_id),
                ).outerjoin(change_horizons, change_horizons.c.store_id == stores.c.store_id)
            )
            .where(stores.c.store_id == store_id)
        ).first()
        if head is None:
            raise NotFound(f"No store {store_id}", code="UNKNOWN_STORE")
        check_enrolled(head.device_id is not None, head.revoked_at)
        last_applied = int(head.last_applied_seq)
        since = decode_cursor(cursor, store_id)
        pruned = since is not None and 0 < since < (head.pruned_seq or 0)
        if since is None or since > head.change_seq or pruned:
            reason = (
                "the cursor is from another store or not a cursor"
                if since is None
                else "the cursor is older than the change log's retention"
                if pruned
                else "the cursor is ahead of this server's change log"
            )
            return (
                PullResponse(
                    cursor=encode_cursor(store_id, 0),
                    has_more=False,
                    server_time=now,
                    last_applied_seq=last_applied,
                    changes=[],
                    reset=Reset(reason=reason),
                )
                .model_dump_json()
                .encode()
            )
        rows = conn.execute(
            select(
                sync_docs.c.kind,
                sync_docs.c.entity_id,
                sync_docs.c.version,
                sync_docs.c.deleted,
                cast(sync_docs.c.data, Text),
            )
            .where(sync_docs.c.store_id == store_id, sync_docs.c.version > since)
            .order_by(sync_docs.c.version)
            .limit(limit + 1)
        ).all()
        has_more = len(rows) > limit
        rows = rows[:limit]
        next_version = rows[-1].version if rows else since
        page = PullResponse(
            cursor=encode_cursor(store_id, next_version),
            has_more=has_more,
            server_time=now,
            last_applied_seq=last_applied,
            changes=[],
            # at the head the replica should equal central: say what it should hold
            checksums=None
            if has_more or not checksums
            else digests.checksums(conn, store_id, now, _window_days(head.policy)),
        ).model_dump_json()
    # `"changes":[]` comes once, before any free text (pydantic writes the fields in order)
    before, after = page.split(_NO_CHANGES, 1)
    return "".join(
        [before, '"changes":[', ",".join(_change_json(row) for row in rows), "]", after]
    ).encode()


_NO_CHANGES = '"changes":[]'
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _change_json(row: Any) -> str:
    """A `Change` as JSON, its document the stored text."""
    kind, entity_id, version, deleted, data = row
    if deleted:
        return f'{{"kind":{_dumps(kind)},"id":{_dumps(entity_id)},"version":{version},"op":"delete","data":{{}}}}'
    return (
        f'{{"kind":{_dumps(kind)},"id":{_dumps(entity_id)},"version":{version},'
        f'"op":"upsert","data":{data}}}'
    )


def _window_days(policy: Any) -> int:
    return Policy.model_validate(policy).return_window_days


SNAPSHOT_CHUNK_ROWS = 2000  # rows fetched, written and handed to the server per chunk


def snapshot_stream(
    engine: Engine, store_id: str, device_id: str, kinds: list[str] | None = None
) -> tuple[SnapshotHeader, Iterator[bytes]]:
    """The snapshot's header and its changes as NDJSON, read from the database as they go.

    The horizon: every live document but those of orders that ended (handed over, shipped,
    cancelled …) longer ago than `RETURN_LOOKBACK` times the store's returns window: a
    return a little past the window is still taken with a manager's override, so those orders
    stay on the tablet; an older one the returns desk takes on the receipt's number.

    One read transaction (one consistent snapshot: the header's cursor and `count` match
    the rows) stays open until the iterator is exhausted or closed. The rows are written in
    the wire format straight from the stored JSON text (no model per row) and handed out
    `SNAPSHOT_CHUNK_ROWS` lines at a time: the server moves one chunk, not one line, per
    thread hop. The header is read before the first byte, so an unknown store or device is
    an error status, not a broken stream.

    `kinds`: only the documents of those kinds (a tablet healing them, issue #12); the
    header's checksums are then of those kinds only."""
    conn = reading(engine)
    try:
        tx = conn.begin()
        store = conn.execute(
            select(stores.c.change_seq, stores.c.policy).where(stores.c.store_id == store_id)
        ).first()
        if store is None:
            raise NotFound(f"No store {store_id}", code="UNKNOWN_STORE")
        seq = store.change_seq
        last_applied = conn.execute(
            select(devices.c.last_applied_seq).where(devices.c.device_id == device_id)
        ).scalar_one()
        # the horizon: orders that ended long before the returns window stay on central
        now = utcnow()
        window_days = _window_days(store.policy)
        ended = select(orders.c.order_id).where(
            orders.c.store_id == store_id,
            orders.c.state.notin_([s.value for s in OPEN_STATES]),
            orders.c.updated_at < now - timedelta(days=window_days * RETURN_LOOKBACK),
        )
        live = (
            sync_docs.c.store_id == store_id,
            sync_docs.c.deleted.is_(False),
            ~and_(sync_docs.c.kind.in_(("order", "label")), sync_docs.c.entity_id.in_(ended)),
            *(() if kinds is None else (sync_docs.c.kind.in_(kinds),)),
        )
        count = conn.execute(select(func.count()).select_from(sync_docs).where(*live)).scalar_one()
        sums = digests.checksums(conn, store_id, now, window_days, kinds)
    except BaseException:
        conn.close()
        raise
    header = SnapshotHeader(
        cursor=encode_cursor(store_id, seq),
        last_applied_seq=last_applied,
        server_time=now,
        count=count,
        checksums=sums,
        kinds=kinds,
    )

    def chunks() -> Iterator[bytes]:
        dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
        try:
            result = conn.execution_options(stream_results=True).execute(
                select(
                    sync_docs.c.kind,
                    sync_docs.c.entity_id,
                    sync_docs.c.version,
                    cast(sync_docs.c.data, Text),
                )
                .where(*live)
                .order_by(sync_docs.c.version)
            )
            while rows := result.fetchmany(SNAPSHOT_CHUNK_ROWS):
                yield "".join(
                    [
                        f'{{"kind":{dumps(kind)},"id":{dumps(entity_id)},"version":{version},'
                        f'"op":"upsert","data":{data}}}\n'
                        for kind, entity_id, version, data in rows
                    ]
                ).encode()
            tx.commit()
        finally:
            conn.close()

    return header, chunks()


def order_change(engine: Engine, store_id: str, order_id: str) -> Change:
    """One order of the store as a pull would send it: an older order a tablet does not hold
    (past the snapshot's horizon, or pruned from the feed), looked up on demand.

    The document is the `orders` row's (the feed's copy of an ended order may be pruned);
    its version is the feed's when the feed still has it, else 0: any later change of the
    order (a return) reaches the tablet by pull with a higher version and replaces it."""
    with reading(engine) as conn, conn.begin():
        data = conn.execute(
            select(orders.c.data).where(
                orders.c.order_id == order_id, orders.c.store_id == store_id
            )
        ).scalar()
        if data is None:
            raise NotFound(f"No order {order_id} in this store", code="UNKNOWN_ORDER")
        version = conn.execute(
            select(sync_docs.c.version).where(
                sync_docs.c.store_id == store_id,
                sync_docs.c.kind == "order",
                sync_docs.c.entity_id == order_id,
                sync_docs.c.deleted.is_(False),
            )
        ).scalar()
    return Change(kind="order", id=order_id, version=version or 0, data=data)


def current_seq(engine: Engine, store_id: str) -> int:
    with reading(engine) as conn:
        return int(
            conn.execute(
                select(stores.c.change_seq).where(stores.c.store_id == store_id)
            ).scalar_one()
        )
