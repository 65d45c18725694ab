"""The sync chip, the sync screen (pending ops, attention list, last error) and Sync now.

Chip texts, first that applies:

    link offline     "Offline · 37 waiting · oldest 3 h 12 min" (the event stream broke,
                     ended or went silent: told at once, `on_link(False)`)
    in a pass        "Sending 120/540", "Receiving 1000/5000" (the sync engine's Progress;
                     "Receiving 1000" while paging a feed of unknown length)
    never synced     "Not synced yet · 3 waiting"
    last pass failed "Offline · 37 waiting · oldest 3 h 12 min"
    attention        "2 need attention"
    otherwise        "Online · synced 12 s ago" (+ " · 3 waiting")

"Sync now" while offline says so at once, with what waits: "Offline — 3 changes waiting;
will send when central is back" (and keeps saying it until the link is back).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from storeapp.local import LocalStore, LoggedOp, PendingOp
from sync.engine import Progress
from sync.protocol import OPS
from sync.replica import PendingSummary

from .screen import Clock, OnChange, Tone, ago, duration, local_time, nothing, utc_now

__all__ = [
    "AttentionRow",
    "Chip",
    "PendingRow",
    "SyncScreen",
    "SyncStatusVM",
    "code_action",
    "describe_op",
    "offline_words",
]

CLOCK_WARNING_SECONDS = 300


@dataclass(frozen=True)
class Chip:
    text: str
    tone: Tone
    state: str  # sending | receiving | never | offline | attention | online
    waiting: int
    attention: int


@dataclass(frozen=True)
class PendingRow:
    seq: int
    what: str
    who: str
    when: str


@dataclass(frozen=True)
class AttentionRow:
    seq: int
    what: str  # "Claim of order W-1001"
    result: str  # central's sentence: "Picked by Ana since 10:42"
    action: str  # the physical action to take: "Put back 1 × Dog Food at A-12"
    who: str
    when: str
    status: str  # rejected | compensated
    code: str | None


@dataclass(frozen=True)
class SyncScreen:
    chip: Chip
    pending: tuple[PendingRow, ...]
    attention: tuple[AttentionRow, ...]
    last_error: str | None
    last_ok: str | None  # "12 s ago"
    clock_warning: str | None
    device_id: str | None
    server_url: str | None
    message: str = ""
    tone: Tone = "info"


class _Blank(dict[str, Any]):
    """Payload fields for a sentence: a field the payload lacks reads as empty."""

    def __missing__(self, key: str) -> str:
        return ""


def _units(payload: dict[str, Any]) -> int:
    return sum(int(line.get("qty") or 0) for line in payload.get("lines") or ())


def describe_op(op_type: str, payload: dict[str, Any], item_name: str | None = None) -> str:
    """An op in plain words: its catalogue entry's sentence (`sync.protocol.OPS`)."""
    spec = OPS.get(op_type)
    if spec is None:
        return op_type
    parcel = f"{payload.get('carrier') or ''} {payload.get('tracking') or ''}".strip()
    fields = _Blank(payload)
    fields.update(
        qty=int(payload.get("qty") or 1),
        thing=item_name or payload.get("gtin") or payload.get("line_id") or "item",
        item=item_name or payload.get("sku") or "",
        units=_units(payload),
        parcel=f" ({parcel})" if parcel else "",
        sale=payload.get("order_id") or payload.get("receipt") or "",
    )
    return spec.words.format_map(fields)


