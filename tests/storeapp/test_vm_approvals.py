"""View-model: the manager's approvals (counts, returns) and stock adjustments."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from fulfillment.returns import (
    Condition,
    Disposition,
    Return,
    ReturnLine,
    ReturnReason,
    ReturnState,
)
from storeapp.local import LocalStore
from storeapp.viewmodels import ApprovalsVM, CountVM, HomeVM, SessionVM
from storeapp.viewmodels.approvals import MANAGERS_ONLY
from tests.storeapp.builders import T0, Feed, count_doc, decided_count_doc, gtin, result
from tests.storeapp.conftest import FakeClock


def return_doc(
    return_id: str, received_by: str = "E1", state: ReturnState = ReturnState.AWAITING_OVERRIDE
) -> dict[str, Any]:
    return Return(
        return_id=return_id,
        order_id="W-7",
        state=state,
        lines=(
            ReturnLine(
                line_id="1",
                sku="DOG2",
                name="Dog Food 2 kg",
                qty=1,
                price=Decimal("9.99"),
                reason=ReturnReason.CHANGED_MIND,
                condition=Condition.SELLABLE,
                disposition=Disposition.RESTOCK,
                location="A-12",
            ),
        ),
        refund_amount=Decimal("9.99"),
        breaches=("Sold 45 days ago: the return window is 30 days",),
        received_by=received_by,
        received_by_name={"E1": "Ana", "M1": "Maria"}[received_by],
        received_at=T0,
    ).model_dump(mode="json")


@pytest.fixture
def waiting(store: LocalStore, feed: Feed) -> None:
    """Ana's count over the threshold (14 vs 20), a disputed one, a posted one, Maria's own
    count over the threshold, and two returns waiting (Ana's and Maria's)."""
    first = count_doc("C-0", "CAT1", 11, 11, counted_at=T0.replace(hour=7))
    store.apply_pull(
        feed.page(
            feed.change("count", "C-1", count_doc("C-1", "DOG2", 14, 20)),
            feed.change("count", "C-0", first),
            feed.change(
                "count",
                "C-2",
                count_doc(
                    "C-2",
                    "CAT1",
                    14,
                    11,
                    previous=first,
                    moved_since_previous=False,
                    counted_by="E2",
                    counted_at=T0.replace(hour=8),
                ),
            ),
            feed.change("count", "C-3", count_doc("C-3", "BOWL", 3, 3)),
            feed.change("count", "C-4", count_doc("C-4", "DOG12", 1, 30, counted_by="M1")),
            feed.change("return", "R-1", return_doc("R-1")),
            feed.change("return", "R-2", return_doc("R-2", "M1", state=ReturnState.NEEDS_REVIEW)),
        )
    )


def vm(store: LocalStore, session: SessionVM, clock: FakeClock) -> ApprovalsVM:
    return ApprovalsVM(store, session, clock=clock)


def test_approvals_are_only_for_managers(
    store: LocalStore, waiting: None, ana: SessionVM, clock: FakeClock
) -> None:
    approvals = vm(store, ana, clock)
    s = approvals.screen()
    assert (s.allowed, s.counts, s.returns, s.message) == (False, (), (), MANAGERS_ONLY)
    assert approvals.approve_count("C-1").message == MANAGERS_ONLY
    assert approvals.approve_return("R-1", "fine").message == MANAGERS_ONLY
    assert approvals.submit_adjust().message == MANAGERS_ONLY
    assert approvals.waiting() == 0
    assert store.outbox() == []
    # the store refuses the ops themselves, whoever asks
    assert store.act("E1", "count.approve", {"count_id": "C-1"}, T0).code == "FORBIDDEN"
    assert HomeVM(store, ana, clock=clock).screen().approvals is None


def test_the_manager_sees_counts_waiting_with_book_variance_who_and_when(
    store: LocalStore, waiting: None, maria: SessionVM, clock: FakeClock
) -> None:
    s = vm(store, maria, clock).screen()
    assert s.allowed and s.waiting == 5
    assert [c.count_id for c in s.counts] == ["C-2", "C-1", "C-4"]
    disputed, over, own = s.counts
    assert (over.name, over.location, over.counted, over.book, over.variance_text) == (
        "Dog Food 2 kg",
        "A-12",
        14,
        20,
        "\u22126",
    )
    assert (over.counted_by_name, over.at, over.why, over.can_approve, over.own) == (
        "Ana",
        "09:00",
        "Over the variance threshold",
        True,
        False,
    )
    assert (disputed.why, disputed.message, disputed.can_approve) == (
        "Two counts disagree",
        "11 vs 14 — blind recount requested",
        False,
    )
    assert own.own
    assert [(r.return_id, r.order, r.refund_held, r.own) for r in s.returns] == [
        ("R-1", "W-7", "9.99", False),
        ("R-2", "W-7", "9.99", True),
    ]
    assert s.returns[0].breaches == ("Sold 45 days ago: the return window is 30 days",)
    assert HomeVM(store, maria, clock=clock).screen().approvals == 5


def test_approve_and_send_back_queue_the_right_ops(
    store: LocalStore, waiting: None, maria: SessionVM, clock: FakeClock
) -> None:
    approvals = vm(store, maria, clock)
    approved = approvals.approve_count("C-1")
    assert (approved.tone, approved.message) == ("ok", "Approved: \u22126 Dog Food 2 kg at A-12.")
    refused = approvals.approve_count("C-2")
    assert (refused.tone, refused.message) == (
        "error",
        "Two counts of Cat Litter 10 l disagree: send it back for a blind recount.",
    )
    sent = approvals.recount("C-2")
    assert sent.message == "Sent back: Cat Litter 10 l at B-03 gets a blind recount."
    assert [(op.seq, op.type, op.actor_id, op.payload) for op in store.outbox()] == [
        (1, "count.approve", "M1", {"count_id": "C-1"}),
        (2, "count.recount", "M1", {"count_id": "C-2"}),
    ]
    assert [c.count_id for c in sent.counts] == ["C-4"]
    count_c1 = store.get_count("C-1")
    assert count_c1 is not None
    count_c2 = store.get_count("C-2")
    assert count_c2 is not None
    assert (count_c1.state, count_c2.state) == ("approved", "recount")
    again = approvals.approve_count("C-1")
    assert again.message == "That count is no longer waiting for a decision."
    # the store refuses a decision on a count no longer waiting, with the rules' sentence
    late = store.act("M1", "count.recount", {"count_id": "C-1"}, T0)
    assert (late.queued, late.code) == (False, "NOT_WAITING")


def test_a_manager_cannot_decide_their_own_count_or_return(
    store: LocalStore, waiting: None, maria: SessionVM, clock: FakeClock
) -> None:
    approvals = vm(store, maria, clock)
    own = approvals.approve_count("C-4")
    assert (own.tone, own.message) == (
        "error",
        "You counted Dog Food 12 kg yourself: another manager decides.",
    )
    assert approvals.recount("C-4").tone == "error"
    own_return = approvals.approve_return("R-2", "ok")
    assert own_return.message == "You received return W-7 yourself: another manager approves it."
    direct = store.act("M1", "count.approve", {"count_id": "C-4"}, T0)
    assert (direct.queued, direct.message) == (
        False,
        "A manager cannot approve a count they made themselves",
    )
    assert store.outbox() == []


def test_a_decision_keeps_its_effect_until_central_answers(
    store: LocalStore, feed: Feed, waiting: None, maria: SessionVM, clock: FakeClock
) -> None:
    approvals = vm(store, maria, clock)
    approvals.approve_count("C-1")
    store.apply_pull(feed.page(last_applied_seq=0))
    c = store.get_count("C-1")
    assert c is not None
    assert (c.state, c.pending) == ("approved", True)
    [op] = store.pending(10)
    store.acknowledge([result(op)])
    decided = decided_count_doc(count_doc("C-1", "DOG2", 14, 20), "M1")
    store.apply_pull(feed.page(feed.change("count", "C-1", decided), last_applied_seq=1))
    c = store.get_count("C-1")
    assert c is not None
    assert (c.state, c.pending, c.adjustment, c.decided_by_name) == ("approved", False, -6, "Maria")
    # and Ana's recent counts now say so
    ana = SessionVM(store)
    ana.sign_in("E1", "1234")
    recent = CountVM(store, ana, clock=clock).screen().recent
    assert recent[0].text == "14 counted · \u22126 approved by Maria"


def test_a_count_central_has_not_answered_cannot_be_decided(
    store: LocalStore, ana: SessionVM, maria: SessionVM, clock: FakeClock
) -> None:
    counting = CountVM(store, ana, clock=clock)
    counting.scan(gtin(1))
    counting.set_qty(5)
    counting.submit()
    count_id = store.outbox()[0].payload["count_id"]
    assert vm(store, maria, clock).screen().counts == ()
    early = store.act("M1", "count.approve", {"count_id": count_id}, T0)
    assert (early.queued, early.code) == (False, "NOT_WAITING")


def test_a_return_override_needs_a_reason(
    store: LocalStore, waiting: None, maria: SessionVM, clock: FakeClock
) -> None:
    approvals = vm(store, maria, clock)
    assert approvals.approve_return("R-1", "  ").message == (
        "Say why you approve it (the reason is kept)."
    )
    done = approvals.approve_return("R-1", "Loyal customer, unopened")
    assert (done.tone, done.message) == ("ok", "Return W-7 approved: refund 9.99 requested.")
    [op] = store.outbox()
    assert (op.type, op.actor_id, op.payload) == (
        "return.override",
        "M1",
        {"return_id": "R-1", "reason": "Loyal customer, unopened"},
    )
    assert [r.return_id for r in done.returns] == ["R-2"]
    return_r1 = store.get_return("R-1")
    assert return_r1 is not None
    assert return_r1.ret.state.value == "completed"


def test_a_stock_adjustment_is_validated_then_queued(
    store: LocalStore, maria: SessionVM, clock: FakeClock
) -> None:
    approvals = vm(store, maria, clock)
    assert approvals.submit_adjust().message == "Scan the item to adjust first."
    scanned = approvals.adjust_scan(gtin(1))
    assert (scanned.adjust.sku, scanned.adjust.location) == ("DOG2", "A-12")
    approvals.set_adjust_delta("0")
    assert approvals.submit_adjust().message == "An adjustment of 0 units changes nothing."
    approvals.set_adjust_delta("two")
    assert approvals.submit_adjust().message == "Type the change in units, e.g. -2 or +5."
    approvals.set_adjust_delta("\u22122")
    assert approvals.submit_adjust().message == (
        "Say why the stock is adjusted (the reason is kept)."
    )
    approvals.set_adjust_reason("Broken bag found")
    approvals.set_adjust_location("a-12b")
    done = approvals.submit_adjust()
    assert (done.tone, done.message) == (
        "ok",
        "Adjustment of \u22122 × Dog Food 2 kg at A-12B saved.",
    )
    assert done.adjust.sku is None
    [op] = store.outbox()
    assert (op.type, op.actor_id, op.payload) == (
        "stock.adjust",
        "M1",
        {"sku": "DOG2", "location": "A-12B", "delta": -2, "reason": "Broken bag found"},
    )
    assert store.act("E1", "stock.adjust", op.payload, T0).code == "FORBIDDEN"
    unknown = store.act("M1", "stock.adjust", {**op.payload, "sku": "NOPE"}, T0)
    assert (unknown.queued, unknown.code) == (False, "UNKNOWN_ITEM")


def test_a_count_waiting_for_its_value_shows_the_money_beside_the_units(
    store: LocalStore, feed: Feed, maria: SessionVM, clock: FakeClock
) -> None:
    """Within the units rule (−2 of 20) but worth more than the store's money limit: the
    manager sees what the difference is worth."""
    dear = {
        **count_doc("C-9", "DOG2", 18, 20),
        "state": "awaiting_approval",
        "unit_cost": "60.00",
        "value": "-120.00",
    }
    store.apply_pull(feed.page(feed.change("count", "C-9", dear)))
    [c] = vm(store, maria, clock).screen().counts
    assert (c.variance, c.value, c.variance_text, c.value_text) == (
        -2,
        Decimal("-120.00"),
        "\u22122",
        "value \u2212120.00",
    )
