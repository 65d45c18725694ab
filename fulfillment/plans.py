"""Count plans (DOMAIN.md, Cycle counts: "assigned by a manager or generated"): which places a
plan counts, the ABC class of an item from its sales velocity, how a plan's places are shared
among its assignees, and how far a plan has got.

Pure: the caller reads the catalogue, the stock rows and the ledger's units moved, and the
plan's tasks' states; these functions decide. Central expands a plan (`countplan.create`)
with them; the tablet shows progress with `progress`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from .ledger import MovementKind
from .model import Frozen
from .tasks import OPEN_TASK_STATES

__all__ = [
    "ABC_SHARES",
    "SOLD_KINDS",
    "AbcClass",
    "CountPlan",
    "PlanBy",
    "PlanItem",
    "PlanProgress",
    "PlanState",
    "PlanStock",
    "Target",
    "abc_classes",
    "in_range",
    "progress",
    "select_targets",
    "share_out",
]


class PlanBy(StrEnum):
    LOCATION_RANGE = "location_range"  # aisle/bay range: "A-01" to "A-03"
    CATEGORY = "category"
    ABC = "abc"  # the items of one ABC class
    DOUBTFUL = "doubtful"  # negative or doubtful stock
    LIST = "list"  # named skus and/or places


class AbcClass(StrEnum):
    A = "A"
    B = "B"
    C = "C"


#: A = the items that make the top 80 % of units moved, B the next 15 %, C the rest
ABC_SHARES = (Decimal("0.80"), Decimal("0.95"))

#: the ledger's movements that take units out to a customer (and bring them back at a till)
SOLD_KINDS = frozenset(
    {MovementKind.SALE, MovementKind.TILL_RETURN, MovementKind.SHIP, MovementKind.HANDOFF}
)


@dataclass(frozen=True)
class PlanItem:
    """What the catalogue says of an item."""

    sku: str
    name: str
    location: str  # its home: where it is counted when no stock row names another place
    location_seq: int = 0
    category: str | None = None


@dataclass(frozen=True)
class PlanStock:
    """A stock row: a place the item is held, and whether it is in doubt."""

    sku: str
    location: str
    on_hand: int
    doubtful: bool = False


@dataclass(frozen=True)
class Target:
    """One place to count: a blind count task."""

    sku: str
    name: str
    location: str
    location_seq: int = 0


class PlanState(StrEnum):
    OPEN = "open"  # its tasks are made: how far it has got is `progress`


class CountPlan(Frozen):
    """A manager's plan of counts (the `count_plan` document; id = plan_id)."""

    plan_id: str
    state: PlanState = PlanState.OPEN
    name: str
    by: PlanBy
    scope: str  # the selection in words: "aisles A-01 to A-03"
    due_at: datetime
    assignees: tuple[str, ...] = ()
    created_by: str
    created_by_name: str = ""
    created_at: datetime
    task_ids: tuple[str, ...] = ()  # its blind count tasks (made or adopted)
    message: str = ""


@dataclass(frozen=True)
class PlanProgress:
    counted: int
    total: int
    overdue: bool
    not_counted: tuple[str, ...]  # task ids still open

    @property
    def done(self) -> bool:
        return self.counted >= self.total

    @property
    def text(self) -> str:
        """'3 of 5 counted', '5 of 5 counted', 'nothing to count'."""
        if self.total == 0:
            return "nothing to count"
        return f"{self.counted} of {self.total} counted"


def _segments(location: str) -> tuple[tuple[int, int | str], ...]:
    """'A-02-3' → comparable parts: numbers as numbers ('A-2' and 'A-02' are the same bay)."""
    parts = [p for p in location.strip().upper().replace(" ", "-").split("-") if p]
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts)


def in_range(location: str, first: str, last: str) -> bool:
    """Is `location` between `first` and `last` (inclusive) at their depth? 'A-02-3' is in
    'A-01'…'A-03'; 'B-01-1' is not. Each end is compared on as many parts as it names."""
    loc = _segments(location)
    lo, hi = _segments(first), _segments(last)
    if not loc or not lo or not hi:
        return False
    return loc[: len(lo)] >= lo and loc[: len(hi)] <= hi


def abc_classes(units: Mapping[str, int], skus: Iterable[str]) -> dict[str, AbcClass]:
    """The ABC class of every sku: sorted by units moved (most first, then by sku), an item is
    A while the units of the items before it are under 80 % of all units moved, B while under
    95 %, else C; an item that moved nothing (or came back more than it left) is C."""
    every = set(skus) | set(units)
    moved = {sku: max(0, units.get(sku, 0)) for sku in every}
    total = sum(moved.values())
    classes: dict[str, AbcClass] = {}
    before = 0
    for sku in sorted(every, key=lambda s: (-moved[s], s)):
        if moved[sku] == 0 or total == 0:
            classes[sku] = AbcClass.C
            continue
        share = Decimal(before) / Decimal(total)
        if share < ABC_SHARES[0]:
            classes[sku] = AbcClass.A
        elif share < ABC_SHARES[1]:
            classes[sku] = AbcClass.B
        else:
            classes[sku] = AbcClass.C
        before += moved[sku]
    return classes


