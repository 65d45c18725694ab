"""When the sync engine runs: APScheduler 3.x wiring, nothing else.

- One interval job ("sync", every `interval` seconds, `max_instances=1`,
  `coalesce=True`) calls `engine.run_once()`.
- `sync_now()` ("Sync now" tap, an action just written, an SSE poke) moves that
  job's `next_run_time` to now; during a running pass it asks for one more pass
  right after it, so a tap is never lost and never runs beside a pass.
- After a failed pass the next run is moved to now + `Backoff` (1 s doubling
  to 5 min, with jitter); a good pass resets it and the interval takes over.
- An optional listener thread reads central's event stream (`engine.listen()`)
  and calls `engine.poke()` and `sync_now()` on every poke (a pass busy pushing a long
  outbox then pulls between batches); it reconnects with its own backoff, capped low
  (every ~1 s) so a central that is back is seen at once.
- The stream's state is the link's (`Link`, told to `on_link` when it changes): its first
  poke → online (and that poke's pass sends what waited); the stream broken, ended, or
  silent past its heartbeat → offline at once, not at the next failing pass. Before
  enrollment or when central refuses the token, the link is unknown (None): the chip
  goes by the last pass.

The job wrapper is the only broad `except` of the package: it logs and keeps
`last_error` for the status chip.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from .backoff import Backoff
from .engine import SyncEngine, SyncReport
from .errors import Offline, SyncError
from .link import Link

__all__ = ["LISTENER_BACKOFF_MAX_S", "Link", "SyncScheduler"]

log = logging.getLogger(__name__)

JOB_ID = "sync"
# an event stream that stayed up this long was healthy: its end is not a failure
STABLE_STREAM_SECONDS = 30.0
# the listener's reconnect attempts while central is away: 0.5 s, then every ≤ 1 s (jittered)
LISTENER_BACKOFF_INITIAL_S = 0.5
LISTENER_BACKOFF_MAX_S = 1.0


def _utcnow() -> datetime:
    return datetime.now(UTC)


class SyncScheduler:
    def __init__(
        self,
        engine: SyncEngine,
        *,
        interval: float = 15.0,
        listen: bool = False,
        events: Callable[[], Iterator[int]] | None = None,
        clock: Callable[[], datetime] = _utcnow,
        backoff: Backoff | None = None,
        listener_backoff: Backoff | None = None,
        on_report: Callable[[SyncReport], None] | None = None,
        on_link: Callable[[Link], None] | None = None,
    ) -> None:
        """`listen=True` starts the SSE listener on `engine.listen`; `events` replaces
        that source (any callable returning an iterator of pokes). `on_link` is told each
        change of the link's state, on the listener's thread."""
        self.engine = engine
        self.interval = interval
        self.last_report: SyncReport | None = None
        self.last_error: str | None = None
        self._clock = clock
        self._backoff = backoff or Backoff()
        self._listener_backoff = listener_backoff or Backoff(
            initial=LISTENER_BACKOFF_INITIAL_S, maximum=LISTENER_BACKOFF_MAX_S
        )
        self._on_report = on_report
        self._on_link = on_link
        self.link = Link(None)
        self._events = events if events is not None else (engine.listen if listen else None)
        self._scheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers=1)},
            timezone=UTC,
        )
        self._state_lock = threading.Lock()
        self._running = False
        self._again = False
        self._stop = threading.Event()
        self._listener: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------

    def start(self, *, run_now: bool = True) -> None:
        """Start the interval job (first pass at once unless `run_now=False`) and the listener."""
        first = self._clock() if run_now else self._clock() + timedelta(seconds=self.interval)
        self._scheduler.add_job(
            self._run,
            IntervalTrigger(seconds=self.interval, timezone=UTC),
            id=JOB_ID,
            name="sync pass",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
            next_run_time=first,
            replace_existing=True,
        )
        self._scheduler.start()
        if self._events is not None:
            self._stop.clear()
            self._listener = threading.Thread(target=self._listen, name="sync-events", daemon=True)
            self._listener.start()

    def shutdown(self, *, wait: bool = True) -> None:
        """Stop scheduling; with `wait`, let a running pass finish first."""
        self._stop.set()
        if self._scheduler.running:
            self._scheduler.shutdown(wait=wait)
        if self._listener is not None:
            # a blocked stream read ends at its read timeout; the thread is a daemon
            self._listener.join(timeout=1.0)
            self._listener = None

    @property
    def running(self) -> bool:
        return bool(self._scheduler.running)

    def next_run_time(self) -> datetime | None:
        job = self._scheduler.get_job(JOB_ID)
        return job.next_run_time if job is not None else None

    # --- triggers --------------------------------------------------------------

    def sync_now(self) -> None:
        """Run a pass as soon as possible, never beside a running one."""
        with self._state_lock:
            if self._running:
                self._again = True
                return
        self._move_next_run(self._clock())

    def _move_next_run(self, when: datetime) -> None:
        if self._stop.is_set() or not self._scheduler.running:
            return
        self._scheduler.modify_job(JOB_ID, next_run_time=when)

    # --- the job ---------------------------------------------------------------

    def _run(self) -> None:
        with self._state_lock:
            self._running = True
            self._again = False
        failed = True
        try:
            report = self.engine.run_once()
            self.last_report = report
            self.last_error = report.error_in_words
            failed = not report.ok
            if self._on_report is not None:
                self._on_report(report)
        except Exception as exc:  # the one broad except: a pass must never kill the schedule
            log.exception("sync_pass crashed")
            self.last_error = f"Sync stopped unexpectedly ({type(exc).__name__}); retrying."
        finally:
            with self._state_lock:
                self._running = False
                again = self._again
                self._again = False
        now = self._clock()
        if again:
            self._move_next_run(now)
        elif failed:
            self._move_next_run(self._backoff.next_try(now))
        else:
            self._backoff.succeeded()

    # --- the event listener ----------------------------------------------------

    def _set_link(self, online: bool | None) -> None:
        if self.link.online is online:
            return
        self.link = Link(online)
        log.info("sync_link %s", {True: "online", False: "offline", None: "unknown"}[online])
        if self._on_link is not None:
            try:
                self._on_link(self.link)
            except Exception:  # a subscriber's failure must not stop the listener
                log.warning("sync_link subscriber failed", exc_info=True)

    def _listen(self) -> None:
        assert self._events is not None
        while not self._stop.is_set():
            opened = time.monotonic()
            try:
                for seq in self._events():
                    if self._stop.is_set():
                        return
                    self._listener_backoff.succeeded()
                    self._set_link(True)  # (back) online: this poke's pass sends what waited
                    if not getattr(seq, "own", False):  # its own push: nothing new to pull
                        self.engine.poke()  # a pass busy pushing pulls beside the push
                    self.sync_now()
                healthy = True  # central closed the stream: reconnect
                if not self._stop.is_set():
                    self._set_link(False)  # a central that stops ends its streams
            except Offline as exc:
                healthy = time.monotonic() - opened >= STABLE_STREAM_SECONDS
                log.debug("sync_events disconnected reason=%s", type(exc).__name__)
                self._set_link(False)
            except SyncError as exc:
                healthy = time.monotonic() - opened >= STABLE_STREAM_SECONDS
                log.debug("sync_events disconnected reason=%s", type(exc).__name__)
                self._set_link(None)
            if healthy:
                self._listener_backoff.succeeded()
                delay = self._listener_backoff.initial
            else:
                delay = self._listener_backoff.failed()
            self._stop.wait(delay)
