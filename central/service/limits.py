"""Failed attempts per client, in memory: enrollment codes and unknown tokens.

`FailureLimiter` counts the failures of each key (the client's IP address) in a
sliding window; once a key has `limit` failures in the window it is refused
(`RateLimited`, 429 with Retry-After) until the oldest of them leaves the window.
Time is an argument (`now`, seconds on any monotonic scale), so tests need no
sleeping.

Per process, by design: central's serve processes keep no state, and the counts
are an abuse brake, not a ledger. With k processes behind a balancer a client
gets at most k × limit tries per window, still far too few for an 8-character
enrollment code (32⁸ ≈ 10¹²) or a 256-bit token. Memory is bounded: at most
`max_keys` clients are remembered, the least recently failed forgotten first.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict, deque

from .errors import RateLimited

__all__ = ["FailureLimiter"]


class FailureLimiter:
    def __init__(self, limit: int, window_s: float, *, what: str, max_keys: int = 10_000) -> None:
        self.limit, self.window_s, self.what, self.max_keys = limit, window_s, what, max_keys
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()  # sync routes run on a thread pool

    @property
    def enabled(self) -> bool:
        return self.limit > 0

    def retry_after(self, key: str, now: float) -> int | None:
        """Seconds until `key` may try again, or None when it may try now."""
        if not self.enabled:
            return None
        with self._lock:
            times = self._failures.get(key)
            if times is None:
                return None
            while times and times[0] <= now - self.window_s:
                times.popleft()
            if not times:
                del self._failures[key]
                return None
            if len(times) < self.limit:
                return None
            return max(1, math.ceil(times[0] + self.window_s - now))

    def check(self, key: str, now: float) -> None:
        """Raise `RateLimited` when `key` has used up its failures for now."""
        wait = self.retry_after(key, now)
        if wait is not None:
            raise RateLimited(
                f"Too many failed {self.what} from this address: try again in {wait} s",
                retry_after=wait,
            )

    def failed(self, key: str, now: float) -> None:
        """Count one failure of `key`."""
        if not self.enabled:
            return
        with self._lock:
            times = self._failures.pop(key, None)
            if times is None:
                times = deque(maxlen=self.limit)
                while len(self._failures) >= self.max_keys:
                    self._failures.popitem(last=False)
            times.append(now)
            self._failures[key] = times  # most recently failed last
