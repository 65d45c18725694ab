"""The document kinds of the op catalogue (`sync.protocol.Document`) on the tablet: per kind
its local apply step, the documents a pending op of it touches (whose rows the rebase
folds again), and whether its rules need the store's policy. `LocalStore.act` applies an op
through `KINDS[OPS[type].document]`; `rebase` folds pending ops through the same entry.

Rebase (PROTOCOL.md, "The tablet's side"): the screens show server truth plus this device's
pending ops — orders (`_orders`), returns (`_returns`), counts (`_counts`), tasks
(`_tasks`). Stock and exception ops change nothing here before central answers: they are
listed in the outbox (the sync screen) and their documents come back by pull.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from fulfillment.returns import Return
from sync.protocol import OPS, Document

from ._catalogue import apply_stock
from ._counts import apply_count, fold_count, touched_by_count_op
from ._docs import (
    Acting,
    Pending,
    pending_ops,
    pending_ops_on,
    staff_index,
    store_policy,
    store_timezone,
)
from ._inbound import apply_inbound, apply_transfer
from ._orders import apply_order, fold_order, touched_by_order_op
from ._plans import apply_plan, touched_by_plan_op
from ._records import ActResult
from ._returns import apply_return, fold_return, receive_in_order, touched_by_return_op
from ._tasks import apply_exception, apply_task, fold_tasks, touched_by_task_op

__all__ = ["KINDS", "SETTLED_KINDS", "Kind", "rebase"]

# change kinds whose documents no other document's fold reads (the catalogue, the staff, the
# store and returns are read by order folds): a pull of only these may rebase `settled`
SETTLED_KINDS = frozenset({"order", "stock", "task", "count", "exception", "label", "device"})
# documents whose fold reads only their own document and pending ops, and the store's
_SELF_CONTAINED = frozenset({Document.ORDER, Document.TASK, Document.COUNT})

Touches = Callable[[str, dict[str, Any]], Iterable[tuple[Document, str]]]


@dataclass(frozen=True)
class Kind:
    """What the tablet does with the ops on one document kind."""

    apply: Callable[[Acting], ActResult]  # the local effect; `queued=False`: refused, nothing
    touches: Touches  # the documents (kind, id) a pending op of this kind changes the rows of
    needs_policy: bool = False  # its rules read the store's policy (`Acting.context`)


def _listed_only(op_type: str, payload: dict[str, Any]) -> Iterator[tuple[Document, str]]:
    """No local fold: the op is listed in the outbox until central's document comes back."""
    return iter(())


KINDS: Mapping[Document, Kind] = MappingProxyType(
    {
        Document.ORDER: Kind(apply_order, touched_by_order_op, needs_policy=True),
        Document.RETURN: Kind(apply_return, touched_by_return_op, needs_policy=True),
        Document.COUNT: Kind(apply_count, touched_by_count_op, needs_policy=True),
        Document.STOCK: Kind(apply_stock, _listed_only),
        Document.EXCEPTION: Kind(apply_exception, _listed_only),
        Document.TASK: Kind(apply_task, touched_by_task_op),
        Document.INBOUND: Kind(apply_inbound, _listed_only),  # folded when read (_inbound)
        Document.TRANSFER: Kind(apply_transfer, _listed_only),
        Document.COUNT_PLAN: Kind(apply_plan, touched_by_plan_op),
    }
)


# the op types whose every op touches exactly one document, of its own kind, named by the
# payload's key (`touched_by_order_op`, `touched_by_task_op`): a settled rebase reads the ops
# of these only for the documents it folds
_ONE_DOCUMENT_KEYS: Mapping[Document, str] = MappingProxyType(
    {Document.ORDER: "order_id", Document.TASK: "task_id"}
)
_TYPES_ON: Mapping[Document, frozenset[str]] = MappingProxyType(
    {d: frozenset(t for t, spec in OPS.items() if spec.document is d) for d in _ONE_DOCUMENT_KEYS}
)
_ONE_DOCUMENT_TYPES = frozenset().union(*_TYPES_ON.values())


def _touched_by(type_: str, payload: dict[str, Any]) -> set[tuple[Document, str]]:
    """The documents (kind, id) an op of `type_` changes the rows of."""
    spec = OPS.get(type_)
    if spec is None:  # not an op this version knows (never queued by it)
        return set()
    return set(KINDS[spec.document].touches(type_, payload))


