"""Open orders are read back from Magento: changes that never bump ``updated_at`` arrive.

An address edit, a partial shipment the merchant makes, and a comment that clears the
status leave ``sales_order.updated_at`` as it was (magento-rest.md §9.4), so the tap never
streams them again. The end of every target run (and ``dropstream release``) reads ready
and partially shipped orders back, batched, every ``recheck_interval_minutes``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from magento2_sandbox import MagentoSandbox
from target_dropstream.cli import main
from target_dropstream.models import Order
from target_dropstream.release import RECHECK_FIELDS, release_due_orders
from target_dropstream.rules import shippable_lines
from target_dropstream.settings import TargetSettings
from target_dropstream.store import FulfillmentStore
from tests.conftest import sandbox_config
from tests.target.conftest import NOW, no_new_orders, orders_stream, run_target

LATER = NOW + timedelta(minutes=1)
NEW_ADDRESS = {
    "firstname": "Ada",
    "lastname": "Lovelace",
    "street": ["12 New Street", "Flat 3"],
    "city": "Springfield",
    "region": "Oregon",
    "region_code": "OR",
    "postcode": "97477",
    "country_id": "US",
    "telephone": "+1 555 000 1111",
    "email": "ada@example.com",
    "address_type": "shipping",
}


@pytest.fixture
def sb() -> Iterator[MagentoSandbox]:
    # Bearer on, only so the tests can act as the merchant's admin tools with plain requests.
    with MagentoSandbox(order_count=1200, seed=5, now=NOW, bearer_enabled=True) as sandbox:
        yield sandbox


def admin(sb: MagentoSandbox, method: str, path: str, body: Any) -> Any:
    """What the merchant does in Magento (admin or another integration)."""
    answer = requests.request(
        method,
        f"{sb.base_url}/rest/V1{path}",
        json=body,
        headers={"Authorization": f"Bearer {sb.access_token}"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def open_orders(sb: MagentoSandbox, count: int, *, simple_qty: int = 1) -> list[dict]:
    """Processing orders with something to ship; the first has a simple line of >= qty."""
    found = []
    for record in sb.data.matching(statuses=["processing"]):
        lines, _ = shippable_lines(Order.from_magento(record).items, include_bundle_parent=False)
        if not lines:
            continue
        if not found and simple_qty > 1 and not _simple_item(record, simple_qty):
            continue
        found.append(record)
        if len(found) == count:
            return found
    raise AssertionError("the sandbox seed has too few processing orders")


def _simple_item(record: dict, qty: int) -> dict | None:
    for item in record["items"]:
        simple = item["product_type"] == "simple" and "parent_item_id" not in item
        if simple and item["qty_ordered"] >= qty and not item["qty_shipped"]:
            return item
    return None


def load(sb: MagentoSandbox, url: str, records: list[dict], **settings: Any) -> dict:
    settings.setdefault("recheck_interval_minutes", 0)  # every run, unless a test says
    config = sandbox_config(sb, database_url=url, **settings)
    run_target(config, orders_stream(records))
    return config


def order_row(url: str, order_id: int) -> dict:
    engine = create_engine(url)
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT * FROM fulfillment_orders WHERE order_id = :id"), {"id": order_id}
        )
        found = dict(row.mappings().one())
    engine.dispose()
    return found


def line_qty(url: str, order_id: int) -> dict[int, Decimal]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT item_id, qty FROM fulfillment_lines WHERE order_id = :id"),
            {"id": order_id},
        )
        found = {row[0]: Decimal(str(row[1])) for row in rows}
    engine.dispose()
    return found


def searches(sb: MagentoSandbox) -> list:
    return [r for r in sb.requests if r.method == "GET" and r.route == "/V1/orders"]


def shipping_address(record: dict) -> dict:
    return record["extension_attributes"]["shipping_assignments"][0]["shipping"]["address"]


def test_address_edit_after_import_reaches_the_store_before_the_warehouse_ships(
    sb: MagentoSandbox, sqlite_url: str
) -> None:
    record = open_orders(sb, 1)[0]
    config = load(sb, sqlite_url, [record])
    assert order_row(sqlite_url, record["entity_id"])["state"] == "ready"

    address = shipping_address(record)
    admin(
        sb,
        "PUT",
        f"/orders/{record['entity_id']}",
        {
            "entity": {
                **NEW_ADDRESS,
                "entity_id": address["entity_id"],
                "parent_id": address["parent_id"],
            }
        },
    )
    # Magento keeps updated_at: the tap would never stream the order again.
    assert sb.data.get_order(record["entity_id"])["updated_at"] == record["updated_at"]

    run_target(config, no_new_orders(), now=LATER)  # the next run, with nothing new in the stream
    row = order_row(sqlite_url, record["entity_id"])
    assert row["ship_to_street"] == "12 New Street\nFlat 3"
    assert (row["ship_to_name"], row["ship_to_city"], row["ship_to_postcode"]) == (
        "Ada Lovelace",
        "Springfield",
        "97477",
    )
    assert row["state"] == "ready"
    assert row["rechecked_at"] is not None


def test_address_edit_while_held_is_applied_before_release(
    sb: MagentoSandbox, sqlite_url: str
) -> None:
    record = open_orders(sb, 1)[0]
    config = load(sb, sqlite_url, [record], delay_minutes=60 * 24 * 365 * 20)
    assert order_row(sqlite_url, record["entity_id"])["state"] == "held"
    address = shipping_address(record)
    admin(
        sb,
        "PUT",
        f"/orders/{record['entity_id']}",
        {
            "entity": {
                **NEW_ADDRESS,
                "entity_id": address["entity_id"],
                "parent_id": address["parent_id"],
            }
        },
    )
    settings = TargetSettings.from_config(config)
    store = FulfillmentStore.open(sqlite_url, now=NOW)
    try:
        report = release_due_orders(store, settings, now=NOW + timedelta(days=365 * 21))
    finally:
        store.close()
    assert (report.released, report.new_address, report.errors) == (1, 1, [])
    row = order_row(sqlite_url, record["entity_id"])
    assert (row["state"], row["ship_to_city"]) == ("ready", "Springfield")


def test_a_partial_shipment_by_the_merchant_reduces_the_lines(
    sb: MagentoSandbox, sqlite_url: str
) -> None:
    record = open_orders(sb, 1, simple_qty=2)[0]
    item = _simple_item(record, 2)
    assert item is not None
    config = load(sb, sqlite_url, [record])
    before = line_qty(sqlite_url, record["entity_id"])
    assert before[item["item_id"]] == item["qty_ordered"]

    admin(
        sb,
        "POST",
        f"/order/{record['entity_id']}/ship",
        {"items": [{"order_item_id": item["item_id"], "qty": 1}]},
    )
    run_target(config, no_new_orders(), now=LATER)

    after = line_qty(sqlite_url, record["entity_id"])
    assert after[item["item_id"]] == item["qty_ordered"] - 1  # never ship it twice
    assert {k: v for k, v in after.items() if k != item["item_id"]} == {
        k: v for k, v in before.items() if k != item["item_id"]
    }
    assert order_row(sqlite_url, record["entity_id"])["state"] == "ready"

    # The merchant ships the rest: the order is shipped, nothing is left for the warehouse.
    admin(sb, "POST", f"/order/{record['entity_id']}/ship", {})
    run_target(config, no_new_orders(), now=LATER + timedelta(minutes=30))
    row = order_row(sqlite_url, record["entity_id"])
    assert row["state"] == "shipped"
    assert "outside the warehouse" in row["state_reason"]


def test_a_partially_shipped_order_loses_what_the_merchant_shipped_too(
    sb: MagentoSandbox, sqlite_url: str, tmp_path: Path
) -> None:
    record = open_orders(sb, 1, simple_qty=3)[0]
    item = _simple_item(record, 3)
    assert item is not None
    config = load(sb, sqlite_url, [record], recheck_interval_minutes=0)
    config_file = tmp_path / "target.json"
    config_file.write_text(json.dumps(config))
    runner = CliRunner()
    clock = {"clock": lambda: LATER}
    # the warehouse ships 1 and Magento is told (Magento's qty_shipped becomes 1) ...
    shipped = runner.invoke(
        main,
        [
            "ship",
            str(record["increment_id"]),
            "--carrier-code",
            "ups",
            "--track",
            "1Z1",
            "--line",
            f"{item['sku']}=1",
            "--config",
            str(config_file),
        ],
        obj=clock,
    )
    assert shipped.exit_code == 0, shipped.output
    notified = runner.invoke(main, ["notify", "--config", str(config_file)], obj=clock)
    assert notified.exit_code == 0, notified.output
    # ... then the merchant ships 1 more in Magento's admin
    admin(
        sb,
        "POST",
        f"/order/{record['entity_id']}/ship",
        {"items": [{"order_item_id": item["item_id"], "qty": 1}]},
    )
    released = runner.invoke(main, ["release", "--config", str(config_file)], obj=clock)
    assert released.exit_code == 0, released.output

    assert order_row(sqlite_url, record["entity_id"])["state"] == "partially_shipped"
    # ordered 3+: the warehouse shipped 1, the merchant 1, so the warehouse may ship the rest
    # only; recording what the merchant already shipped is refused
    left = item["qty_ordered"] - 2
    over = runner.invoke(
        main,
        [
            "ship",
            str(record["increment_id"]),
            "--carrier-code",
            "ups",
            "--track",
            "1Z2",
            "--line",
            f"{item['sku']}={left + 1}",
            "--config",
            str(config_file),
        ],
        obj=clock,
    )
    assert over.exit_code == 1
    assert "over-shipping" in over.output


def test_a_comment_without_status_holds_a_ready_order(
    sb: MagentoSandbox, sqlite_url: str, tmp_path: Path
) -> None:
    record = open_orders(sb, 1)[0]
    config = load(sb, sqlite_url, [record])
    assert (
        admin(
            sb,
            "POST",
            f"/orders/{record['entity_id']}/comments",
            {"statusHistory": {"comment": "Gift"}},
        )
        is True
    )
    assert "status" not in sb.data.get_order(record["entity_id"])  # NULL in Magento
    # no status filter matches NULL: the tap never streams it again
    assert record["entity_id"] not in {
        o["entity_id"] for o in sb.data.matching(statuses=["processing", "holded", "canceled"])
    }

    config_file = tmp_path / "target.json"
    config_file.write_text(json.dumps(config))
    result = CliRunner().invoke(
        main, ["release", "--config", str(config_file)], obj={"clock": lambda: LATER}
    )
    assert result.exit_code == 0, result.output
    row = order_row(sqlite_url, record["entity_id"])
    assert row["state"] == "held"
    assert row["magento_status"] is None
    assert "NULL" in row["state_reason"]

    status = CliRunner().invoke(
        main, ["status", "--config", str(config_file)], obj={"clock": lambda: LATER}
    )
    assert "NULL" in status.output


@pytest.mark.parametrize(("count", "page"), [(250, 100), (250, 50), (37, 300)])
def test_one_request_per_page_of_open_orders_with_only_the_needed_fields(
    sb: MagentoSandbox, sqlite_url: str, count: int, page: int
) -> None:
    records = open_orders(sb, count)
    config = load(sb, sqlite_url, records, recheck_page_size=page)
    sb.clear_requests()
    store = FulfillmentStore.open(sqlite_url, now=LATER)
    try:
        report = release_due_orders(store, TargetSettings.from_config(config), now=LATER)
    finally:
        store.close()
    assert report.errors == []
    assert report.rechecked == count
    made = searches(sb)
    assert len(made) == report.requests == math.ceil(count / page)
    asked: list[str] = []
    for request in made:
        query = dict(request.query)
        assert query["fields"] == RECHECK_FIELDS
        assert query["searchCriteria[pageSize]"] == str(page)
        asked += query["searchCriteria[filter_groups][0][filters][0][value]"].split(",")
    assert sorted(int(i) for i in asked) == sorted(r["entity_id"] for r in records)


def test_the_fields_filter_drops_everything_else(sb: MagentoSandbox) -> None:
    record = open_orders(sb, 1)[0]
    answer = requests.get(
        f"{sb.base_url}/rest/V1/orders",
        params={
            "searchCriteria[filter_groups][0][filters][0][field]": "entity_id",
            "searchCriteria[filter_groups][0][filters][0][value]": str(record["entity_id"]),
            "searchCriteria[filter_groups][0][filters][0][condition_type]": "in",
            "fields": RECHECK_FIELDS,
        },
        headers={"Authorization": f"Bearer {sb.access_token}"},
        timeout=10,
    ).json()
    (item,) = answer["items"]
    assert "billing_address" not in item
    assert "payment" not in item
    assert all("parent_item" not in line and "price" not in line for line in item["items"])
    assert Order.from_magento(item) == Order.from_magento(record)


def test_the_interval_is_respected(sb: MagentoSandbox, sqlite_url: str) -> None:
    records = open_orders(sb, 3)
    sb.clear_requests()
    config = load(sb, sqlite_url, records, recheck_interval_minutes=30)
    assert len(searches(sb)) == 1  # loaded orders are read back at the end of the run
    sb.clear_requests()
    run_target(config, no_new_orders(), now=NOW + timedelta(minutes=29))
    assert searches(sb) == []
    run_target(config, no_new_orders(), now=NOW + timedelta(minutes=30))
    assert len(searches(sb)) == 1

    every_run = {**config, "recheck_interval_minutes": 0}
    sb.clear_requests()
    run_target(every_run, no_new_orders(), now=NOW + timedelta(minutes=30))
    run_target(every_run, no_new_orders(), now=NOW + timedelta(minutes=30))
    assert len(searches(sb)) == 2


def test_magento_unreachable_leaves_ready_orders_as_they_are_and_says_so(
    sb: MagentoSandbox, sqlite_url: str, tmp_path: Path
) -> None:
    record = open_orders(sb, 1)[0]
    config = load(sb, sqlite_url, [record])
    address = shipping_address(record)
    admin(
        sb,
        "PUT",
        f"/orders/{record['entity_id']}",
        {
            "entity": {
                **NEW_ADDRESS,
                "entity_id": address["entity_id"],
                "parent_id": address["parent_id"],
            }
        },
    )
    before = order_row(sqlite_url, record["entity_id"])
    sb.faults.add(
        path="/V1/orders",
        method="GET",
        status=400,
        body={"message": "Field %1 is not allowed here", "parameters": ["entity_id"]},
    )
    config_file = tmp_path / "target.json"
    config_file.write_text(json.dumps(config))
    result = CliRunner().invoke(
        main, ["release", "--config", str(config_file)], obj={"clock": lambda: LATER}
    )
    assert result.exit_code == 1
    assert "Magento re-check failed" in result.output
    assert "Field entity_id is not allowed here" in result.output
    assert order_row(sqlite_url, record["entity_id"]) == before  # nothing changed, not even
    # rechecked_at: the next run reads it again
    run_target(config, no_new_orders(), now=LATER)
    assert order_row(sqlite_url, record["entity_id"])["ship_to_city"] == "Springfield"


def test_release_all_reads_back_orders_inside_the_interval(
    sb: MagentoSandbox, sqlite_url: str, tmp_path: Path
) -> None:
    record = open_orders(sb, 1)[0]
    config = load(sb, sqlite_url, [record], recheck_interval_minutes=60)
    address = shipping_address(record)
    admin(
        sb,
        "PUT",
        f"/orders/{record['entity_id']}",
        {
            "entity": {
                **NEW_ADDRESS,
                "entity_id": address["entity_id"],
                "parent_id": address["parent_id"],
            }
        },
    )
    config_file = tmp_path / "target.json"
    config_file.write_text(json.dumps(config))
    clock = {"clock": lambda: LATER}
    runner = CliRunner()
    assert runner.invoke(main, ["release", "--config", str(config_file)], obj=clock).exit_code == 0
    assert order_row(sqlite_url, record["entity_id"])["ship_to_city"] != "Springfield"
    result = runner.invoke(main, ["release", "--all", "--config", str(config_file)], obj=clock)
    assert result.exit_code == 0, result.output
    assert "1 new address(es)" in result.output
    assert order_row(sqlite_url, record["entity_id"])["ship_to_city"] == "Springfield"
