"""One fleet of sandbox stores, run through Dagster once, again, then backfilled.

The whole module shares one fleet (``fleet_story``): starting Meltano for every store view
costs seconds, so the tests read one story instead of running their own. The stores:

- ``healthy``: two store views (default, fr) of one sandbox;
- ``slow``: every orders request answered 150 ms late;
- ``broken``: a sandbox that refuses the token (Magento's HTTP 401), retried once by Dagster;
- ``nokeys``: its credential variables are not set on the worker.

Fulfillment store and Meltano state are two throwaway PostgreSQL databases.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from dropstream_fleet.demo import (
    DemoStore,
    environment,
    installed_plugins,
    postgres_available,
    sandbox_keys,
    throwaway_databases,
    write_fleet_file,
)
from dropstream_fleet.runner import FleetRun, run_backfill, run_fleet
from dropstream_fleet.state_ids import read_states
from magento2_sandbox import MagentoSandbox
from scripts.meltano_venv import MeltanoInstallError

#: The broken store's token: well-formed, unknown to its sandbox, and must never be shown.
BROKEN_TOKEN = "c0ffee5ecret" * 2 + "ab12cd34"
BACKFILL_FROM = "2020-01-01"
STORE_VIEW_IDS = {"default": 1, "fr": 2}


@dataclass
class FleetStory:
    """Everything the tests look at, gathered once."""

    sandboxes: dict[str, MagentoSandbox]
    databases: dict[str, str]
    first: FleetRun
    second: FleetRun
    states_after_second: dict[str, dict[str, Any]]
    backfill: tuple[bool, dict[str, Any], str]
    states_after_backfill: dict[str, dict[str, Any]]

    @property
    def store_url(self) -> str:
        return self.databases["DROPSTREAM_DATABASE_URL"]

    @property
    def meltano_db(self) -> str:
        return self.databases["MELTANO_DATABASE_URI"]


@pytest.fixture(scope="module")
def fleet_story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FleetStory]:
    if not postgres_available():
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432 (trust auth, user postgres)")
    try:
        plugins = installed_plugins()
    except MeltanoInstallError as exc:
        pytest.skip(f"Meltano could not be installed here, so the fleet cannot run: {exc}")
    workdir = tmp_path_factory.mktemp("fleet")
    with contextlib.ExitStack() as stack:
        healthy = stack.enter_context(MagentoSandbox(order_count=80, seed=31))
        slow = stack.enter_context(MagentoSandbox(order_count=40, seed=32, latency_ms=150))
        broken = stack.enter_context(MagentoSandbox(order_count=20, seed=33))
        refused = {**sandbox_keys(broken), "access_token": BROKEN_TOKEN}
        stores = [
            DemoStore("healthy", healthy.base_url, ["default", "fr"], sandbox_keys(healthy)),
            DemoStore("slow", slow.base_url, ["default"], sandbox_keys(slow)),
            DemoStore("broken", broken.base_url, ["default"], refused),
            DemoStore("nokeys", healthy.base_url, ["de"]),
        ]
        fleet_file = write_fleet_file(
            workdir / "fleet.yml",
            stores,
            plugins,
            max_concurrent=3,
            defaults={"retries": 1, "retry_delay_seconds": 0.2, "max_concurrent": 2},
        )
        databases = stack.enter_context(throwaway_databases("fleet_test"))
        variables = dict(databases)
        for store in stores[:3]:
            variables.update(store.environment())
        stack.enter_context(environment(variables))
        first = run_fleet(fleet_file)
        second = run_fleet(fleet_file)
        ids = [s.state_id for s in second.steps if s.state_id]
        states_after_second = read_states(databases["MELTANO_DATABASE_URI"], ids)
        backfill = run_backfill(fleet_file, "healthy", BACKFILL_FROM, ["default"])
        ids.append(backfill_state_id())
        states_after_backfill = read_states(databases["MELTANO_DATABASE_URI"], ids)
        yield FleetStory(
            sandboxes={"healthy": healthy, "slow": slow, "broken": broken},
            databases=databases,
            first=first,
            second=second,
            states_after_second=states_after_second,
            backfill=backfill,
            states_after_backfill=states_after_backfill,
        )


def state_id(suffix: str) -> str:
    return f"prod:tap-magento2-to-target-dropstream:{suffix}"


def backfill_state_id() -> str:
    return state_id("healthy-default-backfill-" + BACKFILL_FROM.replace("-", ""))
