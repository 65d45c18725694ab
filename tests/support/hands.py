"""One associate signed in on a tablet file, acting through the screens' view-models.

It imports nothing of central, so a tablet process (the kill drill's worker) starts fast;
tests/support/tablet.py re-exports it.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

from storeapp.local import LocalStore
from storeapp.viewmodels import (
    ApprovalsVM,
    CountVM,
    HandoverVM,
    PickListVM,
    QueueVM,
    ReturnsVM,
    SessionVM,
    StagingVM,
    SyncStatusVM,
    TasksVM,
)
from storeapp.viewmodels.returns import LookUp

__all__ = ["Hands"]


class Hands:
    """One associate signed in on a tablet, acting through the view-models as the app does
    (the screens' own `LocalStore` connection, `screen=True`). A context manager."""

    def __init__(
        self, path: Path, employee_id: str, pin: str, *, look_up: LookUp | None = None
    ) -> None:
        """`look_up`: the returns desk asks central for an order not on the tablet (as the
        app's does), else it never does."""
        self.store = LocalStore(path, screen=True)
        self.session = SessionVM(self.store)
        signed_in = self.session.sign_in(employee_id, pin)
        if not signed_in.signed_in:
            self.store.close()
            raise AssertionError(f"sign-in of {employee_id} failed: {signed_in.message}")
        self.queue = QueueVM(self.store, self.session)
        self.picking = PickListVM(self.store, self.session)
        self.tasks = TasksVM(self.store, self.session)
        self.sync_status = SyncStatusVM(self.store)
        self.returns = ReturnsVM(self.store, self.session, look_up=look_up)
        self.counting = CountVM(self.store, self.session)
        self.approvals = ApprovalsVM(self.store, self.session)
        self.staging = StagingVM(self.store, self.session)
        self.handover = HandoverVM(self.store, self.session)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Hands:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
