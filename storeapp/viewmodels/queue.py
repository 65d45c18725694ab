"""Pick queue: open orders by priority (highest first), then due time.

    screen ─toggle(id)─▶ selection (up to policy.max_orders_per_pick_list)
    claim(id)        ─▶ `pick_list=(id,)`: open the pick list on it
    pick_selected()  ─▶ claims each selected order; `pick_list` = those claimed
    release / assign / prioritize (managers; release also the assignee)

Associates see free orders and their own; managers see every order not yet
staged, whoever holds it. Late = due before now; at risk = due within
policy.at_risk_minutes.

Rows stay where they are while the screen is open (issue #10): a raised priority or a
sync pass does not move a row from under the finger about to tap it; new orders come
last. `resort()` (opening the screen, a filter, "Sort again") orders them afresh;
`QueueScreen.unsorted` says when the rows shown are no longer in that order.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from fulfillment.model import Order, OrderState

from .acting import ActingVM
from .screen import SIGN_IN_FIRST, Tone, duration

__all__ = ["QueueRow", "QueueScreen", "QueueVM"]

_STATES = (OrderState.RELEASED.value, OrderState.PICKING.value)
_MANAGER_STATES = (*_STATES, OrderState.PICKED.value)


@dataclass(frozen=True)
class QueueRow:
    order_id: str
    type: str
    state: str
    priority: int
    due_at: datetime
    time_left: str  # "1 h 5 min left" | "late 12 min"
    late: bool
    at_risk: bool
    lines: int
    units: int
    customer: str
    assignee: str | None
    assignee_name: str | None
    mine: bool
    selected: bool


@dataclass(frozen=True)
class QueueScreen:
    rows: tuple[QueueRow, ...]
    selected: tuple[str, ...]
    max_selection: int
    type_filter: str | None
    message: str = ""
    tone: Tone = "info"
    pick_list: tuple[str, ...] = ()  # claimed: open PickListVM.open(pick_list)
    associates: tuple[tuple[str, str], ...] = ()  # (employee_id, name): a manager assigns to
    unsorted: bool = False  # rows kept in place no longer follow priority, due time

    @property
    def late(self) -> int:
        return sum(r.late for r in self.rows)

    @property
    def at_risk(self) -> int:
        return sum(r.at_risk for r in self.rows)


class QueueVM(ActingVM[QueueScreen]):
    def _start(self) -> None:
        self._selected: list[str] = []
        self._type: str | None = None
        self._shown: dict[str, int] = {}  # order id -> its place while the screen is open

    # --- reading ---------------------------------------------------------------------

    def screen(self, message: str = "", tone: Tone = "info") -> QueueScreen:
        now = self._clock()
        who = self._session.associate
        policy = self._store.policy()
        manager = bool(who and who.is_manager)
        orders = self._store.orders_in(
            _MANAGER_STATES if manager else _STATES, order_type=self._type
        )
        me = who.employee_id if who else None
        if not manager:
            orders = [o for o in orders if o.assignee in (None, me)]
        visible = {o.order_id for o in orders}
        self._selected = [x for x in self._selected if x in visible]
        natural = [self._row(o, now, policy.at_risk_minutes, me) for o in orders]
        for r in natural:  # a new order comes after the ones shown
            self._shown.setdefault(r.order_id, len(self._shown))
        rows = tuple(sorted(natural, key=lambda r: self._shown[r.order_id]))
        associates = (
            tuple(sorted(self._store.staff_names().items(), key=lambda kv: kv[1]))
            if manager
            else ()
        )
        return QueueScreen(
            rows,
            tuple(self._selected),
            policy.max_orders_per_pick_list,
            self._type,
            message,
            tone,
            associates=associates,
            unsorted=[r.order_id for r in rows] != [r.order_id for r in natural],
        )

    def resort(self) -> QueueScreen:
        """Rows by priority, then due time again (the screen opens, "Sort again")."""
        self._shown = {}
        return self.screen()

    def _row(self, order: Order, now: datetime, at_risk_minutes: int, me: str | None) -> QueueRow:
        left = order.due_at - now
        late = left < timedelta(0)
        return QueueRow(
            order_id=order.order_id,
            type=order.type.value,
            state=order.state.value,
            priority=order.priority,
            due_at=order.due_at,
            time_left=f"late {duration(-left)}" if late else f"{duration(left)} left",
            late=late,
            at_risk=not late and left <= timedelta(minutes=at_risk_minutes),
            lines=len(order.lines),
            units=order.ordered_units,
            customer=order.customer.name,
            assignee=order.assignee,
            assignee_name=order.assignee_name,
            mine=bool(me) and order.assignee == me,
            selected=order.order_id in self._selected,
        )

    def show(self, order_type: str | None = None) -> QueueScreen:
        """Only ship-from-store or pickup orders (None: both)."""
        self._type = order_type or None
        return self.resort()

    # --- selecting -------------------------------------------------------------------

    def toggle(self, order_id: str) -> QueueScreen:
        if order_id in self._selected:
            self._selected.remove(order_id)
            return self.screen()
        limit = self._store.policy().max_orders_per_pick_list
        if len(self._selected) >= limit:
            return self.screen(f"A pick list holds at most {limit} orders.", "warning")
        self._selected.append(order_id)
        return self.screen()

    # --- acting ----------------------------------------------------------------------

    def claim(self, order_id: str) -> QueueScreen:
        """Claim one order and open it as a pick list."""
        return self._claim_all([order_id])

    def pick_selected(self) -> QueueScreen:
        """Claim every selected order: one pick list with a tote per order."""
        if not self._selected:
            return self.screen("Select the orders to pick together first.", "warning")
        return self._claim_all(list(self._selected))

    def _claim_all(self, order_ids: list[str]) -> QueueScreen:
        who = self._session.associate
        if who is None:
            return self.screen(SIGN_IN_FIRST, "error")
        results = self._store.act_many(
            who.employee_id, [("order.claim", {"order_id": x}) for x in order_ids], self._clock()
        )
        claimed = tuple(x for x, r in zip(order_ids, results, strict=True) if r.ok)
        refused = [f"{x}: {r.message}" for x, r in zip(order_ids, results, strict=True) if not r.ok]
        if claimed:
            self._on_change()
        self._selected = [x for x in self._selected if x not in claimed]
        if not claimed:
            return self.screen("; ".join(refused) or "Nothing to claim.", "error")
        message = f"{_orders(len(claimed))} yours — start picking."
        if refused:
            message += " Not claimed: " + "; ".join(refused)
        return replace(self.screen(message, "warning" if refused else "ok"), pick_list=claimed)

    def release(self, order_id: str) -> QueueScreen:
        return self._act(
            "order.release", {"order_id": order_id}, f"{order_id} is back in the queue."
        )

    def assign(self, order_id: str, associate_id: str) -> QueueScreen:
        name = self._store.staff_names().get(associate_id, associate_id)
        return self._act(
            "order.assign",
            {"order_id": order_id, "associate_id": associate_id},
            f"{order_id} assigned to {name}.",
        )

    def prioritize(self, order_id: str, priority: int) -> QueueScreen:
        return self._act(
            "order.prioritize",
            {"order_id": order_id, "priority": priority},
            f"{order_id} now has priority {priority}.",
        )


def _orders(n: int) -> str:
    return "1 order is" if n == 1 else f"{n} orders are"
