"""The OMS attaches a shipping label to a ship-from-store order; the store's tablets get it
by pull, once, as a `label` document (on SQLite and PostgreSQL)."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tests.support.central import Central, TestStore, ok
from tests.support.device import RawDevice

PDF = b"%PDF-1.4\n% a carrier's label\n%%EOF\n"
ZPL = b"^XA^FO50,50^BCN,100^FD1Z999AA10123456784^FS^XZ"


def _label(fmt: str = "pdf", content: bytes = PDF, **extra: Any) -> dict[str, Any]:
    return {"format": fmt, "content_base64": base64.b64encode(content).decode(), **extra}


def _put(central: Central, store_id: str, order_id: str, body: Any) -> Any:
    return central.oms.put(f"/v1/oms/stores/{store_id}/orders/{order_id}/label", json=body)


def _labels(changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [c for c in changes if c["kind"] == "label"]


def test_a_label_reaches_the_store_s_tablets_once_and_a_new_one_replaces_it(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    order = any_central.order(store, [(store.skus[0], 1)], type="ship_from_store")
    device.pull_all()
    answer = ok(_put(any_central, store.store_id, order["order_id"], _label(carrier="UPS")))
    assert (answer["format"], answer["bytes"], answer["carrier"]) == ("pdf", len(PDF), "UPS")
    [change] = _labels(device.pull_all())
    assert change["id"] == order["order_id"]
    assert base64.b64decode(change["data"]["content_base64"]) == PDF
    # the order moving on does not send the label again: pulls stay cheap
    device.push_one("order.claim", {"order_id": order["order_id"]})
    assert _labels(device.pull_all()) == []
    ok(_put(any_central, store.store_id, order["order_id"], _label("zpl", ZPL, tracking="1Z999")))
    [newer] = _labels(device.pull_all())
    assert newer["version"] > change["version"]
    assert (newer["data"]["format"], newer["data"]["tracking"]) == ("zpl", "1Z999")
    assert base64.b64decode(newer["data"]["content_base64"]) == ZPL


def test_a_bad_label_is_refused_in_words_and_nothing_reaches_the_tablets(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    ship = any_central.order(store, [(store.skus[0], 1)], type="ship_from_store")["order_id"]
    pickup = any_central.order(store, [(store.skus[0], 1)])["order_id"]
    elsewhere = any_central.new_store()
    theirs = any_central.order(elsewhere, [(elsewhere.skus[0], 1)], type="ship_from_store")
    device.pull_all()
    s = store.store_id
    cases = [
        (s, ship, {"format": "pdf", "content_base64": "not base64!"}, 422, "INVALID_REQUEST"),
        (s, ship, _label("pdf", b"GIF89a"), 422, "INVALID_REQUEST"),
        (s, ship, _label("zpl", b"hello"), 422, "INVALID_REQUEST"),
        (s, ship, _label("png"), 422, "INVALID_REQUEST"),
        (s, ship, {**_label(), "extra": 1}, 422, "INVALID_REQUEST"),
        (s, ship, _label(carrier="UPS\x00"), 422, "INVALID_REQUEST"),
        (s, pickup, _label(), 409, "WRONG_ORDER_TYPE"),
        (s, theirs["order_id"], _label(), 404, "UNKNOWN_ORDER"),
        ("S-NONE", ship, _label(), 404, "UNKNOWN_STORE"),
        (s, ship, _label(content=b"%PDF-" + b"x" * 2 * 1024 * 1024), 413, "BODY_TOO_LARGE"),
        (s, ship, _label(content=b"%PDF-" + b"x" * 600 * 1024), 422, "INVALID_REQUEST"),
    ]
    for store_id, order_id, body, status, code in cases:
        answer = _put(any_central, store_id, order_id, body)
        assert (answer.status_code, answer.json()["code"]) == (status, code), body.get("format")
        assert answer.json()["message"]
    assert _labels(device.pull_all()) == []


def test_a_device_token_cannot_attach_a_label(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    order = any_central.order(store, [(store.skus[0], 1)], type="ship_from_store")
    url = f"/v1/oms/stores/{store.store_id}/orders/{order['order_id']}/label"
    assert device.http.put(url, json=_label()).status_code == 403


@pytest.mark.parametrize("fmt, content", [("pdf", PDF), ("zpl", ZPL)])
def test_the_label_s_answer_names_what_was_stored(
    any_central: Central, store: TestStore, fmt: str, content: bytes
) -> None:
    order = any_central.order(store, [(store.skus[0], 1)], type="ship_from_store")
    answer = ok(_put(any_central, store.store_id, order["order_id"], _label(fmt, content)))
    assert answer["order_id"] == order["order_id"] and answer["store_id"] == store.store_id
    assert answer["bytes"] == len(content) and "content_base64" not in answer
