"""The store and tablets most central tests start from (a test file overrides what differs)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.central import Central, TestStore
from tests.support.device import RawDevice


@pytest.fixture
def store(any_central: Central) -> TestStore:
    """A fresh store, on SQLite and on PostgreSQL."""
    return any_central.new_store()


@pytest.fixture
def device(any_central: Central, store: TestStore) -> Iterator[RawDevice]:
    """One enrolled tablet of `store`, speaking raw JSON to central."""
    d = RawDevice(any_central, store)
    yield d
    d.close()


@pytest.fixture
def tablets(any_central: Central, store: TestStore) -> Iterator[tuple[RawDevice, RawDevice]]:
    """Two enrolled tablets of `store`, named tablet A and tablet B."""
    a, b = RawDevice(any_central, store, "tablet A"), RawDevice(any_central, store, "tablet B")
    yield a, b
    a.close()
    b.close()
