"""The sync engine's side of `LocalStore`: what `sync.replica.Replica` asks of it besides
`identity` (push: the outbox and the acknowledgements; pull: the cursor, pull pages and
snapshots; the pass's outcome). A mixin on the store's own connection, like `_reads.Reads`
for the screens; the screens read only `pending_summary` of it (the attention count).
"""

from __future__ import annotations

import gc
import json
import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlite_utils import Database

from sync.checksums import (
    OPEN,
    UNCHECKED,
    bucket_of,
    canonical,
    canonical_plain,
    doc_hash,
    hex_of,
    in_horizon,
    order_cutoff,
    sum_of,
)
from sync.protocol import Change, OpResult, PullResponse, SnapshotHeader
from sync.replica import PendingSummary

from ._catalogue import BULK_TABLES, PROJECT, PROJECT_MANY
from ._docs import admit_change, doc, store_policy, upsert_doc, wipe_server_state
from ._intake import INT_MAX, admit_plain
from ._kinds import SETTLED_KINDS, rebase
from ._records import from_iso, rows, to_iso
from ._schema import PROJECTION_TABLES, create_srv_docs

__all__ = ["ReplicaSide"]

_ATTENTION = ("rejected", "compensated")
SNAPSHOT_BATCH = 5000  # snapshot rows per executemany and per transaction
SHADOW = "_snap"  # the catalogue tables' shadow copies while a snapshot loads


def _shadow_of(conn: sqlite3.Connection, table: str) -> None:
    """An empty copy of `table` (same columns, keys and STRICT), named `<table>_snap`."""
    sql = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).fetchone()[0]
    conn.execute(f"DROP TABLE IF EXISTS {table}{SHADOW}")
    conn.execute(
        re.sub(r"^CREATE TABLE\s+[\"\[`]?\w+[\"\]`]?", f"CREATE TABLE {table}{SHADOW}", sql)
    )


_UNCHECKED_MARKS = ", ".join("?" * len(UNCHECKED))


def _add_hash(
    sums: dict[str, dict[str, int]], kind: str, id_: str, version: int, text: str, data: Any
) -> dict[str, dict[str, int]] | None:
    """`sums` with one more document's hash in its kind and bucket (as `checksums` buckets
    it from the stored text); None when the bucket cannot be told from `data` as
    `checksums` tells it (a state or time that is not text: its SQL reads it otherwise)."""
    bucket = OPEN
    if kind == "order":
        state, updated_at = data.get("state"), data.get("updated_at")
        if not (isinstance(state, str | None) and isinstance(updated_at, str | None)):
            return None
        bucket = bucket_of(kind, state, updated_at)
    per_kind = sums.setdefault(kind, {})
    per_kind[bucket] = per_kind.get(bucket, 0) + doc_hash(kind, id_, version, text)
    return sums


