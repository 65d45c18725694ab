"""Returns of online purchases at the desk (DOMAIN.md, Returns; UX.md screen 8).

    find(query) ── order number / pickup code / name / email / phone ──▶ matches; select(id)
    find misses here ──▶ looking_up: look_up() asks central (the network, no SQLite: a worker
        thread may run it), looked_up() stores what came as a pull would and selects it;
        offline: says the order may be older than what this tablet holds
    without_order(receipt) ──▶ the order is not on this tablet: the receipt is the evidence,
                               scan(gtin) adds each item (GTIN → sku from the catalogue here)
    scan(gtin) | set_qty(key, n) ──▶ how many come back (≤ what is still returnable)
    set_reason / set_condition / set_disposition / set_note ──▶ per line
        (the disposition follows the condition; only sellable goods may be restocked)
    submit() ──▶ `return.receive`, within policy
    approve(employee_id, pin, reason) ──▶ outside policy: a manager (not the one at the
        desk) approves on the same screen; `return.receive` (associate) and
        `return.override` (manager) are queued together in one transaction

A line's key is its line_id (with the order) or its sku (on the receipt alone). The
summary is live: the refund to the original tender, units back on the shelf and to the
damaged bin, and why the return is outside policy, in words.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, time
from decimal import Decimal
from enum import Enum
from typing import TypeVar

from fulfillment.barcodes import InvalidBarcode, parse_scan
from fulfillment.clock import store_zone
from fulfillment.model import Order
from fulfillment.outcome import Context
from fulfillment.returns import (
    DAMAGED_BIN,
    Condition,
    Disposition,
    ItemFacts,
    Return,
    ReturnLine,
    ReturnReason,
    ReturnState,
    policy_breaches,
    returnable,
    sold_at,
)
from fulfillment.roles import may_decide
from storeapp.local import LocalStore, ReturnRecord
from sync.errors import SyncError
from sync.protocol import Change

from .acting import NOT_SAVED, ActingVM
from .screen import SIGN_IN_FIRST, Clock, OnChange, Tone, local_time, nothing, utc_now
from .session import SessionVM

_E = TypeVar("_E", bound=Enum)  # a choice from a list: reason, condition, disposition

__all__ = [
    "CONDITIONS",
    "DISPOSITIONS",
    "REASONS",
    "ReturnListRow",
    "ReturnMatch",
    "ReturnSummary",
    "ReturnsLine",
    "ReturnsScreen",
    "ReturnsVM",
    "confirmation",
]

# an order of this store on central (None: central has none), or SyncError (offline …)
LookUp = Callable[[str], Change | None]

REASONS: dict[str, str] = {
    ReturnReason.CHANGED_MIND: "Changed mind",
    ReturnReason.WRONG_SIZE: "Wrong size",
    ReturnReason.DAMAGED: "Damaged",
    ReturnReason.DEFECTIVE: "Defective",
    ReturnReason.NOT_AS_DESCRIBED: "Not as described",
    ReturnReason.OTHER: "Other (say what)",
}
CONDITIONS: dict[str, str] = {
    Condition.SELLABLE: "Sellable",
    Condition.DAMAGED: "Damaged",
    Condition.DEFECTIVE: "Defective",
}
DISPOSITIONS: dict[str, str] = {
    Disposition.RESTOCK: "Back on the shelf",
    Disposition.DAMAGED_BIN: "Damaged bin",
    Disposition.RETURN_TO_VENDOR: "Return to vendor",
}
# what a condition sends the goods to unless the associate chooses otherwise
_DEFAULT_DISPOSITION = {
    Condition.SELLABLE: Disposition.RESTOCK,
    Condition.DAMAGED: Disposition.DAMAGED_BIN,
    Condition.DEFECTIVE: Disposition.RETURN_TO_VENDOR,
}
_STATE_WORDS = {
    ReturnState.COMPLETED: "Refund requested",
    ReturnState.AWAITING_OVERRIDE: "Waiting for a manager · refund held",
    ReturnState.NEEDS_REVIEW: "Manager review · refund held",
}
MAX_RECEIPT_QTY = 99  # units of one sku on the receipt alone (a typo guard)


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


@dataclass(frozen=True)
class ReturnMatch:
    order_id: str
    customer: str
    sold: str  # "sold Mon 3 Mar 10:42" or ""
    returnable: int


@dataclass(frozen=True)
class ReturnsLine:
    key: str  # line_id, or the sku on the receipt alone
    name: str
    sku: str
    price: Decimal
    location: str  # the item's shelf
    sold: int | None  # None: on the receipt alone
    already_returned: int | None
    returnable: int | None  # the most that may come back; None: not known here
    final_sale: bool
    qty: int
    reason: str
    condition: str
    disposition: str
    dispositions: tuple[str, ...]  # offered for this condition
    note: str


@dataclass(frozen=True)
class ReturnSummary:
    units: int
    refund: Decimal
    refund_text: str  # "Refund 24.99 to the original payment"
    to_shelf: int
    to_damaged: int
    breaches: tuple[str, ...]  # why it is outside policy, in words

    @property
    def needs_manager(self) -> bool:
        return bool(self.breaches)


@dataclass(frozen=True)
class ReturnListRow:
    return_id: str
    order_id: str
    at: str  # "10:42"
    units: int
    refund: str  # "24.99"
    state: str  # in words
    pending: bool  # not yet at central
    by: str


@dataclass(frozen=True)
class ReturnsScreen:
    query: str
    matches: tuple[ReturnMatch, ...]
    order_id: str | None  # the order the return is against (None: receipt or none yet)
    customer: str
    sold: str
    receipt: str | None  # the order not on this tablet: the number on the receipt
    lines: tuple[ReturnsLine, ...]
    summary: ReturnSummary | None
    today: tuple[ReturnListRow, ...]
    confirmation: str = ""  # after submit: what happened, receipt-like
    message: str = ""
    tone: Tone = "info"
    done: bool = False
    looking_up: str = ""  # not here: this order number is to be asked of central (look_up)
    saved_return_id: str | None = None  # after submit: the return just saved (its receipt)

    @property
    def mode(self) -> str:
        """find | order | receipt | done"""
        if self.done:
            return "done"
        if self.order_id is not None:
            return "order"
        if self.receipt is not None:
            return "receipt"
        return "find"


@dataclass(frozen=True)
class _Draft:
    qty: int = 0
    reason: ReturnReason = ReturnReason.CHANGED_MIND
    condition: Condition = Condition.SELLABLE
    disposition: Disposition = Disposition.RESTOCK
    note: str = ""


def _line_view(
    d: _Draft,
    key: str,
    name: str,
    sku: str,
    price: Decimal,
    location: str,
    sold: int | None,
    already_returned: int | None,
    most: int | None,
    final_sale: bool,
) -> ReturnsLine:
    """A line as the screen shows it: the item's facts and what the associate chose so far."""
    return ReturnsLine(
        key,
        name,
        sku,
        price,
        location,
        sold,
        already_returned,
        most,
        final_sale,
        d.qty,
        d.reason.value,
        d.condition.value,
        d.disposition.value,
        _offered(d.condition),
        d.note,
    )


