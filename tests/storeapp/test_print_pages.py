"""The Print dialog's view-model and the hub's page route: a signed, short-lived link per
document of the order, served from the replica as a PDF."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import flet as ft
import httpx
import pytest

from storeapp.app import ASSETS_DIR
from storeapp.local import LocalStore
from storeapp.pages import add_pages
from storeapp.printing import Printers
from storeapp.settings import StoreappSettings
from storeapp.viewmodels import SessionVM
from storeapp.viewmodels.printing import PrintVM
from tests.storeapp.builders import ENROLLED, Feed, order_doc
from tests.storeapp.conftest import FakeClock
from tests.support.printed import text


@pytest.fixture
def hub_store(tmp_path: Path, feed: Feed) -> Iterator[LocalStore]:
    """The hub's replica where the hub keeps it (`<data dir>/store.db`), with two orders."""
    with LocalStore(tmp_path / "store.db") as local:
        local.enroll(ENROLLED, "http://central.test/")
        local.apply_pull(feed.basics())
        local.apply_pull(
            feed.orders(
                order_doc("P-1", [("1", "DOG2", 1)], pickup_code="PK1"),
                order_doc("S-1", [("1", "BOWL", 2)], type="ship_from_store"),
            )
        )
        yield local


def _get(tmp_path: Path, *urls: str) -> list[httpx.Response]:
    asgi = ft.run(lambda page: None, no_cdn=True, assets_dir=str(ASSETS_DIR), export_asgi_app=True)
    add_pages(asgi, StoreappSettings(data_dir=tmp_path))

    async def fetch() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=asgi)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            return [await client.get(url) for url in urls]

    return asyncio.run(fetch())


def _signed_in(store: LocalStore) -> SessionVM:
    session = SessionVM(store)
    assert session.sign_in("E1", "1234").signed_in
    return session


def test_the_dialog_lists_the_order_s_documents_and_each_link_serves_its_pdf(
    hub_store: LocalStore, tmp_path: Path
) -> None:
    vm = PrintVM(hub_store, _signed_in(hub_store))
    screen = vm.open("P-1")
    assert [(r.kind, r.title, r.to_printer) for r in screen.rows] == [
        ("picklist", "Pick list", False),
        ("slip", "Packing slip", False),
        ("tag", "Shelf tag", False),
    ]
    pages = _get(tmp_path, *(r.url for r in screen.rows))
    assert [p.status_code for p in pages] == [200, 200, 200]
    assert {p.headers["content-type"] for p in pages} == {"application/pdf"}
    assert "Order P-1" in text(pages[2].content)
    ship = vm.open("S-1")
    assert [r.title for r in ship.rows][-1] == "Shipping label (simple)"


def test_a_link_serves_only_its_own_document_and_only_for_a_few_minutes(
    hub_store: LocalStore, tmp_path: Path
) -> None:
    clock = FakeClock()
    clock.now = clock.now.replace(year=2099)  # links are checked against the real clock
    fresh = PrintVM(hub_store, _signed_in(hub_store), clock=clock).open("P-1").rows[1].url
    clock.now = clock.now.replace(year=2020)
    expired = PrintVM(hub_store, _signed_in(hub_store), clock=clock).open("P-1").rows[1].url
    other_order = fresh.replace("/P-1.pdf", "/S-1.pdf")
    other_kind = fresh.replace("/slip/", "/tag/")
    forged = fresh[:-3] + ("aaa" if not fresh.endswith("aaa") else "bbb")
    pages = _get(
        tmp_path, fresh, expired, other_order, other_kind, forged, "/pages/print/slip/P-1.pdf"
    )
    assert [p.status_code for p in pages] == [200, 403, 403, 403, 403, 403]
    assert "tap Print again" in pages[1].text


def test_nobody_signed_in_gets_no_links(hub_store: LocalStore) -> None:
    screen = PrintVM(hub_store, SessionVM(hub_store)).open("P-1")
    assert (screen.rows, screen.message) == ((), "Sign in first.")


def test_an_order_not_on_the_tablet_is_a_message(hub_store: LocalStore) -> None:
    screen = PrintVM(hub_store, _signed_in(hub_store)).open("W-404")
    assert (screen.rows, screen.message, screen.tone) == (
        (),
        "Order W-404 is not on this tablet.",
        "error",
    )


def test_send_to_the_store_printer_says_what_happened(
    hub_store: LocalStore, tmp_path: Path
) -> None:
    vm = PrintVM(hub_store, _signed_in(hub_store), Printers(label_printer="127.0.0.1:9"))
    screen = vm.open("S-1")
    assert [r.to_printer for r in screen.rows] == [False, False, False]  # no PDF printer here
    sent = asyncio.run(vm.send("slip"))
    assert (sent.message, sent.tone) == (
        "No store printer is set up on this hub (STOREAPP_PRINTER).",
        "error",
    )
    assert len(sent.rows) == 3
