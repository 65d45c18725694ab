"""Rebase, as a property: whatever prefix of our ops central has applied, the screen
shows the same order — server truth plus the ops it has not applied yet."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fulfillment.model import Order
from fulfillment.outcome import Context, Status
from fulfillment.picking import apply_order_op
from storeapp.local import LocalStore
from tests.storeapp.builders import ENROLLED, T0, Feed, gtin, order_doc

LINES = [("1", "DOG2", 3), ("2", "BOWL", 2)]
GTINS = {"1": gtin(1), "2": gtin(4)}

ops = st.lists(
    st.one_of(
        st.builds(
            lambda line, qty: (
                "pick.scan",
                {"order_id": "W-1", "line_id": line, "gtin": GTINS[line], "qty": qty},
            ),
            st.sampled_from("12"),
            st.integers(1, 2),
        ),
        st.builds(
            lambda line: ("pick.unscan", {"order_id": "W-1", "line_id": line, "qty": 1}),
            st.sampled_from("12"),
        ),
        st.builds(
            lambda line: (
                "pick.short",
                {"order_id": "W-1", "line_id": line, "qty": 1, "reason": "not_found"},
            ),
            st.sampled_from("12"),
        ),
    ),
    min_size=1,
    max_size=8,
)


def fold(order: Order, steps: list[tuple[str, dict[str, Any]]]) -> Order:
    ctx = Context(actor_id="E1", now=T0)
    for op_type, payload in steps:
        outcome = apply_order_op(order, op_type, payload, ctx)
        if outcome.status is not Status.REJECTED:
            order = outcome.order
    return order


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=ops, data=st.data())
def test_the_screen_is_server_truth_plus_unapplied_ops_for_any_applied_prefix(
    steps: list[tuple[str, dict[str, Any]]], data: st.DataObject
) -> None:
    applied = data.draw(st.integers(0, len(steps)), label="ops central applied")
    start = Order.model_validate(order_doc("W-1", LINES, state="picking", assignee="E1"))
    with tempfile.TemporaryDirectory() as tmp, LocalStore(Path(tmp) / "t.db") as store:
        feed = Feed()
        store.enroll(ENROLLED, "http://central.test")
        store.apply_pull(feed.basics())
        store.apply_pull(feed.orders(start.model_dump(mode="json")))
        for op_type, payload in steps:
            store.act("E1", op_type, payload, T0)
        expected = fold(start, steps)
        on_screen = store.order("W-1")
        assert on_screen is not None and on_screen.lines == expected.lines
        server = fold(start, steps[:applied])
        store.apply_pull(feed.orders(server.model_dump(mode="json"), last_applied_seq=applied))
        on_screen = store.order("W-1")
        assert on_screen is not None and on_screen.lines == expected.lines
