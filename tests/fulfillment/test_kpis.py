from __future__ import annotations

from datetime import timedelta

from fulfillment.counts import Count, record
from fulfillment.kpis import Rate, store_kpis
from fulfillment.model import Order, OrderType
from fulfillment.picking import claim, scan, ship, short_pick, stage

from .builders import NOW, ctx, gtin, line, order

DAY = (NOW.replace(hour=0), NOW.replace(hour=0) + timedelta(days=1))


def ready(
    order_id: str, at_hour: int, *, due_hour: int, short: int = 0, sfs: bool = False
) -> Order:
    at = ctx(now=NOW.replace(hour=at_hour))
    o = order(
        line(1, qty=2),
        order_id=order_id,
        type=OrderType.SHIP_FROM_STORE if sfs else OrderType.PICKUP,
    ).model_copy(update={"due_at": NOW.replace(hour=due_hour)})
    o = claim(o, at).order
    o = scan(o, "1", gtin(1), 2 - short, "A", at).order
    if short:
        o = short_pick(o, "1", short, "not_found", at).order
    return stage(o, "P-1", 1, at).order


def counted(count_id: str, counted: int, book: int) -> Count:
    out = record(
        count_id=count_id,
        task_id=None,
        sku="SKU-1",
        location="A-01-1",
        counted=counted,
        counted_at=NOW,
        book=book,
        ctx=ctx(),
    )
    assert out.count is not None
    return out.count


def test_orders_ready_per_hour_on_time_and_fill_rate() -> None:
    orders = [
        ready("W-1", 9, due_hour=11),
        ready("W-2", 9, due_hour=8),  # late
        ready("W-3", 14, due_hour=15, short=1),
    ]
    k = store_kpis(orders, [], 2, since=DAY[0], until=DAY[1])
    assert k.picked_per_hour == ((9, 2), (14, 1))
    assert k.on_time_pickup == Rate(2, 3)
    assert k.fill_rate == Rate(5, 6)
    assert (k.orders_ready, k.open_exceptions) == (3, 2)
    assert str(k.on_time_pickup) == "67 % (2 of 3)"


def test_hours_are_the_stores_wall_clock() -> None:
    k = store_kpis(
        [ready("W-1", 9, due_hour=11)], [], 0, since=DAY[0], until=DAY[1], timezone="Europe/Paris"
    )
    assert k.picked_per_hour == ((10, 1),)


def test_a_shipment_is_on_time_when_it_left_by_its_due_time() -> None:
    packed = ready("W-9", 9, due_hour=12, sfs=True)
    gone = ship(packed, "DPD", "TRACK-1", 1, ctx(now=NOW.replace(hour=13))).order
    k = store_kpis([gone], [], 0, since=DAY[0], until=DAY[1])
    assert k.on_time_ship == Rate(0, 1)


def test_count_accuracy_is_the_share_within_tolerance() -> None:
    counts = [counted("C1", 10, 10), counted("C2", 9, 10), counted("C3", 2, 10)]
    k = store_kpis([], counts, 0, since=DAY[0], until=DAY[1])
    assert k.count_accuracy == Rate(2, 3)


def test_nothing_yet_reads_as_a_dash() -> None:
    k = store_kpis([], [], 0, since=DAY[0], until=DAY[1])
    assert (str(k.fill_rate), k.picked_per_hour) == ("—", ())
