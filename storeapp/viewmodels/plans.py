"""Count plans (issue #12; managers): plan blind counts instead of waiting for shorts, see
what each plan has not counted yet, download the count results.

    set(field, text) · choose(by)  ──▶ the new plan's form: name, by (location range, category,
                                       ABC class, negative or doubtful stock, list), its
                                       selection, due time (store's wall clock), assignees
    create()                       ──▶ `countplan.create` (central makes the blind count tasks)
    screen().plans                 ──▶ every plan: "3 of 5 counted", overdue, places left
    screen().unplanned             ──▶ open recounts in no plan (shorts, negative stock)
    csv_url()                      ──▶ a signed, short-lived link to the counts CSV (the hub)

Blind: a plan names places, never quantities. An associate sees a sentence and no form.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from pydantic import ValidationError

from fulfillment.clock import store_zone
from fulfillment.plans import PlanBy
from storeapp.local import PlanRecord
from storeapp.printing import link_key, sign_token
from sync.protocol import CountPlanCreate, op_error

from .acting import ActingVM
from .screen import SIGN_IN_FIRST, Tone, local_time

__all__ = [
    "BY_WORDS",
    "CSV_KIND",
    "CSV_PATH",
    "CSV_TTL",
    "MANAGERS_ONLY",
    "PlanForm",
    "PlanRow",
    "PlansScreen",
    "PlansVM",
]

MANAGERS_ONLY = "Count plans are for managers: ask the shift manager."
CSV_KIND = "counts.csv"
CSV_TTL = timedelta(minutes=5)
CSV_PATH = "/pages/counts.csv"  # storeapp.pages.paths.COUNTS_CSV_PATH (tests check they agree)
DUE_FORMAT = "%Y-%m-%d %H:%M"
BY_WORDS: dict[PlanBy, str] = {
    PlanBy.LOCATION_RANGE: "Aisle/bay range",
    PlanBy.CATEGORY: "Category",
    PlanBy.ABC: "ABC class",
    PlanBy.DOUBTFUL: "Negative or doubtful stock",
    PlanBy.LIST: "List of SKUs or places",
}
_FIELDS = frozenset(
    {"name", "location_from", "location_to", "category", "abc_class", "days", "listed", "due"}
)
_FIELDS |= {"assignees"}


@dataclass(frozen=True)
class PlanForm:
    name: str = ""
    by: PlanBy = PlanBy.LOCATION_RANGE
    location_from: str = ""
    location_to: str = ""
    category: str = ""
    abc_class: str = "A"
    days: str = "30"
    listed: str = ""  # skus and places, separated by commas or spaces
    due: str = ""  # "2026-03-03 18:00" on the store's wall clock
    assignees: str = ""  # employee ids, separated by commas or spaces


@dataclass(frozen=True)
class PlanRow:
    plan_id: str
    name: str
    scope: str
    due: str  # "Tue 3 Mar 18:00"
    progress: str  # "3 of 5 counted" | "waiting for central" | "refused"
    overdue: bool
    done: bool
    state: str  # open | waiting | refused
    message: str
    assignees: str  # "Ana, Ben" ("anyone")
    left: tuple[str, ...]  # the places not counted yet: "Item 2 at A-02-1"


@dataclass(frozen=True)
class PlansScreen:
    allowed: bool
    form: PlanForm
    plans: tuple[PlanRow, ...]
    unplanned: tuple[str, ...]  # "SKU-4 at A-04-1 — Stock went below zero …"
    message: str = ""
    tone: Tone = "info"


def _words(text: str) -> list[str]:
    return [w for w in text.replace(",", " ").split() if w]


class PlansVM(ActingVM[PlansScreen]):
    def _start(self) -> None:
        self._form = PlanForm(due=self._default_due())

    def _default_due(self) -> str:
        """Tomorrow 18:00 on the store's wall clock."""
        zone = store_zone(self._timezone())
        tomorrow = (self._clock().astimezone(zone) + timedelta(days=1)).date()
        return f"{tomorrow.isoformat()} 18:00"

    def _allowed(self) -> bool:
        who = self._session.associate
        return bool(who and who.is_manager)

    # --- what the screen shows ------------------------------------------------------------

    def screen(self, message: str = "", tone: Tone = "info") -> PlansScreen:
        if self._session.associate is None:
            return PlansScreen(False, self._form, (), (), SIGN_IN_FIRST, "error")
        if not self._allowed():
            return PlansScreen(False, self._form, (), (), MANAGERS_ONLY, "warning")
        now, zone = self._clock(), self._timezone()
        names = self._store.active_staff()
        items = self._store.item_names()
        rows = tuple(self._row(p, now, zone, names, items) for p in self._store.count_plans(now))
        unplanned = tuple(
            f"{items.get(sku, sku)} at {location} — {reason}" if reason else f"{sku} at {location}"
            for _, sku, location, reason in self._store.unplanned_counts()
        )
        return PlansScreen(True, self._form, rows, unplanned, message, tone)

    @staticmethod
    def _row(
        p: PlanRecord, now: datetime, zone: str, names: dict[str, str], items: dict[str, str]
    ) -> PlanRow:
        if p.progress is None:
            progress = "waiting for central" if p.state == "waiting" else "refused"
            overdue = done = False
        else:
            progress, overdue, done = p.progress.text, p.progress.overdue, p.progress.done
        left = tuple(
            f"{items.get(sku, sku)} at {location}"
            for _, sku, location, state in p.places
            if state in ("open", "pending", "in_progress") and sku
        )
        who = ", ".join(names.get(a, a) for a in p.assignees) or "anyone"
        return PlanRow(
            p.plan_id,
            p.name,
            p.scope,
            local_time(p.due_at, now, zone),
            progress,
            overdue,
            done,
            p.state,
            p.message,
            who,
            left,
        )

    # --- the form --------------------------------------------------------------------------

    def set(self, field: str, text: str) -> PlansScreen:
        if field not in _FIELDS:
            raise ValueError(f"no plan field {field!r}")
        self._form = replace(self._form, **{field: text})  # type: ignore[arg-type]  # str fields
        return self.screen()

    def choose(self, by: PlanBy | str) -> PlansScreen:
        self._form = replace(self._form, by=PlanBy(by))
        return self.screen()

    def _due(self) -> datetime | str:
        try:
            local = datetime.strptime(self._form.due.strip(), DUE_FORMAT)
        except ValueError:
            return "Type the due time as YYYY-MM-DD HH:MM (e.g. 2026-03-03 18:00)."
        return local.replace(tzinfo=store_zone(self._timezone()))

    def _payload(self) -> dict[str, object] | str:
        f = self._form
        due = self._due()
        if isinstance(due, str):
            return due
        if due <= self._clock():
            return "The due time has passed: choose a later one."
        staff = self._store.active_staff()
        assignees = _words(f.assignees)
        unknown = [a for a in assignees if a not in staff]
        if unknown:
            return f"{', '.join(unknown)} is not on this store's staff."
        payload: dict[str, object] = {
            "plan_id": f"P-{uuid.uuid4().hex[:10]}",
            "name": f.name.strip() or BY_WORDS[f.by],
            "by": f.by.value,
            "due_at": due.isoformat(),
            "assignees": list(dict.fromkeys(assignees)),
        }
        if f.by is PlanBy.LOCATION_RANGE:
            payload["location_from"] = f.location_from.strip().upper()
            payload["location_to"] = (f.location_to.strip() or f.location_from.strip()).upper()
        elif f.by is PlanBy.CATEGORY:
            payload["category"] = f.category.strip()
        elif f.by is PlanBy.ABC:
            payload["abc_class"] = f.abc_class.strip().upper()
            payload["days"] = int(f.days) if f.days.strip().isdigit() else 30
        elif f.by is PlanBy.LIST:
            skus = self._store.item_names()
            words = _words(f.listed)
            payload["skus"] = [w for w in words if w in skus]
            payload["places"] = [w.upper() for w in words if w not in skus]
        try:
            CountPlanCreate.model_validate(payload)
        except ValidationError as exc:
            return _said(exc)
        return payload

    def create(self) -> PlansScreen:
        """`countplan.create` with the form; the form empties when it was queued."""
        if not self._allowed():
            return self.screen(MANAGERS_ONLY, "warning")
        payload = self._payload()
        if isinstance(payload, str):
            return self.screen(payload, "error")
        done = self._act(
            "countplan.create",
            payload,
            done=f"Plan \u201c{payload['name']}\u201d saved: its count tasks are made at sync",
        )
        if done.tone == "ok":
            self._form = PlanForm(due=self._default_due())
            return replace(done, form=self._form)
        return done

    # --- the download ----------------------------------------------------------------------

    def csv_url(self) -> str | None:
        """The hub link to every count on this tablet as CSV, valid 5 minutes (managers)."""
        if not self._allowed():
            return None
        key = link_key(self._store.path.parent)
        token = sign_token(key, CSV_KIND, "all", self._clock(), CSV_TTL)
        return f"{CSV_PATH}?t={token}"


def _said(exc: ValidationError) -> str:
    """A form's problem in words (the first one)."""
    first = exc.errors()[0]
    field = ".".join(str(x) for x in first.get("loc", ()) if not isinstance(x, int))
    words = {
        "location_from": "Type the first aisle or bay (e.g. A-01).",
        "location_to": "Type the last aisle or bay (e.g. A-03).",
        "category": "Type the category.",
        "name": "The plan's name is too long.",
    }
    if field in words:
        return words[field]
    message = str(first.get("msg", "")).removeprefix("Value error, ")
    return message[:1].upper() + message[1:] + "." if message else op_error(exc)
