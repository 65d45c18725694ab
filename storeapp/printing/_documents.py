"""The store's printed documents, each a pure function of the tablet's data: the batch pick
list, the packing slip, the pickup shelf tag, the return receipt and the simple shipping
label (when the OMS attached none). No database, no clock: what they print is handed in.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from fulfillment.model import Order, OrderType
from fulfillment.picklist import build_pick_list, tote_label
from fulfillment.returns import Return

from ._layout import LABEL, Sheet

__all__ = [
    "fallback_label",
    "packing_slip",
    "pick_list",
    "return_receipt",
    "shelf_name",
    "shelf_tag",
]

RETURN_STEPS = (
    "To return an item: bring it with this slip to the store's service desk within the "
    "return window, or show the QR code below. The desk scans it and finds your order."
)


def _when(at: datetime | None, timezone: str) -> str:
    if at is None:
        return "-"
    return at.astimezone(ZoneInfo(timezone)).strftime("%d %b %Y %H:%M")


def shelf_name(name: str) -> str:
    """The customer's name as a shelf may show it to every passer-by: the first name and the
    initial of the last ("Jo Smith" → "Jo S.")."""
    parts = name.split()
    if len(parts) < 2:
        return name.strip()
    return f"{parts[0]} {parts[-1][0]}."


def pick_list(
    orders: Sequence[Order], store_name: str, printed_at: datetime, timezone: str
) -> bytes:
    """The lines of `orders` in walking order, a tote per order (the order given), with a
    barcode per tote and per order."""
    plan = build_pick_list(orders)
    sheet = Sheet(f"Pick list {', '.join(plan.order_ids)}")
    sheet.heading(f"Pick list - {len(orders)} order(s), {plan.qty} unit(s)")
    sheet.text(f"{store_name} · printed {_when(printed_at, timezone)}", size=9)
    sheet.gap()
    sheet.table(
        ("#", "Location", "Item", "SKU", "Qty", "Into totes"),
        [
            (
                i + 1,
                stop.location,
                stop.name,
                stop.sku,
                stop.remaining if stop.remaining != stop.qty else stop.qty,
                ", ".join(f"{s.tote}: {s.remaining}" for s in stop.splits if s.remaining),
            )
            for i, stop in enumerate(plan.stops)
        ],
        (4, 10, 30, 12, 5, 18),
    )
    sheet.gap(5)
    sheet.heading("Totes", size=13)
    for index, order in enumerate(orders):
        tote = tote_label(index)
        sheet.text(
            f"{tote} · order {order.order_id} · {order.type.value.replace('_', ' ')} · "
            f"due {_when(order.due_at, timezone)}",
            bold=True,
        )
        sheet.code128(tote, width=50, height=12)
        sheet.code128(order.order_id, width=60, height=12)
    return sheet.pdf()


def packing_slip(order: Order, store_name: str, timezone: str) -> bytes:
    """What is in the parcel (or the bag), what could not be sent, and how to return."""
    sheet = Sheet(f"Packing slip {order.order_id}")
    sheet.heading(f"Packing slip - order {order.order_id}")
    sheet.text(f"{store_name} · for {order.customer.name or '-'}")
    if order.carrier or order.tracking:
        sheet.text(f"{order.carrier or ''} {order.tracking or ''}".strip())
    sheet.gap()
    sent = [ln for ln in order.lines if (ln.fulfilled or ln.picked)]
    sheet.text(
        "In this parcel" if order.type is OrderType.SHIP_FROM_STORE else "In this bag", bold=True
    )
    if sent:
        sheet.table(
            ("Item", "SKU", "Ordered", "Sent"),
            [(ln.name, ln.sku, ln.qty, ln.fulfilled or ln.picked) for ln in sent],
            (34, 14, 8, 8),
        )
    else:
        sheet.text("Nothing packed yet.")
    short = [ln for ln in order.lines if ln.short]
    if short:
        sheet.gap()
        sheet.text("Not available (not sent, not charged)", bold=True)
        sheet.table(
            ("Item", "SKU", "Short"),
            [(ln.name, ln.sku, ln.short) for ln in short],
            (40, 14, 8),
        )
    sheet.gap(5)
    sheet.text("Returns", bold=True)
    sheet.text(RETURN_STEPS, size=10)
    sheet.qr(order.order_id, size=28)
    sheet.text(f"Order {order.order_id}", size=9)
    return sheet.pdf()


def shelf_tag(order: Order, timezone: str) -> bytes:
    """The tag on a pickup order's staging shelf: order, customer, shelf, pickup code."""
    sheet = Sheet(f"Shelf tag {order.order_id}", size=LABEL)
    sheet.heading(f"Order {order.order_id}", size=22)
    sheet.text(shelf_name(order.customer.name) or "-", size=18, bold=True)
    sheet.text(f"Shelf {order.staging_location or '(not staged yet)'}", size=16)
    sheet.text(f"Ready since {_when(order.staged_at, timezone)}", size=10)
    sheet.gap()
    if order.pickup_code:
        sheet.text("Pickup code", size=10)
        sheet.code128(order.pickup_code, width=80, height=20)
    sheet.text("Order", size=10)
    sheet.code128(order.order_id, width=80, height=16)
    return sheet.pdf()


