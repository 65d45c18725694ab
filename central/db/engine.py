"""Engines for SQLite (embedded default) and PostgreSQL (production)."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import OperationalError

from ..settings import CentralSettings

__all__ = ["engine_for", "is_sqlite", "make_engine", "reading"]


WRITE_WAIT_S = 30.0  # as SQLite's busy timeout: then "database is locked" (a 503)


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(
    url: str,
    *,
    pool_size: int = 5,
    max_overflow: int = 5,
    pre_ping: bool = False,
    recycle_s: int = 1800,
    **kwargs: Any,
) -> Engine:
    """An engine whose transactions serialise a store's writes.

    SQLite: every transaction is `BEGIN IMMEDIATE` (one writer at a time, and a
    read sees one snapshot), WAL, foreign keys on, and savepoints that work.
    PostgreSQL: the store row is locked with `SELECT … FOR UPDATE` by the service; the pool
    holds `pool_size` connections (+ `max_overflow` under bursts), checked without a ping
    unless `pre_ping` (CentralSettings.db_pool_*; docs/deploy.md says how to size them).
    """
    if not is_sqlite(url):
        pg = create_engine(
            url,
            pool_pre_ping=pre_ping,
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_recycle=recycle_s,
            **kwargs,
        )
        # SQLAlchemy's plain many-row INSERTs (a flush's new documents, refunds,
        # notifications) as multi-row INSERTs, as its psycopg2 dialect does: psycopg 3's
        # own executemany sends one statement a row. (The rows a push writes per op —
        # results, ledger, events — are `staging.bulk_insert`'s, multi-row there.)
        pg.dialect.use_insertmanyvalues_wo_returning = True
        return pg
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        **kwargs,
    )

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # let SQLAlchemy emit BEGIN itself
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    # This process's writers queue on a lock of its own before SQLite's: SQLite's busy handler
    # has a waiting writer sleep and retry with growing naps, so under 10–50 tablets pushing
    # at once a few waited seconds while others went through (push p99 2–4 s at p50 40 ms).
    # Waiting here, a writer starts the moment the last one ends. Other processes on the file
    # (`central deliver`, the CLI) still meet SQLite's own lock and its busy timeout.
    writer = threading.Lock()
    holders: set[int] = set()  # id() of the DBAPI connection holding it, until it ends

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        # writers take the lock up front; readers ask for DEFERRED (a WAL snapshot)
        mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        if mode != "IMMEDIATE":
            conn.exec_driver_sql(f"BEGIN {mode}")
            return
        if not writer.acquire(timeout=WRITE_WAIT_S):
            raise OperationalError("BEGIN IMMEDIATE", None, Exception("database is locked"))
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            writer.release()
            raise
        holders.add(id(conn.connection.dbapi_connection))

    def _release(dbapi: Any) -> None:
        try:
            holders.remove(id(dbapi))  # one step: released once, whichever event comes first
        except KeyError:
            return
        writer.release()

    def _end(conn: Any) -> None:
        try:
            dbapi = conn.connection.dbapi_connection
        except Exception:  # an invalidated connection: the pool's events below release it
            return
        _release(dbapi)

    event.listen(engine, "commit", _end)
    event.listen(engine, "rollback", _end)
    # and whatever way a connection leaves a transaction without them (returned to the pool
    # unclosed, invalidated): never a lock held by a connection that no longer writes
    event.listen(engine.pool, "checkin", lambda dbapi, _record: _release(dbapi))
    event.listen(engine.pool, "invalidate", lambda dbapi, _record, _exc: _release(dbapi))
    return engine


def engine_for(settings: CentralSettings) -> Engine:
    """The engine a serve process uses, its pool as the settings say."""
    return make_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_max_overflow,
        pre_ping=settings.db_pool_pre_ping,
        recycle_s=settings.db_pool_recycle_s,
    )


def reading(engine: Engine) -> Connection:
    """A connection for reads that sees one snapshot and blocks no writer:
    `REPEATABLE READ` on PostgreSQL, a `DEFERRED` (WAL snapshot) transaction on SQLite."""
    if engine.dialect.name == "postgresql":
        return engine.connect().execution_options(isolation_level="REPEATABLE READ")
    return engine.connect().execution_options(sqlite_begin="DEFERRED")
