"""Applying a device's pushed ops (PROTOCOL.md, Push).

A request holds the store's lock (and so the device's ops apply in `seq` order), in one
transaction, or in several when it would hold the lock longer than `LOCK_BUDGET_S`
(`push`). Each op runs in its own savepoint: its ledger rows,
change-log rows, result and the device's `last_applied_seq` commit together.
A business refusal or a compensation still advances the queue; an unexpected
error rolls back that op's savepoint and stops the batch, and on the third
failure the op is quarantined (rejected `QUARANTINED`, kept in
`dead_letters`, shown to managers) so the queue moves on.

A push can never wedge a device: whatever one op carries ends in a result of
its own, and the batch goes on.

    op whose envelope, type, type_v or payload does not validate → rejected INVALID_OP
    op_id used before (earlier in the push, at another seq, by another device)
                                                         → rejected OP_ID_REUSED
    (the same op_id at the same seq)                     → duplicate: its stored result
    occurred_at outside the window (even year 1 or 9999) → clamped, CLOCK_SKEW
    an op raises, or the batch's rows break a database   → the push runs again op by op,
    rule when written                                      each in its own savepoint
    one op fails three times                             → QUARANTINED, with a result row
                                                           that cannot fail: bounded,
                                                           printable, ids only

Every string of a client's that reaches a refused op's result row, dead letter or
exception is printable and bounded (`_field`, `_words`); times stored are always
clamped ones; the device's clock offset is clamped to what its column holds.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from itertools import pairwise
from types import MappingProxyType
from typing import Any
from uuid import UUID

from pydantic import ValidationError
from sqlalchemy import Engine, select, update
from sqlalchemy.exc import OperationalError

from fulfillment.codes import Code
from fulfillment.model import Order, Role
from fulfillment.outcome import Context, Status
from sync.protocol import (
    OPS,
    Document,
    LooseEnvelope,
    OpResult,
    PushRequest,
    PushResponse,
    RawEnvelope,
    op_error,
    validate_payload,
)

from ..db.engine import reading
from ..db.tables import OP_ID_USED, dead_letters, devices, op_results, orders, staff
from .applying import Applying, ApplyStep, Said, clamp
from .count_docs import expect_counted_at
from .counts import apply_count
from .devices import DeviceRow, check_enrolled
from .documents import preload_documents
from .errors import CentralError, Conflict, Invalid
from .exceptions import apply_exception, open_exception
from .feed import StoreTx, store_tx
from .orders import apply_order
from .plans import apply_plan
from .receiving import apply_inbound
from .returns import apply_return
from .stock import apply_stock
from .tasks import apply_task
from .transfers import apply_transfer, deliver_shipped

__all__ = ["APPLY", "QUARANTINE_AFTER", "push"]

Envelope = RawEnvelope | LooseEnvelope

log = logging.getLogger("central.push")

QUARANTINE_AFTER = 3
# a push commits and takes the store's lock again after holding it this long (with ops left),
# so an OMS cancel or another tablet's op waits for a part of a long push, not all of it
# (CentralSettings.push_lock_budget_s)
LOCK_BUDGET_S = 0.05
OFFSET_LIMIT_S = 2**31 - 1  # what `devices.clock_offset_s` holds (a 32-bit integer)

_MARKS = re.compile(r"[\x00-\x1f\x7f]+")


def _words(text: str, limit: int = 500) -> str:
    """A sentence safe for any column: no NUL or other control character, at most `limit`."""
    text = _MARKS.sub(" ", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _field(value: Any, limit: int) -> str:
    """A client's id or type for a refused op's row: printable and at most `limit` characters;
    empty when it is not a string at all."""
    return _words(value, limit) if isinstance(value, str) else ""


def _clock_offset(device_time: datetime | None, now: datetime) -> int | None:
    """The device's clock minus ours, in seconds, within what the column holds."""
    if device_time is None:
        return None
    offset = int((device_time - now).total_seconds())
    return max(-OFFSET_LIMIT_S, min(OFFSET_LIMIT_S, offset))


