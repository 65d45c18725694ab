"""Applying a device's pushed ops (PROTOCOL.md, Push).

One request is one transaction holding the store's lock (and so the device's
ops apply in `seq` order). Each op runs in its own savepoint: its ledger rows,
change-log rows, result and the device's `last_applied_seq` commit together.
A business refusal or a compensation still advances the queue; an unexpected
error rolls back that op's savepoint and stops the batch, and on the third
failure the op is quarantined (rejected `QUARANTINED`, kept in
`dead_letters`, shown to managers) so the queue moves on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Engine, select, update
from sqlalchemy.exc import DataError, IntegrityError

from fulfillment.model import Role
from fulfillment.outcome import Context, Status
from fulfillment.picking import ORDER_OPS, apply_order_op
from fulfillment.roles import may_perform
from sync.protocol import (
    OpResult,
    PushRequest,
    PushResponse,
    RawEnvelope,
    op_error,
    validate_payload,
)

from ..db.engine import reading
from ..db.tables import dead_letters, devices, op_results, staff
from .clock import as_utc
from .counts import adjust_stock, decide_count, record_count
from .errors import Conflict, Invalid
from .exceptions import resolve_exception
from .feed import StoreTx, store_tx
from .orders import apply_outcome, find_task, load_order, open_exception, update_task
from .returns import override_return, receive_return

__all__ = ["QUARANTINE_AFTER", "push"]

log = logging.getLogger("central.push")

QUARANTINE_AFTER = 3
SKEW_WINDOW = timedelta(minutes=5)


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


class _Staff:
    """The store's staff, read once per push."""

    def __init__(self, tx: StoreTx) -> None:
        rows = tx.conn.execute(
            select(staff.c.employee_id, staff.c.name, staff.c.role, staff.c.active).where(
                staff.c.store_id == tx.store_id
            )
        ).all()
        self.names = {r.employee_id: r.name for r in rows}
        self.roles = {r.employee_id: Role(r.role) for r in rows if r.active}


def _clamp(occurred_at: datetime, device: Any, now: datetime) -> tuple[datetime, bool]:
    low = (as_utc(device.last_server_time) or now) - SKEW_WINDOW
    if occurred_at > now:
        return now, True
    if occurred_at < low and device.last_server_time is not None:
        return low, True
    return occurred_at, False


