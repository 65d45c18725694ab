"""What central sends, every tablet can load (issue #7, finding 4, the tablet's side).

A retailer may run its own central, or an older one stored values today's API refuses:
times at the ends of the calendar, naive or unreadable times, NaN and Infinity, integers
beyond 64 bits, 100k-character text, NUL bytes, missing fields and wrong types. Each such
change still lands (the bad value replaced by a safe one), the pull moves on, every
screen renders, and one log line names the change and its fields, never their values.
"""

from __future__ import annotations

import logging
import sqlite3
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fulfillment.model import Policy
from storeapp.local import LocalStore
from storeapp.local._intake import MAX_MOMENT, MIN_MOMENT
from storeapp.viewmodels import (
    ApprovalsVM,
    CountVM,
    HandoverVM,
    HomeVM,
    PickListVM,
    QueueVM,
    ReturnsVM,
    SessionVM,
    StagingVM,
    SyncStatusVM,
    TasksVM,
)
from storeapp.viewmodels.console import ExceptionsVM, KpisVM
from sync.protocol import Change, SnapshotHeader
from tests.storeapp.builders import (
    ENROLLED,
    STORE,
    T0,
    Feed,
    count_doc,
    gtin14_of,
    item_doc,
    order_doc,
    sold_order_doc,
    store_doc,
    task_doc,
)

YEAR_ONE = "0001-01-01T00:00:00+01:00"  # its UTC is before the calendar starts
CALENDAR_END = "9999-12-31T23:59:59-05:00"  # its UTC is after the calendar ends
HUGE = 10**30  # beyond 64 bits: SQLite cannot hold it
LONG = "x" * 100_000
SECRET = "Jo\x00 Secret-Customer"  # a customer's name with a NUL byte: never in a log


def clock() -> datetime:
    return T0


def bad_policy() -> dict[str, Any]:
    return {
        "variance_pct": float("inf"),
        "variance_units": 7,  # a good field stays
        "at_risk_minutes": HUGE,
        "return_window_days": -1,
        "max_orders_per_pick_list": 0,
        "pickup_hold_days": 10**9,
        "offline_return_limit": "NaN",
        "carriers": "DHL",
    }


def extreme_docs() -> list[tuple[str, str, dict[str, Any]]]:
    """(kind, id, data) of one store's documents, each with values a buggy central sends."""
    early = order_doc("W-EARLY", [("1", "DOG2", 1)], customer=(SECRET, "jo@example.com", "1"))
    early["due_at"] = YEAR_ONE
    late = order_doc("W-LATE", [("1", "CAT1", 1)])
    late.update(due_at=CALENDAR_END, priority=HUGE, tracking=LONG)
    naive = order_doc("W-NAIVE", [("1", "DOG2", 2), ("2", "BOWL", 1)])
    naive["due_at"] = "2025-03-03T10:00:00"
    naive["lines"][1]["qty"] = 0  # a line that cannot be picked
    junk = order_doc("W-JUNK", [("1", "DOG12", 1)])
    junk.update(due_at="soon", created_at="yesterday", type="drone", lines_extra=[1, 2])
    staged = order_doc(
        "W-STAGED", [("1", "BOWL", 1)], state="staged", picked={"1": 1}, pickup_code="ABCD"
    )
    staged.update(staged_at=CALENDAR_END, claimed_at="never", packages=HUGE)
    sold = sold_order_doc("W-SOLD", [("1", "DOG2", 2)], pickup_code="SOLD1")
    sold["fulfilled_at"] = YEAR_ONE
    ret = {
        "return_id": "R-1",
        "order_id": "W-SOLD",
        "state": "awaiting_override",
        "lines": [
            {
                "line_id": "1",
                "sku": "DOG2",
                "qty": HUGE,
                "reason": "teleported",
                "condition": "sellable",
                "disposition": "restock",
                "price": "NaN",
            }
        ],
        "refund_amount": "Infinity",
        "received_by": "E1",
        "received_at": YEAR_ONE,
        "override_at": "not a time",
    }
    count = count_doc("C-1", "DOG2", 20, 10)  # over the threshold: waits for a manager
    count.update(counted_at=CALENDAR_END, counted=HUGE, decided_at="junk")
    odd_item = {
        "sku": "ODD",
        "gtins": ["x", 5],
        "name": LONG,
        "price": "Infinity",
        "location": None,
        "location_seq": HUGE,
        "final_sale": "yes",
    }
    return [
        ("store", STORE, {**store_doc(**bad_policy()), "timezone": "Mars/Olympus\x00" * 9}),
        ("order", "W-EARLY", early),
        ("order", "W-LATE", late),
        ("order", "W-NAIVE", naive),
        ("order", "W-JUNK", junk),
        ("order", "W-STAGED", staged),
        ("order", "W-SOLD", sold),
        ("return", "R-1", ret),
        ("count", "C-1", count),
        ("task", "T-1", {**task_doc("T-1", "recount"), "qty": "lots", "created_at": YEAR_ONE}),
        ("task", "T-2", {**task_doc("T-2"), "qty": HUGE, "created_at": "2025-03-03T07:00:00"}),
        ("item", "ODD", odd_item),
        (
            "stock",
            "DOG2@A-12",
            {"sku": "DOG2", "location": "A-12", "on_hand": HUGE, "reserved": "x"},
        ),
        ("staff", "E7", {"employee_id": "E7", "name": LONG, "role": "boss", "active": "no"}),
        (
            "exception",
            "X-1",
            {
                "exception_id": "X-1",
                "code": "QUARANTINED",
                "message": "m",
                "state": "open",
                "created_at": "2025-03-03T08:00:00",  # naive
                "actor_id": 5,
            },
        ),
        (
            "exception",
            "X-2",
            {"exception_id": "X-2", "code": 5, "state": "open", "created_at": YEAR_ONE},
        ),
        ("device", "dev-1", {"name": 7, "last_seen_at": "junk"}),
    ]


