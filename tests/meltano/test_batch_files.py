"""The main job with the tap's ``batch_config``: orders travel in files, through `meltano run`.

Meltano relays one BATCH line per file; the target reads the files. Each paid order must
be stored once, the bookmark saved as with RECORD messages, and the next run load only what
changed.
"""

from __future__ import annotations

import json
from pathlib import Path

from magento2_sandbox import MagentoSandbox
from tests.meltano.meltano_project import MeltanoProject
from tests.meltano.observe import (
    PIPELINE,
    assert_store_matches,
    newest_streamed,
    order_ids,
    paid_orders,
    parse_time,
    read_store,
)


def test_orders_in_batch_files_load_once_and_keep_the_bookmark(
    project: MeltanoProject, sandbox: MagentoSandbox, store_url: str, tmp_path: Path
) -> None:
    files = tmp_path / "batches"
    batches = {
        "TAP_MAGENTO2_BATCH_CONFIG": json.dumps(
            {
                "encoding": {"format": "jsonl", "compression": "gzip"},
                "storage": {"root": files.as_uri(), "prefix": "orders-"},
                "batch_size": 40,
            }
        )
    }

    project.run(*PIPELINE, env=batches)

    written = sorted(files.glob("orders-tap-magento2--orders-*.json.gz"))
    assert len(written) >= 2
    before = read_store(store_url)
    assert_store_matches(before, order_ids(paid_orders(sandbox)))
    assert parse_time(project.bookmark()) == parse_time(newest_streamed(sandbox))

    sandbox.clock.advance(120)
    placed = int(sandbox.data.add_order(status="processing", store_id=2)["entity_id"])
    project.run(*PIPELINE, env=batches)

    assert_store_matches(read_store(store_url), set(before.orders) | {placed})
    assert parse_time(project.bookmark()) == parse_time(newest_streamed(sandbox))
