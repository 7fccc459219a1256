"""The warehouse workflow against the store: ``dropstream ship`` + ``dropstream notify`` make
one Magento shipment per recorded shipment with the right items, and over-shipping is
refused before anything is posted."""

from __future__ import annotations

import json

import pytest

from tests.contract.fixtures import Fixtures, item_of, order_json, ship_in_magento
from tests.contract.processes import Workspace
from tests.contract.readback import (
    check_shipment_items,
    children,
    shipments_of,
    top_item,
    tracks,
)
from tests.contract.store import MagentoRest

UPS = ("--carrier-code", "ups", "--title", "United Parcel Service")


@pytest.mark.parametrize(
    ("compact", "role"), [(True, "kinds_compact"), (False, "kinds_full")], ids=["compact", "full"]
)
def test_ship_and_notify_make_one_magento_shipment_per_recorded_shipment(
    work: Workspace, rest: MagentoRest, fixtures: Fixtures, compact: bool, role: str
) -> None:
    """Two recorded shipments of an order with every product type become exactly two Magento
    shipments, whose items (read back with GET /V1/shipments) are the simple item, the
    configurable parent, the bundle parent of bundles shipped together (also with a virtual
    option) and the components of the bundle shipped separately; a second notify posts
    nothing."""
    target = {"use_compact_shipment": compact}
    work.pipeline(target=target)
    placed = fixtures.order(role)
    catalog = fixtures.catalog
    order = order_json(rest, placed.entity_id)
    mug = top_item(order, catalog.simple_a)["item_id"]
    hoodie = top_item(order, catalog.configurable)["item_id"]
    separately = top_item(order, catalog.separately.product)

    first = ("--line", f"{catalog.simple_a.sku}=1", "--line", f"{catalog.child_red.sku}=1")
    work.dropstream("ship", placed.increment_id, *UPS, "--track", f"{role}-1", *first, **target)
    work.dropstream("ship", placed.increment_id, *UPS, "--track", f"{role}-2", **target)
    notified = work.dropstream("notify", **target)
    assert "2 notified, 0 already in Magento, 0 refused" in notified.stdout, notified.describe()

    documents = {tuple(tracks(doc)): doc for doc in shipments_of(rest, placed.entity_id)}
    assert set(documents) == {(f"{role}-1",), (f"{role}-2",)}
    check_shipment_items(documents[(f"{role}-1",)], order, {(mug, 1.0), (hoodie, 1.0)})
    rest_of_order = {
        (mug, 1.0),
        (top_item(order, catalog.together.product)["item_id"], 1.0),
        (top_item(order, catalog.together_virtual.product)["item_id"], 1.0),
        *((child["item_id"], 1.0) for child in children(order, separately)),
    }
    check_shipment_items(documents[(f"{role}-2",)], order, rest_of_order)

    again = work.dropstream("notify", **target)
    assert "0 notified" in again.stdout, again.describe()
    assert len(shipments_of(rest, placed.entity_id)) == 2
    if compact:  # the ship endpoint also ships the items in Magento
        now = order_json(rest, placed.entity_id)
        assert float(item_of(now, catalog.simple_a.sku)["qty_shipped"]) == 2
        assert float(top_item(now, catalog.configurable)["qty_shipped"]) == 1


def test_over_shipping_is_refused_before_posting(
    work: Workspace, rest: MagentoRest, fixtures: Fixtures
) -> None:
    """More than a line holds is refused when recording; a shipment Magento would trim (the
    merchant shipped part of the order meanwhile) fails before any post, with the reason."""
    work.pipeline()
    placed = fixtures.order("overship")
    sku = fixtures.catalog.simple_a.sku
    too_many = work.dropstream(
        "ship", placed.increment_id, *UPS, "--track", "OVER-4", "--line", f"{sku}=4", check=False
    )
    assert too_many.returncode != 0
    assert sku in too_many.stderr, too_many.describe()
    assert work.shipments() == []

    mug = item_of(order_json(rest, placed.entity_id), sku)
    ship_in_magento(rest, placed.entity_id, {mug["item_id"]: 1})
    work.dropstream("ship", placed.increment_id, *UPS, "--track", "OVER-ALL", "--key", "over-1")
    work.dropstream("notify", check=False)

    [recorded] = work.shipments()
    assert recorded["state"] == "failed"
    assert f"Magento already shipped 1 of {sku} outside the warehouse" in recorded["last_error"]
    [merchants] = shipments_of(rest, placed.entity_id)  # nothing of ours was posted
    assert tracks(merchants) == []
    status = json.loads(work.dropstream("status", "--json").stdout)
    assert [f["key"] for f in status["shipments"]["failed"]] == ["over-1"]
