"""``python -m tap_magento2`` runs the tap."""

from __future__ import annotations

from tap_magento2.tap import TapMagento2

TapMagento2.cli()
