"""The tablet applies every op of the catalogue through its document kind, and keeps showing
what a person did until central answers: a pull of central's documents as they were (without
the pending ops) rebuilds every screen row as that document plus the pending ops, and nothing
a person did is lost.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from storeapp.local import LocalStore
from storeapp.local._kinds import KINDS
from sync.protocol import OPS, Document
from tests.storeapp.builders import (
    STORE,
    T0,
    Feed,
    count_doc,
    gtin14_of,
    order_doc,
    sold_order_doc,
    store_doc,
    task_doc,
)

# one gesture after another (actor, op type, payload) on the world `_world` makes
LINE = {"order_id": "W-1", "line_id": "1"}
SCAN = {**LINE, "gtin": gtin14_of("DOG2")}
RETURN = {
    "return_id": "R1",
    "order_id": "W-9",
    "lines": [
        {
            "line_id": "1",
            "qty": 1,
            "reason": "changed_mind",
            "condition": "sellable",
            "disposition": "restock",
        }
    ],
}
COUNTED = {
    "count_id": "C-NEW",
    "task_id": "T-1",
    "sku": "DOG12",
    "location": "A-14",
    "qty": 3,
    "counted_at": "2025-03-03T09:00:00Z",
}
Step = tuple[str, str, dict[str, Any]]
CHAINS: dict[str, list[Step]] = {
    "pickup": [
        ("E1", "order.claim", {"order_id": "W-1"}),
        ("E1", "pick.scan", SCAN),
        ("E1", "pick.unscan", {**LINE, "qty": 1}),
        ("E1", "pick.scan", SCAN),
        ("E1", "order.stage", {"order_id": "W-1", "staging_location": "STAGE-1", "packages": 1}),
        ("E1", "order.notify", {"order_id": "W-1"}),
        ("E1", "order.contact", {"order_id": "W-1", "email": "new@example.com"}),
        (
            "E1",
            "order.handoff",
            {
                "order_id": "W-1",
                "verified_by": "pickup_code",
                "lines": [{"line_id": "1", "qty": 1}],
            },
        ),
    ],
    "shipping": [
        ("E1", "order.claim", {"order_id": "W-2"}),
        ("E1", "pick.scan", {"order_id": "W-2", "line_id": "1", "gtin": gtin14_of("DOG2")}),
        ("E1", "order.stage", {"order_id": "W-2", "staging_location": "STAGE-2", "packages": 1}),
        ("E1", "order.ship", {"order_id": "W-2", "carrier": "DHL", "tracking": "123456"}),
    ],
    "short and reject": [
        ("E1", "order.claim", {"order_id": "W-1"}),
        ("E1", "pick.short", {**LINE, "qty": 1, "reason": "not_found"}),
        ("E1", "order.reject", {"order_id": "W-1", "reason": "Shelf empty"}),
    ],
    "line reject": [
        ("E1", "order.claim", {"order_id": "W-2"}),
        ("E1", "line.reject", {"order_id": "W-2", "line_id": "1", "qty": 1, "code": "damaged"}),
    ],
    "manager": [
        ("M1", "order.assign", {"order_id": "W-1", "associate_id": "E1"}),
        ("E1", "order.release", {"order_id": "W-1"}),
        ("M1", "order.prioritize", {"order_id": "W-1", "priority": 5}),
    ],
    "returns": [
        ("E1", "return.receive", RETURN),
        ("M1", "return.override", {"return_id": "R1", "reason": "Customer kept the receipt"}),
    ],
    "counts and tasks": [
        ("E1", "count.record", COUNTED),
        ("M1", "count.approve", {"count_id": "C-1"}),
        ("M1", "count.recount", {"count_id": "C-2"}),
        ("E2", "task.done", {"task_id": "T-2"}),
    ],
    "listed only": [
        (
            "M1",
            "stock.adjust",
            {"sku": "DOG2", "location": "A-12", "delta": 1, "reason": "Found one"},
        ),
        ("M1", "exception.resolve", {"exception_id": "X-1", "note": "Checked the shelf"}),
        (
            "M1",
            "transfer.create",
            {"transfer_id": "TR-1", "destination": "S-2", "lines": [{"sku": "DOG2", "qty": 1}]},
        ),
    ],
    "receiving": [
        ("E1", "inbound.carton", {"shipment_id": "S-1", "sscc": "376123450000000016"}),
        ("E1", "inbound.count", {"shipment_id": "S-1", "sku": "DOG2", "qty": 1, "damaged": 1}),
        ("E1", "inbound.close", {"shipment_id": "S-1"}),
    ],
    "count plan": [
        (
            "M1",
            "countplan.create",
            {
                "plan_id": "P-1",
                "name": "Aisle A",
                "by": "location_range",
                "location_from": "A-01",
                "location_to": "A-14",
                "due_at": (T0 + timedelta(days=1)).isoformat(),
            },
        ),
    ],
}
INBOUND = {
    "shipment_id": "S-1",
    "store_id": STORE,
    "source": "dc",
    "lines": [{"sku": "DOG2", "expected": 4, "name": "Dog food 2 kg", "location": "A-12"}],
    "cartons": [{"sscc": "376123450000000016", "lines": [{"sku": "DOG2", "qty": 4}]}],
    "announced_at": "2025-03-03T08:00:00Z",
}


def _world() -> list[tuple[str, str, dict[str, Any]]]:
    """Central's documents the chains act on (kind, id, data)."""
    return [
        ("store", STORE, store_doc()),  # a store change re-folds every document
        ("order", "W-1", order_doc("W-1", [("1", "DOG2", 1)], pickup_code="K7")),
        ("order", "W-2", order_doc("W-2", [("1", "DOG2", 1)], type="ship_from_store")),
        ("order", "W-9", sold_order_doc("W-9", [("1", "DOG2", 2)], sold_ago=timedelta(days=45))),
        ("count", "C-1", count_doc("C-1", "DOG2", 20, 5)),
        ("count", "C-2", count_doc("C-2", "CAT1", 30, 5)),
        ("task", "T-1", task_doc("T-1", "count", "DOG12", "A-14")),
        ("task", "T-2", task_doc("T-2")),
        ("exception", "X-1", {"exception_id": "X-1", "state": "open", "kind": "short"}),
        ("inbound", "S-1", INBOUND),
    ]