def _stored_result(row: Any) -> OpResult:
    return OpResult(
        op_id=row.op_id,
        seq=row.seq,
        status="duplicate",
        original_status=row.status,
        code=row.code,
        message=row.message,
        followups=row.followups or [],
    )


class _PerPush:
    """What a push reads or works out once for all its ops: the store's staff (names, and
    roles of the active ones), and each distinct payload validated."""

    def __init__(self, tx: StoreTx) -> None:
        rows = tx.conn.execute(
            select(staff.c.employee_id, staff.c.name, staff.c.role, staff.c.active).where(
                staff.c.store_id == tx.store_id
            )
        ).all()
        self.names = {r.employee_id: r.name for r in rows}
        self.roles = {r.employee_id: Role(r.role) for r in rows if r.active}
        self.payloads = _Payloads()


def _result(raw: Envelope, said: Said) -> OpResult:
    """The op's result: what its step said (its sentence made safe for any column)."""
    return OpResult.model_validate(
        {
            "op_id": raw.op_id,
            "seq": raw.seq,
            "status": said.status,
            "code": said.code,
            "message": _words(said.message) if said.message else said.message,
            "followups": list(said.followups),
        }
    )


def _set_aside(
    tx: StoreTx, device: DeviceRow, raw: Envelope, code: str, message: str, attempts: int = 0
) -> None:
    """Keep a refused op's raw JSON in `dead_letters` and list it for managers."""
    _dead_letter(tx, device, raw, code, message, attempts)
    what = _field(raw.type, 40) or "A change"
    open_exception(
        tx,
        code,
        _words(f"{what} from {device.name} (#{raw.seq}) was set aside: {message}"),
        op_id=str(raw.op_id),
        device_id=device.device_id,
        actor_id=_field(raw.actor_id, 64) or None,
    )


def _earlier_use(
    device: DeviceRow, raw: Envelope, batch: dict[UUID, int], used: dict[str, Any]
) -> str:
    """Which op used this op's id before, in words ("" when none did). Another store's is
    named no further than that."""
    if raw.op_id in batch:
        return f"change #{batch[raw.op_id]} of this tablet"
    row = used.get(str(raw.op_id)) if used else None
    if row is None:
        return ""
    if row.device_id == device.device_id:
        return f"change #{row.seq} of this tablet"
    if row.store_id == device.store_id:
        return f"change #{row.seq} of another tablet ({row.device_id})"
    return "a change of another tablet"


def _used_op_ids(tx: StoreTx, ops: list[Envelope]) -> dict[str, Any]:
    """The stored results, of any device, that used these ops' ids (one query).

    Asked only when a push is written op by op: in a batch, an op_id used before makes the
    bulk write break `uq_op_results_used_op_id`, and the batch is written again op by op,
    this time asking first (an ordinary push pays nothing for it)."""
    if not ops:
        return {}
    r = op_results.c
    rows = tx.conn.execute(
        select(r.op_id, r.device_id, r.seq, r.store_id).where(
            r.op_id.in_([str(op.op_id) for op in ops]), OP_ID_USED
        )
    ).all()
    return {row.op_id: row for row in rows}


def _preload(tx: StoreTx, ops: list[Envelope]) -> None:
    """Read what the batch's ops will read, in one query each instead of one per op: the
    orders they name, and (asked only when something moves on-hand) the latest count of
    those orders' places. Kept in the transaction's memo until its next flush."""
    order_ids = []
    for raw in ops:
        if not isinstance(raw, RawEnvelope):
            continue
        spec = OPS.get(raw.type)
        if spec is not None and spec.document is Document.ORDER:
            order_id = raw.payload.get("order_id")
            # only what could be an id (the op's validation tells the rest, one by one): a
            # NUL would break the whole query on PostgreSQL
            if isinstance(order_id, str) and 0 < len(order_id) <= 64:
                if not _MARKS.search(order_id):
                    order_ids.append(order_id)
    if not order_ids:
        return
    found = preload_documents(tx, orders, orders.c.order_id, order_ids, Order)
    expect_counted_at(
        tx, {(line.sku, line.location) for order in found.values() for line in order.lines}
    )


