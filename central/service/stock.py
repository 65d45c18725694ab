"""Stock adjustments on central: `stock.adjust` (a manager), its apply step.

The adjustment is an `adjust` movement in the ledger whose note is the manager's reason;
the `stock` document follows at flush."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fulfillment.codes import Code
from fulfillment.ledger import Movement, MovementKind
from fulfillment.outcome import Status
from sync.protocol import StockAdjust

from .applying import Applying, Said
from .counts import item_name
from .effects import Effects, write_effects

if TYPE_CHECKING:
    from .feed import StoreTx

__all__ = ["apply_stock"]


def apply_stock(tx: StoreTx, op: Applying) -> Said:
    """`stock.adjust`: an `adjust` movement; its reason is the ledger row's note."""
    payload: StockAdjust = op.payload
    name = item_name(tx, payload.sku)
    if name is None:
        return Said(
            Status.REJECTED.value, Code.UNKNOWN_ITEM, f"No item {payload.sku} in this store"
        )
    move = Movement(
        kind=MovementKind.ADJUST, sku=payload.sku, location=payload.location, qty=payload.delta
    )
    write_effects(
        tx,
        Effects(
            op_id=op.op_id,
            actor_id=op.actor_id,
            occurred_at=op.occurred_at,
            movements=(move,),
            note=payload.reason,
        ),
    )
    return Said(
        Status.APPLIED.value,
        message=f"{payload.delta:+d} × {name} at {payload.location}: {payload.reason}",
    )
