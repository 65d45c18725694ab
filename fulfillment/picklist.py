"""Pick lists: the lines of one or more orders in the store's walking order.

The same sku wanted by several orders is one stop with a per-order tote split,
so the associate takes all units from the shelf once and drops each order's
share into its tote. A scan is matched to the stop it belongs to and split
across that stop's order lines (first tote first).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .barcodes import InvalidBarcode, parse_scan
from .model import Line, Order

__all__ = [
    "Allocation",
    "PickList",
    "Split",
    "Stop",
    "allocate_scan",
    "build_pick_list",
    "tote_label",
]


def tote_label(index: int) -> str:
    """Tote 1, 2, 3 … in the order the orders were put on the list."""
    return f"Tote {index + 1}"


@dataclass(frozen=True)
class Split:
    order_id: str
    line_id: str
    tote: str
    qty: int
    picked: int
    short: int
    rejected: int = 0  # of `short`: rejected with a reason (issue #11)

    @property
    def remaining(self) -> int:
        return self.qty - self.picked - self.short


@dataclass(frozen=True)
class Stop:
    sku: str
    name: str
    location: str
    location_seq: int
    gtins: tuple[str, ...]
    splits: tuple[Split, ...]

    @property
    def qty(self) -> int:
        return sum(s.qty for s in self.splits)

    @property
    def picked(self) -> int:
        return sum(s.picked for s in self.splits)

    @property
    def short(self) -> int:
        return sum(s.short for s in self.splits)

    @property
    def rejected(self) -> int:
        return sum(s.rejected for s in self.splits)

    @property
    def remaining(self) -> int:
        return sum(s.remaining for s in self.splits)

    @property
    def done(self) -> bool:
        return self.remaining == 0


@dataclass(frozen=True)
class PickList:
    order_ids: tuple[str, ...]
    stops: tuple[Stop, ...]

    @property
    def qty(self) -> int:
        return sum(s.qty for s in self.stops)

    @property
    def done_units(self) -> int:
        return sum(s.picked + s.short for s in self.stops)

    @property
    def progress(self) -> float:
        return self.done_units / self.qty if self.qty else 1.0

    @property
    def current(self) -> Stop | None:
        """The next stop on the walk that still needs units."""
        return next((s for s in self.stops if not s.done), None)

    def tote_of(self, order_id: str) -> str:
        return tote_label(self.order_ids.index(order_id))


def build_pick_list(orders: Sequence[Order]) -> PickList:
    """Stops sorted by (location_seq, location, sku); one stop per sku and location."""
    order_ids = tuple(o.order_id for o in orders)
    grouped: dict[tuple[str, str], list[tuple[int, Order, Line]]] = {}
    for index, order in enumerate(orders):
        for line in order.lines:
            grouped.setdefault((line.sku, line.location), []).append((index, order, line))
    stops = []
    for (sku, location), members in grouped.items():
        first = members[0][2]
        gtins: list[str] = []
        for _, _, line in members:
            gtins.extend(g for g in line.gtins if g not in gtins)
        stops.append(
            Stop(
                sku=sku,
                name=first.name,
                location=location,
                location_seq=first.location_seq,
                gtins=tuple(gtins),
                splits=tuple(
                    Split(
                        o.order_id,
                        ln.line_id,
                        tote_label(i),
                        ln.qty,
                        ln.picked,
                        ln.short,
                        ln.rejected,
                    )
                    for i, o, ln in members
                ),
            )
        )
    stops.sort(key=lambda s: (s.location_seq, s.location, s.sku))
    return PickList(order_ids, tuple(stops))


@dataclass(frozen=True)
class Allocation:
    """What one scan does on a pick list: `parts` to send as pick.scan ops, or a message."""

    ok: bool
    message: str
    stop: Stop | None = None
    parts: tuple[tuple[Split, int], ...] = ()
    excess: int = 0
    gtin: str = ""  # the scanned code as a validated GTIN-14, once it matched a stop


def allocate_scan(pick_list: PickList, code: str, qty: int = 1) -> Allocation:
    """Match a scanned code to a stop and split `qty` across its order lines.

    Never raises for a wrong scan: the result carries the sentence to show.
    """
    if qty <= 0:
        return Allocation(False, "Quantity must be at least 1.")
    try:
        gtin = parse_scan(code).gtin
    except InvalidBarcode as exc:
        return Allocation(False, str(exc))
    matching = [s for s in pick_list.stops if gtin in {_norm(g) for g in s.gtins}]
    if not matching:
        current = pick_list.current
        wanted = f" — the list wants {current.name} at {current.location}" if current else ""
        return Allocation(False, f"{code} is not on this pick list{wanted}.")
    stop = next((s for s in matching if not s.done), None)
    if stop is None:
        done = matching[0]
        return Allocation(
            False,
            f"{done.name} is already complete ({done.picked} of {done.qty}): put it back at {done.location}.",
            stop=done,
            excess=qty,
        )
    left = qty
    parts = []
    for split in stop.splits:
        take = min(left, split.remaining)
        if take:
            parts.append((split, take))
            left -= take
    if left:
        return Allocation(
            False,
            f"Only {stop.remaining} more {stop.name} needed, not {qty}: put {left} back at {stop.location}.",
            stop=stop,
            excess=left,
        )
    totes = ", ".join(f"{take} in {split.tote}" for split, take in parts)
    return Allocation(True, f"{stop.name}: {totes}", stop=stop, parts=tuple(parts), gtin=gtin)


def _norm(gtin: str) -> str:
    return gtin.zfill(14) if gtin.isdigit() else gtin
