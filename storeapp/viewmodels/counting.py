"""Cycle counts on the shelf (DOMAIN.md, Cycle counts; UX.md screen 9).

    start(task_id)       ──▶ a recount task: its sku and location
    scan(gtin)           ──▶ ad hoc: the item (GTIN → sku here), at its home location;
                             while counting that item, each scan is +1
    set_location(text)   ──▶ count it somewhere else than its home location
    digit(d) | clear() | backspace() | set_qty(n)  ──▶ how many are there (0 is a count)
    submit()             ──▶ `count.record` with counted_at = now; back to the list
    cancel()             ──▶ drop what is being counted

BLIND: nothing on this screen knows the book (expected, on-hand) before the count is
submitted — `CountScreen` has no such field, and the local stock table is never read.
Once central has answered (the next pull), the recent counts say what it made of them:
"14 counted · −2 adjusted", "14 counted · waits for a manager", "14 vs 11 — blind
recount requested".
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from storeapp.local import CountRecord

from .acting import NOT_SAVED, ActingVM
from .screen import SIGN_IN_FIRST, Tone, local_time

__all__ = [
    "MAX_COUNT",
    "SHORT_REASON_WORDS",
    "CountScreen",
    "CountTaskRow",
    "CountVM",
    "RecentCount",
    "reason_words",
    "signed",
]

MAX_COUNT = 99999  # what `count.record` accepts
_MAX_DIGITS = len(str(MAX_COUNT))
_MAX_LOCATION = 40

# the reasons a pick is marked short, in the words of the screens ("short: not_found" is
# how a task's reason arrives from the pick list)
SHORT_REASON_WORDS = {
    "not_found": "Not found",
    "damaged": "Damaged",
    "wrong_item_on_shelf": "Wrong item on shelf",
    "other": "Other",
}
_TASK_REASON_WORDS = {
    "over_handoff": "More handed over than picked: count the shelf",
}


def reason_words(reason: str) -> str:
    """Why a recount was asked, in words: "short: not_found" → "Short at picking: not found"."""
    if reason.startswith("short: "):
        code = reason.removeprefix("short: ")
        words = SHORT_REASON_WORDS.get(code, code.replace("_", " "))
        return f"Short at picking: {words.lower()}"
    if reason in _TASK_REASON_WORDS:
        return _TASK_REASON_WORDS[reason]
    if reason and " " not in reason:  # any other code: its words, not the identifier
        return reason.replace("_", " ").capitalize()
    return reason


def signed(n: int) -> str:
    """'+3', '−2' (a real minus sign), '0'."""
    if n > 0:
        return f"+{n}"
    if n < 0:
        return f"\u2212{-n}"
    return "0"


@dataclass(frozen=True)
class CountTaskRow:
    task_id: str
    sku: str
    name: str
    location: str
    reason: str  # why it is to be counted again, in words


@dataclass(frozen=True)
class RecentCount:
    count_id: str
    name: str
    location: str
    at: str  # "10:42"
    text: str  # central's answer in words: "14 counted · −2 adjusted"
    tone: Tone
    pending: bool  # not yet answered by central


@dataclass(frozen=True)
class CountScreen:
    """The count screen. No book, expected or on-hand quantity: counting is blind."""

    task_id: str | None  # counting for a recount task
    sku: str | None  # None: nothing chosen yet (scan an item or open a task)
    name: str
    location: str  # where it is counted (the task's, or the item's home; may be changed)
    home_location: str  # the item's home location from the catalogue
    qty_text: str  # the number pad's display; "" = nothing entered yet
    tasks: tuple[CountTaskRow, ...]  # open recount tasks
    recent: tuple[RecentCount, ...]  # my counts, newest first
    message: str = ""
    tone: Tone = "info"

    @property
    def counting(self) -> bool:
        return self.sku is not None

    @property
    def qty(self) -> int | None:
        return int(self.qty_text) if self.qty_text else None

    @property
    def can_submit(self) -> bool:
        return self.counting and self.qty is not None and bool(self.location)


def answer(c: CountRecord) -> tuple[str, Tone]:
    """What central made of a count, in words (never the book of a waiting count, so a
    recount of the same shelf stays blind)."""
    head = f"{c.counted} counted"
    match c.state:
        case "submitted":
            return f"{head} · waiting to sync", "info"
        case "posted":
            if c.adjustment == 0:
                return f"{head} · matches the books", "ok"
            return f"{head} · {signed(c.adjustment)} adjusted", "ok"
        case "approved":
            who = c.decided_by_name or c.decided_by or "a manager"
            return f"{head} · {signed(c.adjustment)} approved by {who}", "ok"
        case "awaiting_approval":
            return f"{head} · waits for a manager", "warning"
        case "disputed":
            return c.message or f"{head} · blind recount requested", "warning"
        case "recount":
            who = c.decided_by_name or c.decided_by or "a manager"
            return f"{head} · sent back for a blind recount by {who}", "warning"
    return f"{head} · {c.message or c.state}", "info"


class CountVM(ActingVM[CountScreen]):
    def _start(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._task_id: str | None = None
        self._sku: str | None = None
        self._name = ""
        self._location = ""
        self._home = ""
        self._qty = ""
        self._scanned = False  # the quantity so far came from scans: a typed digit replaces it

    # --- the screen -------------------------------------------------------------------------

    def _tasks(self) -> tuple[CountTaskRow, ...]:
        """Open recounts; a count plan's tasks given to the one signed in first, then the
        ones given to nobody, then others' (each with who and when it is due)."""
        who = self._session.associate
        me = who.employee_id if who else None
        planned = self._store.planned_tasks()
        names = self._store.active_staff() if planned else {}
        now, zone = self._clock(), self._timezone()
        rows: list[tuple[int, CountTaskRow]] = []
        for task in self._store.recount_tasks():
            item = self._store.item(task.sku) if task.sku else None
            reason, rank = reason_words(task.reason), 1
            if task.task_id in planned:
                assignee, due = planned[task.task_id]
                rank = 0 if assignee == me else (1 if assignee is None else 2)
                if assignee is not None:
                    reason += f" · for {'you' if rank == 0 else names.get(assignee, assignee)}"
                if due is not None:
                    reason += f" · due {local_time(due, now, zone)}"
            row = CountTaskRow(
                task.task_id,
                task.sku,
                item.name if item else (task.sku or "item"),
                task.location or (item.location if item else ""),
                reason,
            )
            rows.append((rank, row))
        return tuple(row for _, row in sorted(rows, key=lambda r: r[0]))

    def _recent(self) -> tuple[RecentCount, ...]:
        who = self._session.associate
        if who is None:
            return ()
        now, zone = self._clock(), self._timezone()
        out = []
        for c in self._store.counts_by(who.employee_id):
            text, tone = answer(c)
            out.append(
                RecentCount(
                    c.count_id,
                    c.name,
                    c.location,
                    local_time(c.counted_at, now, zone),
                    text,
                    tone,
                    c.pending,
                )
            )
        return tuple(out)

    def screen(self, message: str = "", tone: Tone = "info") -> CountScreen:
        return CountScreen(
            task_id=self._task_id,
            sku=self._sku,
            name=self._name,
            location=self._location,
            home_location=self._home,
            qty_text=self._qty,
            tasks=self._tasks(),
            recent=self._recent(),
            message=message,
            tone=tone,
        )

    def _prompt(self) -> str:
        return f"Count {self._name} at {self._location}: scan each unit, or type how many."

    # --- choosing what to count ---------------------------------------------------------------

    def start(self, task_id: str) -> CountScreen:
        """Count for a recount task (its sku and location)."""
        task = self._store.task(task_id)
        if task is None or task.kind != "recount" or not task.is_open:
            return self.screen("That recount is no longer open.", "error")
        item = self._store.item(task.sku)
        if item is None:
            return self.screen(f"{task.sku} is not an item on this tablet: sync first.", "error")
        self._reset()
        self._task_id, self._sku, self._name = task.task_id, item.sku, item.name
        self._home = item.location
        self._location = task.location or item.location
        return self.screen(self._prompt(), "info")

    def scan(self, code: str) -> CountScreen:
        """Ad hoc: the item to count. While counting it: +1 per scan."""
        item = self._scanned_item(code)
        if isinstance(item, str):
            return self.screen(item, "error")
        if self._sku == item.sku:
            counted = self.set_qty((self.screen().qty or 0) + 1)
            self._scanned = counted.tone == "ok"
            return counted
        if self._sku is not None and (self._task_id is not None or self._qty):
            return self.screen(
                f"This is {item.name} — you are counting {self._name}. "
                "Submit or cancel that count first.",
                "error",
            )
        self._reset()
        self._sku, self._name = item.sku, item.name
        self._home = self._location = item.location
        if not self._location:
            return self.screen(f"{item.name} has no home location: type where it is.", "warning")
        return self.screen(self._prompt(), "ok")

    def set_location(self, location: str) -> CountScreen:
        if self._sku is None:
            return self.screen("Scan the item to count first.", "error")
        where = (location or "").strip().upper()
        if not where:
            return self.screen("Type the location you count (e.g. A-12).", "error")
        if len(where) > _MAX_LOCATION:
            return self.screen(f"A location has at most {_MAX_LOCATION} characters.", "error")
        self._location = where
        return self.screen(f"Counting {self._name} at {where}.", "info")

    def cancel(self) -> CountScreen:
        self._reset()
        return self.screen("Count cancelled: nothing was saved.", "info")

    # --- the number pad ---------------------------------------------------------------------

    def set_qty(self, qty: int) -> CountScreen:
        if self._sku is None:
            return self.screen("Scan the item to count first.", "error")
        if qty < 0 or qty > MAX_COUNT:
            return self.screen(f"A count is between 0 and {MAX_COUNT}.", "error")
        self._qty = str(qty)
        return self.screen(f"{qty} × {self._name}", "ok")

    def digit(self, d: int | str) -> CountScreen:
        text = str(d)
        if len(text) != 1 or not text.isdigit():
            return self.screen("Tap a digit.", "error")
        if self._sku is None:
            return self.screen("Scan the item to count first.", "error")
        # after scans (+1 each) a typed number is the count: it replaces, never appends
        # ("2 scans then 9" is 9, not 29; issue #10, finding 7)
        scanned, self._scanned = self._scanned, False
        typed = text if scanned else ((self._qty + text).lstrip("0") or "0")
        if len(typed) > _MAX_DIGITS:
            return self.screen(f"A count is between 0 and {MAX_COUNT}.", "error")
        self._qty = typed
        if scanned:
            return self.screen("Typed: the number replaces the units scanned.", "info")
        return self.screen()

    def backspace(self) -> CountScreen:
        self._scanned = False
        self._qty = self._qty[:-1]
        return self.screen()

    def clear(self) -> CountScreen:
        self._scanned = False
        self._qty = ""
        return self.screen()

    # --- submit -----------------------------------------------------------------------------

    def submit(self) -> CountScreen:
        who = self._session.associate
        if who is None:
            return self.screen(SIGN_IN_FIRST, "error")
        s = self.screen()
        if s.sku is None:
            return self.screen("Scan the item to count first.", "error")
        if s.qty is None:
            return self.screen("Type how many are there (0 if none).", "error")
        if not s.location:
            return self.screen("Type the location you count.", "error")
        payload: dict[str, object] = {
            "count_id": f"C-{uuid.uuid4().hex[:12].upper()}",
            "task_id": s.task_id,
            "sku": s.sku,
            "location": s.location,
            "qty": s.qty,
            "counted_at": self._clock(),
        }
        result = self._store.act(who.employee_id, "count.record", payload, self._clock())
        if not result.queued:
            return self.screen(result.message or NOT_SAVED, "error")
        self._on_change()
        self._reset()
        return self.screen(
            f"Counted {s.qty} × {s.name} at {s.location}. Central compares it with the books.",
            "ok",
        )
