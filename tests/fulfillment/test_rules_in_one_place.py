"""The predicates, the context factory and the words that view-models share with the rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from fulfillment.clock import duration, store_zone
from fulfillment.codes import Code
from fulfillment.counts import CountOutcome, approve, record, send_back
from fulfillment.model import Policy, Role
from fulfillment.outcome import Context, RuleResult, Status
from fulfillment.picking import claim, scan, short_pick, stage, stage_blocker
from fulfillment.roles import may_decide

from .builders import NAMES, NOW, ctx, gtin, line, order

# --- staging ---------------------------------------------------------------------------


def test_an_order_with_a_line_still_open_cannot_be_staged_and_says_how_many_units() -> None:
    o = claim(order(line(1, qty=2), line(2, qty=1)), ctx()).order
    o = scan(o, "1", gtin(1), 2, "A-01-1", ctx()).order
    blocker = stage_blocker(o, Policy())
    assert blocker is not None
    assert (blocker.code, blocker.message) == (
        Code.LINES_OPEN,
        "1 unit(s) still to pick or mark short",
    )
    refused = stage(o, "P-1", 1, ctx())
    assert (refused.status, refused.code, refused.message) == (
        Status.REJECTED,
        blocker.code,
        blocker.message,
    )


def test_a_fully_picked_order_may_be_staged() -> None:
    o = claim(order(line(1, qty=1)), ctx()).order
    o = scan(o, "1", gtin(1), 1, "A-01-1", ctx()).order
    assert stage_blocker(o, Policy()) is None
    assert stage(o, "P-1", 1, ctx()).status is Status.APPLIED


def test_an_order_where_nothing_could_be_picked_is_sent_back_not_staged() -> None:
    o = claim(order(line(1, qty=1)), ctx()).order
    o = short_pick(o, "1", 1, "not_found", ctx()).order
    blocker = stage_blocker(o, Policy())
    assert blocker is not None and blocker.code is Code.NOTHING_PICKED
    assert "send the order back" in blocker.message


def test_a_partly_short_order_is_blocked_only_where_the_store_sends_no_partial_orders() -> None:
    o = claim(order(line(1, qty=1), line(2, qty=1)), ctx()).order
    o = scan(o, "1", gtin(1), 1, "A-01-1", ctx()).order
    o = short_pick(o, "2", 1, "damaged", ctx()).order
    assert stage_blocker(o, Policy(allow_partial=True)) is None
    blocker = stage_blocker(o, Policy(allow_partial=False))
    assert blocker is not None and blocker.code is Code.PARTIAL_NOT_ALLOWED
    assert stage(o, "P-1", 1, ctx(allow_partial=False)).code == blocker.code


# --- who may decide --------------------------------------------------------------------


def _waiting_count(counter: str) -> CountOutcome:
    return record(
        count_id="C1",
        task_id=None,
        sku="SKU-1",
        location="A-01-1",
        counted=4,
        counted_at=NOW,
        book=10,
        ctx=ctx(counter),
        name="Item 1",
    )


def test_the_manager_who_counted_cannot_approve_or_send_back_their_own_count() -> None:
    waiting = _waiting_count("M1").count
    assert waiting is not None
    assert not may_decide("M1", waiting.counted_by)
    manager = ctx("M1", role=Role.MANAGER)
    for out in (approve(waiting, 10, manager), send_back(waiting, manager)):
        assert (out.status, out.code, out.count) == (Status.REJECTED, Code.SAME_PERSON, None)
        assert out.message == "A manager cannot approve a count they made themselves"


def test_another_manager_may_decide_on_the_count() -> None:
    waiting = _waiting_count("E1").count
    assert waiting is not None
    assert may_decide("M1", waiting.counted_by)
    out = approve(waiting, 10, ctx("M1", role=Role.MANAGER))
    assert out.status is Status.APPLIED and out.code is None


# --- the store's clock in words ---------------------------------------------------------


@pytest.mark.parametrize("name", [None, "", "Mars/Olympus_Mons", "../etc"])
def test_a_store_without_a_known_time_zone_is_on_utc(name: str | None) -> None:
    assert store_zone(name).key == "UTC"


def test_a_store_time_zone_is_its_own_wall_clock() -> None:
    at = datetime(2026, 7, 1, 8, 30, tzinfo=UTC)
    assert at.astimezone(store_zone("Europe/Berlin")).strftime("%H:%M") == "10:30"
    assert Context.of("E1", NOW, timezone="Europe/Berlin").clock_time(at) == "10:30"
    assert Context.of("E1", NOW, timezone="Nowhere/Special").clock_time(at) == "08:30"


@pytest.mark.parametrize(
    ("delta", "words"),
    [
        (timedelta(seconds=-5), "0 s"),
        (timedelta(seconds=45), "45 s"),
        (timedelta(minutes=12, seconds=59), "12 min"),
        (timedelta(hours=3), "3 h"),
        (timedelta(hours=3, minutes=12), "3 h 12 min"),
        (timedelta(days=2), "2 d"),
        (timedelta(days=2, hours=4, minutes=30), "2 d 4 h"),
    ],
)
def test_a_span_of_time_is_said_one_way(delta: timedelta, words: str) -> None:
    assert duration(delta) == words


# --- one context factory -----------------------------------------------------------------


def test_the_context_factory_reads_a_manager_by_name_on_the_stores_clock() -> None:
    c = Context.of("M1", NOW, role="manager", staff_names=NAMES, timezone="Europe/Berlin")
    assert (c.role, c.name_of("M1"), c.timezone) == (Role.MANAGER, "Maria", "Europe/Berlin")
    assert c.policy == Policy()


@pytest.mark.parametrize("role", [None, "", "owner"])
def test_someone_of_no_known_role_acts_as_an_associate_on_utc(role: str | None) -> None:
    c = Context.of("X9", NOW, role=role, timezone=None)
    assert (c.role, c.timezone, c.name_of("X9")) == (Role.ASSOCIATE, "UTC", "X9")


# --- one result shape ---------------------------------------------------------------------


def _said(result: RuleResult) -> tuple[Status, str | None, str | None]:
    return result.status, result.code, result.message


def test_every_rule_answers_with_a_status_a_code_of_the_table_and_a_sentence() -> None:
    o = claim(order(line(1, qty=2)), ctx()).order
    waiting = _waiting_count("M1")
    assert waiting.count is not None
    results: list[RuleResult] = [
        stage(o, "P-1", 1, ctx()),
        claim(o, ctx("E2")),
        waiting,
        approve(waiting.count, 10, ctx("M1", role=Role.MANAGER)),
    ]
    for result in results:
        status, code, message = _said(result)
        assert isinstance(status, Status)
        assert isinstance(code, Code), code  # named through the table, same wire value
        assert message
