"""Receiving rules: counting, cartons, damage, closing, a ship-to-store order arriving."""

from __future__ import annotations

from datetime import UTC, datetime

from fulfillment.codes import Code
from fulfillment.ledger import MovementKind
from fulfillment.model import Line, Order, OrderState, OrderType
from fulfillment.outcome import Context, Status
from fulfillment.receiving import (
    IN_TRANSIT,
    Carton,
    CartonLine,
    Inbound,
    InboundLine,
    InboundState,
    announce,
    close,
    count,
    order_arrived,
    parse_sscc,
    receive_carton,
)
from fulfillment.returns import DAMAGED_BIN

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
CTX = Context.of("E1", NOW)
SSCC = "376123450000000016"


def shipment(**extra: object) -> Inbound:
    return Inbound.model_validate(
        {
            "shipment_id": "S-1",
            "store_id": "S001",
            "source": "dc",
            "lines": [
                InboundLine(sku="DOG2", expected=4, location="A-12", name="Dog food"),
                InboundLine(sku="CAT1", expected=2, location="B-01", name="Cat food"),
            ],
            "cartons": [Carton(sscc=SSCC, lines=(CartonLine(sku="DOG2", qty=4),))],
            **extra,
        }
    )


def test_a_carton_counts_its_lines_once_and_a_foreign_carton_counts_nothing() -> None:
    got = receive_carton(shipment(), SSCC, CTX)
    assert got.status is Status.APPLIED and got.inbound.state is InboundState.RECEIVING
    assert got.inbound.line("DOG2") == shipment().lines[0].model_copy(update={"received": 4})
    again = receive_carton(got.inbound, SSCC, CTX)
    assert again.inbound.line("DOG2").received == 4  # type: ignore[union-attr]
    other = receive_carton(shipment(), "376123450000000023", CTX)
    assert (other.status, other.code) == (Status.COMPENSATED, Code.UNKNOWN_CARTON)
    assert other.inbound == shipment()


def test_counts_never_go_below_zero_and_damage_never_exceeds_what_was_counted() -> None:
    s = count(shipment(), "CAT1", 1, 3, CTX).inbound
    assert (s.line("CAT1").received, s.line("CAT1").damaged) == (1, 1)  # type: ignore[union-attr]
    s = count(s, "CAT1", -5, 0, CTX).inbound
    assert (s.line("CAT1").received, s.line("CAT1").damaged) == (0, 0)  # type: ignore[union-attr]
    s = count(s, "FISH9", 2, 0, CTX).inbound  # not on the shipment: an over
    assert s.line("FISH9") == InboundLine(sku="FISH9", expected=0, received=2)


def test_closing_posts_good_units_to_the_shelf_damaged_to_the_bin_and_opens_one_exception() -> None:
    s = receive_carton(shipment(), SSCC, CTX).inbound
    s = count(s, "DOG2", 1, 1, CTX).inbound  # 5 of 4: one over, one damaged
    s = count(s, "CAT1", 1, 0, CTX).inbound  # 1 of 2: one short
    got = close(s, Context.of("E2", NOW))
    assert (got.status, got.code) == (Status.APPLIED, Code.RECEIPT_DIFFERS)
    assert {(m.kind, m.sku, m.location, m.qty) for m in got.movements} == {
        (MovementKind.RECEIPT, "DOG2", "A-12", 4),
        (MovementKind.RECEIPT_DAMAGED, "DOG2", DAMAGED_BIN, 1),
        (MovementKind.RECEIPT, "CAT1", "B-01", 1),
    }
    [note] = got.exceptions
    assert "1 over of Dog food" in note.message and "1 short of Cat food" in note.message
    assert "1 damaged of Dog food" in note.message and "claim" in note.message
    assert got.inbound.state is InboundState.CLOSED and got.inbound.closed_by == "E2"
    assert close(got.inbound, CTX).movements == ()  # closing again posts nothing


def test_a_transfer_s_units_leave_in_transit_when_received() -> None:
    s = count(shipment(transfer_id="TR-1", cartons=[]), "DOG2", 4, 0, CTX).inbound
    s = count(s, "CAT1", 2, 0, CTX).inbound
    got = close(s, CTX)
    assert got.code is None and got.exceptions == ()
    moved = {(m.kind, m.sku, m.location, m.qty) for m in got.movements}
    assert (MovementKind.IN_TRANSIT, "DOG2", IN_TRANSIT, -4) in moved
    assert (MovementKind.IN_TRANSIT, "CAT1", IN_TRANSIT, -2) in moved


def test_a_count_after_the_close_is_kept_as_a_fact_for_a_manager() -> None:
    closed = close(shipment(), CTX).inbound
    got = count(closed, "DOG2", 1, 0, CTX)
    assert (got.status, got.code) == (Status.COMPENSATED, Code.RECEIPT_CLOSED)
    assert got.inbound is closed and got.exceptions


def test_the_oms_may_change_a_shipment_until_counting_starts() -> None:
    first = shipment()
    assert announce(None, first) is first
    assert announce(first, shipment()) is first  # the same again: nothing changes
    changed = shipment(source="dc-2")
    assert announce(first, changed) == changed
    started = count(first, "DOG2", 1, 0, CTX).inbound
    refused = announce(started, changed)
    assert not isinstance(refused, Inbound) and refused.code is Code.RECEIPT_DIFFERS
    closed = close(started, CTX).inbound
    refused = announce(closed, changed)
    assert not isinstance(refused, Inbound) and refused.code is Code.RECEIPT_CLOSED


def test_a_ship_to_store_order_that_arrives_is_staged_for_pickup_with_its_notification() -> None:
    order = Order(
        order_id="W-7",
        store_id="S001",
        type=OrderType.PICKUP,
        due_at=NOW,
        lines=(Line(line_id="1", sku="DOG2", qty=2), Line(line_id="2", sku="CAT1", qty=1)),
    )
    got = order_arrived(order, [("DOG2", 2), ("CAT1", 1)], CTX)
    assert got is not None and got.order.state is OrderState.STAGED
    assert [n.kind for n in got.notifications] == ["ready_for_pickup"]
    assert order_arrived(got.order, [("DOG2", 2)], CTX) is None  # already staged: left alone


def test_an_sscc_is_read_plain_or_with_its_application_identifier() -> None:
    assert parse_sscc(SSCC) == SSCC
    assert parse_sscc("00" + SSCC) == SSCC
    assert parse_sscc(SSCC[:-1] + "7") is None  # wrong check digit
    assert parse_sscc("4006381333931") is None  # a GTIN
