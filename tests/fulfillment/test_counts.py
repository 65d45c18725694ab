from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from fulfillment.counts import (
    CountOutcome,
    CountState,
    approve,
    over_threshold,
    record,
    rederive,
    send_back,
)
from fulfillment.ledger import MovementKind
from fulfillment.model import Policy, Role
from fulfillment.outcome import Status, TaskKind

from .builders import NOW, ctx


def count(counted: int, book: int, *, actor: str = "E1", **kw: Any) -> CountOutcome:
    return record(
        count_id=str(kw.pop("count_id", "C1")),
        task_id=None,
        sku="SKU-1",
        location="A-01-1",
        counted=counted,
        counted_at=NOW,
        book=book,
        ctx=ctx(actor),
        name="Item 1",
        **kw,
    )


@pytest.mark.parametrize(
    ("variance", "book", "over"),
    [(2, 10, False), (3, 100, False), (3, 10, True), (-3, 10, True), (3, 0, True), (0, 0, False)],
)
def test_the_threshold_is_more_than_2_units_and_more_than_5_percent(
    variance: int, book: int, over: bool
) -> None:
    assert over_threshold(variance, book, Policy()) is over


def test_a_count_within_tolerance_adjusts_the_books_at_once() -> None:
    out = count(9, 10)
    assert out.status is Status.APPLIED and out.count is not None
    assert (out.count.state, out.count.variance, out.count.adjustment) == (
        CountState.POSTED,
        -1,
        -1,
    )
    [move] = out.movements
    assert (move.kind, move.qty, move.location) == (MovementKind.COUNT_ADJUST, -1, "A-01-1")


def test_a_count_that_matches_moves_nothing() -> None:
    out = count(10, 10)
    assert (
        out.movements == () and out.count is not None and out.count.message == "Matches the books"
    )


def test_a_big_variance_waits_for_another_manager() -> None:
    out = count(4, 10)
    assert out.count is not None and out.count.state is CountState.AWAITING_APPROVAL
    assert (out.code, out.movements) == ("VARIANCE_OVER_THRESHOLD", ())
    assert out.message == "4 counted: the difference waits for a manager"  # still blind

    own = approve(out.count, 10, ctx("E1", role=Role.MANAGER))
    assert (own.status, own.code) == (Status.REJECTED, "SAME_PERSON")
    # a sale dated before the count arrived meanwhile: the book at counted_at is now 9
    ok = approve(out.count, 9, ctx("M1", role=Role.MANAGER))
    assert ok.count is not None
    assert (ok.count.state, ok.count.adjustment, ok.count.decided_by_name) == (
        CountState.APPROVED,
        -5,
        "Maria",
    )
    assert [m.qty for m in ok.movements] == [-5]
    assert approve(ok.count, 9, ctx("M1", role=Role.MANAGER)).code == "NOT_WAITING"


def test_sending_a_count_back_asks_for_a_blind_recount_and_posts_nothing() -> None:
    waiting = count(4, 10).count
    assert waiting is not None
    out = send_back(waiting, ctx("M1", role=Role.MANAGER))
    assert out.count is not None and out.count.state is CountState.RECOUNT
    assert out.movements == ()
    [task] = out.followups
    assert (task.kind, task.sku, task.location) == (TaskKind.RECOUNT, "SKU-1", "A-01-1")


def test_two_counts_that_disagree_with_nothing_moved_between_ask_for_a_recount() -> None:
    first = count(14, 14).count
    out = count(11, 14, actor="E2", count_id="C2", previous=first, moved_since_previous=False)
    assert (out.status, out.code) == (Status.COMPENSATED, "COUNT_DISAGREES")
    assert out.count is not None and out.count.state is CountState.DISPUTED
    assert out.message == "14 vs 11 — blind recount requested"
    assert out.movements == () and [f.kind for f in out.followups] == [TaskKind.RECOUNT]


def test_a_second_count_after_stock_moved_is_judged_on_its_own() -> None:
    first = count(14, 14).count
    out = count(13, 14, count_id="C2", previous=first, moved_since_previous=True)
    assert out.count is not None and out.count.state is CountState.POSTED


def test_a_late_sale_dated_before_the_count_re_derives_the_adjustment() -> None:
    posted = count(9, 10).count  # -1 posted
    assert posted is not None
    # a hand-over of 1 unit at NOW - 1 h reaches central after the count
    again, moves = rederive(posted, -1)
    assert (again.book, again.variance, again.adjustment) == (9, 0, 0)
    assert [m.qty for m in moves] == [1]  # on-hand ends at what was counted


def test_a_late_movement_only_restates_a_waiting_count() -> None:
    waiting = count(4, 10).count
    assert waiting is not None
    again, moves = rederive(waiting, -2)
    assert (again.book, again.variance, moves) == (8, -4, ())


def test_counted_at_is_kept_as_the_moment_of_the_observation() -> None:
    out = record(
        count_id="C1",
        task_id="T-1",
        sku="SKU-1",
        location="A-01-1",
        counted=3,
        counted_at=NOW - timedelta(hours=2),
        book=3,
        ctx=ctx(),
    )
    assert out.count is not None
    assert (out.count.counted_at, out.count.task_id) == (NOW - timedelta(hours=2), "T-1")


def test_a_recount_after_a_dispute_is_judged_against_the_books() -> None:
    first = count(14, 14).count
    disputed = count(11, 14, count_id="C2", previous=first, moved_since_previous=False).count
    assert disputed is not None and disputed.state is CountState.DISPUTED
    again = count(14, 14, count_id="C3", previous=disputed, moved_since_previous=False)
    assert again.count is not None and again.count.state is CountState.POSTED
