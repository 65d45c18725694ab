"""One browser tab's session, without Flet: a real tablet file, the screens' view-models."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from storeapp.local import LocalStore
from storeapp.viewmodels import (
    ApprovalsVM,
    CountVM,
    HandoverVM,
    HomeVM,
    PickListVM,
    QueueVM,
    ReceivingVM,
    ReturnsVM,
    StagingVM,
    SyncStatusVM,
    TasksVM,
)
from storeapp.viewmodels.console import DevicesVM, ExceptionsVM, KpisVM
from storeapp.viewmodels.lookup import LookupVM
from storeapp.viewmodels.plans import PlansVM
from storeapp.viewmodels.rejecting import RejectionsVM, RejectVM
from storeapp.viewmodels.screen import Clock, OnChange, nothing, utc_now
from storeapp.viewmodels.session import IDLE_AFTER
from storeapp.viewmodels.tab import (
    MANAGER_SCREENS,
    SCREENS,
    ManagersOnly,
    TabSession,
    UnknownScreen,
)
from tests.storeapp.builders import ENROLLED, Feed, order_doc
from tests.storeapp.conftest import FakeClock

EXPECTED: dict[str, type] = {
    "home": HomeVM,
    "pick": QueueVM,
    "picklist": PickListVM,
    "queue": QueueVM,
    "staging": StagingVM,
    "handover": HandoverVM,
    "returns": ReturnsVM,
    "tasks": TasksVM,
    "count": CountVM,
    "receiving": ReceivingVM,
    "approvals": ApprovalsVM,
    "exceptions": ExceptionsVM,
    "devices": DevicesVM,
    "kpis": KpisVM,
    "sync": SyncStatusVM,
    "lookup": LookupVM,
    "rejections": RejectionsVM,
    "reject": RejectVM,
    "plans": PlansVM,
}


@pytest.fixture
def tablet(tmp_path: Path) -> Path:
    """An enrolled tablet file that pulled its store, staff, catalogue and two orders."""
    path = tmp_path / "tablet.db"
    feed = Feed()
    with LocalStore(path) as store:
        store.enroll(ENROLLED, "http://central.test/")
        store.apply_pull(feed.basics())
        store.apply_pull(
            feed.orders(order_doc("W-1", [("1", "DOG2", 1)]), order_doc("W-2", [("1", "BOWL", 1)]))
        )
    return path


def signed_in(
    path: Path,
    employee_id: str,
    pin: str,
    *,
    clock: Clock = utc_now,
    idle_after: timedelta = IDLE_AFTER,
    sync_now: OnChange = nothing,
) -> TabSession:
    tab = TabSession(path, clock=clock, idle_after=idle_after, sync_now=sync_now)
    assert tab.session.sign_in(employee_id, pin).signed_in
    tab.open_screens()
    return tab


def test_a_tab_opens_the_tablet_file_as_the_screens_need_it(tablet: Path) -> None:
    with TabSession(tablet) as tab, LocalStore(tablet) as engine_side:
        (screens,) = tab.store.db.execute("PRAGMA wal_autocheckpoint").fetchone()
        (engine,) = engine_side.db.execute("PRAGMA wal_autocheckpoint").fetchone()
        # the screens leave WAL checkpoints (an fsync each) to the sync engine's connection
        assert (screens, engine) == (20000, 1000)
        assert tab.sync.screen().device_id == ENROLLED.device_id


def test_a_manager_s_tab_builds_every_screen_s_view_model_once_per_sign_in(tablet: Path) -> None:
    with signed_in(tablet, "M1", "9999") as tab:
        built = {name: tab.vm(name) for name in SCREENS}
        assert {name: type(vm) for name, vm in built.items()} == EXPECTED
        assert all(tab.vm(name) is built[name] for name in SCREENS)  # kept while signed in
        assert tab.vm("pick") is tab.vm("queue")  # the Pick tab's queue is the manager's Queue
        assert tab.vm("sync") is tab.sync  # the chip's: one per tab, across sign-ins
        tab.open_screens()  # the next sign-in starts from nothing
        assert tab.vm("picklist") is not built["picklist"]
        assert tab.vm("sync") is tab.sync


def test_an_unknown_screen_name_is_refused_in_words(tablet: Path) -> None:
    with signed_in(tablet, "M1", "9999") as tab:
        with pytest.raises(UnknownScreen, match="no screen named 'reports'"):
            tab.vm("reports")
        with pytest.raises(UnknownScreen):
            tab.resolve("Pick")
        assert not tab.may_open("reports")


def test_a_manager_s_screen_is_not_built_for_an_associate(tablet: Path) -> None:
    with signed_in(tablet, "E1", "1234") as tab:
        for name in sorted(MANAGER_SCREENS):
            assert not tab.may_open(name)
            with pytest.raises(ManagersOnly, match="is for managers: ask the shift manager"):
                tab.vm(name)
        with pytest.raises(ManagersOnly, match=r"^Approvals is for managers"):
            tab.resolve("approvals")
        assert [name for name in SCREENS if tab.may_open(name)] == [
            "home",
            "pick",
            "picklist",
            "staging",
            "handover",
            "returns",
            "tasks",
            "count",
            "receiving",
            "sync",
            "lookup",
            "reject",
        ]
        assert isinstance(tab.vm("pick"), QueueVM)  # the associate's own pick queue


def test_nobody_signed_in_opens_no_manager_screen(tablet: Path) -> None:
    with TabSession(tablet) as tab:
        assert tab.may_open("home") and not tab.may_open("kpis")
        with pytest.raises(ManagersOnly):
            tab.vm("kpis")


def test_an_action_on_a_screen_wakes_the_sync_engine(tablet: Path) -> None:
    woken: list[str] = []
    with signed_in(tablet, "E1", "1234", sync_now=lambda: woken.append("sync")) as tab:
        assert tab.vm("pick").claim("W-1").pick_list == ("W-1",)
        assert woken == ["sync"]
        tab.open_screens(on_change=lambda: woken.append("shell"))
        assert tab.vm("pick").claim("W-2").pick_list == ("W-2",)
        assert woken == ["sync", "shell"]
        tab.vm("sync").sync_now()  # the Sync screen's button
        assert woken == ["sync", "shell", "sync"]


def test_the_pick_tab_shows_the_pick_list_in_progress_until_it_is_finished(tablet: Path) -> None:
    with signed_in(tablet, "E1", "1234") as tab:
        assert tab.resolve("pick") == "pick"  # nothing started: the pick queue
        claimed = tab.vm("pick").claim("W-1")
        tab.vm("picklist").open(claimed.pick_list)
        assert tab.resolve("pick") == "picklist"
        tab.open_screens()  # signed out and in again: the list is no longer held
        assert tab.resolve("pick") == "pick"
        assert tab.resolve("home") == "home"


def test_the_tab_s_clock_signs_an_idle_associate_out(tablet: Path) -> None:
    clock = FakeClock()
    tab = signed_in(tablet, "E1", "1234", clock=clock, idle_after=timedelta(minutes=2))
    with tab:
        clock.tick(minutes=1)
        assert tab.session.sign_out_if_idle() is None
        clock.tick(minutes=1)
        out = tab.session.sign_out_if_idle()
        assert out is not None and out.message.startswith("Signed out Ana after 2 min")


def test_closing_the_tab_closes_its_store(tablet: Path) -> None:
    tab = TabSession(tablet)
    store = tab.store
    tab.close()
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        store.db.execute("SELECT 1")
    tab.close()  # a second close (on_close after on_disconnect) is harmless
    with TabSession(tablet) as tab:
        store = tab.store
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        store.db.execute("SELECT 1")
