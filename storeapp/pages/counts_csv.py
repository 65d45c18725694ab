"""`/pages/counts.csv?t=…`: every count on the hub's replica as CSV (issue #12), for the
manager who tapped "Download counts (CSV)" on the Count plans screen.

Only with the short-lived signed token that screen's view-model minted (`PlansVM.csv_url`,
kind `counts.csv`): this route has no Flet session to ask who is signed in. Read from the
replica, so it works during a WAN outage (counts central has not answered yet are rows
with an empty book).
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import Request
from fastapi.responses import PlainTextResponse, Response

from fulfillment.count_export import counts_csv, csv_filename
from storeapp.local import LocalStore
from storeapp.printing import check_token, link_key
from storeapp.settings import StoreappSettings

__all__ = ["CSV_KIND", "counts_download"]

CSV_KIND = "counts.csv"  # the token's kind (storeapp.viewmodels.plans.CSV_KIND)
EXPIRED = "This download link is not valid or has expired: tap Download again in the app."


def counts_download(request: Request, t: str) -> Response:
    """`GET /pages/counts.csv?t=` (routed by storeapp.pages.routes)."""
    settings: StoreappSettings = request.app.state.settings
    now = datetime.now(UTC)
    if not check_token(link_key(settings.data_dir), CSV_KIND, "all", t, now):
        return PlainTextResponse(EXPIRED, status_code=403)
    with LocalStore(settings.db_path) as store:
        body = counts_csv(store.count_documents())
        info = store.store_info() or {}
    name = csv_filename(str(info.get("store_id") or "store"), None, now)
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )
