"""Every workspace member declares exactly the clearway-* members its code imports.

deptry (run per member by `make lint`) checks third-party imports. It cannot check these: all
members share the `clearway` namespace package, and deptry reduces `clearway.platform.db` to
`clearway`, so any one clearway-* dependency would satisfy every `clearway.*` import. Here
`clearway.<name>` is matched to the member `clearway-<name>`, from static imports in src/ (and
migrations/, which services run through alembic).

    python scripts/check_namespace_deps.py    # exit 1 and one line per difference
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MEMBER_GLOBS = ("libs/*", "services/*")
CODE_DIRECTORIES = ("src", "migrations")
NAMESPACE = "clearway"
REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def members() -> Iterator[Path]:
    for pattern in MEMBER_GLOBS:
        yield from sorted(path for path in ROOT.glob(pattern) if (path / "pyproject.toml").is_file())


def declared_members(member: Path) -> set[str]:
    """The clearway-* distributions in the member's [project] dependencies, as `clearway.<name>`."""
    project = tomllib.loads((member / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = set()
    for requirement in project.get("dependencies", []):
        match = REQUIREMENT_NAME.match(requirement)
        assert match, f"{member}: unreadable requirement {requirement!r}"
        name = match.group(1).lower().replace("_", "-")
        if name.startswith(f"{NAMESPACE}-"):
            declared.add(f"{NAMESPACE}.{name.removeprefix(f'{NAMESPACE}-').replace('-', '_')}")
    return declared


def imported_members(member: Path) -> set[str]:
    """`clearway.<name>` for every static `clearway.<name>[...]` import in the member's code."""
    imported = set()
    for directory in CODE_DIRECTORIES:
        for path in sorted((member / directory).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    # `from clearway import platform` imports clearway.platform
                    modules = (
                        [f"{NAMESPACE}.{alias.name}" for alias in node.names]
                        if node.module == NAMESPACE
                        else [node.module]
                    )
                else:
                    continue
                for module in modules:
                    parts = module.split(".")
                    if parts[0] == NAMESPACE and len(parts) > 1:
                        imported.add(f"{NAMESPACE}.{parts[1]}")
    return imported


def problems() -> list[str]:
    found = []
    for member in members():
        own = f"{NAMESPACE}.{member.name}"
        declared = declared_members(member)
        imported = imported_members(member) - {own}
        relative = member.relative_to(ROOT)
        for module in sorted(imported - declared):
            found.append(f"{relative}: imports {module} but does not declare {module.replace('.', '-')}")
        for module in sorted(declared - imported):
            found.append(f"{relative}: declares {module.replace('.', '-')} but imports nothing from {module}")
    return found


def main() -> int:
    found = problems()
    for problem in found:
        print(problem, file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
