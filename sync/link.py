"""The event stream's verdict on the link to central (no imports: the hub's status chip
reads it before the sync engine is loaded)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Link"]


@dataclass(frozen=True)
class Link:
    """The event stream's verdict on the link to central: True online, False offline,
    None unknown (no listener, not enrolled, the token refused)."""

    online: bool | None
