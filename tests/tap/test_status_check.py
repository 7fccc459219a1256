"""``order_import_status`` / ``order_follow_status`` never read 0 orders in silence: JSON
array text, a wildcard, typos and custom statuses; and a run that matches nothing says so."""

from __future__ import annotations

import json
import logging
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from magento2_sandbox import MagentoSandbox
from magerest.connection import status_list
from magerest.order_statuses import BUILT_IN_STATUSES
from tap_magento2.settings import parse_follow_statuses
from tap_magento2.status_check import UnknownStatusError
from tests.conftest import sandbox_config
from tests.tap.support import run_tap
from tests.tap.test_cli import EXECUTABLE, tap_command

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
ORDERS = "/V1/orders"


def ids(records: list[dict[str, Any]]) -> list[int]:
    return [r["entity_id"] for r in records]


def order_ids_written(stdout: str) -> list[int]:
    messages = [json.loads(line) for line in stdout.splitlines() if line.strip()]
    return [
        m["record"]["entity_id"]
        for m in messages
        if m["type"] == "RECORD" and m["stream"] == "orders"
    ]


def counts(sb: MagentoSandbox) -> list[dict[str, str]]:
    """The status look-ups the tap sent (only the count comes back)."""
    return [dict(r.query) for r in sb.requests if r.route == ORDERS and "fields" in dict(r.query)]


def pages(sb: MagentoSandbox) -> list[Any]:
    return [r for r in sb.requests if r.route == ORDERS and "fields" not in dict(r.query)]


@pytest.fixture
def sb(make_sandbox: Any) -> MagentoSandbox:
    return make_sandbox(order_count=120, seed=14, now=NOW)


# --- the value's form ----------------------------------------------------------------------------
def test_a_json_array_in_the_config_file_reads_every_listed_status(
    sb: MagentoSandbox, tmp_path: Path
) -> None:
    """What Meltano writes for a string setting set to ``["processing","complete"]``."""
    config = tmp_path / "config.json"
    settings = sandbox_config(sb, order_import_status='["processing","complete"]')
    config.write_text(json.dumps(settings))
    result = tap_command("--config", str(config), "--catalog", str(orders_catalog(tmp_path)),
                         cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    expected = sb.data.matching(statuses=["processing", "complete"])
    assert order_ids_written(result.stdout) == ids(expected)
    assert {o["status"] for o in expected} == {"processing", "complete"}


def test_a_json_array_in_the_environment_reads_every_listed_status(
    sb: MagentoSandbox, tmp_path: Path
) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps(sandbox_config(sb)))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAP_MAGENTO2_")}
    env["TAP_MAGENTO2_ORDER_IMPORT_STATUS"] = '["processing","complete"]'
    result = subprocess.run(
        [str(EXECUTABLE), "--config", str(config), "--config", "ENV",
         "--catalog", str(orders_catalog(tmp_path))],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert order_ids_written(result.stdout) == ids(
        sb.data.matching(statuses=["processing", "complete"])
    )


def orders_catalog(folder: Path) -> Path:
    """A catalog with only the orders stream selected (made by --discover)."""
    path = folder / "catalog.json"
    if path.exists():
        return path
    config = folder / "discover.json"
    config.write_text(json.dumps({"store_url": "https://shop.example.com", "access_token": "t"}))
    catalog = json.loads(tap_command("--config", str(config), "--discover", cwd=folder).stdout)
    for entry in catalog["streams"]:
        top = next(m for m in entry["metadata"] if m["breadcrumb"] == [])
        top["metadata"]["selected"] = entry["tap_stream_id"] == "orders"
    path.write_text(json.dumps(catalog))
    return path


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('["processing","complete"]', ["processing", "complete"]),
        (' [ "holded" ] ', ["holded"]),
        ("[]", []),
        ('["pending,processing", "complete"]', ["pending", "processing", "complete"]),
    ],
)
def test_json_array_text_is_read_as_a_list(raw: str, expected: list[str]) -> None:
    assert status_list(raw, "order_import_status") == expected
    assert parse_follow_statuses(raw) == expected


@pytest.mark.parametrize("raw", ['["processing"', "[1, 2]", '["a", ["b"]]'])
def test_broken_json_array_text_names_the_setting(raw: str) -> None:
    with pytest.raises(ValueError, match="order_follow_status"):
        parse_follow_statuses(raw)


