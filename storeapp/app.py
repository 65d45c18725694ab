"""The Flet web app (`storeapp hub`, `run`, `demo`): process-wide sync, per-session screens.

    serve(settings)
      ├─ one SyncEngine + one SyncScheduler for the process (the scheduler's thread)
      ├─ SyncFanout: every browser session subscribes to sync progress and reports;
      │  each forwards them to its own UI with page.run_task (thread-safe)
      └─ ft.run(main): per browser session one TabSession (storeapp.viewmodels.tab:
         its own LocalStore, event-loop thread only, and its view-models) and the
         screens in storeapp.views, which ask it for their view-models

Nothing here talks to the network on the event loop: enrollment runs in a worker
thread, sync passes on the scheduler's thread.
"""

from __future__ import annotations

import itertools
import logging
import os
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import flet as ft

from sync.link import Link

from .settings import StoreappSettings

if TYPE_CHECKING:
    from sync.engine import Progress, SyncReport

    from .printing import Printers

# What the hub imports before it answers is kept to Flet, its server and the settings: the
# sync engine, the local store, the rules and the screens are imported on a warm-up thread
# once the server is starting (`serve`), while the browser loads Flet's client (issue #9).

__all__ = [
    "ASSETS_DIR",
    "AppServices",
    "Link",
    "SyncEvent",
    "SyncFanout",
    "enroll_data_dir",
    "make_main",
    "serve",
]

log = logging.getLogger(__name__)

SyncEvent: TypeAlias = "Progress | SyncReport | Link"


class SyncFanout:
    """Thread-safe registry: the sync thread publishes, every session's callback gets it.
    The last `Link` published is kept (`link`), for a session that opens later."""

    def __init__(self) -> None:
        self.link = Link(None)
        self._lock = threading.Lock()
        self._subscribers: dict[int, Callable[[SyncEvent], None]] = {}
        self._ids = itertools.count(1)

    def subscribe(self, callback: Callable[[SyncEvent], None]) -> int:
        with self._lock:
            token = next(self._ids)
            self._subscribers[token] = callback
            return token

    def unsubscribe(self, token: int) -> None:
        with self._lock:
            self._subscribers.pop(token, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._subscribers)

    def publish(self, event: SyncEvent) -> None:
        with self._lock:
            if isinstance(event, Link):
                self.link = event
            callbacks = list(self._subscribers.values())
        for callback in callbacks:
            try:
                callback(event)
            except Exception:  # one closed tab must not stop the others' updates
                log.warning("sync_fanout subscriber failed", exc_info=True)


def enroll_data_dir(db_path: Path, server: str, code: str, name: str) -> str:
    """`storeapp.enrollment.enroll_data_dir` (imported when first called)."""
    from .enrollment import enroll_data_dir as enroll

    return enroll(db_path, server, code, name)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _idle_after() -> timedelta:
    from .viewmodels.session import IDLE_AFTER

    return IDLE_AFTER


@dataclass
class AppServices:
    """What every browser session shares (built once per process)."""

    db_path: Path
    sync_now: Callable[[], None]
    fanout: SyncFanout = field(default_factory=SyncFanout)
    enroll: Callable[[Path, str, str, str], str] = enroll_data_dir
    tick_s: float | None = 5.0  # refresh "synced 12 s ago", idle sign-out; None: no ticker
    # sign out after this long without an action
    idle_after: timedelta = field(default_factory=_idle_after)
    clock: Callable[[], datetime] = _utc_now  # the sessions' clock (tests: a fake one)
    on_error: Callable[[BaseException], None] | None = None  # tests: fail on a view error
    printers: Printers | None = None  # the hub's store printers (None: none)
    scan_sheet: str | None = None  # the demo's scan sheet page, linked from Home


def make_main(services: AppServices) -> Callable[[ft.Page], None]:
    """The per-session entry point Flet calls for each browser tab. The screens are imported
    by the first session (the hub's warm-up thread has usually done it by then), not here:
    the hub builds this before it serves."""

    def main(page: ft.Page) -> None:
        from .views import start_session

        start_session(page, services)

    return main


# The files the browser loads (scan tones): inside the package, so an installed wheel has them.
ASSETS_DIR = Path(__file__).resolve().parent / "assets"


