"""The catalogue kinds: staff, items (with their GTINs) and stock rows from central's
documents, what the catalogue says of a sku, and the tablet's side of `stock.adjust`.

The store's policy and time zone (the `store` document) are read by `_docs`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from fulfillment.barcodes import InvalidBarcode, normalize_gtin
from fulfillment.codes import Code
from fulfillment.model import Role
from fulfillment.returns import ItemFacts

from ._docs import Acting, dumps
from ._records import ActResult, rows

__all__ = ["BULK_TABLES", "PROJECT", "PROJECT_MANY", "apply_stock", "device_name", "item_facts"]


def _project_staff(conn: sqlite3.Connection, id_: str, doc: dict[str, Any] | None) -> None:
    conn.execute("DELETE FROM staff WHERE employee_id = ?", (id_,))
    if doc is None:
        return
    conn.execute(
        "INSERT INTO staff (employee_id, name, role, pin_hash, active) VALUES (?, ?, ?, ?, ?)",
        (
            doc.get("employee_id") or id_,
            doc.get("name") or id_,
            doc.get("role") or Role.ASSOCIATE.value,
            doc.get("pin_hash"),
            1 if doc.get("active", True) else 0,
        ),
    )


def _gtin14(code: Any) -> str | None:
    """A GTIN-14 of a catalogue code, or None for a code that is no GTIN."""
    try:
        return normalize_gtin(str(code))
    except InvalidBarcode:
        return None


def _project_item(conn: sqlite3.Connection, id_: str, doc: dict[str, Any] | None) -> None:
    conn.execute("DELETE FROM items WHERE sku = ?", (id_,))
    conn.execute("DELETE FROM gtins WHERE sku = ?", (id_,))
    if doc is not None:
        _items_many(conn, [(id_, doc, dumps(doc))])


def _project_stock(conn: sqlite3.Connection, id_: str, doc: dict[str, Any] | None) -> None:
    conn.execute("DELETE FROM stock WHERE id = ?", (id_,))
    if doc is not None:
        _stock_many(conn, [(id_, doc, "")])


Projector = Callable[[sqlite3.Connection, str, "dict[str, Any] | None"], None]

PROJECT: Mapping[str, Projector] = {
    "staff": _project_staff,
    "item": _project_item,
    "stock": _project_stock,
}
"""The catalogue's projections by change kind: row(s) = central's document (None: deleted)."""


def _items_many(
    conn: sqlite3.Connection, docs: list[tuple[str, dict[str, Any], str]], suffix: str = ""
) -> None:
    conn.executemany(
        f"""INSERT INTO items{suffix} (sku, name, price, location, location_seq, final_sale, data)
           VALUES (?, ?, ?, ?, ?, ?, ?)""",
        [
            (
                doc.get("sku") or id_,
                doc.get("name") or doc.get("sku") or id_,
                None if doc.get("price") is None else str(doc["price"]),
                doc.get("location") or "",
                int(doc.get("location_seq") or 0),
                1 if doc.get("final_sale") else 0,
                text,
            )
            for id_, doc, text in docs
        ],
    )
    codes = []
    for id_, doc, _ in docs:
        for code in doc.get("gtins") or ():
            gtin = _gtin14(code)
            if gtin:
                codes.append((gtin, doc.get("sku") or id_))
    conn.executemany(f"INSERT OR REPLACE INTO gtins{suffix} (gtin, sku) VALUES (?, ?)", codes)


def _stock_many(
    conn: sqlite3.Connection, docs: list[tuple[str, dict[str, Any], str]], suffix: str = ""
) -> None:
    conn.executemany(
        f"""INSERT INTO stock{suffix} (id, sku, location, on_hand, reserved, available, doubtful)
           VALUES (?, ?, ?, ?, ?, ?, ?)""",
        [
            (
                id_,
                doc.get("sku") or "",
                doc.get("location") or "",
                doc.get("on_hand"),
                doc.get("reserved"),
                doc.get("available"),
                1 if doc.get("doubtful") else 0,
            )
            for id_, doc, _ in docs
        ],
    )


ManyProjector = Callable[[sqlite3.Connection, "list[tuple[str, dict[str, Any], str]]", str], None]

PROJECT_MANY: Mapping[str, ManyProjector] = {"item": _items_many, "stock": _stock_many}
"""Bulk projections into empty tables (a snapshot): (id, document, its stored JSON text)
per row, the same rows as `PROJECT` writes one by one; into `<table><suffix>`."""
BULK_TABLES = ("items", "gtins", "stock")  # what `PROJECT_MANY` writes


def _price(text: Any) -> Decimal:
    try:
        return Decimal(str(text)) if text is not None else Decimal("0")
    except InvalidOperation:
        return Decimal("0")


def item_facts(conn: sqlite3.Connection, skus: Iterable[str]) -> dict[str, ItemFacts]:
    """What the catalogue on this tablet says of `skus` (unknown skus are left out)."""
    wanted = sorted(set(skus))
    if not wanted:
        return {}
    found = rows(
        conn,
        f"""SELECT sku, name, price, location, final_sale FROM items
            WHERE sku IN ({", ".join("?" * len(wanted))})""",
        wanted,
    )
    return {
        r["sku"]: ItemFacts(r["name"], _price(r["price"]), r["location"], bool(r["final_sale"]))
        for r in found
    }


def device_name(conn: sqlite3.Connection) -> str:
    """This device's name when central sent its `device` document, else ""."""
    row = conn.execute(
        """SELECT d.data FROM srv_docs d JOIN sync_state s ON s.id = 1
           WHERE d.kind = 'device' AND d.id = s.device_id"""
    ).fetchone()
    if not row:
        return ""
    data = json.loads(row[0])
    return str(data.get("name") or data.get("device_name") or "")


def apply_stock(act: Acting) -> ActResult:
    """`stock.adjust`: central posts it to the ledger; the tablet only checks the sku is an
    item of this store (the stock row changes when central's answer comes back)."""
    sku = act.payload["sku"]
    if act.conn.execute("SELECT 1 FROM items WHERE sku = ?", (sku,)).fetchone() is None:
        return ActResult(
            "rejected", False, Code.UNKNOWN_ITEM, f"{sku} is not an item of this store"
        )
    return ActResult("applied", True)
