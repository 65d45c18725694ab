"""Count plans, the money threshold and the counts CSV at central (issue #12), on SQLite and
PostgreSQL: a manager's `countplan.create` becomes blind count tasks a tablet pulls; what
central made is read back through pull and the OMS API."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

from fulfillment.plans import CountPlan, progress
from tests.support.central import Central, TestStore, ok
from tests.support.device import RawDevice

DUE = datetime.now(UTC) + timedelta(days=2)


def plan(
    device: RawDevice, plan_id: str, by: str, actor: str = "M1", **fields: Any
) -> dict[str, Any]:
    payload = {"plan_id": plan_id, "name": f"Plan {plan_id}", "by": by, "due_at": DUE.isoformat()}
    return device.push_one("countplan.create", {**payload, **fields}, actor=actor)


def docs(device: RawDevice) -> dict[tuple[str, str], dict[str, Any]]:
    return {(c["kind"], c["id"]): c["data"] for c in device.pull_all()}


def count(
    device: RawDevice, sku: str, qty: int, location: str, task_id: str | None = None
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "count_id": f"C-{sku}-{datetime.now(UTC):%H%M%S%f}",
        "sku": sku,
        "location": location,
        "qty": qty,
        "counted_at": datetime.now(UTC).isoformat(),
        "task_id": task_id,
    }
    return device.push_one("count.record", payload, actor="E1")


def test_a_plan_by_aisle_range_makes_blind_count_tasks_shared_and_due_and_shows_progress(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    got = plan(
        device,
        "P-1",
        "location_range",
        location_from="A-01",
        location_to="A-03",
        assignees=["E1", "E2"],
    )
    assert got["status"] == "applied", got
    assert "3 place(s) to count" in got["message"]
    seen = docs(device)
    the_plan = CountPlan.model_validate(seen[("count_plan", "P-1")])
    assert the_plan.scope == "locations A-01 to A-03" and the_plan.created_by_name == "Maria"
    tasks = [seen[("task", t)] for t in the_plan.task_ids]
    assert [(t["sku"], t["location"]) for t in tasks] == [
        ("SKU-1", "A-01-1"),
        ("SKU-2", "A-02-1"),
        ("SKU-3", "A-03-1"),
    ]
    assert [t["assignee"] for t in tasks] == ["E1", "E1", "E2"]
    assert {t["kind"] for t in tasks} == {"recount"} and {t["state"] for t in tasks} == {"open"}
    assert all(datetime.fromisoformat(t["due_at"]) == DUE for t in tasks)
    assert all("qty" in t and t["qty"] == 0 for t in tasks)  # blind: no book in the task
    # one place counted for its task: the plan is 1 of 3 on
    assert count(device, "SKU-2", 20, "A-02-1", tasks[1]["task_id"])["status"] == "applied"
    states = {t["task_id"]: t["state"] for t in tasks}
    states |= {k[1]: d["state"] for k, d in docs(device).items() if k[0] == "task"}
    now = datetime.now(UTC)
    assert progress(the_plan, states, now).text == "1 of 3 counted"
    assert progress(the_plan, states, DUE + timedelta(minutes=1)).overdue
    # the OMS reads the same progress
    [seen_by_oms] = ok(any_central.oms.get(f"/v1/oms/stores/{store.store_id}/count-plans"))
    assert (seen_by_oms["plan_id"], seen_by_oms["counted"], seen_by_oms["total"]) == ("P-1", 1, 3)
    assert seen_by_oms["overdue"] is False
    assert [(x["location"], x["assignee"]) for x in seen_by_oms["not_counted"]] == [
        ("A-01-1", "E1"),
        ("A-03-1", "E2"),
    ]


def test_negative_stock_opens_its_count_task_once_and_a_doubtful_plan_adopts_it(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    adjusted = device.push_one(
        "stock.adjust",
        {"sku": "SKU-4", "location": "A-04-1", "delta": -25, "reason": "Broken pallet"},
        actor="M1",
    )
    assert adjusted["status"] == "applied"
    before = [d for (k, _), d in docs(device).items() if k == "task" and d["sku"] == "SKU-4"]
    assert len(before) == 1 and before[0]["kind"] == "recount" and before[0]["plan_id"] is None
    got = plan(device, "P-NEG", "doubtful", assignees=["E2"])
    assert got["status"] == "applied" and "1 already asked for a recount" in got["message"], got
    seen = docs(device)
    the_plan = seen[("count_plan", "P-NEG")]
    assert the_plan["task_ids"] == [before[0]["task_id"]]  # adopted, not made twice
    task = seen[("task", before[0]["task_id"])]
    assert task["plan_id"] == "P-NEG" and task["assignee"] == "E2" and task["state"] == "open"
    open_ones = ok(any_central.oms.get(f"/v1/oms/stores/{store.store_id}/exceptions"))
    assert [x["code"] for x in open_ones] == ["NEGATIVE_STOCK"]


def test_a_plan_by_abc_class_reads_the_ledger_s_units_moved(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    sold = datetime.now(UTC) - timedelta(days=1)
    lines = [
        {
            "sale_id": f"R-{i}",
            "line": 1,
            "sku": "SKU-5",
            "qty": 2,
            "till_id": "T1",
            "sold_at": sold.isoformat(),
        }
        for i in range(5)
    ] + [
        {
            "sale_id": "R-9",
            "line": 1,
            "sku": "SKU-6",
            "qty": 1,
            "till_id": "T1",
            "sold_at": sold.isoformat(),
        }
    ]
    ok(any_central.oms.post(f"/v1/oms/stores/{store.store_id}/sales", json=lines))
    assert plan(device, "P-A", "abc", abc_class="A")["status"] == "applied"
    assert plan(device, "P-B", "abc", abc_class="B")["status"] == "applied"
    seen = docs(device)
    skus = {
        p: [seen[("task", t)]["sku"] for t in seen[("count_plan", p)]["task_ids"]]
        for p in ("P-A", "P-B")
    }
    assert skus == {"P-A": ["SKU-5"], "P-B": ["SKU-6"]}  # 10 of 11 units, then the last one
    c_plan = plan(device, "P-C", "abc", abc_class="C", days=1)  # nothing sold in the last day
    assert c_plan["status"] == "applied" and "6 place(s)" in c_plan["message"]


def test_a_plan_is_refused_in_words_when_it_cannot_be_made(
    any_central: Central, store: TestStore, device: RawDevice
) -> None:
    empty = plan(device, "P-X", "location_range", location_from="Z-01", location_to="Z-09")
    assert (empty["status"], empty["code"]) == ("rejected", "EMPTY_PLAN")
    assert "Nothing to count in locations Z-01 to Z-09" in empty["message"]
    assert plan(device, "P-Y", "list", skus=["SKU-1"])["status"] == "applied"
    twice = plan(device, "P-Y", "list", skus=["SKU-2"])
    assert (twice["status"], twice["code"]) == ("rejected", "DUPLICATE_PLAN")
    nobody = plan(device, "P-Z", "list", skus=["SKU-1"], assignees=["E404"])
    assert (nobody["status"], nobody["code"]) == ("rejected", "UNKNOWN_ASSOCIATE")
    associate = plan(device, "P-W", "list", skus=["SKU-1"], actor="E1")
    assert (associate["status"], associate["code"]) == ("rejected", "FORBIDDEN")
    bad = plan(device, "P-V", "category")
    assert bad["code"] == "INVALID_OP" and "category" in bad["message"]
    made = {i for k, i in docs(device) if k == "count_plan"}
    assert made == {"P-Y"}  # nothing of the refused plans reached a tablet


def _items_with_cost(store: TestStore, cost: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "sku": sku,
            "gtins": [store.gtins[sku]],
            "name": f"Item {i + 1}",
            "price": "4.99",
            "location": store.locations[sku],
            "location_seq": (i + 1) * 10,
            "unit_cost": cost.get(sku),
            "category": "Kitchen" if i < 2 else "Garden",
        }
        for i, sku in enumerate(store.skus)
    ]


def test_a_variance_worth_more_than_the_money_limit_waits_and_the_csv_says_its_value(
    any_central: Central, device: RawDevice, store: TestStore
) -> None:
    oms = any_central.oms
    ok(
        oms.put(
            f"/v1/oms/stores/{store.store_id}",
            json={"name": "S", "policy": {"variance_value": "25"}},
        )
    )
    ok(
        oms.put(
            f"/v1/oms/stores/{store.store_id}/items",
            json=_items_with_cost(store, {"SKU-1": "30.00"}),
        )
    )
    dear = count(device, "SKU-1", 19, "A-01-1")  # −1 unit of 20: within units, 30.00 over 25
    cheap = count(device, "SKU-2", 19, "A-02-1")  # −1 × 4.99 (the price: no cost given)
    assert dear["code"] == "VARIANCE_OVER_THRESHOLD" and cheap["code"] is None
    counts = {c["sku"]: c for c in ok(oms.get(f"/v1/oms/stores/{store.store_id}/counts"))}
    assert counts["SKU-1"]["state"] == "awaiting_approval"
    assert counts["SKU-2"]["state"] == "posted"
    # a plan by category reads the category the OMS sent
    got = plan(device, "P-K", "category", category="kitchen")
    assert got["status"] == "applied" and "2 place(s)" in got["message"]
    # the CSV, parsed back
    response = oms.get(f"/v1/oms/stores/{store.store_id}/counts.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    by_sku = {r["sku"]: r for r in rows}
    assert by_sku["SKU-1"]["value"] == "-30.00" and by_sku["SKU-1"]["unit_cost"] == "30.00"
    assert by_sku["SKU-1"]["state"] == "awaiting_approval" and by_sku["SKU-1"]["book"] == "20"
    assert by_sku["SKU-2"]["value"] == "-4.99" and by_sku["SKU-2"]["adjustment"] == "-1"
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    none = oms.get(f"/v1/oms/stores/{store.store_id}/counts.csv", params={"from": later})
    assert list(csv.DictReader(io.StringIO(none.text))) == []
    earlier = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    both = oms.get(
        f"/v1/oms/stores/{store.store_id}/counts.csv", params={"from": earlier, "to": later}
    )
    assert len(list(csv.DictReader(io.StringIO(both.text)))) == 2
    wrong = oms.get(
        f"/v1/oms/stores/{store.store_id}/counts.csv", params={"from": later, "to": earlier}
    )
    assert wrong.status_code == 422 and wrong.json()["code"] == "INVALID_REQUEST"
    assert oms.get("/v1/oms/stores/NOPE/counts.csv").json()["code"] == "UNKNOWN_STORE"
