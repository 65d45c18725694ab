"""Who may do what: which role may perform which op type (DOMAIN.md, Roles), and who
may decide on someone's work."""

from __future__ import annotations

from .model import Role

__all__ = ["MANAGER_ONLY", "may_decide", "may_perform"]

MANAGER_ONLY = frozenset(
    {
        "order.assign",
        "order.prioritize",
        "return.override",
        "count.approve",
        "count.recount",
        "stock.adjust",
        "exception.resolve",
    }
)


def may_perform(role: Role | str, op_type: str) -> bool:
    if Role(role) is Role.MANAGER:
        return True
    return op_type not in MANAGER_ONLY


def may_decide(actor_id: str, made_by: str | None) -> bool:
    """Whether `actor_id` may decide on work `made_by` someone: a manager never approves (or
    sends back) their own count, nor overrides a return they received themselves (SAME_PERSON).
    """
    return actor_id != made_by
