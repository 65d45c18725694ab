"""What every drill shares: a store with orders released by the OMS, and convergence.

store = open_store(central, rng)                  # items, stock, staff
release(central, store, rng, 8)                   # 8 random orders, pickup and ship
cancel_one(central, store, rng)                   # the OMS cancels an open order
seconds = converge([tablet.sync, ...])            # sync until nothing moves
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from typing import Any

from sync.engine import SyncReport
from tests.support.central import Central, TestStore

__all__ = ["STAFF", "cancel_one", "converge", "open_store", "release"]

STAFF = {"E1": "1111", "E2": "2222", "M1": "999999"}


def open_store(central: Central, *, items: int = 6, stock: int = 12) -> TestStore:
    return central.new_store(items=items, stock=stock)


def release(central: Central, store: TestStore, rng: random.Random, n: int) -> list[str]:
    """`n` orders of 1–3 lines (1–3 units each), pickup and ship-from-store."""
    made = []
    for _ in range(n):
        skus = rng.sample(store.skus, rng.randint(1, min(3, len(store.skus))))
        order = central.order(
            store,
            [(sku, rng.randint(1, 3)) for sku in skus],
            type=rng.choice(("pickup", "ship_from_store")),
            priority=rng.randint(0, 2),
        )
        made.append(order["order_id"])
    return made


def cancel_one(central: Central, store: TestStore, rng: random.Random, orders: list[str]) -> bool:
    """The OMS cancels one of `orders` (refused, and False, once it left the store)."""
    if not orders:
        return False
    order_id = rng.choice(orders)
    answer = central.oms.post(f"/v1/oms/orders/{order_id}/cancel", json={"reason": "customer"})
    return answer.status_code == 200


def converge(
    syncs: Sequence[Callable[[], SyncReport]],
    *,
    rounds: int = 20,
    order: Sequence[int] | None = None,
) -> float:
    """Sync every tablet (in `order`) until a round pushes and pulls nothing and each pass
    is ok; the seconds it took. Raises when it does not settle in `rounds` rounds."""
    started = time.monotonic()
    order = list(order) if order is not None else list(range(len(syncs)))
    last: list[Any] = []
    for _ in range(rounds):
        reports = [syncs[i]() for i in order]
        last = reports
        if all(r.ok and r.waiting == 0 for r in reports) and not any(
            r.pushed or r.pulled for r in reports
        ):
            return time.monotonic() - started
    raise AssertionError(f"the tablets did not settle in {rounds} rounds: {last}")
