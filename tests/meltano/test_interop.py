"""The plugins speak plain Singer: the tap feeds any target, the target reads any Singer file."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import yaml

from magento2_sandbox import MagentoSandbox
from magento2_sandbox.sales_documents import refund_order
from tests.conftest import signed
from tests.meltano.meltano_project import MeltanoProject
from tests.meltano.observe import order_ids, read_store, streamed_orders

BIN = Path(sys.executable).parent
# The Meltano Hub's default target-jsonl, declared by hand: `meltano add` would ask the Hub.
TARGET_JSONL = {
    "name": "target-jsonl",
    "namespace": "target_jsonl",
    "pip_url": "target-jsonl==0.1.4",
    "executable": "target-jsonl",
    "settings": [
        {"name": "destination_path", "kind": "string"},
        {"name": "do_timestamp_file", "kind": "boolean"},
    ],
}


def add_loader(project: MeltanoProject, loader: dict[str, object]) -> None:
    path = project.root / "meltano.yml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["plugins"]["loaders"].append(loader)
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")


def read_jsonl(folder: Path, stream: str) -> list[dict[str, object]]:
    """The records target-jsonl wrote for ``stream`` (one file per stream)."""
    (path,) = folder.glob(f"{stream}*.jsonl")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def test_tap_feeds_a_generic_singer_target(
    project: MeltanoProject, sandbox: MagentoSandbox, tmp_path: Path
) -> None:
    """tap-magento2 -> target-jsonl (from PyPI) through `meltano run`, both streams."""
    out = tmp_path / "jsonl"
    out.mkdir()
    add_loader(
        project,
        {**TARGET_JSONL, "config": {"destination_path": str(out), "do_timestamp_file": False}},
    )
    installed = project.run("install", "loader", "target-jsonl", check=False, timeout=300)
    if installed.returncode != 0:
        pytest.skip(f"target-jsonl could not be installed from PyPI here:\n{installed.describe()}")

    project.run(
        "run",
        "tap-magento2",
        "target-jsonl",
        env={"TAP_MAGENTO2__SELECT": '["orders.*", "store_views.*"]'},
    )

    orders = read_jsonl(out, "orders")
    assert len(orders) == len({o["entity_id"] for o in orders})
    assert order_ids(orders) == order_ids(streamed_orders(sandbox))
    assert all(str(o["updated_at"]).endswith("+00:00") for o in orders)
    views = read_jsonl(out, "store_views")
    assert {v["code"] for v in views} == {v["code"] for v in sandbox.data.store_views}
    assert project.bookmark("dev:tap-magento2-to-target-jsonl") is not None


def test_target_loads_a_singer_file_piped_with_cat(
    project: MeltanoProject, sandbox: MagentoSandbox, tmp_path: Path, store_url: str
) -> None:
    """`cat orders.singer | target-dropstream --config ...`, twice: same store both times."""
    singer_file = tmp_path / "orders.singer"
    with singer_file.open("w", encoding="utf-8") as sink:
        result = subprocess.run(
            [str(project.executable), "invoke", "tap-magento2"],
            cwd=project.root,
            env=project.env,
            stdout=sink,
            stderr=subprocess.PIPE,
            text=True,
            timeout=180,
            check=False,
        )
    assert result.returncode == 0, result.stderr[-3000:]
    messages = [json.loads(line) for line in singer_file.read_text().splitlines() if line]
    assert {m["type"] for m in messages} >= {"SCHEMA", "RECORD", "STATE"}

    config = tmp_path / "target.json"
    config.write_text(
        json.dumps({"database_url": store_url, "store_url": sandbox.base_url}), encoding="utf-8"
    )
    command = f"cat {shlex.quote(str(singer_file))} | {BIN / 'target-dropstream'} --config {config}"
    expected = order_ids(sandbox.data.matching(["processing"]))
    for attempt in ("first load", "replay of the same file"):
        piped = subprocess.run(
            command, shell=True, capture_output=True, text=True, timeout=180, check=False
        )
        assert piped.returncode == 0, f"{attempt}: {piped.stderr[-3000:]}"
        state_lines = [json.loads(line) for line in piped.stdout.splitlines() if line.strip()]
        assert state_lines, f"{attempt}: the target passed no STATE on"
        store = read_store(store_url)
        assert set(store.orders) == expected, attempt
        assert store.order_rows == len(expected), attempt


def sandbox_total(sandbox: MagentoSandbox, path: str, **filters: str) -> int:
    """What the sandbox itself says it holds: ``total_count`` of a one-row page."""
    params = {"searchCriteria[pageSize]": "1"}
    for index, (field, value) in enumerate(filters.items()):
        prefix = f"searchCriteria[filter_groups][{index}][filters][0]"
        params |= {f"{prefix}[field]": field, f"{prefix}[value]": value}
    answer = requests.get(
        f"{sandbox.base_url}/rest/V1{path}",
        params=params,
        auth=signed(sandbox),
        timeout=30,
    )
    answer.raise_for_status()
    return int(answer.json()["total_count"])


def test_every_stream_loads_into_a_generic_target(
    project: MeltanoProject, sandbox: MagentoSandbox, tmp_path: Path
) -> None:
    """All streams of the tap -> target-jsonl; each count equals what the sandbox holds."""
    out = tmp_path / "jsonl"
    out.mkdir()
    add_loader(
        project,
        {**TARGET_JSONL, "config": {"destination_path": str(out), "do_timestamp_file": False}},
    )
    installed = project.run("install", "loader", "target-jsonl", check=False, timeout=300)
    if installed.returncode != 0:
        pytest.skip(f"target-jsonl could not be installed from PyPI here:\n{installed.describe()}")

    refund_order(sandbox.data, sandbox.data.matching(["complete"])[0]["entity_id"])  # a memo
    project.run("run", "tap-magento2", "target-jsonl", env={"TAP_MAGENTO2__SELECT": '["*.*"]'})

    orders = streamed_orders(sandbox)
    expected = {
        "orders": len(orders),
        "order_items": sum(len(order["items"]) for order in orders),
        "shipments": sandbox_total(sandbox, "/shipments"),
        "invoices": sandbox_total(sandbox, "/invoices"),
        "creditmemos": sandbox_total(sandbox, "/creditmemos"),
        "products": sandbox_total(sandbox, "/products"),
        "customers": sandbox_total(sandbox, "/customers/search"),
        "stock": sandbox_total(sandbox, "/inventory/source-items"),
        "store_views": len(sandbox.data.store_views),
    }
    loaded = {stream: len(read_jsonl(out, stream)) for stream in expected}
    assert loaded == expected
    assert all(count > 0 for count in loaded.values()), loaded
