"""Receiving: the shipments on their way to the store; open one, scan its cartons (SSCC) or
its items (GTIN), count each line (+/−, or a number typed on the keypad), mark damaged units,
and close the receipt. Every gesture is an `inbound.*` op, saved on this tablet first
(offline like every flow); over, short and damaged units become a manager's exception when
central closes the receipt."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from fulfillment.receiving import Inbound, InboundLine, InboundState, parse_sscc

from .acting import ActingVM
from .screen import Tone

__all__ = ["ReceivingLine", "ReceivingScreen", "ReceivingVM", "ShipmentRow"]

_SOURCE_WORDS = {"dc": "distribution centre"}


def source_words(source: str) -> str:
    if source.startswith("store:"):
        return f"store {source.removeprefix('store:')}"
    return _SOURCE_WORDS.get(source, source)


@dataclass(frozen=True)
class ShipmentRow:
    shipment_id: str
    title: str  # "S-1 from distribution centre"
    detail: str  # "6 unit(s) expected · 2 carton(s)" / "4 of 6 counted"
    state: str  # expected | receiving | closed
    order_id: str | None


@dataclass(frozen=True)
class ReceivingLine:
    sku: str
    name: str
    expected: int
    received: int
    damaged: int
    status: str  # "ok" | "over" | "short" | "" (nothing counted)
    words: str  # "5 of 4 · 1 over · 1 damaged"


@dataclass(frozen=True)
class ReceivingScreen:
    shipments: tuple[ShipmentRow, ...]  # open ones (expected or receiving)
    current: ShipmentRow | None = None
    lines: tuple[ReceivingLine, ...] = ()
    cartons: tuple[tuple[str, bool], ...] = ()  # (sscc, received)
    summary: str = ""  # "Counted 5 of 6 · 1 damaged"
    can_close: bool = False
    message: str = ""
    tone: Tone = "info"
    can_send: bool = False  # a manager may send stock to another store from here


def _row(s: Inbound) -> ShipmentRow:
    boxes = f" · {len(s.cartons)} carton(s)" if s.cartons else ""
    if s.state is InboundState.EXPECTED:
        detail = f"{s.expected_units} unit(s) expected{boxes}"
    else:
        detail = f"{s.received_units} of {s.expected_units} counted{boxes}"
    order = f" · for order {s.order_id}" if s.order_id else ""
    return ShipmentRow(
        s.shipment_id,
        f"{s.shipment_id} from {source_words(s.source)}{order}",
        detail,
        s.state.value,
        s.order_id,
    )


def _line(x: InboundLine) -> ReceivingLine:
    parts = [f"{x.received} of {x.expected}"]
    status = ""
    if x.over:
        parts.append(f"{x.over} over")
        status = "over"
    elif x.short and x.received:
        parts.append(f"{x.short} short")
        status = "short"
    elif x.received == x.expected and x.received:
        status = "ok"
    if x.damaged:
        parts.append(f"{x.damaged} damaged")
    return ReceivingLine(
        x.sku, x.name or x.sku, x.expected, x.received, x.damaged, status, " · ".join(parts)
    )


class ReceivingVM(ActingVM[ReceivingScreen]):
    def _start(self) -> None:
        self._current: str | None = None

    def screen(self, message: str = "", tone: Tone = "info") -> ReceivingScreen:
        every = self._store.inbounds()
        open_ = tuple(_row(s) for s in every if s.state is not InboundState.CLOSED)
        current = self._store.inbound(self._current) if self._current else None
        who = self._session.associate
        manager = bool(who and who.is_manager)
        if current is None:
            return ReceivingScreen(open_, message=message, tone=tone, can_send=manager)
        damaged = sum(x.damaged for x in current.lines)
        summary = f"Counted {current.received_units} of {current.expected_units}"
        if damaged:
            summary += f" · {damaged} damaged"
        return ReceivingScreen(
            open_,
            _row(current),
            tuple(_line(x) for x in current.lines),
            tuple((c.sscc, c.received) for c in current.cartons),
            summary,
            current.state is not InboundState.CLOSED,
            message,
            tone,
            manager,
        )

    def open(self, shipment_id: str) -> ReceivingScreen:
        if self._store.inbound(shipment_id) is None:
            return self.screen(f"Shipment {shipment_id} is not on this tablet.", "error")
        self._current = shipment_id
        return self.screen()

    def back(self) -> ReceivingScreen:
        self._current = None
        return self.screen()

    def _shipment(self) -> Inbound | str:
        if self._current is None:
            return "Choose a shipment first."
        found = self._store.inbound(self._current)
        if found is None:
            return f"Shipment {self._current} is not on this tablet."
        if found.state is InboundState.CLOSED:
            return f"Shipment {found.shipment_id} is closed: ask a manager to adjust the stock."
        return found

    def scan(self, code: str) -> ReceivingScreen:
        """A carton's SSCC counts the carton; a product's GTIN counts one unit of it."""
        shipment = self._shipment()
        if isinstance(shipment, str):
            return self.screen(shipment, "error")
        sscc = parse_sscc(code)
        if sscc is not None:
            known = next((c for c in shipment.cartons if c.sscc == sscc), None)
            if known is None:
                return self.screen(
                    f"Carton {sscc} is not on this shipment: count its items one by one.", "error"
                )
            if known.received:
                return self.screen(f"Carton {sscc} was already counted.", "info")
            units = sum(x.qty for x in known.lines)
            done = f"Carton {sscc}: {units} unit(s) counted." if units else f"Carton {sscc} ticked."
            return self._act(
                "inbound.carton", {"shipment_id": shipment.shipment_id, "sscc": sscc}, done
            )
        item = self._scanned_item(code)
        if isinstance(item, str):
            return self.screen(item, "error")
        return self.add(item.sku, 1)

    def add(self, sku: str, qty: int, damaged: int = 0) -> ReceivingScreen:
        """+/− on a line (`qty` units more or fewer), `damaged` more (or fewer) damaged."""
        shipment = self._shipment()
        if isinstance(shipment, str):
            return self.screen(shipment, "error")
        line = shipment.line(sku)
        have = line.received if line else 0
        hurt = line.damaged if line else 0
        asked_damaged = damaged
        qty = max(qty, -have)
        damaged = max(min(damaged, have + qty - hurt), -hurt)
        if qty == 0 and damaged == 0:
            if asked_damaged > 0:
                return self.screen("Count the unit first, then mark it damaged.", "error")
            return self.screen("Nothing to take off.", "info")
        name = (line.name if line and line.name else None) or self._name(sku)
        if damaged:
            done = f"{name}: {abs(damaged)} {'marked damaged' if damaged > 0 else 'no longer damaged'}."
        else:
            done = f"{name}: {have + qty} counted."
        return self._act(
            "inbound.count",
            {"shipment_id": shipment.shipment_id, "sku": sku, "qty": qty, "damaged": damaged},
            done,
        )

    def set_count(self, sku: str, text: str) -> ReceivingScreen:
        """The keypad: how many units of the line are here in all."""
        value = (text or "").strip()
        if not value.isdigit() or len(value) > 5:
            return self.screen("Type the number of units, such as 12.", "error")
        shipment = self._shipment()
        if isinstance(shipment, str):
            return self.screen(shipment, "error")
        line = shipment.line(sku)
        have = line.received if line else 0
        if int(value) == have:
            return self.screen(f"{int(value)} already counted.", "info")
        return self.add(sku, int(value) - have)

    def damaged(self, sku: str, qty: int = 1) -> ReceivingScreen:
        """Mark `qty` of the counted units damaged (negative: not damaged after all)."""
        return self.add(sku, 0, qty)

    def close(self) -> ReceivingScreen:
        shipment = self._shipment()
        if isinstance(shipment, str):
            return self.screen(shipment, "error")
        if shipment.received_units == 0:
            return self.screen("Nothing is counted yet: count what arrived first.", "error")
        differs = shipment.differs
        done = (
            f"Shipment {shipment.shipment_id} received with differences: a manager is told."
            if differs
            else f"Shipment {shipment.shipment_id} received."
        )
        shown = self._act("inbound.close", {"shipment_id": shipment.shipment_id}, done)
        if shown.tone == "error":
            return shown
        self._current = None
        return self.screen(done, "warning" if differs else "ok")

    def send(self, destination: str, code: str, qty: str) -> ReceivingScreen:
        """A manager sends `qty` of an item (scanned, or its sku) to another store: a transfer
        picked with the pick list and shipped from the Ship screen once central has it."""
        who = self._session.associate
        if who is not None and not who.is_manager:
            return self.screen("Only a manager can send stock to another store.", "error")
        store = (destination or "").strip()
        if not store:
            return self.screen("Type the store the stock goes to.", "error")
        amount = (qty or "").strip()
        if not amount.isdigit() or not 0 < int(amount) <= 9999:
            return self.screen("Type how many units to send, such as 6.", "error")
        item = self._store.item((code or "").strip()) or self._scanned_item(code)
        if isinstance(item, str):
            return self.screen(item, "error")
        transfer_id = f"TR-{uuid.uuid4().hex[:8].upper()}"
        return self._act(
            "transfer.create",
            {
                "transfer_id": transfer_id,
                "destination": store,
                "lines": [{"sku": item.sku, "qty": int(amount)}],
            },
            f"Transfer {transfer_id}: {amount} × {item.name} to store {store}. "
            "It joins the pick queue once the tablet has synced.",
        )

    def _name(self, sku: str) -> str:
        item = self._store.item(sku)
        return item.name if item else sku
