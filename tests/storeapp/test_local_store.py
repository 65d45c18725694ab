"""storeapp.local: the tablet's SQLite file, driven the way the app and the sync engine drive it."""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from fulfillment.model import Order
from storeapp.local import LocalStore, LocalStoreError
from sync.protocol import EnrollResponse, RawEnvelope, SnapshotHeader, validate_payload
from sync.replica import Identity, PendingSummary
from tests.storeapp.builders import (
    STORE,
    T0,
    Feed,
    gtin,
    gtin14_of,
    order_doc,
    result,
    staff_doc,
    store_doc,
    task_doc,
)


def outbox_rows(store: LocalStore) -> list[dict[str, Any]]:
    rows = list(
        store.db.query(
            "SELECT seq, type, actor_id, payload, occurred_at, base_seq FROM outbox ORDER BY seq"
        )
    )
    for row in rows:
        row["payload"] = json.loads(row["payload"])
    return rows


def order_state(store: LocalStore, order_id: str) -> dict[str, Any]:
    order = store.order(order_id)
    assert order is not None
    return {
        "state": order.state.value,
        "assignee": order.assignee,
        "picked": {x.line_id: x.picked for x in order.lines},
        "priority": order.priority,
    }


def test_a_new_file_has_strict_tables_in_wal_mode(db_path: Path) -> None:
    with LocalStore(db_path) as store:
        assert store.db.journal_mode == "wal"
        assert {t for t in store.db.table_names() if not t.startswith("_")} == {
            "srv_docs",
            "orders",
            "items",
            "gtins",
            "staff",
            "tasks",
            "stock",
            "returns",
            "counts",
            "outbox",
            "op_log",
            "sync_state",
            "pin_attempts",
        }
        assert all(
            store.db.table(t).strict
            for t in [
                "orders",
                "returns",
                "counts",
                "outbox",
                "op_log",
                "sync_state",
                "pin_attempts",
            ]
        )
        assert store.identity() is None
    with LocalStore(db_path) as again:  # migrations run once
        assert [m["name"] for m in again.db.query("SELECT name FROM _sqlite_migrations")] == [
            "m001_initial",
            "m002_returns",
            "m003_counts",
            "m004_pin_attempts",
            "m005_canonical_docs",
            "m006_op_log_unrebased",
        ]


def test_enroll_saves_the_identity_for_the_sync_engine(store: LocalStore) -> None:
    assert store.identity() == Identity("http://central.test", "dev-1", STORE, "tok-1")


def test_enrolling_as_another_device_is_refused_while_ops_wait(
    store: LocalStore, feed: Feed
) -> None:
    store.apply_pull(feed.orders(order_doc("W-1", [("1", "DOG2", 1)])))
    store.act("E1", "order.claim", {"order_id": "W-1"}, T0)
    with pytest.raises(LocalStoreError):
        store.enroll(EnrollResponse(device_id="dev-2", store_id=STORE, token="t2"), "http://c")
    identity = store.identity()
    assert identity is not None
    assert identity.device_id == "dev-1"


def test_act_writes_the_local_effect_and_the_outbox_op_in_one_transaction_with_gapless_seq(
    store: LocalStore, feed: Feed
) -> None:
    store.apply_pull(feed.orders(order_doc("W-1", [("1", "DOG2", 2)])))
    pulled = feed.version
    claim = store.act("E1", "order.claim", {"order_id": "W-1"}, T0)
    scan = store.act(
        "E1",
        "pick.scan",
        {"order_id": "W-1", "line_id": "1", "gtin": gtin(1)},
        T0 + timedelta(seconds=30),
    )
    assert (claim.status, claim.queued, claim.seq) == ("applied", True, 1)
    assert (scan.status, scan.queued, scan.seq) == ("applied", True, 2)
    assert outbox_rows(store) == [
        {
            "seq": 1,
            "type": "order.claim",
            "actor_id": "E1",
            "payload": {"order_id": "W-1"},
            "occurred_at": "2025-03-03T09:00:00.000000Z",
            "base_seq": pulled,
        },
        {
            "seq": 2,
            "type": "pick.scan",
            "actor_id": "E1",
            "payload": {
                "order_id": "W-1",
                "line_id": "1",
                "gtin": gtin14_of("DOG2"),
                "qty": 1,
                "location": "",
            },
            "occurred_at": "2025-03-03T09:00:30.000000Z",
            "base_seq": pulled,
        },
    ]
    assert order_state(store, "W-1") == {
        "state": "picking",
        "assignee": "E1",
        "picked": {"1": 1},
        "priority": 0,
    }
    assert store.sync_state().next_seq == 3
    assert store.pending_summary() == PendingSummary(count=2, oldest_occurred_at=T0, attention=0)


