"""Count plans' rules: ABC classes from units moved, which places a plan counts, how they are
shared, progress; and the variance threshold in money."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from fulfillment import counts
from fulfillment.counts import CountState
from fulfillment.model import Policy
from fulfillment.outcome import Context
from fulfillment.plans import (
    AbcClass,
    CountPlan,
    PlanBy,
    PlanItem,
    PlanStock,
    abc_classes,
    in_range,
    progress,
    select_targets,
    share_out,
)

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
ITEMS = [
    PlanItem("S1", "Socks", "A-01-1", 10, "Clothing"),
    PlanItem("S2", "Shirt", "A-02-3", 20, "Clothing"),
    PlanItem("S3", "Mug", "A-03-1", 30, "Kitchen"),
    PlanItem("S4", "Pan", "A-10-2", 40, "kitchen "),
    PlanItem("S5", "Lamp", "B-01-1", 50, None),
]


def test_abc_top_80_percent_of_units_moved_is_a_next_15_b_the_rest_c() -> None:
    units = {"S1": 500, "S2": 300, "S3": 150, "S4": 50, "X": -3}
    got = abc_classes(units, [i.sku for i in ITEMS])
    # S1 starts at 0 % (A), S2 at 50 % (A), S3 at 80 % (B), S4 at 95 % (C), S5 moved nothing
    assert got == {
        "S1": AbcClass.A,
        "S2": AbcClass.A,
        "S3": AbcClass.B,
        "S4": AbcClass.C,
        "S5": AbcClass.C,
        "X": AbcClass.C,
    }


def test_abc_one_item_that_moves_almost_everything_is_a_and_nothing_moved_is_all_c() -> None:
    assert abc_classes({"S1": 99, "S2": 1}, ["S1", "S2", "S3"]) == {
        "S1": AbcClass.A,
        "S2": AbcClass.C,  # before it: 99 % of the units
        "S3": AbcClass.C,
    }
    assert set(abc_classes({}, ["S1", "S2"]).values()) == {AbcClass.C}


def test_a_location_range_compares_aisle_and_bay_as_numbers_at_the_depth_given() -> None:
    assert in_range("A-02-3", "A-01", "A-03")
    assert in_range("A-3-9", "A-01", "A-03")  # A-3 is A-03
    assert not in_range("A-10-2", "A-01", "A-03")  # not "A-1…" by text
    assert not in_range("B-01-1", "A-01", "A-03")
    assert in_range("B-01-1", "A", "B")


def test_a_plan_by_range_counts_every_place_in_it_once_in_walking_order() -> None:
    stock = [
        PlanStock("S1", "A-01-1", 4),
        PlanStock("S5", "A-02-9", 1),  # a lamp held in aisle A too
        PlanStock("S3", "Z-99", 2),  # an overflow place outside the range
    ]
    got = select_targets(
        PlanBy.LOCATION_RANGE, ITEMS, stock, location_from="A-01", location_to="A-03"
    )
    assert [(t.sku, t.location) for t in got] == [
        ("S1", "A-01-1"),
        ("S2", "A-02-3"),
        ("S5", "A-02-9"),
        ("S3", "A-03-1"),
    ]


def test_category_abc_doubtful_and_list_select_what_they_name() -> None:
    stock = [
        PlanStock("S3", "A-03-1", -2),
        PlanStock("S3", "Z-99", 5),
        PlanStock("S2", "A-02-3", 7, doubtful=True),
        PlanStock("S1", "A-01-1", 3),
    ]
    kitchen = select_targets(PlanBy.CATEGORY, ITEMS, stock, category="Kitchen")
    assert {(t.sku, t.location) for t in kitchen} == {
        ("S3", "A-03-1"),
        ("S3", "Z-99"),
        ("S4", "A-10-2"),
    }
    classes = {"S1": AbcClass.A, "S2": AbcClass.B}
    a = select_targets(PlanBy.ABC, ITEMS, stock, abc_class=AbcClass.A, classes=classes)
    assert [(t.sku, t.location) for t in a] == [("S1", "A-01-1")]
    doubtful = select_targets(PlanBy.DOUBTFUL, ITEMS, stock)
    assert [(t.sku, t.location) for t in doubtful] == [("S2", "A-02-3"), ("S3", "A-03-1")]
    listed = select_targets(PlanBy.LIST, ITEMS, stock, skus=["S5", "NOPE"], places=["a-10-2"])
    assert [(t.sku, t.location) for t in listed] == [("S4", "A-10-2"), ("S5", "B-01-1")]


def test_places_are_shared_among_assignees_in_runs_of_neighbours() -> None:
    targets = select_targets(PlanBy.LOCATION_RANGE, ITEMS, [], location_from="A", location_to="B")
    assert share_out(targets, ["E1", "E2"]) == ["E1", "E1", "E1", "E2", "E2"]
    assert share_out(targets, []) == [None] * 5


def test_progress_counts_done_tasks_and_overdue_only_with_places_left() -> None:
    plan = CountPlan(
        plan_id="P1",
        name="Aisle A",
        by=PlanBy.LOCATION_RANGE,
        scope="locations A-01 to A-03",
        due_at=NOW,
        created_by="M1",
        created_at=NOW - timedelta(days=1),
        task_ids=("T1", "T2", "T3", "T4"),
    )
    states = {"T1": "done", "T2": "open", "T3": "cancelled"}  # T4 not on this reader yet
    before = progress(plan, states, NOW - timedelta(minutes=1))
    assert (before.counted, before.total, before.overdue) == (1, 3, False)
    assert before.not_counted == ("T2", "T4") and before.text == "1 of 3 counted"
    after = progress(plan, states, NOW + timedelta(minutes=1))
    assert after.overdue
    finished = progress(
        plan, {"T1": "done", "T2": "done", "T3": "done", "T4": "done"}, NOW + timedelta(days=1)
    )
    assert finished.done and not finished.overdue


def _record(
    counted: int, book: int, policy: Policy, unit_cost: Decimal | None
) -> counts.CountOutcome:
    return counts.record(
        count_id="C1",
        task_id=None,
        sku="S1",
        location="A-01-1",
        counted=counted,
        counted_at=NOW,
        book=book,
        ctx=Context.of("E1", NOW, policy=policy),
        unit_cost=unit_cost,
    )


def test_a_small_variance_in_units_waits_when_its_value_is_over_the_money_limit() -> None:
    policy = Policy(variance_units=2, variance_pct=5, variance_value=Decimal("100"))
    # −2 units of 100 is within the unit rule; 2 × 60.00 = 120.00 is over the money limit
    dear = _record(98, 100, policy, Decimal("60.00"))
    assert dear.count is not None and dear.count.state is CountState.AWAITING_APPROVAL
    assert dear.count.value == Decimal("-120.00")
    cheap = _record(98, 100, policy, Decimal("4.99"))
    assert cheap.count is not None and cheap.count.state is CountState.POSTED
    assert cheap.count.value == Decimal("-9.98") and cheap.movements[0].qty == -2
    # no money limit, or no cost known: the unit rule alone
    assert _record(98, 100, Policy(), Decimal("60.00")).count.state is CountState.POSTED  # type: ignore[union-attr]
    unknown = _record(98, 100, policy, None).count
    assert unknown is not None and unknown.state is CountState.POSTED and unknown.value is None


def test_the_value_follows_an_approval_and_a_late_movement() -> None:
    policy = Policy(variance_value=Decimal("50"))
    waiting = _record(7, 10, policy, Decimal("20")).count
    assert waiting is not None and waiting.value == Decimal("-60.00")
    restated, _ = counts.rederive(waiting, -1)  # a sale dated before the count arrived
    assert restated.variance == -2 and restated.value == Decimal("-40.00")
    approved = counts.approve(restated, 9, Context.of("M1", NOW, policy=policy)).count
    assert approved is not None and approved.value == Decimal("-40.00")