def _central_sends_its_documents_again(store: LocalStore, feed: Feed) -> None:
    """A pull with central's documents as they were (it has not applied the pending ops)."""
    store.apply_pull(feed.page(*(feed.change(kind, id_, data) for kind, id_, data in _world())))


def _seen(store: LocalStore) -> tuple[Any, ...]:
    """What the screens show of the world's documents."""
    return (
        [o.model_dump() for o in store.orders(["W-1", "W-2", "W-9"])],
        store.returns_of("W-9"),
        [store.get_count(c) for c in ("C-1", "C-2", "C-NEW")],
        store.tasks(open_only=False),
        [x.model_dump() for x in store.inbounds()],
        store.count_plans(T0),
    )


def test_every_document_kind_of_the_catalogue_has_a_local_apply_step() -> None:
    assert {spec.document for spec in OPS.values()} <= set(KINDS)
    assert set(KINDS) == set(Document)


def test_the_chains_act_every_op_type_of_the_catalogue() -> None:
    assert {op_type for chain in CHAINS.values() for _, op_type, _ in chain} == set(OPS)


@pytest.mark.parametrize("chain", list(CHAINS))
def test_every_pending_op_folds_or_is_listed_after_a_pull(
    store: LocalStore, feed: Feed, chain: str
) -> None:
    _central_sends_its_documents_again(store, feed)
    for actor, op_type, payload in CHAINS[chain]:
        before = _seen(store)
        got = store.act(actor, op_type, payload, T0 + timedelta(minutes=1))
        assert got.queued and got.ok, f"{op_type}: {got}"
        shown = _seen(store)
        assert op_type in [op.type for op in store.outbox()]
        if OPS[op_type].document in (Document.STOCK, Document.EXCEPTION, Document.TRANSFER):
            assert shown == before, f"{op_type} changed a screen before central answered"
        else:
            assert shown != before, f"{op_type} showed nothing of what was done"
        _central_sends_its_documents_again(store, feed)  # every row is rebuilt from the fold
        assert _seen(store) == shown, f"{op_type}: a pull undid what the tablet showed"
