"""One validation boundary: whatever a client or the OMS sends, central answers the same on
SQLite and PostgreSQL, with `{code, message}`, and stores only what every tablet can load."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.central import Central, TestStore, ok
from tests.support.device import RawDevice
from tests.support.faults import FaultyTransport
from tests.support.tablet import enroll_tablet


def order_body(store: TestStore, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "order_id": f"W-{uuid.uuid4().hex[:8]}",
        "store_id": store.store_id,
        "type": "pickup",
        "customer": {"name": "Olivia Brown", "email": "o@example.com", "phone": "+44 1"},
        "due_at": (datetime.now(UTC) + timedelta(hours=2)).isoformat(),
        "lines": [{"line_id": "1", "sku": store.skus[0], "qty": 1, "price": "4.99"}],
    }
    return {**body, **changes}


def item_body(sku: str, **changes: Any) -> dict[str, Any]:
    from tests.support.central import gtin

    n = int(uuid.uuid4().int % 10**8)
    body = {"sku": sku, "gtins": [gtin(n)], "name": "Tea", "price": "1.00", "location": "B-1"}
    return {**body, **changes}


def refused(response: httpx.Response, field: str | None = None) -> dict[str, Any]:
    """A 422 INVALID_REQUEST in words (naming `field` when given)."""
    assert response.status_code == 422, f"{response.status_code}: {response.text[:300]}"
    body = response.json()
    assert body["code"] == "INVALID_REQUEST"
    assert body["message"]
    if field is not None:
        assert field in body["message"], body["message"]
    return dict(body)


# --- datetimes and numbers every database and every tablet can hold ---------------------


@pytest.mark.parametrize(
    "due_at",
    ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "1970-01-01T00:00:00Z"],
)
def test_an_order_due_outside_the_business_range_is_refused_and_nothing_is_stored(
    any_central: Central, store: TestStore, due_at: str
) -> None:
    body = order_body(store, due_at=due_at)
    refused(any_central.oms.post("/v1/oms/orders", json=body), "due_at")
    assert any_central.oms.get(f"/v1/oms/orders/{body['order_id']}").status_code == 404


@pytest.mark.parametrize("raw", [b"Infinity", b"1e999", b"100000"])
def test_a_store_policy_with_an_infinite_or_absurd_variance_is_refused(
    any_central: Central, raw: bytes
) -> None:
    store_id = f"S{uuid.uuid4().hex[:6]}"
    body = b'{"name": "Store", "policy": {"variance_pct": ' + raw + b"}}"
    r = any_central.oms.put(
        f"/v1/oms/stores/{store_id}",
        content=body,
        headers={"Content-Type": "application/json"},
    )
    refused(r, "variance_pct")
    assert any_central.oms.post(f"/v1/oms/stores/{store_id}/enrollment-codes").status_code == 404


def test_numbers_over_a_32_bit_column_are_refused(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    r = any_central.oms.put(
        f"/v1/oms/stores/{store.store_id}/items",
        json=[item_body("BIG", location_seq=2**31)],
    )
    refused(r, "location_seq")
    r = device.http.post("/v1/sync/pull", json={"status": {"pending": 2**31}})
    refused(r, "pending")


def test_extremes_central_accepts_load_on_a_tablet(
    any_central: Central, store: TestStore, tmp_path: Path
) -> None:
    """What central stores, every tablet can load: the largest accepted values, through a
    real sync, end in the tablet's pick queue."""
    ok(
        any_central.oms.put(
            f"/v1/oms/stores/{store.store_id}",
            json={
                "name": "N" * 120,
                "timezone": "Pacific/Kiritimati",
                "policy": {"variance_pct": 1000, "variance_units": 100_000},
            },
        )
    )
    ok(
        any_central.oms.put(
            f"/v1/oms/stores/{store.store_id}/items",
            json=[
                item_body(
                    "X" * 64,
                    name="N" * 200,
                    location="L" * 40,
                    location_seq=2**31 - 1,
                    price="9999999999.99",
                    image_url="https://example.com/" + "i" * 2000,
                )
            ],
        )
    )
    released = []
    for due_at in ("2199-12-31T23:59:59-00:00", "2000-01-01T00:00:00+00:00"):
        body = order_body(
            store,
            due_at=due_at,
            priority=9,
            lines=[{"line_id": "1" * 64, "sku": "X" * 64, "qty": 9999}],
        )
        released.append(ok(any_central.oms.post("/v1/oms/orders", json=body))["order_id"])
    transport = FaultyTransport()
    try:
        tablet = enroll_tablet(any_central, store.store_id, tmp_path / "t.db", transport, "t")
        report = tablet.sync()
    finally:
        transport.shutdown()
    assert (report.ok, report.error_in_words) == (True, None)
    with tablet.hands("E1", "1111") as ana:
        rows = ana.queue.screen().rows
    assert sorted(row.order_id for row in rows) == sorted(released)


