"""How long to wait before the next try after a failure: doubling, capped, with jitter.

Pure: the random source is an argument, and it never sleeps or reads a clock.

    >>> b = Backoff(rand=lambda: 0.0)
    >>> [b.failed() for _ in range(3)]
    [1.0, 2.0, 4.0]
    >>> b.succeeded(); b.failed()
    1.0
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

__all__ = ["Backoff"]


@dataclass
class Backoff:
    """Delays of `initial`, 2×, 4× … up to `maximum` seconds, each shortened by up to
    `jitter` × itself (so tablets that lost the network together do not return together)."""

    initial: float = 1.0
    maximum: float = 300.0
    jitter: float = 0.25
    rand: Callable[[], float] = field(default=random.random, repr=False)
    failures: int = 0

    def __post_init__(self) -> None:
        if not 0 < self.initial <= self.maximum:
            raise ValueError("need 0 < initial <= maximum")
        if not 0 <= self.jitter < 1:
            raise ValueError("need 0 <= jitter < 1")

    def peek(self) -> float:
        """The full (un-jittered) delay the next failure would get."""
        # the exponent is capped so a tablet offline for weeks never overflows a float
        return min(self.maximum, self.initial * 2.0 ** min(self.failures, 64))

    def failed(self) -> float:
        """Record a failure; the seconds to wait before the next try."""
        delay = self.peek() * (1.0 - self.jitter * self.rand())
        self.failures += 1
        return delay

    def next_try(self, now: datetime) -> datetime:
        """Record a failure; when to try next."""
        return now + timedelta(seconds=self.failed())

    def succeeded(self) -> None:
        """A success: the next failure waits `initial` again."""
        self.failures = 0
