"""A snapshot loads in bulk (storeapp/local/_replica.load_snapshot) into exactly the rows the
same documents give one by one through pull pages; the GTIN fast path agrees with the scan
parser; `storeapp enroll` prints its progress."""

from __future__ import annotations

import random
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from fulfillment.barcodes import InvalidBarcode, check_digit, normalize_gtin
from storeapp.cli import ProgressLines
from storeapp.local import LocalStore
from storeapp.local._catalogue import _gtin14
from sync.engine import Progress
from sync.protocol import Change, EnrollResponse, PullResponse, SnapshotHeader
from tests.support.central import Central

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
ENROLLED = EnrollResponse(device_id="d1", store_id="S1", token="t")


def gtin(n: int, length: int = 13) -> str:
    payload = f"{n:0{length - 1}d}"
    return payload + check_digit(payload)


def catalogue(n: int) -> list[Change]:
    """n items with GTINs of every length (and some that are no GTIN), a stock row each."""
    docs: list[Change] = [
        Change(kind="store", id="S1", version=1, data={"store_id": "S1", "name": "S"}),
        Change(
            kind="staff",
            id="E1",
            version=2,
            data={"employee_id": "E1", "name": "Ana", "role": "associate", "active": True},
        ),
    ]
    for i in range(n):
        codes: list[Any] = [gtin(1000 + i, (8, 12, 13, 14)[i % 4])]
        if i % 7 == 0:
            codes.append(gtin(1000 + i)[:-1] + "x")  # not digits
        if i % 5 == 0:
            wrong = gtin(5000 + i)
            codes.append(wrong[:-1] + str((int(wrong[-1]) + 1) % 10))  # wrong check digit
        if i % 11 == 0:
            codes.append(gtin(1000 + i))  # the same GTIN on another item: the last one wins
        item = {
            "sku": f"SKU-{i}",
            "gtins": codes,
            "name": f"Item {i}" if i % 9 else "",
            "price": ["4.99", 3, None, "bad"][i % 4],
            "location": f"A-{i:02d}",
            "location_seq": i,
            "final_sale": i % 3 == 0,
        }
        stock = {"sku": f"SKU-{i}", "location": f"A-{i:02d}", "on_hand": i, "reserved": 0}
        docs.append(Change(kind="item", id=f"SKU-{i}", version=len(docs) + 1, data=item))
        docs.append(
            Change(kind="stock", id=f"SKU-{i}@A-{i:02d}", version=len(docs) + 1, data=stock)
        )
    return docs


def tables(store: LocalStore) -> dict[str, list[tuple[Any, ...]]]:
    conn = store._conn
    return {
        t: conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
        for t in ("items", "gtins", "stock", "staff")
    }


def by_pages(path: Path, changes: list[Change]) -> LocalStore:
    store = LocalStore(path)
    store.enroll(ENROLLED, "http://central")
    store.apply_pull(
        PullResponse(
            cursor="c", has_more=False, server_time=T0, last_applied_seq=0, changes=changes
        )
    )
    return store


def by_snapshot(path: Path, changes: list[Change]) -> LocalStore:
    store = LocalStore(path)
    store.enroll(ENROLLED, "http://central")
    store.load_snapshot(
        SnapshotHeader(cursor="c", last_applied_seq=0, server_time=T0, count=len(changes)),
        changes,
    )
    return store


def test_a_snapshot_loaded_in_bulk_gives_the_rows_pull_pages_give(tmp_path: Path) -> None:
    changes = catalogue(60)
    with by_pages(tmp_path / "a.db", changes) as a, by_snapshot(tmp_path / "b.db", changes) as b:
        assert tables(b) == tables(a)
        assert len(tables(b)["items"]) == 60 and len(tables(b)["stock"]) == 60
        assert b.sync_state().cursor == "c"


def test_a_snapshot_naming_an_item_twice_keeps_its_newest_version_only(tmp_path: Path) -> None:
    changes = catalogue(20)
    newer = Change(
        kind="item",
        id="SKU-3",
        version=len(changes) + 1,
        data={"sku": "SKU-3", "gtins": [gtin(9999)], "name": "Renamed", "location": "B-1"},
    )
    changes.append(newer)
    with by_pages(tmp_path / "a.db", changes) as a, by_snapshot(tmp_path / "b.db", changes) as b:
        assert tables(b) == tables(a)
        assert ("SKU-3",) in [r[1:] for r in tables(b)["gtins"] if r[0] == gtin(9999).zfill(14)]
        assert gtin(1003, 14) not in {r[0] for r in tables(b)["gtins"]}  # its old GTIN went


def test_a_reloaded_snapshot_replaces_the_catalogue(tmp_path: Path) -> None:
    with by_snapshot(tmp_path / "b.db", catalogue(30)) as b:
        b.load_snapshot(
            SnapshotHeader(cursor="d", last_applied_seq=0, server_time=T0, count=12),
            catalogue(5),
        )
        assert len(tables(b)["items"]) == 5 and len(tables(b)["stock"]) == 5


