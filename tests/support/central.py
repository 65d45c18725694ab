"""A real `central` on a loopback port, for contract, engine and end-to-end tests.

`CentralServer` runs uvicorn in a thread on a fixed port so a test can stop it
(the tablet sees connection refused) and start it again on the same database.
`Central` adds an OMS client with a real integration key and helpers to build
a small store through the OMS API, exactly as a retailer's OMS would.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import httpx
import uvicorn
from fastapi import FastAPI
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from central.api import create_app
from central.db.engine import make_engine
from central.db.migrate import upgrade
from central.db.tables import tasks
from central.service.auth import create_integration_key
from central.settings import CentralSettings
from fulfillment.barcodes import check_digit

PG_ENV = "CENTRAL_TEST_PG"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class CentralServer:
    """`rate_limits=False` (the default here): the suite's centrals live long and every test
    calls from 127.0.0.1, so the per-address limits on failed codes and tokens would turn one
    test's deliberate bad token into another's 429; tests/central/test_rate_limits.py turns
    them on for a central of its own."""

    def __init__(
        self, database_url: str, port: int | None = None, *, rate_limits: bool = False
    ) -> None:
        self.database_url = database_url
        self.rate_limits = rate_limits
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.app: FastAPI | None = None  # the running app (a thread's server only)

    def start(self) -> None:
        settings = CentralSettings(
            database_url=self.database_url, expiry_interval_s=0, events_keepalive_s=1.0
        )
        if not self.rate_limits:
            settings = settings.model_copy(
                update={"enroll_failure_limit": 0, "token_failure_limit": 0}
            )
        self.app = create_app(settings)
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="on",
            loop="asyncio",
            http="h11",
            ws="none",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("central did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            assert self._thread is not None
            self._thread.join(timeout=10)
            self._server = None


class CentralProcess(CentralServer):
    """central as its own process (`central serve`), as production runs it: for benchmarks,
    where a server thread would share the client's interpreter lock. `workers` > 1: `central
    serve --workers N` (PostgreSQL only)."""

    def __init__(self, database_url: str, port: int | None = None, *, workers: int = 1) -> None:
        super().__init__(database_url, port)
        self.workers = workers

    def start(self) -> None:
        scale = ["--workers", str(self.workers)] if self.workers > 1 else []
        self._proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "central",
                "serve",
                "--no-migrate",
                *scale,
                "--database-url",
                self.database_url,
                "--port",
                str(self.port),
            ],
            env={**os.environ, "CENTRAL_EXPIRY_INTERVAL_S": "0", "CENTRAL_LOG_LEVEL": "warning"},
        )
        deadline = time.monotonic() + (60 if self.workers > 1 else 30)
        while True:
            try:
                if httpx.get(f"{self.url}/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or self._proc.poll() is not None:
                raise RuntimeError("central did not start")
            time.sleep(0.1)
        if self.workers > 1:
            time.sleep(1.0)  # every worker up, not only the first

    def stop(self) -> None:
        proc = getattr(self, "_proc", None)
        if proc is not None and proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=10)

    def terminate(self) -> None:
        """SIGTERM, without waiting for the process to end (`stop()` waits)."""
        proc = getattr(self, "_proc", None)
        if proc is not None and proc.poll() is None:
            proc.terminate()

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the central process and its workers have used so far
        (Linux /proc): a benchmark's steadier measure than wall time on a shared machine."""
        total = 0.0
        for pid in [self._proc.pid, *_children(self._proc.pid)]:
            try:
                stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except FileNotFoundError:  # a worker that has just gone
                continue
            total += (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
        return total

    def kill(self) -> None:
        """SIGKILL, as a crash or the OOM killer would: no shutdown, no flush, no goodbye."""
        proc = getattr(self, "_proc", None)
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def _children(pid: int) -> list[int]:
    """Every descendant process of `pid` (Linux /proc)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for kid in map(int, (task / "children").read_text().split()):
            found += [kid, *_children(kid)]
    return found


def gtin(n: int) -> str:
    """A valid GTIN-13 for test item number n."""
    payload = f"400{n:09d}"
    return payload + check_digit(payload)


@dataclass
class TestStore:
    __test__ = False  # not a test class, whatever its name

    store_id: str
    skus: list[str]
    gtins: dict[str, str]  # sku -> GTIN-13
    locations: dict[str, str]
    staff: dict[str, str] = field(default_factory=dict)  # employee_id -> PIN


class Central:
    def __init__(self, server: CentralServer, key: str) -> None:
        self.server = server
        self.key = key
        self.oms = httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=30
        )

    @property
    def url(self) -> str:
        return self.server.url

    def stop(self) -> None:
        self.server.stop()

    def start(self) -> None:
        self.server.start()

    def close(self) -> None:
        self.oms.close()
        self.server.stop()

    # --- building a store through the OMS API --------------------------------------

    def seed_demo(self) -> TestStore:
        """The demo store S001 as `central seed --demo` makes it, with its staff's PINs."""
        from central.seed import DEMO_STAFF, DEMO_STORE, seed_demo

        engine = make_engine(self.server.database_url)
        try:
            seed_demo(engine)
        finally:
            engine.dispose()
        return TestStore(DEMO_STORE, [], {}, {}, {p.employee_id: p.pin for p in DEMO_STAFF})

    def new_store(
        self,
        *,
        items: int = 6,
        stock: int = 20,
        policy: dict[str, Any] | None = None,
        store_id: str | None = None,
        timezone: str | None = None,
    ) -> TestStore:
        store_id = store_id or f"S{uuid.uuid4().hex[:6].upper()}"
        body: dict[str, Any] = {"name": f"Store {store_id}", "policy": policy or {}}
        if timezone:
            body["timezone"] = timezone
        ok(self.oms.put(f"/v1/oms/stores/{store_id}", json=body))
        base = int(uuid.uuid4().int % 10**6) * 100
        skus = [f"SKU-{i + 1}" for i in range(items)]
        gtins = {sku: gtin(base + i + 1) for i, sku in enumerate(skus)}
        locations = {sku: f"A-{i + 1:02d}-1" for i, sku in enumerate(skus)}
        ok(
            self.oms.put(
                f"/v1/oms/stores/{store_id}/items",
                json=[
                    {
                        "sku": sku,
                        "gtins": [gtins[sku]],
                        "name": f"Item {i + 1}",
                        "price": "4.99",
                        "location": locations[sku],
                        "location_seq": (i + 1) * 10,
                    }
                    for i, sku in enumerate(skus)
                ],
            )
        )
        ok(
            self.oms.post(
                f"/v1/oms/stores/{store_id}/stock",
                json=[{"sku": sku, "location": locations[sku], "qty": stock} for sku in skus],
            )
        )
        staff = {"E1": "1111", "E2": "2222", "M1": "999999"}
        ok(
            self.oms.put(
                f"/v1/oms/stores/{store_id}/staff",
                json=[
                    {"employee_id": "E1", "name": "Ana", "role": "associate", "pin": "1111"},
                    {"employee_id": "E2", "name": "Ben", "role": "associate", "pin": "2222"},
                    {"employee_id": "M1", "name": "Maria", "role": "manager", "pin": "999999"},
                ],
            )
        )
        return TestStore(store_id, skus, gtins, locations, staff)

    def order(
        self,
        store: TestStore,
        lines: Sequence[tuple[str, int]],
        *,
        type: str = "pickup",
        order_id: str | None = None,
        due_in: timedelta = timedelta(hours=2),
        priority: int = 0,
        pickup_code: str | None = None,
    ) -> dict[str, Any]:
        order_id = order_id or f"W-{uuid.uuid4().hex[:8]}"
        body = {
            "order_id": order_id,
            "store_id": store.store_id,
            "type": type,
            "customer": {
                "name": "Olivia Brown",
                "email": "olivia@example.com",
                "phone": "+44 7700 900101",
            },
            "due_at": (datetime.now(UTC) + due_in).isoformat(),
            "priority": priority,
            "lines": [
                {"line_id": str(i + 1), "sku": sku, "qty": qty, "price": "4.99"}
                for i, (sku, qty) in enumerate(lines)
            ],
        }
        if pickup_code:
            body["pickup_code"] = pickup_code
        return cast("dict[str, Any]", ok(self.oms.post("/v1/oms/orders", json=body)))

    def get_order(self, order_id: str) -> dict[str, Any]:
        return cast("dict[str, Any]", ok(self.oms.get(f"/v1/oms/orders/{order_id}")))

    def stock(self, store: TestStore, sku: str) -> dict[str, Any]:
        rows = ok(self.oms.get(f"/v1/oms/stores/{store.store_id}/stock", params={"sku": sku}))
        assert len(rows) == 1, rows
        return cast("dict[str, Any]", rows[0])

    def ledger(self, store: TestStore, sku: str) -> list[dict[str, Any]]:
        return list(
            ok(self.oms.get(f"/v1/oms/stores/{store.store_id}/ledger", params={"sku": sku}))
        )

    def tasks(self, store: TestStore, kind: str | None = None) -> list[dict[str, Any]]:
        """The follow-up task rows central holds for a store (the OMS API has no call for
        them; tablets get them by pull), oldest first."""
        query = select(tasks).where(tasks.c.store_id == store.store_id)
        if kind is not None:
            query = query.where(tasks.c.kind == kind)
        engine = make_engine(self.server.database_url)
        try:
            with engine.connect() as conn:
                rows = conn.execute(query.order_by(tasks.c.created_at, tasks.c.task_id))
                return [dict(r) for r in rows.mappings()]
        finally:
            engine.dispose()

    def enroll(self, store: TestStore, name: str = "tablet") -> dict[str, Any]:
        code = ok(self.oms.post(f"/v1/oms/stores/{store.store_id}/enrollment-codes"))["code"]
        return cast(
            "dict[str, Any]",
            ok(
                httpx.post(
                    f"{self.url}/v1/devices/enroll", json={"code": code, "device_name": name}
                )
            ),
        )

    def enroll_code(self, store_id: str) -> str:
        return str(ok(self.oms.post(f"/v1/oms/stores/{store_id}/enrollment-codes"))["code"])


def ok(response: httpx.Response) -> Any:
    assert response.status_code < 300, f"{response.status_code}: {response.text}"
    return response.json()


@contextmanager
def running_central(
    database_url: str, *, own_process: bool = False, rate_limits: bool = False
) -> Iterator[Central]:
    upgrade(database_url)
    engine = make_engine(database_url)
    key = create_integration_key(engine, "tests")
    engine.dispose()
    server = (
        CentralProcess(database_url)
        if own_process
        else CentralServer(database_url, rate_limits=rate_limits)
    )
    server.start()
    central = Central(server, key)
    try:
        yield central
    finally:
        central.close()


@contextmanager
def fresh_pg_database(admin_url: str) -> Iterator[str]:
    """A new, empty PostgreSQL database made from CENTRAL_TEST_PG; dropped afterwards."""
    name = create_pg_database(admin_url)
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        drop_pg_database(admin_url, name)


def create_pg_database(admin_url: str, template: str | None = None) -> str:
    """A new PostgreSQL database (a copy of `template`, whose sessions are ended first, when
    given); its name."""
    name = f"storeapp_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if template is None:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            else:
                _end_sessions(conn, template)
                conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    finally:
        admin.dispose()
    return name


def drop_pg_database(admin_url: str, name: str) -> None:
    """Drop a database `create_pg_database` made, ending its sessions first."""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            _end_sessions(conn, name)
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    finally:
        admin.dispose()


def _end_sessions(conn: Any, database: str) -> None:
    conn.execute(
        text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
        {"n": database},
    )


def pg_url() -> str | None:
    return os.environ.get(PG_ENV) or None
