"""central as several processes on one PostgreSQL database: `serve --workers N`, and the
pickup-expiry job run by one process only."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from central.api.app import _prune_if_leader
from central.db.engine import make_engine
from central.db.tables import change_marks
from central.service.leader import EXPIRY_LOCK, PRUNE_LOCK, Leader
from tests.support.central import free_port, fresh_pg_database, pg_url, running_central


@pytest.fixture
def pg_database() -> Iterator[str]:
    admin = pg_url()
    if admin is None:
        pytest.skip("CENTRAL_TEST_PG is not set: PostgreSQL runs are skipped")
    with fresh_pg_database(admin) as url:
        yield url


def test_one_process_of_many_leads_and_another_takes_over_when_it_goes(pg_database: str) -> None:
    engine = make_engine(pg_database)
    first, second = Leader(engine, EXPIRY_LOCK), Leader(engine, EXPIRY_LOCK)
    try:
        assert first.holds()
        assert not second.holds()
        assert first.holds()  # asked again: still the leader
        first.close()  # that process stops
        assert second.holds()
    finally:
        first.close()
        second.close()
        engine.dispose()


def test_one_process_of_many_prunes_and_another_takes_over_when_it_goes(
    pg_database: str,
) -> None:
    with running_central(pg_database) as central:
        central.new_store(items=2)
    engine = make_engine(pg_database)

    def marks() -> int:  # every pruning run marks each store's change number it saw
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(change_marks)).scalar_one())

    expiry = Leader(engine, EXPIRY_LOCK)
    first, second = Leader(engine, PRUNE_LOCK), Leader(engine, PRUNE_LOCK)
    try:
        assert expiry.holds()  # leading the expiry says nothing of who prunes
        assert _prune_if_leader(engine, first, 90) is not None
        assert marks() == 1
        assert _prune_if_leader(engine, second, 90) is None  # another process: it does not run
        assert marks() == 1
        first.close()  # the pruning process stops
        assert _prune_if_leader(engine, second, 90) is not None
    finally:
        for leader in (expiry, first, second):
            leader.close()
        engine.dispose()


def test_on_sqlite_the_one_process_always_leads(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'c.db'}")
    try:
        one, other = Leader(engine, EXPIRY_LOCK), Leader(engine, EXPIRY_LOCK)
        assert one.holds() and other.holds()
    finally:
        engine.dispose()


def test_serve_with_two_workers_answers_on_one_port(pg_database: str) -> None:
    with running_central(pg_database) as central:  # migrated, with a store and a key
        store = central.new_store(items=2)
        key = central.oms.headers["Authorization"]
    port = free_port()  # (the port after the last central's may be anyone's)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "central",
            "serve",
            "--no-migrate",
            "--workers",
            "2",
            "--database-url",
            pg_database,
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                if httpx.get(f"{url}/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            subprocess.run(["sleep", "0.1"], check=True)
        with httpx.Client(base_url=url, headers={"Authorization": key}, timeout=10) as oms:
            for _ in range(20):  # whichever worker answers, it is the same central
                rows = oms.get(f"/v1/oms/stores/{store.store_id}/stock").json()
                assert {r["sku"] for r in rows} == set(store.skus)
    finally:
        proc.terminate()
        out = proc.communicate(timeout=20)[0].decode()
    assert out.count("Started server process") == 2, out


def test_serve_refuses_workers_on_sqlite(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "central",
            "serve",
            "--workers",
            "2",
            "--database-url",
            f"sqlite:///{tmp_path / 'c.db'}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "needs PostgreSQL" in done.stderr
