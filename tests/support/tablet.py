"""A real tablet for sync tests: its own SQLite file, a real SyncEngine, faults at the transport.

    tablet = enroll_tablet(central, store.store_id, tmp_path / "t1.db", FaultyTransport(), "t1")
    tablet.sync()                       # one real SyncEngine pass against central
    tablet.transport.refuse(...)        # break the network (see tests/support/faults.py)
    with tablet.hands("E1", "1111") as ana:   # the view-models, as an associate uses them
        ana.queue.claim(order_id)

The `make_tablet` and `transports` fixtures (tests/sync/conftest.py) build on this.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from storeapp.local import LocalStore
from sync.client import CentralClient
from sync.engine import Progress, SyncEngine, SyncReport
from sync.protocol import Change
from sync.replica import Identity

from .central import Central, TestStore
from .faults import FaultyTransport
from .hands import Hands

__all__ = ["Hands", "Tablet", "enroll_tablet"]


@dataclass
class Tablet:
    path: Path
    transport: FaultyTransport
    progress: list[Progress] = field(default_factory=list)
    token: str | None = None  # overrides the enrolled token (a wrong or revoked one)
    pull_limit: int = 1000
    # every pass checks the replica against central's checksums (a new engine each time, so
    # never skipped); a test that changes a file or central's feed behind their backs says so
    replica_may_differ: bool = False

    def client(self, identity: Identity) -> CentralClient:
        return CentralClient(
            identity.server_url, self.token or identity.token, transport=self.transport
        )

    def engine(self) -> SyncEngine:
        return SyncEngine(
            lambda: LocalStore(self.path),
            self.client,
            on_progress=self.progress.append,
            pull_limit=self.pull_limit,
        )

    def sync(self) -> SyncReport:
        report = self.engine().run_once()
        if not self.replica_may_differ:
            assert report.healed == report.unhealed == (), (
                f"{self.path.name}: replica differed from central's checksums "
                f"(healed {report.healed}, not healed {report.unhealed})"
            )
        return report

    def local(self) -> LocalStore:
        return LocalStore(self.path)

    def hands(self, employee_id: str, pin: str, *, online_lookup: bool = False) -> Hands:
        """The screens' view-models on this tablet, with `employee_id` signed in;
        `online_lookup`: the returns desk looks orders up on central through the transport."""
        return Hands(self.path, employee_id, pin, look_up=self.look_up if online_lookup else None)

    def look_up(self, order_id: str) -> Change | None:
        """An order of the store on central (`GET /v1/sync/orders/{id}`), through the transport."""
        with self.local() as local:
            identity = local.identity()
        assert identity is not None
        with self.client(identity) as client:
            return client.order(order_id)

    def scan(
        self,
        store: TestStore,
        order: dict[str, Any],
        line: int = 1,
        times: int = 1,
        *,
        actor: str = "E1",
        at: datetime | None = None,
    ) -> None:
        """`times` scans of one unit straight on the store (no view-model)."""
        sku = order["lines"][line - 1]["sku"]
        with self.local() as local:
            for _ in range(times):
                result = local.act(
                    actor,
                    "pick.scan",
                    {
                        "order_id": order["order_id"],
                        "line_id": str(line),
                        "gtin": store.gtins[sku],
                        "qty": 1,
                    },
                    at or datetime.now(UTC),
                )
                assert result.queued, result

    def docs(self) -> list[tuple[str, str, int, str]]:
        with sqlite3.connect(self.path) as conn:
            return conn.execute(
                "SELECT kind, id, version, data FROM srv_docs ORDER BY kind, id"
            ).fetchall()


def enroll_tablet(
    central: Central, store_id: str, path: Path, transport: FaultyTransport, name: str
) -> Tablet:
    """Enroll a new tablet file with a one-time code, through `transport`."""
    code = central.enroll_code(store_id)
    with CentralClient(central.url, transport=transport) as client:
        enrolled = client.enroll(code, name)
    with LocalStore(path) as local:
        local.enroll(enrolled, central.url)
    return Tablet(path, transport)