# --- strings: no NUL or control character, bounded like their column --------------------


def _bodies(store: TestStore) -> list[tuple[str, str, str, Any]]:
    """(method, path, field named in the answer, json) with one bad string each."""
    s = store.store_id
    nul = "A\x00B"
    order = order_body(store)
    return [
        ("post", "/v1/oms/orders", "order_id", {**order, "order_id": nul}),
        (
            "post",
            "/v1/oms/orders",
            "lines.0.line_id",
            {**order, "lines": [{**order["lines"][0], "line_id": nul}]},
        ),
        (
            "post",
            "/v1/oms/orders",
            "lines.0.sku",
            {**order, "lines": [{**order["lines"][0], "sku": nul}]},
        ),
        ("post", "/v1/oms/orders", "customer.name", {**order, "customer": {"name": nul}}),
        ("post", "/v1/oms/orders", "pickup_code", {**order, "pickup_code": "AB\x00CD"}),
        ("put", f"/v1/oms/stores/{s}/items", "0.sku", [item_body(nul)]),
        ("put", f"/v1/oms/stores/{s}/items", "0.name", [item_body("N1", name=nul)]),
        ("put", f"/v1/oms/stores/{s}/items", "0.location", [item_body("N1", location=nul)]),
        (
            "put",
            f"/v1/oms/stores/{s}/staff",
            "0.employee_id",
            [{"employee_id": nul, "name": "Al", "role": "associate", "pin": "1234"}],
        ),
        (
            "put",
            f"/v1/oms/stores/{s}/staff",
            "0.name",
            [{"employee_id": "E9", "name": nul, "role": "associate", "pin": "1234"}],
        ),
        ("post", f"/v1/oms/stores/{s}/stock", "0.sku", [{"sku": nul, "location": "A", "qty": 1}]),
        ("put", f"/v1/oms/stores/{s}", "name", {"name": nul}),
        ("put", f"/v1/oms/stores/{s}", "timezone", {"name": "x", "timezone": "Europe/\x00London"}),
        ("put", f"/v1/oms/stores/{s}", "name", {"name": "new\nline"}),
    ]


def test_a_nul_or_control_character_in_any_id_or_name_is_a_422_and_nothing_is_written(
    any_central: Central, store: TestStore
) -> None:
    for method, path, field, body in _bodies(store):
        r = any_central.oms.request(method, path, json=body)
        refused(r, field)
    assert (
        any_central.oms.get(f"/v1/oms/stores/{store.store_id}/stock", params={"sku": "N1"}).json()
        == []
    )