def _order_number(text: str) -> bool:
    """Whether `text` could be an order number (not a name, an email or a phone number)."""
    return len(text) <= 64 and not any(c.isspace() or c == "@" for c in text)


def confirmation(ret: Return) -> str:
    """'Refund 24.99 to the original payment · 1 back on shelf A-12 · 1 to the damaged bin'."""
    if ret.refund_amount <= 0:
        parts = ["No refund"]
    elif ret.state is ReturnState.COMPLETED:
        parts = [f"Refund {_money(ret.refund_amount)} to the original payment"]
    else:
        parts = [f"Refund {_money(ret.refund_amount)} held: a manager decides"]
    shelves: dict[str, int] = {}
    damaged = 0
    for line in ret.lines:
        if line.restocked:
            shelves[line.location] = shelves.get(line.location, 0) + line.restocked
        else:
            damaged += line.accepted
    parts += [f"{n} back on shelf {where or '(its shelf)'}" for where, n in shelves.items()]
    if damaged:
        parts.append(f"{damaged} to the damaged bin")
    return " · ".join(parts)


class ReturnsVM(ActingVM[ReturnsScreen]):
    def __init__(
        self,
        store: LocalStore,
        session: SessionVM,
        *,
        clock: Clock = utc_now,
        on_change: OnChange = nothing,
        look_up: LookUp | None = None,
    ) -> None:
        """`look_up` asks central for an order this tablet does not hold (None: no lookup,
        e.g. not enrolled)."""
        self._look_up = look_up
        super().__init__(store, session, clock=clock, on_change=on_change)

    def _start(self) -> None:
        self._reset()
        self._confirmation = ""
        self._last: str | None = None
        self._online: str = ""  # the order number to ask central for
        self._asked = False  # look_up ran; its answer:
        self._answer: Change | SyncError | None = None  # None: central has no such order

    def _reset(self) -> None:
        self._query = ""
        self._matches: list[Order] = []
        self._order_id: str | None = None
        self._receipt: str | None = None
        self._drafts: dict[str, _Draft] = {}
        self._skus: list[str] = []  # receipt mode: the skus scanned, in order
        self._done = False

    # --- the screen ------------------------------------------------------------------------

    def _order(self) -> Order | None:
        return self._store.order(self._order_id) if self._order_id else None

    def _context(self, actor_id: str) -> Context:
        info = self._store.store_info() or {}
        staff = self._store.staff_names()
        member = self._store.staff_member(actor_id)
        return Context.of(
            actor_id,
            self._clock(),
            role=member.role if member else None,
            policy=self._store.policy(),
            staff_names=staff,
            timezone=str(info.get("timezone") or ""),
        )

    def _lines(self, order: Order | None) -> list[ReturnsLine]:
        out: list[ReturnsLine] = []
        if order is not None:
            facts = self._store.item_facts(x.sku for x in order.lines)
            for x in order.lines:
                if x.fulfilled == 0:
                    continue  # never left the store: nothing to bring back
                out.append(
                    _line_view(
                        self._drafts.get(x.line_id, _Draft()),
                        x.line_id,
                        x.name or x.sku,
                        x.sku,
                        x.price,
                        x.location,
                        x.fulfilled,
                        x.returned,
                        returnable(x),
                        facts.get(x.sku, ItemFacts()).final_sale,
                    )
                )
        elif self._receipt is not None:
            facts = self._store.item_facts(self._skus)
            for sku in self._skus:
                f = facts.get(sku, ItemFacts(name=sku))
                out.append(
                    _line_view(
                        self._drafts[sku],
                        sku,
                        f.name or sku,
                        sku,
                        f.price,
                        f.location,
                        None,
                        None,
                        None,
                        f.final_sale,
                    )
                )
        return out

    def _summary(self, order: Order | None, lines: list[ReturnsLine]) -> ReturnSummary | None:
        if order is None and self._receipt is None:
            return None
        chosen = [_return_line(x) for x in lines if x.qty > 0]
        refund = sum((x.price * x.qty for x in chosen), Decimal("0"))
        shelf = sum(x.restocked for x in chosen)
        units = sum(x.qty for x in chosen)
        who = self._session.associate
        breaches: tuple[str, ...] = ()
        if chosen:
            facts = self._store.item_facts(x.sku for x in chosen)
            ctx = self._context(who.employee_id if who else "")
            breaches = policy_breaches(order, chosen, facts, ctx, offline=order is None)
        text = f"Refund {_money(refund)} to the original payment" if refund else "No refund"
        return ReturnSummary(units, refund, text, shelf, units - shelf, breaches)

    def _today(self) -> tuple[ReturnListRow, ...]:
        now, zone = self._clock(), store_zone(self._timezone())
        midnight = datetime.combine(now.astimezone(zone).date(), time(0), tzinfo=zone)
        return tuple(_row(r, now, self._timezone()) for r in self._store.returns_since(midnight))

    def screen(self, message: str = "", tone: Tone = "info") -> ReturnsScreen:
        looking_up, self._online = self._online, ""  # asked once, by the screen it was for
        order = None if self._done else self._order()
        lines = self._lines(order) if not self._done else []
        sold = sold_at(order) if order is not None else None
        return ReturnsScreen(
            query=self._query,
            matches=tuple(_match(o, self._clock(), self._timezone()) for o in self._matches),
            order_id=order.order_id if order is not None else None,
            customer=order.customer.name if order is not None else "",
            sold=f"Sold {local_time(sold, self._clock(), self._timezone())}" if sold else "",
            receipt=None if self._done else self._receipt,
            lines=tuple(lines),
            summary=None if self._done else self._summary(order, lines),
            today=self._today(),
            confirmation=self._confirmation if self._done else "",
            message=message,
            tone=tone,
            done=self._done,
            looking_up=looking_up,
            saved_return_id=self._last if self._done else None,
        )

    # --- finding the sale -------------------------------------------------------------------

    def start(self) -> ReturnsScreen:
        """The next customer at the desk."""
        self._reset()
        self._confirmation = ""
        return self.screen()

    def find(self, query: str) -> ReturnsScreen:
        self._reset()
        self._confirmation = ""
        self._query = text = (query or "").strip()
        if not text:
            return self.screen(
                "Type the order number, pickup code, email or phone, or scan the receipt.",
                "error",
            )
        found = self._store.find_returnable(text)
        self._matches = found
        if not found and self._look_up is not None and _order_number(text):
            if self._store.order(text) is None:  # here, with nothing to return: say so below
                self._online = text
                return self.screen(f"Order {text} is not on this tablet: asking central…")
        if not found:
            return self.screen(
                f"No order with anything to return matches “{text}”. "
                "Not on this tablet? Return it on the receipt.",
                "error",
            )
        if len(found) == 1:
            self._order_id = found[0].order_id
            return self.screen("Choose what comes back.", "ok")
        return self.screen(f"{len(found)} orders match: choose one.", "info")

    def look_up(self) -> None:
        """Ask central for the order `find` did not find here (the screen said `looking_up`).
        The network only, no SQLite: the view runs it on a worker thread."""
        number = self._query
        if self._look_up is None or not number:
            return
        self._asked = True
        try:
            self._answer = self._look_up(number)
        except SyncError as exc:
            self._answer = exc

    def looked_up(self) -> ReturnsScreen:
        """What `look_up` brought: the order stored on this tablet as a pull stores it (so the
        return works as for any order, offline later too) and chosen; or why not, in words."""
        number, fetched = self._query, self._answer
        asked, self._asked, self._answer = self._asked, False, None
        if not asked:
            return self.screen()
        if isinstance(fetched, SyncError):
            days = self._store.policy().return_window_days * 2
            return self.screen(
                f"Order {number} is not on this tablet: it may be older than the {days} days "
                "of orders this tablet holds, and central cannot be reached to look it up. "
                "Connect to the store's network and search again, or take it as a return "
                "without the order (Not on this tablet).",
                "warning",
            )
        if fetched is None:
            return self.screen(
                f"No order {number} on this tablet or on central. "
                "Check the number on the receipt, or return it on the receipt.",
                "error",
            )
        self._store.take_order(fetched)
        order = self._store.order(fetched.id)
        if order is None or not any(returnable(x) for x in order.lines):
            return self.screen(f"Order {fetched.id} has nothing left to return.", "error")
        self._order_id, self._matches = order.order_id, [order]
        return self.screen(
            f"Order {order.order_id} was not on this tablet: found on central. "
            "Choose what comes back.",
            "ok",
        )

    def select(self, order_id: str) -> ReturnsScreen:
        order = self._store.order(order_id)
        if order is None or not any(returnable(x) for x in order.lines):
            return self.screen(f"Order {order_id} has nothing left to return.", "error")
        self._order_id, self._receipt, self._drafts, self._skus = order_id, None, {}, []
        return self.screen("Choose what comes back.", "ok")

    def without_order(self, receipt: str) -> ReturnsScreen:
        """The order is not on this tablet: return on the receipt's order number."""
        number = (receipt or "").strip()
        if not number:
            return self.screen("Type the order number printed on the receipt.", "error")
        if len(number) > 64:
            return self.screen("That is too long for an order number.", "error")
        if self._store.order(number) is not None:
            return self.select(number)
        self._reset()
        self._confirmation = ""
        self._receipt = number
        return self.screen(
            f"Order {number} is not on this tablet: scan each item that comes back.", "info"
        )

    # --- what comes back ---------------------------------------------------------------------

    def scan(self, code: str) -> ReturnsScreen:
        """A barcode on an item: +1 of its line (on the receipt alone: adds the item)."""
        if self._done:
            return self.screen("Start the next return first.", "error")
        try:
            gtin = parse_scan(code).gtin
        except InvalidBarcode as exc:
            return self.screen(str(exc), "error")
        order = self._order()
        if order is not None:
            for view in self._lines(order):
                line = order.line(view.key)
                if line is None or gtin not in line.gtins:
                    continue
                if view.returnable is not None and view.qty >= view.returnable:
                    continue  # the same sku may be on another line
                return self.set_qty(view.key, view.qty + 1)
            return self.screen(
                "That item is not on this order, or all of it is already counted.", "error"
            )
        if self._receipt is None:
            return self.screen("Find the order first, or return it on the receipt.", "error")
        item = self._store.item_by_gtin(gtin)
        if item is None:
            return self.screen(f"No item with barcode {gtin} on this tablet.", "error")
        if item.sku not in self._drafts:
            self._skus.append(item.sku)
            self._drafts[item.sku] = _Draft()
        return self.set_qty(item.sku, self._drafts[item.sku].qty + 1)

    def _draft(self, key: str) -> tuple[_Draft, ReturnsLine] | None:
        if self._done:
            return None
        for view in self._lines(self._order()):
            if view.key == key:
                return self._drafts.get(key, _Draft()), view
        return None

    def set_qty(self, key: str, qty: int) -> ReturnsScreen:
        got = self._draft(key)
        if got is None:
            return self.screen("Choose the order and the item first.", "error")
        draft, view = got
        most = view.returnable if view.returnable is not None else MAX_RECEIPT_QTY
        if qty < 0 or qty > most:
            if view.returnable is not None:
                return self.screen(
                    f"{view.name}: {view.returnable} of {view.sold} can still be returned.",
                    "error",
                )
            return self.screen(f"Between 0 and {most} for one item.", "error")
        if view.returnable is None and qty == 0:
            self._drafts.pop(key, None)
            self._skus.remove(key)
            return self.screen(f"{view.name} taken off this return.", "info")
        self._drafts[key] = replace(draft, qty=qty)
        s = self.screen(f"{qty} × {view.name}", "ok")
        if qty and s.summary is not None and s.summary.needs_manager:
            # outside policy: not the green tone of a return that can be saved (issue #10, 9)
            return self.screen(
                f"{qty} × {view.name}: outside policy ("
                + "; ".join(s.summary.breaches)
                + "). A manager approves it before it is saved.",
                "error",
            )
        return s

    def _choice(
        self, key: str, kind: type[_E], value: str, refused: str
    ) -> tuple[_Draft, ReturnsLine, _E] | ReturnsScreen:
        """The line's draft and view with one of `kind` chosen, or the screen saying why not."""
        got = self._draft(key)
        if got is None:
            return self.screen("Choose the order and the item first.", "error")
        try:
            chosen = kind(value)
        except ValueError:
            return self.screen(refused, "error")
        return got[0], got[1], chosen

    def set_reason(self, key: str, reason: str) -> ReturnsScreen:
        got = self._choice(key, ReturnReason, reason, "Choose a reason from the list.")
        if isinstance(got, ReturnsScreen):
            return got
        draft, _, why = got
        self._drafts[key] = replace(draft, reason=why)
        return self.screen()

    def set_condition(self, key: str, condition: str) -> ReturnsScreen:
        """The goods' state; the disposition follows it (sellable → back on the shelf)."""
        got = self._choice(key, Condition, condition, "Choose a condition from the list.")
        if isinstance(got, ReturnsScreen):
            return got
        draft, _, state = got
        self._drafts[key] = replace(draft, condition=state, disposition=_DEFAULT_DISPOSITION[state])
        return self.screen()

    def set_disposition(self, key: str, disposition: str) -> ReturnsScreen:
        got = self._choice(
            key, Disposition, disposition, "Choose where the goods go from the list."
        )
        if isinstance(got, ReturnsScreen):
            return got
        draft, view, where = got
        if where.value not in _offered(draft.condition):
            return self.screen(
                f"Only sellable goods go back on the shelf: {view.name} is "
                f"{CONDITIONS[draft.condition].lower()}.",
                "error",
            )
        self._drafts[key] = replace(draft, disposition=where)
        return self.screen()

    def set_note(self, key: str, note: str) -> ReturnsScreen:
        got = self._draft(key)
        if got is None:
            return self.screen("Choose the order and the item first.", "error")
        text = (note or "").strip()
        if len(text) > 500:
            return self.screen("Keep the note under 500 characters.", "error")
        self._drafts[key] = replace(got[0], note=text)
        return self.screen()

    # --- saving ------------------------------------------------------------------------------

    def _check(self) -> tuple[ReturnsScreen, str | None]:
        """The screen now, and why it cannot be saved yet (None: it can)."""
        who = self._session.associate
        s = self.screen()
        if who is None:
            return s, SIGN_IN_FIRST
        if self._done:
            return s, "Already saved: start the next return."
        if s.summary is None:
            return s, "Find the order first, or return it on the receipt."
        chosen = [x for x in s.lines if x.qty > 0]
        if not chosen:
            return s, "Choose at least one item that comes back."
        for x in chosen:
            if x.reason == ReturnReason.OTHER and not x.note:
                return s, f"{x.name}: say in the note why it comes back."
        return s, None

    def submit(self) -> ReturnsScreen:
        """Save the return (within policy; outside it, a manager approves: `approve`)."""
        s, problem = self._check()
        if problem is not None:
            return self.screen(problem, "error")
        assert s.summary is not None
        if s.summary.needs_manager:
            return self.screen(
                "; ".join(s.summary.breaches)
                + ". A manager approves it here with their employee id and PIN.",
                "warning",
            )
        return self._save(s, None, "")

    def approve(self, employee_id: str, pin: str, reason: str = "") -> ReturnsScreen:
        """A manager approves a return outside policy on this screen, then it is saved:
        the associate's `return.receive` and the manager's `return.override`, together."""
        s, problem = self._check()
        if problem is not None:
            return self.screen(problem, "error")
        assert s.summary is not None
        if not s.summary.needs_manager:
            return self.screen("This return is within policy: no manager needed.", "info")
        employee_id, pin = (employee_id or "").strip(), (pin or "").strip()
        if not employee_id or not pin:
            return self.screen("The manager enters their employee id and PIN.", "error")
        check = self._store.check_pin(employee_id, pin, self._clock())  # waits and lockouts
        member = check.member
        if member is None:
            return self.screen(f"The manager's PIN was refused. {check.message}", "error")
        if not member.is_manager:
            return self.screen(
                f"{member.name} is not a manager: a manager approves returns outside policy.",
                "error",
            )
        who = self._session.associate
        assert who is not None
        if not may_decide(member.employee_id, who.employee_id):  # who received the return
            return self.screen(
                "You received this return: another manager approves it.",
                "error",
            )
        why = (reason or "").strip() or "Approved at the desk: " + "; ".join(s.summary.breaches)
        return self._save(s, member.employee_id, why[:200])

    def _save(self, s: ReturnsScreen, manager: str | None, reason: str) -> ReturnsScreen:
        who = self._session.associate
        assert who is not None
        return_id = f"R-{uuid.uuid4().hex[:12].upper()}"
        lines = [
            {
                ("line_id" if s.order_id else "sku"): x.key,
                "qty": x.qty,
                "reason": x.reason,
                "note": x.note,
                "condition": x.condition,
                "disposition": x.disposition,
            }
            for x in s.lines
            if x.qty > 0
        ]
        payload: dict[str, object] = {"return_id": return_id, "lines": lines}
        if s.order_id:
            payload["order_id"] = s.order_id
        else:
            payload["receipt"] = s.receipt
        steps: list[tuple[str, str, dict[str, object]]] = [
            (who.employee_id, "return.receive", payload)
        ]
        if manager is not None:
            steps.append((manager, "return.override", {"return_id": return_id, "reason": reason}))
        results = self._store.act_as(steps, self._clock(), all_or_nothing=True)
        refused = next((r for r in results if not r.queued), None)
        if refused is not None:
            return self.screen(refused.message or NOT_SAVED, "error")
        ret = results[-1].ret
        self._on_change()
        self._done, self._last = True, return_id
        self._confirmation = confirmation(ret) if ret is not None else ""
        if manager is not None:
            name = self._store.staff_names().get(manager, manager)
            return self.screen(f"Return saved, approved by {name}.", "ok")
        if ret is not None and ret.state is not ReturnState.COMPLETED:
            return self.screen(results[0].message or "Saved; a manager decides.", "warning")
        return self.screen("Return saved.", "ok")


