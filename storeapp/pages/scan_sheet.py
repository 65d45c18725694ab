"""`GET /pages/scan-sheet`: the demo store's barcodes on one printable page (issue #10, #12).

A newcomer with a scanner (or a phone showing the page to one) can try every scanning
screen: the items of the open orders (their GTIN as an EAN-13 / UPC-A / ITF-14 bar code,
with their shelf), the shelves to count (Code 128), and the pickup codes of the pickup
orders (the QR a customer's e-mail carries, "PICKUP:<code>"), each said ready or not yet.

Everything comes from the hub's own replica, so the page shows what the app knows, never
a code that does not exist. Pickup codes are the customers' secrets: the page is served
only when `StoreappSettings.scan_sheet` is on (`storeapp demo` turns it on); otherwise 404.
Bar codes are drawn by python-barcode (SVG writer) and segno (QR), inline in the HTML.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

import barcode
import segno
from barcode.writer import SVGWriter
from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse

from fulfillment.barcodes import printed_gtin
from fulfillment.model import OPEN_STATES, Order, OrderState
from storeapp.local import LocalStore
from storeapp.settings import StoreappSettings

from .paths import SCAN_SHEET_PATH as PATH

__all__ = ["PATH", "ScanSheet", "gtin_svg", "read_sheet", "render", "scan_sheet"]


_BAR = {"module_height": 12.0, "font_size": 8, "text_distance": 3.5, "quiet_zone": 4.0}


@dataclass(frozen=True)
class SheetItem:
    sku: str
    name: str
    location: str
    gtin: str


@dataclass(frozen=True)
class SheetPickup:
    order_id: str
    code: str
    customer: str
    ready: bool  # staged: hand-over finds it now; otherwise pick and stage it first
    state: str


@dataclass(frozen=True)
class ScanSheet:
    store_name: str
    items: tuple[SheetItem, ...]
    shelves: tuple[tuple[str, str], ...]  # (location, what is counted there)
    pickups: tuple[SheetPickup, ...]


def read_sheet(store: LocalStore) -> ScanSheet:
    """The sheet from the replica: items of open orders, shelves to count, pickup codes."""
    info = store.store_info() or {}
    states = [s.value for s in OPEN_STATES]
    orders = sorted(store.orders_in(states), key=lambda o: o.order_id)
    items: dict[str, SheetItem] = {}
    for order in orders:
        for line in order.lines:
            if line.sku in items:
                continue
            item = store.item(line.sku)
            gtins = line.gtins or (item.gtins if item else ())
            if not gtins:
                continue
            items[line.sku] = SheetItem(
                line.sku,
                line.name or (item.name if item else line.sku),
                line.location or (item.location if item else ""),
                printed_gtin(gtins[0]),
            )
    shelves: dict[str, str] = {}
    for task in store.recount_tasks():
        if task.location:
            item = store.item(task.sku)
            shelves.setdefault(task.location, item.name if item else task.sku)
    return ScanSheet(
        store_name=str(info.get("name") or info.get("store_id") or "Store"),
        items=tuple(sorted(items.values(), key=lambda i: (i.location, i.sku))),
        shelves=tuple(sorted(shelves.items())),
        pickups=tuple(_pickup(o) for o in orders if o.pickup_code),
    )


def _pickup(order: Order) -> SheetPickup:
    assert order.pickup_code is not None
    return SheetPickup(
        order.order_id,
        order.pickup_code,
        order.customer.name or "",
        order.state is OrderState.STAGED,
        order.state.value.replace("_", " "),
    )


def _svg(raw: bytes | str) -> str:
    """An SVG document as an inline element (no XML declaration, no doctype)."""
    text = raw.decode() if isinstance(raw, bytes) else raw
    return text[text.index("<svg") :]


def gtin_svg(gtin: str) -> str:
    """A GTIN as the bar code a till scanner reads: EAN-13, UPC-A (12), EAN-8, ITF-14."""
    kind = {13: "ean13", 12: "upca", 8: "ean8", 14: "itf"}.get(len(gtin), "code128")
    code = barcode.get(kind, gtin, writer=SVGWriter())
    return _svg(code.render(writer_options=_BAR))


def code128_svg(text: str) -> str:
    return _svg(barcode.get("code128", text, writer=SVGWriter()).render(writer_options=_BAR))


def qr_svg(text: str) -> str:
    return str(segno.make(text, error="m").svg_inline(scale=4, border=2))


_CSS = """
body { font-family: system-ui, sans-serif; margin: 16px; color: #111; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 20px 0 8px; }
p.how { max-width: 60em; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(210px, 1fr)); gap: 10px; }
.card { border: 1px solid #bbb; border-radius: 6px; padding: 8px; break-inside: avoid; }
.card svg { display: block; max-width: 100%; height: auto; }
.name { font-weight: 600; font-size: 14px; } .meta { font-size: 12px; color: #444; }
.ready { color: #1b5e20; font-weight: 600; } .later { color: #8a4b00; }
@media print { .noprint { display: none; } body { margin: 0; } }
"""


def render(sheet: ScanSheet) -> str:
    """The printable HTML page."""
    e = escape
    pickups = "".join(
        f'<div class="card" data-code="{e(p.code)}">{qr_svg("PICKUP:" + p.code)}'
        f'<div class="name">{e(p.code)}</div><div class="meta">{e(p.order_id)} · '
        f"{e(p.customer)}</div>"
        + (
            '<div class="meta ready">Ready: Hand-over finds it</div>'
            if p.ready
            else f'<div class="meta later">{e(p.state)}: pick and stage it first</div>'
        )
        + "</div>"
        for p in sheet.pickups
    )
    items = "".join(
        f'<div class="card" data-gtin="{e(i.gtin)}">{gtin_svg(i.gtin)}'
        f'<div class="name">{e(i.name)}</div>'
        f'<div class="meta">{e(i.sku)} · shelf {e(i.location)}</div></div>'
        for i in sheet.items
    )
    shelves = "".join(
        f'<div class="card" data-shelf="{e(loc)}">{code128_svg(loc)}'
        f'<div class="name">Shelf {e(loc)}</div><div class="meta">count: {e(what)}</div></div>'
        for loc, what in sheet.shelves
    )
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Scan sheet · {e(sheet.store_name)}</title><style>{_CSS}</style></head><body>"
        f"<h1>Scan sheet · {e(sheet.store_name)}</h1>"
        "<p class='how'>Try the app with a scanner: open a screen, then scan a code below "
        "(a wedge scanner types it into the focused scan field; typing the number and "
        "Enter does the same). Pick list: scan the items of the order. Hand-over: scan a "
        "pickup QR of an order that is ready. Counts: scan the shelf, then its items. "
        "<span class='noprint'>Print it with your browser (Ctrl-P), or scan it from this "
        "screen.</span></p>"
        f"<h2>Pickup codes ({len(sheet.pickups)})</h2><div class='grid'>{pickups}</div>"
        f"<h2>Items in open orders ({len(sheet.items)})</h2><div class='grid'>{items}</div>"
        f"<h2>Shelves to count ({len(sheet.shelves)})</h2><div class='grid'>{shelves}</div>"
        "</body></html>"
    )


def scan_sheet(request: Request) -> HTMLResponse:
    """`GET /pages/scan-sheet` (routed by storeapp.pages.routes)."""
    settings: StoreappSettings = request.app.state.settings
    if not settings.scan_sheet or not settings.db_path.exists():
        raise HTTPException(404, "The scan sheet is served by `storeapp demo` only")
    with LocalStore(settings.db_path) as store:
        sheet = read_sheet(store)
    return HTMLResponse(render(sheet), headers={"Cache-Control": "no-store"})
