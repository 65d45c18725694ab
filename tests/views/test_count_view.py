"""The count and approvals screens without a browser: a real tablet file, the real
view-models, Flet's session."""

from __future__ import annotations

from pathlib import Path

import flet as ft

from storeapp.app import make_main
from storeapp.local import LocalStore
from sync.engine import SyncReport
from tests.storeapp.builders import ENROLLED, Feed, count_doc, gtin14_of, task_doc
from tests.views.flet_fake import FletFake, publish_from_another_thread
from tests.views.test_pick_view import Services, sign_in

# rail: Home, Pick, Hand-over, Returns, Count, Tasks, Sync (+ managers: Queue, Approvals)
COUNT, TASKS, APPROVALS = 4, 5, 8
ON_HAND = 4711


def count_tablet(tmp_path: Path) -> Path:
    """Stock on the books for DOG2, a recount task for the bowl, Ana's count waiting."""
    path = tmp_path / "store.db"
    feed = Feed()
    with LocalStore(path) as store:
        store.enroll(ENROLLED, "http://central.test/")
        store.apply_pull(feed.basics())
        store.apply_pull(
            feed.page(
                feed.change(
                    "stock",
                    "DOG2@A-12",
                    {"sku": "DOG2", "location": "A-12", "on_hand": ON_HAND, "reserved": 0},
                ),
                feed.change(
                    "task",
                    "T-2",
                    task_doc("T-2", "recount", "BOWL", "C-01", 0, order_id=None, reason="short"),
                ),
                feed.change("count", "C-1", count_doc("C-1", "CAT1", 14, 20)),
            )
        )
    return path


def key(app: FletFake, name: str) -> ft.Button:
    return app.find(ft.Button, where=lambda b: b.data == name)


def test_an_ad_hoc_count_on_the_number_pad_is_blind_and_queued(tmp_path: Path) -> None:
    services = Services(count_tablet(tmp_path))
    with FletFake(make_main(services.app)) as app:
        sign_in(app)
        app.change(app.find(ft.NavigationRail), COUNT, prop="selected_index")
        scan = app.find(ft.TextField, label="Scan item")
        assert app.calls("focus")[-1].control is scan
        app.submit(scan, gtin14_of("DOG2"))
        assert app.text_of("count-item") == "Dog Food 2 kg"
        assert app.find(ft.TextField, label="Location").value == "A-12"
        assert app.find(ft.TextField, label="Scan item").value == ""
        app.click(key(app, "1"))
        app.click(key(app, "4"))
        assert app.text_of("count-qty") == "14"
        assert app.calls("focus")[-1].control is scan  # the scanner still lands in it
        assert not any(str(ON_HAND) in t for t in app.texts())  # blind
        publish_from_another_thread(services.app.fanout, SyncReport())  # a sync pass
        assert app.settle()
        assert app.text_of("count-qty") == "14"
        app.click(app.find(ft.Button, text="Submit count"))
        assert app.text_of("count-message") == (
            "Counted 14 × Dog Food 2 kg at A-12. Central compares it with the books."
        )
        assert any("14 counted · waiting to sync" in t for t in app.texts())
        assert app.find_all(ft.Button, text="Submit count") == []
    with LocalStore(services.app.db_path) as store:
        [op] = store.outbox()
        assert (op.type, op.payload["sku"], op.payload["qty"]) == ("count.record", "DOG2", 14)
    assert services.errors == [] and services.syncs == 1


def test_a_recount_task_opens_the_count_screen(tmp_path: Path) -> None:
    services = Services(count_tablet(tmp_path))
    with FletFake(make_main(services.app)) as app:
        sign_in(app)
        app.change(app.find(ft.NavigationRail), TASKS, prop="selected_index")
        assert app.find_all(ft.Button, text="Done") == []
        app.click(app.find(ft.Button, text="Count"))
        assert app.text_of("count-item") == "Steel Bowl · recount"
        assert app.find(ft.TextField, label="Location").value == "C-01"
        scan = app.find(ft.TextField, label="Scan item")
        for _ in range(3):
            app.submit(scan, gtin14_of("BOWL"))
        assert app.text_of("count-qty") == "3"
        app.click(app.find(ft.Button, text="Submit count"))
        assert app.find_all(ft.Button, text="Count") == []  # the task is done here
        assert any("No recounts waiting." == t for t in app.texts())
    assert services.errors == []


def test_the_manager_approves_a_count_from_the_approvals_screen(tmp_path: Path) -> None:
    services = Services(count_tablet(tmp_path))
    with FletFake(make_main(services.app)) as app:
        sign_in(app, "M1", "9999")
        rail = app.find(ft.NavigationRail)
        assert rail.destinations[APPROVALS].label == "Approvals · 1"
        assert app.text_of("tile-approvals") == "1"
        app.change(rail, APPROVALS, prop="selected_index")
        assert app.text_of("count-C-1") == "counted 14 · book 20 · variance \u22126"
        app.click(app.find(ft.Button, text="Approve"))  # over the threshold: it asks first
        assert app.text_of("approve-confirm") == (
            "Approve \u22126 units of Cat Litter 10 l at B-03? The books change from 20 to 14."
        )
        app.click(app.find(ft.Button, text="Approve \u22126"))
        assert app.text_of("approvals-message") == "Approved: \u22126 Cat Litter 10 l at B-03."
        assert any(t == "No counts waiting." for t in app.texts())
        assert app.find(ft.NavigationRail).destinations[APPROVALS].label == "Approvals"
        adjust = app.find(ft.TextField, label="Scan item to adjust")
        app.submit(adjust, gtin14_of("DOG2"))
        app.type(app.find(ft.TextField, label="Change (units)"), "0")
        app.click(app.find(ft.Button, text="Save adjustment"))
        assert app.text_of("approvals-message") == "An adjustment of 0 units changes nothing."
    with LocalStore(services.app.db_path) as store:
        assert [(op.type, op.actor_id) for op in store.outbox()] == [("count.approve", "M1")]
    assert services.errors == []


def test_an_associate_has_no_approvals_on_the_rail(tmp_path: Path) -> None:
    services = Services(count_tablet(tmp_path))
    with FletFake(make_main(services.app)) as app:
        sign_in(app)
        labels = [d.label for d in app.find(ft.NavigationRail).destinations]
        assert labels == ["Home", "Pick", "Hand-over", "Returns", "Count", "Tasks", "Sync", "Stock"]
        assert app.find_all(ft.Semantics, identifier="tile-approvals") == []
        assert app.text_of("tile-counts") == "1"
    assert services.errors == []
