"""The store's KPIs for the manager (DOMAIN.md, Manager's view), from the orders and counts
a tablet already holds — no extra data on the wire.

- **Orders picked per hour**: orders that became ready (staged: on the pickup shelf, or
  packed) in each hour of the day, on the store's wall clock.
- **On-time rate**, pickup and ship separately: a pickup order is on time when it was ready
  by its `due_at`; a ship-from-store order when it shipped by its `due_at`.
- **Fill rate**: units picked / units ordered, over the orders that finished picking in the
  period (a short lowers it).
- **Count accuracy**: the share of the period's counts that matched the books within the
  store's tolerance at the first count (posted at once).
- **Open exceptions**: what the manager still has to decide.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from .clock import store_zone
from .counts import Count, CountState
from .model import Order, OrderState, OrderType

__all__ = ["Kpis", "Rate", "store_kpis"]

_READY_OR_LATER = frozenset({OrderState.STAGED, OrderState.SHIPPED, OrderState.HANDED_OVER})


@dataclass(frozen=True)
class Rate:
    hits: int
    total: int

    @property
    def pct(self) -> float | None:
        return None if self.total == 0 else round(100.0 * self.hits / self.total, 1)

    def __str__(self) -> str:
        pct = self.pct
        return "—" if pct is None else f"{pct:.0f} % ({self.hits} of {self.total})"


@dataclass(frozen=True)
class Kpis:
    picked_per_hour: tuple[tuple[int, int], ...]  # (hour on the store's clock, orders ready)
    on_time_pickup: Rate
    on_time_ship: Rate
    fill_rate: Rate  # units
    count_accuracy: Rate
    open_exceptions: int

    @property
    def orders_ready(self) -> int:
        return sum(n for _, n in self.picked_per_hour)


def _within(at: datetime | None, since: datetime, until: datetime) -> bool:
    return at is not None and since <= at < until


def store_kpis(
    orders: Iterable[Order],
    counts: Iterable[Count],
    open_exceptions: int,
    *,
    since: datetime,
    until: datetime,
    timezone: str = "UTC",
) -> Kpis:
    """The KPIs of the period [since, until)."""
    zone = store_zone(timezone)
    per_hour: dict[int, int] = {}
    pickup = ship = fill = Rate(0, 0)
    for order in orders:
        ready = order.staged_at if order.state in _READY_OR_LATER else None
        if _within(ready, since, until):
            assert ready is not None
            hour = ready.astimezone(zone).hour
            per_hour[hour] = per_hour.get(hour, 0) + 1
            picked = sum(x.picked for x in order.lines)
            ordered = sum(x.qty for x in order.lines)
            fill = Rate(fill.hits + picked, fill.total + ordered)
            if order.type is OrderType.PICKUP:
                pickup = Rate(pickup.hits + (ready <= order.due_at), pickup.total + 1)
        if order.type is OrderType.SHIP_FROM_STORE and order.state is OrderState.SHIPPED:
            shipped = order.fulfilled_at or order.updated_at
            if _within(shipped, since, until):
                assert shipped is not None
                ship = Rate(ship.hits + (shipped <= order.due_at), ship.total + 1)
    first = [c for c in counts if _within(c.counted_at, since, until)]
    judged = [c for c in first if c.state is not CountState.DISPUTED]
    accurate = Rate(sum(c.accurate for c in judged), len(judged))
    return Kpis(
        picked_per_hour=tuple(sorted(per_hour.items())),
        on_time_pickup=pickup,
        on_time_ship=ship,
        fill_rate=fill,
        count_accuracy=accurate,
        open_exceptions=open_exceptions,
    )
