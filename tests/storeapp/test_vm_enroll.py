"""View-model: the enroll screen, and the first download's progress on it (rows, rate, time
left: the lines `storeapp enroll` prints), with a real central and a real sync engine."""

from __future__ import annotations

from pathlib import Path

from storeapp.cli import ProgressLines
from storeapp.enrollment import enroll_data_dir
from storeapp.local import LocalStore
from storeapp.viewmodels import EnrollScreen, EnrollVM
from sync.engine import Progress, SyncEngine, SyncReport
from sync.errors import Unauthorized
from tests.support.central import Central


def refused(server: str, code: str, name: str) -> str:
    raise Unauthorized("the enrollment code was already used", code="CODE_USED")


def test_missing_fields_and_a_refused_code_are_said_in_words() -> None:
    vm = EnrollVM(refused)
    empty = vm.submit("  ", "ABC")
    assert (empty.tone, empty.busy) == ("error", False)
    assert empty.message == "Enter the server URL and the enrollment code."
    assert vm.submit("http://central", "ABC").busy
    said = vm.enroll("http://central", "ABC", "desk")
    assert (said.tone, said.busy) == ("error", False)
    assert said.message == "Not enrolled: the enrollment code was already used"
    # nothing is downloading: a sync event changes nothing
    assert vm.on_sync(SyncReport()) == said


def test_the_download_shows_rows_rate_and_time_left_as_the_cli_prints_them() -> None:
    vm = EnrollVM(lambda server, code, name: "Enrolled for store S1: downloading the store…")
    assert vm.enroll("http://central", "ABC", "desk").busy
    printed: list[str] = []
    cli = ProgressLines(echo=printed.append, every_s=0)
    shown: list[EnrollScreen] = []
    for p in (
        Progress("receiving", 0, 100_006, 0.0),
        Progress("receiving", 25_000, 100_006, 2.0),
    ):
        cli(p)
        shown.append(vm.on_sync(p))
    assert [s.progress for s in shown] == printed
    assert shown[-1].progress == "Receiving 25,000 of 100,006 · 12,500/s · about 6 s left"
    assert shown[-1].fraction is not None and round(shown[-1].fraction, 2) == 0.25
    assert shown[-1].busy and "downloading the store" in shown[-1].message
    assert vm.submit("http://central", "ABC").busy  # a second tap waits for the download

    failed = vm.on_sync(
        SyncReport(ok=False, error_in_words="central cannot be reached", offline=True)
    )
    assert failed.ready == "central cannot be reached" and failed.tone == "warning"


def test_a_real_first_download_reports_its_progress_to_the_screen(
    central: Central, tmp_path: Path
) -> None:
    store = central.new_store(items=1200)  # more rows than one progress step (500)
    db = tmp_path / "hub" / "storeapp.db"
    vm = EnrollVM(lambda server, code, name: enroll_data_dir(db, server, code, name))
    vm.submit(central.url, "x")
    enrolled = vm.enroll(central.url, central.enroll_code(store.store_id), "desk")
    assert enrolled.busy, enrolled.message
    shown: list[EnrollScreen] = []
    engine = SyncEngine(lambda: LocalStore(db), on_progress=lambda p: shown.append(vm.on_sync(p)))

    report = engine.run_once()
    done = vm.on_sync(report)

    receiving = [s.progress for s in shown if s.progress.startswith("Receiving")]
    total = receiving[0].split(" of ")[1]
    assert receiving[0] == f"Receiving 0 of {total}"
    assert any(" of " in r and "/s" in r for r in receiving[1:]), receiving
    assert receiving[-1].startswith(f"Receiving {total} of {total}")
    assert [s.fraction for s in shown][-1] == 1.0
    assert done.ready == "" and not done.busy and done.tone == "ok"
