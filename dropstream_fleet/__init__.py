"""The fleet: one Meltano pipeline per Magento store view, orchestrated by Dagster.

A 3PL with hundreds of merchant stores describes them in a YAML file (``fleet.yml``); this
package turns every store view into a Dagster asset that runs ``meltano run tap-magento2
target-dropstream`` with its own state ID, on a schedule, with Dagster's retries and
concurrency limits, into one PostgreSQL fulfillment store.

Layout, one job per module: ``config`` (read and check the YAML), ``redaction`` (keep
secrets out of every message), ``state_ids`` (how state IDs are named and read back),
``meltano_log`` (Magento's words and the load counts in Meltano's output), ``pipeline``
(one ``meltano`` command for one store view), ``assets`` and ``definitions`` (the Dagster
side), ``runner`` and ``report`` (run the fleet once, print per-store results), ``cli``
(``dropstream-fleet``) and ``demo`` (``make fleet-demo``).
"""

from __future__ import annotations

__all__ = ["STORE_TAG"]

#: The Dagster tag that names a step's or run's store; the per-store concurrency limits key on it.
STORE_TAG = "dropstream/store"
