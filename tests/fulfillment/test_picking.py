from __future__ import annotations

from datetime import timedelta

from fulfillment.ledger import MovementKind
from fulfillment.model import Order, OrderState, OrderType, Role
from fulfillment.outcome import Status, TaskKind
from fulfillment.picking import (
    cancel,
    claim,
    expire,
    hand_over,
    release,
    reservations,
    scan,
    ship,
    short_pick,
    stage,
    unscan,
)

from .builders import NOW, ctx, gtin, line, order


def picked(o: Order | None = None, qty: int = 2) -> Order:
    o = o or order(line(1, qty=qty))
    o = claim(o, ctx()).order
    return scan(o, "1", gtin(1), qty, "A-01-1", ctx()).order


def test_claiming_a_released_order_makes_it_mine_and_picking() -> None:
    out = claim(order(), ctx("E1"))
    assert (out.status, out.order.state, out.order.assignee) == (
        Status.APPLIED,
        OrderState.PICKING,
        "E1",
    )


def test_a_second_claim_names_who_holds_it_and_since_when() -> None:
    held = claim(order(), ctx("E1")).order
    out = claim(held, ctx("E2"))
    assert out.status is Status.REJECTED
    assert (out.code, out.message) == ("ALREADY_CLAIMED", "Picked by Ana since 10:00")
    assert out.order == held


def test_releasing_an_untouched_order_puts_it_back_in_the_queue() -> None:
    out = release(claim(order(), ctx()).order, ctx())
    assert (out.order.state, out.order.assignee) == (OrderState.RELEASED, None)


def test_only_the_holder_or_a_manager_may_release() -> None:
    held = claim(order(), ctx("E1")).order
    assert release(held, ctx("E2")).code == "NOT_YOURS"
    assert release(held, ctx("M1", role=Role.MANAGER)).status is Status.APPLIED


def test_a_right_scan_counts_and_moves_a_unit_into_the_tote() -> None:
    o = claim(order(line(1, qty=2)), ctx()).order
    out = scan(o, "1", gtin(1), 1, "A-01-1", ctx())
    assert out.status is Status.APPLIED
    assert out.order.lines[0].picked == 1
    assert [(m.kind, m.qty) for m in out.movements] == [(MovementKind.PICK, 1)]


def test_the_last_unit_makes_the_order_picked() -> None:
    assert picked().state is OrderState.PICKED


def test_a_scan_of_another_product_is_not_counted_and_asks_to_put_it_back() -> None:
    o = claim(order(line(1)), ctx()).order
    out = scan(o, "1", gtin(7), 1, "A-01-1", ctx())
    assert out.status is Status.COMPENSATED
    assert out.code == "WRONG_ITEM"
    assert out.order.lines[0].picked == 0
    assert out.followups[0].kind is TaskKind.PUT_BACK


def test_an_over_pick_is_capped_at_the_line_quantity_with_a_put_back_task() -> None:
    o = claim(order(line(1, qty=2)), ctx()).order
    out = scan(o, "1", gtin(1), 3, "A-01-1", ctx())
    assert out.status is Status.COMPENSATED
    assert out.order.lines[0].picked == 2
    assert [(f.kind, f.qty) for f in out.followups] == [(TaskKind.PUT_BACK, 1)]
    assert out.message == "Line wants 2: put 1 × back at A-01-1"


def test_a_scan_on_an_order_another_holds_fills_what_is_left_and_names_the_holder() -> None:
    o = picked(order(line(1, qty=2)))
    out = scan(o, "1", gtin(1), 1, "A-01-1", ctx("E2"))
    assert out.status is Status.COMPENSATED
    assert out.order.lines[0].picked == 2
    assert out.message == "Picked by Ana at 10:00 — put 1 × back at A-01-1"


def test_a_scan_on_a_cancelled_order_is_a_restock_task() -> None:
    o = cancel(claim(order(), ctx()).order, "customer", ctx("oms")).order
    out = scan(o, "1", gtin(1), 1, "A-01-1", ctx())
    assert (out.status, out.code) == (Status.COMPENSATED, "ORDER_CANCELLED")
    assert out.followups[0].kind is TaskKind.RESTOCK
    assert out.order.lines[0].picked == 0


def test_unscan_puts_back_and_reopens_the_order() -> None:
    out = unscan(picked(), "1", 1, ctx())
    assert (out.order.state, out.order.lines[0].picked) == (OrderState.PICKING, 1)
    assert out.movements[0].kind is MovementKind.PUT_BACK


def test_a_short_closes_the_line_and_asks_for_a_recount() -> None:
    o = claim(order(line(1, qty=2)), ctx()).order
    out = short_pick(o, "1", 2, "not_found", ctx())
    assert out.order.lines[0].short == 2
    assert out.order.state is OrderState.PICKED
    assert [(f.kind, f.sku, f.location) for f in out.followups] == [
        (TaskKind.RECOUNT, "SKU-1", "A-01-1")
    ]


