"""Shipments, invoices, credit memos and order items against the sandbox, and ACL refusals."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from magento2_sandbox import MagentoSandbox
from magento2_sandbox.catalog import PRODUCTS, product_json
from magento2_sandbox.customers import customers
from magento2_sandbox.inventory import source_items
from magento2_sandbox.sales_documents import (
    creditmemos,
    invoices,
    refund_order,
    shipments,
)
from tap_magento2.client import AccessDeniedError
from tap_magento2.tap import TapMagento2
from tap_magento2.timestamps import magento_to_rfc3339
from tests.conftest import sandbox_config, signed
from tests.tap.support import run_tap
from tests.tap.test_cli import tap_command

Truth = Callable[[Any], list[dict[str, Any]]]
DOCUMENT_STREAMS = [
    ("shipments", "/V1/shipments", shipments),
    ("invoices", "/V1/invoices", invoices),
    ("creditmemos", "/V1/creditmemos", creditmemos),
]


def rfc(text: str) -> str:
    converted = magento_to_rfc3339(text)
    assert converted is not None
    return converted


def ship_one(sb: MagentoSandbox) -> int:
    """Ship an order through ``POST /V1/order/{id}/ship``; return the order id."""
    for order in sb.data.matching("processing"):
        resp = requests.post(
            f"{sb.base_url}/rest/V1/order/{order['entity_id']}/ship",
            json={"tracks": [{"track_number": "TRK-1", "title": "UPS", "carrier_code": "ups"}]},
            auth=signed(sb),
            timeout=30,
        )
        if resp.status_code == 200:
            return int(order["entity_id"])
    pytest.fail("no processing order could be shipped")


def with_documents(sb: MagentoSandbox) -> None:
    """Give the sandbox a few refunds and a posted shipment, so every stream has rows."""
    for order in sb.data.matching("complete")[:3]:
        refund_order(sb.data, order["entity_id"])
    ship_one(sb)
    # Rows of Magento's current second are left to a later request or run: let it pass.
    sb.clock.advance(2)


def paths(sb: MagentoSandbox, path: str) -> list[Any]:
    return [r for r in sb.requests if r.route == path]


@pytest.mark.parametrize(("stream", "path", "truth"), DOCUMENT_STREAMS)
@pytest.mark.parametrize("concurrency", [1, 4])
def test_documents_match_the_sandbox_ascending_each_once(
    make_sandbox: Callable[..., MagentoSandbox],
    stream: str,
    path: str,
    truth: Truth,
    concurrency: int,
) -> None:
    sb = make_sandbox(order_count=150, seed=3)
    with_documents(sb)
    expected = truth(sb.data)
    assert expected
    run = run_tap(
        sandbox_config(sb, page_size=4, max_concurrent_requests=concurrency), streams=(stream,)
    )
    records = run.records(stream)
    assert [r["entity_id"] for r in records] == [d["entity_id"] for d in expected]
    assert [r["updated_at"] for r in records] == [rfc(d["updated_at"]) for d in expected]
    assert records[0]["items"] == [
        {**item, **{k: rfc(v) for k, v in item.items() if k.endswith("_at")}}
        for item in expected[0]["items"]
    ]
    assert run.bookmark(stream) == records[-1]["updated_at"]
    assert run.records("orders") == []
    assert not paths(sb, "/V1/orders")  # only the selected streams are requested
    sent = paths(sb, path)
    assert len(sent) >= len(expected) // 4
    query = dict(sent[-1].query)
    assert query["searchCriteria[sortOrders][0][field]"] == "updated_at"
    assert query["searchCriteria[sortOrders][1][field]"] == "entity_id"
    assert query["searchCriteria[currentPage]"] == "1"


def refund_last_complete(sb: MagentoSandbox) -> int:
    order = sb.data.matching("complete")[-1]
    refund_order(sb.data, order["entity_id"])  # a new credit memo; its invoice changes
    return int(order["entity_id"])


@pytest.mark.parametrize(
    ("stream", "truth", "change"),
    [
        ("shipments", shipments, ship_one),
        ("invoices", invoices, refund_last_complete),
        ("creditmemos", creditmemos, refund_last_complete),
    ],
)
def test_rerun_from_the_bookmark_emits_only_changed_documents(
    make_sandbox: Callable[..., MagentoSandbox],
    stream: str,
    truth: Truth,
    change: Callable[[MagentoSandbox], int],
) -> None:
    sb = make_sandbox(order_count=120, seed=4)
    with_documents(sb)
    config = sandbox_config(sb, lookback_seconds=0)  # exactly from the bookmark
    first = run_tap(config, streams=(stream,))
    assert [r["entity_id"] for r in first.records(stream)] == [
        d["entity_id"] for d in truth(sb.data)
    ]
    sb.clock.advance(5)
    order_id = change(sb)
    sb.clock.advance(2)
    second = run_tap(config, state=first.final_state, streams=(stream,))
    expected = [d for d in truth(sb.data) if rfc(d["updated_at"]) >= first.bookmark(stream)]
    assert [r["entity_id"] for r in second.records(stream)] == [d["entity_id"] for d in expected]
    older = {
        r["entity_id"] for r in first.records(stream) if r["updated_at"] < first.bookmark(stream)
    }
    assert not older & {r["entity_id"] for r in second.records(stream)}
    assert second.records(stream)[-1]["order_id"] == order_id
    assert second.bookmark(stream) > first.bookmark(stream)


def test_store_view_code_filters_documents_by_store_id(
    make_sandbox: Callable[..., MagentoSandbox],
) -> None:
    sb = make_sandbox(order_count=150, seed=5)
    run = run_tap(sandbox_config(sb, store_view_code="fr"), streams=("invoices",))
    expected = [d["entity_id"] for d in invoices(sb.data) if d["store_id"] == 2]
    assert expected
    assert [r["entity_id"] for r in run.records("invoices")] == expected
    query = dict(paths(sb, "/V1/invoices")[0].query)
    assert query["searchCriteria[filter_groups][0][filters][0][field]"] == "store_id"
    assert query["searchCriteria[filter_groups][0][filters][0][value]"] == "2"


def test_order_items_alone_fetch_orders_without_emitting_them(
    make_sandbox: Callable[..., MagentoSandbox],
) -> None:
    sb = make_sandbox(order_count=60, seed=6)
    config = sandbox_config(sb, order_import_status=["processing", "complete"], page_size=10)
    run = run_tap(config, streams=("order_items",))
    orders = sb.data.matching(["processing", "complete"])
    expected = [(i["item_id"], i["order_id"]) for o in orders for i in o["items"]]
    items = run.records("order_items")
    assert [(i["item_id"], i["order_id"]) for i in items] == expected
    assert len({i["item_id"] for i in items}) == len(items)
    assert run.records("orders") == []
    assert any(i.get("parent_item_id") for i in items)
    assert {i["product_type"] for i in items} >= {"simple", "configurable", "bundle"}
    schemas = [m for m in run.messages if m["type"] == "SCHEMA"]
    assert [m["stream"] for m in schemas] == ["order_items"]
    assert items[0]["created_at"].endswith("+00:00")


def test_order_items_cost_no_request_beyond_the_orders(
    make_sandbox: Callable[..., MagentoSandbox],
) -> None:
    sb = make_sandbox(order_count=60, seed=6)
    config = sandbox_config(sb, page_size=10, max_concurrent_requests=1)
    run_tap(config, streams=("orders",))
    alone = len(sb.requests)
    both = run_tap(config, streams=("orders", "order_items"))
    assert len(sb.requests) - alone == alone
    orders = both.records("orders")
    assert orders
    assert [(i["item_id"]) for i in both.records("order_items")] == [
        i["item_id"] for o in orders for i in o["items"]
    ]


def acl_refusal(sb: MagentoSandbox, path: str, resource: str) -> None:
    sb.faults.add(
        path=path,
        status=401,
        times=10,
        body={
            "message": "The consumer isn't authorized to access %resources.",
            "parameters": {"resources": resource},
        },
    )


def test_an_acl_refusal_fails_its_stream_but_not_the_others(
    make_sandbox: Callable[..., MagentoSandbox],
    caplog: pytest.LogCaptureFixture,
    fast_retries: Any,
) -> None:
    sb = make_sandbox(order_count=80, seed=7)
    acl_refusal(sb, "/V1/invoices", "Magento_Sales::sales_invoice")
    config = sandbox_config(sb, order_import_status="complete")
    with caplog.at_level(logging.ERROR), pytest.raises(AccessDeniedError) as caught:
        run_tap(config, streams=("orders", "shipments", "invoices"))
    assert "invoices" in str(caught.value)
    assert "Magento_Sales::sales_invoice" in str(caught.value)
    assert caught.value.resource == "Magento_Sales::sales_invoice"
    assert len(paths(sb, "/V1/invoices")) == 1  # a refusal is not retried
    assert paths(sb, "/V1/orders")  # the streams after it still ran
    assert paths(sb, "/V1/shipments")
    assert any(
        "'invoices'" in r.getMessage() and "Magento_Sales::sales_invoice" in r.getMessage()
        for r in caplog.records
    )


def test_the_other_streams_records_and_state_are_written_despite_a_refusal(
    make_sandbox: Callable[..., MagentoSandbox], capsys: pytest.CaptureFixture[str]
) -> None:
    sb = make_sandbox(order_count=80, seed=7)
    acl_refusal(sb, "/V1/invoices", "Magento_Sales::sales_invoice")
    tap = TapMagento2(config=sandbox_config(sb), parse_env_config=False)
    for name, stream in tap.streams.items():
        stream.selected = name in ("shipments", "invoices")
    with pytest.raises(AccessDeniedError):
        tap.sync_all()
    messages = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    records = [m for m in messages if m["type"] == "RECORD"]
    assert {m["stream"] for m in records} == {"shipments"}
    assert [m["record"]["entity_id"] for m in records] == [
        d["entity_id"] for d in shipments(sb.data)
    ]
    assert tap.state["bookmarks"]["shipments"]["replication_key_value"]
    assert "replication_key_value" not in tap.state["bookmarks"]["invoices"]


def test_strict_mode_stops_at_the_first_refusal(
    make_sandbox: Callable[..., MagentoSandbox],
) -> None:
    sb = make_sandbox(order_count=80, seed=7)
    acl_refusal(sb, "/V1/invoices", "Magento_Sales::sales_invoice")
    config = sandbox_config(sb, strict_mode=True)
    with pytest.raises(AccessDeniedError, match="Magento_Sales::sales_invoice"):
        run_tap(config, streams=("shipments", "invoices"))
    assert paths(sb, "/V1/invoices")
    assert not paths(sb, "/V1/shipments")


def test_the_command_exits_non_zero_after_finishing_the_other_streams(
    make_sandbox: Callable[..., MagentoSandbox], tmp_path: Path
) -> None:
    sb = make_sandbox(order_count=40, seed=8)
    acl_refusal(sb, "/V1/invoices", "Magento_Sales::sales_invoice")
    config = tmp_path / "config.json"
    config.write_text(json.dumps(sandbox_config(sb)))
    result = tap_command("--config", str(config), cwd=tmp_path)  # no catalog: every stream
    assert result.returncode != 0
    assert "Magento_Sales::sales_invoice" in result.stderr
    assert sb.access_token not in result.stderr + result.stdout
    streams = {
        json.loads(line)["stream"]
        for line in result.stdout.splitlines()
        if json.loads(line)["type"] == "RECORD"
    }
    assert streams == {
        "store_views",
        "orders",
        "order_items",
        "shipments",
        "products",
        "customers",
        "stock",
    }


@pytest.mark.parametrize("concurrency", [1, 4])
def test_products_page_by_updated_at_and_id_each_once(
    make_sandbox: Callable[..., MagentoSandbox], concurrency: int
) -> None:
    sb = make_sandbox(order_count=20, seed=9)
    expected = sorted(
        (product_json(sku) for sku in PRODUCTS), key=lambda p: (p["updated_at"], p["id"])
    )
    config = sandbox_config(
        sb, page_size=3, max_concurrent_requests=concurrency, store_view_code="fr"
    )
    run = run_tap(config, streams=("products",))
    records = run.records("products")
    assert [r["id"] for r in records] == [p["id"] for p in expected]
    assert records[0]["sku"] == expected[0]["sku"]
    assert run.bookmark("products") == rfc(expected[-1]["updated_at"])
    sent = paths(sb, "/V1/products")
    assert len(sent) == -(-len(expected) // 3)  # every product shares one second: keyset on id
    later = dict(sent[-1].query)
    assert later["searchCriteria[sortOrders][1][field]"] == "entity_id"
    assert "store_id" not in later.values()  # products have no store_id column
    rerun = run_tap(config, state=run.final_state, streams=("products",))
    assert [r["id"] for r in rerun.records("products")] == [p["id"] for p in expected]


@pytest.mark.parametrize("concurrency", [1, 4])
def test_customers_match_the_sandbox_and_follow_the_store_view(
    make_sandbox: Callable[..., MagentoSandbox], concurrency: int
) -> None:
    sb = make_sandbox(order_count=120, seed=10)
    expected = customers(sb.data)
    config = sandbox_config(sb, page_size=7, max_concurrent_requests=concurrency)
    run = run_tap(config, streams=("customers",))
    records = run.records("customers")
    assert [r["id"] for r in records] == [c["id"] for c in expected]
    assert [r["updated_at"] for r in records] == [rfc(c["updated_at"]) for c in expected]
    assert records[0]["email"] == expected[0]["email"]
    assert run.bookmark("customers") == records[-1]["updated_at"]
    fr = run_tap(sandbox_config(sb, store_view_code="fr"), streams=("customers",))
    wanted = [c["id"] for c in expected if c["store_id"] == 2]
    assert wanted
    assert [r["id"] for r in fr.records("customers")] == wanted
    sb.clock.advance(5)
    new = sb.data.add_order(customer_id=99999, customer_email="new@example.com")
    sb.clock.advance(2)
    rerun = run_tap(config, state=run.final_state, streams=("customers",))
    assert rerun.records("customers")[-1]["id"] == 99999
    assert rerun.records("customers")[-1]["created_at"] == rfc(new["created_at"])
    assert len(rerun.records("customers")) < len(records)


@pytest.mark.parametrize("version", ["2.4", "2.3"])
def test_stock_reads_every_source_item_once_without_asking_past_the_end(
    make_sandbox: Callable[..., MagentoSandbox], version: str
) -> None:
    sb = make_sandbox(order_count=10, seed=11, magento_version=version)
    expected = source_items()
    run = run_tap(sandbox_config(sb, page_size=5), streams=("stock",))
    records = run.records("stock")
    assert records == expected
    sent = paths(sb, "/V1/inventory/source-items")
    assert [dict(r.query)["searchCriteria[currentPage]"] for r in sent] == [
        str(n) for n in range(1, -(-len(expected) // 5) + 1)
    ]
    assert dict(sent[0].query)["searchCriteria[sortOrders][0][field]"] == "sku"
    assert {r["source_code"] for r in records} == {"default", "eu_warehouse"}


def test_a_second_sync_of_the_same_tap_still_reports_the_refusal(
    make_sandbox: Callable[..., MagentoSandbox],
) -> None:
    sb = make_sandbox(order_count=20, seed=12)
    acl_refusal(sb, "/V1/invoices", "Magento_Sales::sales_invoice")
    tap = TapMagento2(config=sandbox_config(sb), parse_env_config=False)
    for name, stream in tap.streams.items():
        stream.selected = name == "invoices"
    for _ in range(2):
        with pytest.raises(AccessDeniedError, match="invoices"):
            tap.sync_all()
