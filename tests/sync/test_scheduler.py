"""The scheduler's wiring, with a stand-in engine (the engine itself is tested against central)."""

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import cast

import pytest

from sync.backoff import Backoff
from sync.engine import SyncEngine, SyncReport
from sync.errors import Offline
from sync.scheduler import SyncScheduler

OK = SyncReport(ok=True)
OFFLINE = SyncReport(ok=False, offline=True, error_in_words="Offline · 3 changes waiting")


class StandInEngine:
    """Counts passes, can hold a pass open, and says what `reports` tells it to."""

    listen: Callable[[], Iterator[int]]  # set by the test that listens

    def __init__(self, *reports: SyncReport | Exception) -> None:
        self.reports = list(reports)
        self.passes = 0
        self.running = 0
        self.most_at_once = 0
        self.hold = threading.Event()
        self.hold.set()
        self.entered = threading.Event()
        self.lock = threading.Lock()
        self.pokes = 0

    def poke(self) -> None:
        self.pokes += 1

    def run_once(self) -> SyncReport:
        with self.lock:
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        self.entered.set()
        self.hold.wait(5)
        with self.lock:
            self.running -= 1
            self.passes += 1
            outcome = self.reports.pop(0) if self.reports else OK
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def wait_until(condition: Callable[[], object], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.01)


def next_run(scheduler: SyncScheduler) -> datetime:
    at = scheduler.next_run_time()
    assert at is not None
    return at


@pytest.fixture
def schedulers() -> Iterator[list[SyncScheduler]]:
    made: list[SyncScheduler] = []
    yield made
    for scheduler in made:
        cast(StandInEngine, scheduler.engine).hold.set()
        scheduler.shutdown()


def test_start_runs_a_first_pass_at_once(schedulers: list[SyncScheduler]) -> None:
    engine = StandInEngine()
    scheduler = SyncScheduler(cast(SyncEngine, engine), interval=3600)
    schedulers.append(scheduler)
    scheduler.start()
    wait_until(lambda: engine.passes == 1)
    assert scheduler.last_report == OK and scheduler.last_error is None


def test_sync_now_moves_the_one_job_to_now(schedulers: list[SyncScheduler]) -> None:
    engine = StandInEngine()
    scheduler = SyncScheduler(cast(SyncEngine, engine), interval=3600)
    schedulers.append(scheduler)
    scheduler.start(run_now=False)
    assert next_run(scheduler) > datetime.now(UTC) + timedelta(minutes=59)
    scheduler.sync_now()
    wait_until(lambda: engine.passes == 1)
    assert len(scheduler._scheduler.get_jobs()) == 1
    wait_until(lambda: next_run(scheduler) > datetime.now(UTC) + timedelta(minutes=59))


def test_taps_during_a_pass_give_exactly_one_more_pass_after_it(
    schedulers: list[SyncScheduler],
) -> None:
    engine = StandInEngine()
    engine.hold.clear()
    scheduler = SyncScheduler(cast(SyncEngine, engine), interval=3600)
    schedulers.append(scheduler)
    scheduler.start()
    assert engine.entered.wait(5)
    for _ in range(3):
        scheduler.sync_now()
    engine.hold.set()
    wait_until(lambda: engine.passes == 2)
    time.sleep(0.3)
    assert engine.passes == 2
    assert engine.most_at_once == 1


def test_a_failed_pass_moves_the_next_run_by_the_backoff(schedulers: list[SyncScheduler]) -> None:
    engine = StandInEngine(OFFLINE)
    backoff = Backoff(initial=600, maximum=3000, rand=lambda: 0.0)
    scheduler = SyncScheduler(cast(SyncEngine, engine), interval=3600, backoff=backoff)
    schedulers.append(scheduler)
    scheduler.start()
    # the failure is counted just before the job is moved: wait for the move itself
    wait_until(lambda: next_run(scheduler) < datetime.now(UTC) + timedelta(seconds=1800))
    expected = datetime.now(UTC) + timedelta(seconds=600)
    assert backoff.failures == 1
    assert abs(next_run(scheduler) - expected) < timedelta(seconds=5)
    assert scheduler.last_error == "Offline · 3 changes waiting"


