"""Store changes told to event streams: one listener per process, fanned out in memory.

A write that moved a store's change sequence calls `changed(conn, store_id, seq)` inside
its transaction (`feed.store_tx`, at the commit point). On PostgreSQL that is a
`NOTIFY storeapp_changes, '<seq> <store_id>'`, which PostgreSQL delivers only if, and when,
the transaction commits; on SQLite it does nothing.

Each central process keeps one `ChangeHub`. Its event streams subscribe to it; the hub
learns of changes from one source for the whole process:

- PostgreSQL: one connection doing `LISTEN storeapp_changes` (psycopg's async notifies);
  when it (re)connects it reads every subscribed store's seq once, so nothing committed
  while it was away is missed.
- SQLite: one poller reading the latest seq of every subscribed store in one query, every
  `poll_interval` seconds (and only while some stream is open) — when something was
  committed since its last read: it first asks its own read-only connection for
  `PRAGMA data_version` (on the event loop, microseconds: it reads the WAL index), which
  moves whenever any other connection, of any process, commits. It reads anyway every
  `FULL_POLL_S`, and on every poll if the file cannot be opened so.

A change wakes every subscription of its store with the new seq; a stream then sends its
poke and the tablet pulls (PROTOCOL.md's stream contract is unchanged). An idle stream
costs nothing but its keep-alive timer.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import weakref
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, select, text

from ..db.engine import reading
from ..db.tables import stores

__all__ = ["CHANNEL", "ChangeHub", "Note", "Subscription", "caused_by", "changed"]

log = logging.getLogger("central.notify")

CHANNEL = "storeapp_changes"
# a listener that lost its connection tries again after this long (doubling to the cap)
RETRY_S = 0.5
RETRY_MAX_S = 10.0
# SQLite: a write of this process is polled this long after it asked (its commit is done)
HURRY_S = 0.005
# SQLite: the poller reads the stores even when `data_version` says nothing moved, this often
FULL_POLL_S = 5.0


# this process's hubs by database (SQLite): a write hurries their poll (`changed`)
_local_hubs: dict[str, weakref.WeakSet[ChangeHub]] = {}


def changed(conn: Connection, store_id: str, since: int, seq: int) -> None:
    """Tell every central process, once this transaction commits, that `store_id` is at `seq`.

    SQLite has no NOTIFY: this process's hubs on the same database poll a few milliseconds
    from now instead of at their next tick (the poll, not this call, is what they trust:
    a poll that runs before the commit sees the old seq, and the next tick sees the new)."""
    note = Note(store_id, since, seq, _cause.get())
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_notify(:c, :p)"), {"c": CHANNEL, "p": note.payload()})
        return
    for hub in list(_local_hubs.get(str(conn.engine.url), ())):
        hub.hurry(note)


# the device whose push is being applied (set by the push route): its own stream's poke
# says so (`"own": true`), and a tablet busy draining need not pull for it
_cause: ContextVar[str | None] = ContextVar("change_cause", default=None)


@contextmanager
def caused_by(device_id: str) -> Iterator[None]:
    token = _cause.set(device_id)
    try:
        yield
    finally:
        _cause.reset(token)


@dataclass(frozen=True)
class Note:
    """Store `store_id` went from `since` to `seq`, by `device`'s push (None: anyone else)."""

    store_id: str
    since: int
    seq: int
    device: str | None = None

    def payload(self) -> str:
        return json.dumps([self.store_id, self.since, self.seq, self.device])

    @classmethod
    def of(cls, payload: str) -> Note:
        store_id, since, seq, device = json.loads(payload)
        return cls(str(store_id), int(since), int(seq), None if device is None else str(device))


class Subscription:
    """One event stream's view of its store: woken with the newest seq the hub knows."""

    def __init__(self, store_id: str, device_id: str | None = None) -> None:
        self.store_id = store_id
        self.device_id = device_id
        self.seq = -1  # the newest seq seen; -1: none yet
        self.others = False  # a change since the last poke was not this device's own push
        self.ended = False  # the process is shutting down: the stream ends now
        self._woken = asyncio.Event()

    def end(self) -> None:
        """The process is stopping: the stream returns at once (the tablet reconnects
        elsewhere or shows offline) instead of holding the server's shutdown."""
        self.ended = True
        self._woken.set()

    def wake(self, seq: int, device: str | None = None) -> None:
        if seq > self.seq:
            self.seq = seq
            if device is None or device != self.device_id:
                self.others = True
            self._woken.set()

    def told(self) -> bool:
        """A poke is sent: True when every change it covers was this device's own push."""
        own, self.others = not self.others, False
        return own

    async def wait(self, seconds: float) -> bool:
        """True when woken by a change within `seconds` (False: it stayed quiet)."""
        try:
            await asyncio.wait_for(self._woken.wait(), seconds)
        except TimeoutError:
            return False
        self._woken.clear()
        return True


