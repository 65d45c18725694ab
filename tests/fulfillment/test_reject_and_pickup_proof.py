"""Issue #11 rules: reject an order or some units with the store's reasons, proof of pickup,
the ready-for-pickup notice again, a corrected contact, curbside check-in, the reminder."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

from fulfillment.codes import Code
from fulfillment.ledger import MovementKind
from fulfillment.model import OrderState, Policy, RejectEffect, RejectReason
from fulfillment.outcome import Status, TaskKind
from fulfillment.picking import (
    apply_order_op,
    check_in,
    hand_over,
    id_check_needed,
    reject,
    reject_line,
    remind,
    resend_notice,
)
from tests.fulfillment.builders import NOW, ctx, line, order


def test_a_damaged_unit_is_rejected_into_the_damaged_bin_and_the_rest_of_the_order_goes_on() -> (
    None
):
    o = order(line(1, qty=2), line(2, qty=1), state=OrderState.PICKING)
    out = reject_line(o, "1", 1, "damaged", "box crushed", ctx())
    assert out.status is Status.APPLIED
    first = out.order.line("1")
    assert first is not None and (first.short, first.rejected, first.reject_code) == (
        1,
        1,
        "damaged",
    )
    assert out.order.state is OrderState.PICKING
    assert [(m.kind, m.sku, m.location, m.qty) for m in out.movements] == [
        (MovementKind.DAMAGED, "SKU-1", "A-01-1", 1)
    ]
    assert out.followups == ()
    [history] = out.order.rejections
    assert (history.line_id, history.qty, history.label, history.by, history.at) == (
        "1",
        1,
        "Damaged",
        "E1",
        NOW,
    )
    assert out.message == "1 × Item 1 rejected: Damaged"


def test_not_found_makes_the_place_doubtful_with_a_blind_recount_and_leaves_the_book_alone() -> (
    None
):
    o = order(line(1, qty=2), state=OrderState.PICKING)
    out = reject_line(o, "1", 2, "not_found", "", ctx())
    assert out.movements == ()
    assert [(f.kind, f.sku, f.location) for f in out.followups] == [
        (TaskKind.RECOUNT, "SKU-1", "A-01-1")
    ]
    # nothing left to send: the order goes back to the online store
    assert out.order.state is OrderState.REJECTED
    assert out.order.reject_code == "not_found"


def test_a_reason_that_lowers_available_writes_the_units_off_until_the_recount() -> None:
    o = order(line(1, qty=3), line(2), state=OrderState.PICKING)
    out = reject_line(o, "1", 2, "not_enough_stock", "", ctx())
    assert [(m.kind, m.qty) for m in out.movements] == [(MovementKind.REJECT_WRITEOFF, 2)]
    assert [f.kind for f in out.followups] == [TaskKind.RECOUNT]


def test_units_already_in_the_tote_rejected_for_no_stock_reason_go_back_to_the_shelf() -> None:
    o = order(line(1, qty=2, picked=2), line(2), state=OrderState.PICKING)
    out = reject_line(o, "1", 1, "customer_cancelled", "", ctx())
    changed = out.order.line("1")
    assert changed is not None and (changed.picked, changed.short) == (1, 1)
    assert [(f.kind, f.qty) for f in out.followups] == [(TaskKind.PUT_BACK, 1)]
    assert out.movements == ()


def test_the_store_s_own_reasons_decide_the_effect_and_an_unknown_code_moves_no_stock() -> None:
    mine = (RejectReason(code="melted", label="Melted", effect=RejectEffect.DAMAGED),)
    o = order(line(1, qty=2), state=OrderState.PICKING)
    out = reject_line(o, "1", 1, "melted", "", ctx(reject_reasons=mine))
    assert [m.kind for m in out.movements] == [MovementKind.DAMAGED]
    out = reject_line(o, "1", 1, "damaged", "", ctx(reject_reasons=mine))  # not this store's
    assert out.status is Status.APPLIED and out.movements == () and out.followups == ()


def test_a_line_with_nothing_left_or_a_closed_order_refuses_a_line_reject() -> None:
    o = order(line(1, qty=1, short=1), line(2), state=OrderState.PICKING)
    assert reject_line(o, "1", 1, "damaged", "", ctx()).code == Code.NOTHING_TO_REJECT
    staged = order(line(1, picked=2), state=OrderState.STAGED)
    assert reject_line(staged, "1", 1, "damaged", "", ctx()).code == Code.ORDER_CLOSED


def test_a_whole_order_rejected_as_damaged_sends_the_picked_units_to_the_damaged_bin() -> None:
    o = order(line(1, qty=2, picked=2), line(2, qty=1), state=OrderState.PICKING)
    out = reject(o, "all broken", ctx(), code="damaged")
    assert out.order.state is OrderState.REJECTED
    assert [(m.kind, m.qty) for m in out.movements] == [(MovementKind.DAMAGED, 2)]
    assert out.order.rejections[0].line_id is None
    # an older tablet's reject (no code): picked units go back to the shelf, as before
    old = apply_order_op(o, "order.reject", {"order_id": "W-1", "reason": "x"}, ctx())
    assert [f.kind for f in old.followups] == [TaskKind.RESTOCK] and old.order.rejections == ()


def test_an_id_is_needed_when_the_oms_asks_or_the_order_is_worth_more_than_the_policy_says() -> (
    None
):
    cheap = order(line(1, price=Decimal("10")))
    assert not id_check_needed(cheap, Policy())
    assert id_check_needed(cheap.model_copy(update={"id_required": True}), Policy())
    assert id_check_needed(cheap, Policy(id_check_over=Decimal("15")))


def test_a_hand_over_to_the_alternate_with_id_digits_is_stored_on_the_order() -> None:
    staged = order(line(1, picked=2), state=OrderState.STAGED, id_required=True)
    proof = {"collected_by": "alternate", "name": "Bo", "id_type": "passport", "id_last4": "1234"}
    out = hand_over(staged, "id", [{"line_id": "1", "qty": 2}], ctx(), proof)
    assert out.status is Status.APPLIED
    assert out.order.proof is not None
    assert (out.order.proof.collected_by, out.order.proof.id_last4) == ("alternate", "1234")


def test_a_hand_over_without_the_id_the_order_needs_still_stands_for_a_manager() -> None:
    staged = order(line(1, picked=2), state=OrderState.STAGED, id_required=True)
    out = hand_over(staged, "pickup_code", [{"line_id": "1", "qty": 2}], ctx())
    assert out.status is Status.COMPENSATED and out.code == Code.ID_NOT_RECORDED
    assert out.order.state is OrderState.HANDED_OVER and out.movements
    assert [x.code for x in out.exceptions] == [Code.ID_NOT_RECORDED]


def test_the_notice_is_sent_again_only_for_an_order_waiting_on_the_pickup_shelf() -> None:
    staged = order(line(1, picked=2), state=OrderState.STAGED, staging_location="P-1")
    out = resend_notice(staged, ctx())
    assert [(n.kind, n.data["resent"]) for n in out.notifications] == [("ready_for_pickup", True)]
    assert out.order.notified_at == NOW
    assert resend_notice(order(line(1)), ctx()).code == Code.NOT_READY


def test_a_corrected_contact_changes_the_order_and_tells_the_oms() -> None:
    o = order(line(1))
    out = apply_order_op(o, "order.contact", {"order_id": "W-1", "email": "a@b.c"}, ctx())
    assert out.order.customer.email == "a@b.c"
    assert [n.kind for n in out.notifications] == ["contact_changed"]


def test_a_check_in_records_the_bay_and_a_reminder_comes_once_before_the_hold_ends() -> None:
    staged = order(line(1, picked=2), state=OrderState.STAGED, staged_at=NOW)
    here = check_in(staged, "4", "blue car", ctx())
    assert here.order.checkin is not None and here.order.checkin.bay == "4"
    hold = Policy().pickup_hold_days
    early = ctx(now=NOW + timedelta(days=1))
    assert remind(staged, early) is None
    late = ctx(now=NOW + timedelta(days=hold) - timedelta(hours=2))
    reminded = remind(staged, late)
    assert reminded is not None and [n.kind for n in reminded.notifications] == ["pickup_reminder"]
    assert remind(reminded.order, late) is None
    assert remind(staged, replace(late, policy=Policy(pickup_reminder_hours=0))) is None