def test_a_refused_claim_writes_nothing(store: LocalStore, feed: Feed) -> None:
    store.apply_pull(
        feed.orders(
            order_doc(
                "W-1", [("1", "DOG2", 1)], state="picking", assignee="E2", assignee_name="Ben"
            )
        )
    )
    before = list(store.db.query("SELECT * FROM orders"))
    outcome = store.act("E1", "order.claim", {"order_id": "W-1"}, T0)
    assert (outcome.status, outcome.queued, outcome.code, outcome.message) == (
        "rejected",
        False,
        "ALREADY_CLAIMED",
        "Picked by Ben since 09:00",
    )
    assert list(store.db.query("SELECT * FROM orders")) == before
    assert outbox_rows(store) == []
    assert store.sync_state().next_seq == 1


def test_a_manager_only_op_from_an_associate_is_refused_without_writing(
    store: LocalStore, feed: Feed
) -> None:
    store.apply_pull(feed.orders(order_doc("W-1", [("1", "DOG2", 1)])))
    outcome = store.act("E1", "order.prioritize", {"order_id": "W-1", "priority": 5}, T0)
    assert (outcome.status, outcome.queued, outcome.code) == ("rejected", False, "FORBIDDEN")
    assert store.act("M1", "order.prioritize", {"order_id": "W-1", "priority": 5}, T0).queued
    assert [r["seq"] for r in outbox_rows(store)] == [1]


def test_a_payload_that_does_not_validate_is_a_message_not_an_exception(
    store: LocalStore, feed: Feed
) -> None:
    store.apply_pull(feed.orders(order_doc("W-1", [("1", "DOG2", 1)], type="ship_from_store")))
    outcome = store.act(
        "E1", "order.ship", {"order_id": "W-1", "carrier": "DHL", "tracking": "12"}, T0
    )
    assert (outcome.status, outcome.queued, outcome.code) == ("rejected", False, "INVALID_INPUT")
    assert outcome.message is not None
    assert outcome.message.startswith("tracking:")
    assert outbox_rows(store) == []


def test_an_op_type_the_tablet_does_not_know_is_refused_in_words_and_never_queued(
    store: LocalStore, feed: Feed
) -> None:
    store.apply_pull(feed.orders(order_doc("W-1", [("1", "DOG2", 1)])))
    claim, unknown = store.act_many(
        "E1", [("order.claim", {"order_id": "W-1"}), ("order.teleport", {"order_id": "W-1"})], T0
    )
    assert claim.queued
    assert (unknown.status, unknown.queued, unknown.code, unknown.message) == (
        "rejected",
        False,
        "INVALID_OP",
        "This tablet does not know the action 'order.teleport': nothing was saved",
    )
    assert [r["type"] for r in outbox_rows(store)] == ["order.claim"]
    alone = store.act("E1", "shelf.dust", {}, T0)
    assert (alone.queued, alone.code) == (False, "INVALID_OP")
    assert [r["type"] for r in outbox_rows(store)] == ["order.claim"]
    assert store.sync_state().next_seq == 2
    assert order_state(store, "W-1")["state"] == "picking"


