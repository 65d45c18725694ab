"""Count plans end to end on real tablets and a real central (issue #12): a manager plans
counts by aisle range on the hub, the associates count its places offline, and the plan's
progress is right offline, after sync, and on a tablet that counted nothing; the counts come
out as CSV (the hub's signed download and `storeapp counts-csv`), parsed back."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import flet as ft
import httpx
from typer.testing import CliRunner

from storeapp.app import ASSETS_DIR
from storeapp.cli import app as storeapp_cli
from storeapp.pages import add_pages
from storeapp.pages.paths import COUNTS_CSV_PATH
from storeapp.settings import StoreappSettings
from storeapp.viewmodels.plans import CSV_PATH, PlansScreen, PlansVM
from tests.support.central import Central, TestStore, ok
from tests.support.faults import FaultyTransport
from tests.support.tablet import Hands, Tablet, enroll_tablet


def synced(tablet: Tablet) -> None:
    report = tablet.sync()
    assert report.ok, report.error_in_words


def plans_of(hands: Hands) -> PlansVM:
    return PlansVM(hands.store, hands.session)


def progress(screen: PlansScreen) -> list[tuple[str, str]]:
    return [(p.name, p.progress) for p in screen.plans]


def count_task(hands: Hands, task_id: str, qty: int) -> None:
    assert hands.counting.start(task_id).sku is not None
    hands.counting.set_qty(qty)
    assert hands.counting.submit().tone == "ok"


def hub_get(data_dir: Path, url: str) -> httpx.Response:
    asgi = ft.run(lambda page: None, no_cdn=True, assets_dir=str(ASSETS_DIR), export_asgi_app=True)
    add_pages(asgi, StoreappSettings(data_dir=data_dir))

    async def fetch() -> httpx.Response:
        transport = httpx.ASGITransport(app=asgi)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            return await client.get(url)

    return asyncio.run(fetch())


def test_a_plan_made_online_counted_offline_shows_its_progress_before_and_after_sync(
    central: Central, store: TestStore, tmp_path: Path, transports: list[FaultyTransport]
) -> None:
    (tmp_path / "hub").mkdir()
    hub_net, other_net = FaultyTransport(), FaultyTransport()
    transports += [hub_net, other_net]
    hub = enroll_tablet(central, store.store_id, tmp_path / "hub" / "store.db", hub_net, "hub")
    other = enroll_tablet(central, store.store_id, tmp_path / "other.db", other_net, "other")
    synced(hub)
    synced(other)
    with Hands(hub.path, "M1", "999999") as maria:
        vm = plans_of(maria)
        vm.set("name", "Aisle A front")
        vm.set("location_from", "a-01")
        vm.set("location_to", "A-03")
        vm.set("assignees", "E1, E2")
        made = vm.create()
        assert made.tone == "ok", made.message
        assert progress(made) == [("Aisle A front", "waiting for central")]
        synced(hub)
        [row] = vm.screen().plans
        assert (row.progress, row.assignees, row.overdue) == ("0 of 3 counted", "Ana, Ben", False)
        assert row.left == ("Item 1 at A-01-1", "Item 2 at A-02-1", "Item 3 at A-03-1")
    with Hands(hub.path, "E2", "2222") as ben:  # Ben's place first on his Count screen
        first, *rest = ben.counting.screen().tasks
        assert first.location == "A-03-1" and " · for you · due " in first.reason
        assert all(" · for Ana · due " in t.reason for t in rest) and len(rest) == 2
    # the WAN goes down; Ana counts two of the plan's places on the hub
    hub_net.unplug()
    with Hands(hub.path, "E1", "1111") as ana:
        tasks = {t.location: t.task_id for t in ana.store.recount_tasks()}
        count_task(ana, tasks["A-01-1"], 20)
        count_task(ana, tasks["A-03-1"], 17)
    assert not hub.sync().ok  # offline: nothing reached central
    with Hands(hub.path, "M1", "999999") as maria:
        [row] = plans_of(maria).screen().plans
        assert (row.progress, row.left) == ("2 of 3 counted", ("Item 2 at A-02-1",))
    # back online: central closes the counted tasks; every tablet shows the same progress
    hub_net.plug_in()
    synced(hub)
    synced(other)
    for tablet in (hub, other):
        with Hands(tablet.path, "M1", "999999") as maria:
            assert progress(plans_of(maria).screen()) == [("Aisle A front", "2 of 3 counted")]
    done = [t for t in central.tasks(store, "recount") if t["state"] == "done"]
    assert sorted(t["location"] for t in done) == ["A-01-1", "A-03-1"]
    # the counts as CSV: the hub's signed download and the command line, parsed back
    with Hands(hub.path, "M1", "999999") as maria:
        url = plans_of(maria).csv_url()
    with Hands(hub.path, "E1", "1111") as ana:
        assert plans_of(ana).csv_url() is None  # managers only
    assert (
        url is not None and url.startswith(f"{COUNTS_CSV_PATH}?t=") and CSV_PATH == COUNTS_CSV_PATH
    )
    page = hub_get(tmp_path / "hub", url)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/csv")
    rows = {r["location"]: r for r in csv.DictReader(io.StringIO(page.text))}
    assert (rows["A-01-1"]["counted"], rows["A-01-1"]["book"], rows["A-01-1"]["state"]) == (
        "20",
        "20",
        "posted",
    )
    assert (rows["A-03-1"]["variance"], rows["A-03-1"]["value"]) == ("-3", "-14.97")
    forged = hub_get(tmp_path / "hub", url[:-3] + "AAA")
    assert forged.status_code == 403 and "Download again" in forged.text
    out = tmp_path / "counts.csv"
    said = CliRunner().invoke(
        storeapp_cli, ["counts-csv", "--data-dir", str(tmp_path / "hub"), "--out", str(out)]
    )
    assert said.exit_code == 0 and "Wrote 2 count(s)" in said.output, said.output
    assert list(csv.DictReader(io.StringIO(out.read_text()))) == list(
        csv.DictReader(io.StringIO(page.text))
    )
    later = CliRunner().invoke(
        storeapp_cli,
        [
            "counts-csv",
            "--data-dir",
            str(tmp_path / "hub"),
            "--out",
            str(out),
            "--from",
            "2199-01-01",
        ],
    )
    assert later.exit_code == 0 and "Wrote 0 count(s)" in later.output
    assert list(csv.DictReader(io.StringIO(out.read_text()))) == []
    central_rows = ok(central.oms.get(f"/v1/oms/stores/{store.store_id}/counts"))
    assert len(central_rows) == 2


def test_the_plan_form_says_what_is_wrong_in_words_and_saves_nothing(
    central: Central, store: TestStore, tmp_path: Path, transports: list[FaultyTransport]
) -> None:
    net = FaultyTransport()
    transports.append(net)
    hub = enroll_tablet(central, store.store_id, tmp_path / "t.db", net, "t")
    synced(hub)
    with Hands(hub.path, "E1", "1111") as ana:
        refused = plans_of(ana).create()
        assert refused.message == "Count plans are for managers: ask the shift manager."
    with Hands(hub.path, "M1", "999999") as maria:
        vm = plans_of(maria)
        assert vm.create().message == "Type the first aisle or bay (e.g. A-01)."
        vm.set("location_from", "A-01")
        vm.set("assignees", "E9")
        assert vm.create().message == "E9 is not on this store's staff."
        vm.set("assignees", "")
        vm.set("due", "tomorrow")
        assert vm.create().message.startswith("Type the due time as YYYY-MM-DD HH:MM")
        vm.set("due", "2001-01-01 10:00")
        assert vm.create().message == "The due time has passed: choose a later one."
        vm.set("due", "2199-01-01 10:00")
        vm.choose("category")
        assert vm.create().message == "Type the category."
        assert maria.store.outbox() == []
        # a plan central refuses comes back in words
        vm.set("category", "Nothing here")
        assert vm.create().tone == "ok"
        synced(hub)
        [row] = vm.screen().plans
        assert row.state == "refused" and "Nothing to count in category Nothing here" in row.message


def test_negative_stock_opens_a_count_task_the_plan_review_shows_and_a_doubtful_plan_takes(
    central: Central, store: TestStore, tmp_path: Path, transports: list[FaultyTransport]
) -> None:
    net = FaultyTransport()
    transports.append(net)
    hub = enroll_tablet(central, store.store_id, tmp_path / "t.db", net, "t")
    synced(hub)
    with hub.local() as local:  # a manager writes 25 off a shelf holding 20
        adjust = {"sku": "SKU-4", "location": "A-04-1", "delta": -25, "reason": "Broken pallet"}
        assert local.act("M1", "stock.adjust", adjust, datetime.now(UTC)).queued
    synced(hub)
    synced(hub)  # central's recount task comes back
    with Hands(hub.path, "M1", "999999") as maria:
        vm = plans_of(maria)
        [line] = vm.screen().unplanned
        assert line.startswith("Item 4 at A-04-1 — ")
        vm.choose("doubtful")
        vm.set("name", "Below zero")
        assert vm.create().tone == "ok"
        synced(hub)
        s = vm.screen()
        assert progress(s) == [("Below zero", "0 of 1 counted")] and s.unplanned == ()
    recounts = central.tasks(store, "recount")
    assert len(recounts) == 1 and recounts[0]["plan_id"] is not None  # the same task, adopted