def _apply(tx: StoreTx, device: Any, raw: RawEnvelope, people: _Staff) -> OpResult:
    """Apply one op inside the caller's savepoint; returns its result."""

    def result(
        status: str,
        code: str | None = None,
        message: str | None = None,
        followups: list[dict[str, Any]] | None = None,
    ) -> OpResult:
        return OpResult.model_validate(
            {
                "op_id": raw.op_id,
                "seq": raw.seq,
                "status": status,
                "code": code,
                "message": message,
                "followups": followups or [],
            }
        )

    try:
        payload: Any = validate_payload(raw)
    except ValidationError as exc:
        message = op_error(exc)
        _dead_letter(tx, device, raw, "INVALID_OP", message)
        open_exception(
            tx,
            "INVALID_OP",
            f"An op from {device.name} was refused: {message}",
            op_id=str(raw.op_id),
            device_id=device.device_id,
            actor_id=raw.actor_id,
        )
        return result("rejected", "INVALID_OP", message)

    op_type, actor_id = raw.type, raw.actor_id
    role = people.roles.get(actor_id)
    if role is None:
        return result("rejected", "FORBIDDEN", f"{actor_id} is not active staff of this store")
    if not may_perform(role, op_type):
        return result("rejected", "FORBIDDEN", f"Only a manager may do {op_type}")

    occurred_at, skewed = _clamp(raw.occurred_at, device, tx.now)
    ctx = Context(
        actor_id=actor_id,
        now=occurred_at,
        role=role,
        policy=tx.policy,
        staff_names=people.names,
        timezone=tx.timezone,
    )

    if op_type in ORDER_OPS:
        order = load_order(tx, payload.order_id)
        if order is None:
            return result("rejected", "UNKNOWN_ORDER", f"No order {payload.order_id} in this store")
        outcome = apply_order_op(order, op_type, payload, ctx)
        made = apply_outcome(
            tx,
            order,
            outcome,
            op_id=str(raw.op_id),
            actor_id=actor_id,
            device_id=device.device_id,
            occurred_at=occurred_at,
        )
        code = outcome.code or ("CLOCK_SKEW" if skewed else None)
        return result(outcome.status.value, code, outcome.message, made)

    if op_type == "return.receive":
        answer = receive_return(
            tx,
            payload,
            ctx,
            op_id=str(raw.op_id),
            device_id=device.device_id,
            device_name=device.name,
            occurred_at=occurred_at,
        )
        code = answer.code or ("CLOCK_SKEW" if skewed else None)
        return result(answer.status, code, answer.message)

    if op_type == "return.override":
        answer = override_return(tx, payload, ctx, op_id=str(raw.op_id), device_id=device.device_id)
        return result(
            answer.status, answer.code or ("CLOCK_SKEW" if skewed else None), answer.message
        )

    if op_type in ("count.record", "count.approve", "count.recount", "stock.adjust"):
        if op_type == "count.record":
            said = record_count(tx, payload, ctx, op_id=str(raw.op_id), device_id=device.device_id)
        elif op_type == "stock.adjust":
            said = adjust_stock(tx, payload, ctx, op_id=str(raw.op_id), occurred_at=occurred_at)
        else:
            said = decide_count(
                tx, op_type, payload, ctx, op_id=str(raw.op_id), device_id=device.device_id
            )
        code = said.code or ("CLOCK_SKEW" if skewed else None)
        return result(said.status, code, said.message, list(said.followups))

    if op_type == "task.done":
        return _task_done(tx, actor_id, payload, result)

    if op_type == "exception.resolve":
        return result(*resolve_exception(tx, payload.exception_id, payload.note, actor_id))

    return result("rejected", "NOT_SUPPORTED", f"{op_type} is not handled by this server yet")


def _task_done(
    tx: StoreTx, actor_id: str, payload: Any, result: Callable[..., OpResult]
) -> OpResult:
    row = find_task(tx, payload.task_id)
    if row is None:
        return result("rejected", "UNKNOWN_TASK", f"No task {payload.task_id}")
    if row["state"] != "open":
        return result(Status.APPLIED.value, "ALREADY_DONE", "That task was already closed")
    update_task(tx, row, state="done", done_by=actor_id)
    return result(Status.APPLIED.value)


def _dead_letter(
    tx: StoreTx, device: Any, raw: RawEnvelope, code: str, message: str, attempts: int = 0
) -> None:
    tx.staged.dead_letters[(device.device_id, raw.seq)] = {
        "store_id": tx.store_id,
        "device_id": device.device_id,
        "seq": raw.seq,
        "op_id": str(raw.op_id),
        "created_at": tx.now,
        "code": code,
        "message": message,
        "attempts": attempts,
        "raw": raw.model_dump(mode="json"),
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
    engine: Engine, store_id: str, device: Any, raw: RawEnvelope, exc: Exception
) -> int:
    attempts = _failures(engine, device.device_id, raw.seq) + 1
    with store_tx(engine, store_id) as tx:
        _dead_letter(tx, device, raw, "FAILED", f"{type(exc).__name__}: {exc}"[:500], attempts)
    return attempts


def push(
    engine: Engine, device_id: str, store_id: str, req: PushRequest, now: datetime
) -> PushResponse:
    ops = req.ops
    for a, b in pairwise(ops):
        if b.seq != a.seq + 1:
            raise Invalid(f"ops must be contiguous in seq: {a.seq} is followed by {b.seq}")
    for op in ops:
        if op.device_id != device_id:
            raise Invalid(f"op {op.op_id} names device {op.device_id}, not this device")
    try:
        return _push(engine, device_id, store_id, req, now, flush_each=False)
    except (IntegrityError, DataError):
        # one op's rows broke a database rule when the batch was written: write op by op,
        # each in its own savepoint, so that op alone is set aside and the rest apply
        log.warning("push_flush_failed device=%s: retrying op by op", device_id)
        return _push(engine, device_id, store_id, req, now, flush_each=True)