def _at_home(item: PlanItem) -> Target:
    return Target(item.sku, item.name, item.location, item.location_seq)


def _places_of(
    chosen: Iterable[PlanItem], stock: Sequence[PlanStock], home_seq: Mapping[str, int]
) -> list[Target]:
    """Every place a chosen item is held (its stock rows), its home when it has none."""
    held: dict[str, list[PlanStock]] = {}
    for row in stock:
        held.setdefault(row.sku, []).append(row)
    out: list[Target] = []
    for item in chosen:
        rows = held.get(item.sku)
        if not rows:
            out.append(_at_home(item))
            continue
        for row in rows:
            seq = item.location_seq if row.location == item.location else home_seq.get(row.sku, 0)
            out.append(Target(item.sku, item.name, row.location, seq))
    return out


def select_targets(
    by: PlanBy,
    items: Sequence[PlanItem],
    stock: Sequence[PlanStock],
    *,
    location_from: str | None = None,
    location_to: str | None = None,
    category: str | None = None,
    abc_class: AbcClass | None = None,
    classes: Mapping[str, AbcClass] | None = None,
    skus: Sequence[str] = (),
    places: Sequence[str] = (),
) -> tuple[Target, ...]:
    """The places a plan counts, each once, in walking order (by place: aisle, bay, shelf).

    - location range: every item's home and every stock row whose place is in the range;
    - category / ABC class / listed skus: every place the chosen items are held;
    - doubtful: the stock rows below zero or marked doubtful (a short, a disputed count);
    - listed places: every item held there (or at home there)."""
    by_sku = {i.sku: i for i in items}
    home_seq = {i.sku: i.location_seq for i in items}
    found: list[Target] = []
    if by is PlanBy.LOCATION_RANGE:
        lo, hi = location_from or "", location_to or location_from or ""
        found = [_at_home(i) for i in items if in_range(i.location, lo, hi)]
        found += [
            Target(r.sku, by_sku[r.sku].name, r.location, home_seq.get(r.sku, 0))
            for r in stock
            if r.sku in by_sku and in_range(r.location, lo, hi)
        ]
    elif by is PlanBy.CATEGORY:
        wanted = (category or "").strip().casefold()
        chosen = [i for i in items if (i.category or "").strip().casefold() == wanted]
        found = _places_of(chosen, stock, home_seq)
    elif by is PlanBy.ABC:
        known = classes or {}
        chosen = [i for i in items if known.get(i.sku, AbcClass.C) is abc_class]
        found = _places_of(chosen, stock, home_seq)
    elif by is PlanBy.DOUBTFUL:
        found = [
            Target(r.sku, by_sku[r.sku].name, r.location, home_seq.get(r.sku, 0))
            for r in stock
            if r.sku in by_sku and (r.on_hand < 0 or r.doubtful)
        ]
    elif by is PlanBy.LIST:
        chosen = [by_sku[s] for s in skus if s in by_sku]
        found = _places_of(chosen, stock, home_seq)
        wanted_places = {p.strip().upper() for p in places}
        found += [_at_home(i) for i in items if i.location.upper() in wanted_places]
        found += [
            Target(r.sku, by_sku[r.sku].name, r.location, home_seq.get(r.sku, 0))
            for r in stock
            if r.sku in by_sku and r.location.upper() in wanted_places
        ]
    unique: dict[tuple[str, str], Target] = {}
    for t in found:
        unique.setdefault((t.sku, t.location), t)
    return tuple(sorted(unique.values(), key=lambda t: (_segments(t.location), t.sku)))


def share_out(targets: Sequence[Target], assignees: Sequence[str]) -> list[str | None]:
    """Who counts each target (in walking order): each assignee one run of neighbouring
    places, as even as can be; nobody named → None (anyone may)."""
    if not assignees:
        return [None] * len(targets)
    n, k = len(targets), len(assignees)
    out: list[str | None] = []
    for i, who in enumerate(assignees):
        size = n // k + (1 if i < n % k else 0)
        out += [who] * size
    return out


def progress(plan: CountPlan, task_states: Mapping[str, str], now: datetime) -> PlanProgress:
    """How far a plan has got: a task is counted once it is done (by a count, or closed by
    whoever did it); a cancelled one is no longer part of the plan; overdue when the due time has passed with places still to count. A task the
    reader does not hold yet counts as not counted."""
    live = [t for t in plan.task_ids if task_states.get(t, "open") != "cancelled"]
    not_counted = tuple(t for t in live if task_states.get(t, "open") in OPEN_TASK_STATES)
    total = len(live)
    counted = total - len(not_counted)
    return PlanProgress(counted, total, bool(not_counted) and now > plan.due_at, not_counted)
