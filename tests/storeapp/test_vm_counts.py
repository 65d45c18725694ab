"""View-model: blind cycle counts on the shelf, on a real tablet file."""

from __future__ import annotations

import dataclasses

import pytest

from storeapp.local import LocalStore
from storeapp.viewmodels import CountVM, SessionVM, TasksVM
from storeapp.viewmodels.counting import CountScreen, RecentCount
from tests.storeapp.builders import T0, Feed, count_doc, gtin, result, task_doc
from tests.storeapp.conftest import FakeClock

ON_HAND = 4711  # what the local stock table says: never on the count screen


@pytest.fixture
def stocked(store: LocalStore, feed: Feed) -> None:
    store.apply_pull(
        feed.page(
            feed.change(
                "stock",
                "DOG2@A-12",
                {
                    "sku": "DOG2",
                    "location": "A-12",
                    "on_hand": ON_HAND,
                    "reserved": 0,
                    "available": ON_HAND,
                },
            ),
            feed.change(
                "task",
                "T-2",
                task_doc(
                    "T-2", "recount", "BOWL", "C-01", 0, order_id=None, reason="short: not_found"
                ),
            ),
        )
    )


def vm(store: LocalStore, session: SessionVM, clock: FakeClock) -> CountVM:
    return CountVM(store, session, clock=clock)


def test_an_ad_hoc_count_by_scan_is_queued_with_its_payload_and_seq(
    store: LocalStore, stocked: None, ana: SessionVM, clock: FakeClock
) -> None:
    counting = vm(store, ana, clock)
    started = counting.scan(gtin(1))
    assert (started.sku, started.name, started.location, started.tone) == (
        "DOG2",
        "Dog Food 2 kg",
        "A-12",
        "ok",
    )
    assert started.message == "Count Dog Food 2 kg at A-12: scan each unit, or type how many."
    counting.digit(1)
    assert counting.digit("4").qty_text == "14"
    done = counting.submit()
    assert (done.tone, done.message) == (
        "ok",
        "Counted 14 × Dog Food 2 kg at A-12. Central compares it with the books.",
    )
    assert not done.counting
    [op] = store.outbox()
    assert (op.seq, op.type, op.actor_id) == (1, "count.record", "E1")
    assert op.payload == {
        "count_id": op.payload["count_id"],
        "task_id": None,
        "sku": "DOG2",
        "location": "A-12",
        "qty": 14,
        "counted_at": "2025-03-03T09:00:00Z",
    }
    assert op.payload["count_id"].startswith("C-")
    assert done.recent == (
        RecentCount(
            op.payload["count_id"],
            "Dog Food 2 kg",
            "A-12",
            "09:00",
            "14 counted · waiting to sync",
            "info",
            True,
        ),
    )
    local = store.get_count(op.payload["count_id"])
    assert local is not None
    assert (local.state, local.book, local.variance, local.pending) == (
        "submitted",
        None,
        None,
        True,
    )


def test_zero_is_a_count_and_the_location_can_be_changed(
    store: LocalStore, stocked: None, ana: SessionVM, clock: FakeClock
) -> None:
    counting = vm(store, ana, clock)
    counting.scan(gtin(1))
    assert counting.set_location(" b-07 ").location == "B-07"
    assert counting.submit().message == "Type how many are there (0 if none)."
    counting.digit(0)
    assert counting.digit(0).qty_text == "0"
    counting.submit()
    [op] = store.outbox()
    assert (op.payload["location"], op.payload["qty"]) == ("B-07", 0)


def test_the_number_pad_clears_takes_back_and_caps(
    store: LocalStore, stocked: None, ana: SessionVM, clock: FakeClock
) -> None:
    counting = vm(store, ana, clock)
    assert counting.digit(3).message == "Scan the item to count first."
    counting.scan(gtin(1))
    for d in "12345":
        counting.digit(d)
    too_many = counting.digit(6)
    assert too_many.tone == "error" and too_many.qty_text == "12345"
    assert counting.backspace().qty_text == "1234"
    assert counting.clear().qty_text == ""
    assert counting.set_qty(-1).tone == "error"
    assert counting.set_qty(7).qty == 7
    assert counting.scan(gtin(1)).qty == 8  # each scan of the item counted: +1
    assert counting.cancel().sku is None
    assert store.outbox() == []


def test_counting_is_blind_no_book_before_submit(
    store: LocalStore, stocked: None, ana: SessionVM, clock: FakeClock
) -> None:
    names = {f.name for f in dataclasses.fields(CountScreen)}
    assert not names & {"book", "expected", "on_hand", "stock", "variance", "available"}
    counting = vm(store, ana, clock)
    screens = [counting.screen(), counting.scan(gtin(1)), counting.digit(4), counting.digit(7)]
    screens += [counting.set_location("A-12"), counting.submit()]
    for s in screens:
        assert str(ON_HAND) not in repr(s)
    assert screens[-2].qty == 47


