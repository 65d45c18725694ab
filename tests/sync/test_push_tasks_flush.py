"""A push whose ops make follow-up tasks and also close one of them in the same request
(found by the offline-day fault drill, tests/drills/test_offline_day.py)."""

from __future__ import annotations

from tests.support.central import Central, ok
from tests.support.device import RawDevice


def test_a_push_that_cancels_a_restock_it_made_and_opens_another_task_is_applied(
    central: Central,
) -> None:
    store = central.new_store()
    cancelled = central.order(store, [(store.skus[0], 1)])["order_id"]
    other = central.order(store, [(store.skus[1], 2)])["order_id"]
    tablet = RawDevice(central, store)
    try:
        # offline: both orders picked; the first was cancelled by the OMS meanwhile
        ops = [tablet.op("order.claim", {"order_id": oid}) for oid in (cancelled, other)]
        ok(central.oms.post(f"/v1/oms/orders/{cancelled}/cancel", json={"reason": "fraud"}))
        scan = {"order_id": cancelled, "line_id": "1", "gtin": store.gtins[store.skus[0]], "qty": 1}
        ops.append(tablet.op("pick.scan", scan))  # → a restock task
        stage = {"order_id": cancelled, "staging_location": "P-1"}
        ops.append(tablet.op("order.stage", stage))
        done = {"order_id": cancelled, "verified_by": "id", "lines": [{"line_id": "1", "qty": 1}]}
        ops.append(tablet.op("order.handoff", done))  # the sale stands: the restock is moot
        short = {"order_id": other, "line_id": "1", "qty": 2, "reason": "not_found"}
        ops.append(tablet.op("pick.short", short))  # → a recount task, in the same request

        answer = tablet.push_raw(ops)

        assert answer.status_code == 200, answer.text
        results = answer.json()["results"]
        assert [r["seq"] for r in results] == [op["seq"] for op in ops]
        handoff = results[4]
        assert (handoff["status"], handoff["code"]) == ("compensated", "HANDED_OVER_AFTER_CANCEL")
        kinds = {(t["kind"], t["state"]) for t in central.tasks(store)}
        assert kinds == {("restock", "cancelled"), ("recount", "open")}
    finally:
        tablet.close()
