"""The `dropstream` operator commands work through Meltano, with the loader's settings.

An operator never repeats the database URL or the Magento token: `meltano invoke
target-dropstream:<command>` hands the loader's settings (database, store URL, token) to
`dropstream`.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

from magento2_sandbox import MagentoSandbox
from tests.conftest import sandbox_config
from tests.meltano.meltano_project import MeltanoProject
from tests.meltano.observe import paid_orders, read_store

BIN = Path(sys.executable).parent


def load_with_a_plain_pipe(sandbox: MagentoSandbox, store_url: str, folder: Path) -> None:
    """`tap-magento2 | target-dropstream`, no Meltano: the quickest way to fill the store."""
    tap_config = folder / "tap.json"
    tap_config.write_text(json.dumps(sandbox_config(sandbox)))
    target_config = folder / "target.json"
    # The same store_url as the Meltano loader: it is the `source` of every order.
    target_config.write_text(json.dumps({"database_url": store_url, "store_url": sandbox.base_url}))
    command = (
        f"{BIN / 'tap-magento2'} --config {shlex.quote(str(tap_config))} | "
        f"{BIN / 'target-dropstream'} --config {shlex.quote(str(target_config))}"
    )
    piped = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert piped.returncode == 0, piped.stderr[-3000:]


def ship_posts(sandbox: MagentoSandbox, order_id: int) -> list[str]:
    return [
        r.path
        for r in sandbox.requests
        if r.method == "POST" and (r.route or "").rstrip("/") == f"/V1/order/{order_id}/ship"
    ]


def test_ship_notify_and_status_through_meltano(
    project: MeltanoProject, sandbox: MagentoSandbox, store_url: str, tmp_path: Path
) -> None:
    load_with_a_plain_pipe(sandbox, store_url, tmp_path)
    store = read_store(store_url)
    assert set(store.orders) == {int(o["entity_id"]) for o in paid_orders(sandbox)}
    order_id = min(i for i, row in store.orders.items() if row["state"] == "ready")
    increment_id = store.orders[order_id]["increment_id"]

    shipped = project.run(
        "invoke",
        "target-dropstream:ship",
        str(increment_id),
        "--carrier-code",
        "ups",
        "--track",
        "1Z999AA10123456784",
    )
    assert ship_posts(sandbox, order_id) == [], "ship only records; notify tells Magento"

    notified = project.run("invoke", "target-dropstream:notify")

    assert len(ship_posts(sandbox, order_id)) == 1, "Magento must hear of the shipment once"
    status = project.run("invoke", "target-dropstream:status", "--json")
    report = json.loads(status.stdout[status.stdout.index("{") :])
    assert report["shipments"]["counts"]["notified"] == 1
    assert report["shipments"]["counts"]["pending"] == 0
    assert sum(report["counts"].values()) == len(store.orders)
    for result in (shipped, notified, status):
        assert sandbox.access_token not in result.output, "a command printed the access token"
