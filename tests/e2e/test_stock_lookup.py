"""Stock lookup in Chromium against a real central and a real `storeapp hub`: scan a GTIN,
see the store's stock of it, then the chain's other stores (issue #11)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.browser import (
    by_identifier,
    click_button,
    fill_textbox,
    open_flet_page,
    press_enter,
    wait_keyboard_in,
)
from tests.e2e.conftest import Hub

pytestmark = pytest.mark.e2e


@pytest.fixture
def page(hub: Hub, browser: Browser) -> Iterator[Page]:
    page = open_flet_page(browser, hub.url)
    yield page
    page.context.close()


def test_a_scanned_gtin_shows_its_stock_and_the_other_stores_that_hold_it(
    hub: Hub, page: Page
) -> None:
    other = hub.central.new_store(stock=3)
    sku = hub.store.skus[0]
    fill_textbox(page, "Employee id", "E1")
    fill_textbox(page, "PIN", "1111")
    click_button(page, "Sign in")
    expect(by_identifier(page, "associate")).to_have_text("Ana")
    page.get_by_role("button", name="Stock").first.click()
    wait_keyboard_in(page, "Scan or type sku or name")
    page.keyboard.type(hub.store.gtins[sku])
    press_enter(page, "Scan or type sku or name")
    expect(by_identifier(page, "lookup-item")).to_have_text(f"Item 1 · {sku}")
    expect(by_identifier(page, "lookup-totals")).to_contain_text("available")
    click_button(page, "Other stores")
    expect(page.get_by_text(f"({other.store_id}): 3 available")).to_be_visible()
