"""Funding's modules import one another without cycles (TYPE_CHECKING imports count too): a cycle
means two modules that can only be understood, and changed, together."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = "clearway.funding"
SOURCE_ROOT = Path(__file__).resolve().parents[2] / "src"
MODULES_MAX = 500


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SOURCE_ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def funding_modules() -> dict[str, Path]:
    modules = {module_name(path): path for path in sorted((SOURCE_ROOT / "clearway" / "funding").rglob("*.py"))}
    assert PACKAGE in modules and len(modules) <= MODULES_MAX
    return modules


def imported_modules(name: str, path: Path, known: set[str]) -> set[str]:
    """The funding modules `name` imports: `from a.b import c` names module `a.b.c` when there is one."""
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


def import_graph() -> dict[str, set[str]]:
    modules = funding_modules()
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


def test_the_checker_finds_a_cycle_it_is_shown() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_every_kind_of_import() -> None:
    graph = import_graph()
    # `from clearway.funding.service import topups` names the module, not the package.
    assert "clearway.funding.service.topups" in graph["clearway.funding.service.topup_resolution"]
    assert "clearway.funding.domain.topups" in graph["clearway.funding.service.topups"]
    assert "clearway.funding.service.context" in graph["clearway.funding.main"]


def test_funding_modules_import_each_other_without_cycles() -> None:
    found = cycles(import_graph())
    assert found == [], "import cycles among funding modules: " + "; ".join(" <-> ".join(c) for c in found)
