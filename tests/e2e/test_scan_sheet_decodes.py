"""The demo's scan sheet, drawn by Chromium, decodes (issue #10, finding 12): every bar code
on the page reads back, with a real decoder (zxing-cpp), as the GTIN, shelf or pickup QR it
stands for, so a scanner or a phone camera pointed at the printout gets what the app wants."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from storeapp.enrollment import enroll_data_dir
from storeapp.local import LocalStore
from storeapp.pages.scan_sheet import read_sheet, render
from sync.engine import SyncEngine
from tests.e2e.browser import CHROMIUM_PATH, launch_chromium
from tests.support.central import running_central

pytestmark = pytest.mark.e2e


def test_every_code_on_the_scan_sheet_decodes_to_what_it_stands_for(tmp_path: Path) -> None:
    if not Path(CHROMIUM_PATH).exists():
        pytest.skip(f"{CHROMIUM_PATH} is missing: no browser tests")
    with running_central(f"sqlite:///{tmp_path / 'central.db'}") as central:
        central.seed_demo()
        db_path = tmp_path / "hub" / "store.db"
        enroll_data_dir(db_path, central.url, central.enroll_code("S001"), "demo hub")
        assert SyncEngine(lambda: LocalStore(db_path)).run_once().ok
    with LocalStore(db_path) as store:
        sheet = read_sheet(store)
    expected = (
        [("data-gtin", i.gtin, i.gtin) for i in sheet.items]
        + [("data-shelf", loc, loc) for loc, _ in sheet.shelves]
        + [("data-code", p.code, f"PICKUP:{p.code}") for p in sheet.pickups]
    )
    assert sheet.items and sheet.shelves and sheet.pickups
    with launch_chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900}, device_scale_factor=2)
        page.set_content(render(sheet))
        misread = []
        for attr, key, wanted in expected:
            shot = page.locator(f'[{attr}="{key}"] svg').screenshot()
            found = [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(shot)))]
            if found != [wanted]:
                misread.append((wanted, found))
    assert misread == [], f"{len(misread)} of {len(expected)} codes misread"
