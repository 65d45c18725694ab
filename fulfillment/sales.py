"""Till sales and till returns: what one line of a store's till batch does to the ledger.

The POS (or the OMS for it) sends lines `{sale_id, line, sku, qty, till_id, sold_at}`; a
positive `qty` is a sale, a negative one an in-store return. Each line recorded is one
ledger movement dated `sold_at` at the item's home location: `sale` takes units off
on-hand, `till_return` puts them back. A line is judged alone — a bad one is refused with
a `LineCode` and the batch's others are recorded — and pure: the time and the catalogue
are arguments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from .codes import LineCode
from .ledger import Movement, MovementKind

__all__ = [
    "FUTURE_SKEW",
    "MAX_LINE_QTY",
    "Refusal",
    "SaleLine",
    "judge",
    "movement",
]

# a till's clock may run this far ahead of central's (PROTOCOL.md's window for ops)
FUTURE_SKEW = timedelta(minutes=5)
# units on one till line, either way (a ledger row's qty is a 32-bit column)
MAX_LINE_QTY = 99_999


@dataclass(frozen=True, slots=True)
class SaleLine:
    sale_id: str
    line: int
    sku: str
    qty: int  # > 0 sold, < 0 brought back at the till
    till_id: str
    sold_at: datetime

    @property
    def key(self) -> tuple[str, int]:
        return (self.sale_id, self.line)


@dataclass(frozen=True, slots=True)
class Refusal:
    code: LineCode
    field: str
    message: str


def movement(line: SaleLine, location: str) -> Movement:
    """The line's ledger movement at `location` (the item's home)."""
    if line.qty > 0:
        return Movement(kind=MovementKind.SALE, sku=line.sku, location=location, qty=line.qty)
    return Movement(kind=MovementKind.TILL_RETURN, sku=line.sku, location=location, qty=-line.qty)


def judge(line: SaleLine, now: datetime, home: str | None) -> Refusal | None:
    """None when the line may be recorded; else why not. `home`: the item's home location
    in this store's catalogue (None: not in it). The shape of each field (ids, bounds, a
    time in 2000–2199) is the wire model's; this is what needs the clock and the catalogue."""
    if line.qty == 0 or abs(line.qty) > MAX_LINE_QTY:
        return Refusal(
            LineCode.INVALID_LINE,
            "qty",
            f"qty must be 1 to {MAX_LINE_QTY:,} units sold, or -1 to -{MAX_LINE_QTY:,} brought back",
        )
    if line.sold_at > now + FUTURE_SKEW:
        return Refusal(
            LineCode.SOLD_IN_FUTURE,
            "sold_at",
            f"sold_at {line.sold_at.isoformat()} is later than central's clock "
            f"({now.isoformat(timespec='seconds')}) plus {FUTURE_SKEW.seconds // 60} min: "
            "check the till's clock",
        )
    if home is None:
        return Refusal(LineCode.UNKNOWN_ITEM, "sku", f"{line.sku} is not in this store's catalogue")
    return None
