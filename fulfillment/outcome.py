"""What applying one operation to the store's state produced."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from .clock import store_zone
from .codes import Code
from .ledger import Movement
from .model import Order, Policy, Role

__all__ = [
    "Context",
    "ExceptionNote",
    "Followup",
    "Notification",
    "Outcome",
    "Refusal",
    "RuleResult",
    "Status",
    "TaskKind",
]


class Status(StrEnum):
    APPLIED = "applied"
    COMPENSATED = "compensated"
    REJECTED = "rejected"


class TaskKind(StrEnum):
    PUT_BACK = "put_back"
    RESTOCK = "restock"
    RECOUNT = "recount"
    REVIEW = "review"


@dataclass(frozen=True)
class Followup:
    """A task for a person, created by a short or a conflict."""

    kind: TaskKind
    sku: str
    location: str
    qty: int
    order_id: str | None = None
    reason: str = ""


@dataclass(frozen=True)
class ExceptionNote:
    """Something a manager must decide."""

    code: str
    message: str
    order_id: str | None = None


@dataclass(frozen=True)
class Notification:
    """A customer-facing change the OMS should tell the customer about."""

    kind: str  # ready_for_pickup | shipped
    order_id: str
    data: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Context:
    """Who acts, when, and under which store policy."""

    actor_id: str
    now: datetime
    role: Role = Role.ASSOCIATE
    policy: Policy = field(default_factory=Policy)
    staff_names: Mapping[str, str] = field(default_factory=dict)
    timezone: str = "UTC"  # the store's: times in sentences are the store's wall clock

    @classmethod
    def of(
        cls,
        actor_id: str,
        now: datetime,
        *,
        role: Role | str | None = None,
        policy: Policy | None = None,
        staff_names: Mapping[str, str] | None = None,
        timezone: str | None = None,
    ) -> Context:
        """The one way both ends build a context. A role this code does not know, or none,
        acts as an associate; no policy is the default policy; no time zone is UTC."""
        try:
            acting = Role(role) if role else Role.ASSOCIATE
        except ValueError:
            acting = Role.ASSOCIATE
        return cls(
            actor_id=actor_id,
            now=now,
            role=acting,
            policy=policy if policy is not None else Policy(),
            staff_names=staff_names if staff_names is not None else {},
            timezone=timezone or "UTC",
        )

    def name_of(self, employee_id: str | None) -> str:
        if not employee_id:
            return "nobody"
        return self.staff_names.get(employee_id, employee_id)

    def clock_time(self, at: datetime) -> str:
        """'10:42' on the store's wall clock."""
        return at.astimezone(store_zone(self.timezone)).strftime("%H:%M")


class RuleResult(Protocol):
    """The shape every rule's result shares (`Outcome`, `CountOutcome`, `ReturnOutcome`):
    a status, and a code from `codes.Code` with a sentence when there is something to say."""

    @property
    def status(self) -> Status: ...

    @property
    def code(self) -> str | None: ...

    @property
    def message(self) -> str | None: ...


@dataclass(frozen=True)
class Refusal:
    """Why a rule says no, asked before acting (e.g. `picking.stage_blocker`)."""

    code: Code
    message: str


@dataclass(frozen=True)
class Outcome:
    status: Status
    order: Order
    code: str | None = None
    message: str | None = None
    movements: tuple[Movement, ...] = ()
    followups: tuple[Followup, ...] = ()
    exceptions: tuple[ExceptionNote, ...] = ()
    notifications: tuple[Notification, ...] = ()
    closes_order_tasks: bool = False  # open restock tasks of this order are moot

    @property
    def changed(self) -> bool:
        return self.status is not Status.REJECTED