def test_facts_are_queued_even_when_the_local_rules_compensate_them(
    store: LocalStore, feed: Feed
) -> None:
    store.apply_pull(feed.orders(order_doc("W-1", [("1", "DOG2", 1)], state="cancelled")))
    outcome = store.act("E1", "pick.scan", {"order_id": "W-1", "line_id": "1", "gtin": gtin(1)}, T0)
    assert (outcome.status, outcome.queued, outcome.code) == (
        "compensated",
        True,
        "ORDER_CANCELLED",
    )
    assert [r["type"] for r in outbox_rows(store)] == ["pick.scan"]


def test_a_failed_write_rolls_back_the_local_effect_and_the_seq(
    store: LocalStore, feed: Feed
) -> None:
    store.apply_pull(feed.orders(order_doc("W-1", [("1", "DOG2", 1)])))
    store.db.execute(
        "CREATE TRIGGER boom BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'disk full'); END"
    )
    with pytest.raises(sqlite3.IntegrityError):
        store.act("E1", "order.claim", {"order_id": "W-1"}, T0)
    assert order_state(store, "W-1")["state"] == "released"
    assert store.sync_state().next_seq == 1


def test_threads_with_their_own_connections_take_gapless_seqs(
    store: LocalStore, feed: Feed, db_path: Path
) -> None:
    store.apply_pull(feed.orders(order_doc("W-1", [("1", "DOG2", 100)])))

    def scans() -> None:
        with LocalStore(db_path) as mine:
            for _ in range(25):
                mine.act(
                    "E1", "pick.scan", {"order_id": "W-1", "line_id": "1", "gtin": gtin(1)}, T0
                )

    threads = [threading.Thread(target=scans) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r["seq"] for r in outbox_rows(store)] == list(range(1, 51))
    assert order_state(store, "W-1")["picked"] == {"1": 50}


def test_pending_gives_envelopes_that_central_parses_as_typed_ops(
    store: LocalStore, feed: Feed
) -> None:
    store.apply_pull(feed.orders(order_doc("W-1", [("1", "DOG2", 1)])))
    store.act("E1", "order.claim", {"order_id": "W-1"}, T0)
    store.act(
        "E1", "pick.short", {"order_id": "W-1", "line_id": "1", "qty": 1, "reason": "damaged"}, T0
    )
    envelopes = store.pending(limit=10)
    assert [(e["seq"], e["device_id"], e["type"]) for e in envelopes] == [
        (1, "dev-1", "order.claim"),
        (2, "dev-1", "pick.short"),
    ]
    typed = [validate_payload(RawEnvelope.model_validate(e)) for e in envelopes]
    assert typed[1].model_dump()["reason"] == "damaged"
    assert [e["seq"] for e in store.pending(limit=1)] == [1]


def test_apply_pull_shows_server_truth_plus_pending_ops(store: LocalStore, feed: Feed) -> None:
    store.apply_pull(feed.orders(order_doc("W-1", [("1", "DOG2", 2), ("2", "BOWL", 1)])))
    store.act("E1", "order.claim", {"order_id": "W-1"}, T0)
    store.act("E1", "pick.scan", {"order_id": "W-1", "line_id": "1", "gtin": gtin(1)}, T0)
    # a manager raised the priority on central; none of our ops applied yet
    store.apply_pull(
        feed.orders(order_doc("W-1", [("1", "DOG2", 2), ("2", "BOWL", 1)], priority=7))
    )
    assert order_state(store, "W-1") == {
        "state": "picking",
        "assignee": "E1",
        "picked": {"1": 1, "2": 0},
        "priority": 7,
    }
    # central applied the claim (seq 1) but not the scan yet
    store.apply_pull(
        feed.orders(
            order_doc(
                "W-1",
                [("1", "DOG2", 2), ("2", "BOWL", 1)],
                priority=7,
                state="picking",
                assignee="E1",
            ),
            last_applied_seq=1,
        )
    )
    assert order_state(store, "W-1") == {
        "state": "picking",
        "assignee": "E1",
        "picked": {"1": 1, "2": 0},
        "priority": 7,
    }
    assert store.sync_state().last_applied_seq == 1
    assert store.cursor() == f"c{feed.version}"
    assert len(outbox_rows(store)) == 2  # only acknowledge removes ops