def test_the_catalogue_swapped_in_by_a_snapshot_keeps_its_lookups_indexed(
    tmp_path: Path,
) -> None:
    """The shadow tables become the catalogue (issue #9): the stock of a sku and the items
    of a GTIN are still found by index, not by reading the whole table, after a first and a
    second snapshot; and the file is sound."""

    def plan(store: LocalStore, sql: str) -> str:
        return " ".join(str(r[-1]) for r in store._conn.execute(f"EXPLAIN QUERY PLAN {sql}"))

    with by_snapshot(tmp_path / "b.db", catalogue(30)) as b:
        for _ in range(2):
            for sql in (
                "SELECT * FROM stock WHERE sku = 'SKU-3'",
                "SELECT * FROM gtins WHERE sku = 'SKU-3'",
                "SELECT * FROM items WHERE sku = 'SKU-3'",
                f"SELECT * FROM gtins WHERE gtin = '{gtin(1003, 14)}'",
            ):
                assert "USING" in plan(b, sql) and "SCAN" not in plan(b, sql), sql
            b.load_snapshot(
                SnapshotHeader(cursor="d", last_applied_seq=0, server_time=T0, count=62),
                catalogue(30),
            )
        assert b._conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert len(tables(b)["items"]) == 30


def test_the_first_checksums_after_a_snapshot_are_those_its_stored_documents_give(
    tmp_path: Path,
) -> None:
    """Right after a snapshot the replica checksums come from the sums the load took of the
    text it wrote (issue #9: no reading 100,000 documents back): the same as the stored
    documents give, orders past the horizon left out alike; a write by another connection
    in between is seen, and later checks read the documents again."""

    def order(order_id: str, state: str, ended: datetime) -> dict[str, Any]:
        return {
            "order_id": order_id,
            "store_id": "S1",
            "type": "ship_from_store",
            "state": state,
            "due_at": T0.isoformat(),
            "lines": [],
            "updated_at": ended.isoformat(),
        }

    changes = catalogue(10)
    for n, (state, days) in enumerate([("picking", 0), ("handed_over", 1), ("shipped", 200)]):
        changes.append(
            Change(
                kind="order",
                id=f"O-{n}",
                version=len(changes) + 1,
                data=order(f"O-{n}", state, T0 - timedelta(days=days)),
            )
        )
    later = T0 + timedelta(days=45)  # O-1 ended inside the horizon, O-2 long before
    with by_snapshot(tmp_path / "b.db", changes) as b, LocalStore(tmp_path / "b.db") as other:
        first = b.checksums(later)
        assert first == other.checksums(later)  # `other` reads the stored documents
        assert set(first) == {"item", "order", "staff", "stock", "store"}
        assert b.checksums(later) == first  # read back this time: the same
        b.load_snapshot(
            SnapshotHeader(cursor="d", last_applied_seq=0, server_time=T0, count=len(changes)),
            changes,
        )
        with sqlite3.connect(tmp_path / "b.db") as conn:  # not a pull: the check must see it
            conn.execute("UPDATE srv_docs SET data = '{}' WHERE kind = 'item' AND id = 'SKU-3'")
        changed = b.checksums(later)
        assert changed["item"] != first["item"] and changed == other.checksums(later)


def test_the_gtin_fast_path_agrees_with_the_scan_parser() -> None:
    rng = random.Random(9)
    codes = [gtin(rng.randrange(10**7), length) for length in (8, 12, 13, 14) for _ in range(200)]
    codes += [c[:-1] + str((int(c[-1]) + 1) % 10) for c in codes[::3]]  # wrong check digits
    codes += ["", "12345", " " + gtin(42) + " ", "0" * 13, gtin(7)[:-1] + "A", "١٢٣٤٥٦٧٨"]
    for code in codes:
        try:
            expected: str | None = normalize_gtin(code)
        except InvalidBarcode:
            expected = None
        assert _gtin14(code) == expected, code


def test_progress_lines_come_at_most_every_half_second_and_always_at_the_end(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = iter([0.0, 0.1, 0.2, 0.6, 0.7, 0.8])
    monkeypatch.setattr("storeapp.cli.time.monotonic", lambda: next(clock))
    printed: list[str] = []
    lines = ProgressLines(printed.append)
    for done in (0, 10_000, 20_000, 30_000, 40_000, 50_000):
        lines(Progress("receiving", done, 50_000, elapsed_s=done / 25_000))
    assert printed == [
        "Receiving 0 of 50,000",
        "Receiving 30,000 of 50,000 · 25,000/s · about 1 s left",
        "Receiving 50,000 of 50,000 · 25,000/s",
    ]


def test_storeapp_enroll_downloads_the_store_and_prints_its_progress(
    central: Central, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from storeapp.cli import app

    store = central.new_store(items=40)
    central.order(store, [(store.skus[0], 1)])
    done = CliRunner().invoke(
        app,
        [
            "enroll",
            "--server",
            central.url,
            "--code",
            central.enroll_code(store.store_id),
            "--data-dir",
            str(tmp_path / "tablet"),
            "--name",
            "t1",
        ],
    )
    assert done.exit_code == 0, done.output
    lines = done.output.splitlines()
    receiving = [line for line in lines if line.startswith("Receiving")]
    assert receiving[0].startswith("Receiving 0 of ")
    total = receiving[0].removeprefix("Receiving 0 of ")
    assert any(line.startswith(f"Receiving {total} of {total} · ") for line in receiving)
    assert lines[-1].startswith("sync ok")
    with LocalStore(tmp_path / "tablet" / "store.db") as local:
        assert len(tables(local)["items"]) == 40
