"""A notification whose answer is lost never creates a second shipment in Magento."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from magento2_sandbox import MagentoSandbox
from target_dropstream.store import ShipmentRepository

from .conftest import NOW, Shop, find_order, item, top

UPS = ("--carrier-code", "ups", "--title", "United Parcel Service")
SHIP_ROUTE = "/V1/order/*/ship"
LATER = NOW + timedelta(minutes=5)  # past ship_lookup_delay_seconds (120 s by default)


def simple_order(shop: Shop) -> dict:
    order = find_order(shop.sb, {"simple"}, exclude={"configurable", "together", "separately"})
    shop.load(order["entity_id"])
    result = shop.cli("ship", order["increment_id"], *UPS, "--track", "1ZLOST")
    assert result.exit_code == 0, result.output
    return order


def test_reset_after_commit_is_left_pending_then_found_not_posted_again(shop: Shop) -> None:
    order = simple_order(shop)
    oid = order["entity_id"]
    shop.sb.faults.add(path=SHIP_ROUTE, method="POST", kind="commit_reset")
    result = shop.cli("notify")
    assert result.exit_code == 0, result.output
    assert "0 notified, 0 already in Magento, 0 refused" in result.output
    assert "the answer was lost" in result.output
    assert not [r for r in shop.sb.requests if r.route == "/V1/shipments"]  # no early look-up
    [row] = shop.shipments()
    assert (row["state"], row["attempts"]) == ("pending", 1)
    assert row["last_attempt_at"] is not None
    assert (
        "not posted again before a look-up at or after 2026-01-15 12:02:00 UTC"
        in (row["last_error"])
    )
    assert "ship_lookup_delay_seconds=120" in row["last_error"]
    # The next run looks it up first and finds it.
    again = shop.cli("notify")
    assert again.exit_code == 0, again.output
    assert "0 notified, 1 already in Magento, 0 refused" in again.output
    assert "found after an earlier attempt, not posted again" in again.output
    [doc] = shop.magento_shipments(oid)  # exactly one shipment in Magento
    assert len(shop.posts()) == 1
    lookups = [r for r in shop.sb.requests if r.route == "/V1/shipments"]
    assert len(lookups) == 1
    assert ("searchCriteria[filter_groups][0][filters][0][value]", str(oid)) in lookups[0].query
    simple = top(order, "simple")
    assert item(shop.sb, oid, simple["item_id"])["qty_shipped"] == simple["qty_ordered"]
    [row] = shop.shipments()
    assert (row["state"], row["magento_shipment_id"], row["attempts"]) == (
        "notified",
        doc["entity_id"],
        1,
    )
    # A later run has nothing to do.
    third = shop.cli("notify")
    assert "0 notified, 0 already in Magento, 0 refused" in third.output
    assert len(shop.posts()) == 1


def test_lost_answer_then_failed_lookup_is_settled_by_the_next_run(shop: Shop) -> None:
    order = simple_order(shop)
    oid = order["entity_id"]
    shop.sb.faults.add(path=SHIP_ROUTE, method="POST", kind="commit_reset")
    first = shop.notify()
    assert first.error is None
    [row] = shop.shipments()
    assert (row["state"], row["attempts"]) == ("pending", 1)
    shop.sb.faults.add(path="/V1/shipments", method="GET", times=20, status=503)
    second = shop.notify(at=LATER)
    assert second.error is not None
    assert "stays pending" in second.error
    assert "cannot check whether Magento already has it" in second.error
    [row] = shop.shipments()
    assert (row["state"], row["attempts"]) == ("pending", 1)
    assert "HTTP 503" in row["last_error"]
    shop.sb.faults.clear()
    third = shop.notify(at=LATER)
    assert third.error is None
    assert len(third.found) == 1
    assert len(shop.posts()) == 1  # never posted again
    [doc] = shop.magento_shipments(oid)
    [row] = shop.shipments()
    assert (row["state"], row["magento_shipment_id"], row["last_error"]) == (
        "notified",
        doc["entity_id"],
        None,
    )


def partial_order(shop: Shop) -> tuple[dict, dict]:
    """A processing order with a simple line of 2 or more; 1 of it is recorded as shipped."""
    order = next(
        o
        for o in (shop.sb.data.orders[i] for i in range(1, 201))
        if o["status"] == "processing"
        and any(
            i["product_type"] == "simple" and "parent_item_id" not in i and i["qty_ordered"] >= 2
            for i in o["items"]
        )
    )
    line = next(
        i
        for i in order["items"]
        if i["product_type"] == "simple" and "parent_item_id" not in i and i["qty_ordered"] >= 2
    )
    shop.load(order["entity_id"])
    result = shop.cli(
        "ship", order["increment_id"], *UPS, "--track", "1ZSLOW", "--line", f"{line['sku']}=1"
    )
    assert result.exit_code == 0, result.output
    return order, line


def test_a_ship_request_committing_late_under_the_order_lock_is_never_posted_twice(
    tmp_path: Path,
) -> None:
    """Magento keeps the request running (order lock, e-mail) after the client gave up.

    The sandbox commits it 90 s later. An early look-up sees nothing: a second post would
    wait on the lock and ship 1 more. Only a look-up ship_lookup_delay_seconds (120 s)
    after the failed attempt is trusted.
    """
    with MagentoSandbox(order_count=200, seed=1, now=NOW, ship_commit_delay=90) as sb:
        shop = Shop(sb, f"sqlite:///{tmp_path / 'dropstream.db'}")
        order, line = partial_order(shop)
        oid = order["entity_id"]
        first = shop.notify()
        assert first.error is None
        assert any("the answer was lost" in note for note in first.notes)
        assert len(shop.posts()) == 1
        assert shop.magento_shipments(oid) == []  # still running inside Magento

        sb.clock.advance(30)
        early = shop.notify(at=NOW + timedelta(seconds=30))
        assert early.error is None
        assert (early.notified, early.found) == ([], [])
        [note] = early.notes
        assert "by a run at or after 2026-01-15 12:02:00 UTC" in note
        assert len(shop.posts()) == 1  # looked up, found nothing, not posted again
        [row] = shop.shipments()
        assert (row["state"], row["attempts"]) == ("pending", 1)
        assert "by a run at or after 2026-01-15 12:02:00 UTC" in row["last_error"]

        sb.clock.advance(100)  # Magento committed the first request meanwhile
        late = shop.notify(at=NOW + timedelta(seconds=130))
        assert late.error is None
        assert len(late.found) == 1
        assert len(shop.posts()) == 1
        [doc] = shop.magento_shipments(oid)  # exactly one shipment in Magento
        assert item(sb, oid, line["item_id"])["qty_shipped"] == 1
        [row] = shop.shipments()
        assert (row["state"], row["magento_shipment_id"]) == ("notified", doc["entity_id"])


def test_a_lost_request_that_never_reached_magento_is_posted_after_the_delay(shop: Shop) -> None:
    order, line = partial_order(shop)
    oid = order["entity_id"]
    shop.sb.faults.add(path=SHIP_ROUTE, method="POST", kind="reset")  # dropped before Magento
    assert shop.notify().error is None
    assert shop.magento_shipments(oid) == []
    report = shop.notify(settings={"ship_lookup_delay_seconds": 60}, at=NOW + timedelta(seconds=61))
    assert report.error is None
    assert len(report.notified) == 1
    assert [p.status for p in shop.posts()] == [0, 200]
    [doc] = shop.magento_shipments(oid)
    assert item(shop.sb, oid, line["item_id"])["qty_shipped"] == 1
    [row] = shop.shipments()
    assert (row["state"], row["magento_shipment_id"], row["attempts"]) == (
        "notified",
        doc["entity_id"],
        2,
    )


def test_5xx_before_commit_is_posted_again_once(shop: Shop) -> None:
    order = simple_order(shop)
    oid = order["entity_id"]
    shop.sb.faults.add(path=SHIP_ROUTE, method="POST", status=503, times=1)
    report = shop.notify()
    assert report.error is None
    assert len(report.notified) == 1
    assert [p.status for p in shop.posts()] == [503, 200]
    [doc] = shop.magento_shipments(oid)
    [row] = shop.shipments()
    assert (row["state"], row["magento_shipment_id"], row["attempts"]) == (
        "notified",
        doc["entity_id"],
        2,
    )


def test_magento_down_stops_the_run_and_keeps_shipments_pending(shop: Shop) -> None:
    order = simple_order(shop)
    shop.sb.faults.add(path=SHIP_ROUTE, method="POST", status=503, times=10)
    result = shop.cli("notify")
    assert result.exit_code == 1
    assert "stays pending" in result.output
    assert "HTTP 503" in result.output
    assert len(shop.posts()) == 3
    assert shop.magento_shipments(order["entity_id"]) == []
    [row] = shop.shipments()
    assert (row["state"], row["attempts"]) == ("pending", 3)


def test_two_shipments_with_one_tracking_number_are_matched_once(shop: Shop) -> None:
    """A look-up never claims a Magento shipment already matched to another of ours."""
    order = find_order(shop.sb, {"simple", "configurable"})
    oid = order["entity_id"]
    shop.load(oid)
    cfg, simple = top(order, "configurable"), top(order, "simple")
    for key, sku in (("BOX-1", cfg["sku"]), ("BOX-2", simple["sku"])):
        result = shop.cli(
            "ship",
            order["increment_id"],
            *UPS,
            "--track",
            "SAME",
            "--line",
            f"{sku}=1",
            "--key",
            key,
        )
        assert result.exit_code == 0, result.output
    shop.sb.faults.add(path=SHIP_ROUTE, method="POST", kind="commit_reset", times=2)
    assert shop.notify().error is None  # both answers lost: both pending
    assert [r["state"] for r in shop.shipments()] == ["pending", "pending"]
    report = shop.notify()
    assert report.error is None
    assert len(report.found) == 2
    docs = shop.magento_shipments(oid)
    assert len(docs) == 2
    rows = shop.shipments()
    assert sorted(r["magento_shipment_id"] for r in rows) == sorted(d["entity_id"] for d in docs)


def test_an_attempt_is_claimed_by_one_run_only(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two notify runs read the same pending shipment: only the first one posts it."""
    order = simple_order(shop)
    store = shop.open()
    try:
        [stale] = store.shipments.to_notify(shop.source, include_failed=False)
    finally:
        store.close()
    first = shop.notify()
    assert len(first.notified) == 1
    monkeypatch.setattr(ShipmentRepository, "to_notify", lambda *_args, **_kwargs: [stale])
    second = shop.notify()  # resumes with what it read before the first run posted
    assert second.notified == []
    assert any("being sent by another run, skipped" in note for note in second.notes)
    assert len(shop.posts()) == 1
    assert len(shop.magento_shipments(order["entity_id"])) == 1


