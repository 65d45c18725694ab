"""Cycle counts (DOMAIN.md, Cycle counts; PROTOCOL.md, `count.*` and the conflict rules).

A count is an observation: `counted` units of a sku at a location at `counted_at`. The
store never stops selling to count, so the count is compared with the ledger's balance
*as of `counted_at`* (book(t): the movements that occurred up to t), not with on-hand now:

    adjustment = counted − book(counted_at)

Movements after `counted_at` are left alone. A movement dated before `counted_at` that
reaches central after the count (a tablet was offline) changes book(counted_at), so the
adjustment is re-derived (`rederive`): the count stays the truth of that moment.

Counting is blind: the book is never shown before the count is submitted. A variance over
the store's threshold (more than `variance_units` units AND more than `variance_pct` % of
book) waits for a manager — approve (the adjustment posts) or send back (a new blind
count). A count that disagrees with the one just before it, with nothing moved in
between, posts nothing and asks for a blind recount ("14 vs 11 — blind recount requested").
A manager never approves their own count.

Central runs these rules (the book lives in its ledger); the tablet records the count and
shows central's answer once it is back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from .codes import Code
from .ledger import Movement, MovementKind
from .model import Frozen, Policy
from .outcome import Context, Followup, Status, TaskKind
from .roles import may_decide

__all__ = [
    "Count",
    "CountOutcome",
    "CountState",
    "SubmittedCount",
    "approve",
    "over_threshold",
    "record",
    "rederive",
    "send_back",
    "submitted",
    "variance_value",
]


class CountState(StrEnum):
    SUBMITTED = "submitted"  # recorded on a tablet, central has not answered (no book there)
    POSTED = "posted"  # within tolerance: the adjustment posted at once
    AWAITING_APPROVAL = "awaiting_approval"  # over the threshold: a manager decides
    APPROVED = "approved"  # a manager approved: the adjustment posted
    RECOUNT = "recount"  # sent back by a manager: a new blind count, nothing posted
    DISPUTED = "disputed"  # disagrees with the count before it, nothing moved between


SETTLED = frozenset({CountState.POSTED, CountState.APPROVED})
WAITING = frozenset({CountState.AWAITING_APPROVAL, CountState.DISPUTED})


class _Counted(Frozen):
    """What a count holds, answered or not: the shape is declared here once."""

    count_id: str
    task_id: str | None = None
    sku: str
    location: str
    name: str = ""
    counted: int
    counted_at: datetime
    book: int | None = None  # the ledger's balance at counted_at (None: not answered yet)
    variance: int | None = None  # counted − book
    adjustment: int = 0  # what has posted so far (re-derived when late movements arrive)
    unit_cost: Decimal | None = None  # the item's cost (else price) when counted; None: unknown
    value: Decimal | None = None  # the variance in money: variance × unit_cost
    state: CountState
    counted_by: str
    counted_by_name: str = ""
    decided_by: str | None = None
    decided_by_name: str | None = None
    decided_at: datetime | None = None
    message: str = ""


class Count(_Counted):
    """One count as both ends hold it (the `count` change's data)."""

    book: int  # the ledger's balance at counted_at
    variance: int  # counted − book

    @property
    def accurate(self) -> bool:
        """Within tolerance of the book (the count-accuracy KPI)."""
        return self.state is CountState.POSTED


class SubmittedCount(_Counted):
    """A count a tablet recorded that central has not answered: what was counted, where,
    when and by whom — no book, no variance (counting is blind). Only the tablet holds it."""

    book: None = None
    variance: None = None
    state: CountState = CountState.SUBMITTED


def submitted(
    *,
    count_id: str,
    task_id: str | None,
    sku: str,
    location: str,
    counted: int,
    counted_at: datetime,
    counted_by: str,
    name: str = "",
    counted_by_name: str = "",
) -> SubmittedCount:
    """The count of a `count.record` before central answers it (state `submitted`)."""
    return SubmittedCount(
        count_id=count_id,
        task_id=task_id,
        sku=sku,
        location=location,
        name=name,
        counted=counted,
        counted_at=counted_at,
        counted_by=counted_by,
        counted_by_name=counted_by_name,
    )


@dataclass(frozen=True)
class CountOutcome:
    status: Status
    count: Count | None  # None: refused, nothing changed
    code: str | None = None
    message: str | None = None
    movements: tuple[Movement, ...] = ()
    followups: tuple[Followup, ...] = ()

    @property
    def changed(self) -> bool:
        return self.count is not None


def variance_value(variance: int | None, unit_cost: Decimal | None) -> Decimal | None:
    """The variance in money (None when either is unknown)."""
    if variance is None or unit_cost is None:
        return None
    return (unit_cost * variance).quantize(Decimal("0.01"))


def over_threshold(
    variance: int, book: int, policy: Policy, unit_cost: Decimal | None = None
) -> bool:
    """More than `variance_units` units AND more than `variance_pct` % of the book, or — when
    the store sets a money limit (`variance_value`) and the item's cost is known — a variance
    worth more than that limit, whatever its units."""
    off = abs(variance)
    if off > policy.variance_units and off * 100 > policy.variance_pct * max(book, 0):
        return True
    worth = variance_value(off, unit_cost)
    return worth is not None and policy.variance_value is not None and worth > policy.variance_value


def _waiting(counted: int) -> str:
    # no book and no difference in words: every tablet holds the doc, and a recount stays blind
    return f"{counted} counted: the difference waits for a manager"


def _adjust(count: Count, qty: int) -> tuple[Movement, ...]:
    if qty == 0:
        return ()
    return (
        Movement(kind=MovementKind.COUNT_ADJUST, sku=count.sku, location=count.location, qty=qty),
    )


def _recount(count: Count, reason: str) -> Followup:
    return Followup(TaskKind.RECOUNT, count.sku, count.location, 0, None, reason)


def record(
    *,
    count_id: str,
    task_id: str | None,
    sku: str,
    location: str,
    counted: int,
    counted_at: datetime,
    book: int,
    ctx: Context,
    name: str = "",
    previous: Count | None = None,
    moved_since_previous: bool = True,
    unit_cost: Decimal | None = None,
) -> CountOutcome:
    """Record a blind count against book(counted_at).

    `unit_cost`: the item's cost (for the money threshold and the value shown); `previous`: the latest earlier count of this sku/location, and whether any movement
    occurred between the two (`moved_since_previous`)."""
    variance = counted - book
    count = Count(
        count_id=count_id,
        task_id=task_id,
        sku=sku,
        location=location,
        name=name,
        counted=counted,
        counted_at=counted_at,
        book=book,
        variance=variance,
        unit_cost=unit_cost,
        value=variance_value(variance, unit_cost),
        state=CountState.POSTED,
        counted_by=ctx.actor_id,
        counted_by_name=ctx.name_of(ctx.actor_id),
    )
    what = name or sku
    disagrees = (
        previous is not None
        and previous.state not in (CountState.RECOUNT, CountState.DISPUTED)
        and previous.counted != counted
        and not moved_since_previous
    )
    if disagrees and previous is not None:
        message = f"{previous.counted} vs {counted} — blind recount requested"
        count = count.model_copy(update={"state": CountState.DISPUTED, "message": message})
        return CountOutcome(
            Status.COMPENSATED,
            count,
            code=Code.COUNT_DISAGREES,
            message=message,
            followups=(_recount(count, f"{what}: {message}"),),
        )
    if over_threshold(variance, book, ctx.policy, unit_cost):
        message = _waiting(counted)
        count = count.model_copy(update={"state": CountState.AWAITING_APPROVAL, "message": message})
        return CountOutcome(
            Status.APPLIED, count, code=Code.VARIANCE_OVER_THRESHOLD, message=message
        )
    message = "Matches the books" if variance == 0 else f"{variance:+d} adjusted"
    count = count.model_copy(update={"adjustment": variance, "message": message})
    return CountOutcome(Status.APPLIED, count, movements=_adjust(count, variance))


def _decided(count: Count, ctx: Context, state: CountState, **update: object) -> Count:
    return count.model_copy(
        update={
            "state": state,
            "decided_by": ctx.actor_id,
            "decided_by_name": ctx.name_of(ctx.actor_id),
            "decided_at": ctx.now,
            **update,
        }
    )


def _may_decide(count: Count, ctx: Context) -> CountOutcome | None:
    if count.state not in WAITING:
        return CountOutcome(
            Status.REJECTED,
            None,
            code=Code.NOT_WAITING,
            message=f"The count of {count.name or count.sku} at {count.location} was already "
            f"decided ({count.state.value})",
        )
    if not may_decide(ctx.actor_id, count.counted_by):
        return CountOutcome(
            Status.REJECTED,
            None,
            code=Code.SAME_PERSON,
            message="A manager cannot approve a count they made themselves",
        )
    return None


def approve(count: Count, book: int, ctx: Context) -> CountOutcome:
    """A manager approves a variance: the adjustment counted − book(counted_at) posts. `book`
    is the balance at counted_at as the ledger has it now (late movements included)."""
    refused = _may_decide(count, ctx)
    if refused is not None:
        return refused
    if count.state is CountState.DISPUTED:
        return CountOutcome(
            Status.REJECTED,
            None,
            code=Code.COUNT_DISPUTED,
            message="Two counts disagree: send it back for a blind recount",
        )
    variance = count.counted - book
    new = _decided(
        count,
        ctx,
        CountState.APPROVED,
        book=book,
        variance=variance,
        value=variance_value(variance, count.unit_cost),
        adjustment=variance,
        message=f"{variance:+d} approved by {ctx.name_of(ctx.actor_id)}",
    )
    return CountOutcome(Status.APPLIED, new, movements=_adjust(new, variance))


def send_back(count: Count, ctx: Context) -> CountOutcome:
    """A manager asks for a blind recount: nothing posts, a recount task is made."""
    refused = _may_decide(count, ctx)
    if refused is not None:
        return refused
    message = f"Sent back for a blind recount by {ctx.name_of(ctx.actor_id)}"
    new = _decided(count, ctx, CountState.RECOUNT, message=message)
    what = count.name or count.sku
    return CountOutcome(
        Status.APPLIED, new, followups=(_recount(new, f"{what}: recount requested"),)
    )


def rederive(count: Count, late_delta: int) -> tuple[Count, tuple[Movement, ...]]:
    """A movement dated before `counted_at` arrived after the count: book(counted_at) moved by
    `late_delta`. A settled count's adjustment moves by −late_delta, so on-hand still equals
    what was counted at that moment plus what happened after; a waiting count only
    re-states its variance."""
    if late_delta == 0 or count.state in (CountState.RECOUNT, CountState.DISPUTED):
        return count, ()
    update: dict[str, object] = {
        "book": count.book + late_delta,
        "variance": count.variance - late_delta,
        "value": variance_value(count.variance - late_delta, count.unit_cost),
    }
    if count.state in SETTLED:
        update["adjustment"] = count.adjustment - late_delta
        new = count.model_copy(update=update)
        return new, _adjust(new, -late_delta)
    update["message"] = _waiting(count.counted)
    return count.model_copy(update=update), ()