@pytest.mark.parametrize("raw", ["*", ["*"], "processing,*", '["*"]'])
def test_a_wildcard_is_refused_with_advice_to_list_statuses(raw: object) -> None:
    with pytest.raises(ValueError, match="no status wildcard") as caught:
        status_list(raw, "order_import_status")
    assert "order_import_status" in str(caught.value)
    assert '["processing","complete"]' in str(caught.value)


def test_a_wildcard_stops_the_command_before_any_request(
    sb: MagentoSandbox, tmp_path: Path
) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps(sandbox_config(sb, order_import_status="*")))
    result = tap_command("--config", str(config), cwd=tmp_path)
    assert result.returncode != 0
    assert "order_import_status" in result.stderr
    assert "wildcard" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout.strip() == ""
    assert sb.requests == []


# --- statuses no store has -----------------------------------------------------------------------
def test_a_misspelt_status_is_an_error_naming_setting_status_and_built_ins(
    sb: MagentoSandbox,
) -> None:
    with pytest.raises(UnknownStatusError) as caught:
        run_tap(sandbox_config(sb, order_import_status="processing,procesing"))
    message = str(caught.value)
    assert "order_import_status 'procesing'" in message
    assert ", ".join(BUILT_IN_STATUSES) in message
    assert "no order in the store has it" in message
    assert [c["searchCriteria[filter_groups][0][filters][0][value]"] for c in counts(sb)] == [
        "procesing"
    ]
    assert counts(sb)[0]["fields"] == "total_count"
    assert counts(sb)[0]["searchCriteria[pageSize]"] == "1"
    assert pages(sb) == []  # checked before the sync


def test_a_misspelt_follow_status_names_the_follow_setting(sb: MagentoSandbox) -> None:
    with pytest.raises(UnknownStatusError, match="order_follow_status 'cancelled'"):
        run_tap(sandbox_config(sb, order_follow_status="holded,cancelled"))


def test_a_status_label_instead_of_its_code_points_to_the_code(sb: MagentoSandbox) -> None:
    with pytest.raises(UnknownStatusError, match="'On Hold' is the label of the status code"):
        run_tap(sandbox_config(sb, order_import_status="On Hold"))


def test_a_custom_status_some_order_has_is_imported(sb: MagentoSandbox) -> None:
    custom = sb.data.add_order(status="ready_to_ship", state="processing")
    sb.clock.advance(2)  # out of Magento's current second, which waits for the next run
    run = run_tap(sandbox_config(sb, order_import_status=["processing", "ready_to_ship"]))
    assert custom["entity_id"] in ids(run.records())
    assert ids(run.records()) == ids(sb.data.matching(statuses=["processing", "ready_to_ship"]))
    assert len(counts(sb)) == 1


def test_built_in_statuses_cost_no_extra_request(sb: MagentoSandbox) -> None:
    run_tap(sandbox_config(sb, order_import_status="processing", order_follow_status=None))
    assert counts(sb) == []


# --- a run that matches nothing ------------------------------------------------------------------
def test_a_first_run_matching_no_order_warns_with_its_filters(
    sb: MagentoSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    config = sandbox_config(
        sb, order_import_status="holded", store_view_code="de", start_date="2030-01-01T00:00:00Z"
    )
    with caplog.at_level(logging.INFO):
        run = run_tap(config, streams=("orders",))
    assert run.records() == []
    said = [r for r in caplog.records if r.getMessage().startswith("orders: no order matched")]
    assert len(said) == 1
    assert said[0].levelno == logging.WARNING
    store_id = next(v["id"] for v in sb.data.store_views if v["code"] == "de")
    assert said[0].getMessage() == (
        f"orders: no order matched (status in holded; store view 'de' (id {store_id}); "
        "updated at or after 2030-01-01 00:00:00 UTC)"
    )


def test_an_incremental_run_with_nothing_new_says_so_as_news(
    sb: MagentoSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    config = sandbox_config(sb, lookback_seconds=0)
    bookmark = {"replication_key": "updated_at", "replication_key_value": "2029-01-01T00:00:00Z"}
    state = {"bookmarks": {"orders": bookmark}}
    with caplog.at_level(logging.INFO):
        run_tap(config, state=state, streams=("orders",))
    said = [r for r in caplog.records if r.getMessage().startswith("orders: no order matched")]
    assert [r.levelno for r in said] == [logging.INFO]
    assert "every store view" in said[0].getMessage()
    assert "updated at or after 2029-01-01 00:00:00 UTC" in said[0].getMessage()
