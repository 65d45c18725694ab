"""A central process remembers the documents it wrote and read by their text (so the next
push of the same orders does not read them again, `staging.KNOWN`). What it remembers can
never stand in for a newer version: an order another process changed is read as changed.
Two central processes on one database, as a chain runs them, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from central.service.staging import KnownModels
from tests.support.central import Central, TestStore, ok, running_central
from tests.support.device import RawDevice


def scan(tablet: RawDevice, oid: str, line_id: str, sku: str) -> dict[str, Any]:
    return tablet.op(
        "pick.scan",
        {"order_id": oid, "line_id": line_id, "gtin": tablet.store.gtins[sku], "qty": 1},
    )


def test_an_order_another_process_cancelled_is_read_as_cancelled(
    any_central: Central, store: TestStore
) -> None:
    first, second = store.skus[0], store.skus[1]
    oid = any_central.order(store, [(first, 2), (second, 1)])["order_id"]
    with running_central(any_central.server.database_url, own_process=True) as other:
        tablet = RawDevice(other, store)
        try:
            # the other process writes the order, then reads back what it wrote, twice
            assert tablet.push_one("order.claim", {"order_id": oid})["status"] == "applied"
            assert [r["status"] for r in tablet.push(scan(tablet, oid, "1", first))] == ["applied"]
            assert [r["status"] for r in tablet.push(scan(tablet, oid, "1", first))] == ["applied"]
            # this process cancels it behind the other's back
            ok(any_central.oms.post(f"/v1/oms/orders/{oid}/cancel", json={"reason": "fraud"}))
            result = tablet.push(scan(tablet, oid, "2", second))[0]
        finally:
            tablet.close()
    assert (result["status"], result["code"]) == ("compensated", "ORDER_CANCELLED")
    order = any_central.get_order(oid)
    assert order["state"] == "cancelled"
    assert [line["picked"] for line in order["lines"]] == [2, 0]


class _Doc(BaseModel):
    model_config = ConfigDict(frozen=True)
    doc_id: str


class _Other(_Doc):
    pass


def test_a_process_remembers_documents_within_its_budget_forgetting_the_oldest() -> None:
    known = KnownModels(chars=30)
    docs = [_Doc(doc_id=f"D{n}") for n in range(4)]
    texts = [d.model_dump_json() for d in docs]  # 14 characters each
    for text, doc in zip(texts, docs, strict=True):
        known.put(text, doc)
    assert [known.get(_Doc, t) for t in texts] == [None, None, docs[2], docs[3]]
    assert known.get(_Other, texts[3]) is None  # the same text read as another model
    known.put(texts[3], docs[3])  # remembered again: counted once
    known.put(texts[1], docs[1])
    assert [known.get(_Doc, t) for t in texts] == [None, docs[1], None, docs[3]]
