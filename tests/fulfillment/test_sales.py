"""The till-line rule (fulfillment.sales): what one line does to the ledger, and when it is
refused. Pure: the clock and the catalogue are arguments."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fulfillment.codes import LineCode
from fulfillment.ledger import MovementKind, on_hand_delta
from fulfillment.sales import FUTURE_SKEW, MAX_LINE_QTY, SaleLine, judge, movement

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def sale(qty: int, sold_at: datetime = NOW - timedelta(hours=1)) -> SaleLine:
    return SaleLine("R-1", 1, "SKU-1", qty, "T1", sold_at)


def test_a_sale_takes_units_off_the_home_shelf_and_a_till_return_puts_them_back() -> None:
    sold, back = movement(sale(3), "A-01-1"), movement(sale(-2), "A-01-1")
    assert (sold.kind, sold.qty, sold.location) == (MovementKind.SALE, 3, "A-01-1")
    assert (back.kind, back.qty) == (MovementKind.TILL_RETURN, 2)
    assert on_hand_delta(sold.kind, sold.qty) == -3
    assert on_hand_delta(back.kind, back.qty) == 2


def test_a_line_is_refused_for_its_quantity_its_clock_or_an_unknown_item() -> None:
    assert judge(sale(1), NOW, "A-01-1") is None
    assert judge(sale(-MAX_LINE_QTY), NOW, "A-01-1") is None
    for qty in (0, MAX_LINE_QTY + 1, -MAX_LINE_QTY - 1):
        refused = judge(sale(qty), NOW, "A-01-1")
        assert refused is not None and (refused.code, refused.field) == (
            LineCode.INVALID_LINE,
            "qty",
        )
    # a till clock a little ahead is believed; further ahead is refused in words
    assert judge(sale(1, NOW + FUTURE_SKEW), NOW, "A-01-1") is None
    ahead = judge(sale(1, NOW + FUTURE_SKEW + timedelta(seconds=1)), NOW, "A-01-1")
    assert ahead is not None and ahead.code is LineCode.SOLD_IN_FUTURE
    assert "check the till's clock" in ahead.message
    unknown = judge(sale(1), NOW, None)
    assert unknown is not None and unknown.code is LineCode.UNKNOWN_ITEM
    assert unknown.message == "SKU-1 is not in this store's catalogue"
