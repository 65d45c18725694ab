"""The demo store S001: a few hundred items with valid GTINs and aisle locations,
staff, stock, a dozen open orders of both types, a few orders sold days ago that
customers can bring back (returns), and a count schedule for aisle A (open recount
tasks). Deterministic (seeded)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, select

from fulfillment.barcodes import check_digit
from fulfillment.model import Order, OrderType, Role
from fulfillment.outcome import Context, Followup, Status, TaskKind
from fulfillment.picking import apply_order_op
from sync.protocol import CustomerIn, ItemIn, OrderIn, OrderLineIn, StaffIn, StockIn, StoreIn

from .db.tables import stores
from .service import oms
from .service.clock import utcnow
from .service.feed import store_tx
from .service.orders import apply_outcome, load_order
from .service.tasks import create_tasks

__all__ = ["DEMO_STAFF", "DEMO_STORE", "demo_items", "seed_demo"]

DEMO_STORE = "S001"
DEMO_STAFF = [
    StaffIn(employee_id="E100", name="Ana Lopez", role=Role.ASSOCIATE, pin="1234"),
    StaffIn(employee_id="E101", name="Ben Okafor", role=Role.ASSOCIATE, pin="2345"),
    StaffIn(employee_id="M200", name="Maria Chen", role=Role.MANAGER, pin="987654"),
]

_CATALOGUE = {
    "Pet": ["Dog Food {} kg", "Cat Litter {} kg", "Dog Treats {} g", "Cat Food Pouches {}-pack"],
    "Household": [
        "AA Batteries {}-pack",
        "Dish Soap {} ml",
        "Paper Towels {}-roll",
        "Bin Bags {} l",
    ],
    "Grocery": ["Basmati Rice {} kg", "Olive Oil {} ml", "Ground Coffee {} g", "Oat Flakes {} g"],
    "Baby": ["Nappies Size {}", "Baby Wipes {}-pack", "Baby Shampoo {} ml"],
    "Garden": ["Potting Soil {} l", "Garden Gloves Size {}", "Plant Food {} ml"],
    "Electronics": ["USB-C Cable {} m", "Phone Charger {} W", "HDMI Cable {} m"],
    "Toys": ["Building Blocks {} pcs", "Puzzle {} pieces", "Colouring Pencils {}-pack"],
    "Health": ["Vitamin C {} tablets", "Plasters {}-pack", "Hand Sanitiser {} ml"],
}
_SIZES = [1, 2, 3, 4, 5, 6, 8, 10, 12, 20, 24, 36, 48, 100, 250, 500, 750, 1000]
_AISLES = "ABCDEFGH"
_NAMES = [
    ("Olivia Brown", "olivia.brown@example.com", "+44 7700 900101"),
    ("Noah Smith", "noah.smith@example.com", "+44 7700 900102"),
    ("Amelia Jones", "amelia.j@example.com", "+44 7700 900103"),
    ("Leo Taylor", "leo.taylor@example.com", "+44 7700 900104"),
    ("Isla Wilson", "isla.w@example.com", "+44 7700 900105"),
    ("Oscar Davies", "oscar.d@example.com", "+44 7700 900106"),
]


def _gtin13(rng: random.Random) -> str:
    payload = "50" + "".join(str(rng.randint(0, 9)) for _ in range(10))
    return payload + check_digit(payload)


def demo_items(count: int = 320, seed: int = 7) -> list[ItemIn]:
    """`count` items spread over aisles A–H, bays 1–12, shelves 1–4, walked in a snake."""
    rng = random.Random(seed)
    templates = [(dept, t) for dept, ts in _CATALOGUE.items() for t in ts]
    made: list[ItemIn] = []
    seen: set[str] = set()
    gtins: set[str] = set()
    while len(made) < count:
        dept, template = rng.choice(templates)
        name = template.format(rng.choice(_SIZES))
        if name in seen:
            continue
        seen.add(name)
        aisle = rng.randrange(len(_AISLES))
        bay = rng.randint(1, 12)
        shelf = rng.randint(1, 4)
        walk_bay = bay if aisle % 2 == 0 else 13 - bay  # serpentine: odd aisles walked backwards
        gtin = _gtin13(rng)
        while gtin in gtins:
            gtin = _gtin13(rng)
        gtins.add(gtin)
        price = Decimal(rng.randint(99, 4999)) / 100
        made.append(
            ItemIn(
                sku=f"SKU-{len(made) + 1:05d}",
                gtins=[gtin],
                name=name,
                price=price,
                unit_cost=(price * Decimal("0.6")).quantize(Decimal("0.01")),
                category=dept,
                location=f"{_AISLES[aisle]}-{bay:02d}-{shelf}",
                location_seq=aisle * 1000 + walk_bay * 10 + shelf,
                final_sale=dept == "Health" and rng.random() < 0.3,
            )
        )
    return made


# the demo's pickup order that is picked and staged: ready to hand over
READY_ORDER = "W-1011"


def demo_orders(items: list[ItemIn], count: int = 12, seed: int = 11) -> list[OrderIn]:
    rng = random.Random(seed)
    now = utcnow().replace(microsecond=0)
    orders = []
    for n in range(count):
        kind = "pickup" if n % 2 == 0 else "ship_from_store"
        name, email, phone = _NAMES[n % len(_NAMES)]
        picked = rng.sample(items, rng.randint(1, 4))
        due = now + timedelta(minutes=rng.choice([-20, 25, 45, 90, 120, 180, 240, 360]))
        orders.append(
            OrderIn(
                order_id=f"W-{1001 + n}",
                store_id=DEMO_STORE,
                type=kind,  # type: ignore[arg-type]
                customer=CustomerIn(name=name, email=email, phone=phone),
                due_at=due,
                priority=1 if n in (3, 8) else 0,
                pickup_code=f"PK{1001 + n}" if kind == "pickup" else None,
                lines=[
                    OrderLineIn(
                        line_id=str(i + 1),
                        sku=it.sku,
                        qty=rng.choice([1, 1, 1, 2, 3]),
                        price=it.price,
                    )
                    for i, it in enumerate(picked)
                ],
            )
        )
    return orders


# Orders sold before the demo starts, to bring back: (order, type, days ago, lines), a line
# being (index into the catalogue's items, qty); one has a final-sale item, the last is
# outside the 30-day return window.
_SOLD: list[tuple[str, str, int, list[tuple[int, int]]]] = [
    ("W-0901", "pickup", 3, [(4, 2), (17, 1)]),
    ("W-0902", "pickup", 3, [(-1, 1), (40, 1)]),  # -1: a final-sale item
    ("W-0903", "ship_from_store", 10, [(8, 1), (23, 3)]),
    ("W-0904", "pickup", 45, [(12, 1)]),
]


def demo_sold_orders(items: list[ItemIn]) -> list[tuple[OrderIn, datetime]]:
    """Orders a customer received days ago, each with when the goods left the store."""
    now = utcnow().replace(microsecond=0)
    final_sale = next(it for it in items if it.final_sale)
    made = []
    for n, (order_id, kind, days, lines) in enumerate(_SOLD):
        name, email, phone = _NAMES[(n + 2) % len(_NAMES)]
        sold_at = now - timedelta(days=days, hours=2 + n)
        picked = [(final_sale if i < 0 else items[i], qty) for i, qty in lines]
        body = OrderIn(
            order_id=order_id,
            store_id=DEMO_STORE,
            type=kind,  # type: ignore[arg-type]
            customer=CustomerIn(name=name, email=email, phone=phone),
            due_at=sold_at + timedelta(minutes=30),
            pickup_code=f"PK{order_id[2:]}" if kind == "pickup" else None,
            lines=[
                OrderLineIn(line_id=str(i + 1), sku=it.sku, qty=qty, price=it.price)
                for i, (it, qty) in enumerate(picked)
            ],
        )
        made.append((body, sold_at))
    return made


def _fulfil(
    engine: Engine, order_id: str, sold_at: datetime, actor: str, *, finish: bool = True
) -> None:
    """Pick, stage and (`finish`) hand over or ship an order, at `sold_at`, through the same
    rules and writes as a tablet's pushed ops (ledger, stock, order documents)."""
    with store_tx(engine, DEMO_STORE, sold_at) as tx:
        order = load_order(tx, order_id)
        assert order is not None
        ctx = Context.of(
            actor,
            sold_at,
            policy=tx.policy,
            staff_names={p.employee_id: p.name for p in DEMO_STAFF},
            timezone=tx.timezone,
        )
        ops: list[tuple[str, dict[str, Any]]] = [("order.claim", {})]
        ops += [
            (
                "pick.scan",
                {"line_id": x.line_id, "gtin": x.gtins[0], "qty": x.qty, "location": x.location},
            )
            for x in order.lines
        ]
        done = [{"line_id": x.line_id, "qty": x.qty} for x in order.lines]
        if order.type is OrderType.PICKUP:
            ops += [("order.stage", {"staging_location": "PICKUP-1", "packages": 0})]
            if finish:
                ops += [("order.handoff", {"verified_by": "pickup_code", "lines": done})]
        else:
            ops += [
                ("order.stage", {"staging_location": "PACK-1", "packages": 1}),
                (
                    "order.ship",
                    {"carrier": "DPD", "tracking": f"DPD{order_id[2:]}0042", "packages": 1},
                ),
            ]
        current: Order = order
        for op_type, payload in ops:
            outcome = apply_order_op(current, op_type, {"order_id": order_id, **payload}, ctx)
            assert outcome.status is Status.APPLIED, (op_type, outcome.message)
            apply_outcome(tx, current, outcome, op_id=None, actor_id=actor, occurred_at=sold_at)
            current = outcome.order


