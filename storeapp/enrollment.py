"""Enrolling a data dir with central: the Enroll screen and `storeapp enroll` share this."""

from __future__ import annotations

import socket
from pathlib import Path

from storeapp import __version__

from .local import LocalStore, private_dir

__all__ = ["enroll_data_dir"]


def enroll_data_dir(db_path: Path, server: str, code: str, name: str) -> str:
    """Enroll this data dir with central (blocking: call it from a worker thread).

    Returns a sentence; raises sync.errors.SyncError with words on a refused code
    or no network.
    """
    from sync.client import CentralClient

    private_dir(db_path.parent)
    with LocalStore(db_path) as store:
        identity = store.identity()
        if identity is not None:
            return f"This hub is already enrolled for store {identity.store_id}."
        with CentralClient(server.strip().rstrip("/")) as client:
            response = client.enroll(
                code.strip(), name.strip() or socket.gethostname(), app_version=__version__
            )
        store.enroll(response, server.strip().rstrip("/"))
        return f"Enrolled for store {response.store_id}: downloading the store…"
