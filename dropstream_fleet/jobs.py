"""Build the fleet's Dagster definitions from ``fleet.yml``: jobs, schedules, limits.

- ``load_<store>``: the store's view assets, then its notify asset; scheduled on the
  store's cron (every 15 minutes by default). Its runs are tagged with the store, so the
  run queue can allow one run per store at a time (README, "Scaling out").
- ``notify_<store>``: the notify asset alone (its own schedule when ``notify_schedule``).
- ``backfill_<store>``: see ``assets.backfill_job``.
- ``fleet``: every store's assets in one run (``dropstream-fleet run``, the demo, the load
  test), on the multiprocess executor with the fleet-wide ``max_concurrent`` and one
  ``tag_concurrency_limits`` entry per store (its ``max_concurrent``).

``fleet_job`` and ``backfill_job_for`` rebuild a job from the file's path alone: the
multiprocess executor starts each step in a fresh process that rebuilds the job that way.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import dagster as dg

from dropstream_fleet import STORE_TAG, assets
from dropstream_fleet.config import FleetConfig, StoreConfig, load_fleet

FLEET_JOB = "fleet"


def executor_config(fleet: FleetConfig, stores: Sequence[StoreConfig]) -> dict[str, Any]:
    """The multiprocess executor's limits: the fleet's, and each store's on its tag."""
    return {
        # Step processes fork from a server that has Dagster and this package imported
        # already, instead of each importing them again (seconds of CPU per step).
        "start_method": {"forkserver": {"preload_modules": ["dagster", __name__]}},
        "max_concurrent": fleet.max_concurrent,
        "tag_concurrency_limits": [
            {"key": STORE_TAG, "value": store.name, "limit": store.max_concurrent}
            for store in stores
        ],
    }


def limited_executor(fleet: FleetConfig, stores: Sequence[StoreConfig]) -> dg.ExecutorDefinition:
    return dg.multiprocess_executor.configured(executor_config(fleet, stores), name="fleet_limits")


def store_assets(fleet: FleetConfig, store: StoreConfig) -> list[dg.AssetsDefinition]:
    views = [assets.store_view_asset(fleet, store, view) for view in store.store_views]
    return [*views, assets.notify_asset(fleet, store)]


def build_definitions(config_path: str | Path) -> dg.Definitions:
    """Every store's assets, jobs and schedules, as ``dagster dev`` loads them."""
    fleet = load_fleet(config_path)
    all_assets: list[dg.AssetsDefinition] = []
    jobs: list[Any] = []
    schedules: list[dg.ScheduleDefinition] = []
    status = (
        dg.DefaultScheduleStatus.RUNNING
        if fleet.schedules_running
        else dg.DefaultScheduleStatus.STOPPED
    )
    for store in fleet.stores:
        all_assets += store_assets(fleet, store)
        tags = {STORE_TAG: store.name}
        load = dg.define_asset_job(
            f"load_{store.name}",
            selection=dg.AssetSelection.groups(store.name),
            description=f"Load every store view of {store.name}, then notify Magento.",
            tags=tags,
            executor_def=limited_executor(fleet, [store]),
        )
        notify = dg.define_asset_job(
            f"notify_{store.name}",
            selection=dg.AssetSelection.assets(assets.notify_key(store.name)),
            description=f"Post {store.name}'s pending shipments to Magento.",
            tags=tags,
            executor_def=dg.in_process_executor,
        )
        jobs += [load, notify, assets.backfill_job(fleet, store)]
        schedules.append(
            dg.ScheduleDefinition(
                name=f"load_{store.name}_schedule",
                job=load,
                cron_schedule=store.schedule,
                default_status=status,
                tags=tags,
            )
        )
        if store.notify_schedule:
            schedules.append(
                dg.ScheduleDefinition(
                    name=f"notify_{store.name}_schedule",
                    job=notify,
                    cron_schedule=store.notify_schedule,
                    default_status=status,
                    tags=tags,
                )
            )
    jobs.append(
        dg.define_asset_job(
            FLEET_JOB,
            selection=dg.AssetSelection.all(),
            description="Every store at once, within the fleet's and each store's limits.",
            executor_def=limited_executor(fleet, fleet.stores),
        )
    )
    return dg.Definitions(assets=all_assets, jobs=jobs, schedules=schedules)


def fleet_job(config_path: str) -> dg.JobDefinition:
    """The ``fleet`` job, rebuilt from the file (the multiprocess executor's reconstructor)."""
    return build_definitions(config_path).resolve_job_def(FLEET_JOB)


def backfill_job_for(config_path: str, store: str) -> dg.JobDefinition:
    return build_definitions(config_path).resolve_job_def(f"backfill_{store}")


def reconstructable_fleet_job(config_path: str | Path) -> dg.ReconstructableJob:
    return dg.build_reconstructable_job(
        __name__, fleet_job.__name__, reconstructable_args=(str(Path(config_path).resolve()),)
    )
