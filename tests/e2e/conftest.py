"""One real central, one enrolled hub (`storeapp hub` in a subprocess) and one Chromium
per test module. Skips only when Debian's Chromium is missing."""

from __future__ import annotations

import contextlib
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser

from storeapp.enrollment import enroll_data_dir
from storeapp.local import LocalStore
from sync.engine import SyncEngine
from tests.e2e.browser import CHROMIUM_PATH, flet_server, free_port, launch_chromium
from tests.support.central import Central, TestStore, running_central


@dataclass
class Hub:
    central: Central
    store: TestStore
    url: str
    data_dir: Path
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> OMS order


def _pickup(central: Central, store: TestStore, lines: list[tuple[str, int]]) -> dict[str, Any]:
    code = f"PK{uuid.uuid4().hex[:6].upper()}"
    order = central.order(store, lines, type="pickup", pickup_code=code)
    return {**order, "pickup_code": code}


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    if not Path(CHROMIUM_PATH).exists():
        pytest.skip(f"{CHROMIUM_PATH} is missing (apt-get install chromium): no browser tests")
    root = tmp_path_factory.mktemp("e2e")
    with running_central(f"sqlite:///{root / 'central.db'}") as central:
        store = central.new_store(items=6, stock=20)
        sku = store.skus
        orders = {
            "single": _pickup(central, store, [(sku[0], 1), (sku[1], 2)]),
            "b": _pickup(central, store, [(sku[2], 1), (sku[3], 1)]),
            "c": _pickup(central, store, [(sku[2], 1), (sku[4], 1)]),
        }
        with running_hub(central, store.store_id, root) as (url, data_dir):
            yield Hub(central, store, url, data_dir, orders)


@contextlib.contextmanager
def running_hub(
    central: Central, store_id: str, root: Path, *, sync_interval_s: int = 2
) -> Iterator[tuple[str, Path]]:
    """`storeapp hub` enrolled on `store_id`, synced once, syncing every `sync_interval_s`
    (and at each change central announces): (url, data dir)."""
    data_dir = root / "hub"
    db_path = data_dir / "store.db"
    enroll_data_dir(db_path, central.url, central.enroll_code(store_id), "e2e hub")
    assert SyncEngine(lambda: LocalStore(db_path)).run_once().ok
    port = free_port()
    argv = [
        sys.executable, "-c", "from storeapp.cli import main; main()",
        "hub", "--data-dir", str(data_dir), "--port", str(port),
    ]  # fmt: skip
    with flet_server(
        argv,
        f"http://127.0.0.1:{port}/",
        env={"STOREAPP_SYNC_INTERVAL_S": str(sync_interval_s), "FLET_FORCE_WEB_SERVER": "1"},
        log_path=root / "hub.log",
    ) as url:
        yield url, data_dir


@pytest.fixture(scope="module")
def browser(hub: Hub) -> Iterator[Browser]:
    with launch_chromium() as b:
        yield b


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """On a failure, keep a screenshot of the tablet next to the hub's log."""
    report = yield
    funcargs: dict[str, Any] = getattr(item, "funcargs", {})
    page = funcargs.get("page")
    if report.when == "call" and report.failed and page is not None:
        shot = Path(str(funcargs["hub"].data_dir)).parent / f"{item.name}.png"
        page.screenshot(path=str(shot))
        report.sections.append(("screenshot", str(shot)))
    return report
