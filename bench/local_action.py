"""How long one scan takes on the tablet, at view-model level, on a real SQLite file.

    python bench/local_action.py [--scans 2000] [--orders 10]

Seeds a store the way a tablet gets it (pull pages, bench/_seed.py), claims `--orders` orders
into one pick list and scans every unit of it one by one with
`PickListVM.scan(code)`: parse, allocate to a tote, `act_many` (local effect +
outbox row in one transaction), rebuild the screen. Prints p50/p99/max in ms.
The store is opened as the app opens the screens' one (`screen=True`: WAL
checkpoints are left to the sync engine's connection).
Goal: p99 <= 3 ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._seed import T0, claim, enrolled_tablet, gtin, seed, signed_in  # noqa: E402
from storeapp.viewmodels import PickListVM  # noqa: E402

SKUS = 8
LINES = 4


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scans", type=int, default=2000)
    parser.add_argument("--orders", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = enrolled_tablet(Path(tmp) / "tablet.db")
        ids = seed(
            store,
            orders=args.orders,
            lines_per_order=LINES,
            qty_per_line=max(1, args.scans // (args.orders * LINES)),
            skus=SKUS,
            policy={"max_orders_per_pick_list": max(10, args.orders)},
        )
        session = signed_in(store)
        claim(store, session, ids)
        picking = PickListVM(store, session, clock=lambda: T0)
        screen = picking.open(ids)
        timings: list[float] = []
        while len(timings) < args.scans and screen.current is not None:
            code = gtin(int(screen.current.sku.removeprefix("SKU")))
            start = time.perf_counter()
            screen = picking.scan(code)
            timings.append((time.perf_counter() - start) * 1000)
            assert screen.tone == "ok", screen.message
        store.close()
    timings.sort()
    p50 = statistics.median(timings)
    p99 = timings[int(len(timings) * 0.99) - 1]
    print(
        f"local_action scans={len(timings)} orders={len(ids)} stops={len(screen.stops)} "
        f"p50={p50:.2f} ms p99={p99:.2f} ms max={timings[-1]:.2f} ms (goal p99 <= 3 ms)"
    )


if __name__ == "__main__":
    main()
