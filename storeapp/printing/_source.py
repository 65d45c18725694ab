"""Which document of which order, read from the tablet's replica (`storeapp.local`): works with
central out of reach, since everything printed is already on the tablet."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from fulfillment.model import PICKABLE_STATES, Order, OrderType
from storeapp.local import LocalStore

from . import _documents as documents
from ._errors import NothingToPrint

__all__ = ["PDF", "ZPL", "DocKind", "Printable", "kinds_for", "printable"]

PDF = "application/pdf"
ZPL = "application/x-zpl"


class DocKind(StrEnum):
    """The documents a store prints (the CLI's and the page's names)."""

    PICKLIST = "picklist"
    SLIP = "slip"
    TAG = "tag"
    RECEIPT = "receipt"
    LABEL = "label"

    @property
    def heading(self) -> str:
        return _TITLES[self]


_TITLES = {
    DocKind.PICKLIST: "Pick list",
    DocKind.SLIP: "Packing slip",
    DocKind.TAG: "Shelf tag",
    DocKind.RECEIPT: "Return receipt",
    DocKind.LABEL: "Shipping label",
}


@dataclass(frozen=True)
class Printable:
    kind: DocKind
    doc_id: str  # the order (the return, for a receipt asked by its id)
    content: bytes
    media_type: str  # PDF or ZPL
    note: str = ""  # what the screen or terminal says beside it ("the OMS's label")

    @property
    def is_pdf(self) -> bool:
        return self.media_type == PDF

    @property
    def filename(self) -> str:
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", self.doc_id)[:80]
        return f"{self.kind.value}-{safe}.{'pdf' if self.is_pdf else 'zpl'}"


def kinds_for(order: Order, *, has_returns: bool) -> list[DocKind]:
    """The documents that exist for `order` as it stands (what the Print dialog lists)."""
    kinds = [DocKind.PICKLIST, DocKind.SLIP]
    if order.type is OrderType.PICKUP:
        kinds.append(DocKind.TAG)
    else:
        kinds.append(DocKind.LABEL)
    if has_returns:
        kinds.append(DocKind.RECEIPT)
    return kinds


def _order(store: LocalStore, order_id: str) -> Order:
    order = store.order(order_id)
    if order is None:
        raise NothingToPrint(f"Order {order_id} is not on this tablet.")
    return order


def _batch(store: LocalStore, order: Order) -> list[Order]:
    """The pick list holding `order`: every order its associate holds open for picking, in
    the order they claimed them (tote 1 first); an order nobody holds is a list of one."""
    if order.assignee is None or order.state not in PICKABLE_STATES:
        return [order]
    held = [
        o
        for o in store.orders_in([s.value for s in PICKABLE_STATES])
        if o.assignee == order.assignee
    ]
    held.sort(key=lambda o: (o.claimed_at or o.due_at, o.order_id))
    return held or [order]


def _label(store: LocalStore, order: Order, *, pdf_only: bool) -> Printable:
    if order.type is not OrderType.SHIP_FROM_STORE:
        raise NothingToPrint(f"Order {order.order_id} is a pickup: it has no shipping label.")
    attached: dict[str, Any] | None = store.server_doc("label", order.order_id)
    if attached is not None:
        try:
            content = base64.b64decode(str(attached.get("content_base64", "")), validate=True)
        except (binascii.Error, ValueError):
            content = b""
        fmt = attached.get("format")
        if content and fmt == "pdf":
            return Printable(DocKind.LABEL, order.order_id, content, PDF, "The OMS's label")
        if content and fmt == "zpl" and not pdf_only:
            return Printable(DocKind.LABEL, order.order_id, content, ZPL, "The OMS's label (ZPL)")
        if content and fmt == "zpl":
            note = "The OMS's label is ZPL: send it to the store's label printer. This is a simple one."
            content = documents.fallback_label(order, _store_name(store))
            return Printable(DocKind.LABEL, order.order_id, content, PDF, note)
    content = documents.fallback_label(order, _store_name(store))
    return Printable(DocKind.LABEL, order.order_id, content, PDF, "A simple label (no OMS label)")


def _store_name(store: LocalStore) -> str:
    info = store.store_info() or {}
    return str(info.get("name") or info.get("store_id") or "")


def printable(
    store: LocalStore, kind: DocKind | str, doc_id: str, now: datetime, *, pdf_only: bool = False
) -> Printable:
    """The document `kind` of order `doc_id` (a receipt: also a return id), from the
    replica. `pdf_only`: a ZPL label becomes a simple PDF one (for a browser).

    Raises NothingToPrint, with a sentence for the screen, when there is none."""
    try:
        kind = DocKind(kind)
    except ValueError:
        names = ", ".join(k.value for k in DocKind)
        raise NothingToPrint(f"No document called {kind!r}: print one of {names}.") from None
    tz = store.timezone()
    if kind is DocKind.RECEIPT:
        found = store.get_return(doc_id)
        returns = [found] if found else store.returns_of(doc_id)
        if not returns:
            raise NothingToPrint(
                f"No return of order {doc_id} (nor return {doc_id}) on this tablet."
            )
        content = documents.return_receipt([r.ret for r in returns], _store_name(store), tz)
        return Printable(kind, doc_id, content, PDF)
    order = _order(store, doc_id)
    if kind is DocKind.PICKLIST:
        batch = _batch(store, order)
        content = documents.pick_list(batch, _store_name(store), now, tz)
        return Printable(kind, doc_id, content, PDF, f"{len(batch)} order(s) on the list")
    if kind is DocKind.SLIP:
        return Printable(kind, doc_id, documents.packing_slip(order, _store_name(store), tz), PDF)
    if kind is DocKind.TAG:
        if order.type is not OrderType.PICKUP:
            raise NothingToPrint(f"Order {doc_id} is shipped: it has no pickup shelf tag.")
        return Printable(kind, doc_id, documents.shelf_tag(order, tz), PDF)
    return _label(store, order, pdf_only=pdf_only)
