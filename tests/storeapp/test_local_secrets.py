"""The tablet's secrets: an owner-only data dir and database, the device token out of the
database (keyring or an owner-only file), an older database's token moved out on open."""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from storeapp.local import LocalStore, private_dir, token_store
from storeapp.local._secrets import FileTokens, KeyringTokens
from tests.storeapp.builders import ENROLLED, Feed

TOKEN = ENROLLED.token


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def lax_umask() -> Iterator[None]:
    """The usual umask 022: a file made without a mode would be readable by everyone."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def raw_bytes(db_path: Path) -> bytes:
    """Everything of the database on disk: the file and its WAL."""
    wal = db_path.with_name(db_path.name + "-wal")
    return db_path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def test_the_data_dir_is_0700_and_the_database_its_wal_and_shm_are_0600(
    tmp_path: Path, lax_umask: None
) -> None:
    data_dir = private_dir(tmp_path / "storeapp-data")
    db_path = data_dir / "store.db"
    with LocalStore(db_path) as store:
        store.apply_pull(Feed().basics())
        assert mode(data_dir) == 0o700
        for name in ("store.db", "store.db-wal", "store.db-shm"):
            assert mode(data_dir / name) == 0o600, name


def test_a_data_dir_and_database_an_older_version_left_readable_are_narrowed(
    tmp_path: Path, lax_umask: None
) -> None:
    data_dir = tmp_path / "old"
    data_dir.mkdir(mode=0o755)
    sqlite3.connect(data_dir / "store.db").close()
    os.chmod(data_dir / "store.db", 0o644)
    private_dir(data_dir)
    LocalStore(data_dir / "store.db").close()
    assert (mode(data_dir), mode(data_dir / "store.db")) == (0o700, 0o600)


def test_the_token_is_kept_in_an_owner_only_file_and_never_in_the_database(
    tmp_path: Path, lax_umask: None
) -> None:
    db_path = private_dir(tmp_path / "data") / "store.db"
    with LocalStore(db_path, tokens=token_store(db_path, "file")) as store:
        store.enroll(ENROLLED, "http://central.test")
        assert store.identity().token == TOKEN  # type: ignore[union-attr]
        assert store.token_location == str(db_path.parent / "device-token")
    token_path = db_path.parent / "device-token"
    assert token_path.read_text() == TOKEN
    assert mode(token_path) == 0o600
    assert TOKEN.encode() not in raw_bytes(db_path)


def test_a_token_an_older_version_stored_in_the_database_is_moved_to_the_file_on_open(
    tmp_path: Path,
) -> None:
    db_path = private_dir(tmp_path / "data") / "store.db"
    secret = "old-token-" + "x" * 32
    with LocalStore(db_path, tokens=token_store(db_path, "file")) as store:
        store.enroll(ENROLLED, "http://central.test")
    with sqlite3.connect(db_path) as conn:  # what an older version wrote
        conn.execute("UPDATE sync_state SET token = ? WHERE id = 1", (secret,))
    (db_path.parent / "device-token").unlink()
    assert secret.encode() in raw_bytes(db_path)

    with LocalStore(db_path, tokens=token_store(db_path, "file")) as store:
        assert store.identity().token == secret  # type: ignore[union-attr]
    assert (db_path.parent / "device-token").read_text() == secret
    assert secret.encode() not in raw_bytes(db_path)
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT token FROM sync_state").fetchone() == (None,)


class MemoryKeyring:
    """A keyring backend as the `keyring` package defines one (get/set/delete_password)."""

    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, user: str) -> str | None:
        return self.entries.get((service, user))

    def set_password(self, service: str, user: str, password: str) -> None:
        self.entries[(service, user)] = password

    def delete_password(self, service: str, user: str) -> None:
        del self.entries[(service, user)]


def test_with_a_keyring_the_token_goes_there_and_no_token_file_is_written(
    tmp_path: Path,
) -> None:
    keyring = MemoryKeyring()
    db_path = private_dir(tmp_path / "data") / "store.db"
    with LocalStore(db_path, tokens=KeyringTokens(keyring, db_path)) as store:
        store.enroll(ENROLLED, "http://central.test")
        assert store.identity().token == TOKEN  # type: ignore[union-attr]
        assert store.token_location == "keyring"
    assert keyring.entries == {("storeapp", str(db_path.resolve())): TOKEN}
    assert not (db_path.parent / "device-token").exists()
    assert TOKEN.encode() not in raw_bytes(db_path)


def test_without_a_usable_keyring_the_token_store_is_the_file(tmp_path: Path) -> None:
    try:
        import keyring  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("keyring is installed here: the automatic choice depends on its backend")
    tokens = token_store(tmp_path / "store.db")
    assert isinstance(tokens, FileTokens)
    with pytest.raises(RuntimeError, match="no working keyring"):
        token_store(tmp_path / "store.db", "keyring")