def test_a_recount_task_opens_the_count_and_shows_done_at_once(
    store: LocalStore, stocked: None, ana: SessionVM, clock: FakeClock
) -> None:
    tasks = TasksVM(store, ana, clock=clock)
    [row] = tasks.screen().rows
    assert row.opens_count
    refused = tasks.done("T-2")
    assert (refused.tone, refused.message) == (
        "error",
        "Recount Steel Bowl at C-01: count it to finish this task.",
    )
    counting = vm(store, ana, clock)
    assert [(t.task_id, t.name, t.location) for t in counting.screen().tasks] == [
        ("T-2", "Steel Bowl", "C-01")
    ]
    started = counting.start("T-2")
    assert (started.task_id, started.sku, started.location, started.qty_text) == (
        "T-2",
        "BOWL",
        "C-01",
        "",
    )
    counting.scan(gtin(4))
    counting.scan(gtin(4))
    assert counting.scan(gtin(4)).qty == 3
    wrong = counting.scan(gtin(1))
    assert (wrong.tone, wrong.message) == (
        "error",
        "This is Dog Food 2 kg — you are counting Steel Bowl. Submit or cancel that count first.",
    )
    done = counting.submit()
    assert done.tasks == ()
    [op] = store.outbox()
    assert (op.payload["task_id"], op.payload["sku"], op.payload["qty"]) == ("T-2", "BOWL", 3)
    task_t2 = store.task("T-2")
    assert task_t2 is not None
    assert task_t2.state == "done"
    assert tasks.screen().rows == ()
    assert counting.start("T-2").message == "That recount is no longer open."


def test_central_answer_replaces_the_pending_count_after_the_pull(
    store: LocalStore, feed: Feed, stocked: None, ana: SessionVM, clock: FakeClock
) -> None:
    counting = vm(store, ana, clock)
    counting.start("T-2")
    counting.set_qty(14)
    counting.submit()
    [op] = store.pending(10)
    count_id = op["payload"]["count_id"]
    # a pull before central applied it: the task comes back open, the count stays pending
    store.apply_pull(
        feed.page(
            feed.change("task", "T-2", task_doc("T-2", "recount", "BOWL", "C-01", 0)),
            last_applied_seq=0,
        )
    )
    task_t2 = store.task("T-2")
    assert task_t2 is not None
    assert task_t2.state == "done"
    assert counting.screen().recent[0].text == "14 counted · waiting to sync"
    # central applied it: its count doc and the closed task arrive
    store.acknowledge([result(op)])
    store.apply_pull(
        feed.page(
            feed.change("count", count_id, count_doc(count_id, "BOWL", 14, 16, task_id="T-2")),
            feed.change("task", "T-2", task_doc("T-2", "recount", "BOWL", "C-01", 0, state="done")),
            last_applied_seq=1,
        )
    )
    [recent] = counting.screen().recent
    assert (recent.text, recent.tone, recent.pending) == (
        "14 counted · \u22122 adjusted",
        "ok",
        False,
    )
    row = store.get_count(count_id)
    assert row is not None
    assert (row.state, row.book, row.adjustment) == ("posted", 16, -2)
    task_t2 = store.task("T-2")
    assert task_t2 is not None
    assert task_t2.state == "done"


def test_recent_counts_say_what_central_made_of_them(
    store: LocalStore, feed: Feed, ana: SessionVM, clock: FakeClock
) -> None:
    first = count_doc("C-1", "DOG2", 11, 11, counted_at=T0.replace(hour=8))
    store.apply_pull(
        feed.page(
            feed.change("count", "C-1", first),
            feed.change(
                "count",
                "C-2",
                count_doc(
                    "C-2",
                    "DOG2",
                    14,
                    11,
                    previous=first,
                    moved_since_previous=False,
                    counted_at=T0.replace(hour=8, minute=30),
                ),
            ),
            feed.change("count", "C-3", count_doc("C-3", "CAT1", 30, 10)),
            feed.change("count", "C-4", count_doc("C-4", "BOWL", 5, 5, counted_by="E2")),
        )
    )
    texts = [(r.count_id, r.text, r.tone) for r in vm(store, ana, clock).screen().recent]
    assert texts == [
        ("C-3", "30 counted · waits for a manager", "warning"),
        ("C-2", "11 vs 14 — blind recount requested", "warning"),
        ("C-1", "11 counted · matches the books", "ok"),
    ]
    assert "10" not in texts[0][1]  # a waiting count never shows its book


def test_unknown_scans_and_a_submit_with_nothing_chosen_are_sentences(
    store: LocalStore, ana: SessionVM, clock: FakeClock
) -> None:
    counting = vm(store, ana, clock)
    assert counting.submit().message == "Scan the item to count first."
    assert counting.scan("not a barcode").tone == "error"
    unknown = counting.scan(gtin(99))
    assert unknown.message == f"{gtin(99)} is not an item of this store."
    assert counting.set_location("A-1").message == "Scan the item to count first."
    assert store.outbox() == []


def test_a_full_re_download_keeps_the_pending_count_and_its_task_done(
    store: LocalStore, feed: Feed, stocked: None, ana: SessionVM, clock: FakeClock
) -> None:
    counting = vm(store, ana, clock)
    counting.start("T-2")
    counting.set_qty(2)
    counting.submit()
    store.apply_pull(
        feed.page(
            *feed.basics().changes,
            feed.change("task", "T-2", task_doc("T-2", "recount", "BOWL", "C-01", 0)),
            reset="too old",
        )
    )
    [recent] = counting.screen().recent
    assert (recent.text, recent.pending) == ("2 counted · waiting to sync", True)
    task_t2 = store.task("T-2")
    assert task_t2 is not None
    assert task_t2.state == "done"
