"""The sign-in screen: a locked id is unlocked by a manager on the spot; an idle session
goes back to the sign-in screen by itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import flet as ft

from storeapp.app import make_main
from storeapp.local import LocalStore
from tests.storeapp.conftest import FakeClock
from tests.views.flet_fake import FletFake
from tests.views.test_pick_view import Services, sign_in, tablet_file


def lock(path: Path, employee_id: str) -> None:
    """Five wrong PINs for `employee_id` a minute ago (as another session typed them)."""
    then = datetime.now(UTC) - timedelta(minutes=1)
    with LocalStore(path) as store:
        for n in range(5):
            store.check_pin(employee_id, "0000", then + timedelta(seconds=n * 10))


def test_a_locked_associate_is_unlocked_by_a_manager_on_the_sign_in_screen(
    tmp_path: Path,
) -> None:
    path = tablet_file(tmp_path)
    lock(path, "E1")
    services = Services(path)
    with FletFake(make_main(services.app)) as app:
        assert app.find_all(ft.TextField, label="Manager PIN") == []  # hidden until needed
        sign_in(app)  # the right PIN
        assert app.text_of("sign-in-message") == "Locked: ask a manager to unlock."
        assert app.text_of("unlock-title") == "A manager can unlock E1 here:"

        app.type(app.find(ft.TextField, label="Manager id"), "E2")
        app.type(app.find(ft.TextField, label="Manager PIN"), "5678")
        app.click(app.find(ft.Button, text="Unlock"))
        assert app.text_of("sign-in-message") == "Ben is not a manager: a manager unlocks."

        app.type(app.find(ft.TextField, label="Manager id"), "M1")
        app.type(app.find(ft.TextField, label="Manager PIN"), "9999")
        app.click(app.find(ft.Button, text="Unlock"))
        assert app.text_of("sign-in-message") == "E1 unlocked by Maria: sign in again."
        assert app.find_all(ft.TextField, label="Manager PIN") == []

        sign_in(app)
        assert app.text_of("associate") == "Ana"
    assert services.errors == []


def test_an_idle_session_returns_to_the_sign_in_screen_by_itself(tmp_path: Path) -> None:
    clock = FakeClock(datetime.now(UTC))
    services = Services(tablet_file(tmp_path))
    services.app.tick_s = 0.05  # the screen's timer looks every 50 ms
    services.app.clock = clock
    with FletFake(make_main(services.app)) as app:
        sign_in(app)
        assert app.text_of("associate") == "Ana"
        clock.tick(minutes=4)
        app.change(app.find(ft.NavigationRail), 5, prop="selected_index")  # an action: Tasks
        clock.tick(minutes=4)
        app.settle(0.3)
        assert app.text_of("associate") == "Ana"  # 4 min since the last action
        clock.tick(minutes=1)
        app.settle(0.3)
        assert app.find_all(ft.Button, text="Sign in")
        assert app.text_of("sign-in-message") == (
            "Signed out Ana after 5 min without use. Work not yet sent is kept."
        )
    assert services.errors == []
