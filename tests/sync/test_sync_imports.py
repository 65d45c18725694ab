import ast
from pathlib import Path

import sync

FORBIDDEN = {"storeapp", "central", "flet"}
SYNC_DIR = Path(sync.__file__).parent


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_sync_never_imports_storeapp_central_or_flet() -> None:
    offenders = {
        path.name: sorted(imported_roots(path) & FORBIDDEN) for path in SYNC_DIR.glob("*.py")
    }
    assert {name: found for name, found in offenders.items() if found} == {}


def test_every_sync_module_is_checked() -> None:
    names = {path.name for path in SYNC_DIR.glob("*.py")}
    assert {"client.py", "engine.py", "scheduler.py", "errors.py", "protocol.py"} <= names
