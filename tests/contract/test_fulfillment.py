"""tap-magento2 | target-dropstream against the store: the lines of each product type, the
delay, and what Magento changes after an order was imported (address, merchant's shipment,
refund, hold, cancel)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from tests.contract.fixtures import (
    Fixtures,
    edit_shipping_address,
    item_of,
    order_json,
    refund_in_magento,
    ship_in_magento,
)
from tests.contract.processes import Workspace, settle
from tests.contract.readback import children, shipments_of, top_item, tracks
from tests.contract.store import MagentoRest

UPS = ("--carrier-code", "ups", "--title", "United Parcel Service")


def test_fulfillment_lines_of_each_product_type(
    work: Workspace, rest: MagentoRest, fixtures: Fixtures
) -> None:
    """Simple: a line; virtual: none; configurable: one line, the parent item under the
    chosen child's SKU; bundles: their physical components, never the parent nor a virtual
    option; a virtual-only order: skipped."""
    statuses = "processing,complete"
    work.pipeline(
        tap={"order_import_status": statuses},
        target={"order_import_status": statuses},
    )
    order_id = fixtures.order("kinds_lines").entity_id
    order = order_json(rest, order_id)
    catalog = fixtures.catalog
    assert work.order_row(order_id)["state"] == "ready"

    expected = {(top_item(order, catalog.simple_a)["item_id"], catalog.simple_a.sku, 2, "item")}
    configurable = top_item(order, catalog.configurable)
    expected.add((configurable["item_id"], catalog.child_red.sku, 1, "item"))
    for bundle in (catalog.together, catalog.separately, catalog.together_virtual):
        parent = top_item(order, bundle.product)
        for child in children(order, parent):
            if child["product_type"] != "virtual":
                expected.add((child["item_id"], child["sku"], 1, "bundle_component"))
    lines = {
        (line["item_id"], line["sku"], float(line["qty"]), line["line_type"])
        for line in work.lines(order_id)
    }
    assert lines == expected
    assert catalog.virtual.sku not in {line["sku"] for line in work.lines(order_id)}

    virtual_only = fixtures.order("virtual_only").entity_id
    assert work.order_row(virtual_only)["state"] == "skipped"
    assert work.lines(virtual_only) == []


def test_delay_holds_new_orders(work: Workspace, fixtures: Fixtures) -> None:
    """With delay_minutes the run's orders are held until placed_at + delay; release leaves
    them held and the warehouse cannot ship them."""
    work.pipeline(target={"delay_minutes": 60})
    for role in ("kinds_lines", "documents"):
        row = work.order_row(fixtures.order(role).entity_id)
        assert row["state"] == "held", (role, row["state_reason"])
        placed = _utc(row["placed_at"])
        assert _utc(row["release_at"]) == placed + timedelta(minutes=60)
    work.dropstream("release")
    increment_id = fixtures.order("kinds_lines").increment_id
    assert work.order_row(fixtures.order("kinds_lines").entity_id)["state"] == "held"
    refused = work.dropstream("ship", increment_id, *UPS, "--track", "DELAY-1", check=False)
    assert refused.returncode != 0
    assert "held" in refused.stderr
    assert work.shipments() == []


def test_address_edit_and_partial_shipment_in_magento_are_caught_before_shipping(
    work: Workspace, rest: MagentoRest, fixtures: Fixtures
) -> None:
    """Magento changes neither order's updated_at; the target's re-check (every run with
    recheck_interval_minutes 0) brings the new address and what is left to ship."""
    target = {"recheck_interval_minutes": 0}
    first = work.pipeline(target=target)
    edited = fixtures.order("address_edit")
    partial = fixtures.order("partial_magento")
    assert work.order_row(edited.entity_id)["ship_to_street"] == "1 Contract Way"
    [line] = work.lines(partial.entity_id)
    assert float(line["qty"]) == 3

    edit_shipping_address(rest, edited.entity_id, "9 Changed Street")
    mug = item_of(order_json(rest, partial.entity_id), fixtures.catalog.simple_a.sku)
    ship_in_magento(rest, partial.entity_id, {mug["item_id"]: 1})
    work.pipeline(first.final_state(), target=target)

    assert work.order_row(edited.entity_id)["ship_to_street"] == "9 Changed Street"
    assert work.order_row(edited.entity_id)["state"] == "ready"
    [line] = work.lines(partial.entity_id)
    assert float(line["qty"]) == 2

    work.dropstream("ship", partial.increment_id, *UPS, "--track", "PARTIAL-REST")
    work.dropstream("notify")
    documents = shipments_of(rest, partial.entity_id)
    assert len(documents) == 2  # the merchant's, and the warehouse's for what was left
    ours = next(doc for doc in documents if tracks(doc) == ["PARTIAL-REST"])
    assert [(i["order_item_id"], float(i["qty"])) for i in ours["items"]] == [(mug["item_id"], 2.0)]


def test_refund_quantities(work: Workspace, rest: MagentoRest, fixtures: Fixtures) -> None:
    """A credit memo made after import reduces what is left to ship (a fully refunded line
    disappears), and the warehouse's shipment carries exactly what is left."""
    first = work.pipeline()
    refunded = fixtures.order("refund")
    assert {line["sku"]: float(line["qty"]) for line in work.lines(refunded.entity_id)} == {
        fixtures.catalog.simple_a.sku: 3,
        fixtures.catalog.simple_b.sku: 1,
    }
    order = order_json(rest, refunded.entity_id)
    mug = item_of(order, fixtures.catalog.simple_a.sku)
    bottle = item_of(order, fixtures.catalog.simple_b.sku)
    refund_in_magento(rest, refunded.entity_id, {mug["item_id"]: 1, bottle["item_id"]: 1})
    settle()
    work.pipeline(first.final_state())

    assert {line["sku"]: float(line["qty"]) for line in work.lines(refunded.entity_id)} == {
        fixtures.catalog.simple_a.sku: 2,
    }
    now = order_json(rest, refunded.entity_id)
    assert float(item_of(now, fixtures.catalog.simple_a.sku)["qty_refunded"]) == 1
    work.dropstream("ship", refunded.increment_id, *UPS, "--track", "REFUND-REST")
    work.dropstream("notify")
    [document] = shipments_of(rest, refunded.entity_id)
    assert [(i["order_item_id"], float(i["qty"])) for i in document["items"]] == [
        (mug["item_id"], 2.0)
    ]