def test_a_nul_in_a_device_name_app_version_or_cursor_is_a_422(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    code = any_central.enroll_code(store.store_id)
    enroll = f"{any_central.url}/v1/devices/enroll"
    refused(httpx.post(enroll, json={"code": code, "device_name": "tab\x00let"}), "device_name")
    refused(
        httpx.post(enroll, json={"code": code, "device_name": "t", "app_version": "1\x00"}),
        "app_version",
    )
    ok(httpx.post(enroll, json={"code": code, "device_name": "t"}))  # the code was not used up
    refused(device.http.post("/v1/sync/pull", json={"cursor": "\x00"}), "cursor")
    refused(device.http.post("/v1/sync/pull", json={"status": {"app_version": "\x00"}}))


@pytest.mark.parametrize(
    "path",
    [
        "/v1/oms/orders/W%00X",
        "/v1/oms/stores/S%00/stock",
        "/v1/oms/stores/S1/stock?sku=A%00B",
        "/v1/oms/stores/S1/returns?order_id=%01",
        "/v1/oms/stores/S1/counts?sku=%7F",
    ],
)
def test_a_control_character_in_the_path_or_query_is_a_422(any_central: Central, path: str) -> None:
    r = refused(any_central.oms.get(path))
    assert "control characters" in r["message"]


def test_ids_longer_than_their_column_are_a_422(any_central: Central, store: TestStore) -> None:
    long_store = "S" * 65
    refused(any_central.oms.put(f"/v1/oms/stores/{long_store}", json={"name": "x"}), "store_id")
    refused(any_central.oms.post(f"/v1/oms/stores/{long_store}/enrollment-codes"), "store_id")
    refused(any_central.oms.get(f"/v1/oms/orders/{'W' * 65}"), "order_id")
    refused(
        any_central.oms.get(f"/v1/oms/stores/{store.store_id}/ledger", params={"sku": "K" * 65}),
        "sku",
    )


def test_a_huge_or_unknown_time_zone_is_refused_and_a_real_one_is_kept(
    any_central: Central, store: TestStore
) -> None:
    path = f"/v1/oms/stores/{store.store_id}"
    for zone in ("Z" * 60_000, "Mars/Olympus_Mons", "../../etc/passwd", "/etc/localtime", ""):
        refused(any_central.oms.put(path, json={"name": "x", "timezone": zone}), "timezone")
    assert (
        ok(any_central.oms.put(path, json={"name": "x", "timezone": "America/Sao_Paulo"}))[
            "timezone"
        ]
        == "America/Sao_Paulo"
    )


def test_a_huge_app_version_is_refused_at_enrollment_and_on_pull(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    code = any_central.enroll_code(store.store_id)
    r = httpx.post(
        f"{any_central.url}/v1/devices/enroll",
        json={"code": code, "device_name": "t", "app_version": "9" * 60_000},
    )
    refused(r, "app_version")
    refused(device.http.post("/v1/sync/pull", json={"status": {"app_version": "9" * 41}}))


def test_an_op_with_a_nul_in_its_order_id_is_rejected_at_once_on_both_databases(
    any_central: Central, device: RawDevice
) -> None:
    result = device.push_one("order.claim", {"order_id": "W\x00"})
    assert (result["status"], result["code"]) == ("rejected", "INVALID_OP")
    assert "order_id" in result["message"]


# --- image URLs -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("javascript:alert(1)//" + "a" * 100_000, id="javascript-100k"),
        pytest.param("javascript:alert(1)", id="javascript"),
        pytest.param("data:image/png;base64,AAAA", id="data"),
        pytest.param("https://example.com/" + "a" * 2048, id="https-over-2048"),
        pytest.param("https://exa mple.com/x.png", id="space"),
        pytest.param("//example.com/x.png", id="no-scheme"),
    ],
)
def test_only_an_http_or_https_image_url_up_to_2048_characters_is_kept(
    any_central: Central, store: TestStore, url: str
) -> None:
    path = f"/v1/oms/stores/{store.store_id}/items"
    refused(any_central.oms.put(path, json=[item_body("IMG", image_url=url)]), "image_url")
    good = "https://cdn.example.com/img/tea.png"
    assert ok(any_central.oms.put(path, json=[item_body("IMG", image_url=good)])) == {"upserted": 1}


# --- body size, on the stream ---------------------------------------------------------


