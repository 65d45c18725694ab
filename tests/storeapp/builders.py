"""Build pull pages the way central sends them: that is how data reaches a tablet."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any, Literal
from uuid import UUID

from fulfillment import counts
from fulfillment.barcodes import check_digit
from fulfillment.model import Customer, Line, Order, OrderState, OrderType, Policy
from fulfillment.outcome import Context
from fulfillment.pins import hash_pin
from sync.protocol import Change, EnrollResponse, OpResult, PullResponse, Reset

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
STORE = "S001"
ENROLLED = EnrollResponse(device_id="dev-1", store_id=STORE, token="tok-1")


def gtin(n: int) -> str:
    """A valid GTIN-13 (check digit right) numbered n."""
    payload = f"501234567{n:03d}"
    return payload + check_digit(payload)


def gtin14(n: int) -> str:
    return "0" + gtin(n)


@cache
def pin_hash(pin: str) -> str:
    return hash_pin(pin, pin.encode().ljust(16, b"s"))


# sku -> (name, location, location_seq)
CATALOGUE = {
    "DOG2": ("Dog Food 2 kg", "A-12", 120),
    "DOG12": ("Dog Food 12 kg", "A-14", 140),
    "CAT1": ("Cat Litter 10 l", "B-03", 203),
    "BOWL": ("Steel Bowl", "C-01", 301),
}
GTIN_OF = {"DOG2": gtin(1), "DOG12": gtin(2), "CAT1": gtin(3), "BOWL": gtin(4)}


def store_doc(**policy: Any) -> dict[str, Any]:
    return {"store_id": STORE, "name": "Pets Central", "timezone": "UTC", "policy": policy}


def staff_doc(
    employee_id: str, name: str, pin: str, role: str = "associate", active: bool = True
) -> dict[str, Any]:
    return {
        "employee_id": employee_id,
        "name": name,
        "role": role,
        "pin_hash": pin_hash(pin),
        "active": active,
    }


def item_doc(sku: str) -> dict[str, Any]:
    name, location, seq = CATALOGUE[sku]
    return {
        "sku": sku,
        "gtins": [gtin14_of(sku)],
        "name": name,
        "price": "9.99",
        "location": location,
        "location_seq": seq,
        "final_sale": False,
    }


def task_doc(
    task_id: str,
    kind: str = "put_back",
    sku: str = "DOG2",
    location: str = "A-12",
    qty: int = 1,
    *,
    order_id: str | None = "W-1",
    reason: str = "over_pick",
    state: str = "open",
    created_at: str = "2025-03-03T08:00:00Z",
) -> dict[str, Any]:
    """A follow-up task as central sends it."""
    return {
        "task_id": task_id,
        "kind": kind,
        "sku": sku,
        "location": location,
        "qty": qty,
        "order_id": order_id,
        "reason": reason,
        "state": state,
        "created_at": created_at,
    }


def gtin14_of(sku: str) -> str:
    return "0" + GTIN_OF[sku]


def order_doc(
    order_id: str,
    lines: list[tuple[str, str, int]],
    *,
    type: str = "pickup",
    due_in: timedelta = timedelta(hours=2),
    priority: int = 0,
    state: str = "released",
    assignee: str | None = None,
    assignee_name: str | None = None,
    picked: dict[str, int] | None = None,
    customer: tuple[str, str, str] = ("Jo Smith", "jo@example.com", "+44 7700 900123"),
    pickup_code: str | None = None,
) -> dict[str, Any]:
    """An order as central sends it: lines carry name, GTINs and location."""
    picked = picked or {}
    order = Order(
        order_id=order_id,
        store_id=STORE,
        type=OrderType(type),
        state=OrderState(state),
        customer=Customer(name=customer[0], email=customer[1], phone=customer[2]),
        due_at=T0 + due_in,
        priority=priority,
        pickup_code=pickup_code,
        assignee=assignee,
        assignee_name=assignee_name,
        claimed_at=T0 if assignee else None,
        lines=tuple(
            Line(
                line_id=line_id,
                sku=sku,
                qty=qty,
                price=Decimal("9.99"),
                name=CATALOGUE[sku][0],
                gtins=(gtin14_of(sku),),
                location=CATALOGUE[sku][1],
                location_seq=CATALOGUE[sku][2],
                picked=picked.get(line_id, 0),
            )
            for line_id, sku, qty in lines
        ),
        created_at=T0 - timedelta(minutes=5),
    )
    return order.model_dump(mode="json")


class Feed:
    """Central's change feed for one store: each change takes the next version."""

    def __init__(self) -> None:
        self.version = 0

    def change(
        self,
        kind: str,
        id: str,
        data: dict[str, Any] | None = None,
        op: Literal["upsert", "delete"] = "upsert",
    ) -> Change:
        self.version += 1
        return Change(kind=kind, id=id, version=self.version, op=op, data=data or {})

    def page(
        self,
        *changes: Change,
        last_applied_seq: int = 0,
        reset: str | None = None,
        has_more: bool = False,
    ) -> PullResponse:
        return PullResponse(
            cursor=f"c{self.version}",
            has_more=has_more,
            server_time=T0,
            last_applied_seq=last_applied_seq,
            changes=list(changes),
            reset=Reset(reason=reset) if reset else None,
        )

    def orders(self, *docs: dict[str, Any], last_applied_seq: int = 0) -> PullResponse:
        return self.page(
            *(self.change("order", d["order_id"], d) for d in docs),
            last_applied_seq=last_applied_seq,
        )

    def basics(self, **policy: Any) -> PullResponse:
        """The store, its staff (Ana 1234, Ben 5678, Maria the manager 9999) and catalogue."""
        return self.page(
            self.change("store", STORE, store_doc(**policy)),
            self.change("staff", "E1", staff_doc("E1", "Ana", "1234")),
            self.change("staff", "E2", staff_doc("E2", "Ben", "5678")),
            self.change("staff", "M1", staff_doc("M1", "Maria", "9999", role="manager")),
            *(self.change("item", sku, item_doc(sku)) for sku in CATALOGUE),
        )


