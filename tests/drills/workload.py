"""A store associate's random but seeded shift on one tablet, through the real view-models.

    floor = Floor(path, "E1", "1111", gtins)
    done = floor.step(rng)        # one action: "claim", "scan", "short", "unscan", "stage",
                                  # "ship", "handoff", "count", "return", or None (nothing to do)

Every action goes through the screens' view-models (QueueVM, PickListVM, StagingVM,
HandoverVM, CountVM) or, for a return, `LocalStore.act` (the returns screen's one write),
so it writes its local effect and its outbox op in one SQLite transaction, as in the app.
What the floor remembers between actions (the pick list open) is only in memory: after a
crash a new Floor finds its claimed orders again in the tablet's file.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime
from pathlib import Path

from fulfillment.model import Order, OrderState, OrderType
from tests.support.hands import Hands

__all__ = ["ACTIONS", "Floor"]

# how often each action is tried: picking dominates a shift, as on a real floor
ACTIONS: dict[str, int] = {
    "claim": 3,
    "scan": 12,
    "unscan": 1,
    "short": 1,
    "stage": 3,
    "ship": 2,
    "handoff": 2,
    "count": 2,
    "return": 1,
}


class Floor:
    """One associate signed in on one tablet file. A context manager."""

    def __init__(self, path: Path, employee_id: str, pin: str, gtins: dict[str, str]) -> None:
        self.hands = Hands(path, employee_id, pin)
        self.employee_id = employee_id
        self.gtins = gtins  # sku -> GTIN, to scan
        self.staging = self.hands.staging
        self.handover = self.hands.handover
        self._picking: tuple[str, ...] = ()

    def close(self) -> None:
        self.hands.store.close()

    def __enter__(self) -> Floor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- one action ------------------------------------------------------------------

    def step(self, rng: random.Random) -> str | None:
        """Try one random action; the word of the one done (it queued an op), or None."""
        kinds = list(ACTIONS)
        first = rng.choices(kinds, weights=[ACTIONS[k] for k in kinds])[0]
        # if the drawn action has nothing to act on, the others are tried in a seeded order
        rest = [k for k in kinds if k != first]
        rng.shuffle(rest)
        for kind in (first, *rest):
            if getattr(self, f"_{kind}")(rng):
                return kind
        return None

    def _orders(self, *states: OrderState) -> list[Order]:
        return self.hands.store.orders_in([s.value for s in states])

    def _mine(self, *states: OrderState) -> list[Order]:
        return [o for o in self._orders(*states) if o.assignee == self.employee_id]

    def _queued(self, before: int) -> bool:
        return self.hands.store.sync_state().next_seq > before

    def _next_seq(self) -> int:
        return self.hands.store.sync_state().next_seq

    def _claim(self, rng: random.Random) -> bool:
        free = self._orders(OrderState.RELEASED)
        if not free:
            return False
        before = self._next_seq()
        claimed = self.hands.queue.claim(rng.choice(free).order_id)
        if claimed.pick_list:
            self._picking = claimed.pick_list
            self.hands.picking.open(claimed.pick_list)
        return self._queued(before)

    def _pick_list(self) -> bool:
        """The pick list on screen, reopened from the file after a restart."""
        if not self._picking:
            mine = self._mine(OrderState.PICKING)
            if not mine:
                return False
            self._picking = (mine[0].order_id,)
            self.hands.picking.open(self._picking)
        screen = self.hands.picking.screen()
        if screen.current is None:
            self._picking = ()
            return False
        return True

    def _scan(self, rng: random.Random) -> bool:
        if not self._pick_list():
            return False
        current = self.hands.picking.screen().current
        assert current is not None
        code = self.gtins.get(current.sku)
        if code is None:
            return False
        before = self._next_seq()
        self.hands.picking.scan(code)
        return self._queued(before)

    def _unscan(self, rng: random.Random) -> bool:
        if not self._pick_list():
            return False
        before = self._next_seq()
        self.hands.picking.unscan(1)
        return self._queued(before)

    def _short(self, rng: random.Random) -> bool:
        if not self._pick_list():
            return False
        before = self._next_seq()
        self.hands.picking.short(rng.choice(("not_found", "damaged")))
        return self._queued(before)

    def _stage(self, rng: random.Random) -> bool:
        picked = self._mine(OrderState.PICKED)
        if not picked:
            return False
        order = rng.choice(picked)
        before = self._next_seq()
        self.staging.open(order.order_id)
        parcels = 1 if order.type is OrderType.SHIP_FROM_STORE else 0
        self.staging.stage(f"P-{rng.randint(1, 9)}", parcels)
        return self._queued(before)

    def _ship(self, rng: random.Random) -> bool:
        packed = [o for o in self._orders(OrderState.STAGED) if o.type is OrderType.SHIP_FROM_STORE]
        if not packed:
            return False
        before = self._next_seq()
        self.staging.open(rng.choice(packed).order_id)
        self.staging.ship("DPD", f"TRK-{rng.randint(10_000, 99_999)}")
        return self._queued(before)

    def _handoff(self, rng: random.Random) -> bool:
        ready = [o for o in self._orders(OrderState.STAGED) if o.type is OrderType.PICKUP]
        if not ready:
            return False
        before = self._next_seq()
        self.handover.start()
        self.handover.select(rng.choice(ready).order_id)
        self.handover.verify_id()
        self.handover.hand_over()
        return self._queued(before)

    def _count(self, rng: random.Random) -> bool:
        if not self.gtins:
            return False
        counting = self.hands.counting
        counting.cancel()
        tasks = self.hands.store.recount_tasks()
        if tasks and rng.random() < 0.5:
            counting.start(rng.choice(tasks).task_id)
        else:
            counting.scan(self.gtins[rng.choice(sorted(self.gtins))])
        counting.set_qty(rng.randint(8, 22))
        before = self._next_seq()
        counting.submit()
        return self._queued(before)

    def _return(self, rng: random.Random) -> bool:
        sold = [
            o
            for o in self._orders(OrderState.HANDED_OVER, OrderState.SHIPPED)
            if any(x.fulfilled > x.returned for x in o.lines)
        ]
        if not sold:
            return False
        order = rng.choice(sold)
        line = rng.choice([x for x in order.lines if x.fulfilled > x.returned])
        sellable = rng.random() < 0.7
        payload = {
            "return_id": f"R-{uuid.uuid4().hex[:10].upper()}",
            "order_id": order.order_id,
            "lines": [
                {
                    "line_id": line.line_id,
                    "qty": 1,
                    "reason": "changed_mind" if sellable else "damaged",
                    "condition": "sellable" if sellable else "damaged",
                    "disposition": "restock" if sellable else "damaged_bin",
                }
            ],
        }
        result = self.hands.store.act(self.employee_id, "return.receive", payload, _now())
        return result.queued


def _now() -> datetime:
    return datetime.now(UTC)
