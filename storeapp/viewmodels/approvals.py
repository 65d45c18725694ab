"""The manager's approvals (DOMAIN.md, Manager's view; UX.md screen 11).

    counts waiting (over the variance threshold, or two counts disagree)
        approve_count(count_id)   ──▶ `count.approve` (the adjustment posts)
        recount(count_id)         ──▶ `count.recount` (a new blind count task)
    returns waiting (outside policy, or not verified at central; refund held)
        approve_return(return_id, reason) ──▶ `return.override`
    a stock adjustment
        adjust_scan(gtin) · set_adjust_location · set_adjust_delta · set_adjust_reason
        submit_adjust()           ──▶ `stock.adjust`

Managers only: an associate sees a sentence and nothing to decide. A manager never
decides their own count or return: refused with a sentence, nothing queued.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from fulfillment.returns import ReturnState
from fulfillment.roles import may_decide
from storeapp.local import CountRecord, ReturnRecord

from .acting import ActingVM
from .counting import signed
from .screen import SIGN_IN_FIRST, Tone, local_time

__all__ = [
    "MANAGERS_ONLY",
    "AdjustForm",
    "ApprovalsScreen",
    "ApprovalsVM",
    "CountApproval",
    "ReturnApproval",
    "waiting_approvals",
]

MANAGERS_ONLY = "Approvals are for managers: ask the shift manager."
MAX_DELTA = 9999
_STATE_WORDS = {
    "awaiting_approval": "Over the variance threshold",
    "disputed": "Two counts disagree",
}
_RETURN_WORDS = {
    ReturnState.AWAITING_OVERRIDE: "Outside policy",
    ReturnState.NEEDS_REVIEW: "Not verified by central",
}


@dataclass(frozen=True)
class CountApproval:
    count_id: str
    sku: str
    name: str
    location: str
    counted: int
    book: int | None
    variance: int | None
    variance_text: str  # "−3", "+12"
    counted_by: str
    counted_by_name: str
    at: str  # "10:42"
    state: str  # awaiting_approval | disputed
    why: str  # in words
    message: str  # central's sentence
    own: bool  # counted by the manager looking at it: another manager decides
    can_approve: bool  # a disputed count can only be sent back
    pending: bool  # a decision of this tablet is still waiting for central
    value: Decimal | None = None  # the variance in money (units × the item's cost)
    value_text: str = ""  # "value −29.97" ("" when the cost is not known)

    @property
    def confirm(self) -> str:
        """The question asked before an approval: every count waiting here is over the
        store's variance threshold, so one tap never changes the books (issue #10, 8)."""
        if not self.variance:
            return ""
        units = "unit" if abs(self.variance) == 1 else "units"
        return (
            f"Approve {self.variance_text} {units} of {self.name} at {self.location}? "
            f"The books change from {self.book} to {self.counted}."
        )


def value_words(value: Decimal | None) -> str:
    """'value −29.97' (a real minus sign); '' when the item's cost is not known."""
    if value is None:
        return ""
    money = f"{value:.2f}".replace("-", "\u2212")
    return f"value {'+' if value > 0 else ''}{money}"


@dataclass(frozen=True)
class ReturnApproval:
    return_id: str
    order: str  # the order id, or the receipt's number
    refund_held: str  # "24.99"
    units: int
    breaches: tuple[str, ...]
    state: str
    why: str
    received_by: str
    received_by_name: str
    at: str
    own: bool
    pending: bool


@dataclass(frozen=True)
class AdjustForm:
    sku: str | None
    name: str
    location: str
    delta_text: str
    reason: str


@dataclass(frozen=True)
class ApprovalsScreen:
    allowed: bool  # False: not a manager
    counts: tuple[CountApproval, ...]
    returns: tuple[ReturnApproval, ...]
    adjust: AdjustForm
    message: str = ""
    tone: Tone = "info"

    @property
    def waiting(self) -> int:
        return len(self.counts) + len(self.returns)


def waiting_approvals(counts: list[CountRecord], returns: list[ReturnRecord]) -> int:
    """How many decisions wait (the rail's and the home tile's number)."""
    return len(counts) + len(returns)


