"""The layering the packages promise, read from their imports.

- ``magento2_sandbox`` is a stand-alone fake store: it imports nothing of ours.
- No package has an import cycle (``if TYPE_CHECKING:`` imports do not run, so they do not count).
"""

from __future__ import annotations

import pytest

from tests.architecture.imports import cycles, imports_of, internal_graph, modules_of

OURS = ("tap_magento2", "target_dropstream", "magento2_sandbox", "tests", "scripts", "bench")


def foreign_imports(package: str, forbidden: tuple[str, ...]) -> list[str]:
    """``module -> imported`` for every import of ``package`` that starts with a forbidden name."""
    found = []
    modules = modules_of(package)
    for name, path in modules.items():
        for target in sorted(imports_of(name, path, set(modules))):
            if target.split(".")[0] in forbidden:
                found.append(f"{name} -> {target}")
    return found


def test_the_sandbox_imports_nothing_of_ours() -> None:
    others = tuple(name for name in OURS if name != "magento2_sandbox")
    assert foreign_imports("magento2_sandbox", others) == []


@pytest.mark.parametrize("package", ["magento2_sandbox", "tap_magento2"])
def test_no_import_cycles(package: str) -> None:
    assert cycles(internal_graph(package)) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
