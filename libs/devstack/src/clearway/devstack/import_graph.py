"""Import cycles inside one package, found from the source with `ast` (nothing is imported).

A cycle means two modules that can only be understood, and changed, together; every service and
library is held to having none (tests/architecture/test_import_cycles.py).
"""

from __future__ import annotations

import ast
from pathlib import Path

MODULES_MAX = 500


def module_name(source_root: Path, path: Path) -> str:
    parts = list(path.relative_to(source_root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_modules(source_root: Path, package: str) -> dict[str, Path]:
    """Every module of `package` (e.g. `clearway.funding`) under `source_root` (a member's src/)."""
    package_dir = source_root.joinpath(*package.split("."))
    modules = {module_name(source_root, path): path for path in sorted(package_dir.rglob("*.py"))}
    assert package in modules and len(modules) <= MODULES_MAX, f"{package}: {len(modules)} modules"
    return modules


def imported_modules(name: str, path: Path, known: set[str]) -> set[str]:
    """The modules in `known` that `name` imports: `from a.b import c` names module `a.b.c` when there is one."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if is_package else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        found.update(target for target in targets if target in known and target != name)
    return found


def import_graph(source_root: Path, package: str) -> dict[str, set[str]]:
    """Module -> the modules of the same package it imports (TYPE_CHECKING imports count too)."""
    modules = package_modules(source_root, package)
    known = set(modules)
    return {name: imported_modules(name, path, known) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan's algorithm, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work: list[tuple[str, list[str]]] = [(root, sorted(graph[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, pending = work[-1]
            if pending:
                child = pending.pop()
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, sorted(graph[child])))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return components
