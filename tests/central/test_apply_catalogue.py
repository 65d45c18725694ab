"""Central applies an op through its catalogue entry (`sync.protocol.OPS`): the apply step of
the document it acts on (`push.APPLY`), one result builder for every kind."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from central.service.push import APPLY
from sync.protocol import OPS, Document
from tests.support.central import Central, TestStore
from tests.support.device import RawDevice


def test_every_document_an_op_acts_on_has_an_apply_step_at_central() -> None:
    acted_on = {spec.document for spec in OPS.values()}
    missing = acted_on - set(APPLY)
    assert not missing, f"no apply step at central for {sorted(missing)}"
    assert set(APPLY) == set(Document), "an apply step for a document no op acts on"


def missing_documents(store: TestStore) -> dict[str, tuple[dict[str, object], str]]:
    """A payload of each op type that names a document this store has not got, and the code
    its document's step answers with."""
    line = {"order_id": "W-NONE", "line_id": "1"}
    place = {"sku": "NO-SUCH-SKU", "location": "A-01-1"}
    return {
        "order.claim": ({"order_id": "W-NONE"}, "UNKNOWN_ORDER"),
        "order.release": ({"order_id": "W-NONE"}, "UNKNOWN_ORDER"),
        "order.stage": ({"order_id": "W-NONE", "staging_location": "S-1"}, "UNKNOWN_ORDER"),
        "order.ship": (
            {"order_id": "W-NONE", "carrier": "DHL", "tracking": "123456"},
            "UNKNOWN_ORDER",
        ),
        "order.handoff": (
            {
                "order_id": "W-NONE",
                "verified_by": "pickup_code",
                "lines": [{"line_id": "1", "qty": 1}],
            },
            "UNKNOWN_ORDER",
        ),
        "order.reject": ({"order_id": "W-NONE", "reason": "Shelf empty"}, "UNKNOWN_ORDER"),
        "order.assign": ({"order_id": "W-NONE", "associate_id": "E1"}, "UNKNOWN_ORDER"),
        "line.reject": ({**line, "qty": 1, "code": "damaged"}, "UNKNOWN_ORDER"),
        "order.notify": ({"order_id": "W-NONE"}, "UNKNOWN_ORDER"),
        "order.contact": ({"order_id": "W-NONE", "email": "a@b.c"}, "UNKNOWN_ORDER"),
        "order.prioritize": ({"order_id": "W-NONE", "priority": 5}, "UNKNOWN_ORDER"),
        "pick.scan": ({**line, "gtin": store.gtins[store.skus[0]]}, "UNKNOWN_ORDER"),
        "pick.unscan": ({**line, "qty": 1}, "UNKNOWN_ORDER"),
        "pick.short": ({**line, "qty": 1, "reason": "not_found"}, "UNKNOWN_ORDER"),
        "return.override": ({"return_id": "R-NONE", "reason": "Kept"}, "UNKNOWN_RETURN"),
        "count.record": (
            {
                **place,
                "count_id": f"C-{uuid.uuid4().hex[:12]}",  # count numbers are unique everywhere
                "qty": 1,
                "counted_at": datetime.now(UTC).isoformat(),
            },
            "UNKNOWN_ITEM",
        ),
        "count.approve": ({"count_id": "C-NONE"}, "UNKNOWN_COUNT"),
        "count.recount": ({"count_id": "C-NONE"}, "UNKNOWN_COUNT"),
        "stock.adjust": ({**place, "delta": 1, "reason": "Found one"}, "UNKNOWN_ITEM"),
        "exception.resolve": ({"exception_id": "X-NONE", "note": "Checked"}, "UNKNOWN_EXCEPTION"),
        "task.done": ({"task_id": "T-NONE"}, "UNKNOWN_TASK"),
        "inbound.count": ({"shipment_id": "S-NONE", "sku": "X", "qty": 1}, "UNKNOWN_SHIPMENT"),
        "inbound.carton": (
            {"shipment_id": "S-NONE", "sscc": "376123450000000016"},
            "UNKNOWN_SHIPMENT",
        ),
        "inbound.close": ({"shipment_id": "S-NONE"}, "UNKNOWN_SHIPMENT"),
        "transfer.create": (
            {
                "transfer_id": "TR-NONE",
                "destination": "NO-STORE",
                "lines": [{"sku": "X", "qty": 1}],
            },
            "UNKNOWN_STORE",
        ),
        "countplan.create": (
            {
                "plan_id": f"P-{uuid.uuid4().hex[:12]}",
                "name": "Nothing",
                "by": "list",
                "skus": ["NO-SUCH-SKU"],
                "due_at": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
            },
            "EMPTY_PLAN",
        ),
    }


def test_each_op_type_reaches_its_document_s_step_and_is_told_what_is_missing(
    store: TestStore, device: RawDevice
) -> None:
    cases = missing_documents(store)
    # return.receive is a fact naming a sale, not a document it needs: it is never "unknown"
    assert set(cases) == set(OPS) - {"return.receive"}
    results = device.push(*(device.op(t, p, actor="M1") for t, (p, _) in cases.items()))
    got = {t: (r["status"], r["code"]) for t, r in zip(cases, results, strict=True)}
    assert got == {t: ("rejected", code) for t, (_, code) in cases.items()}


def test_an_op_of_any_document_dated_in_the_future_is_told_clock_skew(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    sku = store.skus[0]
    oid = any_central.order(store, [(sku, 2)])["order_id"]
    later = datetime.now(UTC) + timedelta(hours=3)
    [claimed, short] = device.push(
        device.op("order.claim", {"order_id": oid}),
        device.op("pick.short", {"order_id": oid, "line_id": "1", "qty": 2, "reason": "not_found"}),
    )
    assert (claimed["status"], short["status"]) == ("applied", "applied"), (claimed, short)
    [task] = any_central.tasks(store, "recount")
    done = device.push_one("task.done", {"task_id": task["task_id"]}, occurred_at=later)
    adjusted = device.push_one(
        "stock.adjust",
        {"sku": sku, "location": store.locations[sku], "delta": 1, "reason": "Found one"},
        actor="M1",
        occurred_at=later,
    )
    assert [(r["status"], r["code"]) for r in (done, adjusted)] == [
        ("applied", "CLOCK_SKEW"),
        ("applied", "CLOCK_SKEW"),
    ]
