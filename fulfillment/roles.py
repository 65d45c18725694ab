"""Who may decide on someone's work. (Which role may perform which op type is the op
catalogue's: `sync.protocol.OPS`, `may_perform`.)"""

from __future__ import annotations

__all__ = ["may_decide"]


def may_decide(actor_id: str, made_by: str | None) -> bool:
    """Whether `actor_id` may decide on work `made_by` someone: a manager never approves (or
    sends back) their own count, nor overrides a return they received themselves (SAME_PERSON).
    """
    return actor_id != made_by
