"""What ``dagster dev -m dropstream_fleet.definitions`` (or a code location) loads.

The fleet file is ``$DROPSTREAM_FLEET_CONFIG``, else ``fleet.yml`` in the working
directory. Everything is built from it by ``jobs.build_definitions``; this module only
exists so Dagster has a module-level ``defs`` to find.
"""

from __future__ import annotations

import os

from dropstream_fleet.jobs import build_definitions

defs = build_definitions(os.environ.get("DROPSTREAM_FLEET_CONFIG", "fleet.yml"))
