"""A pickup order from the queue to the customer's hands, in Chromium against a real
central and a real `storeapp hub`: what an associate does, scan by scan."""

from __future__ import annotations

import re
import time
import urllib.request

import pytest
from playwright.sync_api import Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.e2e.browser import (
    by_identifier,
    click_button,
    fill_textbox,
    press_enter,
    wait_keyboard_in,
)
from tests.e2e.conftest import Hub

pytestmark = pytest.mark.e2e


def sign_in(page: Page, employee: str = "E1", pin: str = "1111") -> None:
    fill_textbox(page, "Employee id", employee)
    fill_textbox(page, "PIN", pin)
    click_button(page, "Sign in")
    expect(by_identifier(page, "associate")).to_have_text("Ana")


def open_rail(page: Page, name: str) -> None:
    page.get_by_role("button", name=name).first.click()


def pick_together(page: Page, *order_ids: str) -> None:
    open_rail(page, "Pick")
    for order_id in order_ids:
        page.get_by_role("checkbox", name=f"Select {order_id}").click()
    click_button(page, f"Pick selected ({len(order_ids)})")
    wait_keyboard_in(page, "Scan")


def scan(page: Page, code: str, expected: str | re.Pattern[str], progress: str) -> None:
    """What a keyboard-wedge scanner does: keys and Enter into the focused field.

    `progress` ("2 of 3 done") is waited for too: two scans of one item say the same
    message, so only the count shows the second one was taken before the next is typed."""
    wait_keyboard_in(page, "Scan")
    page.keyboard.type(code)
    press_enter(page, "Scan")
    expect(by_identifier(page, "scan-message")).to_have_text(expected)
    expect(by_identifier(page, "pick-progress")).to_have_text(progress)


def stage(page: Page, order_id: str, shelf: str) -> None:
    fill_textbox(page, "Staging location", shelf)
    press_enter(page, "Staging location")
    message = by_identifier(page, "staging-message")
    try:
        message.wait_for(state="attached", timeout=7_000)
    except PlaywrightTimeout:
        # on a loaded machine Flet now and then drops an Enter typed into a field it has just
        # rebuilt (design-notes "A focus request that beats its field"): no answer at all,
        # so the associate scans the shelf again, as this does once
        press_enter(page, "Staging location")
    expect(message).to_have_text(
        f"{order_id} is ready for pickup at {shelf}.",
        timeout=15_000,  # the harness's wait: a loaded 2-core machine renders slowly
    )


def hand_over(page: Page, order_id: str, pickup_code: str, units: int) -> None:
    open_rail(page, "Hand-over")
    wait_keyboard_in(page, "Find order")
    page.keyboard.type(pickup_code)  # the QR on the customer's phone, scanned
    press_enter(page, "Find order")
    expect(by_identifier(page, "order-state")).to_have_text("Verified by pickup code")
    click_button(page, f"Hand over {units} item(s)")
    expect(by_identifier(page, "handover-message")).to_have_text(
        f"Handed over {units} item(s) of {order_id}."
    )


def central_state(hub: Hub, order_id: str, want: str, timeout_s: float = 20) -> str:
    deadline = time.monotonic() + timeout_s
    while True:
        state = hub.central.get_order(order_id)["state"]
        if state == want or time.monotonic() > deadline:
            return str(state)
        time.sleep(0.25)


def test_a_pickup_order_is_picked_staged_and_handed_over(hub: Hub, page: Page) -> None:
    order = hub.orders["single"]
    oid, gtins = order["order_id"], hub.store.gtins
    sign_in(page)
    pick_together(page, oid)
    expect(by_identifier(page, "pick-progress")).to_have_text("0 of 3 done")
    scan(page, gtins[hub.store.skus[0]], re.compile(r"^Item 1"), "1 of 3 done")
    scan(page, gtins[hub.store.skus[1]], re.compile(r"^Item 2"), "2 of 3 done")
    scan(page, gtins[hub.store.skus[1]], re.compile(r"^Item 2"), "3 of 3 done")
    click_button(page, "Finish")
    expect(by_identifier(page, "scan-message")).to_have_text(f"Ready to stage: {oid}.")
    click_button(page, f"Stage {oid}")
    stage(page, oid, "P-01")
    hand_over(page, oid, order["pickup_code"], 3)
    assert central_state(hub, oid, "handed_over") == "handed_over"


def test_two_orders_with_a_wrong_scan_and_a_short_are_staged_and_one_handed_over(
    hub: Hub, page: Page
) -> None:
    b, c = hub.orders["b"], hub.orders["c"]
    skus, gtins = hub.store.skus, hub.store.gtins
    sign_in(page)
    pick_together(page, b["order_id"], c["order_id"])
    expect(by_identifier(page, "pick-progress")).to_have_text("0 of 4 done")
    scan(
        page, gtins[skus[5]], re.compile(r"^This is Item 6 — the list wants Item 3"), "0 of 4 done"
    )
    scan(page, gtins[skus[2]], re.compile(r"^Item 3"), "1 of 4 done")
    scan(page, gtins[skus[2]], re.compile(r"^Item 3"), "2 of 4 done")
    scan(page, gtins[skus[3]], re.compile(r"^Item 4"), "3 of 4 done")
    click_button(page, "Can't find it")
    click_button(page, "Not found")
    expect(by_identifier(page, "scan-message")).to_have_text(
        re.compile(r"^1 × Item 5 marked short \(not found\)")
    )
    expect(by_identifier(page, "pick-progress")).to_have_text("4 of 4 done")
    click_button(page, "Finish")
    expect(by_identifier(page, "scan-message")).to_have_text(
        f"Ready to stage: {b['order_id']}, {c['order_id']}."
    )
    click_button(page, f"Stage {b['order_id']}")
    stage(page, b["order_id"], "P-02")
    page.get_by_text(re.compile(f"^{c['order_id']} · ")).first.click()
    stage(page, c["order_id"], "P-03")
    hand_over(page, c["order_id"], c["pickup_code"], 1)
    assert central_state(hub, c["order_id"], "handed_over") == "handed_over"
    assert central_state(hub, b["order_id"], "staged") == "staged"


def test_the_hub_serves_the_scan_tones(hub: Hub) -> None:
    for name in ("tone-ok.wav", "tone-error.wav"):
        with urllib.request.urlopen(hub.url + name, timeout=5) as response:
            assert response.status == 200
            assert response.read(4) == b"RIFF"
