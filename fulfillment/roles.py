"""Which role may perform which op type (DOMAIN.md, Roles)."""

from __future__ import annotations

from .model import Role

__all__ = ["MANAGER_ONLY", "may_perform"]

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
