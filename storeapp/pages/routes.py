"""The hub's page routes, kept light: each handler imports its page's module (the replica,
the PDF and bar code libraries) on its first request, so the hub answers before it loads
them (issue #9, hub start)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from .paths import COUNTS_CSV_PATH, PRINT_PATH, SCAN_SHEET_PATH

__all__ = ["router"]

router = APIRouter()


@router.get(PRINT_PATH, response_model=None)
def print_document(
    kind: str, doc_id: str, request: Request, t: str = Query(default="", max_length=100)
) -> Response:
    from .documents import print_document as serve

    return serve(kind, doc_id, request, t)


@router.get(SCAN_SHEET_PATH, response_class=HTMLResponse, include_in_schema=False)
def scan_sheet(request: Request) -> HTMLResponse:
    from .scan_sheet import scan_sheet as serve

    return serve(request)


@router.get(COUNTS_CSV_PATH, response_model=None)
def counts_csv(request: Request, t: str = Query(default="", max_length=100)) -> Response:
    from .counts_csv import counts_download as serve

    return serve(request, t)