def test_a_good_pass_resets_the_backoff(schedulers: list[SyncScheduler]) -> None:
    engine = StandInEngine(OFFLINE, OK)
    backoff = Backoff(initial=0.05, rand=lambda: 0.0)
    scheduler = SyncScheduler(cast(SyncEngine, engine), interval=3600, backoff=backoff)
    schedulers.append(scheduler)
    scheduler.start()
    wait_until(lambda: engine.passes == 2)
    wait_until(lambda: backoff.failures == 0)
    assert scheduler.last_error is None


def test_a_crashing_pass_is_logged_recorded_and_retried(
    schedulers: list[SyncScheduler], caplog: pytest.LogCaptureFixture
) -> None:
    engine = StandInEngine(RuntimeError("disk full"), OK)
    backoff = Backoff(initial=0.05, rand=lambda: 0.0)
    scheduler = SyncScheduler(cast(SyncEngine, engine), interval=3600, backoff=backoff)
    schedulers.append(scheduler)
    scheduler.start()
    wait_until(lambda: engine.passes == 1 and scheduler.last_error is not None)
    assert scheduler.last_error is not None
    assert "RuntimeError" in scheduler.last_error
    assert "sync_pass crashed" in caplog.text
    wait_until(lambda: engine.passes == 2)
    assert scheduler.running


def test_every_poke_asks_for_a_pass(schedulers: list[SyncScheduler]) -> None:
    engine = StandInEngine()
    pokes = threading.Semaphore(0)
    stop = threading.Event()

    def events() -> Iterator[int]:
        seq = 0
        while not stop.is_set():
            if pokes.acquire(timeout=0.05):
                seq += 1
                yield seq

    scheduler = SyncScheduler(cast(SyncEngine, engine), interval=3600, events=events)
    schedulers.append(scheduler)
    try:
        scheduler.start(run_now=False)
        pokes.release()
        wait_until(lambda: engine.passes == 1)
        pokes.release()
        wait_until(lambda: engine.passes == 2)
    finally:
        stop.set()


def test_the_listener_reconnects_after_the_stream_breaks(schedulers: list[SyncScheduler]) -> None:
    engine = StandInEngine()
    calls = []
    stop = threading.Event()

    def events() -> Iterator[int]:
        calls.append(time.monotonic())
        if len(calls) < 3:
            raise Offline("central cannot be reached")
        yield 41
        stop.wait(5)

    scheduler = SyncScheduler(
        cast(SyncEngine, engine),
        interval=3600,
        events=events,
        listener_backoff=Backoff(initial=0.05, rand=lambda: 0.0),
    )
    schedulers.append(scheduler)
    try:
        scheduler.start(run_now=False)
        wait_until(lambda: engine.passes == 1)
        assert len(calls) == 3
        assert calls[2] - calls[1] >= 0.09  # the second wait was twice the first
    finally:
        stop.set()


def test_listen_true_reads_pokes_from_the_engine(schedulers: list[SyncScheduler]) -> None:
    engine = StandInEngine()
    stop = threading.Event()

    def listen() -> Iterator[int]:
        yield 1
        stop.wait(5)

    engine.listen = listen
    scheduler = SyncScheduler(cast(SyncEngine, engine), interval=3600, listen=True)
    schedulers.append(scheduler)
    try:
        scheduler.start(run_now=False)
        wait_until(lambda: engine.passes == 1)
    finally:
        stop.set()


def test_after_shutdown_sync_now_does_nothing(schedulers: list[SyncScheduler]) -> None:
    engine = StandInEngine()
    scheduler = SyncScheduler(cast(SyncEngine, engine), interval=3600)
    scheduler.start(run_now=False)
    scheduler.shutdown()
    scheduler.sync_now()
    time.sleep(0.2)
    assert engine.passes == 0
