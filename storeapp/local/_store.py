"""`LocalStore`: the tablet's SQLite file (sqlite-utils, WAL, strict tables).

One instance per thread (each has its own connection). Every write is one
`BEGIN IMMEDIATE` transaction, so the next `seq` is read and written under the
write lock and two threads never take the same one.

Implements `sync.replica.Replica` for the sync engine, plus what the
view-models need: `act` (the one transaction that writes a local effect and
its outbox op), reads of the projections, PIN check, attention list.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlite_utils import Database

from fulfillment.codes import Code
from fulfillment.model import Order, Policy, Role
from fulfillment.outcome import Context, Status
from fulfillment.picking import ORDER_OPS, apply_order_op
from fulfillment.returns import Return, override
from fulfillment.tasks import OPEN_TASK_STATES, close_task, settle_exception
from sync.protocol import (
    PAYLOADS,
    Change,
    EnrollResponse,
    OpResult,
    PullResponse,
    SnapshotHeader,
    may_perform,
)
from sync.replica import Identity, PendingSummary

from . import _projection as proj
from ._files import private_file
from ._reads import Reads, count_record
from ._records import (
    ActResult,
    CountRecord,
    SyncState,
    from_iso,
    to_iso,
)
from ._schema import PROJECTION_TABLES, create_srv_docs, migrate
from ._secrets import TokenStore, token_store
from ._signin import PinGuard

__all__ = ["LocalStore", "LocalStoreError"]

_ATTENTION = ("rejected", "compensated")


class LocalStoreError(Exception):
    """A misuse of the local store (not an ordinary situation such as a refused claim)."""


class _Refused(Exception):
    """Rolls back an all-or-nothing gesture (`LocalStore.act_as`)."""

    def __init__(self, result: ActResult) -> None:
        super().__init__(result.message)
        self.result = result


# Every op type `_act_one` writes a local effect for; any other is refused before it is queued.
LOCAL_OPS = (
    ORDER_OPS
    | proj.RETURN_OPS
    | proj.COUNT_OPS
    | frozenset({"stock.adjust", "exception.resolve", "task.done"})
)


def _unknown_op(op_type: str) -> ActResult:
    shown = op_type if len(op_type) <= 40 else op_type[:39] + "…"
    return ActResult(
        "rejected",
        False,
        Code.INVALID_OP,
        f"This tablet does not know the action {shown!r}: nothing was saved",
    )


def _not_saved(cause: ActResult) -> ActResult:
    return ActResult("rejected", False, Code.NOT_SAVED, cause.message)


def _field_sentence(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "input"
    return f"{where.replace('_', ' ')}: {first['msg']}"


class LocalStore(Reads, PinGuard):
    """The tablet's replica: server truth, projections, outbox, op log, sync state."""

    def __init__(
        self, path: str | Path, *, screen: bool = False, tokens: TokenStore | None = None
    ) -> None:
        """Open (and migrate) the file. One instance per thread.

        `screen=True` for the connection the screens act on: it leaves WAL
        checkpoints (each one fsyncs the file, ~20 ms) to the sync engine's
        connection, so that no scan waits for one; it still checkpoints itself
        if the WAL grows past 20,000 pages (the engine never ran).

        The file (and its -wal, -shm) is created owner-only (0600). The device token
        lives in `tokens` (the OS keyring or `<data dir>/device-token`, see `_secrets`),
        never in the database: one an older version stored there is moved out.
        """
        self.path = Path(path)
        private_file(self.path)
        for side in ("-wal", "-shm"):  # SQLite makes them with the database's mode
            if self.path.with_name(self.path.name + side).exists():
                private_file(self.path.with_name(self.path.name + side))
        self._tokens = tokens if tokens is not None else token_store(self.path)
        self.db = Database(self.path, strict=True)
        self._conn: sqlite3.Connection = self.db.conn
        self._conn.execute("PRAGMA busy_timeout = 10000")
        self.db.enable_wal()
        self._conn.execute("PRAGMA synchronous = NORMAL")
        self._conn.execute(f"PRAGMA wal_autocheckpoint = {20000 if screen else 1000}")
        migrate(self.db)
        self._parsed: dict[str, tuple[str, Order]] = {}
        self._move_token_out()

    # --- lifecycle ---------------------------------------------------------------

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> LocalStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn
        if conn.in_transaction:
            raise LocalStoreError("a write transaction is already open on this connection")
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")

    # --- identity -------------------------------------------------------------------

    def enroll(self, response: EnrollResponse, server_url: str) -> None:
        """Save the identity central gave this device.

        Enrolling as another device restarts `seq` at 1 and pulls from scratch;
        that is refused while ops are waiting (they belong to the old device).
        """
        with self._write() as conn:
            device_id, store_id = conn.execute(
                "SELECT device_id, store_id FROM sync_state WHERE id = 1"
            ).fetchone()
            if device_id and device_id != response.device_id:
                if self._one("SELECT count(*) FROM outbox"):
                    raise LocalStoreError(
                        "ops are still waiting for the old device: sync them before re-enrolling"
                    )
                conn.execute(
                    """UPDATE sync_state SET next_seq = 1, cursor = NULL, last_applied_seq = 0,
                       pulled_version = 0 WHERE id = 1"""
                )
                conn.execute("DELETE FROM op_log")  # its seqs were the old device's
                if store_id != response.store_id:
                    proj.wipe_server_state(conn)
            self._tokens.set(response.token)  # checks passed; a failure here rolls back
            conn.execute(
                """UPDATE sync_state SET server_url = ?, device_id = ?, store_id = ?,
                   token = NULL WHERE id = 1""",
                (server_url.rstrip("/"), response.device_id, response.store_id),
            )

    def identity(self) -> Identity | None:
        row = self._conn.execute(
            "SELECT server_url, device_id, store_id FROM sync_state WHERE id = 1"
        ).fetchone()
        if not row or not row[1]:
            return None
        # no token (its file removed): central answers 401 and the tablet asks to enroll
        token = self._tokens.get() or ""
        return Identity(server_url=row[0], device_id=row[1], store_id=row[2], token=token)

    @property
    def token_location(self) -> str:
        """Where the device token is kept: "keyring" or the token file's path."""
        return self._tokens.where

    def _move_token_out(self) -> None:
        """Move a token an older version kept in `sync_state` to the token store, and
        overwrite it in the file (secure_delete, then a WAL checkpoint that truncates)."""
        token = self._one("SELECT token FROM sync_state WHERE id = 1")
        if not token:
            return
        if self._tokens.get() != token:
            self._tokens.set(token)
        self._conn.execute("PRAGMA secure_delete = ON")
        try:
            with self._write() as conn:
                conn.execute("UPDATE sync_state SET token = NULL WHERE id = 1")
        finally:
            self._conn.execute("PRAGMA secure_delete = OFF")
        self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def sync_state(self) -> SyncState:
        r = self._conn.execute(
            """SELECT server_url, device_id, store_id, next_seq, cursor, last_applied_seq,
                      pulled_version, last_sync_at, last_ok_at, last_error, server_time,
                      clock_offset_s
               FROM sync_state WHERE id = 1"""
        ).fetchone()
        return SyncState(
            server_url=r[0],
            device_id=r[1],
            store_id=r[2],
            next_seq=r[3],
            cursor=r[4],
            last_applied_seq=r[5],
            pulled_version=r[6],
            last_sync_at=from_iso(r[7]),
            last_ok_at=from_iso(r[8]),
            last_error=r[9],
            server_time=from_iso(r[10]),
            clock_offset_s=r[11],
        )

    # --- the one local write ----------------------------------------------------------

    def act(
        self, actor_id: str, op_type: str, payload: Mapping[str, Any] | BaseModel, now: datetime
    ) -> ActResult:
        """Write the local effect of one op and queue it, in one transaction.

        A refused intent (claim, release, stage, reject, assign, prioritize, ship,
        hand-over, a return override, or a role that may not do it) writes nothing and
        returns the reason. Facts (pick.scan, pick.unscan, pick.short, count.record) are
        always queued; so is a received return with anything returnable in it. An op type
        this tablet has no local effect for is refused (`INVALID_OP`) and nothing is written.
        """
        return self.act_many(actor_id, [(op_type, payload)], now)[0]

    def act_many(
        self,
        actor_id: str,
        ops: Sequence[tuple[str, Mapping[str, Any] | BaseModel]],
        now: datetime,
    ) -> list[ActResult]:
        """Several ops of one gesture (a scan split across totes) in one transaction.

        Each op is decided on its own: a refused intent among them is not queued.
        """
        return self.act_as([(actor_id, op_type, payload) for op_type, payload in ops], now)

    def act_as(
        self,
        steps: Sequence[tuple[str, str, Mapping[str, Any] | BaseModel]],
        now: datetime,
        *,
        all_or_nothing: bool = False,
    ) -> list[ActResult]:
        """Ops of one gesture, each `(actor_id, op_type, payload)` with its own actor (a
        return received by an associate and the manager's override of it), in seq order,
        in one transaction.

        Each op is decided on its own (and sees the effect of the ones before it). With
        `all_or_nothing`, one refused op writes nothing at all: the others come back
        refused too (code `NOT_SAVED`) with the first refusal's sentence.
        """
        checked: list[tuple[str, str, dict[str, Any] | ActResult]] = []
        for actor_id, op_type, payload in steps:
            model = PAYLOADS.get(op_type)
            if model is None or op_type not in LOCAL_OPS:
                checked.append((actor_id, op_type, _unknown_op(op_type)))
                continue
            raw = payload.model_dump(mode="json") if isinstance(payload, BaseModel) else payload
            try:
                body: dict[str, Any] | ActResult = model.model_validate(raw).model_dump(mode="json")
            except ValidationError as exc:
                body = ActResult("rejected", False, Code.INVALID_INPUT, _field_sentence(exc))
            checked.append((actor_id, op_type, body))
        if all_or_nothing:
            bad = next((b for _, _, b in checked if isinstance(b, ActResult)), None)
            if bad is not None:
                return [b if isinstance(b, ActResult) else _not_saved(bad) for _, _, b in checked]
        results: list[ActResult] = []
        try:
            with self._write() as conn:
                staff = proj.staff_index(conn)
                policy: Policy | None = None
                for actor_id, op_type, body in checked:
                    if isinstance(body, ActResult):
                        results.append(body)
                        continue
                    if policy is None and (
                        op_type in ORDER_OPS
                        or op_type in proj.RETURN_OPS
                        or op_type in proj.COUNT_OPS
                    ):
                        policy = proj.store_policy(conn)
                    got = self._act_one(conn, actor_id, op_type, body, now, policy, staff)
                    results.append(got)
                    if all_or_nothing and not got.queued:
                        raise _Refused(got)
        except _Refused as refused:  # rolled back: nothing of the gesture was written
            first, done = refused.result, len(results)
            after = len(checked) - done
            return [_not_saved(first)] * (done - 1) + [first] + [_not_saved(first)] * after
        return results

    def _act_one(
        self,
        conn: sqlite3.Connection,
        actor_id: str,
        op_type: str,
        payload: dict[str, Any],
        now: datetime,
        policy: Policy | None,
        staff: dict[str, tuple[str, str]],
    ) -> ActResult:
        role = staff.get(actor_id, ("", Role.ASSOCIATE.value))[1]
        if not may_perform(role, op_type):
            return ActResult("rejected", False, Code.FORBIDDEN, "Only a manager can do this")
        status, code, message = Status.APPLIED.value, None, None
        order: Order | None = None
        ret: Return | None = None
        followups: tuple[Any, ...] = ()
        count: CountRecord | None = None
        if op_type in ORDER_OPS:
            assert policy is not None
            order_id = payload["order_id"]
            row = conn.execute(
                "SELECT data, pending FROM orders WHERE order_id = ?", (order_id,)
            ).fetchone()
            if row is None:
                if op_type not in proj.ORDER_FACTS:
                    return ActResult(
                        "rejected",
                        False,
                        Code.UNKNOWN_ORDER,
                        f"Order {order_id} is not on this tablet",
                    )
                status, code = Status.COMPENSATED.value, Code.UNKNOWN_ORDER
                message = f"Order {order_id} is not on this tablet yet: saved for central to check"
            else:
                ctx = proj.context_for(
                    actor_id, now, policy, staff, timezone=proj.store_timezone(conn)
                )
                outcome = apply_order_op(self._order_from(order_id, row[0]), op_type, payload, ctx)
                status, code, message = outcome.status.value, outcome.code, outcome.message
                followups = outcome.followups
                if outcome.status is Status.REJECTED and op_type not in proj.ORDER_FACTS:
                    return ActResult(status, False, code, message, order=outcome.order)
                order = outcome.order
                conn.execute(proj.UPSERT_ORDER, proj.order_row(order, row[1] + 1))
        elif op_type in proj.RETURN_OPS:
            assert policy is not None
            ctx = proj.context_for(actor_id, now, policy, staff, timezone=proj.store_timezone(conn))
            if op_type == "return.receive":
                done = self._receive_return(conn, payload, ctx)
            else:
                done = self._override_return(conn, payload, ctx)
            if not done.queued:
                return done
            status, code, message, ret = done.status, done.code, done.message, done.ret
            order = done.order
        elif op_type in proj.COUNT_OPS:
            assert policy is not None
            ctx = proj.context_for(actor_id, now, policy, staff, timezone=proj.store_timezone(conn))
            done = self._act_count(conn, op_type, payload, ctx, staff)
            if not done.queued:
                return done
            status, code, message, count = done.status, done.code, done.message, done.count
        elif op_type == "stock.adjust":
            if not self._one("SELECT 1 FROM items WHERE sku = ?", (payload["sku"],)):
                return ActResult(
                    "rejected",
                    False,
                    Code.UNKNOWN_ITEM,
                    f"{payload['sku']} is not an item of this store",
                )
        elif op_type == "exception.resolve":
            doc = proj.doc(conn, "exception", payload["exception_id"])
            decision = settle_exception(
                payload["exception_id"], None if doc is None else doc.get("state", "open")
            )
            if not decision.changes:
                return ActResult(decision.status.value, False, decision.code, decision.message)
        elif op_type == "task.done":
            state = self._one("SELECT state FROM tasks WHERE task_id = ?", (payload["task_id"],))
            decision = close_task(payload["task_id"], state)
            if decision.status is Status.REJECTED:
                return ActResult(decision.status.value, False, decision.code, decision.message)
            status, code, message = decision.status.value, decision.code, decision.message
            if decision.changes:
                conn.execute(
                    "UPDATE tasks SET state = 'done' WHERE task_id = ?", (payload["task_id"],)
                )
        else:  # never queue an op this tablet has no local effect for
            return _unknown_op(op_type)
        seq, base_seq = conn.execute(
            "SELECT next_seq, pulled_version FROM sync_state WHERE id = 1"
        ).fetchone()
        op_id = str(uuid.uuid4())
        at = to_iso(now)
        conn.execute(
            """INSERT INTO outbox
               (seq, op_id, type, type_v, actor_id, payload, occurred_at, base_seq, created_at)
               VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?)""",
            (
                seq,
                op_id,
                op_type,
                actor_id,
                json.dumps(payload, separators=(",", ":")),
                at,
                base_seq,
                at,
            ),
        )
        conn.execute("UPDATE sync_state SET next_seq = ? WHERE id = 1", (seq + 1,))
        return ActResult(status, True, code, message, seq, op_id, order, followups, ret, count)

    def _act_count(
        self,
        conn: sqlite3.Connection,
        op_type: str,
        payload: dict[str, Any],
        ctx: Context,
        staff: dict[str, tuple[str, str]],
    ) -> ActResult:
        """The local effect of a count op. `count.record` is a fact: a pending count (no
        book) and its task shown done. A decision is an intent: refused (nothing queued)
        when the count is not waiting or was made by the same person."""
        count_id = payload["count_id"]
        row = conn.execute(
            "SELECT data, pending FROM counts WHERE count_id = ?", (count_id,)
        ).fetchone()
        if op_type == "count.record":
            if row is not None:
                return ActResult(
                    "rejected", False, Code.DUPLICATE_COUNT, f"Count {count_id} is already recorded"
                )
            data = proj.submitted_count(conn, payload, ctx.actor_id, staff)
            conn.execute(proj.UPSERT_COUNT, proj.count_row(data, 1))
            if payload.get("task_id"):
                states = sorted(OPEN_TASK_STATES)
                conn.execute(
                    f"""UPDATE tasks SET state = 'done' WHERE task_id = ?
                        AND state IN ({", ".join("?" * len(states))})""",
                    (payload["task_id"], *states),
                )
            return ActResult("applied", True, count=count_record(data, True))
        if row is None:
            return ActResult(
                "rejected", False, Code.UNKNOWN_COUNT, f"Count {count_id} is not on this tablet"
            )
        outcome = proj.decide_count(json.loads(row[0]), op_type, ctx)
        if outcome.count is None:
            return ActResult(outcome.status.value, False, outcome.code, outcome.message)
        data = outcome.count.model_dump(mode="json")
        conn.execute(proj.UPSERT_COUNT, proj.count_row(data, row[1] + 1))
        return ActResult(
            outcome.status.value,
            True,
            outcome.code,
            outcome.message,
            count=count_record(data, True),
        )

    def _receive_return(
        self, conn: sqlite3.Connection, payload: dict[str, Any], ctx: Context
    ) -> ActResult:
        """The local effect of `return.receive`: the order's lines count the returned units
        and the return is listed. A fact: only a return with nothing returnable in it (every
        unit refused) is not queued."""
        return_id = payload["return_id"]
        if self._one("SELECT 1 FROM returns WHERE return_id = ?", (return_id,)):
            return ActResult(
                "rejected", False, Code.DUPLICATE_RETURN, f"Return {return_id} is already recorded"
            )
        order: Order | None = None
        pending = 0
        order_id = payload.get("order_id")
        if order_id:
            row = conn.execute(
                "SELECT data, pending FROM orders WHERE order_id = ?", (order_id,)
            ).fetchone()
            if row is not None:
                order, pending = self._order_from(order_id, row[0]), row[1]
        if order is None and not all(w.get("sku") for w in payload["lines"]):
            return ActResult(
                "rejected",
                False,
                Code.UNKNOWN_ORDER,
                f"Order {order_id} is not on this tablet: scan each item to return it",
            )
        outcome = proj.receive_return(conn, order, payload, ctx)
        if outcome.ret is None:
            return ActResult(
                outcome.status.value, False, outcome.code, outcome.message or "Nothing to return"
            )
        if outcome.order is not None:
            conn.execute(proj.UPSERT_ORDER, proj.order_row(outcome.order, pending + 1))
        conn.execute(proj.UPSERT_RETURN, proj.return_row(outcome.ret, 1))
        return ActResult(
            outcome.status.value,
            True,
            outcome.code,
            outcome.message,
            order=outcome.order,
            ret=outcome.ret,
        )

    def _override_return(
        self, conn: sqlite3.Connection, payload: dict[str, Any], ctx: Context
    ) -> ActResult:
        """A manager's override of a return outside policy; refused: nothing queued."""
        return_id = payload["return_id"]
        row = conn.execute(
            "SELECT data, pending FROM returns WHERE return_id = ?", (return_id,)
        ).fetchone()
        if row is None:
            return ActResult(
                "rejected", False, Code.UNKNOWN_RETURN, f"Return {return_id} is not on this tablet"
            )
        outcome = override(Return.model_validate_json(row[0]), payload["reason"], ctx)
        if outcome.ret is None:
            return ActResult(outcome.status.value, False, outcome.code, outcome.message)
        conn.execute(proj.UPSERT_RETURN, proj.return_row(outcome.ret, row[1] + 1))
        return ActResult(outcome.status.value, True, outcome.code, outcome.message, ret=outcome.ret)

    # --- Replica: push side ------------------------------------------------------------

    def pending(self, limit: int, after_seq: int = 0) -> list[dict[str, Any]]:
        """Outbox envelopes (JSON-ready dicts) in seq order, oldest first; only those with
        `seq > after_seq` (the sync engine reads the next batch while one is still in flight)."""
        device_id = self._one("SELECT device_id FROM sync_state WHERE id = 1")
        rows = self._conn.execute(
            """SELECT op_id, seq, actor_id, type, type_v, payload, occurred_at, base_seq
               FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?""",
            (after_seq, limit),
        ).fetchall()
        return [
            {
                "op_id": r[0],
                "device_id": device_id,
                "seq": r[1],
                "actor_id": r[2],
                "type": r[3],
                "type_v": r[4],
                "payload": json.loads(r[5]),
                "occurred_at": r[6],
                "base_seq": r[7],
            }
            for r in rows
        ]

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
        with self._write() as conn:  # set-based: a 500-op batch is four statements
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
                   FROM outbox o JOIN acks a ON a.op_id = o.op_id""",
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
        with self._write() as conn:
            if page.reset is not None:
                proj.wipe_server_state(conn)
                conn.execute("UPDATE sync_state SET pulled_version = 0 WHERE id = 1")
            changed: dict[str, set[str]] = {}
            top = 0
            for change in page.changes:
                version, data = proj.admit_change(change)
                proj.upsert_doc(conn, change.kind, change.id, version, change.op, data)
                changed.setdefault(change.kind, set()).add(change.id)
                top = max(top, version)
            for kind in ("staff", "item", "stock"):
                proj.project(conn, kind, changed.get(kind, ()))
            conn.execute(
                """UPDATE sync_state SET cursor = ?, last_applied_seq = ?,
                   pulled_version = max(pulled_version, ?) WHERE id = 1""",
                (page.cursor, page.last_applied_seq, top),
            )
            proj.rebase(
                conn,
                changed.get("order", ()),
                changed.get("task", ()),
                return_ids=changed.get("return", ()),
                count_ids=changed.get("count", ()),
                everything="store" in changed,  # a policy change can change any fold
            )

    def load_snapshot(self, header: SnapshotHeader, changes: Iterable[Change]) -> None:
        """Replace all server state with a snapshot, keeping the outbox, and rebase.

        Documents go into a shadow table first (the screens keep reading the old
        state); one transaction then swaps it in and rebuilds the projections.
        """
        shadow = "srv_docs_shadow"
        self.db.execute(f"DROP TABLE IF EXISTS {shadow}")
        create_srv_docs(self.db, shadow)
        top = 0
        batch: list[Change] = []

        def flush() -> None:
            with self._write() as conn:
                for c in batch:
                    version, data = proj.admit_change(c)
                    proj.upsert_doc(conn, c.kind, c.id, version, c.op, data, table=shadow)
                    nonlocal top
                    top = max(top, version)
            batch.clear()

        for change in changes:
            batch.append(change)
            if len(batch) >= 1000:
                flush()
        flush()
        with self._write() as conn:
            conn.execute("DROP TABLE srv_docs")
            conn.execute(f"ALTER TABLE {shadow} RENAME TO srv_docs")
            for table in PROJECTION_TABLES:
                conn.execute(f"DELETE FROM {table}")
            for kind in ("staff", "item", "stock"):
                ids = [
                    r[0] for r in conn.execute("SELECT id FROM srv_docs WHERE kind = ?", (kind,))
                ]
                proj.project(conn, kind, ids)
            tasks = [r[0] for r in conn.execute("SELECT id FROM srv_docs WHERE kind = 'task'")]
            conn.execute(
                """UPDATE sync_state SET cursor = ?, last_applied_seq = ?, pulled_version = ?
                   WHERE id = 1""",
                (header.cursor, header.last_applied_seq, top),
            )
            proj.rebase(conn, (), tasks, everything=True)

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

    # --- the one write the attention list makes ---------------------------------------

    def mark_seen(self, seqs: Iterable[int] | None = None) -> None:
        """Take ops off the attention list (all of them when `seqs` is None)."""
        with self._write() as conn:
            if seqs is None:
                conn.execute("UPDATE op_log SET seen = 1 WHERE seen = 0")
            else:
                conn.executemany("UPDATE op_log SET seen = 1 WHERE seq = ?", [(s,) for s in seqs])
