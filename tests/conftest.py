"""Shared fixtures: a real central on a loopback port, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.central import Central, fresh_pg_database, pg_url, running_central


@pytest.fixture
def central(tmp_path: Path) -> Iterator[Central]:
    """central on a fresh SQLite file."""
    with running_central(f"sqlite:///{tmp_path / 'central.db'}") as c:
        yield c


@pytest.fixture(scope="session")
def _pg_central() -> Iterator[Central]:
    url = pg_url()
    if url is None:
        pytest.skip("CENTRAL_TEST_PG is not set: PostgreSQL runs are skipped")
    with fresh_pg_database(url) as db_url, running_central(db_url) as c:
        yield c


@pytest.fixture(params=["sqlite", "postgresql"])
def any_central(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Central]:
    """The same test against central on SQLite and on PostgreSQL (a fresh store per test)."""
    if request.param == "sqlite":
        with running_central(f"sqlite:///{tmp_path / 'central.db'}") as c:
            yield c
    else:
        yield request.getfixturevalue("_pg_central")