# what happens next when central's result is a fact it kept but told a manager about (its
# follow-up tasks, if any, are listed first)
SET_ASIDE = (
    "Not applied: the server set this change aside for a manager. Do it again if it still needs"
    " doing"
)
CODE_ACTIONS: dict[str, str] = {
    "ALREADY_HANDED_OVER": "Nothing to do on the shelf: a manager checks the pickup shelf and"
    " calls the customer",
    "ALREADY_SHIPPED": "Keep any parcel of this order that has not left: a manager checks the"
    " packing bench and the carrier",
    "OVER_HANDOFF": "If the customer is still here, check the bag with them: a manager is told",
    "HANDED_OVER_AFTER_CANCEL": "The customer keeps the goods: a manager tells the online store",
    "HANDED_OVER_AFTER_EXPIRY": "The customer keeps the goods: a manager tells the online store",
    # the server set the change aside (it could not read it, or it failed there again and
    # again): the associate is told in words, whatever the technical message says
    "INVALID_OP": SET_ASIDE,
    "QUARANTINED": SET_ASIDE,
    "OP_ID_REUSED": SET_ASIDE,
}
SHIPPED_AFTER_CLOSE = "The parcel is gone: a manager tells the online store"


def offline_words(waiting: int) -> str:
    """What "Sync now" says while central cannot be reached."""
    if waiting == 0:
        return "Offline — nothing waiting; will sync when central is back"
    changes = "change" if waiting == 1 else "changes"
    return f"Offline — {waiting} {changes} waiting; will send when central is back"


def code_action(code: str | None) -> str | None:
    """What happens next for a result code whose fact went to a manager, in words."""
    if code and code.startswith("SHIPPED_AFTER_"):
        return SHIPPED_AFTER_CLOSE
    return CODE_ACTIONS.get(code or "")


def _result_words(op: LoggedOp) -> str:
    """Central's sentence, except where it is about the wire (a field that did not validate):
    an associate reads what happened, not `payload.order_id: String should have …`."""
    if op.code in ("INVALID_OP", "QUARANTINED", "OP_ID_REUSED"):
        return "The server could not apply this change"
    return op.message or (op.code or op.outcome).replace("_", " ").capitalize()


def _action(followup: dict[str, Any]) -> str:
    qty, sku, where = (
        followup.get("qty") or 0,
        followup.get("sku") or "item",
        followup.get("location"),
    )
    at = f" at {where}" if where else ""
    match followup.get("kind"):
        case "put_back":
            return f"Put back {qty} × {sku}{at}"
        case "restock":
            return f"Restock {qty} × {sku}{at}"
        case "recount":
            return f"Recount {sku}{at}"
        case _:
            return "A manager will review it"