def _answer(
    tx: StoreTx, device: DeviceRow, raw: Envelope, op_id: str, per_push: _PerPush, reused: str
) -> tuple[OpResult, datetime]:
    """One op's result and the time its result row keeps (the clamped `occurred_at`).
    `op_id`: the op's id as text."""
    if reused:
        message = f"Its op_id was already used by {reused}: this change was not applied"
        _set_aside(tx, device, raw, Code.OP_ID_REUSED, message)
        return _result(raw, Said(Status.REJECTED.value, Code.OP_ID_REUSED, message)), tx.now
    if isinstance(raw, LooseEnvelope):
        message = raw.problem()
        _set_aside(tx, device, raw, Code.INVALID_OP, message)
        return _result(raw, Said(Status.REJECTED.value, Code.INVALID_OP, message)), tx.now
    occurred_at, skewed = clamp(raw.occurred_at, device, tx.now)
    return _apply(tx, device, raw, op_id, per_push, occurred_at, skewed), occurred_at


APPLY: Mapping[Document, ApplyStep] = MappingProxyType(
    {
        Document.ORDER: apply_order,
        Document.RETURN: apply_return,
        Document.COUNT: apply_count,
        Document.STOCK: apply_stock,
        Document.EXCEPTION: apply_exception,
        Document.TASK: apply_task,
        Document.INBOUND: apply_inbound,
        Document.TRANSFER: apply_transfer,
        Document.COUNT_PLAN: apply_plan,
    }
)
"""The apply step of each document kind an op of the catalogue (`OPS`) acts on."""


class _Payloads:
    """The ops' payloads as validated, each distinct one once per push: a tablet's queue
    repeats the same payload over and over (one `pick.scan` per unit of a line), and
    validating it is a pure function of the op's type, version and values. A payload with
    a list or an object in it (not hashable) is validated on its own."""

    def __init__(self) -> None:
        self.seen: dict[Any, Any] = {}

    def get(self, raw: RawEnvelope) -> Any:
        try:
            # the values' types are in the key: 1, 1.0 and True are equal, not the same payload
            key = (raw.type, raw.type_v, *((k, v.__class__, v) for k, v in raw.payload.items()))
            found = self.seen.get(key)
        except TypeError:  # a list or an object among the values
            return validate_payload(raw)
        if found is None:
            found = self.seen[key] = validate_payload(raw)
        return found


def _apply(
    tx: StoreTx,
    device: DeviceRow,
    raw: RawEnvelope,
    op_id: str,
    per_push: _PerPush,
    occurred_at: datetime,
    skewed: bool,
) -> OpResult:
    """Apply one op through its catalogue entry, inside the caller's op scope."""
    spec = OPS.get(raw.type)
    try:
        payload = per_push.payloads.get(raw)
    except ValidationError as exc:
        message = op_error(exc)
        _set_aside(tx, device, raw, Code.INVALID_OP, message)
        return _result(raw, Said(Status.REJECTED.value, Code.INVALID_OP, message))
    assert spec is not None  # validate_payload knows only the catalogue's types
    role = per_push.roles.get(raw.actor_id)
    if role is None:
        said = Said(
            Status.REJECTED.value,
            Code.FORBIDDEN,
            f"{raw.actor_id} is not active staff of this store",
        )
    elif not spec.may_perform(role):
        said = Said(Status.REJECTED.value, Code.FORBIDDEN, f"Only a manager may do {spec.name}")
    else:
        # what `Context.of` makes, its role already a `Role` (`_PerPush.roles`)
        ctx = Context(raw.actor_id, occurred_at, role, tx.policy, per_push.names, tx.timezone)
        op = Applying(op_id, spec.name, payload, ctx, device, occurred_at)
        said = APPLY[spec.document](tx, op)
        if (skewed or said.skewed) and said.code is None:
            said = replace(said, code=Code.CLOCK_SKEW)
    return _result(raw, said)