def _push(
    engine: Engine,
    device_id: str,
    store_id: str,
    req: PushRequest,
    now: datetime,
    *,
    flush_each: bool,
) -> PushResponse:
    ops = req.ops
    results: list[OpResult] = []
    failed: tuple[RawEnvelope, Exception] | None = None
    with store_tx(engine, store_id, now) as tx:
        device = tx.conn.execute(
            select(devices).where(devices.c.device_id == device_id).with_for_update()
        ).one()
        expected = device.last_applied_seq + 1
        if ops and ops[0].seq > expected:
            raise Conflict(
                f"the next op this server expects from this device is {expected}, not {ops[0].seq}",
                code="SEQ_GAP",
                expected_seq=expected,
            )
        people = _Staff(tx)
        for raw in ops:
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
            savepoint = tx.conn.begin_nested() if flush_each else None
            seq_before = tx.change_seq
            try:
                with tx.op_scope():  # all of this op's effects, or none of them
                    res = _apply(tx, device, raw, people)
                    _store_result(tx, device_id, raw, res)
                if savepoint is not None:
                    tx.flush()
                    savepoint.commit()
            except Exception as exc:  # an unexpected error: drop this op only
                if savepoint is not None:
                    savepoint.rollback()
                    tx.discard(seq_before)
                failed = (raw, exc)
                # the exception's text can quote order data (customers' names): the log gets
                # its kind only; the dead-letter row (in the database) keeps the sentence
                log.error(
                    "op_failed device=%s seq=%s type=%s error=%s",
                    device_id,
                    raw.seq,
                    raw.type,
                    type(exc).__name__,
                )
                break
            results.append(res)
            expected = raw.seq + 1
        tx.conn.execute(
            update(devices)
            .where(devices.c.device_id == device_id)
            .values(
                last_applied_seq=expected - 1,
                last_seen_at=now,
                last_server_time=now,
                clock_offset_s=int((req.device_time - now).total_seconds())
                if req.device_time
                else None,
            )
        )

    if failed is not None:
        raw, error = failed
        attempts = _record_failure(engine, store_id, device, raw, error)
        if attempts >= QUARANTINE_AFTER:
            res = _quarantine(engine, store_id, device, raw, attempts)
            results.append(res)
            expected = raw.seq + 1
    return PushResponse(next_expected_seq=expected, server_time=now, results=results)


def _store_result(tx: StoreTx, device_id: str, raw: RawEnvelope, res: OpResult) -> None:
    tx.staged.results.append(
        {
            "device_id": device_id,
            "seq": raw.seq,
            "op_id": str(raw.op_id),
            "store_id": tx.store_id,
            "type": raw.type,
            "actor_id": raw.actor_id,
            "status": res.status,
            "code": res.code,
            "message": res.message,
            "followups": [f.model_dump(mode="json") for f in res.followups],
            "occurred_at": raw.occurred_at,
            "applied_at": tx.now,
        }
    )


def _quarantine(
    engine: Engine, store_id: str, device: Any, raw: RawEnvelope, attempts: int
) -> OpResult:
    message = f"This change failed {attempts} times on the server and was set aside for a manager"
    res = OpResult(
        op_id=raw.op_id, seq=raw.seq, status="rejected", code="QUARANTINED", message=message
    )
    with store_tx(engine, store_id) as tx:
        current = tx.conn.execute(
            select(devices.c.last_applied_seq)
            .where(devices.c.device_id == device.device_id)
            .with_for_update()
        ).scalar_one()
        if current != raw.seq - 1:  # another request moved on meanwhile
            return res
        _dead_letter(tx, device, raw, "QUARANTINED", message, attempts)
        open_exception(
            tx,
            "QUARANTINED",
            f"{raw.type} from {device.name} (seq {raw.seq}): {message}",
            op_id=str(raw.op_id),
            device_id=device.device_id,
            actor_id=raw.actor_id,
        )
        _store_result(tx, device.device_id, raw, res)
        tx.conn.execute(
            update(devices)
            .where(devices.c.device_id == device.device_id)
            .values(last_applied_seq=raw.seq)
        )
    return res
