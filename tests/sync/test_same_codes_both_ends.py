"""One code table: the same situation gets the same code on the tablet (its local result,
before anything is sent) and on a real central (its result for that op, pushed by a real
tablet through the real SyncEngine). A refused intent is never queued by the tablet, so the
same op is put in the tablet's outbox as an older tablet would have sent it."""

from __future__ import annotations

import json
import sqlite3
import uuid
from datetime import UTC, datetime
from typing import Any

from storeapp.local import ActResult
from tests.support.central import Central, TestStore
from tests.support.tablet import Tablet
from tests.sync.conftest import MakeTablet

RETURN_LINE = {
    "qty": 1,
    "reason": "changed_mind",
    "condition": "sellable",
    "disposition": "restock",
}


def synced(tablet: Tablet) -> None:
    report = tablet.sync()
    assert report.ok, report.error_in_words


def local(tablet: Tablet, actor: str, op_type: str, payload: dict[str, Any]) -> ActResult:
    with tablet.local() as store:
        return store.act(actor, op_type, payload, datetime.now(UTC))


def sent_as_is(tablet: Tablet, actor: str, op_type: str, payload: dict[str, Any]) -> str:
    """Queue `op_type` in the tablet's outbox without the tablet's own checks; its op_id."""
    op_id, at = str(uuid.uuid4()), datetime.now(UTC).isoformat()
    with sqlite3.connect(tablet.path) as conn:
        seq, base = conn.execute(
            "SELECT next_seq, pulled_version FROM sync_state WHERE id = 1"
        ).fetchone()
        conn.execute(
            """INSERT INTO outbox
               (seq, op_id, type, type_v, actor_id, payload, occurred_at, base_seq, created_at)
               VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?)""",
            (seq, op_id, op_type, actor, json.dumps(payload), at, base, at),
        )
        conn.execute("UPDATE sync_state SET next_seq = ? WHERE id = 1", (seq + 1,))
    conn.close()
    return op_id


def centrals_answer(tablet: Tablet, op_id: str) -> tuple[str, str | None]:
    synced(tablet)
    with tablet.local() as store:
        [logged] = [op for op in store.op_log(limit=1000) if op.op_id == op_id]
    return logged.outcome, logged.code


def test_a_refused_intent_gets_the_same_code_on_the_tablet_and_on_central(
    central: Central, store: TestStore, make_tablet: MakeTablet
) -> None:
    tablet = make_tablet()
    synced(tablet)
    sku = store.skus[0]
    cases: list[tuple[str, str, dict[str, Any], str]] = [
        ("E1", "order.claim", {"order_id": "W-404"}, "UNKNOWN_ORDER"),
        ("E1", "task.done", {"task_id": "T-404"}, "UNKNOWN_TASK"),
        (
            "M1",
            "stock.adjust",
            {"sku": "NOPE-1", "location": "A-01-1", "delta": -1, "reason": "Broken"},
            "UNKNOWN_ITEM",
        ),
        ("M1", "count.approve", {"count_id": "C-404"}, "UNKNOWN_COUNT"),
        ("M1", "return.override", {"return_id": "R-404", "reason": "Kind"}, "UNKNOWN_RETURN"),
    ]
    for actor, op_type, payload, code in cases:
        on_tablet = local(tablet, actor, op_type, payload)
        assert (on_tablet.status, on_tablet.queued, on_tablet.code) == ("rejected", False, code)
        on_central = centrals_answer(tablet, sent_as_is(tablet, actor, op_type, payload))
        assert on_central == ("rejected", code), op_type
    assert central.stock(store, sku)["on_hand"] == 20  # nothing was applied


def test_a_count_or_return_recorded_twice_gets_the_same_code_on_both_ends(
    central: Central, store: TestStore, make_tablet: MakeTablet
) -> None:
    tablet = make_tablet()
    synced(tablet)
    sku = store.skus[0]
    count: dict[str, Any] = {
        "count_id": "C-1",
        "sku": sku,
        "location": "A-01-1",
        "qty": 20,
        "counted_at": datetime.now(UTC).isoformat(),
    }
    ret: dict[str, Any] = {
        "return_id": "R-1",
        "receipt": "T-99",
        "lines": [{**RETURN_LINE, "sku": sku}],
    }
    for op_type, payload, code in [
        ("count.record", count, "DUPLICATE_COUNT"),
        ("return.receive", ret, "DUPLICATE_RETURN"),
    ]:
        assert local(tablet, "E1", op_type, payload).queued
        synced(tablet)
        again = local(tablet, "E1", op_type, payload)
        assert (again.status, again.queued, again.code) == ("rejected", False, code)
        on_central = centrals_answer(tablet, sent_as_is(tablet, "E1", op_type, payload))
        assert on_central == ("rejected", code), op_type


def test_a_fact_on_an_order_neither_end_has_is_unknown_order_on_both(
    store: TestStore, make_tablet: MakeTablet
) -> None:
    tablet = make_tablet()
    synced(tablet)
    payload = {"order_id": "W-404", "line_id": "1", "qty": 1, "reason": "not_found"}
    on_tablet = local(tablet, "E1", "pick.short", payload)
    # the tablet keeps the fact for central to check; central knows no such order
    assert (on_tablet.status, on_tablet.queued, on_tablet.code) == (
        "compensated",
        True,
        "UNKNOWN_ORDER",
    )
    assert centrals_answer(tablet, on_tablet.op_id or "") == ("rejected", "UNKNOWN_ORDER")


def test_a_task_done_twice_is_applied_with_already_done_on_both_ends(
    central: Central, store: TestStore, make_tablet: MakeTablet
) -> None:
    sku = store.skus[2]
    order = central.order(store, [(sku, 1)])
    tablet = make_tablet()
    synced(tablet)
    assert local(tablet, "E1", "order.claim", {"order_id": order["order_id"]}).queued
    short = {"order_id": order["order_id"], "line_id": "1", "qty": 1, "reason": "not_found"}
    assert local(tablet, "E1", "pick.short", short).queued
    synced(tablet)
    synced(tablet)  # central's recount task reaches the tablet
    [recount] = central.tasks(store, "recount")
    done = {"task_id": recount["task_id"]}

    first = local(tablet, "E1", "task.done", done)
    again = local(tablet, "E1", "task.done", done)
    assert (first.status, first.code) == ("applied", None)
    assert (again.status, again.queued, again.code) == ("applied", True, "ALREADY_DONE")
    assert centrals_answer(tablet, first.op_id or "") == ("applied", None)
    assert centrals_answer(tablet, again.op_id or "") == ("applied", "ALREADY_DONE")
