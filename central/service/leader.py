"""One process of many: who runs the jobs that must run once per cluster (pickup expiry,
pruning).

`central serve --workers N` (or several hosts) runs stateless processes against one
PostgreSQL database; each starts the scheduler, but only the process holding a PostgreSQL
session advisory lock runs the job. The lock is taken by the first process to ask and held on
a connection of its own until that process exits or its connection drops, when the next
process to ask takes it over. SQLite: `serve` is one process, which always leads.
"""

from __future__ import annotations

import logging

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

__all__ = ["EXPIRY_LOCK", "PRUNE_LOCK", "Leader"]

log = logging.getLogger("central.leader")

# pg advisory lock keys central uses (64-bit; any fixed number no other tool on the database uses)
EXPIRY_LOCK = 0x53544F5245_01  # "STORE", 1: the pickup-expiry job
PRUNE_LOCK = 0x53544F5245_02  # "STORE", 2: pruning the change log and op results


class Leader:
    """Whether this process leads for `key` (asked again at every run of the job)."""

    def __init__(self, engine: Engine, key: int) -> None:
        self.key = key
        self._always = engine.dialect.name != "postgresql"
        self._engine: Engine | None = None
        if not self._always:
            # a connection outside the pool: the lock lives as long as it, and the pool's
            # connections stay for requests
            self._engine = create_engine(
                engine.url, poolclass=NullPool, isolation_level="AUTOCOMMIT"
            )
        self._conn: Connection | None = None

    def holds(self) -> bool:
        if self._always:
            return True
        assert self._engine is not None
        if self._conn is not None:
            try:
                self._conn.exec_driver_sql("SELECT 1")
                return True
            except DBAPIError:
                log.warning("leader_connection_lost key=%s", self.key)
                self._drop()
        try:
            conn = self._engine.connect()
        except DBAPIError:
            return False
        got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar()
        if got:
            self._conn = conn
            return True
        conn.close()
        return False

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except DBAPIError:
                pass

    def close(self) -> None:
        """Give the lock up (closing its connection ends the session that holds it)."""
        self._drop()
        if self._engine is not None:
            self._engine.dispose()
