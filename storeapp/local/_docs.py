"""What every document kind's module reads: central's documents as pulled, the store's
policy, time zone and staff (the rules' `Context`), and the ops central has not applied yet.

All functions take an open connection inside a write transaction; none commits.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, TypeVar

import orjson
from pydantic import BaseModel, ValidationError

from fulfillment.model import Order, Policy, Role
from fulfillment.outcome import Context
from sync.checksums import canonical
from sync.protocol import OPS, Change, Document, OpSpec

from ._intake import INT_MAX, admit, safe_policy, safe_timezone
from ._records import from_iso

__all__ = [
    "Acting",
    "Pending",
    "Staff",
    "acts_on",
    "admit_change",
    "context_for",
    "doc",
    "dumps",
    "ops_on",
    "parsed_doc",
    "pending_ops",
    "pending_ops_on",
    "staff_index",
    "store_policy",
    "store_timezone",
    "upsert_doc",
    "wipe_server_state",
]

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)

Staff = dict[str, tuple[str, str]]  # employee_id -> (name, role)


def dumps(data: Any) -> str:
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
        (kind, id_, version, canonical(data)),  # the form the replica checksums hash
    )


def doc(conn: sqlite3.Connection, kind: str, id_: str) -> dict[str, Any] | None:
    """A server document as last pulled (None: not on this tablet)."""
    row = conn.execute(
        "SELECT data FROM srv_docs WHERE kind = ? AND id = ?", (kind, id_)
    ).fetchone()
    return json.loads(row[0]) if row else None


def parsed_doc(conn: sqlite3.Connection, kind: str, id_: str, model: type[M]) -> M | None:
    """Central's document of this kind and id, None when there is none or it does not parse."""
    data = doc(conn, kind, id_)
    if data is None:
        return None
    try:
        return model.model_validate(data)
    except ValidationError as exc:  # the fields only: a value may be a customer's
        fields = ",".join(".".join(map(str, e["loc"])) for e in exc.errors()[:12])
        log.warning("doc_unreadable kind=%s id=%.80r fields=%s; not shown", kind, id_, fields)
        return None


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


def staff_index(conn: sqlite3.Connection) -> Staff:
    return {r[0]: (r[1], r[2]) for r in conn.execute("SELECT employee_id, name, role FROM staff")}


def context_for(
    actor_id: str,
    now: datetime,
    policy: Policy,
    staff: Staff,
    timezone: str = "UTC",
) -> Context:
    _, role = staff.get(actor_id, ("", Role.ASSOCIATE.value))
    return Context.of(
        actor_id,
        now,
        role=role,
        policy=policy,
        staff_names={k: v[0] for k, v in staff.items()},
        timezone=timezone,
    )


# --- one op being applied ----------------------------------------------------------------


@dataclass(frozen=True)
class Acting:
    """One op as a kind's apply step gets it: inside the gesture's write transaction."""

    conn: sqlite3.Connection
    spec: OpSpec
    actor_id: str
    payload: dict[str, Any]
    now: datetime
    staff: Staff
    policy: Policy | None  # loaded when the document kind's rules need it
    parse_order: Callable[[str, str], Order]  # the store's parse cache (order_id, JSON)

    def context(self) -> Context:
        assert self.policy is not None, f"{self.spec.document} needs the policy"
        return context_for(
            self.actor_id,
            self.now,
            self.policy,
            self.staff,
            timezone=store_timezone(self.conn),
        )


# --- the ops central has not applied yet ---------------------------------------------------


class Pending(NamedTuple):
    seq: int
    type: str
    actor_id: str
    payload: dict[str, Any]
    occurred_at: datetime


_PENDING = """SELECT seq, type, actor_id, payload, occurred_at FROM outbox
   WHERE seq > (SELECT last_applied_seq FROM sync_state WHERE id = 1)"""


def pending_ops(conn: sqlite3.Connection, *, except_types: Collection[str] = ()) -> list[Pending]:
    """The ops central has not applied yet (seq > last_applied_seq), in seq order; without
    those of `except_types` (a settled rebase reads the ops of the orders it folds apart).

    Read on every pull (the rebase), so a draining tablet reads tens of thousands: tuples, not
    row dicts, and orjson for the payloads (the standard parser where orjson refuses one)."""
    if except_types:
        found = conn.execute(
            f"{_PENDING} AND type NOT IN (SELECT value FROM json_each(?)) ORDER BY seq",
            (dumps(sorted(except_types)),),
        ).fetchall()
    else:
        found = conn.execute(f"{_PENDING} ORDER BY seq").fetchall()
    return _pendings(found)


def pending_ops_on(
    conn: sqlite3.Connection, types: Collection[str], key: str, ids: Collection[str]
) -> list[Pending]:
    """The pending ops of `types` whose payload's `key` is one of `ids`, in seq order: what
    the folds of those documents read, picked out by SQLite (its JSON functions, no
    index: the outbox's inserts and deletes are the drain's) without decoding the other ops
    of a long outbox. A payload that is not JSON makes it read them all as `pending_ops`
    does (which fails on it, as before)."""
    assert key.isidentifier()
    try:
        found = conn.execute(
            f"""{_PENDING} AND type IN (SELECT value FROM json_each(?))
                AND json_extract(payload, '$.{key}') IN (SELECT value FROM json_each(?))
                ORDER BY seq""",
            (dumps(sorted(types)), dumps(sorted(ids))),
        ).fetchall()
    except sqlite3.OperationalError:  # malformed JSON
        return [p for p in pending_ops(conn) if p.type in types and p.payload.get(key) in ids]
    return _pendings(found)


def _pendings(found: list[Any]) -> list[Pending]:
    return [
        Pending(seq, type_, actor_id, _payload(payload), from_iso(occurred_at))  # type: ignore[arg-type]
        for seq, type_, actor_id, payload, occurred_at in found
    ]


def _payload(text: str) -> Any:
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:  # beyond orjson (an integer past 64 bits, NaN): as before
        return json.loads(text)


def acts_on(op_type: str, document: Document) -> bool:
    """Whether the catalogue says ops of `op_type` act on `document` (unknown types: no)."""
    spec = OPS.get(op_type)
    return spec is not None and spec.document is document


def ops_on(pending: list[Pending], document: Document, doc_id: str) -> list[Pending]:
    """The pending ops on one document of this kind (its id in the catalogue's `key`)."""
    return [
        p
        for p in pending
        if acts_on(p.type, document) and p.payload.get(OPS[p.type].key or "") == doc_id
    ]
