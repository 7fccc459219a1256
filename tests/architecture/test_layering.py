"""The layering the packages promise, read from their imports.

- ``magerest`` (Magento's REST API) imports no plugin, no sandbox and no singer_sdk.
- ``target_dropstream`` never imports the tap; the tap never imports the target; neither
  imports the sandbox (only tests, the demo and the bench start it).
- ``magento2_sandbox`` is a stand-alone fake store: it imports nothing of ours.
- ``target_dropstream.store`` imports only the target's models, rules, re-check and settings
  (and SQLAlchemy): no HTTP client, no singer_sdk.
- ``dropstream_fleet`` (the fleet on Dagster) runs the plugins only through ``meltano``: it
  imports neither plugin nor the shared REST client; only its ``demo`` module (also used by
  the fleet tests and bench) starts sandboxes and Meltano's install helper.
- No package has an import cycle (``if TYPE_CHECKING:`` imports do not run, so they do not count).
"""

from __future__ import annotations

import pytest

from tests.architecture.imports import cycles, imports_of, internal_graph, modules_of

OURS = (
    "magerest",
    "tap_magento2",
    "target_dropstream",
    "magento2_sandbox",
    "dropstream_fleet",
    "tests",
    "scripts",
    "bench",
)


def foreign_imports(package: str, forbidden: tuple[str, ...]) -> list[str]:
    """``module -> imported`` for every import of ``package`` that starts with a forbidden name."""
    found = []
    modules = modules_of(package)
    for name, path in modules.items():
        for target in sorted(imports_of(name, path, set(modules))):
            if target.split(".")[0] in forbidden:
                found.append(f"{name} -> {target}")
    return found


def test_the_magento_package_imports_no_plugin_and_no_singer_sdk() -> None:
    forbidden = (*(name for name in OURS if name != "magerest"), "singer_sdk")
    assert foreign_imports("magerest", forbidden) == []


def test_the_target_never_imports_the_tap() -> None:
    forbidden = ("tap_magento2", "magento2_sandbox", "tests", "scripts", "bench")
    assert foreign_imports("target_dropstream", forbidden) == []


#: The target modules the fulfillment store may import (besides its own): it keeps what the
#: models and rules decide, and never calls Magento, Singer or the target's other modules.
STORE = "target_dropstream.store"
STORE_MAY_IMPORT = frozenset(
    {"models", "shipment_models", "rules", "shipment_checks", "recheck", "settings", "clock"}
)


def test_the_fulfillment_store_imports_only_models_and_rules() -> None:
    modules = modules_of("target_dropstream")
    store = {name: path for name, path in modules.items() if name.startswith(STORE)}
    assert f"{STORE}.orders" in store
    found = [
        f"{name} -> {target}"
        for name, path in store.items()
        for target in sorted(imports_of(name, path, set(modules)))
        if not _store_may_import(target)
    ]
    assert found == []


def _store_may_import(module: str) -> bool:
    root, _, rest = module.partition(".")
    if root == "target_dropstream":
        return rest.split(".")[0] in {"store", *STORE_MAY_IMPORT}
    return root not in {"magerest", "singer_sdk", "requests", *OURS}


def test_the_tap_never_imports_the_target() -> None:
    forbidden = ("target_dropstream", "magento2_sandbox", "tests", "scripts", "bench")
    assert foreign_imports("tap_magento2", forbidden) == []


def test_the_sandbox_imports_nothing_of_ours() -> None:
    others = tuple(name for name in OURS if name != "magento2_sandbox")
    assert foreign_imports("magento2_sandbox", others) == []


def test_the_fleet_runs_the_plugins_only_through_meltano() -> None:
    forbidden = ("magerest", "tap_magento2", "target_dropstream", "tests", "bench")
    assert foreign_imports("dropstream_fleet", forbidden) == []
    outside_demo = [
        found
        for found in foreign_imports("dropstream_fleet", ("magento2_sandbox", "scripts"))
        if not found.startswith("dropstream_fleet.demo ")
    ]
    assert outside_demo == []


@pytest.mark.parametrize(
    "package",
    ["magerest", "magento2_sandbox", "tap_magento2", "target_dropstream", "dropstream_fleet"],
)
def test_no_import_cycles(package: str) -> None:
    assert cycles(internal_graph(package)) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
