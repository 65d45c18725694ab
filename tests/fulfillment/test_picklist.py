from __future__ import annotations

from fulfillment.model import Order
from fulfillment.picking import claim, reject_line, scan, short_pick
from fulfillment.picklist import allocate_scan, build_pick_list

from .builders import ctx, gtin, line, order


def two_orders() -> tuple[Order, Order]:
    a = order(line(3, qty=1), line(1, qty=2), order_id="W-A")
    b = order(line(1, qty=1), line(2, qty=1), order_id="W-B")
    return a, b


def test_stops_follow_the_walking_order_and_group_one_sku_across_orders() -> None:
    pl = build_pick_list(two_orders())
    assert [(s.sku, s.qty) for s in pl.stops] == [("SKU-1", 3), ("SKU-2", 1), ("SKU-3", 1)]
    assert [(x.order_id, x.tote, x.qty) for x in pl.stops[0].splits] == [
        ("W-A", "Tote 1", 2),
        ("W-B", "Tote 2", 1),
    ]


def test_a_scan_fills_the_first_tote_first_and_says_where_each_unit_goes() -> None:
    pl = build_pick_list(two_orders())
    alloc = allocate_scan(pl, gtin(1), 3)
    assert alloc.ok
    assert [(s.order_id, n) for s, n in alloc.parts] == [("W-A", 2), ("W-B", 1)]
    assert alloc.message == "Item 1: 2 in Tote 1, 1 in Tote 2"


def test_a_code_not_on_the_list_names_what_the_list_wants() -> None:
    alloc = allocate_scan(build_pick_list(two_orders()), gtin(8))
    assert not alloc.ok
    assert alloc.message.endswith("is not on this pick list — the list wants Item 1 at A-01-1.")


def test_too_many_units_are_refused_before_anything_is_counted() -> None:
    alloc = allocate_scan(build_pick_list(two_orders()), gtin(2), 2)
    assert (alloc.ok, alloc.excess, alloc.parts) == (False, 1, ())
    assert "put 1 back at A-02-1" in alloc.message


def test_a_complete_stop_says_so() -> None:
    a, b = two_orders()
    b = scan(claim(b, ctx()).order, "2", gtin(2), 1, "", ctx()).order
    alloc = allocate_scan(build_pick_list([a, b]), gtin(2))
    assert not alloc.ok
    assert alloc.message.startswith("Item 2 is already complete (1 of 1)")


def test_progress_counts_picked_and_short_units() -> None:
    a, b = two_orders()
    b = scan(claim(b, ctx()).order, "1", gtin(1), 1, "", ctx()).order
    pl = build_pick_list([a, b])
    assert (pl.done_units, pl.qty) == (1, 5)
    assert pl.current is not None and pl.current.sku == "SKU-1"


def test_a_stop_tells_rejected_units_apart_from_the_other_shorts() -> None:
    a, b = two_orders()
    a = reject_line(claim(a, ctx()).order, "1", 1, "damaged", "", ctx()).order
    b = short_pick(claim(b, ctx()).order, "1", 1, "not_found", ctx()).order
    stop = build_pick_list([a, b]).stops[0]
    assert stop.sku == "SKU-1"
    assert [(x.order_id, x.short, x.rejected) for x in stop.splits] == [
        ("W-A", 1, 1),
        ("W-B", 1, 0),
    ]
    assert (stop.short, stop.rejected, stop.remaining) == (2, 1, 1)
