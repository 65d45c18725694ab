"""Print dialog: the documents of one order, each as a signed link the browser opens in a new
tab (its own print dialog prints it), and "Send to store printer" when the hub has one.

open(order_id) ──▶ PrintScreen: a row per document the order has (`printing.kinds_for`),
                   each with its link (valid LINK_TTL) and whether the hub's printer takes it
                   ── not signed in / order not here ──▶ message, no rows
open_return(return_id) ──▶ the return receipt of that one return (the returns screen's Print)
send(kind)     ──▶ the document printed on the hub's printer (CUPS or 9100) ── message
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from storeapp.local import LocalStore
from storeapp.printing import (
    DocKind,
    Printers,
    PrintingError,
    kinds_for,
    link_key,
    print_url,
    printable,
    send,
)

from .screen import SIGN_IN_FIRST, Clock, Tone, utc_now
from .session import SessionVM

__all__ = ["PrintRow", "PrintScreen", "PrintVM"]


@dataclass(frozen=True)
class PrintRow:
    kind: str
    title: str
    url: str  # hub-relative, signed
    to_printer: bool  # the hub's printer takes this document


@dataclass(frozen=True)
class PrintScreen:
    order_id: str
    rows: tuple[PrintRow, ...]
    message: str = ""
    tone: Tone = "info"


class PrintVM:
    def __init__(
        self,
        store: LocalStore,
        session: SessionVM,
        printers: Printers | None = None,
        *,
        clock: Clock = utc_now,
    ) -> None:
        self._store, self._session = store, session
        self._printers = printers or Printers()
        self._clock = clock
        self._order_id = ""  # the document id the dialog prints: an order, or a return
        self._one_return = False  # opened by open_return

    def open(self, order_id: str) -> PrintScreen:
        self._order_id, self._one_return = order_id, False
        if self._session.associate is None:
            return PrintScreen(order_id, (), SIGN_IN_FIRST, "error")
        order = self._store.order(order_id)
        if order is None:
            return PrintScreen(order_id, (), f"Order {order_id} is not on this tablet.", "error")
        key = link_key(self._store.path.parent)
        now = self._clock()
        has_label = self._store.server_doc("label", order_id)
        rows = []
        for kind in kinds_for(order, has_returns=bool(self._store.returns_of(order_id))):
            title = kind.heading
            if kind is DocKind.LABEL:
                title += " (from the OMS)" if has_label else " (simple)"
            is_zpl = kind is DocKind.LABEL and (has_label or {}).get("format") == "zpl"
            to_printer = bool(self._printers.label_printer if is_zpl else self._printers.printer)
            rows.append(
                PrintRow(kind.value, title, print_url(key, kind, order_id, now), to_printer)
            )
        return PrintScreen(order_id, tuple(rows))

    def open_return(self, return_id: str) -> PrintScreen:
        """The receipt of one return, by its id: the return just saved at the desk, also one
        taken on a receipt whose order is not on this tablet."""
        self._order_id, self._one_return = return_id, True
        if self._session.associate is None:
            return PrintScreen(return_id, (), SIGN_IN_FIRST, "error")
        if self._store.get_return(return_id) is None:
            return PrintScreen(return_id, (), f"Return {return_id} is not on this tablet.", "error")
        kind = DocKind.RECEIPT
        url = print_url(link_key(self._store.path.parent), kind, return_id, self._clock())
        return PrintScreen(
            return_id, (PrintRow(kind.value, kind.heading, url, bool(self._printers.printer)),)
        )

    async def send(self, kind: str) -> PrintScreen:
        """Print `kind` of the open order on the hub's printer. The document is read here
        (this tab's connection, on the event loop); the printing itself (a subprocess or a
        socket, up to 20 s) runs on a worker thread."""
        if self._session.associate is None:
            return PrintScreen(self._order_id, (), SIGN_IN_FIRST, "error")
        tone: Tone = "ok"
        try:
            doc = printable(self._store, kind, self._order_id, self._clock())
            said = await asyncio.to_thread(send, self._printers, doc)
        except PrintingError as exc:
            said, tone = str(exc), "error"
        again = self.open_return(self._order_id) if self._one_return else self.open(self._order_id)
        return PrintScreen(again.order_id, again.rows, said, tone)