def result(
    op: dict[str, Any],
    status: Literal["applied", "compensated", "rejected", "duplicate"] = "applied",
    **extra: Any,
) -> OpResult:
    """Central's answer to one pushed envelope (as `LocalStore.pending` gives it)."""
    return OpResult(op_id=UUID(op["op_id"]), seq=op["seq"], status=status, **extra)


def sold_order_doc(
    order_id: str,
    lines: list[tuple[str, str, int]],
    *,
    sold_ago: timedelta = timedelta(days=3),
    type: str = "pickup",
    returned: dict[str, int] | None = None,
    customer: tuple[str, str, str] = ("Jo Smith", "jo@example.com", "+44 7700 900123"),
    pickup_code: str | None = None,
) -> dict[str, Any]:
    """An order central sends after the customer got it: handed over (or shipped)
    `sold_ago` before T0, every unit fulfilled, `returned` units already back."""
    returned = returned or {}
    doc = order_doc(
        order_id,
        lines,
        type=type,
        state="handed_over" if type == "pickup" else "shipped",
        picked={line_id: qty for line_id, _, qty in lines},
        customer=customer,
        pickup_code=pickup_code,
    )
    sold = (T0 - sold_ago).isoformat().replace("+00:00", "Z")
    doc["fulfilled_at"] = doc["updated_at"] = sold
    for line in doc["lines"]:
        line["fulfilled"] = line["picked"]
        line["returned"] = returned.get(line["line_id"], 0)
    return doc


STAFF_NAMES = {"E1": "Ana", "E2": "Ben", "M1": "Maria"}


def count_doc(
    count_id: str,
    sku: str,
    counted: int,
    book: int,
    *,
    counted_by: str = "E1",
    location: str | None = None,
    task_id: str | None = None,
    counted_at: datetime = T0,
    previous: dict[str, Any] | None = None,
    moved_since_previous: bool = True,
) -> dict[str, Any]:
    """The `count` doc central publishes after `fulfillment.counts.record` (default policy:
    more than 2 units and more than 5 % of book waits for a manager)."""
    ctx = Context(actor_id=counted_by, now=counted_at, policy=Policy(), staff_names=STAFF_NAMES)
    outcome = counts.record(
        count_id=count_id,
        task_id=task_id,
        sku=sku,
        location=location or CATALOGUE[sku][1],
        counted=counted,
        counted_at=counted_at,
        book=book,
        ctx=ctx,
        name=CATALOGUE[sku][0],
        previous=counts.Count.model_validate(previous) if previous else None,
        moved_since_previous=moved_since_previous,
    )
    assert outcome.count is not None
    return outcome.count.model_dump(mode="json")


def decided_count_doc(doc: dict[str, Any], manager: str, approve: bool = True) -> dict[str, Any]:
    """The `count` doc after a manager's decision at central."""
    count = counts.Count.model_validate(doc)
    ctx = Context(actor_id=manager, now=T0, staff_names=STAFF_NAMES)
    outcome = counts.approve(count, count.book, ctx) if approve else counts.send_back(count, ctx)
    assert outcome.count is not None
    return outcome.count.model_dump(mode="json")
