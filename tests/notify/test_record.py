"""Recording warehouse shipments: `dropstream ship` and `dropstream import-shipments`."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from target_dropstream.shipment_models import ShipmentError, ShipmentRequest, Track

from .conftest import NOW, Shop, find_order, top

UPS = ("--carrier-code", "ups", "--title", "United Parcel Service")


def test_ship_whole_order_twice_records_one_shipment(shop: Shop) -> None:
    order = find_order(shop.sb, {"simple"}, exclude={"together", "separately", "configurable"})
    shop.load(order["entity_id"])
    first = shop.cli("ship", order["increment_id"], *UPS, "--track", "1Z001")
    assert first.exit_code == 0, first.output
    key = first.output.strip().splitlines()[-1].removeprefix("key: ")
    assert key.startswith("auto-")
    assert "order is now shipped" in first.output
    again = shop.cli("ship", order["increment_id"], *UPS, "--track", "1Z001")
    assert again.exit_code == 0, again.output
    assert "already recorded" in again.output
    assert again.output.strip().endswith(f"key: {key}")
    rows = shop.shipments()
    assert [(r["idempotency_key"], r["state"], r["track_number"]) for r in rows] == [
        (key, "pending", "1Z001")
    ]
    state = shop.rows(
        "SELECT state FROM fulfillment_orders WHERE order_id = :id", id=order["entity_id"]
    )
    assert state == [{"state": "shipped"}]
    # By Magento order id too, and nothing is left to ship.
    more = shop.cli("ship", str(order["entity_id"]), *UPS, "--track", "1Z002")
    assert more.exit_code == 1
    assert "nothing left to ship" in more.output


def test_partial_lines_and_over_shipping(shop: Shop) -> None:
    order = find_order(shop.sb, {"simple", "configurable"})
    shop.load(order["entity_id"])
    cfg = top(order, "configurable")
    simple = top(order, "simple")
    ordered = int(cfg["qty_ordered"])
    part = shop.cli(
        "ship",
        order["increment_id"],
        *UPS,
        "--track",
        "1ZA",
        "--line",
        f"{cfg['sku']}=1",
        "--key",
        "WH-1",
    )
    assert part.exit_code == 0, part.output
    assert "order is now partially_shipped" in part.output
    # The pending shipment counts: only ordered - 1 is left on the configurable line.
    over = shop.cli(
        "ship",
        order["increment_id"],
        *UPS,
        "--track",
        "1ZB",
        "--line",
        f"{cfg['sku']}={ordered}",
    )
    assert over.exit_code == 1
    assert f"over-shipping SKU {cfg['sku']}" in over.output
    assert f"only {ordered - 1} left" in over.output
    unknown = shop.cli("ship", order["increment_id"], *UPS, "--track", "1ZB", "--line", "NOPE=1")
    assert unknown.exit_code == 1
    assert "unknown SKU NOPE" in unknown.output
    rest = shop.cli("ship", order["increment_id"], *UPS, "--track", "1ZC", "--key", "WH-2")
    assert rest.exit_code == 0, rest.output
    assert "order is now shipped" in rest.output
    lines = shop.rows(
        "SELECT s.idempotency_key AS key, l.item_id, l.order_item_id, l.qty FROM shipment_lines l "
        "JOIN shipments s ON s.id = l.shipment_id ORDER BY s.id, l.item_id"
    )
    got = [(r["key"], r["item_id"], r["order_item_id"], Decimal(str(r["qty"]))) for r in lines]
    expected = [("WH-1", cfg["item_id"], cfg["item_id"], Decimal(1))]
    rest_lines = [(simple["item_id"], Decimal(str(simple["qty_ordered"])))]
    if ordered > 1:
        rest_lines.append((cfg["item_id"], Decimal(ordered - 1)))
    expected += [("WH-2", i, i, q) for i, q in sorted(rest_lines)]
    assert got == expected


def test_unknown_held_and_canceled_orders_cannot_ship(shop: Shop) -> None:
    held = find_order(shop.sb, {"simple"}, status="holded")
    canceled = find_order(shop.sb, {"simple"}, status="canceled")
    # Imported while processing, then held and canceled in Magento.
    imported = [{**o, "status": "processing", "state": "processing"} for o in (held, canceled)]
    shop.load_json(*imported)
    shop.load(held["entity_id"], canceled["entity_id"])
    result = shop.cli("ship", held["increment_id"], *UPS, "--track", "1Z9")
    assert result.exit_code == 1
    assert "is held and cannot ship yet" in result.output
    assert "'holded'" in result.output  # the reason the target stored
    result = shop.cli("ship", canceled["increment_id"], *UPS, "--track", "1Z9")
    assert result.exit_code == 1
    assert "is canceled and cannot ship" in result.output
    result = shop.cli("ship", "999999999", *UPS, "--track", "1Z9")
    assert result.exit_code == 1
    assert "unknown order '999999999'" in result.output
    assert shop.shipments() == []


def test_bundle_parent_line_is_shipped_through_its_components(shop: Shop) -> None:
    order = find_order(shop.sb, {"together"})
    shop.load(order["entity_id"], include_bundle_parent=True)
    parent = top(order, "bundle")
    result = shop.cli(
        "ship", order["increment_id"], *UPS, "--track", "1Z9", "--line", f"{parent['sku']}=1"
    )
    assert result.exit_code == 1
    assert "is a bundle; ship its components instead" in result.output
    whole = shop.cli("ship", order["increment_id"], *UPS, "--track", "1Z9")
    assert whole.exit_code == 0, whole.output
    shipped = {r["item_id"] for r in shop.rows("SELECT item_id FROM shipment_lines")}
    assert parent["item_id"] not in shipped
    assert shipped == {i["item_id"] for i in order["items"] if i.get("parent_item_id")}
    assert "order is now shipped" in whole.output


CSV_HEADER = "order,sku,qty,carrier_code,title,track_number,shipment_key\n"


def test_csv_import_twice_records_nothing_new(
    shop: Shop, write_csv: Callable[[str, str], Path]
) -> None:
    a = find_order(shop.sb, {"simple", "configurable"})
    b = find_order(shop.sb, {"separately"}, exclude={"simple", "configurable", "together"})
    shop.load(a["entity_id"], b["entity_id"])
    cfg, simple = top(a, "configurable"), top(a, "simple")
    lamp_like = [i for i in b["items"] if i.get("parent_item_id")]
    body = CSV_HEADER
    body += f"{a['increment_id']},{cfg['sku']},1,ups,UPS,1ZCSV1,WH-A\n"
    body += f"{a['increment_id']},{simple['sku']},1,ups,UPS,1ZCSV2,WH-A\n"
    for child in lamp_like:
        body += f"{b['increment_id']},{child['sku']},{child['qty_ordered']},fedex,FedEx,FX1,WH-B\n"
    path = write_csv("ship.csv", body)
    first = shop.cli("import-shipments", str(path))
    assert first.exit_code == 0, first.output
    assert "2 shipment(s) recorded, 0 already recorded" in first.output
    before = shop.shipments()
    again = shop.cli("import-shipments", str(path))
    assert again.exit_code == 0, again.output
    assert "0 shipment(s) recorded, 2 already recorded" in again.output
    assert shop.shipments() == before
    tracks = shop.rows(
        "SELECT s.idempotency_key AS key, t.track_number FROM shipment_tracks t "
        "JOIN shipments s ON s.id = t.shipment_id ORDER BY t.id"
    )
    assert [(t["key"], t["track_number"]) for t in tracks] == [
        ("WH-A", "1ZCSV1"),
        ("WH-A", "1ZCSV2"),
        ("WH-B", "FX1"),
    ]
    states = shop.rows("SELECT order_id, state FROM fulfillment_orders ORDER BY order_id")
    assert {r["order_id"]: r["state"] for r in states} == {
        a["entity_id"]: "shipped"
        if cfg["qty_ordered"] == 1 and simple["qty_ordered"] == 1
        else "partially_shipped",
        b["entity_id"]: "shipped",
    }


def test_csv_with_a_bad_row_loads_nothing(
    shop: Shop, write_csv: Callable[[str, str], Path]
) -> None:
    a = find_order(shop.sb, {"simple"}, exclude={"together", "separately"})
    shop.load(a["entity_id"])
    simple = top(a, "simple")
    body = CSV_HEADER
    body += f"{a['increment_id']},{simple['sku']},1,ups,UPS,1Z1,WH-1\n"
    body += f"{a['increment_id']},{simple['sku']},two,ups,UPS,1Z2,WH-2\n"
    result = shop.cli("import-shipments", str(write_csv("bad.csv", body)))
    assert result.exit_code == 1
    assert "nothing imported" in result.output
    assert "line 3: qty 'two' is not a number" in result.output
    assert shop.shipments() == []
    # A row that parses but over-ships: named by its line, and the good rows are not kept.
    body = CSV_HEADER
    body += f"{a['increment_id']},{simple['sku']},1,ups,UPS,1Z1,WH-1\n"
    body += "\n"
    body += f"{a['increment_id']},{simple['sku']},{simple['qty_ordered']},ups,UPS,1Z2,WH-2\n"
    result = shop.cli("import-shipments", str(write_csv("over.csv", body)))
    assert result.exit_code == 1
    assert f"line 4: order #{a['increment_id']}" in result.output
    assert f"over-shipping SKU {simple['sku']}" in result.output
    assert shop.shipments() == []
    state = shop.rows("SELECT state FROM fulfillment_orders")
    assert state == [{"state": "ready"}]
    result = shop.cli(
        "import-shipments",
        str(write_csv("header.csv", "order;sku;qty\n1;A;1\n")),
    )
    assert result.exit_code == 1
    assert "line 1: header lacks" in result.output


def test_re_recording_a_failed_shipment_queues_it_again(database_url: str, shop: Shop) -> None:
    """Also runs on PostgreSQL: the recording transaction and idempotency rules."""
    shop.database_url = database_url
    order = find_order(shop.sb, {"simple", "configurable"})
    shop.load(order["entity_id"])
    cfg = top(order, "configurable")
    store = shop.open()
    try:
        request = ShipmentRequest(
            order["increment_id"], (Track("ups", "UPS", "1ZX"),), ((cfg["sku"], Decimal(1)),), "K1"
        )
        [outcome] = store.shipments.record([request], source=shop.source, now=NOW)
        assert outcome.action == "recorded"
        with store.write() as conn:
            conn.exec_driver_sql(
                "UPDATE shipments SET state = 'failed', last_error = 'refused', attempts = 1"
            )
        [same] = store.shipments.record([request], source=shop.source, now=NOW)
        assert same.action == "unchanged"
        fixed = ShipmentRequest(
            order["increment_id"], (Track("ups", "UPS", "1ZY"),), ((cfg["sku"], Decimal(1)),), "K1"
        )
        [again] = store.shipments.record([fixed], source=shop.source, now=NOW)
        assert again.action == "replaced"
        other = find_order(shop.sb, {"simple"}, exclude={"configurable", "together"})
        shop.load(other["entity_id"])
        reused = ShipmentRequest(other["increment_id"], (Track("ups", "UPS", "1ZZ"),), None, "K1")
        with pytest.raises(ShipmentError, match="already used for order id"):
            store.shipments.record([reused], source=shop.source, now=NOW)
    finally:
        store.close()
    [row] = shop.shipments()
    assert (row["state"], row["track_number"], row["last_error"]) == ("pending", "1ZY", None)