class ApprovalsVM(ActingVM[ApprovalsScreen]):
    def _start(self) -> None:
        self._reset_adjust()

    def _reset_adjust(self) -> None:
        self._sku: str | None = None
        self._name = ""
        self._location = ""
        self._delta = ""
        self._reason = ""

    def _manager(self) -> bool:
        who = self._session.associate
        return bool(who and who.is_manager)

    def waiting(self) -> int:
        """Decisions waiting (0 for an associate)."""
        if not self._manager():
            return 0
        return waiting_approvals(self._store.counts_waiting(), self._store.returns_waiting())

    def screen(self, message: str = "", tone: Tone = "info") -> ApprovalsScreen:
        form = AdjustForm(self._sku, self._name, self._location, self._delta, self._reason)
        if not self._manager():
            return ApprovalsScreen(False, (), (), form, message or MANAGERS_ONLY, tone)
        who = self._session.associate
        me = who.employee_id if who else ""
        now, zone = self._clock(), self._timezone()
        counts = tuple(
            CountApproval(
                c.count_id,
                c.sku,
                c.name,
                c.location,
                c.counted,
                c.book,
                c.variance,
                signed(c.variance) if c.variance is not None else "",
                c.counted_by,
                c.counted_by_name,
                local_time(c.counted_at, now, zone),
                c.state,
                _STATE_WORDS.get(c.state, c.state),
                c.message,
                not may_decide(me, c.counted_by),
                c.state == "awaiting_approval",
                c.pending,
                c.value,
                value_words(c.value),
            )
            for c in self._store.counts_waiting()
        )
        returns = tuple(
            ReturnApproval(
                r.ret.return_id,
                r.ret.order_id or r.ret.receipt or "",
                f"{r.ret.refund_amount:.2f}",
                r.ret.units,
                r.ret.breaches,
                r.ret.state.value,
                _RETURN_WORDS.get(r.ret.state, r.ret.state.value),
                r.ret.received_by,
                r.ret.received_by_name or r.ret.received_by,
                local_time(r.ret.received_at, now, zone),
                not may_decide(me, r.ret.received_by),
                r.pending,
            )
            for r in self._store.returns_waiting()
        )
        return ApprovalsScreen(True, counts, returns, form, message, tone)

    def _refused(self) -> ApprovalsScreen | None:
        if self._session.associate is None:
            return self.screen(SIGN_IN_FIRST, "error")
        if not self._manager():
            return self.screen(MANAGERS_ONLY, "error")
        return None

    # --- counts ---------------------------------------------------------------------------

    def _waiting_count(self, count_id: str) -> CountApproval | ApprovalsScreen:
        refused = self._refused()
        if refused is not None:
            return refused
        s = self.screen()
        row = next((c for c in s.counts if c.count_id == count_id), None)
        if row is None:
            return self.screen("That count is no longer waiting for a decision.", "error")
        if row.own:
            return self.screen(
                f"You counted {row.name} yourself: another manager decides.", "error"
            )
        return row

    def approve_count(self, count_id: str) -> ApprovalsScreen:
        row = self._waiting_count(count_id)
        if isinstance(row, ApprovalsScreen):
            return row
        if not row.can_approve:
            return self.screen(
                f"Two counts of {row.name} disagree: send it back for a blind recount.", "error"
            )
        return self._act(
            "count.approve",
            {"count_id": count_id},
            f"Approved: {row.variance_text} {row.name} at {row.location}.",
        )

    def recount(self, count_id: str) -> ApprovalsScreen:
        row = self._waiting_count(count_id)
        if isinstance(row, ApprovalsScreen):
            return row
        return self._act(
            "count.recount",
            {"count_id": count_id},
            f"Sent back: {row.name} at {row.location} gets a blind recount.",
        )

    # --- returns --------------------------------------------------------------------------

    def approve_return(self, return_id: str, reason: str) -> ApprovalsScreen:
        refused = self._refused()
        if refused is not None:
            return refused
        row = next((r for r in self.screen().returns if r.return_id == return_id), None)
        if row is None:
            return self.screen("That return is no longer waiting for a decision.", "error")
        if row.own:
            return self.screen(
                f"You received return {row.order} yourself: another manager approves it.",
                "error",
            )
        why = (reason or "").strip()
        if not why:
            return self.screen("Say why you approve it (the reason is kept).", "error")
        if len(why) > 200:
            return self.screen("Keep the reason under 200 characters.", "error")
        return self._act(
            "return.override",
            {"return_id": return_id, "reason": why},
            f"Return {row.order} approved: refund {row.refund_held} requested.",
        )

    # --- stock adjustment -----------------------------------------------------------------

    def adjust_scan(self, code: str) -> ApprovalsScreen:
        refused = self._refused()
        if refused is not None:
            return refused
        item = self._scanned_item(code)
        if isinstance(item, str):
            return self.screen(item, "error")
        self._sku, self._name, self._location = item.sku, item.name, item.location
        return self.screen(f"Adjust {item.name} at {item.location or '?'}.", "ok")

    def set_adjust_location(self, location: str) -> ApprovalsScreen:
        self._location = (location or "").strip().upper()
        return self.screen()

    def set_adjust_delta(self, delta: str | int) -> ApprovalsScreen:
        self._delta = str(delta).strip()
        return self.screen()

    def set_adjust_reason(self, reason: str) -> ApprovalsScreen:
        self._reason = (reason or "").strip()
        return self.screen()

    def submit_adjust(self) -> ApprovalsScreen:
        refused = self._refused()
        if refused is not None:
            return refused
        if self._sku is None:
            return self.screen("Scan the item to adjust first.", "error")
        if not self._location:
            return self.screen("Type the location to adjust.", "error")
        if len(self._location) > 40:
            return self.screen("A location has at most 40 characters.", "error")
        text = self._delta.replace("\u2212", "-").replace(" ", "")
        try:
            delta = int(text)
        except ValueError:
            return self.screen("Type the change in units, e.g. -2 or +5.", "error")
        if delta == 0:
            return self.screen("An adjustment of 0 units changes nothing.", "error")
        if abs(delta) > MAX_DELTA:
            return self.screen(f"At most {MAX_DELTA} units in one adjustment.", "error")
        if not self._reason:
            return self.screen("Say why the stock is adjusted (the reason is kept).", "error")
        if len(self._reason) > 200:
            return self.screen("Keep the reason under 200 characters.", "error")
        name, where = self._name, self._location
        done = self._act(
            "stock.adjust",
            {"sku": self._sku, "location": where, "delta": delta, "reason": self._reason},
            f"Adjustment of {signed(delta)} × {name} at {where} saved.",
        )
        if done.tone == "error":
            return done
        self._reset_adjust()
        return self.screen(done.message, done.tone)
