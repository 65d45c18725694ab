"""The tablet's local store: SQLite state, projections, outbox and op log.

`LocalStore(path)` opens (and migrates) one file; open one per thread. Inside, by document
kind: `_orders`, `_returns`, `_counts`, `_tasks`, `_catalogue` (each: projection, fold of
pending ops, local apply step), tied to the op catalogue by `_kinds.KINDS`; the screens'
reads in `_reads`, the sync engine's side in `_replica`.
"""

from ._files import private_dir
from ._plans import PlanRecord
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
from ._secrets import TokenStore, token_store
from ._signin import PinCheck
from ._store import LocalStore, LocalStoreError

__all__ = [
    "ActResult",
    "CountRecord",
    "Item",
    "LocalStore",
    "LocalStoreError",
    "LoggedOp",
    "PendingOp",
    "PinCheck",
    "PlanRecord",
    "ReturnRecord",
    "StaffMember",
    "SyncState",
    "Task",
    "TokenStore",
    "private_dir",
    "token_store",
]