def serve(settings: StoreappSettings) -> None:
    """Serve the app on settings.host:settings.port until stopped (Ctrl-C / SIGTERM).

    The server starts first; the sync engine and scheduler are built, and the screens
    imported, on a warm-up thread meanwhile (`_Warmup`): a tablet's first visit spends its
    first seconds loading Flet's client, by when they are ready."""
    os.environ.setdefault("FLET_FORCE_WEB_SERVER", "1")  # never open a browser on the hub
    os.environ.setdefault("FLET_WEB_NO_CDN", "1")
    # 0700 from the start: the database holds every PIN hash (the warm-up's `private_dir`
    # narrows a dir an older version left readable; this one imports no local store)
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    from .pages import paths

    fanout = SyncFanout()
    warmup = _Warmup(settings, fanout)
    services = AppServices(
        settings.db_path,
        warmup.sync_now,
        fanout,
        idle_after=timedelta(minutes=settings.idle_sign_out_min),
        printers=_printers(settings),
        scan_sheet=paths.SCAN_SHEET_PATH if settings.scan_sheet else None,
    )
    try:
        _serve_web(make_main(services), settings, on_start=warmup.start)
    finally:
        warmup.shutdown()


def _printers(settings: StoreappSettings) -> Printers:
    from .printing import Printers

    return Printers(settings.printer, settings.pdf_print_command, settings.label_printer)


class _Warmup:
    """The process's sync engine and scheduler, built on a thread of their own while the
    server starts, and the screens' modules imported there too. `sync_now` before the
    scheduler runs asks nothing: its first pass runs at once when it starts."""

    def __init__(self, settings: StoreappSettings, fanout: SyncFanout) -> None:
        self._settings, self._fanout = settings, fanout
        self._scheduler: Any = None
        self._stopped = False
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="hub-warmup", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        from storeapp import __version__
        from sync.engine import SyncEngine
        from sync.scheduler import SyncScheduler

        from .local import LocalStore, private_dir

        settings = self._settings
        private_dir(settings.data_dir)
        engine = SyncEngine(
            lambda: LocalStore(settings.db_path),
            on_progress=self._fanout.publish,
            app_version=__version__,
        )
        scheduler = SyncScheduler(
            engine,
            interval=settings.sync_interval_s,
            listen=settings.listen_events,
            on_report=self._fanout.publish,
            on_link=self._fanout.publish,
        )
        with self._lock:
            if self._stopped:
                return
            scheduler.start()
            self._scheduler = scheduler
        from . import views  # noqa: F401  (the first session's screens, ready before it asks)

    def sync_now(self) -> None:
        scheduler = self._scheduler
        if scheduler is not None:
            scheduler.sync_now()

    def shutdown(self) -> None:
        with self._lock:
            self._stopped = True
            scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None:
            scheduler.shutdown(wait=False)


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(0)


def _serve_web(
    main: Callable[[ft.Page], None],
    settings: StoreappSettings,
    on_start: Callable[[], None] = lambda: None,
) -> None:
    """Flet's web app (its FastAPI/ASGI app) on our own uvicorn: `ft.run` 1.0.5 has no TLS
    option, uvicorn has (`ssl_certfile`/`ssl_keyfile`); the same server Flet would start."""
    import uvicorn

    from storeapp.pages import add_pages

    asgi = ft.run(main, no_cdn=True, assets_dir=str(ASSETS_DIR), export_asgi_app=True)
    add_pages(asgi, settings)
    tls: dict[str, str] = {}
    if settings.certfile is not None and settings.keyfile is not None:
        tls = {"ssl_certfile": str(settings.certfile), "ssl_keyfile": str(settings.keyfile)}
    if threading.current_thread() is threading.main_thread():
        # uvicorn re-raises the SIGTERM it caught once it has stopped; with the default
        # handler that kills the process before `finally` blocks run (the demo's central)
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
    scheme = "https" if tls else "http"
    log.info("hub serving %s://%s:%s", scheme, settings.host, settings.port)
    on_start()
    uvicorn.run(
        asgi,
        host=settings.host,
        port=settings.port,
        ws="websockets-sansio",
        log_level="warning",
        timeout_graceful_shutdown=1,  # open tablets' websockets must not hold a stop forever
        **tls,  # type: ignore[arg-type]
    )
