"""Issue #11's screens in Chromium against a real central and a real `storeapp hub`: a line
rejected as damaged from the pick list (and the manager's Rejections history), a hand-over
to the alternate collector with the ID recorded, and the customer's contact corrected."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.browser import (
    by_identifier,
    click_button,
    fill_textbox,
    open_flet_page,
)
from tests.e2e.conftest import Hub
from tests.e2e.test_pickup_flow import open_rail, pick_together, scan, sign_in, stage
from tests.support.central import ok

pytestmark = pytest.mark.e2e


@pytest.fixture
def page(hub: Hub, browser: Browser) -> Iterator[Page]:
    page = open_flet_page(browser, hub.url)
    yield page
    page.context.close()


def central_sees(hub: Hub, order_id: str, test: Callable[[dict[str, Any]], bool]) -> bool:
    """Poll central's OMS view of the order until `test` holds (the hub syncs every 2 s)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if test(hub.central.get_order(order_id)):
            return True
        time.sleep(0.25)
    return False


def test_a_line_rejected_as_damaged_shows_rejected_and_the_manager_sees_it(
    hub: Hub, page: Page, browser: Browser
) -> None:
    sku = hub.store.skus[0]
    oid = hub.central.order(hub.store, [(sku, 2)], type="pickup")["order_id"]
    sign_in(page)
    pick_together(page, oid)
    expect(by_identifier(page, "pick-progress")).to_have_text("0 of 2 done")
    click_button(page, "Reject")
    expect(page.get_by_text("Up to 2 unit(s). Why?")).to_be_visible()
    fill_textbox(page, "Note (optional)", "torn bag")
    click_button(page, "Damaged (to the damaged bin)")
    expect(by_identifier(page, "scan-message")).to_have_text(
        "1 unit(s) rejected: Damaged (to the damaged bin)."
    )
    expect(by_identifier(page, "pick-progress")).to_have_text("1 of 2 done")
    # the stop's row (one merged node in Flutter's semantics) says what was rejected
    expect(
        page.get_by_role("button", name=re.compile(r"Item 1 .*\brejected 1 0\/2$"))
    ).to_be_visible()
    assert central_sees(
        hub,
        oid,
        lambda o: [(x["rejected"], x["reject_code"]) for x in o["lines"]] == [(1, "damaged")],
    )

    manager = open_flet_page(browser, hub.url)  # another tablet at the manager's desk
    try:
        fill_textbox(manager, "Employee id", "M1")
        fill_textbox(manager, "PIN", "999999")
        click_button(manager, "Sign in")
        expect(by_identifier(manager, "associate")).to_have_text("Maria")
        open_rail(manager, "Rejections")
        expect(manager.get_by_text(f"{oid}: 1 × Item 1 (line 1)")).to_be_visible()
        expect(manager.get_by_text("Damaged — to the damaged bin").first).to_be_visible()
        expect(
            manager.get_by_text(
                re.compile(r"Damaged — to the damaged bin\s+Ana · \d\d:\d\d · torn bag")
            ).first
        ).to_be_visible()
    finally:
        manager.context.close()


def _order_with_alternate(hub: Hub, sku: str) -> tuple[str, str]:
    """A pickup order the OMS flagged `id_required`, naming an alternate collector."""
    oid, code = f"W-{uuid.uuid4().hex[:8]}", f"PK{uuid.uuid4().hex[:6].upper()}"
    body = {
        "order_id": oid,
        "store_id": hub.store.store_id,
        "type": "pickup",
        "customer": {
            "name": "Olivia Brown",
            "email": "olivia@exmaple.com",
            "phone": "+44 7700 900101",
        },
        "alternate": {"name": "Sam Lee", "email": "sam@example.com", "phone": "+44 7700 900202"},
        "id_required": True,
        "pickup_code": code,
        "due_at": (datetime.now(UTC) + timedelta(hours=2)).isoformat(),
        "lines": [{"line_id": "1", "sku": sku, "qty": 1, "price": "4.99"}],
    }
    ok(hub.central.oms.post("/v1/oms/orders", json=body))
    return oid, code


def test_a_hand_over_to_the_alternate_needs_the_id_and_the_contact_is_corrected(
    hub: Hub, page: Page
) -> None:
    sku = hub.store.skus[1]
    oid, code = _order_with_alternate(hub, sku)
    sign_in(page)
    pick_together(page, oid)
    scan(page, hub.store.gtins[sku], re.compile(r"^Item 2"), "1 of 1 done")
    click_button(page, "Finish")
    click_button(page, f"Stage {oid}")
    stage(page, oid, "P-11")

    open_rail(page, "Hand-over")
    fill_textbox(page, "Find order", code)
    page.keyboard.press("Enter")
    expect(by_identifier(page, "order-state")).to_have_text("Verified by pickup code")

    # the contact: the customer's email was mistyped at the OMS
    click_button(page, "Contact & notice")
    fill_textbox(page, "Customer email", "olivia@example.com")
    click_button(page, "Save contact")
    expect(by_identifier(page, "handover-message")).to_have_text("Contact corrected.")
    expect(page.get_by_text("olivia@example.com · +44 7700 900101")).to_be_visible()

    click_button(page, "Hand over 1 item(s)")  # nobody recorded the ID yet
    expect(by_identifier(page, "handover-message")).to_have_text(
        "This order needs the collector's ID: record its type and last digits."
    )
    page.get_by_role("button", name=re.compile(r"^Who collects")).click()
    expect(page.get_by_text("This order needs the collector's ID.")).to_be_visible()
    page.get_by_role("radio", name="Alternate: Sam Lee").click()
    fill_textbox(page, "ID last digits", "4821")
    click_button(page, "Passport")
    expect(by_identifier(page, "handover-message")).to_have_text("Collector recorded.")
    click_button(page, "Hand over 1 item(s)")
    expect(by_identifier(page, "handover-message")).to_have_text(f"Handed over 1 item(s) of {oid}.")
    expect(by_identifier(page, "order-state")).to_have_text("Handed over")

    want_proof = {
        "collected_by": "alternate",
        "name": "Sam Lee",
        "id_type": "passport",
        "id_last4": "4821",
    }
    assert central_sees(
        hub,
        oid,
        lambda o: (
            o["state"] == "handed_over"
            and {k: (o["proof"] or {}).get(k) for k in want_proof} == want_proof
            and o["customer"]["email"] == "olivia@example.com"
        ),
    ), hub.central.get_order(oid)