def _swap_in(conn: sqlite3.Connection, table: str) -> None:
    """`<table>_snap` renamed to `table` (the old one dropped), with `table`'s indexes made
    anew on it: one build of each index instead of a copy of every row into the old table."""
    indexes = [
        sql
        for (sql,) in conn.execute(
            """SELECT sql FROM sqlite_master
               WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL""",
            (table,),
        )
    ]
    conn.execute(f"DROP TABLE {table}")
    conn.execute(f"ALTER TABLE {table}{SHADOW} RENAME TO {table}")
    for sql in indexes:
        conn.execute(sql)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector paused (restored after): a snapshot load makes millions of
    short-lived objects (the changes, their dicts, the rows) in no cycle, freed by reference
    counting, and the collector's full passes over a heap that keeps growing with them were
    ~0.3 s of a 100,000-document load (issue #9)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


class ReplicaSide:
    """Push, pull and the pass's outcome, for the sync engine (its own store instance)."""

    _conn: sqlite3.Connection
    db: Database
    _write: Callable[[], AbstractContextManager[sqlite3.Connection]]
    _one: Callable[..., Any]  # `_reads.Reads._one`
    # the replica checksums a snapshot load computed from the text it wrote, per kind and
    # bucket (sync/checksums.py), with the database's state they hold for (`_unchanged_since`)
    _loaded_sums: tuple[tuple[int, int], dict[str, dict[str, int]]] | None = None

    def _state_mark(self) -> tuple[int, int]:
        """Changes since: this connection's row count, and `data_version` (other connections'
        commits)."""
        return self._conn.total_changes, self._conn.execute("PRAGMA data_version").fetchone()[0]

    # --- Replica: push side ------------------------------------------------------------

    def pending(self, limit: int, after_seq: int = 0) -> list[dict[str, Any]]:
        """Outbox envelopes (JSON-ready dicts) in seq order, oldest first; only those with
        `seq > after_seq` (the sync engine reads the next batch while one is still in flight)."""
        device_id = self._one("SELECT device_id FROM sync_state WHERE id = 1")
        found = rows(
            self._conn,
            """SELECT op_id, seq, actor_id, type, type_v, payload, occurred_at, base_seq
               FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?""",
            (after_seq, limit),
        )
        return [
            {
                "op_id": r["op_id"],
                "device_id": device_id,
                "seq": r["seq"],
                "actor_id": r["actor_id"],
                "type": r["type"],
                "type_v": r["type_v"],
                "payload": json.loads(r["payload"]),
                "occurred_at": r["occurred_at"],
                "base_seq": r["base_seq"],
            }
            for r in found
        ]

    def pending_json(self, limit: int, after_seq: int = 0) -> list[tuple[int, str | None]]:
        """The envelopes `pending` gives, as the JSON text of each (built by SQLite from the
        stored columns, the payload's stored text as it is), with its seq, in seq order: the
        push body without a dict or a model per op. None for an op whose stored payload is
        not JSON (damaged: it cannot be sent)."""
        return self._conn.execute(
            """SELECT seq, CASE WHEN json_valid(payload) THEN json_object(
                   'op_id', op_id, 'device_id', (SELECT device_id FROM sync_state WHERE id = 1),
                   'seq', seq, 'actor_id', actor_id, 'type', type, 'type_v', type_v,
                   'payload', json(payload), 'occurred_at', occurred_at, 'base_seq', base_seq)
                   END
               FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?""",
            (after_seq, limit),
        ).fetchall()

    def pending_summary(self) -> PendingSummary:
        count, oldest = self._conn.execute(
            "SELECT count(*), min(occurred_at) FROM outbox"
        ).fetchone()
        attention = self._one("SELECT count(*) FROM op_log WHERE seen = 0")
        return PendingSummary(count=count, oldest_occurred_at=from_iso(oldest), attention=attention)

    def acknowledge(self, results: Iterable[OpResult], *, at: datetime | None = None) -> None:
        """Move acknowledged ops from the outbox to the op log with their results.

        The screens keep the op's effect until the next pull brings central's
        version (then the order is rebased); refused or compensated ops wait in
        the attention list until someone marks them seen.
        """
        results = list(results)
        if not results:
            return
        acked_at = to_iso(at or datetime.now(UTC))
        acks = []
        for result in results:
            outcome = result.original_status if result.status == "duplicate" else result.status
            followups = [f.model_dump(mode="json") for f in result.followups]
            acks.append(
                (
                    str(result.op_id),
                    result.status,
                    result.original_status,
                    result.code,
                    result.message,
                    json.dumps(followups) if followups else "[]",
                    0 if outcome in _ATTENTION else 1,
                )
            )
        # set-based: a 500-op batch is four statements; the op log's rows are found from the
        # acknowledgements (CROSS JOIN: SQLite keeps that order), one outbox lookup each, not
        # by a scan of the whole outbox per batch
        with self._write() as conn:
            conn.execute(
                """CREATE TEMP TABLE IF NOT EXISTS acks (op_id TEXT PRIMARY KEY, status TEXT,
                   original_status TEXT, code TEXT, message TEXT, followups TEXT, seen INTEGER)"""
            )
            conn.execute("DELETE FROM acks")
            conn.executemany("INSERT OR REPLACE INTO acks VALUES (?, ?, ?, ?, ?, ?, ?)", acks)
            # an op no longer in the outbox was acknowledged before (a retried response)
            conn.execute(
                """INSERT OR REPLACE INTO op_log
                   (seq, op_id, type, actor_id, payload, occurred_at, status, original_status,
                    code, message, followups, acked_at, seen, rebased)
                   SELECT o.seq, o.op_id, o.type, o.actor_id, o.payload, o.occurred_at, a.status,
                          a.original_status, a.code, a.message, a.followups, ?, a.seen, 0
                   FROM acks a CROSS JOIN outbox o ON o.op_id = a.op_id""",
                (acked_at,),
            )
            conn.execute("DELETE FROM outbox WHERE op_id IN (SELECT op_id FROM acks)")

    # --- Replica: pull side ----------------------------------------------------------

    def cursor(self) -> str | None:
        return self._one("SELECT cursor FROM sync_state WHERE id = 1")  # type: ignore[no-any-return]

    def apply_pull(self, page: PullResponse) -> None:
        """Apply a pull page, store its cursor and last_applied_seq, and rebase; one transaction.

        A page with `reset` set starts a full re-download: server state is
        wiped first (the outbox and op log are kept).
        """
        keep_sums = (
            page.reset is None
            and not page.changes
            and self._loaded_sums is not None
            and self._loaded_sums[0] == self._state_mark()
        )
        with self._write() as conn:
            if page.reset is not None:
                wipe_server_state(conn)
                conn.execute("UPDATE sync_state SET pulled_version = 0 WHERE id = 1")
            changed: dict[str, set[str]] = {}
            top = 0
            for change in page.changes:
                version, data = admit_change(change)
                upsert_doc(conn, change.kind, change.id, version, change.op, data)
                changed.setdefault(change.kind, set()).add(change.id)
                top = max(top, version)
            for kind, project in PROJECT.items():
                for id_ in changed.get(kind, ()):
                    project(conn, id_, doc(conn, kind, id_))
            conn.execute(
                """UPDATE sync_state SET cursor = ?, last_applied_seq = ?,
                   pulled_version = max(pulled_version, ?) WHERE id = 1""",
                (page.cursor, page.last_applied_seq, top),
            )
            rebase(
                conn,
                changed.get("order", ()),
                changed.get("task", ()),
                return_ids=changed.get("return", ()),
                count_ids=changed.get("count", ()),
                everything="store" in changed,  # a policy change can change any fold
                settled=changed.keys() <= SETTLED_KINDS,
            )
        if keep_sums and self._loaded_sums is not None:  # a page at the head: no document moved
            self._loaded_sums = (self._state_mark(), self._loaded_sums[1])

    def take_order(self, change: Change) -> None:
        """An order central sent on demand (`CentralClient.order`: older than what the
        snapshot held) stored as a pull stores it: its document (a newer one already here
        wins), then its row folded with this tablet's pending ops. The cursor is not moved:
        later changes of the order still come by pull, and replace it."""
        if change.kind != "order":
            raise ValueError(f"not an order: {change.kind!r}")
        with self._write() as conn:
            version, data = admit_change(change)
            upsert_doc(conn, change.kind, change.id, version, change.op, data)
            rebase(conn, [change.id], acknowledged=False)

    def load_snapshot(self, header: SnapshotHeader, changes: Iterable[Change]) -> None:
        """Replace all server state with a snapshot, keeping the outbox, and rebase.

        Documents go into a shadow table first, `SNAPSHOT_BATCH` rows per transaction and
        one `executemany` each (the screens keep reading the old state); the catalogue's
        rows (items, GTINs, stock) go into shadow copies of their tables in the same
        transactions, from the documents in hand. One transaction then swaps it all in,
        rebuilds the other projections and rebases. A snapshot that names an entity twice
        or deletes one (central's never does) has its catalogue rebuilt from the documents.
        Python's cycle collector is paused meanwhile (`_collector_paused`).
        """
        with _collector_paused():
            self._load_snapshot(header, changes)

    def _load_snapshot(self, header: SnapshotHeader, changes: Iterable[Change]) -> None:
        shadow = "srv_docs_shadow"
        self.db.execute(f"DROP TABLE IF EXISTS {shadow}")
        create_srv_docs(self.db, shadow)
        with self._write() as conn:
            for table in BULK_TABLES:
                _shadow_of(conn, table)
        top = 0
        upserts: list[tuple[str, str, int, str]] = []
        deletes: list[tuple[str, str, int]] = []
        bulk: dict[str, list[tuple[str, dict[str, Any], str]]] = {k: [] for k in PROJECT_MANY}
        seen: dict[str, set[str]] = {k: set() for k in PROJECT_MANY}
        in_bulk = True  # the catalogue's shadow rows are the documents' rows
        self._loaded_sums = None
        # per kind and bucket, the sum of the hashes of the texts written (sync/checksums.py)
        sums: dict[str, dict[str, int]] | None = {}
        hashed = 0

        def flush() -> None:
            with self._write() as conn:
                conn.executemany(
                    f"""INSERT INTO {shadow} (kind, id, version, data) VALUES (?, ?, ?, ?)
                        ON CONFLICT (kind, id) DO UPDATE SET version = excluded.version,
                            data = excluded.data
                        WHERE excluded.version >= {shadow}.version""",
                    upserts,
                )
                conn.executemany(
                    f"DELETE FROM {shadow} WHERE kind = ? AND id = ? AND version <= ?", deletes
                )
                for kind, docs in bulk.items():
                    if in_bulk and docs:
                        PROJECT_MANY[kind](conn, docs, SHADOW)
                    docs.clear()
            upserts.clear()
            deletes.clear()

        # no WAL checkpoint while the shadow tables fill (each one copies and syncs what the
        # WAL holds into the file, dozens in a large load): one, after the swap, instead
        (autocheckpoint,) = self._conn.execute("PRAGMA wal_autocheckpoint").fetchone()
        self._conn.execute("PRAGMA wal_autocheckpoint = 0")
        try:
            for c in changes:
                # the usual document: nothing to replace, no float (orjson writes its text)
                plain = (
                    admit_plain(c.kind, c.id, c.data)
                    if c.op != "delete" and -INT_MAX <= c.version <= INT_MAX
                    else None
                )
                if plain is not None:
                    version, data = c.version, plain
                else:
                    version, data = admit_change(c)
                top = max(top, version)
                if c.op == "delete":
                    deletes.append((c.kind, c.id, version))
                    in_bulk = in_bulk and c.kind not in bulk
                    sums = None
                else:
                    # the form the replica checksums hash
                    text = canonical_plain(data) if plain is not None else canonical(data)
                    upserts.append((c.kind, c.id, version, text))
                    if sums is not None and c.kind not in UNCHECKED:
                        sums = _add_hash(sums, c.kind, c.id, version, text, data)
                        hashed += 1
                    if c.kind in bulk and in_bulk:
                        if c.id in seen[c.kind]:
                            in_bulk = False
                        seen[c.kind].add(c.id)
                        bulk[c.kind].append((c.id, data, text))
                if len(upserts) + len(deletes) >= SNAPSHOT_BATCH:
                    flush()
            flush()
        finally:
            self._conn.execute(f"PRAGMA wal_autocheckpoint = {int(autocheckpoint)}")
        seen.clear()
        with self._write() as conn:
            conn.execute("DROP TABLE srv_docs")
            conn.execute(f"ALTER TABLE {shadow} RENAME TO srv_docs")
            for table in PROJECTION_TABLES:
                if not (in_bulk and table in BULK_TABLES):
                    conn.execute(f"DELETE FROM {table}")
            for table in BULK_TABLES:
                if in_bulk:  # the shadow copy becomes the table; its indexes built once
                    _swap_in(conn, table)
                else:
                    conn.execute(f"DROP TABLE {table}{SHADOW}")
            for kind, project in PROJECT.items():
                if kind in PROJECT_MANY and in_bulk:
                    continue
                ids = [
                    r[0] for r in conn.execute("SELECT id FROM srv_docs WHERE kind = ?", (kind,))
                ]
                for id_ in ids:
                    project(conn, id_, doc(conn, kind, id_))
            tasks = [r[0] for r in conn.execute("SELECT id FROM srv_docs WHERE kind = 'task'")]
            conn.execute(
                """UPDATE sync_state SET cursor = ?, last_applied_seq = ?, pulled_version = ?
                   WHERE id = 1""",
                (header.cursor, header.last_applied_seq, top),
            )
            rebase(conn, (), tasks, everything=True)
            if sums is not None:  # a document named twice leaves fewer rows than hashes
                checked = conn.execute(
                    f"SELECT count(*) FROM srv_docs WHERE kind NOT IN ({_UNCHECKED_MARKS})",
                    sorted(UNCHECKED),
                ).fetchone()[0]
                sums = sums if checked == hashed else None
        if sums is not None:
            self._loaded_sums = (self._state_mark(), sums)

    # --- Replica: checksums (issue #12) --------------------------------------------

    def checksums(self, server_time: datetime) -> dict[str, str]:
        """Per kind, the checksum of this tablet's copy of central's documents, over the set
        central's checksums cover at `server_time` (sync/checksums.py): the stored canonical
        text is hashed as it is, so a row changed, removed or added by anything but a pull
        shows."""
        conn = self._conn
        cutoff = order_cutoff(server_time, store_policy(conn).return_window_days)
        loaded, self._loaded_sums = self._loaded_sums, None  # used once at most
        if loaded is not None and loaded[0] == self._state_mark():
            # nothing written since the snapshot load hashed what it wrote (issue #9): the
            # same sums, without reading 100,000 documents back
            return {
                kind: hex_of(sum(t for b, t in buckets.items() if in_horizon(b, cutoff)))
                for kind, buckets in sorted(loaded[1].items())
            }
        sums: dict[str, int] = {}
        for (kind,) in conn.execute("SELECT DISTINCT kind FROM srv_docs").fetchall():
            if kind in UNCHECKED:
                continue
            found = conn.execute(
                """SELECT id, version, data,
                          CASE WHEN json_valid(data) THEN json_extract(data, '$.state') END,
                          CASE WHEN json_valid(data) THEN json_extract(data, '$.updated_at') END
                   FROM srv_docs WHERE kind = 'order'"""
                if kind == "order"
                else "SELECT id, version, data FROM srv_docs WHERE kind = ?",
                () if kind == "order" else (kind,),
            )
            if kind == "order":  # the orders past the horizon are not counted (sync/checksums.py)
                sums[kind] = sum_of(
                    kind,
                    (
                        (id_, version, str(data))
                        for id_, version, data, state, updated_at in found
                        if in_horizon(bucket_of(kind, state, updated_at), cutoff)
                    ),
                )
            else:
                sums[kind] = sum_of(kind, found)
        return {kind: hex_of(total) for kind, total in sorted(sums.items())}

    def reload_kinds(self, header: SnapshotHeader, changes: Iterable[Change]) -> None:
        """Replace this tablet's documents of `header.kinds` with a snapshot of those kinds,
        re-project them and rebase; one transaction. The outbox, the cursor and every other
        kind are kept (the next pull brings anything newer; an older version never
        overwrites a newer one)."""
        kinds = sorted(set(header.kinds or ()))
        if not kinds:
            return
        marks = ", ".join("?" * len(kinds))
        with self._write() as conn:
            before: dict[str, set[str]] = {k: set() for k in kinds}
            for kind, id_ in conn.execute(
                f"SELECT kind, id FROM srv_docs WHERE kind IN ({marks})", kinds
            ):
                before[kind].add(id_)
            conn.execute(f"DELETE FROM srv_docs WHERE kind IN ({marks})", kinds)
            after: dict[str, set[str]] = {k: set() for k in kinds}
            for change in changes:
                if change.kind not in after:
                    continue  # not asked for: a central that ignored `kinds` sends all
                version, data = admit_change(change)
                upsert_doc(conn, change.kind, change.id, version, change.op, data)
                after[change.kind].add(change.id)
            touched = {k: before[k] | after[k] for k in kinds}
            for kind, project in PROJECT.items():
                for id_ in sorted(touched.get(kind, ())):
                    project(conn, id_, doc(conn, kind, id_))
            rebase(
                conn,
                (),
                touched.get("task", ()),
                everything=bool({"store", "order", "return", "count"} & set(kinds)),
            )

    def record_sync(
        self,
        *,
        at: datetime,
        ok: bool,
        error: str | None = None,
        server_time: datetime | None = None,
    ) -> None:
        """Remember the last pass for the status chip (and the clock offset)."""
        with self._write() as conn:
            conn.execute(
                """UPDATE sync_state SET last_sync_at = :at,
                       last_ok_at = CASE WHEN :ok THEN :at ELSE last_ok_at END,
                       last_error = CASE WHEN :ok THEN NULL ELSE :error END,
                       server_time = coalesce(:server_time, server_time),
                       clock_offset_s = coalesce(:offset, clock_offset_s)
                   WHERE id = 1""",
                {
                    "at": to_iso(at),
                    "ok": ok,
                    "error": error or ("Sync failed" if not ok else None),
                    "server_time": to_iso(server_time) if server_time else None,
                    "offset": (server_time - at).total_seconds() if server_time else None,
                },
            )
