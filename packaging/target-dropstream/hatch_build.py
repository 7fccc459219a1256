"""Hatch build hook: bring the repository's shared packages into this plugin's distribution.

The packages live at the repository root, two folders up, and hatchling ships nothing from
outside a project's folder by itself. Built from the repository (``python -m build``, or
``pip install git+...#subdirectory=packaging/<plugin>``), each package listed under
``[tool.hatch.build.hooks.custom] shared`` is force-included from there, into the sdist and
the wheel alike. The sdist therefore holds them beside ``pyproject.toml``, so a wheel built
from the sdist finds them in place and this hook adds nothing.

packaging/tap-magento2/hatch_build.py and packaging/target-dropstream/hatch_build.py are
the same file (tests/packaging checks it): each sdist needs its own copy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class SharedPackagesHook(BuildHookInterface):
    """Force-include ``shared`` from the repository root when they are not here already."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        here = Path(self.root)
        repository = here.parent.parent
        for name in self.config.get("shared", []):
            if (here / name).exists():
                continue  # an unpacked sdist: the package is already in place
            source = repository / name
            if not source.exists():
                msg = f"{name} is neither in {here} nor in {repository}: build from a checkout"
                raise FileNotFoundError(msg)
            build_data["force_include"][str(source)] = name
