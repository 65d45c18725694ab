"""/openapi.json describes what central really accepts and answers."""

from __future__ import annotations

import json

import httpx

from tests.support.central import Central

PROTOCOL_PATHS = {
    ("post", "/v1/devices/enroll"),
    ("post", "/v1/sync/push"),
    ("post", "/v1/sync/pull"),
    ("get", "/v1/sync/snapshot"),
    ("get", "/v1/sync/events"),
    ("put", "/v1/oms/stores/{store_id}"),
    ("put", "/v1/oms/stores/{store_id}/items"),
    ("post", "/v1/oms/stores/{store_id}/stock"),
    ("put", "/v1/oms/stores/{store_id}/staff"),
    ("post", "/v1/oms/stores/{store_id}/enrollment-codes"),
    ("post", "/v1/oms/orders"),
    ("post", "/v1/oms/orders/{order_id}/cancel"),
    ("get", "/v1/oms/orders/{order_id}"),
    ("get", "/v1/oms/stores/{store_id}/stock"),
    ("get", "/v1/oms/stores/{store_id}/ledger"),
    ("get", "/v1/oms/stores/{store_id}/returns"),
    ("get", "/v1/oms/stores/{store_id}/counts"),
    ("get", "/v1/oms/stores/{store_id}/exceptions"),
}


def test_every_path_of_the_protocol_is_documented(central: Central) -> None:
    doc = httpx.get(f"{central.url}/openapi.json").json()
    documented = {(m, p) for p, ops in doc["paths"].items() for m in ops}
    assert PROTOCOL_PATHS <= documented


def test_every_documented_422_is_the_error_body_the_server_sends(central: Central) -> None:
    doc = httpx.get(f"{central.url}/openapi.json").json()
    refs = {
        json.dumps(op["responses"]["422"]["content"])
        for ops in doc["paths"].values()
        for op in ops.values()
        if "422" in op["responses"]
    }
    assert refs == {
        json.dumps({"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}})
    }
    r = central.oms.put("/v1/oms/stores/S9", json={"name": "x", "surprise": 1})
    assert r.status_code == 422
    assert set(r.json()) == {"code", "message", "errors"}
    assert doc["components"]["schemas"]["StoreIn"]["additionalProperties"] is False


def test_the_typed_op_union_is_documented_for_every_op_type(central: Central) -> None:
    from sync.protocol import PAYLOADS

    schemas = httpx.get(f"{central.url}/openapi.json").json()["components"]["schemas"]
    mapping = schemas["Op"]["discriminator"]["mapping"]
    assert set(mapping) == set(PAYLOADS)