def _touches(type_: str, payload: dict[str, Any], touched: dict[Document, set[str]]) -> None:
    for document, id_ in _touched_by(type_, payload):
        touched[document].add(id_)


def rebase(
    conn: sqlite3.Connection,
    order_ids: Iterable[str] = (),
    task_ids: Iterable[str] = (),
    *,
    return_ids: Iterable[str] = (),
    count_ids: Iterable[str] = (),
    everything: bool = False,
    acknowledged: bool = True,
    settled: bool = False,
) -> None:
    """Recompute orders (tasks, returns, counts) = server document + pending ops, for the ids
    given, every one a pending op touches, and those of ops acknowledged since the last pull
    (their result is in this pull). `everything` re-projects every doc. `acknowledged=False`
    (a document that came without a pull: an order looked up online) leaves the acknowledged
    ops for the next pull, which brings their results.

    `settled` (a pull that moved only documents no other document's fold reads: orders,
    stock, tasks, counts …): a document a pending op touches is folded only if the pull or an
    acknowledgement moved it, or the op touches more than one document (a received return and
    its order). The others' rows already are their unchanged document plus the same pending
    ops. A tablet draining 40,000 queued ops otherwise re-applied all of them on every pull
    between two pushes (a cancel learned mid-drain waited ~0.5 s for it)."""
    # settled: the ops of orders and tasks (each touches its one document, nothing else) are
    # read below for the documents folded, not all of a long outbox on every pull
    pending = pending_ops(conn, except_types=_ONE_DOCUMENT_TYPES if settled else ())
    touched: dict[Document, set[str]] = {document: set() for document in Document}
    touched[Document.ORDER] |= set(order_ids)
    touched[Document.TASK] |= set(task_ids)
    touched[Document.RETURN] |= set(return_ids)
    touched[Document.COUNT] |= set(count_ids)
    for p in pending:
        own = _touched_by(p.type, p.payload)
        if settled and len(own) == 1 and next(iter(own))[0] in _SELF_CONTAINED:
            continue  # folded below only if the pull or an acknowledgement moved it
        for document, id_ in own:
            touched[document].add(id_)
    if acknowledged:
        # each distinct op once: what an op touches follows from its type and payload alone,
        # and a drain's ops repeat (47 scans of an order are 5 payloads)
        for type_, payload_text in conn.execute(
            "SELECT DISTINCT type, payload FROM op_log WHERE rebased = 0"
        ).fetchall():
            _touches(type_, json.loads(payload_text), touched)
        conn.execute("UPDATE op_log SET rebased = 1 WHERE rebased = 0")
    orders, returns = touched[Document.ORDER], touched[Document.RETURN]
    counts, tasks = touched[Document.COUNT], touched[Document.TASK]
    if settled:  # and the ops of the orders and tasks folded, in seq order with the others
        for document, folded_ids in ((Document.ORDER, orders), (Document.TASK, tasks)):
            key = _ONE_DOCUMENT_KEYS[document]
            pending += pending_ops_on(conn, _TYPES_ON[document], key, folded_ids)
        pending.sort()
    if everything:
        for table, kind, ids in (
            ("orders", "order", orders),
            ("returns", "return", returns),
            ("counts", "count", counts),
        ):
            conn.execute(f"DELETE FROM {table}")
            ids |= {r[0] for r in conn.execute("SELECT id FROM srv_docs WHERE kind = ?", (kind,))}
    if orders or returns or counts:
        policy, staff = store_policy(conn), staff_index(conn)
        timezone = store_timezone(conn)
        folded: dict[str, Return | None] = {}  # return_id -> the return its order's fold made
        receive = receive_in_order(conn, folded)
        # each order's pending ops, in seq order: `fold_order` looks at no other, and a drain
        # touches hundreds of orders with tens of thousands of ops waiting
        of_order: dict[str, list[Pending]] = {}
        for p in pending:
            order_id = p.payload.get("order_id")
            if isinstance(order_id, str):
                of_order.setdefault(order_id, []).append(p)
        for order_id in sorted(orders):
            fold_order(conn, order_id, of_order.get(order_id, []), policy, staff, timezone, receive)
        for return_id in sorted(returns):
            fold_return(conn, return_id, pending, policy, staff, timezone, folded)
        for count_id in sorted(counts):
            fold_count(conn, count_id, pending, policy, staff, timezone)
    if tasks:
        fold_tasks(conn, tasks, pending)
