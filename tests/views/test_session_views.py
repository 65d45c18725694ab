"""A browser session without a browser: enrolling, sync events from the sync thread,
and a hand-over found by its pickup code."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import flet as ft

from storeapp.app import make_main
from storeapp.local import LocalStore
from sync.engine import Progress, SyncReport
from tests.storeapp.builders import ENROLLED, Feed, order_doc
from tests.views.flet_fake import FletFake, publish_from_another_thread
from tests.views.test_pick_view import Services, sign_in, tablet_file


def test_a_new_hub_enrolls_then_signs_in_after_the_first_sync(tmp_path: Path) -> None:
    enrolled: list[tuple[str, str, str]] = []

    def enroll(db_path: Path, server: str, code: str, name: str) -> str:  # a worker thread
        enrolled.append((server, code, name))
        with LocalStore(db_path) as store:
            store.enroll(ENROLLED, server)
            store.apply_pull(Feed().basics())
        return "Enrolled for store S001: downloading the store…"

    services = Services(tmp_path / "store.db")
    services.app.enroll = enroll
    with FletFake(make_main(services.app)) as app:
        app.type(app.find(ft.TextField, label="Server URL"), "http://central.test")
        app.type(app.find(ft.TextField, label="Enrollment code"), "ABC-123")
        app.submit(app.find(ft.TextField, label="Enrollment code"))
        assert app.settle()
        assert app.text_of("enroll-message") == "Enrolled for store S001: downloading the store…"
        assert enrolled[0][:2] == ("http://central.test", "ABC-123")
        assert services.syncs == 1
        assert app.text_of("enroll-progress") == ""

        # the first download: rows, rate and time left, as `storeapp enroll` prints them
        publish_from_another_thread(
            services.app.fanout, Progress("receiving", 25_000, 100_006, 2.0)
        )
        assert app.settle()
        assert app.text_of("enroll-progress") == (
            "Receiving 25,000 of 100,006 · 12,500/s · about 6 s left"
        )
        assert app.find(ft.ProgressBar).value == 25_000 / 100_006

        publish_from_another_thread(services.app.fanout, SyncReport())
        assert app.settle()
        sign_in(app)
        assert app.text_of("associate") == "Ana"
    assert services.errors == []


def test_the_sync_chip_follows_progress_and_reports_from_the_sync_thread(tmp_path: Path) -> None:
    db_path = tablet_file(tmp_path)
    services = Services(db_path)
    with FletFake(make_main(services.app)) as app:
        sign_in(app)
        assert len(services.app.fanout) == 1
        publish_from_another_thread(services.app.fanout, Progress("sending", 120, 540))
        assert app.settle()
        assert app.text_of("sync-chip") == "Sending 120/540"
        publish_from_another_thread(services.app.fanout, Progress("receiving", 1000, 5000))
        assert app.settle()
        assert app.text_of("sync-chip") == "Receiving 1000/5000"

        with LocalStore(db_path) as store:  # what the engine's pass wrote
            store.record_sync(at=datetime.now(UTC), ok=True)
        publish_from_another_thread(services.app.fanout, SyncReport())
        assert app.settle()
        assert app.text_of("sync-chip").startswith("Online · synced ")

        app.click(app.find(ft.Chip))
        assert app.find(ft.Button, text="Sync now")
        app.click(app.find(ft.Button, text="Sync now"))
        assert app.text_of("sync-message") == "Syncing…"
    assert services.errors == []
    assert len(services.app.fanout) == 0  # the closed session unsubscribed


def test_a_hand_over_found_by_its_pickup_code_is_verified_and_final(
    tmp_path: Path,
) -> None:
    path = tablet_file(
        tmp_path,
        order_doc("W-7", [("1", "DOG2", 2)], state="staged", picked={"1": 2}, pickup_code="PK7007"),
    )
    services = Services(path)
    with FletFake(make_main(services.app)) as app:
        sign_in(app)
        app.change(app.find(ft.NavigationRail), 2, prop="selected_index")  # Hand-over
        find = app.find(ft.TextField, label="Find order")
        assert app.calls("focus")[-1].control is find
        app.submit(find, "pk7007")
        assert app.text_of("handover-message") == "Pickup code matches: hand over the bag."
        assert app.text_of("order-state") == "Verified by pickup code"
        app.click(app.find(ft.Button, text="Hand over 2 item(s)"))
        assert app.text_of("handover-message") == "Handed over 2 item(s) of W-7."
        assert app.text_of("order-state") == "Handed over"
        assert app.find_all(ft.Button, text="Hand over 2 item(s)") == []
    assert services.errors == [] and services.syncs == 1
