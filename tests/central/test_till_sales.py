"""Till sales and till returns into the one ledger (issue #12): the POS posts lines to
`POST /v1/oms/stores/{id}/sales`, as a JSON array or an NDJSON stream, against central on
SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from central.db.engine import make_engine
from central.db.tables import stores
from tests.support.central import Central, TestStore, ok
from tests.support.device import RawDevice


def line(
    sale_id: str, n: int, sku: str, qty: int, *, at: datetime | None = None, till: str = "T1"
) -> dict[str, Any]:
    when = at or datetime.now(UTC) - timedelta(minutes=10)
    return {
        "sale_id": sale_id,
        "line": n,
        "sku": sku,
        "qty": qty,
        "till_id": till,
        "sold_at": when.isoformat(),
    }


def post(central: Central, store: TestStore | str, lines: Any) -> httpx.Response:
    store_id = store if isinstance(store, str) else store.store_id
    return central.oms.post(f"/v1/oms/stores/{store_id}/sales", json=lines)


def stream(central: Central, store: TestStore, rows: Iterator[bytes]) -> httpx.Response:
    return central.oms.post(
        f"/v1/oms/stores/{store.store_id}/sales",
        content=rows,
        headers={"Content-Type": "application/x-ndjson"},
    )


def change_seq(central: Central, store: TestStore) -> int:
    engine = make_engine(central.server.database_url)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    select(stores.c.change_seq).where(stores.c.store_id == store.store_id)
                ).scalar_one()
            )
    finally:
        engine.dispose()


def test_sales_and_till_returns_move_on_hand_at_the_items_home_dated_when_sold(
    any_central: Central, store: TestStore
) -> None:
    a, b = store.skus[0], store.skus[1]  # 20 each
    sold_at = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    body = [
        line("R-1", 1, a, 3, at=sold_at, till="T7"),
        line("R-1", 2, b, 1, at=sold_at, till="T7"),
        line("R-2", 1, a, -1, at=sold_at + timedelta(minutes=5), till="T8"),  # brought back
    ]
    answer = post(any_central, store, body)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "received": 3,
        "accepted": 3,
        "duplicates": 0,
        "rejected": 0,
        "duplicate_keys": [],
        "rejections": [],
        "capped": False,
    }
    assert any_central.stock(store, a)["on_hand"] == 18
    assert any_central.stock(store, b)["on_hand"] == 19
    moves = [m for m in any_central.ledger(store, a) if m["kind"] in ("sale", "till_return")]
    assert [
        (m["kind"], m["qty"], m["on_hand_delta"], m["location"], m["actor"], m["note"])
        for m in moves
    ] == [
        ("sale", 3, -3, store.locations[a], "T7", "sale R-1 line 1"),
        ("till_return", 1, 1, store.locations[a], "T8", "sale R-2 line 1"),
    ]
    assert datetime.fromisoformat(moves[0]["occurred_at"]) == sold_at


def test_a_batch_sent_again_changes_nothing_and_says_which_lines_were_duplicates(
    any_central: Central, store: TestStore
) -> None:
    sku = store.skus[0]
    body = [line("R-9", n, sku, 1) for n in (1, 2, 3)]
    assert ok(post(any_central, store, body))["accepted"] == 3
    seq = change_seq(any_central, store)

    again = ok(post(any_central, store, body))
    assert (again["accepted"], again["duplicates"]) == (0, 3)
    assert again["duplicate_keys"] == [{"sale_id": "R-9", "line": n} for n in (1, 2, 3)]
    # and as a stream, with one new line among the old ones
    rows = [json.dumps(r).encode() for r in [*body, line("R-9", 4, sku, 2)]]
    streamed = stream(any_central, store, iter([b"\n".join(rows)]))
    assert streamed.status_code == 202, streamed.text
    assert (streamed.json()["accepted"], streamed.json()["duplicates"]) == (1, 3)

    assert any_central.stock(store, sku)["on_hand"] == 20 - 3 - 2
    assert len([m for m in any_central.ledger(store, sku) if m["kind"] == "sale"]) == 4
    assert change_seq(any_central, store) == seq + 1  # only the new line's stock document


def test_bad_lines_are_refused_one_by_one_and_the_good_ones_recorded(
    any_central: Central, store: TestStore
) -> None:
    sku = store.skus[0]
    good = line("R-1", 1, sku, 2)
    body: list[Any] = [
        good,
        line("R-\x00", 1, sku, 1),  # NUL byte
        line("R-2", 1, sku, 10**12),  # huge
        line("R-3", 1, sku, 0),
        {**line("R-4", 1, sku, 1), "sold_at": "0001-01-01T00:00:00+01:00"},
        {**line("R-5", 1, sku, 1), "sold_at": "9999-12-31T23:59:59-01:00"},
        line("R-6", 1, sku, 1, at=datetime.now(UTC) + timedelta(hours=1)),  # in the future
        line("R-7", 1, "NO-SUCH-SKU", 1),
        {**good, "qty": 5},  # the same sale and line, other values
        good,  # the same line again: changes nothing
        "not a line",
        {k: v for k, v in line("R-8", 1, sku, 1).items() if k != "till_id"},
        {**line("R-9", 1, sku, 1), "price": "4.99"},  # a field no line has
    ]
    answer = post(any_central, store, body)
    assert answer.status_code == 200, answer.text
    got = answer.json()
    assert (got["received"], got["accepted"], got["duplicates"], got["rejected"]) == (
        13,
        1,
        1,
        11,
    )
    refused = {r["row"]: (r["code"], r["field"]) for r in got["rejections"]}
    assert refused == {
        1: ("INVALID_LINE", "sale_id"),
        2: ("INVALID_LINE", "qty"),
        3: ("INVALID_LINE", "qty"),
        4: ("INVALID_LINE", "sold_at"),
        5: ("INVALID_LINE", "sold_at"),
        6: ("SOLD_IN_FUTURE", "sold_at"),
        7: ("UNKNOWN_ITEM", "sku"),
        8: ("REPEATED_LINE", "line"),
        10: ("INVALID_LINE", "line"),
        11: ("INVALID_LINE", "till_id"),
        12: ("INVALID_LINE", "price"),
    }
    messages = " ".join(r["message"] for r in got["rejections"])
    assert "\x00" not in messages and "NO-SUCH-SKU is not in this store's catalogue" in messages
    assert got["duplicate_keys"] == [{"sale_id": "R-1", "line": 1}]
    assert any_central.stock(store, sku)["on_hand"] == 18  # the one good line, once


def test_a_body_that_is_no_list_of_lines_is_refused_whole(
    any_central: Central, store: TestStore
) -> None:
    for body in ({"sale_id": "R-1"}, "lines", 7):
        answer = post(any_central, store, body)
        assert answer.status_code == 422
        assert answer.json()["code"] == "INVALID_REQUEST"
    answer = any_central.oms.post(
        f"/v1/oms/stores/{store.store_id}/sales",
        content=b"[{",
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 422
    assert any_central.stock(store, store.skus[0])["on_hand"] == 20


def test_a_long_stream_is_written_as_it_arrives_and_tells_every_line(
    any_central: Central, store: TestStore
) -> None:
    sku, other = store.skus[0], store.skus[1]
    any_central.oms.post(
        f"/v1/oms/stores/{store.store_id}/stock",
        json=[{"sku": sku, "location": store.locations[sku], "qty": 20_000}],
    )

    def rows() -> Iterator[bytes]:
        for n in range(12_000):
            yield json.dumps(line(f"S-{n}", 1, sku, 1)).encode() + b"\n"
            if n == 7000:
                yield b"{not json\n\n"  # a broken row and a blank line
        yield json.dumps(line("S-last", 1, other, 3)).encode()  # no newline at the end

    seq = change_seq(any_central, store)
    answer = stream(any_central, store, rows())
    assert answer.status_code == 202, answer.text
    got = answer.json()
    assert (got["received"], got["accepted"], got["rejected"]) == (12_002, 12_001, 1)
    assert got["rejections"][0]["row"] == 7001
    assert got["rejections"][0]["code"] == "INVALID_LINE"
    assert any_central.stock(store, sku)["on_hand"] == 20 + 20_000 - 12_000
    assert any_central.stock(store, other)["on_hand"] == 17
    # written in three transactions of at most 5,000 rows: the place moved in each is
    # published once per transaction, not once per line
    assert change_seq(any_central, store) - seq <= 4


def test_sales_stay_in_their_store_and_only_an_integration_key_may_post_them(
    any_central: Central, store: TestStore
) -> None:
    other = any_central.new_store(items=1)
    sku = store.skus[1]
    assert ok(post(any_central, store, [line("R-1", 1, sku, 2)]))["accepted"] == 1
    # the same sale number in another store is that store's own line, not a duplicate
    there = ok(post(any_central, other, [line("R-1", 1, other.skus[0], 1)]))
    assert (there["accepted"], there["duplicates"]) == (1, 0)
    # a sku of another store's catalogue only is refused here
    refused = ok(post(any_central, other, [line("R-2", 1, sku, 1)]))["rejections"]
    assert [r["code"] for r in refused] == ["UNKNOWN_ITEM"]
    assert any_central.stock(store, sku)["on_hand"] == 18
    assert any_central.stock(other, other.skus[0])["on_hand"] == 19

    missing = post(any_central, "NO-STORE", [line("R-1", 1, sku, 1)])
    assert (missing.status_code, missing.json()["code"]) == (404, "UNKNOWN_STORE")
    tablet = RawDevice(any_central, store)
    try:
        with_token = httpx.post(
            f"{any_central.url}/v1/oms/stores/{store.store_id}/sales",
            json=[line("R-3", 1, sku, 1)],
            headers={"Authorization": f"Bearer {tablet.token}"},
        )
    finally:
        tablet.close()
    assert with_token.status_code == 403
    assert any_central.stock(store, sku)["on_hand"] == 18


def test_a_sale_that_takes_a_place_below_zero_opens_one_exception_and_one_recount(
    any_central: Central, store: TestStore
) -> None:
    sku, where = store.skus[2], store.locations[store.skus[2]]
    ok(post(any_central, store, [line("R-1", n, sku, 15) for n in (1, 2)]))
    ok(post(any_central, store, [line("R-2", 1, sku, 1)]))
    assert any_central.stock(store, sku)["on_hand"] == -11
    told = [
        x
        for x in ok(any_central.oms.get(f"/v1/oms/stores/{store.store_id}/exceptions"))
        if x["code"] == "NEGATIVE_STOCK"
    ]
    assert len(told) == 1 and f"{sku} at {where}" in told[0]["message"]
    recounts = [t for t in any_central.tasks(store, "recount") if t["state"] == "open"]
    assert [(t["sku"], t["location"]) for t in recounts] == [(sku, where)]
