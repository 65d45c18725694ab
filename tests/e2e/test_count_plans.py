"""The Count plans screen in Chromium against a real central and a real `storeapp hub`:
Maria plans counts for aisles A-01 to A-02, sees the plan waiting and then its tasks made
(0 of 2), one place is counted on another tablet, and the progress follows (1 of 2)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.browser import by_identifier, click_button, fill_textbox, open_flet_page
from tests.e2e.conftest import Hub
from tests.e2e.test_pickup_flow import open_rail
from tests.support.device import RawDevice

pytestmark = pytest.mark.e2e

SYNC_MS = 20_000  # the hub syncs every 2 s and right after an action


@pytest.fixture
def page(hub: Hub, browser: Browser) -> Iterator[Page]:
    page = open_flet_page(browser, hub.url)
    yield page
    page.context.close()


def test_a_manager_plans_an_aisle_range_and_sees_its_progress(hub: Hub, page: Page) -> None:
    fill_textbox(page, "Employee id", "M1")
    fill_textbox(page, "PIN", "999999")
    click_button(page, "Sign in")
    expect(by_identifier(page, "associate")).to_have_text("Maria")
    open_rail(page, "Count plans")
    fill_textbox(page, "Plan name", "Front aisles")
    fill_textbox(page, "From aisle/bay", "A-01")
    fill_textbox(page, "To aisle/bay", "A-02")
    click_button(page, "Create plan")
    expect(by_identifier(page, "plans-message")).to_contain_text("saved")
    progress = page.locator('[flt-semantics-identifier^="plan-progress-"]')
    expect(progress.first).to_have_text("0 of 2 counted", timeout=SYNC_MS)
    left = re.compile("Not counted yet: Item 1 at A-01-1, Item 2 at A-02-1")
    expect(page.get_by_role("group", name=left)).to_be_visible()
    # Ana counts the first place on another tablet; the hub pulls it
    tasks = [t for t in hub.central.tasks(hub.store, "recount") if t["location"] == "A-01-1"]
    other = RawDevice(hub.central, hub.store, "tablet 2")
    try:
        result = other.push_one(
            "count.record",
            {
                "count_id": f"C-E2E-{datetime.now(UTC):%H%M%S%f}",
                "task_id": tasks[0]["task_id"],
                "sku": hub.store.skus[0],
                "location": "A-01-1",
                "qty": 20,
                "counted_at": datetime.now(UTC).isoformat(),
            },
        )
    finally:
        other.close()
    assert result["status"] == "applied", result
    expect(progress.first).to_have_text("1 of 2 counted", timeout=SYNC_MS)
