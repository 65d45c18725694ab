from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from storeapp.local import LocalStore
from storeapp.viewmodels import SessionVM
from tests.storeapp.builders import ENROLLED, T0, Feed


class FakeClock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def tick(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "tablet.db"


@pytest.fixture
def feed() -> Feed:
    return Feed()


@pytest.fixture
def store(db_path: Path, feed: Feed) -> Iterator[LocalStore]:
    """An enrolled tablet that pulled its store, staff and catalogue."""
    with LocalStore(db_path) as local:
        local.enroll(ENROLLED, "http://central.test/")
        local.apply_pull(feed.basics())
        yield local


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def ana(store: LocalStore) -> SessionVM:
    session = SessionVM(store)
    assert session.sign_in("E1", "1234").signed_in
    return session


@pytest.fixture
def maria(store: LocalStore) -> SessionVM:
    session = SessionVM(store)
    assert session.sign_in("M1", "9999").signed_in
    return session
