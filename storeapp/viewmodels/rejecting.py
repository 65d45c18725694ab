"""Reject with reasons (issue #11): some units of a pick-list stop, or a whole order, for
one of the store's reasons; and the manager's history of rejections.

    reasons() ──▶ the store's reasons (code, label, what it does to stock), from the policy
    reject_units(targets, qty, code, note) ──▶ `line.reject` per order line, the units spread
                 over the targets (a stop's orders) in order
    reject_order(order_id, code, note) ──▶ `order.reject` with the reason's code
    RejectionsVM.screen() ──▶ every rejection on this tablet's orders, newest first
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fulfillment.model import RejectEffect, RejectReason

from .acting import NOT_SAVED, ActingVM
from .screen import SIGN_IN_FIRST, Tone, local_time

__all__ = ["EFFECT_WORDS", "RejectScreen", "RejectVM", "RejectionRow", "RejectionsScreen"]

EFFECT_WORDS = {
    RejectEffect.DAMAGED: "to the damaged bin",
    RejectEffect.DOUBTFUL: "the place is recounted",
    RejectEffect.NONE: "stock unchanged",
}


@dataclass(frozen=True)
class RejectScreen:
    reasons: tuple[RejectReason, ...]
    message: str = ""
    tone: Tone = "info"
    done: bool = False


class RejectVM(ActingVM[RejectScreen]):
    def screen(self, message: str = "", tone: Tone = "info") -> RejectScreen:
        return RejectScreen(self._store.policy().reject_reasons, message, tone)

    def reasons(self) -> tuple[RejectReason, ...]:
        return self._store.policy().reject_reasons

    def reject_units(
        self, targets: Sequence[tuple[str, str]], qty: int, code: str, note: str = ""
    ) -> RejectScreen:
        """Reject `qty` units of the lines `targets` ((order_id, line_id), in pick order)."""
        who = self._session.associate
        if who is None:
            return self.screen(SIGN_IN_FIRST, "error")
        reason = self._reason(code)
        if reason is None:
            return self.screen("Choose one of the store's reasons.", "error")
        if qty < 1:
            return self.screen("Reject at least 1 unit.", "error")
        left, done = qty, 0
        for order_id, line_id in targets:
            order = self._store.order(order_id)
            line = order.line(line_id) if order is not None else None
            if line is None or left == 0:
                continue
            n = min(left, line.remaining + line.picked)
            if n <= 0:
                continue
            payload: dict[str, object] = {
                "order_id": order_id,
                "line_id": line_id,
                "qty": n,
                "code": code,
                "note": note,
            }
            result = self._store.act(who.employee_id, "line.reject", payload, self._clock())
            if not result.ok:
                return self.screen(result.message or NOT_SAVED, "error")
            left, done = left - n, done + n
        if done == 0:
            return self.screen("Nothing left to reject here.", "error")
        self._on_change()
        words = EFFECT_WORDS[reason.effect]
        return RejectScreen(
            self.reasons(), f"{done} unit(s) rejected: {reason.label} ({words}).", "ok", True
        )

    def reject_order(self, order_id: str, code: str, note: str = "") -> RejectScreen:
        reason = self._reason(code)
        if reason is None:
            return self.screen("Choose one of the store's reasons.", "error")
        why = f"{reason.label}: {note}" if note else reason.label
        got = self._act(
            "order.reject",
            {"order_id": order_id, "reason": why, "code": code},
            done=f"Order {order_id} sent back: {reason.label}.",
        )
        return RejectScreen(got.reasons, got.message, got.tone, got.tone == "ok")

    def _reason(self, code: str) -> RejectReason | None:
        return next((r for r in self.reasons() if r.code == code), None)


@dataclass(frozen=True)
class RejectionRow:
    order_id: str
    what: str  # "1 × Dog food 2 kg (line 1)" / "the whole order"
    reason: str  # "Damaged — to the damaged bin"
    who: str
    when: str
    note: str


@dataclass(frozen=True)
class RejectionsScreen:
    rows: tuple[RejectionRow, ...]
    message: str = ""
    tone: Tone = "info"


class RejectionsVM(ActingVM[RejectionsScreen]):
    """The manager's history of rejections, from the orders this tablet holds."""

    def screen(self, message: str = "", tone: Tone = "info") -> RejectionsScreen:
        who = self._session.associate
        if who is None:
            return RejectionsScreen((), SIGN_IN_FIRST, "error")
        names = self._store.staff_names()
        zone, now = self._store.timezone(), self._clock()
        found = []
        for order in self._store.orders_with_rejections():
            for r in order.rejections:
                line = order.line(r.line_id) if r.line_id else None
                what = (
                    f"{r.qty} × {line.name or line.sku} (line {line.line_id})"
                    if line is not None
                    else f"the whole order ({r.qty} unit(s))"
                )
                found.append(
                    (
                        r.at,
                        RejectionRow(
                            order.order_id,
                            what,
                            f"{r.label} — {EFFECT_WORDS[r.effect]}",
                            names.get(r.by or "", r.by or ""),
                            local_time(r.at, now, zone) if r.at else "",
                            r.note,
                        ),
                    )
                )
        found.sort(key=lambda x: (x[0] is not None, x[0]), reverse=True)
        rows = tuple(row for _, row in found)
        if not rows and not message:
            message = "No rejections on this tablet."
        return RejectionsScreen(rows, message, tone)
