"""No service or library has an import cycle among its own modules (TYPE_CHECKING imports count)."""

from __future__ import annotations

from pathlib import Path

import pytest

from clearway.devstack.import_graph import cycles, import_graph

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = [
    (member / "src", f"clearway.{member.name}")
    for pattern in ("libs/*", "services/*")
    for member in sorted(ROOT.glob(pattern))
    if (member / "src" / "clearway" / member.name / "__init__.py").is_file()
]


def test_every_member_is_checked() -> None:
    names = {package for _, package in PACKAGES}
    assert {"clearway.ledger", "clearway.funding", "clearway.payout", "clearway.platform"} <= names


def test_the_checker_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_every_kind_of_import() -> None:
    funding = next(source for source, package in PACKAGES if package == "clearway.funding")
    graph = import_graph(funding, "clearway.funding")
    # `from clearway.funding.service import topups` names the module, not the package.
    assert "clearway.funding.service.topups" in graph["clearway.funding.service.topup_resolution"]
    assert "clearway.funding.domain.topups" in graph["clearway.funding.service.topups"]
    assert "clearway.funding.service.context" in graph["clearway.funding.main"]


@pytest.mark.parametrize(("source_root", "package"), PACKAGES, ids=[package for _, package in PACKAGES])
def test_no_import_cycles(source_root: Path, package: str) -> None:
    found = cycles(import_graph(source_root, package))
    assert found == [], f"import cycles in {package}: " + "; ".join(" <-> ".join(cycle) for cycle in found)
