"""The demo's scan sheet (issue #10, finding 12): the store's barcodes on one printable page,
from the hub's replica, so a newcomer scans codes that exist: the items of the open orders
(their GTIN), the shelves to count, and the pickup codes (ready ones said so)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import flet as ft
import httpx
import pytest

from central.seed import READY_ORDER
from fulfillment.barcodes import printed_gtin
from fulfillment.model import OPEN_STATES
from storeapp.app import ASSETS_DIR
from storeapp.enrollment import enroll_data_dir
from storeapp.local import LocalStore
from storeapp.pages import add_pages
from storeapp.pages.scan_sheet import PATH, gtin_svg
from storeapp.settings import StoreappSettings
from sync.engine import SyncEngine
from tests.support.central import Central


@pytest.fixture
def demo_hub(central: Central, tmp_path: Path) -> Path:
    """A hub's data dir, enrolled on the seeded demo store and synced once."""
    central.seed_demo()
    db_path = tmp_path / "hub" / "store.db"
    enroll_data_dir(db_path, central.url, central.enroll_code("S001"), "demo hub")
    assert SyncEngine(lambda: LocalStore(db_path)).run_once().ok
    return db_path.parent


def _get(settings: StoreappSettings, path: str = PATH) -> httpx.Response:
    asgi = ft.run(lambda page: None, no_cdn=True, assets_dir=str(ASSETS_DIR), export_asgi_app=True)
    add_pages(asgi, settings)

    async def fetch() -> httpx.Response:
        transport = httpx.ASGITransport(app=asgi)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            return await client.get(path)

    return asyncio.run(fetch())


def test_the_sheet_lists_the_real_pickup_codes_and_every_open_order_item_s_gtin(
    demo_hub: Path,
) -> None:
    page = _get(StoreappSettings(data_dir=demo_hub, scan_sheet=True))
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    with LocalStore(demo_hub / "store.db") as store:
        orders = store.orders_in([s.value for s in OPEN_STATES])
        tasks = store.recount_tasks()
    codes = sorted(o.pickup_code for o in orders if o.pickup_code)
    assert codes and sorted(re.findall(r'data-code="([^"]+)"', html)) == codes
    ready = next(o for o in orders if o.order_id == READY_ORDER)
    assert ready.pickup_code is not None
    cards = {c: html[html.index(f'data-code="{c}"') :].split('class="card"')[0] for c in codes}
    assert [c for c, card in cards.items() if "Ready: Hand-over finds it" in card] == [
        ready.pickup_code
    ]
    gtins = {printed_gtin(line.gtins[0]) for o in orders for line in o.lines}
    assert set(re.findall(r'data-gtin="(\d+)"', html)) == gtins
    for gtin in gtins:  # each card carries the bar code python-barcode draws for that GTIN
        assert gtin_svg(gtin) in html
    shelves = {t.location for t in tasks}
    assert shelves and set(re.findall(r'data-shelf="([^"]+)"', html)) == shelves
    assert "@media print" in html


def test_the_sheet_is_served_by_the_demo_only(demo_hub: Path) -> None:
    """It shows customers' pickup codes: a store's hub does not serve it."""
    assert _get(StoreappSettings(data_dir=demo_hub)).status_code == 404
