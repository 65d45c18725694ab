"""A store's replica checksums, kept as it changes (issue #12; the scheme: sync/checksums.py).

Each published document carries its hash and bucket in `sync_docs` (`digest`, `bucket`);
`replica_digests` holds, per store, kind and bucket, the sum of its live documents' hashes.
`account` runs inside the flush that publishes documents, under the store's lock: it reads
the hashes the documents had (`_published`: one query on PostgreSQL, one per kind and 500
ids on SQLite), and moves each sum by the difference (`_move`). A pull at the head reads the store's
few sum rows; nothing is rehashed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from sync.checksums import (
    OPEN,
    UNCHECKED,
    bucket_of,
    canonical,
    doc_hash,
    hex_of,
    in_horizon,
    order_cutoff,
    signed,
    unsigned,
)

from ..db.tables import replica_digests, sync_docs

__all__ = ["account", "checksums", "recompute", "withdraw"]

_CHUNK = 500


def account(
    conn: Connection,
    store_id: str,
    rows: list[dict[str, Any]],
    texts: Sequence[str] | None = None,
) -> bool:
    """Set each sync_docs row's `digest` and `bucket` (rows about to be upserted: store_id,
    kind, entity_id, version, data) and move the store's sums by what changed.

    `texts`: each row's `canonical(data)` when the caller has it already (it is what the
    flush writes, so a document is encoded once). True: none of the rows' documents has a
    `sync_docs` row yet, not even a tombstone (PostgreSQL only, where the lookup sees them
    all; False when not known), so the caller may INSERT them without ON CONFLICT."""
    if not rows:
        return False
    by_kind: dict[str, list[str]] = defaultdict(list)
    for n, row in enumerate(rows):
        kind, data = row["kind"], row["data"]
        text = canonical(data) if texts is None else texts[n]
        row["digest"] = signed(doc_hash(kind, row["entity_id"], row["version"], text))
        row["bucket"] = bucket_of(kind, data.get("state"), data.get("updated_at"))
        by_kind[kind].append(row["entity_id"])
    delta: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    groups, found = _published(conn, store_id, by_kind)
    for kind, bucket, digest, docs in groups:
        if docs:
            cell = delta[(kind, bucket or OPEN)]
            cell[0] -= digest
            cell[1] -= docs
    for row in rows:
        cell = delta[(row["kind"], row["bucket"])]
        cell[0] += unsigned(row["digest"])
        cell[1] += 1
    _move(conn, store_id, delta)
    return found == 0


def _published(
    conn: Connection, store_id: str, by_kind: Mapping[str, list[str]]
) -> tuple[Iterable[tuple[str, str | None, int, int]], int | None]:
    """What the documents (ids by kind) count for now: per kind and bucket, the sum of their
    hashes (any integer, taken mod 2**64) and how many there are; and how many rows they
    have in `sync_docs`, tombstones included (None on SQLite: not counted).

    PostgreSQL: one query, the kinds and ids two arrays, each document looked up by the
    primary key, summed there (a list of ids in `IN (…)` is compared row by row against the
    store's whole range when the planner has no statistics yet: a first load into a new
    store took 0.1-0.35 s a statement). The lookup is a LATERAL subquery kept apart
    (`OFFSET 0`): joined plainly, a new store's planner (no statistics: "1 row" of the kind)
    hashed every document of the kind each flush, so a load's flushes grew with the store's
    size. SQLite: a query per kind and 500 ids, each hash read (its sum would overflow
    there)."""
    if conn.dialect.name == "postgresql":
        kinds = [kind for kind, ids in by_kind.items() for _ in ids]
        ids = [i for found in by_kind.values() for i in found]
        found = conn.exec_driver_sql(
            "SELECT u.kind, s.bucket, coalesce(sum(s.digest), 0), count(s.digest), count(*) "
            "FROM unnest(%b::text[], %b::text[]) AS u(kind, id) "
            "CROSS JOIN LATERAL (SELECT d.bucket, d.digest FROM sync_docs d "
            "WHERE d.store_id = %s AND d.kind = u.kind AND d.entity_id = u.id OFFSET 0) AS s "
            "GROUP BY u.kind, s.bucket",
            (kinds, ids, store_id),
        ).all()
        groups = [(kind, bucket, int(total), int(docs)) for kind, bucket, total, docs, _ in found]
        return groups, sum(int(n) for *_, n in found)
    out: list[tuple[str, str | None, int, int]] = []
    for kind, ids in by_kind.items():
        for i in range(0, len(ids), _CHUNK):
            old = conn.execute(
                select(sync_docs.c.digest, sync_docs.c.bucket).where(
                    sync_docs.c.store_id == store_id,
                    sync_docs.c.kind == kind,
                    sync_docs.c.entity_id.in_(ids[i : i + _CHUNK]),
                    sync_docs.c.digest.is_not(None),
                )
            )
            out += [(kind, bucket, unsigned(digest), 1) for digest, bucket in old]
    return out, None


def withdraw(conn: Connection, store_id: str, gone: Iterable[tuple[str, str | None, int]]) -> None:
    """Take documents about to be deleted (kind, bucket, digest) out of the sums."""
    delta: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for kind, bucket, digest in gone:
        cell = delta[(kind, bucket or OPEN)]
        cell[0] -= unsigned(digest)
        cell[1] -= 1
    _move(conn, store_id, delta)


def _move(conn: Connection, store_id: str, delta: Mapping[tuple[str, str], list[int]]) -> None:
    """Move the store's sums (kind, bucket) by `delta` (hash sum, documents): on PostgreSQL
    one upsert that adds in the row (mod 2**64, in numeric: bigint would overflow); on SQLite
    the sums read and written (its integers turn to floats past 64 bits; no round trips)."""
    moved = {key: d for key, d in delta.items() if d[0] & ((1 << 64) - 1) or d[1]}
    if not moved:
        return
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(_PG_MOVE, _pg_moves(store_id, moved))
        return
    have = {
        (kind, bucket): (unsigned(digest), docs)
        for kind, bucket, digest, docs in conn.execute(
            select(
                replica_digests.c.kind,
                replica_digests.c.bucket,
                replica_digests.c.digest,
                replica_digests.c.docs,
            ).where(replica_digests.c.store_id == store_id)
        )
    }
    values = []
    for (kind, bucket), (dh, dn) in moved.items():
        h, n = have.get((kind, bucket), (0, 0))
        values.append(
            {
                "store_id": store_id,
                "kind": kind,
                "bucket": bucket,
                "digest": signed(h + dh),
                "docs": n + dn,
            }
        )
    stmt = sqlite_insert(replica_digests)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["store_id", "kind", "bucket"],
            set_={"digest": stmt.excluded.digest, "docs": stmt.excluded.docs},
        ),
        values,
    )


_M = 1 << 64
_SUM = (  # `%%`: the driver's `%`
    f"((replica_digests.digest::numeric + excluded.digest::numeric) %% {_M} + {_M}) %% {_M}"
)
# the sum stored as a signed bigint: (old + delta) mod 2**64, back to signed
_PG_MOVE = f"""
INSERT INTO replica_digests (store_id, kind, bucket, digest, docs)
SELECT %s, u.kind, u.bucket, u.digest, u.docs
FROM unnest(%b::text[], %b::text[], %b::bigint[], %b::bigint[]) AS u(kind, bucket, digest, docs)
ON CONFLICT (store_id, kind, bucket) DO UPDATE SET
  docs = replica_digests.docs + excluded.docs,
  digest = (CASE WHEN {_SUM} >= {1 << 63} THEN {_SUM} - {_M} ELSE {_SUM} END)::bigint
"""


def _pg_moves(store_id: str, moved: Mapping[tuple[str, str], list[int]]) -> tuple[Any, ...]:
    keys = list(moved)
    return (
        store_id,
        [kind for kind, _ in keys],
        [bucket for _, bucket in keys],
        [signed(moved[key][0]) for key in keys],
        [moved[key][1] for key in keys],
    )


def checksums(
    conn: Connection,
    store_id: str,
    server_time: datetime,
    return_window_days: int,
    kinds: Iterable[str] | None = None,
) -> dict[str, str]:
    """Per kind, the checksum of what a tablet should hold at `server_time` (hex)."""
    cutoff = order_cutoff(server_time, return_window_days)
    wanted = set(kinds) if kinds is not None else None
    sums: dict[str, int] = {}
    for kind, bucket, digest, docs in conn.execute(
        select(
            replica_digests.c.kind,
            replica_digests.c.bucket,
            replica_digests.c.digest,
            replica_digests.c.docs,
        ).where(replica_digests.c.store_id == store_id)
    ):
        if kind in UNCHECKED or (wanted is not None and kind not in wanted):
            continue
        sums.setdefault(kind, 0)
        if docs and in_horizon(bucket, cutoff):
            sums[kind] += unsigned(digest)
    return {kind: hex_of(total) for kind, total in sorted(sums.items())}


def recompute(
    conn: Connection, store_id: str, server_time: datetime, return_window_days: int
) -> dict[str, str]:
    """The same checksums hashed from scratch from the published documents (for tests and
    for a check by hand); kinds with no live document left are "0"."""
    cutoff = order_cutoff(server_time, return_window_days)
    sums: dict[str, int] = {
        kind: 0
        for (kind,) in conn.execute(
            select(replica_digests.c.kind).where(replica_digests.c.store_id == store_id)
        )
    }
    for kind, entity_id, version, data in conn.execute(
        select(
            sync_docs.c.kind, sync_docs.c.entity_id, sync_docs.c.version, sync_docs.c.data
        ).where(sync_docs.c.store_id == store_id, sync_docs.c.deleted.is_(False))
    ):
        bucket = bucket_of(kind, data.get("state"), data.get("updated_at"))
        sums.setdefault(kind, 0)
        if in_horizon(bucket, cutoff):
            sums[kind] += doc_hash(kind, entity_id, version, canonical(data))
    return {kind: hex_of(total) for kind, total in sorted(sums.items())}
