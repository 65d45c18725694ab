"""The store's documents that live in a table of their own (orders, returns, counts): read
back with what this transaction staged first, and staged in the op's scope.

Their rows hold the document's JSON in `data`; what the callers pass is the table, the id
column and the pydantic model, so each kind reads and stages the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import Column, ColumnElement, Table, Text, cast, select

from .staging import KINDS, KNOWN

if TYPE_CHECKING:
    from .feed import StoreTx

__all__ = ["load_document", "number_holder", "preload_documents", "stage_document"]

M = TypeVar("M", bound=BaseModel)


def load_document(
    tx: StoreTx,
    staged: M | None,
    table: Table,
    id_column: Column[Any],
    doc_id: str,
    model: type[M],
) -> M | None:
    """The document's current version in this store: `staged` (what this transaction staged,
    looked up by the caller) first, else the table's."""
    if staged is not None:
        return staged
    key = (_LOADED, table.name, doc_id)
    if key in tx.memo:  # read with the rest of its batch (`preload_documents`)
        found: M | str | None = tx.memo[key]
        if isinstance(found, str):  # a row no model reads: the op that reads it fails
            return _model(model, found)
        return found
    text = tx.conn.execute(
        select(_text(table)).where(id_column == doc_id, table.c.store_id == tx.store_id)
    ).scalar()
    return _model(model, text) if text is not None else None


def _model(model: type[M], text: str) -> M:
    """The document of this text: the one this process wrote or read as it, or read now."""
    found = KNOWN.get(model, text)
    if found is None:
        found = model.model_validate_json(text)
        KNOWN.put(text, found)
    return found


_LOADED = "document"


def _text(table: Table) -> ColumnElement[str]:
    """The row's document as its JSON text, which pydantic reads in one pass (the JSON
    column's own reading parses it into Python objects first)."""
    return cast(table.c.data, Text)


def preload_documents(
    tx: StoreTx, table: Table, id_column: Column[Any], doc_ids: Iterable[str], model: type[M]
) -> dict[str, M]:
    """Read the documents a batch will touch in one query, for `load_document` to find in
    the transaction's memo (forgotten at the next flush, so never stale); returns those
    found, by id. Ids already read or staged are not read again. (The models are immutable,
    so every op of the batch may be handed the same one; a row no model reads stays its
    text, for the op that reads it to fail on alone.)"""
    wanted = [i for i in dict.fromkeys(doc_ids) if (_LOADED, table.name, i) not in tx.memo]
    found: dict[str, M] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        rows = tx.conn.execute(
            select(id_column, _text(table)).where(
                id_column.in_(chunk), table.c.store_id == tx.store_id
            )
        ).all()
        for doc_id, text in rows:
            try:
                found[doc_id] = _model(model, text)
            except ValidationError:  # left for the op that reads it to fail on
                tx.memo[(_LOADED, table.name, doc_id)] = text
    for doc_id in wanted:
        tx.memo.setdefault((_LOADED, table.name, doc_id), found.get(doc_id))
    return found


_CHUNK = 500  # ids per query: well within every driver's parameter limit


def number_holder(
    tx: StoreTx,
    staged: M | None,
    table: Table,
    id_column: Column[Any],
    doc_id: str,
    model: type[M],
) -> tuple[str, M] | None:
    """Who already holds a document number, in any store: (its store, the document), staged
    first; None when the number is free."""
    if staged is not None:
        return tx.store_id, staged
    row = tx.conn.execute(select(table.c.store_id, table.c.data).where(id_column == doc_id)).first()
    if row is None:
        return None
    return row.store_id, model.model_validate(row.data)


def stage_document(
    tx: StoreTx,
    kind: str,
    doc_id: str,
    doc: BaseModel,
    *,
    new: bool,
    op_id: str | None,
    device_id: str | None,
) -> None:
    """Stage a new document (its row, made by op_id on device_id) or a changed one (a change
    to one this op made new stays new); published as a `kind` change, dumped at flush."""
    registered = KINDS[kind]
    if new:
        row = {
            registered.key: doc_id,
            "store_id": tx.store_id,
            "op_id": op_id,
            "device_id": device_id,
            "created_at": tx.now,
            "updated_at": tx.now,
            "data": doc,
        }
        tx.staged.stage_new(registered, doc_id, row)
    else:
        tx.staged.stage_change(registered, doc_id, {"data": doc, "updated_at": tx.now})
    tx.publish(kind, doc_id, doc)
