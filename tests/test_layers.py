"""The import rules of ARCHITECTURE.md, checked by walking every module's imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
IO = {
    "sqlite3",
    "sqlite_utils",
    "httpx",
    "flet",
    "fastapi",
    "sqlalchemy",
    "alembic",
    "apscheduler",
    "requests",
    "uvicorn",
    "socket",
    "urllib.request",
    "http",
}

# package prefix -> top-level modules it must never import
FORBIDDEN = {
    "fulfillment": IO | {"storeapp", "central", "sync"},
    "sync": {"storeapp", "central", "flet", "sqlalchemy", "fastapi", "sqlite_utils"},
    "storeapp": {"central"},
    "storeapp/local": {"flet"},
    "storeapp/viewmodels": {"flet"},
    "central": {"storeapp", "flet", "sqlite_utils", "sync.engine", "sync.client", "sync.scheduler"},
}


def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def violations(package: str, banned: set[str]) -> list[str]:
    bad = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for name in imports_of(path):
            if any(name == b or name.startswith(b + ".") for b in banned):
                bad.append(f"{path.relative_to(ROOT)} imports {name}")
    return bad


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_package_imports_only_what_the_architecture_allows(package: str) -> None:
    assert violations(package, FORBIDDEN[package]) == []


def test_the_rule_catches_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text("import sqlite3\nfrom central.db import tables\n")
    assert imports_of(module) == {"sqlite3", "central.db"}


def test_fulfillment_reads_no_clock() -> None:
    for path in (ROOT / "fulfillment").rglob("*.py"):
        text = path.read_text()
        assert "datetime.now(" not in text and "time.time(" not in text, path
