"""The returns screen without a browser: a real tablet file, the real view-model, Flet's session."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import flet as ft

from storeapp.app import make_main
from storeapp.local import LocalStore
from sync.engine import SyncReport
from tests.storeapp.builders import sold_order_doc
from tests.storeapp.test_print_pages import _get
from tests.support.printed import text
from tests.views.flet_fake import FletFake, publish_from_another_thread
from tests.views.test_pick_view import Services, sign_in, tablet_file

RETURNS = 3  # rail: Home, Pick, Hand-over, Returns, Tasks, Sync


def sold_path(tmp_path: Path, days: int) -> Path:
    # the view-model runs on the real clock: sell relative to now
    doc = sold_order_doc("W-9", [("1", "DOG2", 2), ("2", "BOWL", 1)])
    sold = (datetime.now(UTC) - timedelta(days=days)).isoformat().replace("+00:00", "Z")
    doc["fulfilled_at"] = doc["updated_at"] = sold
    return tablet_file(tmp_path, doc)


def more(app: FletFake) -> ft.IconButton:
    """The first line's + button."""
    return app.find_all(ft.IconButton, where=lambda b: b.data == "More")[0]


def open_returns(app: FletFake) -> ft.TextField:
    sign_in(app)
    app.change(app.find(ft.NavigationRail), RETURNS, prop="selected_index")
    return app.find(ft.TextField, label="Find order")


def test_a_return_within_policy_is_saved_with_a_receipt_like_confirmation(
    tmp_path: Path,
) -> None:
    services = Services(sold_path(tmp_path, 2))
    with FletFake(make_main(services.app)) as app:
        find = open_returns(app)
        assert app.calls("focus")[-1].control is find
        app.submit(find, "w-9")
        assert app.text_of("returns-message") == "Choose what comes back."
        assert app.text_of("returns-order").startswith("W-9 · Jo Smith · Sold")
        app.click(more(app))  # line 1: +1
        assert app.text_of("return-qty-1") == "1"
        condition = app.by_identifier("return-condition-1")
        assert isinstance(condition, ft.Dropdown)
        app.select(condition, "damaged")
        disposition = app.by_identifier("return-disposition-1")
        assert isinstance(disposition, ft.Dropdown)
        assert disposition.value == "damaged_bin"
        assert app.text_of("returns-summary") == (
            "Refund 9.99 to the original payment · 0 back on the shelf · 1 to the damaged bin"
        )
        app.click(app.find(ft.Button, text="Save return"))
        assert app.text_of("returns-message") == "Return saved."
        assert app.text_of("returns-confirmation") == (
            "Refund 9.99 to the original payment · 1 to the damaged bin"
        )
        assert any("waiting to sync" in t for t in app.texts())
    with LocalStore(services.app.db_path) as store:
        assert [op.type for op in store.outbox()] == ["return.receive"]
    assert services.errors == [] and services.syncs == 1


def test_outside_the_window_the_manager_approves_on_the_same_screen(tmp_path: Path) -> None:
    services = Services(sold_path(tmp_path, 45))
    with FletFake(make_main(services.app)) as app:
        app.submit(open_returns(app), "W-9")
        app.click(more(app))
        assert app.text_of("returns-breaches").startswith("Sold 45 days ago")
        said = app.text_of("returns-message")
        assert said.startswith("1 × ") and "outside policy" in said  # the error tone, why
        save = app.find(ft.Button, text="Save return")
        app.click(save)  # grey, and a tap says why
        assert app.text_of("returns-message").endswith(
            "A manager approves it here with their employee id and PIN."
        )
        assert (
            app.find(ft.TextField, label="Scan item")
            in [c.control for c in app.calls("focus")][-1:]
        )
        said = app.text_of("returns-message")
        publish_from_another_thread(services.app.fanout, SyncReport())  # a sync pass
        assert app.settle()
        assert app.text_of("returns-message") == said  # refreshed, the message stays
        app.type(app.find(ft.TextField, label="Manager id"), "E2")
        app.type(app.find(ft.TextField, label="Manager PIN"), "5678")
        app.click(app.find(ft.Button, text="Manager approves"))
        assert app.text_of("returns-message") == (
            "Ben is not a manager: a manager approves returns outside policy."
        )
        assert app.find(ft.TextField, label="Manager PIN").value == ""
        app.type(app.find(ft.TextField, label="Manager id"), "M1")
        app.type(app.find(ft.TextField, label="Manager PIN"), "9999")
        app.click(app.find(ft.Button, text="Manager approves"))
        assert app.text_of("returns-message") == "Return saved, approved by Maria."
        assert app.text_of("returns-confirmation") == (
            "Refund 9.99 to the original payment · 1 back on shelf A-12"
        )
    with LocalStore(services.app.db_path) as store:
        assert [(op.type, op.actor_id) for op in store.outbox()] == [
            ("return.receive", "E1"),
            ("return.override", "M1"),
        ]
    assert services.errors == []


def test_the_home_tile_opens_returns_and_a_receipt_return_takes_scans(tmp_path: Path) -> None:
    services = Services(sold_path(tmp_path, 2))
    with FletFake(make_main(services.app)) as app:
        sign_in(app)
        assert app.text_of("tile-returns") == "0"
        app.click(
            app.find(
                ft.Container,
                where=lambda c: c.on_click is not None and "Returns today" in app.texts(c),
            )
        )
        app.type(app.find(ft.TextField, label="Find order"), "W-404")
        app.click(app.find(ft.Button, text="Not on this tablet"))
        assert app.text_of("returns-order") == "Receipt W-404 · order not on this tablet"
        scan = app.find(ft.TextField, label="Scan item")
        assert app.calls("focus")[-1].control is scan
        app.submit(scan, "nonsense")
        assert app.find(ft.TextField, label="Scan item").value == ""
        assert services.errors == []


def test_print_receipt_opens_the_receipt_of_the_return_just_saved(tmp_path: Path) -> None:
    services = Services(sold_path(tmp_path, 2))
    with FletFake(make_main(services.app)) as app:
        app.submit(open_returns(app), "W-9")
        assert not app.find_all(ft.Button, text="Print receipt")  # nothing saved yet
        app.click(more(app))
        app.click(app.find(ft.Button, text="Save return"))
        assert app.text_of("returns-message") == "Return saved."
        app.click(app.find(ft.Button, text="Print receipt"))
        with LocalStore(services.app.db_path) as store:
            (saved,) = [r.ret.return_id for r in store.returns_of("W-9")]
        assert f"Print return {saved}" in app.texts()
        (row,) = app.find_all(ft.Button, where=lambda b: b.content == "Return receipt")
        assert isinstance(row.url, ft.Url)
        link = row.url.url
        assert link.startswith(f"/pages/print/receipt/{saved}.pdf?t=")
        app.click(app.find(ft.TextButton, text="Close"))
        app.click(app.find(ft.Button, text="Next customer"))
        assert not app.find_all(ft.Button, text="Print receipt")  # the next customer's screen
    (answer,) = _get(tmp_path, link)  # what the browser's new tab gets from the hub
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pdf"
    assert f"Return receipt - {saved}" in text(answer.content)
    assert "order W-9" in text(answer.content)
    assert services.errors == []
