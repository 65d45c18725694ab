"""Enroll (first start of a hub or tablet; UX.md screen 1): central's URL and a one-time code,
then the first download of the store with its progress, as `storeapp enroll` prints it.

    submit(server, code) ──▶ "Enrolling…" (busy), or what is missing, in words
    enroll(server, code, name) ──▶ the network (worker thread): enrolled, or why not
    on_sync(event) ──▶ the first download: rows, rate, time left; its end → `ready`
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sync.engine import Progress, SyncReport
from sync.errors import SyncError

from .screen import Tone

__all__ = ["EnrollScreen", "EnrollVM"]

# (server, code, device name) -> the sentence saying it is enrolled; SyncError when not
Enroll = Callable[[str, str, str], str]


@dataclass(frozen=True)
class EnrollScreen:
    message: str
    tone: Tone = "info"
    busy: bool = False  # enrolling or downloading: the button waits
    progress: str = ""  # "Receiving 25,000 of 100,006 · 12,400/s · about 6 s left"
    fraction: float | None = None  # of the download done (0..1); None: not known
    ready: str | None = None  # the download ended: "" when it went well, else why not


class EnrollVM:
    def __init__(self, enroll: Enroll) -> None:
        self._enroll = enroll
        self._state = EnrollScreen("Ask a manager for an enrollment code.")
        self._downloading = False
        self._progress: Progress | None = None

    def screen(self) -> EnrollScreen:
        return self._state

    def _show(self, screen: EnrollScreen) -> EnrollScreen:
        self._state = screen
        return screen

    def submit(self, server: str, code: str) -> EnrollScreen:
        """The Enroll button: what is missing, or "Enrolling…" (then `enroll`)."""
        if self._downloading:
            return self._show(
                EnrollScreen("The store is still downloading.", "info", True, *self._bar())
            )
        if not (server or "").strip() or not (code or "").strip():
            return self._show(
                EnrollScreen("Enter the server URL and the enrollment code.", "error")
            )
        return self._show(EnrollScreen("Enrolling…", "info", busy=True))

    def enroll(self, server: str, code: str, name: str) -> EnrollScreen:
        """Ask central (the network: the view runs it on a worker thread)."""
        try:
            words = self._enroll(server.strip(), code.strip(), name)
        except SyncError as exc:
            return self._show(EnrollScreen(f"Not enrolled: {exc}", "error"))
        self._downloading, self._progress = True, None
        return self._show(EnrollScreen(words, "ok", busy=True))

    def on_sync(self, event: Progress | SyncReport) -> EnrollScreen:
        """A sync event while the first download runs: its progress, then its end."""
        if not self._downloading:
            return self._state
        if isinstance(event, Progress):
            if event.total is None and self._progress is not None and self._progress.total:
                return self._state  # the pull after the snapshot: the download's line stays
            self._progress = event
            return self._show(
                EnrollScreen(self._state.message, self._state.tone, True, *self._bar())
            )
        self._downloading = False
        if event.ok:
            done = f"The store is on this device: {event.pulled:,} rows."
            return self._show(EnrollScreen(done, "ok", False, *self._bar(), ready=""))
        why = event.error_in_words or "the download did not finish"
        return self._show(
            EnrollScreen(f"Enrolled, but the download stopped: {why}", "warning", ready=why)
        )

    def _bar(self) -> tuple[str, float | None]:
        p = self._progress
        if p is None:
            return "", None
        fraction = min(p.done / p.total, 1.0) if p.total else None
        return p.detail, fraction