class ChangeHub:
    """The process's one change listener and its in-memory fan-out to event streams."""

    def __init__(self, engine: Engine, *, poll_interval: float = 0.2) -> None:
        self._engine = engine
        self._poll_interval = poll_interval
        self._subs: dict[str, set[Subscription]] = {}
        self._task: asyncio.Task[None] | None = None
        self._someone = asyncio.Event()  # set while any stream is subscribed
        self.listening = asyncio.Event()  # the PostgreSQL LISTEN is in place
        # PostgreSQL: the LISTEN connections this hub holds now, and ever opened (one per
        # process, whatever the number of streams); SQLite: how many polls it ran
        self.connections = 0
        self.connections_opened = 0
        self.polls = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._hurried = asyncio.Event()  # a write in this process: poll soon (SQLite)
        self._seen: dict[str, int] = {}  # per store, the seq its streams were last woken with
        self.closing = False  # `close_streams()` was called: every stream ends
        self._notes: dict[str, list[Note]] = {}  # SQLite: this process's writes, not yet polled
        self.reads = 0  # SQLite: polls that read the stores (`polls` - reads: nothing moved)
        self._version: _DataVersion | None = None
        self._full_at = 0.0  # SQLite: when the poller last read the stores

    def subscribers(self, store_id: str | None = None) -> int:
        """Open subscriptions (event streams) of `store_id`, or of every store."""
        if store_id is not None:
            return len(self._subs.get(store_id, ()))
        return sum(len(s) for s in self._subs.values())

    def start(self) -> None:
        """Start the listener on the running loop (once; a later call does nothing)."""
        if self._task is None:
            self._loop = asyncio.get_running_loop()
            self._task = self._loop.create_task(self._run(), name="change-hub")
            if self._engine.dialect.name != "postgresql":
                _local_hubs.setdefault(str(self._engine.url), weakref.WeakSet()).add(self)

    def hurry(self, note: Note) -> None:
        """From any thread: a write of this process is committing; poll in a moment."""
        loop = self._loop
        if loop is not None and self._someone.is_set() and not loop.is_closed():
            loop.call_soon_threadsafe(self._hurry, note)

    def _hurry(self, note: Note) -> None:
        if note.store_id in self._subs:
            self._notes.setdefault(note.store_id, []).append(note)
            self._hurried.set()

    async def stop(self) -> None:
        task, self._task = self._task, None
        if self._version is not None:
            self._version.close()
            self._version = None
        _local_hubs.get(str(self._engine.url), weakref.WeakSet()).discard(self)
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    def close_streams(self) -> None:
        """On the event loop, when the process is asked to stop: every open stream ends now,
        and one opened later ends at once (uvicorn waits for open responses before it stops)."""
        self.closing = True
        for subs in list(self._subs.values()):
            for sub in list(subs):
                sub.end()

    @asynccontextmanager
    async def subscribe(
        self, store_id: str, device_id: str | None = None
    ) -> AsyncIterator[Subscription]:
        self.start()
        sub = Subscription(store_id, device_id)
        if self.closing:
            sub.end()
        self._subs.setdefault(store_id, set()).add(sub)
        self._someone.set()
        try:
            yield sub
        finally:
            subs = self._subs.get(store_id)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._subs[store_id]
                    self._seen.pop(store_id, None)
                    self._notes.pop(store_id, None)
            if not self._subs:
                self._someone.clear()

    def wake(self, store_id: str, seq: int, device: str | None = None) -> None:
        """Wake the store's streams: it is at `seq`, every change since the last wake made by
        `device`'s push (None: not known to be one device's)."""
        if store_id not in self._subs:
            return
        self._seen[store_id] = max(seq, self._seen.get(store_id, -1))
        for sub in list(self._subs[store_id]):
            sub.wake(seq, device)

    def _note(self, note: Note) -> None:
        """A PostgreSQL notification: they arrive in commit order, so a note that starts
        where the last ended covers every change in between."""
        seen = self._seen.get(note.store_id)
        self.wake(note.store_id, note.seq, note.device if seen == note.since else None)

    # --- the sources -------------------------------------------------------------

    async def _run(self) -> None:
        if self._engine.dialect.name == "postgresql":
            await self._listen_pg()
        else:
            await self._poll_forever()

    async def _poll_forever(self) -> None:
        while True:
            await self._someone.wait()
            try:
                await self._poll_once()
            except Exception as exc:  # the database is away: streams stay open, try again
                log.warning("change_poll failed exc=%s", type(exc).__name__)
            try:
                await asyncio.wait_for(self._hurried.wait(), self._poll_interval)
                await asyncio.sleep(HURRY_S)  # the write that hurried us commits meanwhile
            except TimeoutError:
                pass
            self._hurried.clear()

    async def _poll_once(self) -> None:
        wanted = list(self._subs)
        if not wanted:
            return
        self.polls += 1
        if self._engine.dialect.name != "postgresql":
            if self._version is None:
                self._version = _DataVersion(self._engine.url.database)
            now = asyncio.get_running_loop().time()
            moved = self._version.moved()  # before the read: a commit after it moves it again
            if not moved and not self._hurried.is_set() and now - self._full_at < FULL_POLL_S:
                return
            self._full_at = now
        self.reads += 1
        seqs = await asyncio.to_thread(_latest_seqs, self._engine, wanted)
        for store_id, seq in seqs.items():
            if seq != self._seen.get(store_id):
                self.wake(store_id, seq, self._polled_by(store_id, seq))

    def _polled_by(self, store_id: str, seq: int) -> str | None:
        """The device whose writes in this process account for every change up to `seq`."""
        notes = sorted(self._notes.pop(store_id, []), key=lambda n: n.since)
        self._notes[store_id] = [n for n in notes if n.seq > seq]
        at, device = self._seen.get(store_id), None
        for n in (n for n in notes if n.seq <= seq):
            if n.since != at or n.device is None or device not in (None, n.device):
                return None
            at, device = n.seq, n.device
        return device if at == seq else None

    async def _listen_pg(self) -> None:
        import psycopg  # the PostgreSQL driver; SQLite never gets here

        conninfo = self._engine.url.set(drivername="postgresql").render_as_string(
            hide_password=False
        )
        delay = RETRY_S
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(conninfo, autocommit=True)
                self.connections += 1
                self.connections_opened += 1
                try:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    delay = RETRY_S
                    await self._poll_once()  # what committed while nobody listened
                    async for notification in conn.notifies():
                        self._on_payload(notification.payload)
                finally:
                    self.listening.clear()
                    self.connections -= 1
                    await conn.close()
            except Exception as exc:  # the database went away (or worse): listen again
                log.warning("change_listener lost exc=%s retry_s=%.1f", type(exc).__name__, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX_S)

    def _on_payload(self, payload: str) -> None:
        try:
            note = Note.of(payload)
        except (ValueError, TypeError):
            log.warning("change_listener unreadable payload=%r", payload[:80])
            return
        self._note(note)


