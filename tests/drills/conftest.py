"""Fault drills: the fast subset runs with every `python -m pytest`; `scripts/drills` (or
`DRILLS=full` / `--drills=full`) runs them in full and writes `drills-report.md`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .figures import Figures, Plan, table

_FIGURES = pytest.StashKey[list[Figures]]()
_PLAN = pytest.StashKey[Plan]()
REPORT = Path(__file__).resolve().parents[2] / "drills-report.md"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--drills",
        choices=("fast", "full"),
        default=None,
        help="fault drills: the fast CI subset (default) or the full run (also DRILLS=full)",
    )


def _plan(config: pytest.Config) -> Plan:
    if _PLAN not in config.stash:
        option = config.getoption("drills", default=None)
        config.stash[_PLAN] = Plan.from_env(option)
    return config.stash[_PLAN]


@pytest.fixture(scope="session")
def plan(pytestconfig: pytest.Config) -> Plan:
    return _plan(pytestconfig)


@pytest.fixture
def record(pytestconfig: pytest.Config) -> Iterator[list[Figures]]:
    """Figures a drill appends are printed in the summary table at the end of the run."""
    mine: list[Figures] = []
    yield mine
    pytestconfig.stash.setdefault(_FIGURES, []).extend(mine)


def pytest_report_header(config: pytest.Config) -> str:
    plan = _plan(config)
    return f"drills: {'full' if plan.full else 'fast'} run, DRILLS_SEED={plan.seed}"


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    rows = config.stash.get(_FIGURES, [])
    if not rows:
        return
    plan = _plan(config)
    text = table(rows)
    terminalreporter.section(
        f"fault drills ({'full' if plan.full else 'fast'}, DRILLS_SEED={plan.seed})"
    )
    terminalreporter.write_line(text)
    if plan.full:
        REPORT.write_text(
            f"# Fault drills (full run, DRILLS_SEED={plan.seed})\n\n{text}\n", encoding="utf-8"
        )
        terminalreporter.write_line(f"written to {REPORT}")