def test_a_pull_that_moves_one_order_keeps_every_order_s_pending_work_shown(
    store: LocalStore, feed: Feed
) -> None:
    # a tablet draining its outbox pulls between pushes: orders the pull does not move keep
    # their rows as they are (their document and pending ops did not change), the moved one
    # is folded again over its new document, and a staff change folds them all again
    lines = [("1", "DOG2", 3), ("2", "BOWL", 1)]
    store.apply_pull(feed.orders(order_doc("W-1", lines), order_doc("W-2", lines)))
    for order_id in ("W-1", "W-2"):
        store.act("E1", "order.claim", {"order_id": order_id}, T0)
        store.act("E1", "pick.scan", {"order_id": order_id, "line_id": "1", "gtin": gtin(1)}, T0)
    store.apply_pull(feed.orders(order_doc("W-1", lines, priority=9)))
    mine = {"state": "picking", "assignee": "E1", "picked": {"1": 1, "2": 0}}
    assert order_state(store, "W-1") == {**mine, "priority": 9}
    assert order_state(store, "W-2") == {**mine, "priority": 0}
    store.apply_pull(feed.page(feed.change("staff", "E2", staff_doc("E2", "Ben", "5678"))))
    assert order_state(store, "W-1") == {**mine, "priority": 9}
    assert order_state(store, "W-2") == {**mine, "priority": 0}
    # another tablet took W-2 on central: its row is central's, the scan no longer ours
    taken = order_doc("W-2", lines, state="picking", assignee="E2", assignee_name="Ben")
    store.apply_pull(feed.orders(taken))
    assert order_state(store, "W-2")["assignee"] == "E2"
    assert order_state(store, "W-1") == {**mine, "priority": 9}


def test_a_pull_between_pushes_folds_the_moved_documents_over_their_own_pending_ops(
    store: LocalStore, feed: Feed
) -> None:
    # a draining tablet's pull reads only the pending ops of what it folds (orders by their
    # index): each moved order and task still shows all its own work and nobody else's, the
    # orders it did not move keep theirs, and an order central applied ops of shows the rest
    lines = [("1", "DOG2", 3), ("2", "BOWL", 2)]
    orders = ("W-1", "W-2", "W-3")
    store.apply_pull(feed.orders(*(order_doc(o, lines) for o in orders)))
    tasks = (task_doc("T-1"), task_doc("T-2"))
    store.apply_pull(feed.page(*(feed.change("task", t["task_id"], t) for t in tasks)))
    for order_id in orders:
        store.act("E1", "order.claim", {"order_id": order_id}, T0)
    for n, order_id in enumerate(orders, start=1):  # W-1 one scan, W-2 two, W-3 three
        for _ in range(n):
            scan = {"order_id": order_id, "line_id": "1", "gtin": gtin(1)}
            store.act("E1", "pick.scan", scan, T0)
    store.act("E1", "task.done", {"task_id": "T-1"}, T0)
    mine = {"state": "picking", "assignee": "E1", "priority": 0}
    store.apply_pull(
        feed.page(
            *feed.orders(order_doc("W-2", lines, priority=4)).changes,
            feed.change("task", "T-1", {**tasks[0], "qty": 2}),
            feed.change("task", "T-2", {**tasks[1], "qty": 3}),
        )
    )
    assert order_state(store, "W-1") == {**mine, "picked": {"1": 1, "2": 0}}
    assert order_state(store, "W-2") == {**mine, "picked": {"1": 2, "2": 0}, "priority": 4}
    assert order_state(store, "W-3") == {**mine, "picked": {"1": 3, "2": 0}}
    assert [t.task_id for t in store.tasks()] == ["T-2"]  # T-1 still shown done
    # central applied the claims and W-1's scan (seqs 1-4): each order as central has it now,
    # with only the scans it has not applied on top (none twice)
    sent = {op["seq"]: op for op in store.pending(100)}
    store.acknowledge([result(sent[seq]) for seq in (1, 2, 3, 4)])

    def claimed(order_id: str, **more: Any) -> dict[str, Any]:
        return order_doc(order_id, lines, state="picking", assignee="E1", **more)

    store.apply_pull(
        feed.orders(
            claimed("W-1", picked={"1": 1}),
            claimed("W-2", priority=4),
            claimed("W-3"),
            last_applied_seq=4,
        )
    )
    assert order_state(store, "W-2") == {**mine, "picked": {"1": 2, "2": 0}, "priority": 4}
    assert order_state(store, "W-3") == {**mine, "picked": {"1": 3, "2": 0}}
    assert order_state(store, "W-1") == {**mine, "picked": {"1": 1, "2": 0}}


