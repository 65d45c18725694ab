"""`/pages/print/{kind}/{order_id}.pdf?t=…`: a document of the store as a PDF, read from the
hub's replica (so it prints during a WAN outage), for the browser tab the Print dialog opens.

Only with the short-lived signed token the dialog's view-model minted (`printing.print_url`):
this route has no Flet session to ask who is signed in.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import Request
from fastapi.responses import PlainTextResponse, Response

from storeapp.local import LocalStore
from storeapp.printing import NothingToPrint, check_token, link_key, printable
from storeapp.settings import StoreappSettings

__all__ = ["print_document"]

EXPIRED = "This print link is not valid or has expired: tap Print again in the app."


def print_document(kind: str, doc_id: str, request: Request, t: str) -> Response:
    """`GET /pages/print/{kind}/{doc_id}.pdf?t=` (routed by storeapp.pages.routes)."""
    settings: StoreappSettings = request.app.state.settings
    now = datetime.now(UTC)
    if not check_token(link_key(settings.data_dir), kind, doc_id, t, now):
        return PlainTextResponse(EXPIRED, status_code=403)
    try:
        with LocalStore(settings.db_path) as store:
            doc = printable(store, kind, doc_id, now, pdf_only=True)
    except NothingToPrint as exc:
        return PlainTextResponse(str(exc), status_code=404)
    return Response(
        doc.content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{doc.filename}"',
            "Cache-Control": "no-store",
        },
    )
