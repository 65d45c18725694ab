"""`LocalStore`: the tablet's SQLite file (sqlite-utils, WAL, strict tables).

One instance per thread (each has its own connection). Every write is one
`BEGIN IMMEDIATE` transaction, so the next `seq` is read and written under the
write lock and two threads never take the same one.

Implements `sync.replica.Replica` for the sync engine (`identity` here, the rest in
`_replica.ReplicaSide`), plus what the view-models need: `act` (the one transaction that
writes a local effect and its outbox op, through the op's catalogue entry and its
document kind's apply step, `_kinds.KINDS`), the reads of `_reads.Reads`, the PIN check
of `_signin.PinGuard`, and marking the attention list seen.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlite_utils import Database

from fulfillment.codes import Code
from fulfillment.model import Order, Policy, Role
from sync.protocol import ADDED_OPTIONAL, OPS, EnrollResponse, OpSpec
from sync.replica import Identity, Replica

from ._docs import Acting, Staff, staff_index, store_policy, wipe_server_state
from ._files import private_file
from ._kinds import KINDS
from ._plans import PlanReads
from ._reads import Reads
from ._records import ActResult, SyncState, from_iso, row, to_iso
from ._replica import ReplicaSide
from ._schema import migrate
from ._secrets import TokenStore, token_store
from ._signin import PinGuard

__all__ = ["LocalStore", "LocalStoreError"]


class LocalStoreError(Exception):
    """A misuse of the local store (not an ordinary situation such as a refused claim)."""


class _Refused(Exception):
    """Rolls back an all-or-nothing gesture (`LocalStore.act_as`)."""

    def __init__(self, result: ActResult) -> None:
        super().__init__(result.message)
        self.result = result


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


class LocalStore(Reads, PlanReads, PinGuard, ReplicaSide):
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
                    wipe_server_state(conn)
            self._tokens.set(response.token)  # checks passed; a failure here rolls back
            conn.execute(
                """UPDATE sync_state SET server_url = ?, device_id = ?, store_id = ?,
                   token = NULL WHERE id = 1""",
                (server_url.rstrip("/"), response.device_id, response.store_id),
            )

    def identity(self) -> Identity | None:
        found = row(
            self._conn, "SELECT server_url, device_id, store_id FROM sync_state WHERE id = 1"
        )
        if not found or not found["device_id"]:
            return None
        # no token (its file removed): central answers 401 and the tablet asks to enroll
        token = self._tokens.get() or ""
        return Identity(
            server_url=found["server_url"],
            device_id=found["device_id"],
            store_id=found["store_id"],
            token=token,
        )

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
        r = row(
            self._conn,
            """SELECT server_url, device_id, store_id, next_seq, cursor, last_applied_seq,
                      pulled_version, last_sync_at, last_ok_at, last_error, server_time,
                      clock_offset_s
               FROM sync_state WHERE id = 1""",
        )
        assert r is not None  # the schema makes the one row
        return SyncState(
            server_url=r["server_url"],
            device_id=r["device_id"],
            store_id=r["store_id"],
            next_seq=r["next_seq"],
            cursor=r["cursor"],
            last_applied_seq=r["last_applied_seq"],
            pulled_version=r["pulled_version"],
            last_sync_at=from_iso(r["last_sync_at"]),
            last_ok_at=from_iso(r["last_ok_at"]),
            last_error=r["last_error"],
            server_time=from_iso(r["server_time"]),
            clock_offset_s=r["clock_offset_s"],
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
        checked: list[tuple[str, OpSpec | None, dict[str, Any] | ActResult]] = []
        for actor_id, op_type, payload in steps:
            spec = OPS.get(op_type)
            if spec is None:  # never queue an op this tablet has no local effect for
                checked.append((actor_id, None, _unknown_op(op_type)))
                continue
            raw = payload.model_dump(mode="json") if isinstance(payload, BaseModel) else payload
            try:
                body: dict[str, Any] | ActResult = spec.payload.model_validate(raw).model_dump(
                    mode="json"
                )
            except ValidationError as exc:
                body = ActResult("rejected", False, Code.INVALID_INPUT, _field_sentence(exc))
            if isinstance(body, dict):
                for name in ADDED_OPTIONAL.get(op_type, ()):
                    if body.get(name) is None:
                        body.pop(name, None)
            checked.append((actor_id, spec, body))
        if all_or_nothing:
            bad = next((b for _, _, b in checked if isinstance(b, ActResult)), None)
            if bad is not None:
                return [b if isinstance(b, ActResult) else _not_saved(bad) for _, _, b in checked]
        results: list[ActResult] = []
        try:
            with self._write() as conn:
                staff = staff_index(conn)
                policy: Policy | None = None
                for actor_id, spec, body in checked:
                    if isinstance(body, ActResult):
                        results.append(body)
                        continue
                    assert spec is not None  # an unknown type was refused above
                    if policy is None and KINDS[spec.document].needs_policy:
                        policy = store_policy(conn)
                    got = self._act_one(conn, actor_id, spec, body, now, policy, staff)
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
        spec: OpSpec,
        payload: dict[str, Any],
        now: datetime,
        policy: Policy | None,
        staff: Staff,
    ) -> ActResult:
        """One op through its catalogue entry: the role check, its document kind's apply
        step (`_kinds.KINDS`), then — unless the step refused it — the outbox."""
        role = staff.get(actor_id, ("", Role.ASSOCIATE.value))[1]
        if not spec.may_perform(role):
            return ActResult("rejected", False, Code.FORBIDDEN, "Only a manager can do this")
        acting = Acting(conn, spec, actor_id, payload, now, staff, policy, self._order_from)
        done = KINDS[spec.document].apply(acting)
        if not done.queued:
            return done
        seq, op_id = self._queue(conn, spec, actor_id, payload, now)
        return replace(done, seq=seq, op_id=op_id)

    def _queue(
        self,
        conn: sqlite3.Connection,
        spec: OpSpec,
        actor_id: str,
        payload: dict[str, Any],
        now: datetime,
    ) -> tuple[int, str]:
        """Put the op in the outbox with the next seq; its (seq, op_id)."""
        state = row(conn, "SELECT next_seq, pulled_version FROM sync_state WHERE id = 1")
        assert state is not None
        seq, op_id, at = state["next_seq"], str(uuid.uuid4()), to_iso(now)
        conn.execute(
            """INSERT INTO outbox
               (seq, op_id, type, type_v, actor_id, payload, occurred_at, base_seq, created_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                seq,
                op_id,
                spec.name,
                spec.version,
                actor_id,
                json.dumps(payload, separators=(",", ":")),
                at,
                state["pulled_version"],
                at,
            ),
        )
        conn.execute("UPDATE sync_state SET next_seq = ? WHERE id = 1", (seq + 1,))
        return seq, op_id

    # --- the one write the attention list makes ---------------------------------------

    def mark_seen(self, seqs: Iterable[int] | None = None) -> None:
        """Take ops off the attention list (all of them when `seqs` is None)."""
        with self._write() as conn:
            if seqs is None:
                conn.execute("UPDATE op_log SET seen = 1 WHERE seen = 0")
            else:
                conn.executemany("UPDATE op_log SET seen = 1 WHERE seq = ?", [(s,) for s in seqs])


def _is_a_replica(store: LocalStore) -> Replica:
    return store  # mypy checks here that LocalStore is what the sync engine asks for
