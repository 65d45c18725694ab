"""`storeapp demo` as a new user runs it: central on SQLite, the seeded store S001, the hub —
then a demo pickup order picked by typing its GTINs, staged, and handed over with its code.
Stopping the demo stops its central too."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from central.seed import demo_items
from tests.e2e.browser import (
    CHROMIUM_PATH,
    by_identifier,
    click_button,
    fill_textbox,
    flet_server,
    free_port,
    launch_chromium,
    open_flet_page,
)
from tests.e2e.test_pickup_flow import hand_over, pick_together, scan, stage

pytestmark = pytest.mark.e2e


@dataclass
class Demo:
    url: str
    central_url: str
    oms: httpx.Client


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    if not Path(CHROMIUM_PATH).exists():
        pytest.skip(f"{CHROMIUM_PATH} is missing (apt-get install chromium): no browser tests")
    data = tmp_path_factory.mktemp("demo")
    port, central_port = free_port(), free_port()
    argv = [
        sys.executable, "-c", "from storeapp.cli import main; main()", "demo",
        "--data-dir", str(data), "--port", str(port), "--central-port", str(central_port),
    ]  # fmt: skip
    with flet_server(
        argv, f"http://127.0.0.1:{port}/", ready_timeout=90, log_path=data / "demo.log"
    ) as url:
        key = subprocess.run(
            [sys.executable, "-m", "central", "integration-key", "create", "--name", "e2e",
             "--database-url", f"sqlite:///{data / 'central.db'}"],
            check=True, capture_output=True, text=True,
        ).stdout.strip()  # fmt: skip
        central_url = f"http://127.0.0.1:{central_port}"
        with httpx.Client(base_url=central_url, headers={"Authorization": f"Bearer {key}"}) as oms:
            yield Demo(url, central_url, oms)
    with pytest.raises(httpx.TransportError):  # Ctrl-C stops everything the demo started
        httpx.get(f"{central_url}/v1/health", timeout=2)


def test_the_demo_pickup_order_is_picked_by_its_gtins_and_handed_over(demo: Demo) -> None:
    order = demo.oms.get("/v1/oms/orders/W-1001").json()
    assert (order["type"], order["state"]) == ("pickup", "released")
    gtin_of = {item.sku: item.gtins[0] for item in demo_items()}
    name_of = {item.sku: item.name for item in demo_items()}
    units = sum(line["qty"] for line in order["lines"])
    with launch_chromium() as browser:
        page: Page = open_flet_page(browser, demo.url)
        fill_textbox(page, "Employee id", "E100")
        fill_textbox(page, "PIN", "1234")
        click_button(page, "Sign in")
        expect(by_identifier(page, "associate")).to_have_text("Ana Lopez")
        pick_together(page, "W-1001")
        done = 0
        for line in order["lines"]:
            for _ in range(line["qty"]):
                done += 1
                said = re.compile("^" + re.escape(name_of[line["sku"]]))
                scan(page, gtin_of[line["sku"]], said, f"{done} of {units} done")
        click_button(page, "Finish")
        click_button(page, "Stage W-1001")
        stage(page, "W-1001", "PICKUP-1")
        hand_over(page, "W-1001", "PK1001", units)
    deadline = time.monotonic() + 20
    while demo.oms.get("/v1/oms/orders/W-1001").json()["state"] != "handed_over":
        assert time.monotonic() < deadline, "central never saw the hand-over"
        time.sleep(0.25)
