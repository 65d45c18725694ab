"""The pick screen without a browser: a real tablet file, real view-models, Flet's real session."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import flet as ft
import pytest

from storeapp.app import AppServices, make_main
from storeapp.local import LocalStore
from sync.engine import SyncReport
from tests.storeapp.builders import ENROLLED, Feed, gtin14_of, order_doc
from tests.views.flet_fake import FletFake, publish_from_another_thread


def tablet_file(tmp_path: Path, *orders: dict[str, Any]) -> Path:
    """An enrolled tablet that pulled its store, staff, catalogue and `orders`."""
    path = tmp_path / "store.db"
    feed = Feed()
    with LocalStore(path) as store:
        store.enroll(ENROLLED, "http://central.test/")
        store.apply_pull(feed.basics())
        if orders:
            store.apply_pull(feed.orders(*orders))
    return path


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tablet_file(
        tmp_path,
        order_doc("W-1", [("1", "DOG2", 1), ("2", "BOWL", 1)], pickup_code="PK1"),
        order_doc("W-2", [("1", "CAT1", 2)], type="ship_from_store"),
    )


class Services:
    def __init__(self, db_path: Path) -> None:
        self.syncs = 0
        self.errors: list[BaseException] = []
        self.app = AppServices(db_path, self.sync_now, tick_s=None, on_error=self.errors.append)

    def sync_now(self) -> None:
        self.syncs += 1


@pytest.fixture
def services(db_path: Path) -> Iterator[Services]:
    s = Services(db_path)
    yield s
    assert s.errors == []


def sign_in(app: FletFake, employee: str = "E1", pin: str = "1234") -> None:
    app.type(app.find(ft.TextField, label="Employee id"), employee)
    app.type(app.find(ft.TextField, label="PIN"), pin)
    app.click(app.find(ft.Button, text="Sign in"))


def open_pick_list(app: FletFake, order_id: str) -> ft.TextField:
    rail = app.find(ft.NavigationRail)
    app.change(rail, 1, prop="selected_index")  # Pick
    app.click(
        app.find(
            ft.Button,
            where=lambda b: b.content == "Claim" and order_id in " ".join(app.texts(b.parent)),
        )
    )
    return app.find(ft.TextField, label="Scan")


def test_a_wrong_pin_says_so_and_a_right_one_opens_home(services: Services) -> None:
    with FletFake(make_main(services.app)) as app:
        sign_in(app, pin="0000")
        assert app.text_of("sign-in-message") == (
            "Wrong PIN. 4 tries left before a manager must unlock E1."
        )
        sign_in(app)
        assert app.text_of("associate") == "Ana"
        assert app.text_of("sync-chip").startswith("Not synced yet")
        assert app.text_of("tile-to-pick-pickup") == "1"


def test_scans_answer_in_the_message_and_keep_the_scan_field_focused(
    services: Services,
) -> None:
    with FletFake(make_main(services.app)) as app:
        sign_in(app)
        scan = open_pick_list(app, "W-1")
        assert app.text_of("pick-progress") == "0 of 2 done"
        assert app.text_of("pick-location") == "A-12"

        app.submit(scan, gtin14_of("DOG2"))
        assert app.text_of("scan-message").startswith("Dog Food 2 kg")
        message = app.by_identifier("scan-message")
        assert isinstance(message, ft.Text)
        assert message.color == ft.Colors.GREEN_900
        assert scan.value == "" and app.calls("focus")[-1].control is scan
        assert app.text_of("pick-progress") == "1 of 2 done"

        focus_calls = len(app.calls("focus"))
        app.submit(scan, gtin14_of("DOG12"))
        assert app.text_of("scan-message") == (
            "This is Dog Food 12 kg — the list wants Steel Bowl at C-01."
        )
        message = app.by_identifier("scan-message")
        assert isinstance(message, ft.Text)
        assert message.color == ft.Colors.RED_900
        assert len(app.calls("focus")) == focus_calls + 1
        assert app.calls("focus")[-1].control is scan
        assert app.find_all(ft.AlertDialog) == []  # a wrong scan is never a modal

        app.click(app.find(ft.Button, text="Can't find it"))
        app.click(app.find(ft.Button, text="Not found"))
        assert app.find_all(ft.AlertDialog) == []
        assert app.text_of("scan-message").startswith("1 × Steel Bowl marked short (not found)")
        assert app.text_of("pick-progress") == "2 of 2 done"
        assert app.calls("focus")[-1].control is scan

        app.click(app.find(ft.Button, text="Finish"))
        assert app.text_of("scan-message") == "Ready to stage: W-1."
        app.click(app.find(ft.Button, text="Stage W-1"))
        assert app.text_of("order-state") == "picked"
        app.submit(app.find(ft.TextField, label="Staging location"), "p-01")
        said = "W-1 is ready for pickup at P-01."
        assert app.text_of("staging-message") == said
        publish_from_another_thread(services.app.fanout, SyncReport())  # a sync pass
        assert app.settle()
        assert app.text_of("staging-message") == said  # not wiped under the associate
    assert services.syncs >= 3  # claim, scan, short: each asked for a push


def tones_played(app: FletFake) -> list[str]:
    """The tone files the session asked the browser to play, oldest first."""
    return [c.control.src for c in app.calls("play")]  # type: ignore[union-attr]


def test_a_right_scan_plays_the_short_tone_and_a_wrong_one_the_error_tone(
    services: Services,
) -> None:
    with FletFake(make_main(services.app)) as app:
        sign_in(app)
        scan = open_pick_list(app, "W-1")
        assert tones_played(app) == []

        app.submit(scan, gtin14_of("DOG2"))
        assert tones_played(app) == ["tone-ok.wav"]
        app.submit(scan, gtin14_of("DOG2"))  # over-pick: the line wants 1
        message = app.by_identifier("scan-message")
        assert isinstance(message, ft.Text)
        assert message.color == ft.Colors.RED_900
        app.submit(scan, gtin14_of("DOG12"))  # the wrong item
        app.submit(scan, "not-a-barcode")
        assert tones_played(app) == ["tone-ok.wav", *["tone-error.wav"] * 3]
        assert app.calls("focus")[-1].control is scan


def test_a_sound_that_fails_leaves_the_scan_counted_and_the_field_focused(
    services: Services,
) -> None:
    def no_audio(args: object) -> None:
        raise RuntimeError("NotAllowedError: play() failed")  # e.g. the autoplay policy

    with FletFake(make_main(services.app), method_results={"play": no_audio}) as app:
        sign_in(app)
        scan = open_pick_list(app, "W-1")
        app.submit(scan, gtin14_of("DOG2"))
        assert app.text_of("pick-progress") == "1 of 2 done"
        assert app.calls("focus")[-1].control is scan
        assert app.find_all(ft.SnackBar) == []  # no "That did not work" either


def test_the_screens_open_the_tablet_file_as_the_benchmark_measures_it(
    services: Services,
) -> None:
    with FletFake(make_main(services.app)) as app:
        sign_in(app)
        close = app.page.on_close
        assert inspect.ismethod(close)
        frame: Any = close.__self__  # the session's Frame
        (pages,) = frame.tab.store.db.execute("PRAGMA wal_autocheckpoint").fetchone()
        assert pages == 20000  # checkpoints (an fsync each) are left to the sync engine
