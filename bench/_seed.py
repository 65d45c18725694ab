"""A tablet file seeded the way a tablet gets its store (pull pages), for the benches.

    store = enrolled_tablet(Path(tmp) / "tablet.db")
    ids = seed(store, orders=20, lines_per_order=10, qty_per_line=1, skus=120)
    session = signed_in(store)
    claim(store, session, ids)            # through QueueVM, as an associate does

Orders are pickups due at T0 + 2 h; order o's line k wants SKU((o × stride + k) % skus),
so orders share stops as `stride` allows. Staff: E1 "Ana", PIN 1234.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fulfillment.barcodes import check_digit
from fulfillment.model import Line, Order, OrderType
from fulfillment.pins import hash_pin
from storeapp.local import LocalStore
from storeapp.viewmodels import QueueVM, SessionVM
from sync.protocol import Change, EnrollResponse, PullResponse

__all__ = ["PIN", "T0", "claim", "enrolled_tablet", "gtin", "seed", "signed_in"]

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
PIN = "1234"
PAGE = 1000  # changes per pull page, as the engine asks for them


def gtin(n: int) -> str:
    """The GTIN-13 of bench item n (SKU<n>)."""
    payload = f"50123{n:07d}"
    return payload + check_digit(payload)


def enrolled_tablet(path: Path) -> LocalStore:
    """A new tablet file, opened as the app opens the screens' store (`screen=True`)."""
    store = LocalStore(path, screen=True)
    store.enroll(EnrollResponse(device_id="bench", store_id="S001", token="t"), "http://central")
    return store


def _location(n: int) -> str:
    return f"{'ABCDEFGH'[n // 100 % 8]}-{n % 100:02d}"


def seed(
    store: LocalStore,
    *,
    orders: int,
    lines_per_order: int,
    qty_per_line: int,
    skus: int,
    stride: int = 1,
    policy: dict[str, Any] | None = None,
) -> list[str]:
    """Store, staff, `skus` items and `orders` orders, applied as pull pages; the order ids.

    Line k of order o wants item (o × stride + k) mod skus: with stride 1 orders share
    most stops, with stride = lines_per_order none (when skus allow)."""
    docs: list[Change] = []

    def change(kind: str, id_: str, data: dict[str, Any]) -> None:
        docs.append(Change(kind=kind, id=id_, version=len(docs) + 1, data=data))

    change(
        "store",
        "S001",
        {"store_id": "S001", "name": "Bench", "timezone": "UTC", "policy": policy or {}},
    )
    change(
        "staff",
        "E1",
        {
            "employee_id": "E1",
            "name": "Ana",
            "role": "associate",
            "active": True,
            "pin_hash": hash_pin(PIN, b"0123456789abcdef"),
        },
    )
    for i in range(skus):
        change(
            "item",
            f"SKU{i}",
            {
                "sku": f"SKU{i}",
                "gtins": [gtin(i)],
                "name": f"Item {i}",
                "price": "1.00",
                "location": _location(i),
                "location_seq": i,
            },
        )
    ids = []
    for o in range(orders):
        wants = [(o * stride + k) % skus for k in range(lines_per_order)]
        order = Order(
            order_id=f"W-{o:04d}",
            store_id="S001",
            type=OrderType.PICKUP,
            due_at=T0 + timedelta(hours=2),
            lines=tuple(
                Line(
                    line_id=str(k),
                    sku=f"SKU{n}",
                    qty=qty_per_line,
                    name=f"Item {n}",
                    gtins=("0" + gtin(n),),
                    location=_location(n),
                    location_seq=n,
                )
                for k, n in enumerate(wants)
            ),
        )
        ids.append(order.order_id)
        change("order", order.order_id, order.model_dump(mode="json"))
    for start in range(0, len(docs), PAGE):
        page = docs[start : start + PAGE]
        store.apply_pull(
            PullResponse(
                cursor=f"c{start + len(page)}",
                has_more=start + PAGE < len(docs),
                server_time=T0,
                last_applied_seq=0,
                changes=page,
            )
        )
    return ids


def signed_in(store: LocalStore) -> SessionVM:
    session = SessionVM(store)
    assert session.sign_in("E1", PIN).signed_in
    return session


def claim(store: LocalStore, session: SessionVM, ids: list[str]) -> None:
    """Select every order in the queue and pick them together (one `order.claim` each)."""
    queue = QueueVM(store, session, clock=lambda: T0)
    for order_id in ids:
        queue.toggle(order_id)
    claimed = queue.pick_selected()
    assert claimed.pick_list == tuple(ids), claimed.message
