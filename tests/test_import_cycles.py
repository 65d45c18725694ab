"""No import cycle between the modules of one package: every import counts, function-level
ones included (only those under `if TYPE_CHECKING:` do not run, so they do not count)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOP = ("fulfillment", "sync", "central", "storeapp")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for top in TOP for p in sorted((ROOT / top).rglob("*.py"))}


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _type_checking_only(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return found


def imported(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The project modules `name` imports, wherever in the file the import is."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in _imports(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            targets = [origin] + [f"{origin}.{alias.name}" for alias in node.names]
        out.update(t for t in targets if t in known and t != name)
    return out


def cycles_within_packages() -> list[list[str]]:
    """Each cycle among the modules directly inside one package (a directory), once."""
    known = modules()
    graph = {name: imported(name, path, known) for name, path in known.items()}

    def package_of(name: str) -> str:
        return name if known[name].name == "__init__.py" else name.rpartition(".")[0]

    found: list[list[str]] = []
    seen: set[frozenset[str]] = set()
    for start in sorted(graph):
        pkg = package_of(start)

        def walk(node: str, trail: list[str], pkg: str = pkg, start: str = start) -> None:
            for nxt in sorted(graph[node]):
                if package_of(nxt) != pkg or nxt == package_of(nxt):
                    continue
                if nxt == start:
                    key = frozenset(trail)
                    if key not in seen:
                        seen.add(key)
                        found.append([*trail, start])
                elif nxt not in trail and nxt > start:
                    walk(nxt, [*trail, nxt])

        if start != pkg:
            walk(start, [start])
    return found


def test_no_module_imports_itself_back_through_its_package_siblings() -> None:
    cycles = cycles_within_packages()
    assert cycles == [], "import cycles:\n" + "\n".join(" → ".join(c) for c in cycles)


def test_the_cycle_finder_sees_a_function_level_import(tmp_path: Path) -> None:
    source = "def late():\n    from . import b\n"
    tree = ast.parse(source)
    assert [type(n).__name__ for n in _imports(tree)] == ["ImportFrom"]
