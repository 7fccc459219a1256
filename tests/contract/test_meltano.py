"""``meltano run tap-magento2 target-dropstream`` against the store, then the operator
commands through Meltano: the pipeline a user schedules, end to end."""

from __future__ import annotations

import json
from pathlib import Path

from tests.contract.fixtures import Fixtures
from tests.contract.readback import check_shipment_items, our_orders, shipments_of, tracks
from tests.contract.store import ContractStore, MagentoRest
from tests.meltano.meltano_project import MeltanoProject


def pipeline_env(store: ContractStore, fixtures: Fixtures, database_url: str) -> dict[str, str]:
    """The store and the run's start_date as Meltano's environment variables."""
    env = {
        "TAP_MAGENTO2_STORE_URL": store.url,
        "TAP_MAGENTO2_START_DATE": fixtures.start_date,
        "TARGET_DROPSTREAM_STORE_URL": store.url,
        "TARGET_DROPSTREAM_DATABASE_URL": database_url,
    }
    for name, value in store.oauth.items():
        env[f"TAP_MAGENTO2_{name.upper()}"] = value
        env[f"TARGET_DROPSTREAM_{name.upper()}"] = value
    return env


def test_meltano_run_end_to_end(
    tmp_path: Path,
    meltano_executable: Path,
    plugin_cache: Path,
    contract_store: ContractStore,
    rest: MagentoRest,
    fixtures: Fixtures,
) -> None:
    """meltano run loads the run's processing orders as ready and saves a bookmark; the
    warehouse's shipment, recorded and notified through Meltano, is in Magento once."""
    database_url = f"sqlite:///{tmp_path / 'fulfillment.db'}"
    project = MeltanoProject.create(
        meltano_executable,
        tmp_path / "project",
        plugin_cache,
        env=pipeline_env(contract_store, fixtures, database_url),
    )
    project.run("run", "tap-magento2", "target-dropstream", timeout=600)
    assert project.bookmark() is not None

    printed = project.run("invoke", "target-dropstream:status", "--json").stdout
    status = json.loads(printed[printed.index("{") :])
    assert status["counts"].get("ready", 0) >= 1
    placed = fixtures.order("meltano")
    magento = our_orders(rest, fixtures)[placed.entity_id]
    assert magento["status"] == "processing"

    project.run(
        "invoke",
        "target-dropstream:ship",
        placed.increment_id,
        "--carrier-code",
        "ups",
        "--track",
        "MELTANO-1",
    )
    notified = project.run("invoke", "target-dropstream:notify")
    assert "1 notified" in notified.output, notified.describe()
    [document] = shipments_of(rest, placed.entity_id)
    assert tracks(document) == ["MELTANO-1"]
    [item] = magento["items"]
    check_shipment_items(document, magento, {(int(item["item_id"]), float(item["qty_ordered"]))})
