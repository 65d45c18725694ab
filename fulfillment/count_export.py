"""Count results as CSV (issue #12): one row per count, the same columns whoever writes it
(central's `GET /v1/oms/stores/{id}/counts.csv`, the hub's download, `storeapp counts-csv`).

A count central has not answered yet (on a tablet: `submitted`) has empty book, variance and
value. Text cells that a spreadsheet would run as a formula (starting with = + - @, a tab or
a carriage return) are written with a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from .counts import _Counted

__all__ = ["COLUMNS", "counts_csv", "csv_filename"]

COLUMNS = (
    "count_id",
    "counted_at",
    "sku",
    "name",
    "location",
    "counted",
    "book",
    "variance",
    "unit_cost",
    "value",
    "adjustment",
    "state",
    "counted_by",
    "counted_by_name",
    "decided_by",
    "decided_by_name",
    "decided_at",
    "task_id",
)
_FORMULA = ("=", "+", "-", "@", "\t", "\r")
_TEXT = {"count_id", "sku", "name", "location", "counted_by", "counted_by_name", "decided_by"}
_TEXT |= {"decided_by_name", "task_id", "state"}


def _cell(column: str, value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    text = str(value.value) if hasattr(value, "value") else str(value)
    if column in _TEXT and text.startswith(_FORMULA):
        return "'" + text
    return text


def counts_csv(counts: Iterable[_Counted]) -> str:
    """The counts as CSV text (a header row, then a row a count; `\\r\\n` line ends)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for c in counts:
        writer.writerow([_cell(col, getattr(c, col)) for col in COLUMNS])
    return out.getvalue()


def csv_filename(store_id: str, first: datetime | None, last: datetime | None) -> str:
    """'counts-S001-2026-03-01-2026-03-07.csv' (a side not given: 'all')."""
    a = first.date().isoformat() if first else "start"
    b = last.date().isoformat() if last else "now"
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in store_id)
    return f"counts-{safe}-{a}-{b}.csv"
