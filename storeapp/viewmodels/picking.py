"""Pick list: the lines of one or more claimed orders in walking order, a tote per order.

open(ids) ──▶ walking: current = first stop with units left
scan(code, qty) ── right ──▶ one `pick.scan` per tote share (tone ok)
                ── wrong item / not on list / already complete / too many ──▶
                   message only, nothing written (tone error)
select(i) ──▶ short / unscan act on stop i instead of the current one
unscan(qty) ──▶ `pick.unscan` (put back on the shelf) on the selected or last scanned stop
short(reason) ──▶ `pick.short` for the stop's remaining units (a recount task follows)
finish() ── units left ──▶ message
         ── per order: all short ──▶ `order.reject` (sent back)
                       partly short, store refuses partial ──▶ `order.reject`
                       else ──▶ to_stage (open StagingVM on it)
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

from fulfillment.barcodes import InvalidBarcode, parse_scan, printed_gtin
from fulfillment.codes import Code
from fulfillment.model import PICKABLE_STATES, Order, OrderState, ShortReason
from fulfillment.picking import stage_blocker
from fulfillment.picklist import PickList, Stop, allocate_scan, build_pick_list, tote_label

from .acting import ActingVM
from .screen import SIGN_IN_FIRST, Tone

__all__ = ["PickListVM", "PickScreen", "SplitRow", "StopRow", "ToteRow"]

SHORT_REASONS = tuple(r.value for r in ShortReason)
# why a finished order that may not be staged goes back to the online store (the reason
# the OMS is told), by the code of `stage_blocker`
_SEND_BACK_WHY = {
    Code.NOTHING_PICKED: "nothing could be picked",
    Code.PARTIAL_NOT_ALLOWED: "partly short and the store sends no partial orders",
}
_GONE = {
    OrderState.CANCELLED: "was cancelled",
    OrderState.EXPIRED: "expired",
    OrderState.REJECTED: "was sent back to the online store",
}


@dataclass(frozen=True)
class SplitRow:
    order_id: str
    line_id: str
    tote: str
    qty: int
    picked: int
    short: int
    remaining: int


@dataclass(frozen=True)
class StopRow:
    sku: str
    name: str
    location: str
    qty: int
    picked: int
    short: int
    remaining: int
    done: bool
    splits: tuple[SplitRow, ...]
    gtin: str = ""  # the code to scan (the first of the item's GTINs), shown small
    rejected: int = 0  # of `short`: rejected with a reason ("rejected 1" on the row)


@dataclass(frozen=True)
class ToteRow:
    order_id: str
    tote: str
    type: str
    customer: str
    state: str


@dataclass(frozen=True)
class PickScreen:
    order_ids: tuple[str, ...]
    totes: tuple[ToteRow, ...]
    stops: tuple[StopRow, ...]
    current_index: int | None  # next stop on the walk with units left
    selected_index: int | None  # the stop short/unscan act on
    done_units: int
    total_units: int
    message: str = ""
    tone: Tone = "info"
    banners: tuple[str, ...] = ()  # orders that left the list (cancelled, taken over)
    finished: bool = False
    to_stage: tuple[str, ...] = ()
    sent_back: tuple[str, ...] = ()

    @property
    def progress(self) -> float:
        return self.done_units / self.total_units if self.total_units else 1.0

    @property
    def can_finish(self) -> bool:
        return not self.finished and bool(self.stops) and self.done_units == self.total_units

    @property
    def current(self) -> StopRow | None:
        return None if self.current_index is None else self.stops[self.current_index]


@lru_cache(maxsize=512)
def _stop_row(stop: Stop) -> StopRow:
    return StopRow(
        stop.sku,
        stop.name or stop.sku,
        stop.location,
        stop.qty,
        stop.picked,
        stop.short,
        stop.remaining,
        stop.done,
        tuple(
            SplitRow(s.order_id, s.line_id, s.tote, s.qty, s.picked, s.short, s.remaining)
            for s in stop.splits
        ),
        printed_gtin(stop.gtins[0]) if stop.gtins else "",
        stop.rejected,
    )


class PickListVM(ActingVM[PickScreen]):
    def _start(self) -> None:
        self._order_ids: tuple[str, ...] = ()
        self._selected: tuple[str, str] | None = None  # (sku, location)
        self._last_scanned: tuple[str, str] | None = None
        self._finished: tuple[tuple[str, ...], tuple[str, ...]] | None = None
        self._in_tote: dict[str, int] = {}  # units this list put in each order's tote
        self._built: tuple[tuple[Order, ...], PickList | None] = ((), None)

    # --- state ---------------------------------------------------------------------

    def _load(self) -> tuple[PickList, list[Order], tuple[str, ...]]:
        orders = self._store.orders(self._order_ids)
        me = self._session.associate.employee_id if self._session.associate else None
        on_list, banners = [], []
        for order in orders:
            if order.state in _GONE:
                held = max(  # pending scans on a closed order do not fold in: count ours too
                    sum(line.picked - line.fulfilled for line in order.lines),
                    self._in_tote.get(order.order_id, 0),
                )
                back = f": put its {held} item(s) back" if held else ""
                banners.append(f"Order {order.order_id} {_GONE[order.state]}{back}.")
            elif order.state in PICKABLE_STATES and order.assignee not in (None, me):
                who = order.assignee_name or order.assignee
                banners.append(f"Order {order.order_id} is now picked by {who}: leave its tote.")
            elif order.state in PICKABLE_STATES:
                on_list.append(order)
        return self._build(on_list), on_list, tuple(banners)

    def _build(self, orders: list[Order]) -> PickList:
        """The pick list, rebuilt only when an order changed (the store hands back the
        very same frozen Order objects while an order's JSON is unchanged)."""
        last, built = self._built
        if (
            built is None
            or len(last) != len(orders)
            or any(a is not b for a, b in zip(last, orders, strict=False))
        ):
            built = build_pick_list(orders)
            self._built = (tuple(orders), built)
        return built

    def screen(self, message: str = "", tone: Tone = "info") -> PickScreen:
        pick_list, orders, banners = self._load()
        return self._screen(pick_list, orders, banners, message, tone)

    def _screen(
        self,
        pick_list: PickList,
        orders: list[Order],
        banners: tuple[str, ...],
        message: str,
        tone: Tone,
    ) -> PickScreen:
        keys = [(s.sku, s.location) for s in pick_list.stops]
        current = pick_list.current
        current_index = None if current is None else keys.index((current.sku, current.location))
        selected_index = keys.index(self._selected) if self._selected in keys else current_index
        tote_of = {o.order_id: tote_label(i) for i, o in enumerate(orders)}
        totes = tuple(
            ToteRow(o.order_id, tote_of[o.order_id], o.type.value, o.customer.name, o.state.value)
            for o in orders
        )
        to_stage, sent_back = self._finished or ((), ())
        return PickScreen(
            order_ids=self._order_ids,
            totes=totes,
            stops=tuple(_stop_row(s) for s in pick_list.stops),
            current_index=current_index,
            selected_index=selected_index,
            done_units=pick_list.done_units,
            total_units=pick_list.qty,
            message=message,
            tone=tone,
            banners=banners,
            finished=self._finished is not None,
            to_stage=to_stage,
            sent_back=sent_back,
        )

    def open(self, order_ids: tuple[str, ...] | list[str]) -> PickScreen:
        self._order_ids = tuple(dict.fromkeys(order_ids))
        self._selected = self._last_scanned = None
        self._finished = None
        self._in_tote = {}
        screen = self.screen()
        if not screen.stops:
            return replace(screen, message="Nothing to pick on these orders.", tone="warning")
        return screen

    def select(self, stop_index: int) -> PickScreen:
        pick_list, orders, banners = self._load()
        if 0 <= stop_index < len(pick_list.stops):
            stop = pick_list.stops[stop_index]
            self._selected = (stop.sku, stop.location)
        return self._screen(pick_list, orders, banners, "", "info")

    # --- physical facts --------------------------------------------------------------

    def scan(self, code: str, qty: int = 1) -> PickScreen:
        who = self._session.associate
        if who is None:
            return self.screen(SIGN_IN_FIRST, "error")
        pick_list, orders, banners = self._load()
        allocation = allocate_scan(pick_list, code, qty)
        if not allocation.ok or allocation.stop is None:
            message = self._wrong_scan_message(pick_list, code, allocation.message, allocation.stop)
            return self._screen(pick_list, orders, banners, message, "error")
        gtin, stop = allocation.gtin, allocation.stop  # validated once, by allocate_scan
        results = self._store.act_many(
            who.employee_id,
            [
                (
                    "pick.scan",
                    {
                        "order_id": split.order_id,
                        "line_id": split.line_id,
                        "gtin": gtin,
                        "qty": take,
                        "location": stop.location,
                    },
                )
                for split, take in allocation.parts
            ],
            self._clock(),
        )
        self._on_change()
        for split, take in allocation.parts:
            self._in_tote[split.order_id] = self._in_tote.get(split.order_id, 0) + take
        self._last_scanned = (stop.sku, stop.location)
        self._selected = None
        warnings = [r.message for r in results if r.status == "compensated" and r.message]
        message, tone = (" ".join(warnings), "warning") if warnings else (allocation.message, "ok")
        return self.screen(message, tone)  # type: ignore[arg-type]

    def _wrong_scan_message(
        self, pick_list: PickList, code: str, message: str, stop: Stop | None
    ) -> str:
        """'This is Dog Food 12 kg — the list wants Dog Food 2 kg at A-12.' when we know the item."""
        if stop is not None:
            return message
        try:
            gtin = parse_scan(code).gtin
        except InvalidBarcode:
            return message
        item = self._store.item_by_gtin(gtin)
        current = pick_list.current
        if item is None or current is None:
            return message
        return f"This is {item.name} — the list wants {current.name} at {current.location}."

    def _focus(self, pick_list: PickList, *, prefer_scanned: bool) -> Stop | None:
        by_key = {(s.sku, s.location): s for s in pick_list.stops}
        for key in (self._selected, self._last_scanned if prefer_scanned else None):
            if key in by_key:
                return by_key[key]
        return pick_list.current

    def unscan(self, qty: int = 1) -> PickScreen:
        """Put `qty` units of the selected (or last scanned) stop back on the shelf."""
        who = self._session.associate
        if who is None:
            return self.screen(SIGN_IN_FIRST, "error")
        pick_list, orders, banners = self._load()
        stop = self._focus(pick_list, prefer_scanned=True)
        if stop is None or stop.picked == 0 or qty <= 0:
            return self._screen(
                pick_list, orders, banners, "Nothing picked here to put back.", "error"
            )
        ops, left = [], min(qty, stop.picked)
        for split in reversed(stop.splits):  # the last tote filled first
            take = min(left, split.picked)
            if take:
                ops.append(
                    (
                        "pick.unscan",
                        {"order_id": split.order_id, "line_id": split.line_id, "qty": take},
                    )
                )
                self._in_tote[split.order_id] = max(0, self._in_tote.get(split.order_id, 0) - take)
                left -= take
        self._store.act_many(who.employee_id, ops, self._clock())
        self._on_change()
        put_back = min(qty, stop.picked)
        return self.screen(f"Put {put_back} × {stop.name} back at {stop.location}.", "ok")

    def short(self, reason: str) -> PickScreen:
        """The selected (or current) stop's remaining units cannot be picked."""
        who = self._session.associate
        if who is None:
            return self.screen(SIGN_IN_FIRST, "error")
        pick_list, orders, banners = self._load()
        if reason not in SHORT_REASONS:
            return self._screen(
                pick_list,
                orders,
                banners,
                "Choose why: not found, damaged, wrong item on shelf, or other.",
                "error",
            )
        stop = self._focus(pick_list, prefer_scanned=False)
        if stop is None or stop.done:
            return self._screen(
                pick_list, orders, banners, "Nothing left to mark short here.", "error"
            )
        ops = [
            (
                "pick.short",
                {
                    "order_id": s.order_id,
                    "line_id": s.line_id,
                    "qty": s.remaining,
                    "reason": reason,
                },
            )
            for s in stop.splits
            if s.remaining
        ]
        self._store.act_many(who.employee_id, ops, self._clock())
        self._on_change()
        self._selected = None
        words = reason.replace("_", " ")
        return self.screen(
            f"{stop.remaining} × {stop.name} marked short ({words}): a recount of {stop.location} will follow.",
            "ok",
        )

    # --- end of the walk -------------------------------------------------------------

    def finish(self) -> PickScreen:
        who = self._session.associate
        if who is None:
            return self.screen(SIGN_IN_FIRST, "error")
        pick_list, orders, banners = self._load()
        left = pick_list.qty - pick_list.done_units
        if left:
            return self._screen(
                pick_list,
                orders,
                banners,
                f"{left} unit(s) still to pick or mark short.",
                "warning",
            )
        policy = self._store.policy()
        to_stage, rejects = [], []
        for order in orders:
            blocker = stage_blocker(order, policy)  # the rule `order.stage` applies
            if blocker is None:
                to_stage.append(order.order_id)
            else:
                why = _SEND_BACK_WHY.get(blocker.code, blocker.message)
                rejects.append((order.order_id, why))
        results = self._store.act_many(
            who.employee_id,
            [("order.reject", {"order_id": oid, "reason": why}) for oid, why in rejects],
            self._clock(),
        )
        sent_back = tuple(oid for (oid, _), r in zip(rejects, results, strict=True) if r.ok)
        if sent_back:
            self._on_change()
        self._finished = (tuple(to_stage), sent_back)
        parts = []
        if to_stage:
            parts.append("Ready to stage: " + ", ".join(to_stage) + ".")
        if sent_back:
            why = "; ".join(f"{oid} ({reason})" for oid, reason in rejects if oid in sent_back)
            parts.append(f"Sent back to the online store: {why}. Put their items back.")
        return self.screen(" ".join(parts) or "Pick list finished.", "ok")