def test_rebase_drops_a_claim_that_lost_to_another_tablet(store: LocalStore, feed: Feed) -> None:
    store.apply_pull(feed.orders(order_doc("W-1", [("1", "DOG2", 1)])))
    store.act("E1", "order.claim", {"order_id": "W-1"}, T0)
    store.apply_pull(
        feed.orders(
            order_doc(
                "W-1", [("1", "DOG2", 1)], state="picking", assignee="E2", assignee_name="Ben"
            )
        )
    )
    assert order_state(store, "W-1")["assignee"] == "E2"


def test_acknowledge_moves_ops_to_the_op_log_with_their_results(
    store: LocalStore, feed: Feed
) -> None:
    store.apply_pull(feed.orders(order_doc("W-1", [("1", "DOG2", 1)])))
    store.act("E1", "order.claim", {"order_id": "W-1"}, T0)
    store.act("E1", "pick.scan", {"order_id": "W-1", "line_id": "1", "gtin": gtin(1), "qty": 2}, T0)
    claim, scan = store.pending(10)
    store.acknowledge(
        [
            result(claim),
            result(
                scan,
                "compensated",
                code="OVER_PICK",
                message="Line wants 1: put 1 × back at A-12",
                followups=[
                    {
                        "task_id": "T-9",
                        "kind": "put_back",
                        "sku": "DOG2",
                        "location": "A-12",
                        "qty": 1,
                    }
                ],
            ),
        ],
        at=T0 + timedelta(minutes=1),
    )
    assert outbox_rows(store) == []
    rows = list(
        store.db.query(
            "SELECT seq, type, status, original_status, code, message, followups, acked_at, seen FROM op_log ORDER BY seq"
        )
    )
    assert rows == [
        {
            "seq": 1,
            "type": "order.claim",
            "status": "applied",
            "original_status": None,
            "code": None,
            "message": None,
            "followups": "[]",
            "acked_at": "2025-03-03T09:01:00.000000Z",
            "seen": 1,
        },
        {
            "seq": 2,
            "type": "pick.scan",
            "status": "compensated",
            "original_status": None,
            "code": "OVER_PICK",
            "message": "Line wants 1: put 1 × back at A-12",
            "followups": '[{"task_id": "T-9", "kind": "put_back", "sku": "DOG2", "location": "A-12", "qty": 1, "order_id": null, "reason": ""}]',
            "acked_at": "2025-03-03T09:01:00.000000Z",
            "seen": 0,
        },
    ]
    assert store.pending_summary() == PendingSummary(count=0, oldest_occurred_at=None, attention=1)
    store.acknowledge([result(claim, "duplicate", original_status="applied")])  # a retried response
    assert store.db["op_log"].count == 2


