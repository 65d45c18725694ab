"""Receiving a shipment in Chromium against a real central and a real `storeapp hub`: Ana
opens the shipment the OMS announced, scans its carton, counts one more unit with +, marks
one damaged and closes the receipt; the stock reaches central and the difference is a
manager's exception."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser import (
    CHROMIUM_PATH,
    by_identifier,
    click_button,
    fill_textbox,
    press_enter,
)
from tests.e2e.conftest import Hub, running_hub
from tests.e2e.test_pickup_flow import open_rail
from tests.support.central import ok, running_central

pytestmark = pytest.mark.e2e

SSCC = "376123450000000016"


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """central with a store expecting shipment S-1 (one carton of 4), a hub on it."""
    if not Path(CHROMIUM_PATH).exists():
        pytest.skip(f"{CHROMIUM_PATH} is missing (apt-get install chromium): no browser tests")
    root = tmp_path_factory.mktemp("e2e-receiving")
    with running_central(f"sqlite:///{root / 'central.db'}") as central:
        store = central.new_store(items=2, stock=10)
        sku = store.skus[0]
        body = {
            "source": "dc",
            "lines": [{"sku": sku, "qty": 4}],
            "cartons": [{"sscc": SSCC, "lines": [{"sku": sku, "qty": 4}]}],
        }
        ok(central.oms.put(f"/v1/oms/stores/{store.store_id}/inbound/S-1", json=body))
        with running_hub(central, store.store_id, root) as (url, data_dir):
            yield Hub(central, store, url, data_dir)


def test_scan_the_carton_count_mark_damaged_and_close(hub: Hub, page: Page) -> None:
    store, sku = hub.store, hub.store.skus[0]
    fill_textbox(page, "Employee id", "E1")
    fill_textbox(page, "PIN", store.staff["E1"])
    click_button(page, "Sign in")
    expect(by_identifier(page, "associate")).to_have_text("Ana")
    open_rail(page, "Receiving")
    by_identifier(page, "receiving-shipment-S-1").click()
    fill_textbox(page, "Scan a carton or an item", SSCC)
    press_enter(page)
    said = by_identifier(page, "receiving-message")
    expect(said).to_have_text(f"Carton {SSCC}: 4 unit(s) counted.")
    line = by_identifier(page, f"receiving-line-{sku}")
    expect(line).to_have_text("4 of 4")
    by_identifier(page, f"receiving-plus-{sku}").click()
    expect(line).to_have_text("5 of 4 · 1 over")
    click_button(page, "Damaged")
    expect(line).to_have_text("5 of 4 · 1 over · 1 damaged")
    click_button(page, "Close the receipt")
    expect(said).to_have_text("Shipment S-1 received with differences: a manager is told.")

    deadline, on_hand = time.monotonic() + 20, 0
    while time.monotonic() < deadline:
        rows = ok(
            hub.central.oms.get(f"/v1/oms/stores/{store.store_id}/stock", params={"sku": sku})
        )
        on_hand = {r["location"]: r["on_hand"] for r in rows}.get(store.locations[sku], 0)
        if on_hand == 14:
            break
        time.sleep(0.25)
    assert on_hand == 10 + 4  # four good units on the shelf; the damaged one in the bin
    exceptions = ok(hub.central.oms.get(f"/v1/oms/stores/{store.store_id}/exceptions"))
    assert [x["code"] for x in exceptions] == ["RECEIPT_DIFFERS"]
