"""Settling an exception (`exception.resolve`, manager only): the manager says what was done,
in words; the exception leaves every manager's list and keeps who settled it, when, how."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from fulfillment.codes import Code

from ..db.tables import exceptions
from .feed import StoreTx

__all__ = ["exception_doc", "resolve_exception"]


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
    if row is None:
        return "rejected", Code.UNKNOWN_EXCEPTION, f"No exception {exception_id} in this store"
    if row["state"] != "open":
        return "rejected", Code.NOT_OPEN, f"Exception {exception_id} was already settled"
    settled = {
        **row,
        "state": "resolved",
        "resolved_at": tx.now,
        "resolved_by": actor_id,
        "resolution": note,
    }
    tx.staged.exception_updates[exception_id] = settled
    tx.publish("exception", exception_id, exception_doc(settled))
    return "applied", None, None
