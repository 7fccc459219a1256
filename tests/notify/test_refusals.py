"""Magento's refusals, `dropstream status` / `retry`, auth failures and notify_on_run."""

from __future__ import annotations

import json

from magerest.errors import BEARER_SETTING
from tests.target.conftest import orders_stream, run_target

from .conftest import NOW, Shop, find_order

UPS = ("--carrier-code", "ups", "--title", "United Parcel Service")
#: The access token alone, sent as a Bearer token (the OAuth keys left out).
BEARER_ONLY = {
    "TARGET_DROPSTREAM_CONSUMER_KEY": "",
    "TARGET_DROPSTREAM_CONSUMER_SECRET": "",
    "TARGET_DROPSTREAM_ACCESS_TOKEN_SECRET": "",
}
HELD_MESSAGE = (
    "Shipment Document Validation Error(s):\n"
    "A shipment cannot be created when an order has a status of holded"
)


def recorded(shop: Shop, track: str = "1ZREF") -> tuple[dict, str]:
    order = find_order(shop.sb, {"simple"}, exclude={"configurable", "together", "separately"})
    shop.load(order["entity_id"])
    result = shop.cli("ship", order["increment_id"], *UPS, "--track", track, "--key", "WH-77")
    assert result.exit_code == 0, result.output
    return order, "WH-77"


def test_refusal_is_recorded_shown_and_retried_after_the_fix(shop: Shop) -> None:
    order, key = recorded(shop)
    oid = order["entity_id"]
    shop.sb.data.update_order(oid, state="holded", status="holded")  # put on hold in Magento
    result = shop.cli("notify")
    assert result.exit_code == 0, result.output
    assert "0 notified, 0 already in Magento, 1 refused" in result.output
    assert "A shipment cannot be created when an order has a status of holded" in result.output
    [row] = shop.shipments()
    assert row["state"] == "failed"
    assert HELD_MESSAGE in row["last_error"]
    assert shop.magento_shipments(oid) == []

    text = shop.cli("status")
    assert text.exit_code == 0, text.output
    assert "Shipments: pending 0, notified 0, failed 1" in text.output
    assert "Failed notifications (1):" in text.output
    assert f"{key}  order #{order['increment_id']}  track 1ZREF" in text.output
    assert "A shipment cannot be created when an order has a status of holded" in text.output
    data = json.loads(shop.cli("status", "--json").output)
    assert data["shipments"]["counts"] == {"pending": 0, "notified": 0, "failed": 1}
    [failed] = data["shipments"]["failed"]
    assert (failed["key"], failed["order_id"], failed["attempts"]) == (key, oid, 1)
    assert HELD_MESSAGE in failed["message"]

    # Failed shipments are not re-sent by a plain notify.
    assert "0 notified" in shop.cli("notify").output
    assert len(shop.posts()) == 1
    # The operator releases the hold in Magento and queues the shipment again.
    shop.sb.data.update_order(oid, state="processing", status="processing")
    retried = shop.cli("retry", key)
    assert retried.exit_code == 0, retried.output
    assert f"{key}: queued again" in retried.output
    result = shop.cli("notify")
    assert "1 notified" in result.output, result.output
    [doc] = shop.magento_shipments(oid)
    [row] = shop.shipments()
    assert (row["state"], row["magento_shipment_id"], row["last_error"]) == (
        "notified",
        doc["entity_id"],
        None,
    )
    assert "failed 0" in shop.cli("status").output
    unknown = shop.cli("retry", "NOPE")
    assert unknown.exit_code == 1
    assert "no shipment with key 'NOPE'" in unknown.output


def test_retry_failed_flag_resends_refused_shipments(shop: Shop) -> None:
    order, _key = recorded(shop)
    shop.sb.data.update_order(order["entity_id"], state="holded", status="holded")
    assert "1 refused" in shop.cli("notify").output
    shop.sb.data.update_order(order["entity_id"], state="processing", status="processing")
    result = shop.cli("notify", "--retry-failed")
    assert result.exit_code == 0, result.output
    assert "1 notified" in result.output
    assert len(shop.magento_shipments(order["entity_id"])) == 1


def test_wrong_token_fails_the_run_without_printing_it(shop: Shop) -> None:
    order, _key = recorded(shop)
    secret = "wrong-token-7f3a9c"
    result = shop.cli("notify", TARGET_DROPSTREAM_ACCESS_TOKEN=secret, **BEARER_ONLY)
    assert result.exit_code == 1
    assert "HTTP 401" in result.output
    assert BEARER_SETTING in result.output
    assert secret not in result.output
    [row] = shop.shipments()
    assert row["state"] == "pending"  # not failed: nothing is wrong with the shipment
    assert "HTTP 401" in row["last_error"]
    assert secret not in row["last_error"]
    status = shop.cli("status")
    assert "Pending shipments a notify run stopped on (1):" in status.output
    assert "HTTP 401" in status.output
    assert secret not in status.output
    data = json.loads(shop.cli("status", "--json").output)
    assert data["shipments"]["counts"]["pending"] == 1
    assert "HTTP 401" in data["shipments"]["pending_errors"][0]["message"]
    assert shop.magento_shipments(order["entity_id"]) == []
    missing = shop.cli("notify", TARGET_DROPSTREAM_STORE_URL="")
    assert missing.exit_code == 2
    assert "notify needs store_url and access_token" in missing.output


def test_notify_reads_a_config_file(shop: Shop, tmp_path) -> None:
    order, _key = recorded(shop)
    config = tmp_path / "target.json"
    config.write_text(json.dumps(shop.config()), encoding="utf-8")
    result = shop.cli(
        "notify",
        "--config",
        str(config),
        TARGET_DROPSTREAM_DATABASE_URL="",
        TARGET_DROPSTREAM_STORE_URL="",
        TARGET_DROPSTREAM_ACCESS_TOKEN="",
    )
    assert result.exit_code == 0, result.output
    assert "1 notified" in result.output
    assert len(shop.magento_shipments(order["entity_id"])) == 1


def test_target_notifies_at_the_end_of_a_run_when_configured(shop: Shop) -> None:
    order, _key = recorded(shop)
    other = find_order(shop.sb, {"configurable"}, exclude={"simple", "together", "separately"})
    run_target(shop.config(), orders_stream([other]), now=NOW)
    assert shop.posts() == []  # notify_on_run defaults to false
    run_target(shop.config(notify_on_run=True), orders_stream([other]), now=NOW)
    [doc] = shop.magento_shipments(order["entity_id"])
    assert doc["tracks"][0]["track_number"] == "1ZREF"
    [row] = shop.shipments()
    assert (row["state"], row["magento_shipment_id"]) == ("notified", doc["entity_id"])
    loaded = shop.rows(
        "SELECT state FROM fulfillment_orders WHERE order_id = :id", id=other["entity_id"]
    )
    assert loaded == [{"state": "ready"}]
    assert [p.path.rsplit("/", 2)[-2] for p in shop.posts()] == [str(order["entity_id"])]