# --- helpers ------------------------------------------------------------------------------------


def _offered(condition: Condition) -> tuple[str, ...]:
    if condition is Condition.SELLABLE:
        return tuple(d.value for d in Disposition)
    return (Disposition.DAMAGED_BIN.value, Disposition.RETURN_TO_VENDOR.value)


def _return_line(x: ReturnsLine) -> ReturnLine:
    line = ReturnLine(
        line_id=x.key if x.sold is not None else None,
        sku=x.sku,
        name=x.name,
        qty=x.qty,
        price=x.price,
        reason=ReturnReason(x.reason),
        note=x.note,
        condition=Condition(x.condition),
        disposition=Disposition(x.disposition),
    )
    return line.model_copy(update={"location": x.location if line.restocked else DAMAGED_BIN})


def _match(order: Order, now: datetime, timezone: str) -> ReturnMatch:
    sold = sold_at(order)
    return ReturnMatch(
        order.order_id,
        order.customer.name,
        f"sold {local_time(sold, now, timezone)}" if sold else "",
        sum(returnable(x) for x in order.lines),
    )


def _row(r: ReturnRecord, now: datetime, timezone: str) -> ReturnListRow:
    ret = r.ret
    return ReturnListRow(
        ret.return_id,
        ret.order_id or ret.receipt or "",
        local_time(ret.received_at, now, timezone),
        ret.units,
        _money(ret.refund_amount),
        _STATE_WORDS.get(ret.state, ret.state.value),
        r.pending,
        ret.received_by_name or ret.received_by,
    )
