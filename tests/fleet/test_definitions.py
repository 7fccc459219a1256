"""What Dagster loads from the fleet file: assets per store view, jobs, schedules, limits."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import yaml

from dropstream_fleet import STORE_TAG
from dropstream_fleet.assets import notify_key, view_key
from dropstream_fleet.config import load_fleet
from dropstream_fleet.jobs import FLEET_JOB, build_definitions, executor_config

FLEET = {
    "fleet": {"max_concurrent": 5},
    "defaults": {"retries": 3, "retry_delay_seconds": 30},
    "stores": [
        {
            "name": "acme",
            "url": "https://shop.acme.example",
            "store_views": ["default", "fr"],
            "credentials": {"access_token_env": "ACME_TOKEN"},
            "max_concurrent": 1,
        },
        {
            "name": "bolt",
            "url": "https://bolt.example",
            "store_views": ["default"],
            "credentials": {"access_token_env": "BOLT_TOKEN"},
            "schedule": "0 * * * *",
            "notify_schedule": "*/10 * * * *",
        },
    ],
}


def definitions(tmp_path: Path) -> tuple[dg.Definitions, Path]:
    path = tmp_path / "fleet.yml"
    path.write_text(yaml.safe_dump(FLEET), encoding="utf-8")
    return build_definitions(path), path


def test_each_store_view_is_an_asset_and_notify_follows_the_stores_loads(tmp_path: Path):
    defs, _ = definitions(tmp_path)
    graph = defs.resolve_asset_graph()
    assert graph.get_all_asset_keys() == {
        view_key("acme", "default"),
        view_key("acme", "fr"),
        notify_key("acme"),
        view_key("bolt", "default"),
        notify_key("bolt"),
    }
    assert graph.get(notify_key("acme")).parent_keys == {
        view_key("acme", "default"),
        view_key("acme", "fr"),
    }
    load = defs.resolve_assets_def(view_key("acme", "fr"))
    assert load.op.tags[STORE_TAG] == "acme"
    assert load.op.retry_policy.max_retries == 3
    assert load.op.retry_policy.delay == 30
    assert load.metadata_by_key[view_key("acme", "fr")]["state_id"] == (
        "prod:tap-magento2-to-target-dropstream:acme-fr"
    )


def test_schedules_default_to_every_15_minutes_and_a_store_may_override(tmp_path: Path):
    defs, _ = definitions(tmp_path)
    crons = {s.name: s.cron_schedule for s in defs.schedules}
    assert crons == {
        "load_acme_schedule": "*/15 * * * *",
        "load_bolt_schedule": "0 * * * *",
        "notify_bolt_schedule": "*/10 * * * *",
    }
    jobs = {job.name for job in defs.resolve_all_job_defs()}
    assert {"load_acme", "notify_acme", "backfill_acme", "load_bolt", FLEET_JOB} <= jobs
    assert defs.resolve_job_def("load_acme").tags[STORE_TAG] == "acme"


def test_the_fleet_job_limits_the_fleet_and_each_store(tmp_path: Path):
    defs, path = definitions(tmp_path)
    limits = executor_config(load_fleet(path), load_fleet(path).stores)
    assert limits["max_concurrent"] == 5
    assert limits["tag_concurrency_limits"] == [
        {"key": STORE_TAG, "value": "acme", "limit": 1},
        {"key": STORE_TAG, "value": "bolt", "limit": 2},
    ]
    job = defs.resolve_job_def(FLEET_JOB)
    assert job.executor_def.name == "fleet_limits"