def test_a_refused_op_is_undone_on_screen_by_the_next_pull(store: LocalStore, feed: Feed) -> None:
    store.apply_pull(feed.orders(order_doc("W-1", [("1", "DOG2", 1)])))
    store.act("E1", "order.claim", {"order_id": "W-1"}, T0)
    (claim,) = store.pending(10)
    store.acknowledge(
        [result(claim, "rejected", code="ALREADY_CLAIMED", message="Picked by Ben since 09:00")]
    )
    assert order_state(store, "W-1")["assignee"] == "E1"  # until central's version arrives
    store.apply_pull(feed.page(last_applied_seq=1))  # the refusal changed no document
    assert order_state(store, "W-1")["assignee"] is None


def test_a_duplicate_result_keeps_the_original_status_for_the_attention_list(
    store: LocalStore, feed: Feed
) -> None:
    store.apply_pull(feed.orders(order_doc("W-1", [("1", "DOG2", 1)])))
    store.act("E1", "order.claim", {"order_id": "W-1"}, T0)
    (claim,) = store.pending(10)
    store.acknowledge(
        [result(claim, "duplicate", original_status="rejected", code="ALREADY_CLAIMED")]
    )
    (logged,) = store.op_log(attention_only=True)
    assert (logged.status, logged.outcome, logged.seen) == ("duplicate", "rejected", False)
    store.mark_seen([logged.seq])
    assert store.op_log(attention_only=True) == []


def test_a_pull_projects_staff_items_stock_and_tasks_and_deletes_tombstones(
    store: LocalStore, feed: Feed
) -> None:
    store.apply_pull(
        feed.page(
            feed.change(
                "stock",
                "DOG2@A-12",
                {"sku": "DOG2", "location": "A-12", "on_hand": 7, "reserved": 2, "available": 5},
            ),
            feed.change(
                "task",
                "T-1",
                task_doc("T-1", "recount", "DOG2", "A-12", 0, reason="short: not_found"),
            ),
            feed.change("staff", "E2", op="delete"),
            feed.change("gizmo", "G-1", {"anything": True}),
        )
    )
    assert list(store.db.query("SELECT * FROM stock")) == [
        {
            "id": "DOG2@A-12",
            "sku": "DOG2",
            "location": "A-12",
            "on_hand": 7,
            "reserved": 2,
            "available": 5,
            "doubtful": 0,
        }
    ]
    assert [t.task_id for t in store.tasks()] == ["T-1"]
    assert sorted(store.staff_names()) == ["E1", "M1"]
    assert list(store.db.query("SELECT gtin, sku FROM gtins WHERE sku = 'DOG2'")) == [
        {"gtin": gtin14_of("DOG2"), "sku": "DOG2"}
    ]
    assert store.docs("gizmo") == [{"anything": True}]


def test_verify_pin_works_offline_from_pulled_hashes(store: LocalStore, feed: Feed) -> None:
    staff_e1 = store.verify_pin("E1", "1234")
    assert staff_e1 is not None
    assert staff_e1.name == "Ana"
    assert store.verify_pin("E1", "1235") is None
    assert store.verify_pin("NOBODY", "1234") is None
    store.apply_pull(
        feed.page(feed.change("staff", "E1", staff_doc("E1", "Ana", "1234", active=False)))
    )
    assert store.verify_pin("E1", "1234") is None


def test_task_done_is_local_at_once_and_survives_a_pull_until_central_answers(
    store: LocalStore, feed: Feed
) -> None:
    task = task_doc("T-1")
    store.apply_pull(feed.page(feed.change("task", "T-1", task)))
    done = store.act("E1", "task.done", {"task_id": "T-1"}, T0)
    assert (done.queued, store.tasks()) == (True, [])
    store.apply_pull(feed.page(feed.change("task", "T-1", {**task, "qty": 2})))
    assert store.tasks() == []
    again = store.act("E1", "task.done", {"task_id": "T-1"}, T0)  # as central: applied
    assert (again.queued, again.status, again.code) == (True, "applied", "ALREADY_DONE")
    unknown = store.act("E1", "task.done", {"task_id": "T-404"}, T0)
    assert (unknown.queued, unknown.code) == (False, "UNKNOWN_TASK")