def test_hold_and_cancel_stop_an_order(
    work: Workspace, rest: MagentoRest, fixtures: Fixtures
) -> None:
    """An imported order put on hold becomes held, a canceled one canceled; neither can be
    shipped. (Pending orders are imported here, as stores paid by check often do: Magento
    cancels only orders not invoiced in full.)"""
    statuses = {"order_import_status": "pending,processing"}
    first = work.pipeline(tap=statuses, target=statuses)
    held = fixtures.order("hold")
    canceled = fixtures.order("cancel")
    assert work.order_row(held.entity_id)["state"] == "ready"
    assert work.order_row(canceled.entity_id)["state"] == "ready"

    assert rest.admin("POST", f"/orders/{held.entity_id}/hold") is True
    assert rest.admin("POST", f"/orders/{canceled.entity_id}/cancel") is True
    settle()
    work.pipeline(first.final_state(), tap=statuses, target=statuses)

    on_hold = work.order_row(held.entity_id)
    assert on_hold["state"] == "held"
    assert "holded" in on_hold["state_reason"]
    assert work.order_row(canceled.entity_id)["state"] == "canceled"
    for order in (held, canceled):
        refused = work.dropstream("ship", order.increment_id, *UPS, "--track", "STOP", check=False)
        assert refused.returncode != 0, refused.describe()
    assert work.shipments() == []
    status = json.loads(work.dropstream("status", "--json").stdout)
    assert any(h["order_id"] == held.entity_id for h in status["held"])


def _utc(value: object) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
