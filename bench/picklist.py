"""How long opening a big pick list takes on the tablet, at view-model level, on a real SQLite file.

    python bench/picklist.py [--orders 20] [--lines 200] [--skus 150] [--opens 30]

Seeds a store the way a tablet gets it (pull pages, bench/_seed.py), claims `--orders`
orders of `--lines` lines in all (2 units each; neighbouring orders share some items, so
the walk has ~140 stops) into one pick list through the queue, then times
`--opens` opens as the pick screen does them: a new `PickListVM`, `open(ids)` and the
`screen()` the view asks for next (read the orders, build the walk, make the rows).

  warm: the screens' store connection stays open (its parsed orders are reused)
  cold: a new connection per open (every order's JSON parsed again), e.g. after a restart

Prints p50/p99/max in ms for each. Goal: p99 <= 100 ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._seed import T0, claim, enrolled_tablet, seed, signed_in  # noqa: E402
from storeapp.local import LocalStore  # noqa: E402
from storeapp.viewmodels import PickListVM, PickScreen, SessionVM  # noqa: E402


def open_list(store: LocalStore, session: SessionVM, ids: list[str]) -> PickScreen:
    picking = PickListVM(store, session, clock=lambda: T0)
    opened = picking.open(ids)
    assert opened.tone == "info" and opened.current_index == 0, opened.message
    return picking.screen()


def timed(
    opens: int, store_for: Callable[[], LocalStore], session: SessionVM, ids: list[str]
) -> tuple[list[float], PickScreen]:
    """`opens` timed opens, each on the connection `store_for()` gives (not timed)."""
    timings, screen = [], None
    for _ in range(opens):
        store = store_for()
        start = time.perf_counter()
        screen = open_list(store, session, ids)
        timings.append((time.perf_counter() - start) * 1000)
    assert screen is not None
    return sorted(timings), screen


def figures(label: str, timings: list[float]) -> str:
    p99 = timings[max(0, int(len(timings) * 0.99) - 1)]
    return (
        f"{label} p50={statistics.median(timings):.1f} ms p99={p99:.1f} ms max={timings[-1]:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20)
    parser.add_argument("--lines", type=int, default=200, help="order lines in all")
    parser.add_argument("--skus", type=int, default=150)
    parser.add_argument("--opens", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tablet.db"
        store = enrolled_tablet(path)
        ids = seed(
            store,
            orders=args.orders,
            lines_per_order=max(1, args.lines // args.orders),
            qty_per_line=2,
            skus=args.skus,
            stride=7,  # neighbouring orders share 3 of their items
            policy={"max_orders_per_pick_list": args.orders},
        )
        session = signed_in(store)
        claim(store, session, ids)

        open_list(store, session, ids)  # the first open after the claims, not counted
        warm, screen = timed(args.opens, lambda: store, session, ids)
        fresh: list[LocalStore] = []

        def new_connection() -> LocalStore:
            fresh.append(LocalStore(path, screen=True))
            return fresh[-1]

        cold, _ = timed(args.opens, new_connection, session, ids)
        for connection in fresh:
            connection.close()
        store.close()
    lines = sum(len(s.splits) for s in screen.stops)
    print(
        f"picklist orders={len(screen.totes)} lines={lines} stops={len(screen.stops)} "
        f"units={screen.total_units} opens={args.opens}\n"
        f"  {figures('warm', warm)}\n"
        f"  {figures('cold', cold)}  (goal p99 <= 100 ms)"
    )


if __name__ == "__main__":
    main()
