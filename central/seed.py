"""The demo store S001: a few hundred items with valid GTINs and aisle locations,
staff, stock and a dozen open orders of both types. Deterministic (seeded)."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import Engine, select

from fulfillment.barcodes import check_digit
from fulfillment.model import Role
from sync.protocol import CustomerIn, ItemIn, OrderIn, OrderLineIn, StaffIn, StockIn, StoreIn

from .db.tables import stores
from .service import oms
from .service.clock import utcnow

__all__ = ["DEMO_STAFF", "DEMO_STORE", "demo_items", "seed_demo"]

DEMO_STORE = "S001"
DEMO_STAFF = [
    StaffIn(employee_id="E100", name="Ana Lopez", role=Role.ASSOCIATE, pin="1234"),
    StaffIn(employee_id="E101", name="Ben Okafor", role=Role.ASSOCIATE, pin="2345"),
    StaffIn(employee_id="M200", name="Maria Chen", role=Role.MANAGER, pin="9999"),
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
        made.append(
            ItemIn(
                sku=f"SKU-{len(made) + 1:05d}",
                gtins=[gtin],
                name=name,
                price=Decimal(rng.randint(99, 4999)) / 100,
                location=f"{_AISLES[aisle]}-{bay:02d}-{shelf}",
                location_seq=aisle * 1000 + walk_bay * 10 + shelf,
                final_sale=dept == "Health" and rng.random() < 0.3,
            )
        )
    return made


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
    return f"store {DEMO_STORE}: {len(items)} items, {len(DEMO_STAFF)} staff, {len(orders)} open orders"
