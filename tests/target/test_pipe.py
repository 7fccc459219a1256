"""tap-magento2 | target-dropstream through a real OS pipe, against the sandbox."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from sqlalchemy import create_engine, text

from magento2_sandbox import MagentoSandbox
from target_dropstream.models import Order
from target_dropstream.rules import shippable_lines
from tests.conftest import oauth_keys
from tests.target.conftest import NOW, pipe_tap_to_target

BIN = Path(sys.executable).parent


def test_tap_to_target_pipe(tmp_path: Path) -> None:
    with MagentoSandbox(order_count=120, seed=5, now=NOW) as sandbox:
        tap_config = tmp_path / "tap.json"
        tap_config.write_text(
            json.dumps(
                {
                    "store_url": sandbox.base_url,
                    **oauth_keys(sandbox),
                    "start_date": "2000-01-01T00:00:00Z",
                }
            )
        )
        url = f"sqlite:///{tmp_path / 'pipe.db'}"
        target_config = tmp_path / "target.json"
        target_config.write_text(
            json.dumps({"database_url": url, "store_url": sandbox.base_url, "batch_size_rows": 25})
        )
        target = pipe_tap_to_target(["--config", str(tap_config)], target_config)
        assert target.returncode == 0, target.stderr[-2000:]
        expected = {o["entity_id"]: o for o in sandbox.data.matching(statuses=["processing"])}

    states = [json.loads(line) for line in target.stdout.splitlines() if line.strip()]
    assert states, "the target passed no STATE on"
    assert "orders" in states[-1]["bookmarks"]

    engine = create_engine(url)
    with engine.connect() as conn:
        orders = dict(conn.execute(text("SELECT order_id, state FROM fulfillment_orders")).all())
        lines: dict[int, set[tuple[int, str]]] = {}
        for order_id, item_id, sku in conn.execute(
            text("SELECT order_id, item_id, sku FROM fulfillment_lines")
        ):
            lines.setdefault(order_id, set()).add((item_id, sku))
        rejected = conn.execute(text("SELECT reason FROM rejected_records")).all()
    engine.dispose()

    assert rejected == []
    assert set(orders) == set(expected)
    for order_id, record in expected.items():
        want, reason = shippable_lines(
            Order.from_magento(record).items, include_bundle_parent=False
        )
        assert lines.get(order_id, set()) == {(line.item_id, line.sku) for line in want}
        assert orders[order_id] == ("skipped" if reason else "ready")