def return_receipt(returns: Sequence[Return], store_name: str, timezone: str) -> bytes:
    """One page per return: what came back, where it went, the refund requested and to which
    tender."""
    sheet = Sheet(f"Return receipt {', '.join(r.return_id for r in returns)}")
    for i, ret in enumerate(returns):
        if i:
            sheet.new_page()
        sheet.heading(f"Return receipt - {ret.return_id}")
        ref = f"order {ret.order_id}" if ret.order_id else f"receipt {ret.receipt or '-'}"
        sheet.text(
            f"{store_name} · {ref} · received {_when(ret.received_at, timezone)} "
            f"by {ret.received_by_name or ret.received_by}"
        )
        sheet.gap()
        sheet.table(
            ("Item", "SKU", "Qty", "Reason", "Condition", "Goes to"),
            [
                (
                    ln.name or ln.sku,
                    ln.sku,
                    ln.accepted,
                    ln.reason.value.replace("_", " "),
                    ln.condition.value.replace("_", " "),
                    ln.location or ln.disposition.value.replace("_", " "),
                )
                for ln in ret.lines
            ],
            (26, 12, 6, 14, 12, 14),
        )
        refused = sum(ln.refused for ln in ret.lines)
        if refused:
            sheet.text(f"{refused} unit(s) more than were sold: a manager reviews them.", size=10)
        sheet.gap()
        tender = ret.tender.replace("_", " ")
        if ret.refund_requested:
            sheet.text(f"Refund requested: {ret.refund_amount} to the {tender}", bold=True)
        else:
            sheet.text(f"Refund of {ret.refund_amount} waits for a manager ({tender})", bold=True)
        for breach in ret.breaches:
            sheet.text(breach, size=10)
        sheet.code128(ret.return_id, width=60, height=12)
    return sheet.pdf()


def fallback_label(order: Order, store_name: str) -> bytes:
    """A simple parcel label when the OMS attached none: the order, the customer and the
    tracking number typed or scanned at ship, as a barcode."""
    sheet = Sheet(f"Shipping label {order.order_id}", size=LABEL)
    sheet.heading(order.customer.name or "-", size=20)
    sheet.text(f"Order {order.order_id} · {order.packages or 1} package(s)", size=12)
    sheet.text(f"From {store_name}", size=10)
    sheet.gap()
    if order.tracking:
        sheet.text(f"{order.carrier or 'Carrier'} tracking", size=10)
        sheet.code128(order.tracking, width=84, height=22)
    else:
        sheet.text("No tracking number yet: type or scan it at Ship.", size=12, bold=True)
    sheet.code128(order.order_id, width=60, height=12)
    return sheet.pdf()