def _raw_json(raw: Envelope, minimal: bool = False) -> dict[str, Any]:
    """What a dead letter keeps of an op: its JSON, or (when even that could not be written)
    the ids alone."""
    if minimal:
        return {"op_id": str(raw.op_id), "seq": raw.seq, "type": _field(raw.type, 40)}
    return raw.model_dump(mode="json")


def _dead_letter(
    tx: StoreTx,
    device: DeviceRow,
    raw: Envelope,
    code: str,
    message: str,
    attempts: int = 0,
    *,
    minimal: bool = False,
) -> None:
    tx.staged.dead_letters[(device.device_id, raw.seq)] = {
        "store_id": tx.store_id,
        "device_id": device.device_id,
        "seq": raw.seq,
        "op_id": str(raw.op_id),
        "created_at": tx.now,
        "code": code,
        "message": _words(message),
        "attempts": attempts,
        "raw": _raw_json(raw, minimal),
    }


def _failures(engine: Engine, device_id: str, seq: int) -> int:
    with reading(engine) as conn:
        value = conn.execute(
            select(dead_letters.c.attempts).where(
                dead_letters.c.device_id == device_id, dead_letters.c.seq == seq
            )
        ).scalar()
    return int(value or 0)


def _record_failure(
    engine: Engine, store_id: str, device: DeviceRow, raw: Envelope, exc: Exception
) -> int:
    attempts = _failures(engine, device.device_id, raw.seq) + 1
    message = f"{type(exc).__name__}: {exc}"
    try:
        with store_tx(engine, store_id) as tx:
            _dead_letter(tx, device, raw, "FAILED", message, attempts)
    except (CentralError, OperationalError):
        raise
    except Exception:  # the op's own JSON could not be kept: its ids, so the count goes on
        with store_tx(engine, store_id) as tx:
            _dead_letter(tx, device, raw, "FAILED", message, attempts, minimal=True)
    return attempts


class _OpFailed(Exception):
    """An op raised while its batch was applied in bulk. The batch is applied again op by op:
    there the op's id is first checked for reuse (a reused op_id is told as such even when its
    op would fail), and a failure is set aside alone and counted towards its quarantine."""


def push(
    engine: Engine,
    device_id: str,
    store_id: str,
    req: PushRequest,
    now: datetime,
    *,
    lock_budget_s: float | None = LOCK_BUDGET_S,
) -> PushResponse:
    """Apply a push, in as many transactions as it takes to hold the store's lock at most
    about `lock_budget_s` at a time (None: one transaction).

    A long push (a tablet draining 500 ops) otherwise holds its store for its whole length,
    and an OMS cancel or another tablet's claim waits behind it. Each op's effects, result and
    the device's `last_applied_seq` commit together whichever transaction it falls in
    (PROTOCOL.md), so a push cut in parts answers as the whole would; if a later part cannot
    be written (the database went away), the parts committed are answered and the tablet
    sends the rest again, as after a push that stopped early."""
    ops = req.ops
    for a, b in pairwise(ops):
        if b.seq != a.seq + 1:
            raise Invalid(f"ops must be contiguous in seq: {a.seq} is followed by {b.seq}")
    for op in ops:
        if op.device_id != device_id:
            what = "has no device_id" if op.device_id is None else "names another device"
            raise Invalid(f"op #{op.seq} ({op.op_id}) {what}: a push carries this device's ops")
    results: list[OpResult] = []
    part = req
    while True:
        try:
            answer, paused = _push_part(engine, device_id, store_id, part, now, lock_budget_s)
        except (CentralError, OperationalError):
            if not results:
                raise  # refused as a whole (SEQ_GAP …), or the database is away: nothing applied
            break
        results += answer.results
        expected = answer.next_expected_seq
        if not paused:
            break
        # a part that paused answered at least one op (a duplicate's stored result, maybe)
        rest = [op for op in part.ops if op.seq > answer.results[-1].seq]
        if not rest:
            break
        part = req.model_copy(update={"ops": rest})
    return PushResponse(next_expected_seq=expected, server_time=now, results=results)


