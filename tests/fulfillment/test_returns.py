from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from fulfillment.ledger import MovementKind
from fulfillment.model import Line, Order, OrderState, Role
from fulfillment.outcome import Status
from fulfillment.picking import claim, hand_over, scan, stage
from fulfillment.returns import (
    DAMAGED_BIN,
    ItemFacts,
    ReturnState,
    override,
    receive,
    returnable,
)
from sync.protocol import PAYLOADS

from .builders import NOW, ctx, gtin, line, order


def sold(*lines: Line, days_ago: int = 3) -> Order:
    """A pickup order picked and handed over `days_ago` days before NOW."""
    at = ctx(now=NOW - timedelta(days=days_ago))
    o = claim(order(*lines or (line(1, qty=2, price=Decimal("12.50")),)), at).order
    for x in o.lines:
        o = scan(o, x.line_id, gtin(int(x.line_id)), x.qty, x.location, at).order
    o = stage(o, "PICKUP-1", 1, at).order
    handed = [{"line_id": x.line_id, "qty": x.qty} for x in o.lines]
    return hand_over(o, "pickup_code", handed, at).order


def want(
    line_id: str = "1", qty: int = 1, condition: str = "sellable", **kw: str
) -> dict[str, Any]:
    disposition = "restock" if condition == "sellable" else "damaged_bin"
    return {
        "line_id": line_id,
        "qty": qty,
        "reason": "changed_mind",
        "condition": condition,
        "disposition": kw.pop("disposition", disposition),
        **kw,
    }


def test_what_was_sold_and_not_yet_returned_may_come_back() -> None:
    o = sold(line(1, qty=3))
    assert returnable(o.lines[0]) == 3
    after = receive(o, [want(qty=2)], ctx(), return_id="R1").order
    assert after is not None
    assert (after.lines[0].returned, returnable(after.lines[0])) == (2, 1)
    assert returnable(order(line(1)).lines[0]) == 0  # nothing sold yet


def test_a_sellable_return_goes_back_on_its_shelf_and_is_refunded() -> None:
    o = sold(line(1, qty=2, price=Decimal("12.50")))
    out = receive(o, [want(qty=2)], ctx(), return_id="R1")
    assert (out.status, out.code) == (Status.APPLIED, None)
    assert out.ret is not None and out.ret.state is ReturnState.COMPLETED
    assert out.refund == Decimal("25.00")
    assert out.ret.refund_requested and out.ret.tender == "original_tender"
    [move] = out.movements
    assert (move.kind, move.sku, move.location, move.qty) == (
        MovementKind.RETURN_RESTOCK,
        "SKU-1",
        "A-01-1",
        2,
    )


def test_damaged_goods_go_to_the_damaged_bin_not_on_sale_but_are_refunded() -> None:
    o = sold(line(1, qty=2, price=Decimal("10")))
    out = receive(
        o, [want(qty=1), want(qty=1, condition="damaged", reason="damaged")], ctx(), return_id="R"
    )
    kinds = [(m.kind, m.location, m.qty) for m in out.movements]
    assert kinds == [
        (MovementKind.RETURN_RESTOCK, "A-01-1", 1),
        (MovementKind.RETURN_DAMAGED, DAMAGED_BIN, 1),
    ]
    assert out.refund == Decimal("20")


def test_a_sellable_item_sent_back_to_the_vendor_is_not_restocked() -> None:
    o = sold(line(1, qty=1))
    out = receive(o, [want(disposition="return_to_vendor")], ctx(), return_id="R")
    assert [m.kind for m in out.movements] == [MovementKind.RETURN_DAMAGED]


def test_more_than_was_sold_is_refused_and_names_the_earlier_return() -> None:
    o = sold(line(1, qty=2))
    first = receive(o, [want(qty=2)], ctx(), return_id="R1", device_name="tablet 3")
    assert first.order is not None and first.ret is not None
    later = ctx("E2", now=NOW + timedelta(minutes=5))
    again = receive(first.order, [want(qty=1)], later, return_id="R2", earlier=[first.ret])
    assert (again.status, again.code, again.ret) == (Status.REJECTED, "ALREADY_RETURNED", None)
    assert again.message is not None
    assert again.message.startswith("Already returned on tablet 3 at 10:00")
    assert [e.code for e in again.exceptions] == ["ALREADY_RETURNED"]  # for manager review


def test_a_partly_returned_line_accepts_the_rest_and_flags_the_excess() -> None:
    o = sold(line(1, qty=3))
    first = receive(o, [want(qty=2)], ctx(), return_id="R1")
    assert first.order is not None
    out = receive(first.order, [want(qty=2)], ctx(), return_id="R2")
    assert (out.status, out.code) == (Status.COMPENSATED, "ALREADY_RETURNED")
    assert out.ret is not None
    assert [(x.qty, x.refused, x.accepted) for x in out.ret.lines] == [(2, 1, 1)]
    assert out.order is not None and out.order.lines[0].returned == 3


