"""The tap's BATCH files (``batch_config``) hold exactly what its RECORD messages hold.

``tap_magento2.batch_files`` replaces singer-sdk's JSON Lines batcher: records are streamed
to their file, encoded as RECORD lines encode them, and gzipped only when asked. A file is
named in a BATCH message (and covered by the STATE after it) only once it is complete, also
while a child stream (order_items, whose files singer-sdk writes) writes its own files in the
middle of its parent's.
"""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import sandbox_config
from tests.tap.support import TapRun, run_tap

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
ALL = ["pending", "processing", "holded", "complete", "canceled"]


def exact(text: str | bytes) -> Any:
    """JSON with numbers as written and keys in order, so equal means the same JSON text."""
    return json.loads(text, parse_float=Decimal, object_pairs_hook=list)


def batch_config(root: Path, compression: str, size: int) -> dict[str, Any]:
    return {
        "encoding": {"format": "jsonl", "compression": compression},
        "storage": {"root": root.as_uri(), "prefix": "runs/orders-"},
        "batch_size": size,
    }


def file_lines(url: str) -> list[bytes]:
    data = Path(urlsplit(url).path).read_bytes()
    return (gzip.decompress(data) if url.endswith(".gz") else data).splitlines()


def batches(run: TapRun, stream: str) -> list[list[str]]:
    return [m["manifest"] for m in run.messages if m["type"] == "BATCH" and m["stream"] == stream]


def record_lines(run: TapRun, stream: str) -> list[Any]:
    return [exact(json.dumps(record)) for record in run.records(stream)]


@pytest.mark.parametrize(("compression", "gzipped"), [("gzip", True), ("none", False)])
def test_batch_files_hold_the_records_of_a_record_run(
    make_sandbox: Any, tmp_path: Path, compression: str, gzipped: bool
) -> None:
    sb = make_sandbox(order_count=230, seed=8, now=NOW)
    config = sandbox_config(sb, order_import_status=ALL, page_size=40, max_concurrent_requests=4)
    as_records = run_tap(config, streams=("orders",))
    as_files = run_tap(
        {**config, "batch_config": batch_config(tmp_path, compression, 100)},
        streams=("orders",),
    )

    manifests = batches(as_files, "orders")
    assert [len(m) for m in manifests] == [1, 1, 1]
    urls = [url for manifest in manifests for url in manifest]
    assert all(url.endswith(".json.gz" if gzipped else ".json") for url in urls)
    assert all(
        (Path(urlsplit(url).path).read_bytes()[:2] == b"\x1f\x8b") is gzipped for url in urls
    )
    assert all("/runs/orders-tap-magento2--orders-" in url for url in urls)
    lines = [line for url in urls for line in file_lines(url)]
    assert [len(file_lines(url)) for url in urls] == [100, 100, 30]
    # The same JSON, record for record (numbers as Magento wrote them, keys in order).
    assert [exact(line) for line in lines] == [
        exact(json.dumps(r, default=str)) for r in as_records.records()
    ]
    assert as_files.records() == []
    # Each BATCH message is followed by the STATE that covers it; the last equals a RECORD run's.
    kinds = [m["type"] for m in as_files.messages if m["type"] in ("BATCH", "STATE")]
    assert kinds[kinds.index("BATCH") :][:2] == ["BATCH", "STATE"]
    assert as_files.bookmark() == as_records.bookmark()


def test_child_stream_files_written_inside_a_parents_file_are_all_complete(
    make_sandbox: Any, tmp_path: Path
) -> None:
    """order_items syncs once per order while the orders file is open: every file named in a
    BATCH message exists and the items match a RECORD run's."""
    sb = make_sandbox(order_count=60, seed=9, now=NOW)
    config = sandbox_config(sb, order_import_status=ALL, page_size=25)
    streams = ("orders", "order_items")
    as_records = run_tap(config, streams=streams)
    as_files = run_tap(
        {**config, "batch_config": batch_config(tmp_path, "gzip", 25)}, streams=streams
    )

    for stream in streams:
        urls = [url for manifest in batches(as_files, stream) for url in manifest]
        assert urls, stream
        assert all(Path(urlsplit(url).path).is_file() for url in urls), stream
        lines = [exact(line) for url in urls for line in file_lines(url)]
        expected = [exact(json.dumps(r)) for r in as_records.records(stream)]
        assert sorted(map(repr, lines)) == sorted(map(repr, expected)), stream
