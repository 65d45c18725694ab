"""The tablet's local store: SQLite state, projections, outbox and op log.

`LocalStore(path)` opens (and migrates) one file; open one per thread.
"""

from ._records import (
    ActResult,
    CountRecord,
    Item,
    LoggedOp,
    PendingOp,
    ReturnRecord,
    StaffMember,
    SyncState,
    Task,
)
from ._store import LocalStore, LocalStoreError

__all__ = [
    "ActResult",
    "CountRecord",
    "Item",
    "LocalStore",
    "LocalStoreError",
    "LoggedOp",
    "PendingOp",
    "ReturnRecord",
    "StaffMember",
    "SyncState",
    "Task",
]