def test_stage_needs_every_line_picked_or_short() -> None:
    o = claim(order(line(1, qty=2)), ctx()).order
    assert stage(o, "P-1", 0, ctx()).code == "LINES_OPEN"
    done = stage(picked(), "P-1", 0, ctx())
    assert (done.order.state, done.order.staging_location) == (OrderState.STAGED, "P-1")
    assert [n.kind for n in done.notifications] == ["ready_for_pickup"]


def test_a_partly_short_order_stages_only_where_the_store_allows_partial() -> None:
    o = claim(order(line(1, qty=1), line(2, qty=1)), ctx()).order
    o = scan(o, "1", gtin(1), 1, "A-01-1", ctx()).order
    o = short_pick(o, "2", 1, "damaged", ctx()).order
    assert stage(o, "P-1", 0, ctx(allow_partial=True)).status is Status.APPLIED
    assert stage(o, "P-1", 0, ctx(allow_partial=False)).code == "PARTIAL_NOT_ALLOWED"


def test_a_fully_short_order_cannot_be_staged() -> None:
    o = short_pick(claim(order(line(1, qty=1)), ctx()).order, "1", 1, "not_found", ctx()).order
    assert stage(o, "P-1", 0, ctx()).code == "NOTHING_PICKED"


def test_handing_over_some_lines_keeps_the_rest_staged() -> None:
    o = claim(order(line(1, qty=1), line(2, qty=1)), ctx()).order
    o = scan(o, "1", gtin(1), 1, "", ctx()).order
    o = scan(o, "2", gtin(2), 1, "", ctx()).order
    o = stage(o, "P-1", 0, ctx()).order
    part = hand_over(o, "pickup_code", [{"line_id": "1", "qty": 1}], ctx())
    assert part.order.state is OrderState.STAGED
    rest = hand_over(part.order, "pickup_code", [{"line_id": "2", "qty": 1}], ctx())
    assert rest.order.state is OrderState.HANDED_OVER
    assert [m.kind for m in part.movements + rest.movements] == [MovementKind.HANDOFF] * 2


def test_a_hand_over_after_cancellation_stands_and_goes_to_a_manager() -> None:
    o = stage(picked(), "P-1", 0, ctx()).order
    o = cancel(o, "customer", ctx("oms")).order
    out = hand_over(o, "id", [{"line_id": "1", "qty": 2}], ctx())
    assert (out.status, out.code) == (Status.COMPENSATED, "HANDED_OVER_AFTER_CANCEL")
    assert out.order.state is OrderState.HANDED_OVER
    assert out.movements[0].qty == 2
    assert out.exceptions[0].code == "HANDED_OVER_AFTER_CANCEL"


def test_a_handed_over_order_refuses_every_intent_after() -> None:
    o = stage(picked(), "P-1", 0, ctx()).order
    done = hand_over(o, "pickup_code", [{"line_id": "1", "qty": 2}], ctx()).order
    assert cancel(done, "late", ctx("oms")).status is Status.REJECTED
    assert claim(done, ctx()).status is Status.REJECTED
    assert stage(done, "P-2", 0, ctx()).status is Status.REJECTED
    assert scan(done, "1", gtin(1), 1, "", ctx()).order == done


def test_a_second_hand_over_stands_goes_to_a_manager_and_takes_no_stock_twice() -> None:
    o = stage(picked(), "P-1", 0, ctx()).order
    first = hand_over(o, "pickup_code", [{"line_id": "1", "qty": 2}], ctx("E1"))
    assert [m.qty for m in first.movements] == [2]
    done = first.order
    out = hand_over(
        done, "id", [{"line_id": "1", "qty": 2}], ctx("E2", now=NOW + timedelta(minutes=42))
    )
    assert (out.status, out.code) == (Status.COMPENSATED, "ALREADY_HANDED_OVER")
    assert out.message == (
        "Order W-1 was already handed over by Ana at 10:00: a manager will check the pickup"
        " shelf and call the customer"
    )
    assert out.movements == ()  # the bag left once: on-hand is not taken down again
    assert out.order == done
    assert [(x.code, x.message, x.order_id) for x in out.exceptions] == [
        (
            "ALREADY_HANDED_OVER",
            "Order W-1 handed over twice: Ben at 10:42 after Ana at 10:00 — stock left the"
            " store once; check the pickup shelf and call the customer",
            "W-1",
        )
    ]


def test_a_second_hand_over_takes_only_units_still_on_the_shelf_out_of_stock() -> None:
    o = claim(order(line(1, qty=2)), ctx()).order
    o = scan(o, "1", gtin(1), 2, "", ctx()).order
    o = stage(o, "P-1", 0, ctx()).order
    o = cancel(o, "customer", ctx("oms")).order
    after = hand_over(o, "id", [{"line_id": "1", "qty": 1}], ctx("E1")).order
    assert (after.state, after.lines[0].fulfilled) == (OrderState.HANDED_OVER, 1)
    out = hand_over(after, "id", [{"line_id": "1", "qty": 2}], ctx("E2"))
    assert out.code == "ALREADY_HANDED_OVER"
    assert [(m.kind, m.qty) for m in out.movements] == [(MovementKind.HANDOFF, 1)]
    assert out.order.lines[0].fulfilled == 2
    assert "1 unit(s) still on the shelf left with it" in out.exceptions[0].message


