"""What the sync engine needs from the tablet's local store.

`sync` may not import `storeapp`; `storeapp.local` implements this protocol.
Every method that writes does so in one SQLite transaction. The engine runs
on its own thread and opens its own replica (its own SQLite connection).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from .protocol import Change, OpResult, PullResponse, SnapshotHeader

__all__ = ["Identity", "PendingSummary", "Replica"]


@dataclass(frozen=True)
class Identity:
    server_url: str
    device_id: str
    store_id: str
    token: str


@dataclass(frozen=True)
class PendingSummary:
    count: int
    oldest_occurred_at: datetime | None
    attention: int  # acknowledged ops refused or compensated, not yet seen by a person


class Replica(Protocol):
    def identity(self) -> Identity | None:
        """None until the device is enrolled."""

    def pending(self, limit: int, after_seq: int = 0) -> list[dict[str, Any]]:
        """Outbox envelopes (JSON-ready dicts) in seq order, oldest first.

        Only ops with `seq > after_seq`: the engine reads the batch after one still in
        flight (not yet acknowledged) with `after_seq` = that batch's last seq."""

    def pending_json(self, limit: int, after_seq: int = 0) -> list[tuple[int, str | None]]:
        """The same envelopes as `pending`, each as `(seq, its JSON text)`: what the push body
        carries, without a dict per op. The text is None for an op that cannot be written
        as JSON (damaged: its stored payload is not JSON)."""

    def pending_summary(self) -> PendingSummary: ...

    def acknowledge(self, results: Iterable[OpResult]) -> None:
        """Move acknowledged ops from the outbox to the op log with their results."""

    def cursor(self) -> str | None: ...

    def apply_pull(self, page: PullResponse) -> None:
        """Apply changes, store cursor and last_applied_seq, rebase pending ops; one transaction."""

    def load_snapshot(self, header: SnapshotHeader, changes: Iterable[Change]) -> None:
        """Replace all server state with a snapshot (shadow tables, swapped at once).

        Keeps the outbox, and rebases pending ops on top."""

    def checksums(self, server_time: datetime) -> dict[str, str]:
        """Per kind, the checksum of the tablet's copy of central's documents over what
        central's checksums at `server_time` cover (sync/checksums.py)."""

    def reload_kinds(self, header: SnapshotHeader, changes: Iterable[Change]) -> None:
        """Replace the documents of `header.kinds` with a snapshot of those kinds, keeping
        the outbox, the cursor and every other kind; re-project and rebase."""

    def record_sync(
        self,
        *,
        at: datetime,
        ok: bool,
        error: str | None = None,
        server_time: datetime | None = None,
    ) -> None:
        """Remember the last pass for the status chip (and the clock offset)."""
