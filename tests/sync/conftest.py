"""Fixtures for sync tests: a store on the real central and real tablets enrolled in it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.central import Central, TestStore
from tests.support.faults import FaultyTransport
from tests.support.tablet import Tablet, enroll_tablet

MakeTablet = Callable[..., Tablet]


@pytest.fixture
def transports() -> Iterator[list[FaultyTransport]]:
    """Every transport a test makes; their connection pools are closed at the end."""
    made: list[FaultyTransport] = []
    yield made
    for transport in made:
        transport.shutdown()


@pytest.fixture
def store(central: Central) -> TestStore:
    return central.new_store()


@pytest.fixture
def make_tablet(
    central: Central, store: TestStore, tmp_path: Path, transports: list[FaultyTransport]
) -> MakeTablet:
    """make_tablet("tablet-2", for_store=other) -> an enrolled tablet with its own file."""

    def make(name: str = "tablet-1", for_store: TestStore | None = None) -> Tablet:
        transport = FaultyTransport()
        transports.append(transport)
        return enroll_tablet(
            central, (for_store or store).store_id, tmp_path / f"{name}.db", transport, name
        )

    return make
