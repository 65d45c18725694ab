"""The returns desk finds an order older than what the hub downloaded by looking it up on
central, in Chromium against a real central and a real `storeapp hub`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.browser import (
    CHROMIUM_PATH,
    by_identifier,
    click_button,
    fill_textbox,
    open_flet_page,
    press_enter,
    wait_keyboard_in,
)
from tests.e2e.conftest import Hub, running_hub
from tests.e2e.test_pickup_flow import open_rail
from tests.support.central import running_central
from tests.support.selling import sell

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """A store with an order sold 100 days ago (past two 30-day windows), then a hub on it:
    its first download leaves that order out."""
    if not Path(CHROMIUM_PATH).exists():
        pytest.skip(f"{CHROMIUM_PATH} is missing (apt-get install chromium): no browser tests")
    root = tmp_path_factory.mktemp("e2e-lookup")
    with running_central(f"sqlite:///{root / 'central.db'}") as central:
        store = central.new_store(items=2)
        old = sell(central, store, [(store.skus[0], 2)], days_ago=100)
        with running_hub(central, store.store_id, root) as (url, data_dir):
            yield Hub(central, store, url, data_dir, {"old": {"order_id": old}})


@pytest.fixture
def page(hub: Hub, browser: Browser) -> Iterator[Page]:
    page = open_flet_page(browser, hub.url)
    yield page
    page.context.close()


def test_an_order_older_than_the_hub_holds_is_found_on_central(hub: Hub, page: Page) -> None:
    old = hub.orders["old"]["order_id"]
    fill_textbox(page, "Employee id", "E1")
    fill_textbox(page, "PIN", "1111")
    click_button(page, "Sign in")
    expect(by_identifier(page, "associate")).to_have_text("Ana")
    open_rail(page, "Returns")
    wait_keyboard_in(page, "Find order")
    page.keyboard.type(old)
    press_enter(page, "Find order")
    expect(by_identifier(page, "returns-message")).to_have_text(
        f"Order {old} was not on this tablet: found on central. Choose what comes back."
    )
    expect(by_identifier(page, "returns-order")).to_have_text(re.compile(f"^{old} · "))
    page.get_by_label("More", exact=True).first.click()
    expect(by_identifier(page, "return-qty-1")).to_have_text("1")
    expect(by_identifier(page, "returns-breaches")).to_have_text(re.compile("^Sold 100 days ago"))
