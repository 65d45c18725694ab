"""Where the device token lives: the OS keyring when there is a real one, else an
owner-only file next to the database (docs/security.md).

    token_store(db_path)
      ├─ STOREAPP_TOKEN_STORE=file        → FileTokens(<data dir>/device-token), 0600
      ├─ STOREAPP_TOKEN_STORE=keyring     → KeyringTokens (fails if there is none)
      └─ auto (default): the `keyring` package if it is installed AND its backend is
         a real one that answers (not the fail/null backend of a headless box),
         else the file

The token is never in `store.db`: `LocalStore` moves one an older version stored in
`sync_state.token` out on open.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path
from typing import Any, Protocol

from ._files import write_private

__all__ = ["FileTokens", "KeyringTokens", "TokenStore", "token_file", "token_store"]

log = logging.getLogger(__name__)

SERVICE = "storeapp"


class TokenStore(Protocol):
    where: str  # said in docs and logs: "keyring" or the file's path

    def get(self) -> str | None: ...

    def set(self, token: str) -> None: ...

    def delete(self) -> None: ...


def token_file(db_path: Path) -> Path:
    """`<data dir>/device-token` for `store.db` (another file name gets its own token file)."""
    name = "device-token" if db_path.name == "store.db" else f"{db_path.name}.device-token"
    return db_path.with_name(name)


class FileTokens:
    """The token in an owner-only file (0600), written atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.where = str(path)

    def get(self) -> str | None:
        try:
            return self.path.read_text(encoding="utf-8").strip() or None
        except FileNotFoundError:
            return None

    def set(self, token: str) -> None:
        write_private(self.path, token)

    def delete(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


class KeyringTokens:
    """The token in the OS keyring (macOS Keychain, Windows Credential Locker, Secret
    Service), one entry per data dir. `backend` is a `keyring` backend object."""

    where = "keyring"

    def __init__(self, backend: Any, db_path: Path) -> None:
        self._backend = backend
        self._user = str(db_path.resolve())

    def get(self) -> str | None:
        value = self._backend.get_password(SERVICE, self._user)
        return str(value) if value else None

    def set(self, token: str) -> None:
        self._backend.set_password(SERVICE, self._user, token)

    def delete(self) -> None:
        try:
            self._backend.delete_password(SERVICE, self._user)
        except Exception:  # no such entry: nothing to delete
            log.debug("keyring entry not deleted", exc_info=True)


def _real_keyring() -> Any | None:
    """The keyring backend when the package is installed and its backend really works."""
    try:
        import keyring  # type: ignore[import-not-found,unused-ignore]
        from keyring.backends import fail, null  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    try:
        backend = keyring.get_keyring()
        if isinstance(backend, fail.Keyring | null.Keyring):
            return None
        if getattr(backend, "backends", None) == []:  # a chainer with nothing behind it
            return None
        backend.get_password(SERVICE, "probe")  # a locked or absent D-Bus raises here
    except Exception:
        log.info("keyring present but not usable: the device token goes to a file")
        return None
    return backend


def token_store(db_path: Path, kind: str | None = None) -> TokenStore:
    """The token store for the database at `db_path` (see the module docstring)."""
    kind = (kind or os.environ.get("STOREAPP_TOKEN_STORE") or "auto").lower()
    if kind not in {"auto", "file", "keyring"}:
        raise ValueError(f"STOREAPP_TOKEN_STORE must be auto, file or keyring, not {kind!r}")
    if kind != "file":
        backend = _real_keyring()
        if backend is not None:
            return KeyringTokens(backend, db_path)
        if kind == "keyring":
            raise RuntimeError("STOREAPP_TOKEN_STORE=keyring, but no working keyring is installed")
    return FileTokens(token_file(db_path))