def _push_part(
    engine: Engine,
    device_id: str,
    store_id: str,
    req: PushRequest,
    now: datetime,
    lock_budget_s: float | None,
) -> tuple[PushResponse, bool]:
    """One transaction's worth of the push: its answer, and whether it paused for the lock's
    budget with ops left to apply."""
    try:
        return _push(engine, device_id, store_id, req, now, False, lock_budget_s)
    except (CentralError, OperationalError):
        raise
    except Exception as exc:
        # one op failed, or its rows broke a database rule when the batch was written: write
        # op by op, each in its own savepoint, so that op alone is set aside and the rest apply
        log.warning(
            "push_flush_failed device=%s error=%s: retrying op by op",
            device_id,
            type(exc).__name__,
        )
        return _push(engine, device_id, store_id, req, now, True, lock_budget_s)


def _push(
    engine: Engine,
    device_id: str,
    store_id: str,
    req: PushRequest,
    now: datetime,
    flush_each: bool,
    lock_budget_s: float | None,
) -> tuple[PushResponse, bool]:
    ops = req.ops
    results: list[OpResult] = []
    failed: tuple[Envelope, Exception] | None = None
    paused = False
    with store_tx(engine, store_id, now) as tx:
        # the budget counts from when the store is locked: waiting for it is not holding it
        until = None if lock_budget_s is None else time.monotonic() + lock_budget_s
        row = tx.conn.execute(
            select(devices)
            .where(devices.c.device_id == device_id, devices.c.store_id == store_id)
            .with_for_update()
        ).first()
        # revoked since its token was looked up (the route remembers tokens): refused here
        check_enrolled(row is not None, None if row is None else row.revoked_at)
        device = DeviceRow.of(row)
        expected = device.last_applied_seq + 1
        if ops and ops[0].seq > expected:
            raise Conflict(
                f"the next op this server expects from this device is {expected}, not {ops[0].seq}",
                code="SEQ_GAP",
                expected_seq=expected,
            )
        per_push = _PerPush(tx)
        used = _used_op_ids(tx, [raw for raw in ops if raw.seq >= expected]) if flush_each else {}
        _preload(tx, [raw for raw in ops if raw.seq >= expected])
        batch: dict[UUID, int] = {}  # op_id → seq of the ops of this push answered so far
        for raw in ops:
            if until is not None and results and time.monotonic() >= until:
                paused = True  # commit what is done; the rest in the next transaction
                break
            if raw.seq < expected:
                stored = tx.conn.execute(
                    select(op_results).where(
                        op_results.c.device_id == device_id, op_results.c.seq == raw.seq
                    )
                ).first()
                if stored is None or stored.op_id != str(raw.op_id):
                    raise Conflict(
                        f"seq {raw.seq} was already used by another op from this device",
                        code="SEQ_REUSED",
                    )
                results.append(_stored_result(stored))
                continue
            reused = _earlier_use(device, raw, batch, used)
            savepoint = tx.conn.begin_nested() if flush_each else None
            seq_before = tx.change_seq
            try:
                with tx.op_scope():  # all of this op's effects, or none of them
                    op_id = str(raw.op_id)
                    res, occurred_at = _answer(tx, device, raw, op_id, per_push, reused)
                    _store_result(tx, device_id, raw, res, occurred_at, op_id)
                if savepoint is not None:
                    tx.flush()
                    savepoint.commit()
            except Exception as exc:  # an unexpected error: drop this op only
                if savepoint is None:  # in bulk: undo it all, and go again op by op
                    raise _OpFailed(f"op #{raw.seq} failed") from exc
                savepoint.rollback()
                tx.discard(seq_before)
                failed = (raw, exc)
                # the exception's text can quote order data (customers' names): the log gets
                # its kind only; the dead-letter row (in the database) keeps the sentence
                log.error(
                    "op_failed device=%s seq=%s type=%s error=%s",
                    device_id,
                    raw.seq,
                    _field(raw.type, 40),
                    type(exc).__name__,
                )
                break
            results.append(res)
            batch.setdefault(raw.op_id, raw.seq)
            expected = raw.seq + 1
        tx.conn.execute(
            update(devices)
            .where(devices.c.device_id == device_id)
            .values(
                last_applied_seq=expected - 1,
                last_seen_at=now,
                last_server_time=now,
                clock_offset_s=_clock_offset(req.device_time, now),
            )
        )

    if failed is not None:
        raw, error = failed
        attempts = _record_failure(engine, store_id, device, raw, error)
        if attempts >= QUARANTINE_AFTER:
            res = _quarantine(engine, store_id, device, raw, attempts)
            results.append(res)
            expected = raw.seq + 1
    _deliver_transfers(engine, store_id, ops, results)
    return PushResponse(next_expected_seq=expected, server_time=now, results=results), paused


