"""The project's one version: every distribution is built with it, every executable prints it.

Hatch reads ``__version__`` from this file for the three distributions (``tap-magento2``,
``target-dropstream`` and the development distribution ``magento2-dropstream``), so a release
changes this line and nothing else. It lives in magerest because both plugin wheels carry
magerest. Releases are tagged ``v<version>`` (CHANGELOG.md).
"""

from __future__ import annotations

from importlib import metadata

__version__ = "0.1.0"

#: The distribution ``make install`` installs: all packages, editable, for development.
DEVELOPMENT_DISTRIBUTION = "magento2-dropstream"


def distribution_name(plugin_distribution: str) -> str:
    """The installed distribution that carries a plugin: its own, else the development one.

    singer-sdk reads a plugin's supported Python versions from this distribution's metadata.
    """
    try:
        metadata.distribution(plugin_distribution)
    except metadata.PackageNotFoundError:
        return DEVELOPMENT_DISTRIBUTION
    return plugin_distribution
