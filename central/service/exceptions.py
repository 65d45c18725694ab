"""Manager exceptions on central: opened (by an outcome, or by central on its own) and
settled. Settling an exception (`exception.resolve`, manager only): the manager says what was done,
in words; the exception leaves every manager's list and keeps who settled it, when, how."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from fulfillment.outcome import ExceptionNote
from fulfillment.tasks import settle_exception
from sync.protocol import ExceptionResolve

from ..db.tables import exceptions
from .applying import Applying, Said
from .staging import EXCEPTION

if TYPE_CHECKING:
    from .feed import StoreTx

__all__ = [
    "apply_exception",
    "exception_doc",
    "open_exception",
    "open_exceptions",
    "resolve_exception",
]


def exception_doc(row: dict[str, Any]) -> dict[str, Any]:
    """The `exception` change's data: the row without its store, times as ISO text."""
    doc = {k: v for k, v in row.items() if k != "store_id"}
    for key in ("created_at", "resolved_at"):
        if doc.get(key) is not None and not isinstance(doc[key], str):
            doc[key] = doc[key].isoformat()
    return doc


def _find(tx: StoreTx, exception_id: str) -> dict[str, Any] | None:
    staged = tx.staged.exception(exception_id)
    if staged is not None:
        return staged
    row = (
        tx.conn.execute(
            select(exceptions).where(
                exceptions.c.exception_id == exception_id, exceptions.c.store_id == tx.store_id
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row is not None else None


def resolve_exception(
    tx: StoreTx, exception_id: str, note: str, actor_id: str
) -> tuple[str, str | None, str | None]:
    """(status, code, message) of the op."""
    row = _find(tx, exception_id)
    decision = settle_exception(exception_id, None if row is None else row["state"])
    if not decision.changes:
        return decision.status.value, decision.code, decision.message
    assert row is not None
    settled = {
        **row,
        "state": "resolved",
        "resolved_at": tx.now,
        "resolved_by": actor_id,
        "resolution": note,
    }
    tx.staged.stage_change(EXCEPTION, exception_id, settled)
    tx.publish("exception", exception_id, exception_doc(settled))
    return "applied", None, None


def apply_exception(tx: StoreTx, op: Applying) -> Said:
    """The apply step of every `exception` op (`exception.resolve`)."""
    payload: ExceptionResolve = op.payload
    return Said(*resolve_exception(tx, payload.exception_id, payload.note, op.actor_id))


def open_exception(
    tx: StoreTx,
    code: str,
    message: str,
    *,
    order_id: str | None = None,
    op_id: str | None = None,
    device_id: str | None = None,
    actor_id: str | None = None,
    sku: str | None = None,
    location: str | None = None,
) -> dict[str, Any]:
    exception_id = f"X-{uuid.uuid4().hex[:10]}"
    row: dict[str, Any] = {
        "exception_id": exception_id,
        "store_id": tx.store_id,
        "code": code,
        "message": message,
        "order_id": order_id,
        "op_id": op_id,
        "device_id": device_id,
        "actor_id": actor_id,
        "state": "open",
        "created_at": tx.now,
        "sku": sku,
        "location": location,
    }
    tx.staged.stage_new(EXCEPTION, exception_id, row)
    doc = exception_doc(row)
    tx.publish("exception", exception_id, doc)
    return doc


def open_exceptions(
    tx: StoreTx,
    notes: Iterable[ExceptionNote],
    *,
    op_id: str | None,
    device_id: str | None,
    actor_id: str | None,
) -> None:
    """Open a manager exception for each note a rule made."""
    for note in notes:
        open_exception(
            tx,
            note.code,
            note.message,
            order_id=note.order_id,
            op_id=op_id,
            device_id=device_id,
            actor_id=actor_id,
        )