def test_a_killed_runs_request_finished_after_the_look_up_is_found_not_refused(
    shop: Shop,
) -> None:
    """A run killed mid-POST leaves its request to Magento, which may finish it later.

    The next run's look-up can come first and miss it; Magento then refuses the repeat
    ("You can't create a shipment without products."). That refusal must lead to a
    second look-up, not to a failed shipment.
    """
    from magento2_sandbox.shipping import ship_order

    order = simple_order(shop)
    oid = order["entity_id"]
    [row] = shop.shipments()
    store = shop.open()
    try:  # the killed run had counted its attempt before posting, a while ago
        assert store.shipments.mark_attempt(row["id"], 0, NOW - timedelta(minutes=10))
    finally:
        store.close()
    killed_runs_body = {"items": [], "tracks": [{"track_number": "1ZLOST", "carrier_code": "ups"}]}

    def finish_the_killed_runs_request(info: Any) -> None:
        if info.method == "POST" and not shop.magento_shipments(oid):
            ship_order(shop.sb.data, oid, killed_runs_body)

    shop.sb.on_request(finish_the_killed_runs_request)
    report = shop.notify()
    assert report.error is None
    assert report.failed == []
    assert len(report.found) == 1
    [doc] = shop.magento_shipments(oid)  # still exactly one shipment in Magento
    [row] = shop.shipments()
    assert (row["state"], row["magento_shipment_id"]) == ("notified", doc["entity_id"])