def test_outside_the_window_the_refund_waits_for_a_manager() -> None:
    o = sold(line(1, qty=1, price=Decimal("9.99")), days_ago=45)
    out = receive(o, [want()], ctx(), return_id="R1")
    assert (out.status, out.code, out.refund) == (Status.APPLIED, "OUTSIDE_POLICY", None)
    assert out.ret is not None and out.ret.state is ReturnState.AWAITING_OVERRIDE
    assert out.ret.breaches == ("Sold 45 days ago: returns are accepted for 30 days",)
    assert out.movements  # the goods are here all the same

    assert override(out.ret, "loyal customer", ctx("E1", role=Role.MANAGER)).code == ("SAME_PERSON")
    ok = override(out.ret, "loyal customer", ctx("M1", role=Role.MANAGER))
    assert ok.ret is not None and ok.ret.state is ReturnState.COMPLETED
    assert (ok.refund, ok.ret.override_by_name) == (Decimal("9.99"), "Maria")
    assert override(ok.ret, "again", ctx("M1", role=Role.MANAGER)).code == "NOT_WAITING"


def test_final_sale_items_need_a_manager() -> None:
    o = sold(line(1, qty=1))
    facts = {"SKU-1": ItemFacts(name="Item 1", final_sale=True)}
    out = receive(o, [want()], ctx(), return_id="R1", items=facts)
    assert out.ret is not None and out.ret.breaches == ("Item 1 was a final-sale item",)


def test_without_the_order_the_tablet_allows_up_to_the_offline_limit() -> None:
    facts = {"SKU-1": ItemFacts(name="Kettle", price=Decimal("60"), location="B-01-1")}
    lines = [{**want(), "line_id": None, "sku": "SKU-1"}]
    small = receive(None, lines, ctx(), return_id="R1", items=facts, receipt="W-9")
    assert small.ret is not None and small.ret.state is ReturnState.COMPLETED
    assert (small.ret.order_id, small.ret.verified) == ("W-9", False)
    assert small.movements[0].location == "B-01-1"

    big = receive(None, lines * 2, ctx(), return_id="R2", items=facts, receipt="W-9")
    assert big.ret is not None and big.ret.state is ReturnState.AWAITING_OVERRIDE
    assert big.ret.breaches == (
        "120.00 without the order on this tablet is over the offline limit of 100.00",
    )


def test_central_sends_an_unverifiable_return_to_a_manager_and_keeps_the_goods() -> None:
    lines = [{**want(), "line_id": None, "sku": "SKU-1"}]
    out = receive(None, lines, ctx(), return_id="R1", receipt="W-404", at_central=True)
    assert (out.status, out.code) == (Status.COMPENSATED, "RETURN_UNVERIFIED")
    assert out.ret is not None and out.ret.state is ReturnState.NEEDS_REVIEW
    assert out.refund is None and len(out.movements) == 1
    assert [e.code for e in out.exceptions] == ["RETURN_UNVERIFIED"]


def test_an_order_not_yet_handed_over_has_nothing_to_return() -> None:
    o = claim(order(line(1)), ctx()).order
    out = receive(o, [want()], ctx(), return_id="R1")
    assert (out.status, out.code) == (Status.REJECTED, "ALREADY_RETURNED")
    assert o.state is OrderState.PICKING


@pytest.mark.parametrize(
    ("lines", "words"),
    [
        ([{"line_id": "1", "qty": 1, "reason": "x", "condition": "sellable"}], "reason"),
        (
            [{"qty": 1, "reason": "other", "condition": "sellable", "disposition": "restock"}],
            "line_id or a sku",
        ),
        (
            [
                {
                    "line_id": "1",
                    "qty": 1,
                    "reason": "damaged",
                    "condition": "damaged",
                    "disposition": "restock",
                }
            ],
            "only sellable goods can be restocked",
        ),
    ],
)
def test_a_bad_return_line_is_refused_in_words(lines: list[dict[str, Any]], words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        PAYLOADS["return.receive"].model_validate(
            {"return_id": "R1", "order_id": "W-1", "lines": lines}
        )


def test_a_return_never_restarts_the_window() -> None:
    o = sold(line(1, qty=2), days_ago=20).model_copy(update={"fulfilled_at": None})
    first = receive(o, [want()], ctx(), return_id="R1").order
    assert first is not None
    later = ctx(now=NOW + timedelta(days=15))
    out = receive(first, [want()], later, return_id="R2")
    assert out.code == "OUTSIDE_POLICY"


def test_a_return_on_the_receipt_alone_names_lines_by_sku() -> None:
    line_only = {"line_id": "1", "qty": 1, "reason": "other"}
    line_only |= {"condition": "sellable", "disposition": "restock"}
    with pytest.raises(ValidationError, match="by its sku"):
        PAYLOADS["return.receive"].model_validate(
            {"return_id": "R1", "receipt": "W-9", "lines": [line_only]}
        )