def _latest_seqs(engine: Engine, store_ids: list[str]) -> dict[str, int]:
    with reading(engine) as conn, conn.begin():
        rows: Any = conn.execute(
            select(stores.c.store_id, stores.c.change_seq).where(stores.c.store_id.in_(store_ids))
        )
        return {r.store_id: int(r.change_seq) for r in rows}


class _DataVersion:
    """SQLite's `PRAGMA data_version` on a read-only connection of the poller's own: it
    changes when any other connection (this process's or another's) commits to the file.
    `moved()` is True when it changed since the last call, and whenever it cannot tell."""

    def __init__(self, database: str | None) -> None:
        self._conn: sqlite3.Connection | None = None
        self._last: int | None = None
        if not database or database == ":memory:":
            return
        try:
            self._conn = sqlite3.connect(
                f"file:{Path(database).absolute()}?mode=ro",
                uri=True,
                check_same_thread=False,
                timeout=0,  # never wait on the loop: a busy file is read the usual way
            )
        except sqlite3.Error:
            self._conn = None

    def moved(self) -> bool:
        if self._conn is None:
            return True
        try:
            version = int(self._conn.execute("PRAGMA data_version").fetchone()[0])
        except sqlite3.Error:
            return True
        moved, self._last = version != self._last, version
        return moved

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