def _deliver_transfers(
    engine: Engine, store_id: str, ops: list[Envelope], results: list[OpResult]
) -> None:
    """A transfer this push shipped becomes an inbound shipment at its destination, in that
    store's own transaction, once this push has committed (transfers.deliver_shipped)."""
    ships = [raw for raw in ops if isinstance(raw, RawEnvelope) and raw.type == "order.ship"]
    if not ships:
        return
    answered = {r.op_id for r in results if r.status != "rejected"}  # a duplicate: again
    shipped = [str(raw.payload.get("order_id")) for raw in ships if raw.op_id in answered]
    if not shipped:
        return
    try:
        deliver_shipped(engine, store_id, shipped)
    except Exception as exc:  # the push is committed and answered: it never fails for this
        log.error("transfer_delivery_failed store=%s error=%s", store_id, type(exc).__name__)


def _store_result(
    tx: StoreTx,
    device_id: str,
    raw: Envelope,
    res: OpResult,
    occurred_at: datetime,
    op_id: str | None = None,
) -> None:
    """Stage the op's result row. A refused op's type and actor are the client's own words,
    so they are bounded and made printable; an applied op's were checked already."""
    refused = res.status == "rejected"
    tx.staged.results.append(
        {
            "device_id": device_id,
            "seq": raw.seq,
            "op_id": op_id or str(raw.op_id),
            "store_id": tx.store_id,
            "type": _field(raw.type, 40) if refused else raw.type,
            "actor_id": _field(raw.actor_id, 64) if refused else raw.actor_id,
            "status": res.status,
            "code": res.code,
            "message": res.message,
            "followups": [f.model_dump(mode="json") for f in res.followups]
            if res.followups
            else [],
            "occurred_at": occurred_at,
            "applied_at": tx.now,
        }
    )


def _quarantine(
    engine: Engine, store_id: str, device: DeviceRow, raw: Envelope, attempts: int
) -> OpResult:
    """Set the op aside for good. Its dead letter and exception are written if they can be
    (the op's JSON, else its ids alone); its result row always is: fixed words, bounded ids,
    the server's own time, and a code that its op_id's unique index leaves out."""
    message = f"This change failed {attempts} times on the server and was set aside for a manager"
    res = OpResult(
        op_id=raw.op_id, seq=raw.seq, status="rejected", code=Code.QUARANTINED, message=message
    )
    with store_tx(engine, store_id) as tx:
        current = tx.conn.execute(
            select(devices.c.last_applied_seq)
            .where(devices.c.device_id == device.device_id)
            .with_for_update()
        ).scalar_one()
        if current != raw.seq - 1:  # another request moved on meanwhile
            return res
        for minimal in (False, True):
            seq_before = tx.change_seq
            savepoint = tx.conn.begin_nested()
            try:
                _set_aside(tx, device, raw, Code.QUARANTINED, message, attempts)
                if minimal:
                    _dead_letter(tx, device, raw, Code.QUARANTINED, message, attempts, minimal=True)
                tx.flush()
                savepoint.commit()
                break
            except Exception as exc:
                savepoint.rollback()
                tx.discard(seq_before)
                log.error(
                    "quarantine_note_failed device=%s seq=%s error=%s",
                    device.device_id,
                    raw.seq,
                    type(exc).__name__,
                )
        _store_result(tx, device.device_id, raw, res, tx.now)
        tx.conn.execute(
            update(devices)
            .where(devices.c.device_id == device.device_id)
            .values(last_applied_seq=raw.seq)
        )
    return res