def test_handing_over_more_than_was_picked_asks_a_manager_and_a_recount_of_the_item() -> None:
    o = stage(picked(), "P-1", 0, ctx()).order
    assert o.state is OrderState.STAGED
    out = hand_over(o, "id", [{"line_id": "1", "qty": 3}, {"line_id": "9", "qty": 1}], ctx("E2"))
    assert (out.status, out.code) == (Status.COMPENSATED, "OVER_HANDOFF")
    assert [(m.sku, m.qty) for m in out.movements] == [("SKU-1", 2)]  # what was picked
    assert [(f.kind, f.sku, f.location) for f in out.followups] == [
        (TaskKind.RECOUNT, "SKU-1", "A-01-1")
    ]
    assert [(x.code, x.message) for x in out.exceptions] == [
        (
            "OVER_HANDOFF",
            "Order W-1: Ben at 10:00 handed over 2 unit(s) more than were picked (line 1"
            " Item 1: 1 more; line 9 (not on the order): 1 more) — recount those items on"
            " their shelves and check with the customer what was in the bag",
        )
    ]


def test_a_hand_over_after_cancellation_of_more_than_was_picked_asks_a_recount_too() -> None:
    o = cancel(stage(picked(), "P-1", 0, ctx()).order, "customer", ctx("oms")).order
    out = hand_over(o, "id", [{"line_id": "1", "qty": 3}], ctx())
    assert (out.code, [m.qty for m in out.movements]) == ("HANDED_OVER_AFTER_CANCEL", [2])
    assert [(f.kind, f.sku) for f in out.followups] == [(TaskKind.RECOUNT, "SKU-1")]
    assert "1 unit(s) more than were picked (line 1 Item 1: 1 more)" in out.exceptions[0].message


def test_a_second_shipment_stands_goes_to_a_manager_and_takes_no_stock_twice() -> None:
    o = picked(order(line(1, qty=2), type=OrderType.SHIP_FROM_STORE))
    done = ship(stage(o, "PACK", 1, ctx()).order, "DPD", "TRK1", 1, ctx("E1")).order
    out = ship(done, "DHL", "TRK2", 1, ctx("E2", now=NOW + timedelta(minutes=42)))
    assert (out.status, out.code) == (Status.COMPENSATED, "ALREADY_SHIPPED")
    assert out.message == (
        "Order W-1 had already shipped, Ana at 10:00 (DPD TRK1): this parcel (DHL TRK2) goes"
        " to a manager to check; stock was not taken off twice"
    )
    assert (out.movements, out.notifications) == ((), ())
    assert (out.order.tracking, out.order.fulfilled_by) == ("TRK1", "E1")
    assert [(x.code, x.message) for x in out.exceptions] == [
        (
            "ALREADY_SHIPPED",
            "Order W-1 shipped twice: Ben at 10:42 (DHL TRK2) after Ana at 10:00 (DPD TRK1) —"
            " stock left the store once; check the packing bench for the order's goods and"
            " ask the carrier to stop the parcel that should not go",
        )
    ]


def test_shipping_takes_the_picked_units_out_of_the_store() -> None:
    o = picked(order(line(1, qty=2), type=OrderType.SHIP_FROM_STORE))
    out = ship(stage(o, "PACK", 1, ctx()).order, "DPD", "TRK1", 1, ctx())
    assert (out.order.state, out.order.tracking) == (OrderState.SHIPPED, "TRK1")
    assert [(m.kind, m.qty) for m in out.movements] == [(MovementKind.SHIP, 2)]


def test_cancelling_a_picked_order_makes_restock_tasks() -> None:
    out = cancel(picked(), "customer", ctx("oms"))
    assert out.order.state is OrderState.CANCELLED
    assert [(f.kind, f.qty) for f in out.followups] == [(TaskKind.RESTOCK, 2)]


def test_a_staged_pickup_expires_after_the_hold_with_a_restock_task() -> None:
    o = stage(picked(), "P-1", 0, ctx()).order
    assert (
        expire(o, ctx("system", now=NOW + timedelta(days=4), pickup_hold_days=5)).status
        is Status.REJECTED
    )
    out = expire(o, ctx("system", now=NOW + timedelta(days=5), pickup_hold_days=5))
    assert out.order.state is OrderState.EXPIRED
    assert out.followups[0].kind is TaskKind.RESTOCK


def test_an_open_order_reserves_what_it_still_owes() -> None:
    o = order(line(1, qty=3))
    assert reservations(o) == {("SKU-1", "A-01-1"): 3}
    o = short_pick(claim(o, ctx()).order, "1", 1, "damaged", ctx()).order
    assert reservations(o) == {("SKU-1", "A-01-1"): 2}
    assert reservations(cancel(o, "x", ctx("oms")).order) == {}