def pull_extremes(store: LocalStore, feed: Feed) -> None:
    store.apply_pull(feed.page(*(feed.change(k, i, d) for k, i, d in extreme_docs())))


def signed_in(store: LocalStore, employee_id: str, pin: str) -> SessionVM:
    session = SessionVM(store)
    assert session.sign_in(employee_id, pin).signed_in
    return session


# --- the pull lands ----------------------------------------------------------------------


def test_a_page_full_of_extreme_values_lands_and_its_cursor_moves_on(
    store: LocalStore, feed: Feed, db_path: Path
) -> None:
    pull_extremes(store, feed)

    assert store.sync_state().cursor == f"c{feed.version}"
    with sqlite3.connect(db_path) as conn:
        held = set(conn.execute("SELECT kind, id FROM srv_docs").fetchall())
    assert {(k, i) for k, i, _ in extreme_docs()} <= held
    assert {"W-EARLY", "W-LATE", "W-NAIVE", "W-JUNK", "W-STAGED"} <= {
        o.order_id for o in store.orders_in(["released", "picking", "staged"])
    }


def test_an_order_due_in_year_one_with_an_offset_shows_late_at_the_earliest_time_held(
    store: LocalStore, feed: Feed, maria: SessionVM
) -> None:
    pull_extremes(store, feed)

    rows = {r.order_id: r for r in QueueVM(store, maria, clock=clock).screen().rows}

    assert rows["W-EARLY"].due_at == MIN_MOMENT
    assert rows["W-EARLY"].late
    assert rows["W-EARLY"].time_left.startswith("late ")


def test_an_order_due_at_the_calendars_end_shows_at_the_latest_time_held(
    store: LocalStore, feed: Feed, maria: SessionVM
) -> None:
    pull_extremes(store, feed)

    rows = QueueVM(store, maria, clock=clock).screen().rows

    assert rows[0].order_id == "W-LATE"  # its priority, beyond 64 bits, clamped: first
    assert rows[0].due_at == MAX_MOMENT
    assert not rows[0].late and not rows[0].at_risk
    assert rows[0].time_left.endswith(" left")


def test_orders_at_both_ends_of_the_calendar_sort_by_due_time(
    store: LocalStore, feed: Feed
) -> None:
    early = order_doc("W-A", [("1", "DOG2", 1)])
    early["due_at"] = YEAR_ONE
    soon = order_doc("W-B", [("1", "DOG2", 1)])
    last = order_doc("W-C", [("1", "DOG2", 1)])
    last["due_at"] = CALENDAR_END
    store.apply_pull(feed.orders(last, soon, early))

    assert [o.order_id for o in store.orders_in(["released"])] == ["W-A", "W-B", "W-C"]


def test_a_naive_due_time_is_read_as_utc_and_an_unpickable_line_is_left_out(
    store: LocalStore, feed: Feed
) -> None:
    pull_extremes(store, feed)

    order = store.order("W-NAIVE")

    assert order is not None
    assert order.due_at == datetime(2025, 3, 3, 10, 0, tzinfo=UTC)
    assert [(x.line_id, x.sku, x.qty) for x in order.lines] == [("1", "DOG2", 2)]


