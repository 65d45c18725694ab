"""A push can never wedge a device (PROTOCOL.md, Push): hostile or buggy ops, tried against
central on SQLite and PostgreSQL, each end in a per-op result and the queue moves on."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support.central import Central, TestStore, ok
from tests.support.device import RawDevice


@pytest.fixture
def device(any_central: Central, store: TestStore) -> Iterator[RawDevice]:
    d = RawDevice(any_central, store, "tablet A")
    yield d
    d.close()


def scan(store: TestStore, oid: str, sku: str | None = None) -> dict[str, Any]:
    sku = sku or store.skus[0]
    return {"order_id": oid, "line_id": "1", "gtin": store.gtins[sku], "qty": 1}


def codes(results: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    return [(r["status"], r["code"]) for r in results]


def exception_codes(central: Central, store: TestStore) -> list[str]:
    rows = ok(central.oms.get(f"/v1/oms/stores/{store.store_id}/exceptions"))
    return [x["code"] for x in rows]


# --- op_id reuse, in every form -----------------------------------------------------------


def test_an_op_id_repeated_within_one_push_is_refused_and_the_queue_moves_on(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    oid = any_central.order(store, [(store.skus[0], 3)])["order_id"]
    first = device.op("pick.scan", scan(store, oid))
    again = {**device.op("pick.scan", scan(store, oid)), "op_id": first["op_id"]}
    after = device.op("pick.scan", scan(store, oid))
    body = ok(device.push_raw([first, again, after]))
    assert codes(body["results"]) == [
        ("applied", None),
        ("rejected", "OP_ID_REUSED"),
        ("applied", None),
    ]
    assert body["next_expected_seq"] == 4
    assert "#1" in body["results"][1]["message"]
    assert any_central.get_order(oid)["lines"][0]["picked"] == 2
    # the same push retried after a lost response: every op is a duplicate, nothing moves
    retry = ok(device.push_raw([first, again, after]))
    assert [(r["status"], r["original_status"], r["code"]) for r in retry["results"]] == [
        ("duplicate", "applied", None),
        ("duplicate", "rejected", "OP_ID_REUSED"),
        ("duplicate", "applied", None),
    ]
    assert any_central.get_order(oid)["lines"][0]["picked"] == 2
    assert exception_codes(any_central, store) == ["OP_ID_REUSED"]


def test_an_op_resent_at_a_later_seq_is_refused_not_applied_twice(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    oid = any_central.order(store, [(store.skus[0], 3)])["order_id"]
    first = device.op("pick.scan", scan(store, oid))
    assert codes(device.push(first)) == [("applied", None)]
    resent = {**first, "seq": 2}
    after = device.op("pick.scan", scan(store, oid), seq=3)
    for _ in range(2):  # and the tablet's retry of that push is harmless too
        body = ok(device.push_raw([resent, after]))
        assert [r["code"] for r in body["results"]] == ["OP_ID_REUSED", None]
        assert body["next_expected_seq"] == 4
    assert "#1" in body["results"][0]["message"]
    assert any_central.get_order(oid)["lines"][0]["picked"] == 2


def test_an_op_id_already_used_by_another_tablet_is_refused_in_words(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    oid = any_central.order(store, [(store.skus[0], 3)])["order_id"]
    theirs = device.op("pick.scan", scan(store, oid))
    assert codes(device.push(theirs)) == [("applied", None)]
    other = RawDevice(any_central, store, "tablet B")
    try:
        mine = {**other.op("pick.scan", scan(store, oid)), "op_id": theirs["op_id"]}
        body = ok(other.push_raw([mine, other.op("pick.scan", scan(store, oid))]))
    finally:
        other.close()
    assert codes(body["results"]) == [("rejected", "OP_ID_REUSED"), ("applied", None)]
    assert "another tablet" in body["results"][0]["message"]
    assert body["next_expected_seq"] == 3
    assert any_central.get_order(oid)["lines"][0]["picked"] == 2


def test_an_op_id_used_in_another_store_is_refused_without_naming_it(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    elsewhere = any_central.new_store()
    stranger = RawDevice(any_central, elsewhere, "far away")
    try:
        oid = any_central.order(elsewhere, [(elsewhere.skus[0], 1)])["order_id"]
        theirs = stranger.op("order.claim", {"order_id": oid})
        assert codes(stranger.push(theirs)) == [("applied", None)]
    finally:
        stranger.close()
    mine = {**device.op("order.claim", {"order_id": "W-none"}), "op_id": theirs["op_id"]}
    [result] = device.push(mine)
    assert (result["status"], result["code"]) == ("rejected", "OP_ID_REUSED")
    assert elsewhere.store_id not in result["message"] and "far away" not in result["message"]


# --- times no database can hold -------------------------------------------------------------


@pytest.mark.parametrize(
    "when", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"], ids=["year1", "year9999"]
)
def test_an_op_dated_at_the_ends_of_the_calendar_is_clamped_applied_and_flagged(
    any_central: Central, store: TestStore, device: RawDevice, when: str
) -> None:
    sku = store.skus[0]
    oid = any_central.order(store, [(sku, 2)])["order_id"]
    op = {**device.op("pick.scan", scan(store, oid)), "occurred_at": when}
    body = ok(device.push_raw([op, device.op("pick.scan", scan(store, oid))]))
    assert codes(body["results"]) == [("applied", "CLOCK_SKEW"), ("applied", None)]
    assert any_central.get_order(oid)["lines"][0]["picked"] == 2
    pick = next(m for m in any_central.ledger(store, sku) if m["kind"] == "pick")
    at = datetime.fromisoformat(pick["occurred_at"])
    assert datetime.now(UTC) - timedelta(days=800) < at <= datetime.now(UTC)


@pytest.mark.parametrize(
    "when", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"], ids=["year1", "year9999"]
)
def test_a_count_taken_under_a_wrong_clock_is_recorded_at_a_believable_time_and_flagged(
    any_central: Central, store: TestStore, device: RawDevice, when: str
) -> None:
    count: dict[str, Any] = {
        "count_id": str(uuid.uuid4()),
        "sku": store.skus[0],
        "location": "A-1",
        "qty": 3,
        "counted_at": when,
    }
    body = ok(device.push_raw([device.op("count.record", count)]))
    [(status, _)] = codes(body["results"])
    assert status == "applied"  # recorded (its variance may ask a manager first), not refused
    [recorded] = ok(
        any_central.oms.get(f"/v1/oms/stores/{store.store_id}/counts", params={"sku": count["sku"]})
    )
    at = datetime.fromisoformat(recorded["counted_at"])
    assert datetime.now(UTC) - timedelta(days=800) < at <= datetime.now(UTC)


@pytest.mark.parametrize(
    "clock", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"], ids=["year1", "year9999"]
)
def test_a_tablet_with_a_wildly_wrong_clock_can_still_push(
    any_central: Central, store: TestStore, device: RawDevice, clock: str
) -> None:
    oid = any_central.order(store, [(store.skus[0], 1)])["order_id"]
    body = ok(device.push_raw([device.op("order.claim", {"order_id": oid})], device_time=clock))
    assert codes(body["results"]) == [("applied", None)]
    [me] = ok(device.http.get("/v1/sync/devices"))
    ahead = clock.startswith("9999")
    assert me["clock_offset_s"] > 3600 * 24 * 365 if ahead else me["clock_offset_s"] < 0


# --- a poison op is that op's problem, not the queue's -------------------------------------


def hostile_ops(device: RawDevice) -> list[tuple[str, dict[str, Any]]]:
    """(the field the message must name, an op that is wrong in that field)."""

    def bad(**fields: Any) -> dict[str, Any]:
        op = device.op("order.claim", {"order_id": "W-x"})
        for key, value in fields.items():
            if value is ...:
                del op[key]
            else:
                op[key] = value
        return op

    return [
        ("type", bad(type=...)),
        ("type", bad(type=17)),
        ("type", bad(type="x" * 10_000)),
        ("type", bad(type="pick\x00scan")),
        ("payload", bad(payload="not an object")),
        ("type_v", bad(type_v="one")),
        ("type_v", bad(type_v=99)),
        ("actor_id", bad(actor_id="E" * 10_000)),
        ("actor_id", bad(actor_id=...)),
        ("occurred_at", bad(occurred_at="yesterday")),
        ("occurred_at", bad(occurred_at=...)),
        ("base_seq", bad(base_seq=-4)),
        ("surprise", bad(surprise=True)),
    ]


def test_hostile_ops_among_good_ones_each_get_their_own_result_and_the_good_ones_apply(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    oid = any_central.order(store, [(store.skus[0], 20)])["order_id"]
    ops: list[dict[str, Any]] = []
    expected: list[tuple[str, str | None]] = []
    fields: list[str | None] = []
    for field, op in hostile_ops(device):
        ops.append(op)
        expected.append(("rejected", "INVALID_OP"))
        fields.append(field)
        ops.append(device.op("pick.scan", scan(store, oid)))
        expected.append(("applied", None))
        fields.append(None)
    for n, op in enumerate(ops, start=1):  # the ops were made out of order above
        op["seq"] = n
    body = ok(device.push_raw(ops))
    assert codes(body["results"]) == expected
    assert body["next_expected_seq"] == len(ops) + 1
    for told, result in zip(fields, body["results"], strict=True):
        if told is not None:
            assert told in result["message"], result
            assert "\x00" not in result["message"] and len(result["message"]) <= 500
    assert any_central.get_order(oid)["lines"][0]["picked"] == len(hostile_ops(device))
    assert exception_codes(any_central, store).count("INVALID_OP") == len(hostile_ops(device))
    # and a retry of the whole push changes nothing
    again = ok(device.push_raw(ops))
    assert {r["status"] for r in again["results"]} == {"duplicate"}


@pytest.mark.parametrize(
    "body",
    [
        {"ops": [{"seq": 1, "type": "order.claim"}]},
        {"ops": [{"op_id": "not-a-uuid", "seq": 1}]},
        {"ops": [{"op_id": str(uuid.uuid4())}]},
        {"ops": [{"op_id": str(uuid.uuid4()), "seq": "first"}]},
        {"ops": [{"op_id": str(uuid.uuid4()), "seq": 1, "device_id": "D-someone-else"}]},
    ],
    ids=["no-op_id", "op_id-not-a-uuid", "no-seq", "seq-not-a-number", "other-device"],
)
def test_an_op_without_a_usable_op_id_seq_or_device_is_still_a_422(
    device: RawDevice, body: dict[str, Any]
) -> None:
    r = device.http.post("/v1/sync/push", json={"device_id": device.device_id, **body})
    assert r.status_code == 422
    assert r.json()["code"] == "INVALID_REQUEST"
    assert r.json()["message"]


def test_an_actor_id_no_column_can_hold_is_refused_at_once_and_the_queue_moves_on(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    oid = any_central.order(store, [(store.skus[0], 1)])["order_id"]
    odd = device.op("order.claim", {"order_id": oid}, actor="E1\x00; DROP TABLE staff")
    body = ok(device.push_raw([odd, device.op("order.claim", {"order_id": oid})]))
    [refused, claimed] = body["results"]
    assert refused["status"] == "rejected" and refused["code"] in {"FORBIDDEN", "INVALID_OP"}
    assert "\x00" not in refused["message"]
    assert (claimed["status"], body["next_expected_seq"]) == ("applied", 3)


# --- quarantine can never fail ---------------------------------------------------------------


def test_an_op_that_keeps_failing_is_quarantined_even_when_dated_in_year_1(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    from sqlalchemy import update

    from central.db.engine import make_engine
    from central.db.tables import orders

    broken = any_central.order(store, [(store.skus[0], 1)])["order_id"]
    fine = any_central.order(store, [(store.skus[1], 1)])["order_id"]
    engine = make_engine(any_central.server.database_url)
    with engine.begin() as conn:  # a row no rule can read: every apply raises
        conn.execute(
            update(orders).where(orders.c.order_id == broken).values(data={"garbage": True})
        )
    engine.dispose()
    failing = {
        **device.op("order.claim", {"order_id": broken}),
        "occurred_at": "0001-01-01T00:00:00+05:00",
    }
    for attempt in (1, 2):
        body = ok(device.push_raw([failing]))
        assert (body["results"], body["next_expected_seq"]) == ([], 1), attempt
    body = ok(device.push_raw([failing]))
    assert codes(body["results"]) == [("rejected", "QUARANTINED")]
    assert codes(device.push(device.op("order.claim", {"order_id": fine}))) == [("applied", None)]
    assert "QUARANTINED" in exception_codes(any_central, store)


def test_the_documented_push_body_admits_an_op_that_names_only_its_op_id_and_seq(
    central: Central,
) -> None:
    schemas = ok(central.oms.get("/openapi.json"))["components"]["schemas"]
    ops = schemas["PushRequest"]["properties"]["ops"]["items"]
    refs = [option["$ref"].rsplit("/", 1)[1] for option in ops["anyOf"]]
    assert refs == ["RawEnvelope", "LooseEnvelope"]
    assert set(schemas["LooseEnvelope"]["required"]) == {"op_id", "seq"}
    assert schemas["LooseEnvelope"].get("additionalProperties", True) is True
    assert set(schemas["RawEnvelope"]["required"]) >= {"op_id", "seq", "type", "payload"}


def test_a_reused_op_id_is_told_as_such_even_when_its_op_would_fail(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    from sqlalchemy import update

    from central.db.engine import make_engine
    from central.db.tables import orders

    fine = any_central.order(store, [(store.skus[0], 1)])["order_id"]
    broken = any_central.order(store, [(store.skus[1], 1)])["order_id"]
    engine = make_engine(any_central.server.database_url)
    with engine.begin() as conn:  # a row no rule can read: every apply raises
        conn.execute(
            update(orders).where(orders.c.order_id == broken).values(data={"garbage": True})
        )
    engine.dispose()
    first = device.op("order.claim", {"order_id": fine})
    assert codes(device.push(first)) == [("applied", None)]
    again = {**device.op("order.claim", {"order_id": broken}), "op_id": first["op_id"]}
    body = ok(device.push_raw([again]))
    assert codes(body["results"]) == [("rejected", "OP_ID_REUSED")]
    assert body["next_expected_seq"] == 3