def _chunks(head: bytes, row: bytes, total: int, sent: list[int]) -> Iterator[bytes]:
    """`head` then `row,` repeated in 64 KiB chunks until `total` bytes: a chunked upload
    (no Content-Length); `sent` counts what the client got to send."""
    yield head
    chunk = (row + b",") * max(1, 65536 // (len(row) + 1))
    size = len(head)
    while size < total:
        sent.append(len(chunk))
        size += len(chunk)
        yield chunk
    yield row + b"]}"


def test_a_chunked_20_mb_push_is_413_at_once_and_nothing_is_stored(
    any_central: Central, device: RawDevice
) -> None:
    op = device.op("task.done", {"task_id": "T-1", "note": "x" * 40_000, "padding": "y" * 10_000})
    head = json.dumps({"device_id": device.device_id, "ops": []})[:-2].encode()
    sent: list[int] = []
    started = time.monotonic()
    r = device.http.post(
        "/v1/sync/push",
        content=_chunks(head, json.dumps(op).encode(), 20 * 1024 * 1024, sent),
        headers={"Content-Type": "application/json"},
    )
    elapsed = time.monotonic() - started
    assert r.status_code == 413
    assert r.json()["code"] == "BATCH_TOO_LARGE"
    assert elapsed < 5
    assert ok(device.push_raw([]))["next_expected_seq"] == 1  # not one op was applied


def test_a_chunked_20_mb_items_list_is_413_at_once_and_nothing_is_stored(
    any_central: Central, store: TestStore
) -> None:
    rows = item_body("NEW-1", name="n" * 190)
    sent: list[int] = []
    started = time.monotonic()
    r = any_central.oms.put(
        f"/v1/oms/stores/{store.store_id}/items",
        content=_chunks(b"[", json.dumps(rows).encode(), 20 * 1024 * 1024, sent),
        headers={"Content-Type": "application/json"},
    )
    elapsed = time.monotonic() - started
    assert (r.status_code, r.json()["code"]) == (413, "BODY_TOO_LARGE")
    assert elapsed < 5
    stock = any_central.oms.post(
        f"/v1/oms/stores/{store.store_id}/stock",
        json=[{"sku": "NEW-1", "location": "B-1", "qty": 1}],
    )
    refused(stock)  # NEW-1 is not in the catalogue: nothing of the list was written


def test_a_small_call_with_a_declared_huge_body_is_413_without_reading_it(
    any_central: Central, store: TestStore
) -> None:
    r = any_central.oms.put(
        f"/v1/oms/stores/{store.store_id}",
        content=json.dumps({"name": "x" * 70_000}).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert (r.status_code, r.json()["code"]) == (413, "BODY_TOO_LARGE")


# --- every error in words ---------------------------------------------------------------


def test_a_body_that_is_not_utf8_is_a_422_in_words(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    latin1 = '{"name": "Caf\u00e9"}'.encode("latin-1")
    for r in (
        any_central.oms.put(f"/v1/oms/stores/{store.store_id}", content=latin1),
        httpx.post(f"{any_central.url}/v1/devices/enroll", content=b'{"code": "\xff"}'),
        device.http.post("/v1/sync/push", content=b'{"device_id": "\xe9"}'),
    ):
        assert refused(r)["message"] == "The body is not UTF-8 JSON"


def test_a_body_too_deep_to_parse_is_a_422_not_a_400(
    any_central: Central, store: TestStore
) -> None:
    r = any_central.oms.put(
        f"/v1/oms/stores/{store.store_id}/items",
        content=b"[" * 50_000 + b"]" * 50_000,
        headers={"Content-Type": "application/json"},
    )
    assert refused(r)["message"] == "The body is not valid JSON"


def test_an_unexpected_error_is_a_500_in_json_without_the_customer_s_data(
    any_central: Central, store: TestStore, caplog: pytest.LogCaptureFixture
) -> None:
    from sqlalchemy import update

    from central.db.engine import make_engine
    from central.db.tables import orders

    oid = any_central.order(store, [(store.skus[0], 1)])["order_id"]
    engine = make_engine(any_central.server.database_url)
    with engine.begin() as conn:  # an order row the rules cannot read, naming its customer
        data = conn.execute(orders.select().where(orders.c.order_id == oid)).one().data
        data["customer"]["name"] = ["Olivia Brown"]
        conn.execute(update(orders).where(orders.c.order_id == oid).values(data=data))
    engine.dispose()
    with caplog.at_level(logging.INFO):
        r = any_central.oms.get(f"/v1/oms/orders/{oid}")
    assert r.status_code == 500
    assert r.headers["content-type"] == "application/json"
    assert r.json()["code"] == "INTERNAL"
    assert "Olivia" not in r.text and "Traceback" not in r.text
    assert "Olivia" not in caplog.text
    assert "internal_error" in caplog.text


# --- the OpenAPI document lists every status ---------------------------------------------

ERROR_BODY = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}


def test_every_operation_documents_every_status_it_can_answer(any_central: Central) -> None:
    doc = httpx.get(f"{any_central.url}/openapi.json").json()
    gaps = {}
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            wanted = {"413", "422", "500"}  # any request: its address and body are checked
            if path != "/v1/health":
                wanted.add("503")  # the database
            if operation.get("security") or path.startswith(("/v1/sync", "/v1/oms")):
                wanted |= {"401", "403"}
            if path == "/v1/devices/enroll":
                wanted.add("401")  # a wrong, used or expired code
            responses = operation["responses"]
            lacking = sorted(wanted - set(responses))
            not_error_body = sorted(
                s for s, r in responses.items() if s[0] in "45" and r.get("content") != ERROR_BODY
            )
            if lacking or not_error_body:
                gaps[f"{method.upper()} {path}"] = (lacking, not_error_body)
    assert gaps == {}
    assert "401" in doc["paths"]["/v1/sync/snapshot"]["get"]["responses"]


@pytest.mark.parametrize("at", ["0001-01-01T00:00:00+05:00", "1970-01-01T00:00:00Z"])
def test_a_tablet_whose_clock_is_absurd_still_pulls_and_its_oldest_change_is_left_out(
    any_central: Central, device: RawDevice, at: str
) -> None:
    status = {"pending": 3, "oldest_pending_at": at}
    ok(device.http.post("/v1/sync/pull", json={"status": status}))
    (me,) = [
        d for d in ok(device.http.get("/v1/sync/devices")) if d["device_id"] == device.device_id
    ]
    assert (me["pending"], me["oldest_pending_at"]) == (3, None)


def test_a_client_that_goes_away_mid_push_is_not_logged_as_an_error(
    any_central: Central, device: RawDevice, caplog: pytest.LogCaptureFixture
) -> None:
    import socket

    head = (
        "POST /v1/sync/push HTTP/1.1\r\nHost: central\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {device.token}\r\nContent-Length: 1000\r\n\r\n"
    )
    with caplog.at_level(logging.INFO):
        with socket.create_connection(("127.0.0.1", any_central.server.port)) as raw:
            raw.sendall(head.encode() + b'{"device_id": ')
            time.sleep(0.3)
        time.sleep(0.5)
        assert ok(device.push_raw([]))["next_expected_seq"] == 1
    assert "internal_error" not in caplog.text
