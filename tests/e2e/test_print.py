"""Print from an order's screen: the dialog lists the order's documents and a tap opens the
PDF, served by the hub from its replica, in a new browser tab (its print dialog prints it)."""

from __future__ import annotations

import urllib.request

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser import by_identifier, click_button
from tests.e2e.conftest import Hub
from tests.e2e.test_pickup_flow import pick_together, sign_in
from tests.support.printed import text

pytestmark = pytest.mark.e2e


def test_print_on_the_pick_list_opens_its_pdf_in_a_new_tab(hub: Hub, page: Page) -> None:
    order = hub.central.order(hub.store, [(hub.store.skus[0], 2)], type="pickup")
    order_id = order["order_id"]
    sign_in(page)
    pick_together(page, order_id)
    click_button(page, "Print")
    expect(page.get_by_text(f"Print order {order_id}")).to_be_visible()
    with page.context.expect_page() as opened:
        by_identifier(page, "print-picklist").click()
    tab = opened.value
    tab.wait_for_url("**/pages/print/**")
    assert f"/pages/print/picklist/{order_id}.pdf?t=" in tab.url
    with urllib.request.urlopen(tab.url, timeout=30) as answer:
        assert answer.headers["Content-Type"] == "application/pdf"
        pdf = answer.read()
    assert "1 order(s), 2 unit(s)" in text(pdf) and order_id in text(pdf)
