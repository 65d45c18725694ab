"""A customer brings back a demo order at the desk, in Chromium against a real central (seeded
with the demo store S001) and a real `storeapp hub`: one return within the 30-day window, and
one sold 45 days ago that a manager approves on the same screen with their id and PIN."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from central.seed import DEMO_STAFF, DEMO_STORE, demo_items, demo_sold_orders
from central.service.clock import utcnow
from sync.protocol import ItemIn
from tests.e2e.browser import (
    CHROMIUM_PATH,
    by_identifier,
    click_button,
    fill_textbox,
    open_flet_page,
    press_enter,
    wait_keyboard_in,
    wait_text,
)
from tests.e2e.conftest import Hub, running_hub
from tests.e2e.test_pickup_flow import open_rail
from tests.support.central import running_central

pytestmark = pytest.mark.e2e

ASSOCIATE, MANAGER = DEMO_STAFF[0], DEMO_STAFF[2]  # E100 Ana Lopez, M200 Maria Chen


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """central with the demo store S001 (and its orders sold days ago), a hub on S001."""
    if not Path(CHROMIUM_PATH).exists():
        pytest.skip(f"{CHROMIUM_PATH} is missing (apt-get install chromium): no browser tests")
    root = tmp_path_factory.mktemp("e2e-returns")
    with running_central(f"sqlite:///{root / 'central.db'}") as central:
        store = central.seed_demo()
        with running_hub(central, DEMO_STORE, root) as (url, data_dir):
            yield Hub(central, store, url, data_dir)


@pytest.fixture
def page(hub: Hub, browser: Browser) -> Iterator[Page]:
    page = open_flet_page(browser, hub.url)
    yield page
    page.context.close()


def sold(days: int) -> tuple[str, ItemIn]:
    """The demo order sold `days` ago and the catalogue item on its first line."""
    items = {it.sku: it for it in demo_items()}
    for body, sold_at in demo_sold_orders(list(items.values())):
        first = items[body.lines[0].sku]
        if (utcnow() - sold_at).days == days and not first.final_sale:
            return body.order_id, first
    raise LookupError(f"no demo order sold {days} days ago")


def sign_in(page: Page) -> None:
    fill_textbox(page, "Employee id", ASSOCIATE.employee_id)
    fill_textbox(page, "PIN", ASSOCIATE.pin)
    click_button(page, "Sign in")
    expect(by_identifier(page, "associate")).to_have_text(ASSOCIATE.name)


def find_order(page: Page, order_id: str) -> None:
    open_rail(page, "Returns")
    wait_keyboard_in(page, "Find order")
    page.keyboard.type(order_id)
    press_enter(page, "Find order")
    expect(by_identifier(page, "returns-message")).to_have_text("Choose what comes back.")
    expect(by_identifier(page, "returns-order")).to_have_text(re.compile(f"^{order_id} · "))


def central_returns(hub: Hub, order_id: str, timeout_s: float = 20) -> list[dict[str, Any]]:
    """The order's returns at central (OMS API), polled until there is one."""
    deadline = time.monotonic() + timeout_s
    while True:
        response = hub.central.oms.get(
            f"/v1/oms/stores/{DEMO_STORE}/returns", params={"order_id": order_id}
        )
        assert response.status_code == 200, response.text
        rows: list[dict[str, Any]] = response.json()
        if rows or time.monotonic() > deadline:
            return rows
        time.sleep(0.25)


def refunded_and_synced(hub: Hub, page: Page, order_id: str, item: ItemIn) -> dict[str, Any]:
    """A saved return of one unit back on its shelf: its confirmation, today's list once the
    hub has synced it, and central's return."""
    expect(by_identifier(page, "returns-confirmation")).to_have_text(
        f"Refund {item.price:.2f} to the original payment · 1 back on shelf {item.location}"
    )
    # the hub syncs on its own (and right after the save): today's list says when it has
    wait_text(
        page,
        re.compile(rf" · {order_id} · 1 item\(s\) · {item.price:.2f} · Refund requested$"),
        timeout_ms=20_000,
    )
    [ret] = central_returns(hub, order_id)
    return ret


def test_a_recent_order_comes_back_to_the_shelf_and_is_refunded(hub: Hub, page: Page) -> None:
    order_id, item = sold(3)
    sign_in(page)
    find_order(page, order_id)
    expect(by_identifier(page, "return-qty-1")).to_have_text("0")
    click_button(page, "Save return")  # grey: the tap says why (issue #10, finding 6)
    expect(by_identifier(page, "returns-message")).to_have_text(
        "Choose at least one item that comes back."
    )
    # an IconButton's tooltip names a node around its (unnamed) button: line 1's "+"
    page.get_by_label("More", exact=True).first.click()
    expect(by_identifier(page, "return-qty-1")).to_have_text("1")
    expect(by_identifier(page, "returns-message")).to_have_text(f"1 × {item.name}")
    expect(by_identifier(page, "returns-summary")).to_have_text(
        f"Refund {item.price:.2f} to the original payment · 1 back on the shelf · "
        "0 to the damaged bin"
    )
    click_button(page, "Save return")
    expect(by_identifier(page, "returns-message")).to_have_text("Return saved.")
    ret = refunded_and_synced(hub, page, order_id, item)
    assert (ret["state"], ret["received_by"], ret["override_by"]) == (
        "completed",
        ASSOCIATE.employee_id,
        None,
    )
    assert ret["refund_amount"] == f"{item.price:.2f}" and len(ret["refunds"]) == 1
    [line] = ret["lines"]
    assert (line["sku"], line["qty"], line["condition"], line["disposition"]) == (
        item.sku,
        1,
        "sellable",
        "restock",
    )


def test_an_order_sold_45_days_ago_needs_the_managers_pin_on_the_same_screen(
    hub: Hub, page: Page
) -> None:
    order_id, item = sold(45)
    sign_in(page)
    find_order(page, order_id)
    # the item on the counter, scanned into the field (tapped: the focus the app gives it
    # after Find is sometimes lost, the field being shown in that same update)
    fill_textbox(page, "Scan item", item.gtins[0])
    press_enter(page, "Scan item")
    expect(by_identifier(page, "return-qty-1")).to_have_text("1")
    expect(by_identifier(page, "returns-breaches")).to_have_text(
        "Sold 45 days ago: returns are accepted for 30 days"
    )
    click_button(page, "Save return")  # grey: the tap says why (issue #10, finding 6)
    expect(by_identifier(page, "returns-message")).to_have_text(
        re.compile("A manager approves it here")
    )
    wait_text(page, "Outside policy: a manager approves here.")
    fill_textbox(page, "Manager id", MANAGER.employee_id)
    fill_textbox(page, "Manager PIN", MANAGER.pin)
    fill_textbox(page, "Override reason", "Unopened, receipt in hand")
    click_button(page, "Manager approves")
    expect(by_identifier(page, "returns-message")).to_have_text(
        f"Return saved, approved by {MANAGER.name}."
    )
    ret = refunded_and_synced(hub, page, order_id, item)
    assert (ret["state"], ret["override_by"], ret["override_reason"]) == (
        "completed",
        MANAGER.employee_id,
        "Unopened, receipt in hand",
    )
    assert ret["received_by"] == ASSOCIATE.employee_id and len(ret["refunds"]) == 1
