"""The stock ledger's movement kinds and how each one moves on-hand.

on_hand(sku, location) is the sum of `on_hand_delta` over the movements.
`pick` and `put_back` move units between shelf and tote inside the store, so
they leave on-hand alone; `ship` and `handoff` take units out of the store.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

__all__ = ["Movement", "MovementKind", "on_hand_delta"]


class MovementKind(StrEnum):
    RECEIPT = "receipt"
    PICK = "pick"
    PUT_BACK = "put_back"
    SHIP = "ship"
    HANDOFF = "handoff"
    RETURN_RESTOCK = "return_restock"
    RETURN_DAMAGED = "return_damaged"
    ADJUST = "adjust"
    COUNT_ADJUST = "count_adjust"
    SALE = "sale"  # a till sale: units leave the store through a till
    TILL_RETURN = "till_return"  # an in-store return at a till: units back on the shelf
    DAMAGED = "damaged"  # rejected as damaged: from the shelf to the damaged bin
    REJECT_WRITEOFF = "reject_writeoff"  # rejected as not found: off the book until counted


# sign applied to a movement's qty to get its effect on on_hand
_SIGN = {
    MovementKind.RECEIPT: 1,
    MovementKind.PICK: 0,
    MovementKind.PUT_BACK: 0,
    MovementKind.SHIP: -1,
    MovementKind.HANDOFF: -1,
    MovementKind.RETURN_RESTOCK: 1,
    MovementKind.RETURN_DAMAGED: 0,
    MovementKind.ADJUST: 1,  # qty is signed
    MovementKind.COUNT_ADJUST: 1,  # qty is signed
    MovementKind.SALE: -1,
    MovementKind.TILL_RETURN: 1,
    MovementKind.DAMAGED: -1,
    MovementKind.REJECT_WRITEOFF: -1,
}


class Movement(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: MovementKind
    sku: str
    location: str
    qty: int
    order_id: str | None = None


def on_hand_delta(kind: MovementKind, qty: int) -> int:
    return _SIGN[MovementKind(kind)] * qty