def demo_count_schedule(items: list[ItemIn], count: int = 3) -> list[Followup]:
    """A cycle-count schedule for aisle A: the first `count` items of the aisle's walk."""
    aisle = sorted(
        (it for it in items if it.location.startswith("A-")), key=lambda it: it.location_seq
    )
    return [
        Followup(
            TaskKind.RECOUNT,
            it.sku,
            it.location,
            0,
            None,
            f"Count schedule, aisle A: count {it.name} at {it.location}",
        )
        for it in aisle[:count]
    ]


def seed_demo(engine: Engine) -> str:
    with engine.connect() as conn:
        exists = conn.execute(
            select(stores.c.store_id).where(stores.c.store_id == DEMO_STORE)
        ).first()
    if exists:
        return f"store {DEMO_STORE} already seeded"
    oms.upsert_store(
        engine, DEMO_STORE, StoreIn(name="Demo Store Riverside", timezone="Europe/London")
    )
    items = demo_items()
    oms.upsert_items(engine, DEMO_STORE, items)
    rng = random.Random(3)
    oms.add_stock(
        engine,
        DEMO_STORE,
        [StockIn(sku=it.sku, location=it.location, qty=rng.randint(3, 40)) for it in items],
    )
    oms.upsert_staff(engine, DEMO_STORE, DEMO_STAFF)
    orders = demo_orders(items)
    for order in orders:
        oms.create_order(engine, order)
    # one pickup order is ready on the shelf, so Hand-over can be tried at once
    _fulfil(engine, READY_ORDER, utcnow(), DEMO_STAFF[1].employee_id, finish=False)
    sold = demo_sold_orders(items)
    for body, sold_at in sold:
        oms.create_order(engine, body, now=sold_at - timedelta(minutes=40))
        _fulfil(engine, body.order_id, sold_at, DEMO_STAFF[0].employee_id)
    schedule = demo_count_schedule(items)
    with store_tx(engine, DEMO_STORE) as tx:
        create_tasks(tx, tuple(schedule), None)
    return (
        f"store {DEMO_STORE}: {len(items)} items, {len(DEMO_STAFF)} staff, "
        f"{len(orders)} open orders ({READY_ORDER} ready for pickup), {len(sold)} sold orders to return "
        f"({sold[0][0].order_id} … {sold[-1][0].order_id}), "
        f"{len(schedule)} shelves to count in aisle A"
    )
