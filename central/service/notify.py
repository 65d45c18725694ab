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
  `poll_interval` seconds (and only while some stream is open).

A change wakes every subscription of its store with the new seq; a stream then sends its
poke and the tablet pulls (PROTOCOL.md's stream contract is unchanged). An idle stream
costs nothing but its keep-alive timer.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Connection, Engine, select, text

from ..db.engine import reading
from ..db.tables import stores

__all__ = ["CHANNEL", "ChangeHub", "Subscription", "changed"]

log = logging.getLogger("central.notify")

CHANNEL = "storeapp_changes"
# a listener that lost its connection tries again after this long (doubling to the cap)
RETRY_S = 0.5
RETRY_MAX_S = 10.0
# SQLite: a write of this process is polled this long after it asked (its commit is done)
HURRY_S = 0.005


# this process's hubs by database (SQLite): a write hurries their poll (`changed`)
_local_hubs: dict[str, weakref.WeakSet[ChangeHub]] = {}


def changed(conn: Connection, store_id: str, seq: int) -> None:
    """Tell every central process, once this transaction commits, that `store_id` is at `seq`.

    SQLite has no NOTIFY: this process's hubs on the same database poll a few milliseconds
    from now instead of at their next tick (the poll, not this call, is what they trust:
    a poll that runs before the commit sees the old seq, and the next tick sees the new)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_notify(:c, :p)"), {"c": CHANNEL, "p": f"{seq} {store_id}"})
        return
    for hub in list(_local_hubs.get(str(conn.engine.url), ())):
        hub.hurry()


class Subscription:
    """One event stream's view of its store: woken with the newest seq the hub knows."""

    def __init__(self, store_id: str) -> None:
        self.store_id = store_id
        self.seq = -1  # the newest seq seen; -1: none yet
        self._woken = asyncio.Event()

    def wake(self, seq: int) -> None:
        if seq > self.seq:
            self.seq = seq
            self._woken.set()

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

    def hurry(self) -> None:
        """From any thread: a write of this process is committing; poll in a moment."""
        loop = self._loop
        if loop is not None and self._someone.is_set() and not loop.is_closed():
            loop.call_soon_threadsafe(self._hurried.set)

    async def stop(self) -> None:
        task, self._task = self._task, None
        _local_hubs.get(str(self._engine.url), weakref.WeakSet()).discard(self)
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    @asynccontextmanager
    async def subscribe(self, store_id: str) -> AsyncIterator[Subscription]:
        self.start()
        sub = Subscription(store_id)
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
            if not self._subs:
                self._someone.clear()

    def wake(self, store_id: str, seq: int) -> None:
        for sub in list(self._subs.get(store_id, ())):
            sub.wake(seq)

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
        seqs = await asyncio.to_thread(_latest_seqs, self._engine, wanted)
        for store_id, seq in seqs.items():
            self.wake(store_id, seq)

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
                    async for note in conn.notifies():
                        self._on_note(note.payload)
                finally:
                    self.listening.clear()
                    self.connections -= 1
                    await conn.close()
            except (psycopg.Error, OSError) as exc:
                log.warning("change_listener lost exc=%s retry_s=%.1f", type(exc).__name__, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX_S)

    def _on_note(self, payload: str) -> None:
        seq, _, store_id = payload.partition(" ")
        try:
            self.wake(store_id, int(seq))
        except ValueError:
            log.warning("change_listener unreadable payload=%r", payload[:80])


def _latest_seqs(engine: Engine, store_ids: list[str]) -> dict[str, int]:
    with reading(engine) as conn, conn.begin():
        rows: Any = conn.execute(
            select(stores.c.store_id, stores.c.change_seq).where(stores.c.store_id.in_(store_ids))
        )
        return {r.store_id: int(r.change_seq) for r in rows}