def test_an_unreadable_due_time_falls_back_to_the_orders_creation(
    store: LocalStore, feed: Feed
) -> None:
    doc = order_doc("W-1", [("1", "DOG2", 1)])
    doc["due_at"] = "tomorrow-ish"
    store.apply_pull(feed.orders(doc))

    order = store.order("W-1")

    assert order is not None
    assert order.due_at == T0 - timedelta(minutes=5)  # created_at of order_doc


def test_a_policy_with_infinity_and_fields_out_of_range_falls_back_to_the_defaults(
    store: LocalStore, feed: Feed, ana: SessionVM
) -> None:
    store.apply_pull(feed.page(feed.change("store", STORE, store_doc(**bad_policy()))))
    store.apply_pull(feed.orders(order_doc("W-1", [("1", "DOG2", 1)])))

    screen = QueueVM(store, ana, clock=clock).screen()

    assert store.policy() == Policy(variance_units=7)
    assert screen.max_selection == Policy().max_orders_per_pick_list
    assert [r.order_id for r in screen.rows] == ["W-1"]


def test_an_unknown_time_zone_is_read_as_utc(store: LocalStore, feed: Feed) -> None:
    store.apply_pull(feed.page(feed.change("store", STORE, {**store_doc(), "timezone": LONG})))

    assert store.store_info()["timezone"] == "UTC"  # type: ignore[index]


# --- every kind, every bad value ---------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "id_", "data"),
    [
        pytest.param(k, i, d, id=f"{k}-{i}")
        for k, i, d in [
            *extreme_docs(),
            ("order", "W-EMPTY", {}),
            ("order", "W-LINES", {**order_doc("W-LINES", [("1", "DOG2", 1)]), "lines": "x"}),
            ("order", "W-NUL", {**order_doc("W-NUL", [("1", "DOG2", 1)]), "order_id": "W\x00"}),
            ("count", "C-EMPTY", {}),
            ("return", "R-EMPTY", {}),
            ("task", "T-EMPTY", {}),
            ("item", "I-EMPTY", {}),
            ("stock", "S-EMPTY", {}),
            ("staff", "E-EMPTY", {}),
            ("store", STORE, {"policy": "none", "name": 5}),
            ("exception", "X-EMPTY", {}),
            ("device", "D-EMPTY", {}),
            ("somethingnew", "N-1", {"value": HUGE, "when": float("nan")}),
        ]
    ],
)
def test_a_change_of_any_kind_with_bad_values_lands_and_every_screen_renders(
    store: LocalStore, feed: Feed, kind: str, id_: str, data: dict[str, Any]
) -> None:
    store.apply_pull(feed.page(feed.change(kind, id_, data)))

    assert store.sync_state().cursor == f"c{feed.version}"
    assert store.docs(kind), f"the {kind} change did not land"
    render_every_screen(store)


def render_every_screen(store: LocalStore) -> None:
    """Every screen, for an associate and for a manager, as the app opens them."""
    for employee_id, pin in (("E1", "1234"), ("M1", "9999")):
        who = signed_in(store, employee_id, pin)
        for vm in (
            QueueVM,
            TasksVM,
            ReturnsVM,
            CountVM,
            ApprovalsVM,
            ExceptionsVM,
            KpisVM,
            StagingVM,
            HandoverVM,
            PickListVM,
        ):
            vm(store, who, clock=clock).screen()
        HomeVM(store, who, clock=clock).screen()
        SyncStatusVM(store, clock=clock).screen()


# --- every screen, acting on the extreme documents ------------------------------------------


