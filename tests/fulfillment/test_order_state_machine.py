"""Hypothesis drives an order through any sequence of ops from several associates."""

from __future__ import annotations

from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from fulfillment.model import OPEN_STATES, Order, OrderState, Role
from fulfillment.outcome import Status
from fulfillment.picking import apply_order_op, cancel, expire, reservations
from fulfillment.returns import receive

from .builders import ctx, gtin, line, order

ACTORS = st.sampled_from(["E1", "E2", "M1"])
LINES = st.sampled_from(["1", "2", "3"])
QTY = st.integers(1, 4)


class OrderMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.order = order(line(1, qty=2), line(2, qty=1), line(3, qty=3))
        self.handed_over: Order | None = None
        self.returns = 0

    def _do(self, actor: str, op_type: str, payload: dict[str, Any]) -> None:
        role = Role.MANAGER if actor == "M1" else Role.ASSOCIATE
        out = apply_order_op(
            self.order, op_type, {"order_id": "W-1", **payload}, ctx(actor, role=role)
        )
        if out.status is Status.REJECTED:
            assert out.order == self.order, "a rejected op changes nothing"
        self.order = out.order

    @rule(actor=ACTORS)
    def claim(self, actor: str) -> None:
        self._do(actor, "order.claim", {})

    @rule(actor=ACTORS)
    def release(self, actor: str) -> None:
        self._do(actor, "order.release", {})

    @rule(actor=ACTORS, line_id=LINES, qty=QTY, right=st.booleans())
    def scan(self, actor: str, line_id: str, qty: int, right: bool) -> None:
        code = gtin(int(line_id)) if right else gtin(9)
        self._do(
            actor, "pick.scan", {"line_id": line_id, "gtin": code, "qty": qty, "location": "A"}
        )

    @rule(actor=ACTORS, line_id=LINES, qty=QTY)
    def unscan(self, actor: str, line_id: str, qty: int) -> None:
        self._do(actor, "pick.unscan", {"line_id": line_id, "qty": qty})

    @rule(actor=ACTORS, line_id=LINES, qty=QTY, reason=st.sampled_from(["not_found", "damaged"]))
    def short(self, actor: str, line_id: str, qty: int, reason: str) -> None:
        self._do(actor, "pick.short", {"line_id": line_id, "qty": qty, "reason": reason})

    @rule(actor=ACTORS)
    def stage(self, actor: str) -> None:
        self._do(actor, "order.stage", {"staging_location": "P-1", "packages": 0})

    @rule(actor=ACTORS, qty=QTY, line_id=LINES)
    def hand_over(self, actor: str, qty: int, line_id: str) -> None:
        self._do(
            actor,
            "order.handoff",
            {"verified_by": "pickup_code", "lines": [{"line_id": line_id, "qty": qty}]},
        )

    @rule(actor=ACTORS)
    def reject(self, actor: str) -> None:
        self._do(actor, "order.reject", {"reason": "cannot fulfil"})

    @rule()
    def cancel(self) -> None:
        self.order = cancel(self.order, "customer", ctx("oms")).order

    @precondition(lambda self: self.order.state is OrderState.STAGED)
    @rule()
    def expire(self) -> None:
        from datetime import timedelta

        from .builders import NOW

        self.order = expire(self.order, ctx("system", now=NOW + timedelta(days=30))).order

    @rule(actor=ACTORS, line_id=LINES, qty=QTY, sellable=st.booleans())
    def return_goods(self, actor: str, line_id: str, qty: int, sellable: bool) -> None:
        condition, disposition = ("sellable", "restock") if sellable else ("damaged", "damaged_bin")
        wanted = {"line_id": line_id, "qty": qty, "reason": "other"}
        wanted |= {"condition": condition, "disposition": disposition}
        self.returns += 1
        out = receive(self.order, [wanted], ctx(actor), return_id=f"R{self.returns}")
        if out.order is not None:
            self.order = out.order

    @invariant()
    def picked_plus_short_never_exceeds_the_quantity(self) -> None:
        for ln in self.order.lines:
            assert 0 <= ln.picked and 0 <= ln.short
            assert ln.picked + ln.short <= ln.qty
            assert 0 <= ln.fulfilled <= ln.picked

    @invariant()
    def returned_never_exceeds_what_was_sold(self) -> None:
        for ln in self.order.lines:
            assert 0 <= ln.returned <= ln.fulfilled

    @invariant()
    def a_handed_over_order_never_changes_but_for_returns_and_units_still_in_store(
        self,
    ) -> None:
        """A later hand-over (another tablet's, recorded offline) may only take units picked
        and not yet out of the store out of it: each unit leaves once."""

        def fixed(o: Order) -> dict[str, Any]:
            data = o.model_dump(exclude={"updated_at", "fulfilled_at", "fulfilled_by"})
            for ln in data["lines"]:
                ln.pop("returned")
                ln.pop("fulfilled")
            return data

        if self.handed_over is not None:
            assert fixed(self.order) == fixed(self.handed_over)
            for now, then in zip(self.order.lines, self.handed_over.lines, strict=True):
                assert then.fulfilled <= now.fulfilled <= now.picked
            self.handed_over = self.order
        elif self.order.state is OrderState.HANDED_OVER:
            self.handed_over = self.order

    @invariant()
    def only_open_orders_hold_stock_back(self) -> None:
        held = reservations(self.order)
        if self.order.state not in OPEN_STATES:
            assert held == {}
        else:
            assert all(q > 0 for q in held.values())


TestOrderMachine = OrderMachine.TestCase
TestOrderMachine.settings = settings(max_examples=150, stateful_step_count=30, deadline=None)
