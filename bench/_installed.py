"""The environment of a measured subprocess, as an installed app runs: bytecode compiled.

A shell or CI that sets PYTHONDONTWRITEBYTECODE (this workplace does) would have every run
of `storeapp hub` or `storeapp enroll` compile the project's modules again, ~0.2–0.4 s that a
tablet with the app installed never spends. `installed_env()` compiles them once and leaves
that variable out of the subprocess's environment."""

from __future__ import annotations

import compileall
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("fulfillment", "sync", "storeapp")


def installed_env(**extra: str) -> dict[str, str]:
    for package in PACKAGES:
        compileall.compile_dir(ROOT / package, quiet=1)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, "PYTHONPATH": str(ROOT), **extra}
