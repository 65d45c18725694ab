"""How long one scan takes on the tablet, at view-model level, on a real SQLite file.

    python bench/local_action.py [--scans 2000] [--orders 10]

Seeds a store the way a tablet gets it (pull pages), claims `--orders` orders
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
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fulfillment.barcodes import check_digit  # noqa: E402
from fulfillment.model import Line, Order, OrderType  # noqa: E402
from fulfillment.pins import hash_pin  # noqa: E402
from storeapp.local import LocalStore  # noqa: E402
from storeapp.viewmodels import PickListVM, QueueVM, SessionVM  # noqa: E402
from sync.protocol import Change, EnrollResponse, PullResponse  # noqa: E402

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
SKUS = 8


def _gtin(n: int) -> str:
    payload = f"501234567{n:03d}"
    return payload + check_digit(payload)


def seed(store: LocalStore, orders: int, units: int) -> list[str]:
    version = 0

    def change(kind: str, id_: str, data: dict) -> Change:
        nonlocal version
        version += 1
        return Change(kind=kind, id=id_, version=version, data=data)

    per_line = max(1, units // (orders * 4))
    docs = [
        change(
            "store", "S001", {"store_id": "S001", "name": "Bench", "timezone": "UTC", "policy": {}}
        ),
        change(
            "staff",
            "E1",
            {
                "employee_id": "E1",
                "name": "Ana",
                "role": "associate",
                "active": True,
                "pin_hash": hash_pin("1234", b"0123456789abcdef"),
            },
        ),
    ]
    for i in range(SKUS):
        docs.append(
            change(
                "item",
                f"SKU{i}",
                {
                    "sku": f"SKU{i}",
                    "gtins": [_gtin(i)],
                    "name": f"Item {i}",
                    "price": "1.00",
                    "location": f"A-{i:02d}",
                    "location_seq": i,
                },
            )
        )
    ids = []
    for o in range(orders):
        order = Order(
            order_id=f"W-{o:04d}",
            store_id="S001",
            type=OrderType.PICKUP,
            due_at=T0 + timedelta(hours=2),
            lines=tuple(
                Line(
                    line_id=str(k),
                    sku=f"SKU{(o + k) % SKUS}",
                    qty=per_line,
                    name=f"Item {(o + k) % SKUS}",
                    gtins=("0" + _gtin((o + k) % SKUS),),
                    location=f"A-{(o + k) % SKUS:02d}",
                    location_seq=(o + k) % SKUS,
                )
                for k in range(4)
            ),
        )
        ids.append(order.order_id)
        docs.append(change("order", order.order_id, order.model_dump(mode="json")))
    store.apply_pull(
        PullResponse(cursor="c1", has_more=False, server_time=T0, last_applied_seq=0, changes=docs)
    )
    return ids


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scans", type=int, default=2000)
    parser.add_argument("--orders", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = LocalStore(Path(tmp) / "tablet.db", screen=True)
        store.enroll(
            EnrollResponse(device_id="bench", store_id="S001", token="t"), "http://central"
        )
        ids = seed(store, args.orders, args.scans)
        session = SessionVM(store)
        session.sign_in("E1", "1234")
        clock = lambda: T0  # noqa: E731
        queue = QueueVM(store, session, clock=clock)
        for order_id in ids:
            queue.toggle(order_id)
        assert queue.pick_selected().pick_list == tuple(ids)
        picking = PickListVM(store, session, clock=clock)
        screen = picking.open(ids)
        timings = []
        while len(timings) < args.scans and screen.current is not None:
            code = _gtin(int(screen.current.sku.removeprefix("SKU")))
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
