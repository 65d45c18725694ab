"""The manager's console screens without a browser: a real tablet file, the real
view-models, Flet's session."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import flet as ft

from storeapp.app import make_main
from storeapp.local import LocalStore
from tests.storeapp.builders import ENROLLED, T0, Feed
from tests.views.flet_fake import FletFake
from tests.views.test_pick_view import Services, sign_in

# rail: Home, Pick, Hand-over, Returns, Count, Tasks, Sync, then Queue, Approvals,
# Exceptions, Devices, KPIs for managers
EXCEPTIONS, DEVICES, KPIS = 9, 10, 11


def console_tablet(tmp_path: Path) -> Path:
    path = tmp_path / "store.db"
    feed = Feed()
    with LocalStore(path) as store:
        store.enroll(ENROLLED, "http://central.test/")
        store.apply_pull(feed.basics())
        doc = {
            "exception_id": "X-1",
            "code": "RETURN_UNVERIFIED",
            "message": "Return R-1 names order W-404, which this store does not have",
            "state": "open",
            "actor_id": "E1",
            "created_at": (T0 - timedelta(minutes=5)).isoformat(),
        }
        store.apply_pull(feed.page(feed.change("exception", "X-1", doc)))
    return path


def test_a_manager_settles_an_exception_with_a_note(tmp_path: Path) -> None:
    services = Services(console_tablet(tmp_path))
    with FletFake(make_main(services.app)) as app:
        sign_in(app, "M1", "9999")
        assert app.text_of("tile-exceptions") == "1"
        app.change(app.find(ft.NavigationRail), EXCEPTIONS, prop="selected_index")
        assert any("names order W-404" in t for t in app.texts())
        settled = app.find(ft.Button, text="Settled")
        app.click(settled)
        assert app.text_of("exceptions-message") == "Say what was done about it (a few words)."
        app.type(app.find(ft.TextField, label="What was done"), "receipt checked, refunded")
        app.click(app.find(ft.Button, text="Settled"))
        assert app.text_of("exceptions-message") == "Settled."
        assert any(t == "Nothing to settle." for t in app.texts())
    with LocalStore(services.app.db_path) as store:
        [op] = store.outbox()
        assert (op.type, op.actor_id) == ("exception.resolve", "M1")
    assert services.errors == []


def test_kpis_and_devices_open_for_a_manager(tmp_path: Path) -> None:
    services = Services(console_tablet(tmp_path))
    with FletFake(make_main(services.app)) as app:
        sign_in(app, "M1", "9999")
        app.change(app.find(ft.NavigationRail), KPIS, prop="selected_index")
        assert "Open exceptions" in app.texts() and "No order ready yet today." in app.texts()
        app.change(app.find(ft.NavigationRail), DEVICES, prop="selected_index")
        assert app.text_of("devices-message") == (
            "Tap Refresh to ask central (it needs the network)."
        )
    assert services.errors == []


def test_an_associate_has_no_console_on_the_rail(tmp_path: Path) -> None:
    services = Services(console_tablet(tmp_path))
    with FletFake(make_main(services.app)) as app:
        sign_in(app)
        labels = [d.label for d in app.find(ft.NavigationRail).destinations]
        assert "Exceptions" not in labels and "KPIs" not in labels