def test_snapshot_swap_replaces_server_state_and_keeps_the_outbox(
    store: LocalStore, feed: Feed
) -> None:
    store.apply_pull(
        feed.orders(order_doc("W-1", [("1", "DOG2", 2)]), order_doc("W-OLD", [("1", "BOWL", 1)]))
    )
    store.act("E1", "order.claim", {"order_id": "W-1"}, T0)
    store.act("E1", "pick.scan", {"order_id": "W-1", "line_id": "1", "gtin": gtin(1)}, T0)
    snap = Feed()
    snap.version = 500
    changes = [
        c
        for page in [snap.basics(), snap.orders(order_doc("W-1", [("1", "DOG2", 2)], priority=3))]
        for c in page.changes
    ]
    store.load_snapshot(
        SnapshotHeader(cursor="snap-500", last_applied_seq=0, server_time=T0, count=len(changes)),
        changes,
    )
    assert [o.order_id for o in store.orders_in(["released", "picking"])] == ["W-1"]
    assert order_state(store, "W-1") == {
        "state": "picking",
        "assignee": "E1",
        "picked": {"1": 1},
        "priority": 3,
    }
    assert [r["seq"] for r in outbox_rows(store)] == [1, 2]
    state = store.sync_state()
    assert (state.cursor, state.pulled_version) == ("snap-500", snap.version)
    assert "srv_docs_shadow" not in store.db.table_names()
    assert store.verify_pin("E1", "1234") is not None


def test_a_reset_page_wipes_server_state_and_keeps_the_outbox(
    store: LocalStore, feed: Feed
) -> None:
    store.apply_pull(
        feed.orders(order_doc("W-1", [("1", "DOG2", 2)]), order_doc("W-2", [("1", "BOWL", 1)]))
    )
    store.act("E1", "order.claim", {"order_id": "W-1"}, T0)
    store.apply_pull(
        feed.page(
            feed.change("order", "W-1", order_doc("W-1", [("1", "DOG2", 2)])),
            reset="cursor too old",
        )
    )
    assert [o.order_id for o in store.orders_in(["released", "picking"])] == ["W-1"]
    assert order_state(store, "W-1")["assignee"] == "E1"
    assert len(outbox_rows(store)) == 1


def test_record_sync_remembers_the_last_error_and_the_clock_offset(store: LocalStore) -> None:
    store.record_sync(at=T0, ok=False, error="No network: central did not answer")
    state = store.sync_state()
    assert (state.last_sync_at, state.last_ok_at, state.last_error) == (
        T0,
        None,
        "No network: central did not answer",
    )
    store.record_sync(at=T0 + timedelta(minutes=1), ok=True, server_time=T0 + timedelta(minutes=8))
    state = store.sync_state()
    assert (state.last_ok_at, state.last_error, state.clock_offset_s) == (
        T0 + timedelta(minutes=1),
        None,
        420.0,
    )


def test_order_json_in_the_projection_is_a_valid_order(store: LocalStore, feed: Feed) -> None:
    store.apply_pull(feed.orders(order_doc("W-1", [("1", "DOG2", 1)])))
    (data,) = [r["data"] for r in store.db.query("SELECT data FROM orders")]
    assert Order.model_validate_json(data).order_id == "W-1"
    assert store.orders(["W-404", "W-1"])[0].order_id == "W-1"


def test_a_refused_claim_names_the_time_on_the_store_s_wall_clock(
    store: LocalStore, feed: Feed
) -> None:
    doc = {**store_doc(), "timezone": "America/New_York"}
    store.apply_pull(feed.page(feed.change("store", STORE, doc)))
    store.apply_pull(
        feed.orders(order_doc("W-1", [("1", "DOG2", 1)], state="picking", assignee="E2"))
    )
    outcome = store.act("E1", "order.claim", {"order_id": "W-1"}, T0)
    assert outcome.message == "Picked by Ben since 04:00"  # 09:00 UTC in New York in March
