"""Run the target: ``python -m target_dropstream``."""

from __future__ import annotations

from target_dropstream.target import TargetDropstream

TargetDropstream.cli()
