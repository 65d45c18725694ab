"""What the drills ran with and the figures each one records, for the summary table.

    plan = Plan.from_env(option)        # fast (CI) or full (`scripts/drills`), and the seed
    figures = Figures("kill -9 tablet", "SQLite", seed=plan.seed)
    figures.actions += 1; figures.faults["SIGKILL"] += 1; figures.converged(seconds)

`DRILLS=full` (or `--drills=full`) runs more rounds, a longer day, more seeds;
`DRILLS_SEED=n` replays one run exactly (the seed is printed by every drill).
"""

from __future__ import annotations

import os
import random
import time
from collections import Counter
from dataclasses import dataclass, field

__all__ = ["Figures", "Plan", "table"]


@dataclass(frozen=True)
class Plan:
    full: bool
    seed: int

    @classmethod
    def from_env(cls, option: str | None) -> Plan:
        mode = (option or os.environ.get("DRILLS") or "fast").lower()
        if mode not in ("fast", "full"):
            raise ValueError(f"DRILLS / --drills is fast or full, not {mode!r}")
        seed_text = os.environ.get("DRILLS_SEED")
        seed = int(seed_text) if seed_text else random.SystemRandom().randrange(1, 10**6)
        return cls(mode == "full", seed)

    def scale(self, fast: int, full: int) -> int:
        return full if self.full else fast

    def seeds(self, fast: int = 1, full: int = 3) -> list[int]:
        """The seeds one drill runs: the plan's, and in a full run a few derived ones."""
        return [self.seed + 7919 * n for n in range(self.scale(fast, full))]


@dataclass
class Figures:
    drill: str
    database: str
    seed: int
    actions: int = 0
    ops: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    lost: int = 0
    doubled: int = 0
    converge_s: float | None = None
    seconds: float = 0.0
    _started: float = field(default_factory=time.monotonic)

    def converged(self, since_last_fault: float) -> None:
        self.converge_s = since_last_fault
        self.seconds = time.monotonic() - self._started

    @property
    def fault_words(self) -> str:
        return ", ".join(f"{n} {kind}" for kind, n in sorted(self.faults.items())) or "—"


def table(rows: list[Figures]) -> str:
    """The markdown table the README's Reliability section quotes."""
    out = [
        "| drill | database | seed | actions | ops | faults injected | lost | doubled "
        "| converged after last fault | run |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for f in rows:
        converge = "—" if f.converge_s is None else f"{f.converge_s:.2f} s"
        out.append(
            f"| {f.drill} | {f.database} | {f.seed} | {f.actions} | {f.ops} "
            f"| {sum(f.faults.values())} ({f.fault_words}) | {f.lost} | {f.doubled} "
            f"| {converge} | {f.seconds:.1f} s |"
        )
    return "\n".join(out)
