"""Where the hub serves its pages (one place for the routes, the app's links and the CLI)."""

from __future__ import annotations

__all__ = ["COUNTS_CSV_PATH", "PRINT_PATH", "SCAN_SHEET_PATH"]

PRINT_PATH = "/pages/print/{kind}/{doc_id}.pdf"
SCAN_SHEET_PATH = "/pages/scan-sheet"
COUNTS_CSV_PATH = "/pages/counts.csv"
