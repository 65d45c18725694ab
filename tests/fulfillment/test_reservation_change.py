"""What an op moves in `reserved`: `reservation_change` (what central applies per op) says
the same as diffing the order's reservations before and after, at every step of an order's
life, for lines of their own and lines sharing a place."""

from __future__ import annotations

from collections.abc import Callable

from fulfillment.model import Order
from fulfillment.outcome import Outcome
from fulfillment.picking import (
    cancel,
    claim,
    hand_over,
    reservation_change,
    reservations,
    scan,
    short_pick,
    stage,
    unscan,
)

from .builders import ctx, gtin, line, order


def diffed(before: Order | None, after: Order) -> dict[tuple[str, str], int]:
    old = reservations(before) if before is not None else {}
    new = reservations(after)
    diff = {k: new.get(k, 0) - old.get(k, 0) for k in old.keys() | new.keys()}
    return {k: d for k, d in diff.items() if d}


def test_every_step_of_a_pickup_moves_reserved_as_its_reservations_say() -> None:
    # line 3 is the same item at the same place as line 1: their holds add up
    shared = line(3, qty=1).model_copy(
        update={"sku": "SKU-1", "location": "A-01-1", "gtins": line(1).gtins}
    )
    o = order(line(1, qty=3), line(2, qty=2), shared)
    held = {("SKU-1", "A-01-1"): 4, ("SKU-2", "A-02-1"): 2}
    assert reservation_change(None, o) == diffed(None, o) == held
    steps: list[Callable[[Order], Outcome]] = [
        lambda x: claim(x, ctx()),
        lambda x: scan(x, "1", gtin(1), 2, "", ctx()),
        lambda x: short_pick(x, "2", 1, "damaged", ctx()),
        lambda x: scan(x, "2", gtin(2), 1, "", ctx()),
        lambda x: unscan(x, "1", 1, ctx()),
        lambda x: scan(x, "1", gtin(1), 2, "", ctx()),
        lambda x: scan(x, "3", gtin(1), 1, "", ctx()),
        lambda x: stage(x, "P-1", 1, ctx(allow_partial=True)),
        lambda x: hand_over(x, "pickup_code", [{"line_id": "1", "qty": 3}], ctx()),
        lambda x: hand_over(
            x, "pickup_code", [{"line_id": "2", "qty": 1}, {"line_id": "3", "qty": 1}], ctx()
        ),
    ]
    moved = []
    for step in steps:
        after = step(o).order
        assert reservation_change(o, after) == diffed(o, after)
        moved.append(reservation_change(o, after))
        o = after
    assert any(moved) and o.state.value == "handed_over"
    assert reservations(o) == {}


def test_a_cancel_releases_every_hold_at_once() -> None:
    o = claim(order(line(1, qty=3), line(2, qty=2)), ctx()).order
    o = scan(o, "1", gtin(1), 1, "", ctx()).order
    after = cancel(o, "customer called", ctx()).order
    assert reservation_change(o, after) == {("SKU-1", "A-01-1"): -3, ("SKU-2", "A-02-1"): -2}
    assert reservation_change(o, after) == diffed(o, after)
    assert reservation_change(after, after) == {}