class SyncStatusVM:
    def __init__(
        self,
        store: LocalStore,
        *,
        clock: Clock = utc_now,
        on_change: OnChange = nothing,
    ) -> None:
        """`on_change` asks the sync engine for a pass now (the Sync now button)."""
        self._store, self._clock, self._sync_now = store, clock, on_change
        self._progress: Progress | None = None
        self._link: bool | None = None  # the event stream's verdict; None: not known
        self._asked = False  # Sync now was tapped and nothing has been sent since

    def on_link(self, online: bool | None) -> Chip:
        """From the event stream (through the fanout): online, offline, or not known."""
        self._link = online
        if online is False:
            self._progress = None  # a pass in flight will end offline
        return self.chip()

    # --- fed by the sync engine (through page.run_task) ------------------------------

    def on_progress(self, progress: Progress) -> Chip:
        """From the engine's progress callback: phase "sending" (push) or "receiving" (pull,
        e.g. the first download's snapshot); shown until the pass's report (`on_idle`)."""
        self._progress = progress
        return self.chip()

    def on_idle(self) -> Chip:
        self._progress = None
        return self.chip()

    # --- reading ---------------------------------------------------------------------

    def chip(self) -> Chip:
        now = self._clock()
        state = self._store.sync_state()
        summary = self._store.pending_summary()
        waiting, attention = summary.count, summary.attention
        if self._link is False:
            return self._offline_chip(summary, now)
        if self._progress is not None:
            progress = self._progress
            return Chip(progress.words, "info", progress.phase, waiting, attention)
        if state.last_sync_at is None:
            tail = f" · {waiting} waiting" if waiting else ""
            return Chip(f"Not synced yet{tail}", "warning", "never", waiting, attention)
        if state.last_error is not None:
            return self._offline_chip(summary, now)
        if attention:
            verb = "needs" if attention == 1 else "need"
            return Chip(f"{attention} {verb} attention", "error", "attention", waiting, attention)
        text = f"Online · synced {ago(state.last_ok_at or state.last_sync_at, now)}"
        if waiting:
            text += f" · {waiting} waiting"
        return Chip(text, "ok", "online", waiting, attention)

    @staticmethod
    def _offline_chip(summary: PendingSummary, now: datetime) -> Chip:
        waiting, attention = summary.count, summary.attention
        parts = ["Offline", f"{waiting} waiting" if waiting else "nothing waiting"]
        if summary.oldest_occurred_at is not None:
            parts.append(f"oldest {duration(now - summary.oldest_occurred_at)}")
        return Chip(" · ".join(parts), "warning", "offline", waiting, attention)

    def screen(self, message: str = "", tone: Tone = "info") -> SyncScreen:
        chip = self.chip()
        if self._asked and chip.state == "online":
            self._asked = False  # sent: the chip says so
        if not message and self._asked and chip.state == "offline":
            message, tone = offline_words(chip.waiting), "warning"
        return self._screen(chip, message, tone)

    def _screen(self, chip: Chip, message: str, tone: Tone) -> SyncScreen:
        now = self._clock()
        state = self._store.sync_state()
        names = self._store.staff_names()
        timezone = (self._store.store_info() or {}).get("timezone")
        offset = state.clock_offset_s
        warning = None
        if offset is not None and abs(offset) > CLOCK_WARNING_SECONDS:
            direction = "behind" if offset > 0 else "ahead of"
            warning = (
                f"This tablet's clock is {duration(timedelta(seconds=abs(offset)))} {direction} the server: "
                "ask a manager to set the time."
            )
        return SyncScreen(
            chip=chip,
            pending=tuple(
                self._pending_row(op, names, now, timezone) for op in self._store.outbox(200)
            ),
            attention=tuple(
                self._attention_row(op, names, now, timezone)
                for op in self._store.op_log(attention_only=True)
            ),
            last_error=state.last_error,
            last_ok=ago(state.last_ok_at, now) if state.last_ok_at else None,
            clock_warning=warning,
            device_id=state.device_id,
            server_url=state.server_url,
            message=message,
            tone=tone,
        )

    def _name_of_gtin(self, payload: dict[str, Any]) -> str | None:
        gtin = payload.get("gtin")
        item = self._store.item_by_gtin(gtin) if gtin else None
        return item.name if item else None

    def _pending_row(
        self, op: PendingOp, names: dict[str, str], now: datetime, timezone: str | None
    ) -> PendingRow:
        return PendingRow(
            op.seq,
            describe_op(op.type, op.payload, self._name_of_gtin(op.payload)),
            names.get(op.actor_id, op.actor_id),
            local_time(op.occurred_at, now, timezone),
        )

    def _attention_row(
        self, op: LoggedOp, names: dict[str, str], now: datetime, timezone: str | None
    ) -> AttentionRow:
        actions = [_action(f) for f in op.followups]
        then = code_action(op.code)
        if then:
            actions.append(then)
        if op.outcome == "rejected" and not actions:
            actions = ["Nothing to do on the shelf: it was not applied"]
        return AttentionRow(
            seq=op.seq,
            what=describe_op(op.type, op.payload, self._name_of_gtin(op.payload)),
            result=_result_words(op),
            action="; ".join(actions),
            who=names.get(op.actor_id, op.actor_id),
            when=local_time(op.occurred_at, now, timezone),
            status=op.outcome,
            code=op.code,
        )

    # --- acting ----------------------------------------------------------------------

    def sync_now(self) -> SyncScreen:
        """Ask for a pass; offline (the link, or the last pass), say so and what waits."""
        self._sync_now()
        self._asked = True
        chip = self.chip()
        if chip.state == "offline":
            return self._screen(chip, offline_words(chip.waiting), "warning")
        return self._screen(chip, "Syncing…", "info")

    def mark_seen(self, seq: int | None = None) -> SyncScreen:
        """Take one op (or, with no seq, every op) off the attention list."""
        self._store.mark_seen(None if seq is None else [seq])
        return self.screen()