def test_every_screen_shows_and_acts_on_extreme_documents(
    store: LocalStore, feed: Feed, ana: SessionVM, maria: SessionVM
) -> None:
    pull_extremes(store, feed)

    queue = QueueVM(store, ana, clock=clock)
    claimed = queue.claim("W-EARLY")
    assert claimed.pick_list == ("W-EARLY",), claimed.message

    picking = PickListVM(store, ana, clock=clock)
    opened = picking.open(["W-EARLY"])
    assert opened.order_ids == ("W-EARLY",) and opened.total_units == 1
    scanned = picking.scan(gtin14_of("DOG2"))
    assert scanned.tone == "ok", scanned.message

    staging = StagingVM(store, ana, clock=clock).open("W-STAGED")
    assert staging.current is not None and staging.current.order_id == "W-STAGED"

    handover = HandoverVM(store, ana, clock=clock)
    found = handover.find("ABCD")
    assert any(o.order_id == "W-STAGED" for o in found.matches), found.message
    handover.select("W-STAGED")

    returns = ReturnsVM(store, ana, clock=clock)
    shown = returns.find("SOLD1")
    assert shown.tone != "error", shown.message

    approvals = ApprovalsVM(store, maria, clock=clock).screen()
    assert "C-1" in {c.count_id for c in approvals.counts}
    assert "R-1" in {r.return_id for r in approvals.returns}

    exceptions = ExceptionsVM(store, maria, clock=clock).screen()
    whens = {r.exception_id: r.when for r in exceptions.rows}
    assert whens["X-1"] == "1 h ago"  # naive: read as UTC
    assert whens["X-2"].endswith(" ago")

    tasks = TasksVM(store, ana, clock=clock).screen()
    assert {"T-1", "T-2"} <= {t.task_id for t in tasks.rows}

    KpisVM(store, maria, clock=clock).screen()
    HomeVM(store, maria, clock=clock).screen()
    CountVM(store, ana, clock=clock).screen()
    SyncStatusVM(store, clock=clock).screen()


# --- the log ------------------------------------------------------------------------------


def test_each_repaired_change_is_logged_once_with_its_kind_id_and_fields_never_values(
    store: LocalStore, feed: Feed, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="storeapp.local")

    pull_extremes(store, feed)

    lines = [r.getMessage() for r in caplog.records if r.name.startswith("storeapp.local")]
    repaired = [x for x in lines if x.startswith("change_repaired")]
    bad = {(k, i) for k, i, _ in extreme_docs()}
    assert len(repaired) == len(bad)
    for kind, id_ in bad:
        assert sum(f"kind='{kind}' id='{id_}'" in x for x in repaired) == 1, (kind, id_)
    early = next(x for x in repaired if "id='W-EARLY'" in x)
    assert "due_at" in early and "customer.name" in early
    text = "\n".join(lines)
    assert "Secret" not in text and LONG not in text


# --- a snapshot (the first download) ----------------------------------------------------------


def test_a_snapshot_with_extreme_values_loads_and_the_queue_renders(db_path: Path) -> None:
    feed = Feed()
    basics = feed.basics().changes
    bad = [feed.change(k, i, d) for k, i, d in extreme_docs()]
    with LocalStore(db_path) as local:
        local.enroll(ENROLLED, "http://central.test/")
        header = SnapshotHeader(
            cursor="snap", last_applied_seq=0, server_time=T0, count=len(basics) + len(bad)
        )
        local.load_snapshot(header, [*basics, *bad, Change(kind="order", id="W-V", version=HUGE)])

        rows = QueueVM(local, signed_in(local, "E1", "1234"), clock=clock).screen().rows

        assert local.sync_state().cursor == "snap"
        assert {"W-EARLY", "W-LATE"} <= {r.order_id for r in rows}


# --- any JSON at all ------------------------------------------------------------------------

_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats()
    | st.text(max_size=8)
    | st.sampled_from([YEAR_ONE, CALENDAR_END, "2025-03-03T10:00:00", "\x00", "NaN"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)
_DOCS = {
    "order": order_doc("W-H", [("1", "DOG2", 1)], state="staged", picked={"1": 1}),
    "store": store_doc(),
    "task": task_doc("T-H"),
    "count": count_doc("C-H", "DOG2", 20, 10),
    "item": item_doc("DOG2"),
}


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    kind=st.sampled_from(sorted(_DOCS)),
    field=st.sampled_from(
        ["due_at", "lines", "qty", "policy", "timezone", "created_at", "counted_at", "gtins"]
    ),
    nested=st.booleans(),
    value=_JSON,
)
def test_any_json_value_in_any_field_lands_and_the_screens_render(
    kind: str, field: str, nested: bool, value: Any
) -> None:
    data = dict(_DOCS[kind])
    if nested and kind == "order":
        data["lines"] = [{**data["lines"][0], field: value}]
    elif nested and kind == "store":
        data["policy"] = {field: value, "variance_pct": value}
    else:
        data[field] = value
    id_ = str(data.get("order_id") or data.get("task_id") or data.get("count_id") or "X")
    with tempfile.TemporaryDirectory() as tmp, LocalStore(Path(tmp) / "t.db") as local:
        local.enroll(ENROLLED, "http://central.test/")
        feed = Feed()
        local.apply_pull(feed.basics())
        local.apply_pull(feed.page(feed.change(kind, id_ if kind != "store" else STORE, data)))
        assert local.sync_state().cursor == f"c{feed.version}"
        render_every_screen(local)
