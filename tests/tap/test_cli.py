"""The ``tap-magento2`` command: --about, --discover, config errors and a real sync."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import sandbox_config

EXECUTABLE = Path(sys.executable).with_name("tap-magento2")


def tap_command(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAP_MAGENTO2_")}
    command = [str(EXECUTABLE)] if EXECUTABLE.exists() else [sys.executable, "-m", "tap_magento2"]
    return subprocess.run(
        [*command, *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=env,
        check=False,
    )


def test_about_lists_settings_and_marks_secrets(tmp_path: Path) -> None:
    result = tap_command("--about", "--format=json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    about = json.loads(result.stdout)
    assert about["name"] == "tap-magento2"
    settings = about["settings"]["properties"]
    assert {"store_url", "access_token", "store_view_code", "order_import_status"} <= set(settings)
    assert {"start_date", "page_size", "consumer_key", "consumer_secret"} <= set(settings)
    assert settings["access_token"]["secret"] is True
    assert settings["access_token_secret"]["secret"] is True
    assert set(about["settings"]["required"]) == {"store_url", "access_token"}
    assert "state" in about["capabilities"]


def test_module_entry_point_runs(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tap_magento2", "--about", "--format=json"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["name"] == "tap-magento2"


def test_discover_describes_both_streams(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"store_url": "https://shop.example.com", "access_token": "t"}))
    result = tap_command("--config", str(config), "--discover", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    streams = {s["tap_stream_id"]: s for s in json.loads(result.stdout)["streams"]}
    assert set(streams) == {
        "orders",
        "store_views",
        "order_items",
        "shipments",
        "invoices",
        "creditmemos",
        "products",
        "customers",
        "stock",
    }
    orders = streams["orders"]
    assert orders["key_properties"] == ["entity_id"]
    assert orders["replication_key"] == "updated_at"
    assert orders["replication_method"] == "INCREMENTAL"
    top = next(m for m in orders["metadata"] if m["breadcrumb"] == [])["metadata"]
    assert top["valid-replication-keys"] == ["updated_at"]
    assert streams["store_views"]["key_properties"] == ["id"]


def test_invalid_config_fails_naming_each_setting(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps(
            {"store_url": "shop.example.com", "access_token": "s3cr3t-t0ken", "page_size": 0}
        )
    )
    result = tap_command("--config", str(config), cwd=tmp_path)
    assert result.returncode != 0
    assert "store_url" in result.stderr
    assert "page_size" in result.stderr
    assert "s3cr3t-t0ken" not in result.stderr + result.stdout
    assert result.stdout.strip() == ""


def test_cli_sync_writes_records_and_state(make_sandbox: Any, tmp_path: Path) -> None:
    sb = make_sandbox(order_count=50, seed=4, now=datetime(2026, 1, 15, tzinfo=UTC))
    config = tmp_path / "config.json"
    config.write_text(json.dumps(sandbox_config(sb, page_size=9)))
    result = tap_command("--config", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    messages = [json.loads(line) for line in result.stdout.splitlines()]
    records = [m["record"] for m in messages if m["type"] == "RECORD" and m["stream"] == "orders"]
    expected = sb.data.matching(statuses=["processing"])
    assert [r["entity_id"] for r in records] == [o["entity_id"] for o in expected]
    state = [m for m in messages if m["type"] == "STATE"][-1]["value"]
    assert state["bookmarks"]["orders"]["replication_key_value"] == records[-1]["updated_at"]
    assert sb.access_token not in result.stderr

    state_file = tmp_path / "state.json"
    state_file.write_text(json.dumps(state))
    again = tap_command("--config", str(config), "--state", str(state_file), cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    rerun = [json.loads(line) for line in again.stdout.splitlines()]
    rerun_records = [m for m in rerun if m["type"] == "RECORD" and m["stream"] == "orders"]
    assert [m["record"]["entity_id"] for m in rerun_records] == [
        o["entity_id"] for o in expected if o["updated_at"] == expected[-1]["updated_at"]
    ]


@pytest.mark.parametrize("bad", ["fr-typo", "nl"])
def test_cli_unknown_store_view_exits_with_the_list(
    make_sandbox: Any, tmp_path: Path, bad: str
) -> None:
    sb = make_sandbox(order_count=5, seed=4)
    config = tmp_path / "config.json"
    config.write_text(json.dumps(sandbox_config(sb, store_view_code=bad)))
    result = tap_command("--config", str(config), cwd=tmp_path)
    assert result.returncode != 0
    assert f"store_view_code '{bad}'" in result.stderr
    assert "de, default, es, fr" in result.stderr
    assert "admin" not in result.stderr
